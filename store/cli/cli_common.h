// Helpers the aa-session subcommands share: one-line errors and opening sessions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/cli/cli_args.h"
#include "store/session_reader.h"
#include "store/status.h"

namespace aa::cli {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// "aa-session: MESSAGE" on stderr; returns kExitFailure.
int fail(std::string_view message);
// Like fail, but makes sure the line names the file: messages from the store usually
// start with the path already, others get "PATH: " in front.
int failFile(const std::string& path, const Status& status);
// "aa-session: CMD: MESSAGE (usage: aa-session CMD USAGE)"; returns kExitUsage.
int usageError(std::string_view command, std::string_view message);

// Parses arguments and requires exactly one positional FILE; on error prints the usage
// line and sets rc.
std::optional<ParsedArgs> parseCommandArgs(int argc, char** argv,
                                           const std::vector<OptionSpec>& specs, int& rc);

// Opens a session, printing the one-line error on failure.
std::unique_ptr<SessionReader> openOrFail(const std::string& path, ReaderOptions options,
                                          int& rc);

// Reports damage found while reading (after whatever was readable has been output):
// 0 when the file is whole, otherwise the error line and kExitFailure.
int damageExit(const SessionReader& reader);

// Writes all of s to stdout; false on a write error (e.g. a closed pipe or a full disk).
bool writeStdout(std::string_view s);

}  // namespace aa::cli
