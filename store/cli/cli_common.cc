#include "store/cli/cli_common.h"

#include <cstdio>

#include "store/cli/commands.h"

namespace aa::cli {

int fail(std::string_view message) {
  std::string line = "aa-session: ";
  line += message;
  // One line, always: a multi-line reason would break scripts that read stderr by line.
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  line += '\n';
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stderr);
  return kExitFailure;
}

int failFile(const std::string& path, const Status& status) {
  const std::string& m = status.message();
  if (m.starts_with(path + ":") || m.starts_with(path + " ")) return fail(m);
  return fail(path + ": " + m);
}

int usageError(std::string_view command, std::string_view message) {
  std::string usage;
  for (const auto& c : commandTable())
    if (c.name == command) usage = std::string(c.usage);
  std::string line = std::string(command) + ": " + std::string(message) + " (usage: aa-session " +
                     std::string(command) + " " + usage + ")";
  fail(line);
  return kExitUsage;
}

std::optional<ParsedArgs> parseCommandArgs(int argc, char** argv,
                                           const std::vector<OptionSpec>& specs, int& rc) {
  auto parsed = parseArgs(argc, argv, 1, specs);
  if (!parsed.ok()) {
    rc = usageError(argv[0], parsed.status().message());
    return std::nullopt;
  }
  if (parsed->positional.empty()) {
    rc = usageError(argv[0], "missing FILE");
    return std::nullopt;
  }
  if (parsed->positional.size() > 1) {
    rc = usageError(argv[0], "unexpected argument '" + parsed->positional[1] + "'");
    return std::nullopt;
  }
  return std::move(parsed.value());
}

std::unique_ptr<SessionReader> openOrFail(const std::string& path, ReaderOptions options,
                                          int& rc) {
  auto r = SessionReader::open(path, std::move(options));
  if (!r.ok()) {
    rc = failFile(path, r.status());
    return nullptr;
  }
  return std::move(r.value());
}

int damageExit(const SessionReader& reader) {
  if (reader.damage().ok()) return 0;
  return failFile(reader.path(), reader.damage());
}

bool writeStdout(std::string_view s) {
  return std::fwrite(s.data(), 1, s.size(), stdout) == s.size();
}

}  // namespace aa::cli
