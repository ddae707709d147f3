// aa-session verify FILE, aa-session reindex FILE
#include <cstdio>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/verify.h"

namespace aa {

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
  auto report = verifySession(*reader);
  if (!report.ok()) return cli::failFile(path, report.status());
  std::string line = path + ": ok: " + std::to_string(report->frames) + " frames, " +
                     std::to_string(report->events) + " events, " +
                     (report->hasFooter ? (report->cleanStop ? "clean stop" : "footer without clean stop")
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
