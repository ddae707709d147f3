// aa-session verify FILE, aa-session reindex FILE
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"

namespace aa {
namespace {

std::string at(const FrameInfo& f, size_t i) {
  return "offset " + std::to_string(f.offset) + ": frame " + std::to_string(i) + ": ";
}

// Checks what the reader's framing checks cannot: that each frame's events decode in full
// (every pointer followed, which Cap'n Proto otherwise does lazily), carry the sequence
// numbers and times the frame header promises, and that frames chain without gaps.
Status checkFrames(const SessionReader& reader, uint64_t* badOffset) {
  const auto& frames = reader.frames();
  uint64_t nextSeq = frames.empty() ? 0 : frames[0].firstSeq;
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameInfo& f = frames[i];
    *badOffset = f.offset;
    if (f.firstSeq != nextSeq)
      return Status::error(at(f, i) + "first seq " + std::to_string(f.firstSeq) +
                           ", expected " + std::to_string(nextSeq));
    auto decoded = reader.frame(i);
    if (!decoded.ok()) return decoded.status();
    try {
      auto events = (*decoded)->events();
      if (events.size() != f.count)
        return Status::error(at(f, i) + std::to_string(events.size()) +
                             " events, the frame header says " + std::to_string(f.count));
      for (size_t j = 0; j < events.size(); ++j) {
        auto e = events[j];
        e.totalSize();   // walks every pointer: throws on a malformed message
        if (e.getSeq() != f.firstSeq + j)
          return Status::error(at(f, i) + "event " + std::to_string(j) + " has seq " +
                               std::to_string(e.getSeq()) + ", expected " +
                               std::to_string(f.firstSeq + j));
        if (e.getTNs() < f.tMin || e.getTNs() > f.tMax)
          return Status::error(at(f, i) + "event seq " + std::to_string(e.getSeq()) +
                               " time outside the frame's range");
        KindMask k = bit(kindOf(e));
        if (!(f.kinds & k))
          return Status::error(at(f, i) + "event seq " + std::to_string(e.getSeq()) +
                               " has a kind the frame header does not list");
      }
    } catch (const std::exception& ex) {
      std::string what = ex.what();
      if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      return Status::error(at(f, i) + "malformed events: " + what);
    }
    nextSeq = f.firstSeq + f.count;
  }
  return Status();
}

// The offset in a damage message ("PATH: offset N: reason"); 0 when there is none, so
// that the reader's report wins.
uint64_t damageOffset(const Status& damage) {
  const std::string& m = damage.message();
  size_t at = m.find("offset ");
  if (at == std::string::npos) return 0;
  return std::strtoull(m.c_str() + at + 7, nullptr, 10);
}

}  // namespace

int runVerifyCommand(int argc, char** argv) {
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, {}, rc);
  if (!args) return rc;
  const std::string& path = args->positional[0];
  // The log alone is checked: an index could hide damage the log has.
  ReaderOptions opts;
  opts.useIndex = false;
  auto reader = cli::openOrFail(path, opts, rc);
  if (!reader) return rc;
  uint64_t badOffset = 0;
  Status st = checkFrames(*reader, &badOffset);
  // The reader skips a damaged frame and goes on with the next whole one, so both kinds
  // of trouble can be present: name whichever comes first in the file.
  const Status& damage = reader->damage();
  if (!damage.ok() && (st.ok() || damageOffset(damage) <= badOffset))
    return cli::failFile(path, damage);
  if (!st.ok()) return cli::failFile(path, st);
  const auto& footer = reader->footer();
  if (footer && footer->eventCount != reader->eventCount())
    return cli::fail(path + ": footer counts " + std::to_string(footer->eventCount) +
                     " events, the log holds " + std::to_string(reader->eventCount()));
  std::string line = path + ": ok: " + std::to_string(reader->frames().size()) + " frames, " +
                     std::to_string(reader->eventCount()) + " events, " +
                     (footer ? (footer->cleanStop ? "clean stop" : "footer without clean stop")
                             : "no footer (recorder did not stop cleanly)") +
                     "\n";
  if (!cli::writeStdout(line)) return cli::fail("stdout: write failed");
  return 0;
}

int runReindexCommand(int argc, char** argv) {
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, {}, rc);
  if (!args) return rc;
  const std::string& path = args->positional[0];
  ReaderOptions opts;
  opts.rebuildIndex = true;
  auto reader = cli::openOrFail(path, opts, rc);
  if (!reader) return rc;
  std::string line = path + ": indexed " + std::to_string(reader->frames().size()) +
                     " frames, " + std::to_string(reader->eventCount()) + " events\n";
  if (!cli::writeStdout(line)) return cli::fail("stdout: write failed");
  return cli::damageExit(*reader);
}

}  // namespace aa
