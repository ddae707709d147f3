// aa-session events [--kind K] [--pid P] [--from T] [--to T] [--json] FILE
// aa-session replay [--speed X] [same filters] FILE
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/render/event_json.h"
#include "store/render/event_text.h"

namespace aa {
namespace {

// Output is built in a buffer and written in large pieces: millions of lines per second
// through printf would make the CLI, not the store, the bottleneck.
class LineSink {
 public:
  explicit LineSink(bool flushEachEvent) : flushEach_(flushEachEvent) {}
  std::string& buf() { return buf_; }
  bool endEvent() {
    if (flushEach_ || buf_.size() >= (1 << 20)) return flush();
    return ok_;
  }
  bool flush() {
    if (!buf_.empty() && ok_) ok_ = cli::writeStdout(buf_);
    buf_.clear();
    if (flushEach_ && ok_) ok_ = std::fflush(stdout) == 0;
    return ok_;
  }

 private:
  std::string buf_;
  bool flushEach_;
  bool ok_ = true;
};

int runQueryCommand(int argc, char** argv, bool replayMode) {
  auto specs = queryOptionSpecs();
  specs.push_back({"--json", false});
  if (replayMode) specs.push_back({"--speed", true});
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, specs, rc);
  if (!args) return rc;
  auto query = queryFromArgs(*args);
  if (!query.ok()) return cli::usageError(argv[0], query.status().message());
  double speed = 1.0;
  if (auto s = args->last("--speed")) {
    char* end = nullptr;
    speed = std::strtod(s->c_str(), &end);
    if (s->empty() || *end || !std::isfinite(speed) || speed < 0)
      return cli::usageError(argv[0], "bad --speed '" + *s + "': expected a number >= 0");
  }
  const bool json = args->has("--json");
  const std::string& path = args->positional[0];
  auto reader = cli::openOrFail(path, {}, rc);
  if (!reader) return rc;

  LineSink sink(replayMode && speed > 0);
  if (!json) sink.buf() += eventTableHeader();
  auto visit = [&](schema::Event::Reader e) {
    uint64_t t = reader->relNs(e.getTNs());
    if (json) {
      appendEventJson(sink.buf(), e, t);
      sink.buf() += '\n';
    } else {
      appendEventLine(sink.buf(), e, t);
    }
    return sink.endEvent();
  };
  Status st = replayMode ? replay(*reader, *query, speed, visit) : reader->forEach(*query, visit);
  if (!sink.flush() || std::fflush(stdout) != 0) return cli::fail("stdout: write failed");
  if (!st.ok()) return cli::failFile(path, st);
  return cli::damageExit(*reader);
}

}  // namespace

int runEventsCommand(int argc, char** argv) { return runQueryCommand(argc, argv, false); }
int runReplayCommand(int argc, char** argv) { return runQueryCommand(argc, argv, true); }

}  // namespace aa
