#include "store/verify.h"

#include <cstdlib>
#include <string>

#include "store/catch_fault.h"

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
    AA_ASSIGN_OR_RETURN(auto decoded, reader.frame(i));
    // Cap'n Proto throws on a malformed message: that is this check's finding.
    AA_RETURN_IF_ERROR(catchFault(at(f, i) + "malformed events", [&]() -> Status {
      auto events = decoded->events();
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
      return Status();
    }));
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

StatusOr<VerifyReport> verifySession(const SessionReader& reader) {
  uint64_t badOffset = 0;
  Status st = checkFrames(reader, &badOffset);
  // The reader skips a damaged frame and goes on with the next whole one, so both kinds
  // of trouble can be present: name whichever comes first in the file.
  const Status damage = reader.damage();
  if (!damage.ok() && (st.ok() || damageOffset(damage) <= badOffset)) return damage;
  if (!st.ok()) return st;
  const auto& footer = reader.footer();
  if (footer && footer->eventCount != reader.eventCount())
    return Status::error(reader.path() + ": footer counts " + std::to_string(footer->eventCount) +
                         " events, the log holds " + std::to_string(reader.eventCount()));
  VerifyReport r;
  r.frames = reader.frames().size();
  r.events = reader.eventCount();
  r.hasFooter = footer.has_value();
  r.cleanStop = footer && footer->cleanStop;
  return r;
}

}  // namespace aa
