#include "store/cli/commands.h"

#include <array>

namespace aa {

std::span<const Command> commandTable() {
  static const Command kCommands[] = {
      {"info", "FILE",
       "duration, command, counts per kind, processes, files, TLS bytes, losses, damage",
       runInfoCommand},
      {"events", "[--kind K] [--pid P] [--from T] [--to T] [--json] FILE",
       "list events as a table, or as JSON Lines with --json", runEventsCommand},
      {"export", "--format chrome-trace FILE -o OUT.json",
       "write a trace for Perfetto UI / chrome://tracing", runExportCommand},
      {"verify", "FILE", "check every frame of the log; names the first bad offset",
       runVerifyCommand},
      {"reindex", "FILE", "rebuild FILE.aas-index from the log", runReindexCommand},
      {"synth", "--events N --seed S [--no-tls-payloads] -o FILE",
       "write a deterministic synthetic session", runSynthCommand},
      {"replay", "[--speed X] [--kind K] [--pid P] [--from T] [--to T] [--json] FILE",
       "print events paced at X times the recorded speed (0: no pacing)", runReplayCommand},
      {"http", "[OPTIONS] FILE", "HTTP exchanges reassembled from TLS traffic",
       runHttpCommand},
      {"llm", "[OPTIONS] FILE", "LLM API calls found in TLS traffic", runLlmCommand},
      {"diff",
       "[--json] [--exit-code] [--ignore AREA:GLOB]... [--exact-names] [--no-default-ignores] "
       "A B",
       "what the agent did differently in run B: execs, files, peers, LLM calls "
       "(docs/REPLAY.md)",
       runDiffCommand},
      {"serve",
       "[--port N] [--tls] [--ca-dir DIR] [--speed X] [--until-done] [--report FILE] "
       "[--env-file FILE] [--exact] [-v] FILE",
       "answer an agent with the LLM responses FILE recorded (loopback mock; docs/REPLAY.md)",
       runServeCommand},
  };
  return kCommands;
}

}  // namespace aa
