// The aa-session subcommands. main() dispatches argv[1] through commandTable().
//
// Calling convention for every run*Command(argc, argv): argv[0] is the subcommand name,
// argv[1..argc) its arguments. It returns the process exit status: 0 success, 1 a
// failure (bad file, damaged session, write error), 2 a usage error. Errors are one
// line on stderr, "aa-session: FILE: reason" (or "aa-session: CMD: reason" for usage).
#pragma once

#include <span>
#include <string_view>

namespace aa {

struct Command {
  std::string_view name;
  std::string_view usage;     // arguments after the name
  std::string_view summary;   // one line for --help
  int (*run)(int argc, char** argv);
};

// Every subcommand this build has, in --help order.
std::span<const Command> commandTable();

int runInfoCommand(int argc, char** argv);
int runEventsCommand(int argc, char** argv);
int runExportCommand(int argc, char** argv);
int runVerifyCommand(int argc, char** argv);
int runReindexCommand(int argc, char** argv);
int runSynthCommand(int argc, char** argv);
int runReplayCommand(int argc, char** argv);

// HTTP and LLM views of TLS traffic (store/traffic), in cmd_traffic.cc.
int runHttpCommand(int argc, char** argv);
int runLlmCommand(int argc, char** argv);

// Regression testing of agents (docs/REPLAY.md): cmd_diff.cc, cmd_serve.cc.
int runDiffCommand(int argc, char** argv);
int runServeCommand(int argc, char** argv);

}  // namespace aa
