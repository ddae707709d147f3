// aa-session export --format chrome-trace FILE -o OUT.json
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "store/cli/chrome_trace.h"
#include "store/cli/cli_common.h"
#include "store/cli/commands.h"

namespace aa {

int runExportCommand(int argc, char** argv) {
  int rc = 0;
  auto args = cli::parseCommandArgs(
      argc, argv, {{"--format", true}, {"--output", true}, {"-o", true, "--output"}}, rc);
  if (!args) return rc;
  std::string format = args->last("--format").value_or("chrome-trace");
  if (format != "chrome-trace")
    return cli::usageError(argv[0], "unknown format '" + format + "' (supported: chrome-trace)");
  auto outPath = args->last("--output");
  if (!outPath) return cli::usageError(argv[0], "missing -o OUT.json (use -o - for stdout)");
  const std::string& path = args->positional[0];
  auto reader = cli::openOrFail(path, {}, rc);
  if (!reader) return rc;

  if (*outPath == "-") {
    auto r = writeChromeTrace(*reader, stdout);
    if (!r.ok() || std::fflush(stdout) != 0)
      return cli::fail("stdout: " + (r.ok() ? std::string("write failed") : r.status().message()));
    return cli::damageExit(*reader);
  }
  // Write beside the target and rename, so a failed export never leaves half a JSON
  // document under the requested name.
  std::string tmp = *outPath + ".tmp" + std::to_string(getpid());
  // Created fresh, never through a symlink planted at the predictable name, and as
  // private as the session: the trace holds its argv and TLS payloads.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  std::FILE* f = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!f) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    return cli::fail(*outPath + ": " + std::strerror(err));
  }
  auto r = writeChromeTrace(*reader, f);
  int closeErr = std::fclose(f) != 0 ? errno : 0;
  if (!r.ok() || closeErr) {
    std::remove(tmp.c_str());
    return cli::fail(*outPath + ": " + (r.ok() ? std::strerror(closeErr) : r.status().message()));
  }
  if (std::rename(tmp.c_str(), outPath->c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return cli::fail(*outPath + ": " + std::strerror(err));
  }
  return cli::damageExit(*reader);
}

}  // namespace aa
