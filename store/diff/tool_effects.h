// Cause and effect: for each tool call in an LLM answer, the execs, file changes and
// connections that followed from it.
//
// The window is from the end of the call to the next call made by the same agent (or the
// end of the session). The agent is the calling process and its descendants; when the
// calling process is a one-shot client that exits within the window (curl, an SDK
// script run by a shell agent), it is the caller's parent and its descendants.
//
// Each event of the agent in the window is attributed to one tool call, and says how:
//   "command"  an exec whose command line the tool call's arguments hold (an argument
//              equal to a tool string, as in `sh -c "<command>"`; the command line
//              containing a tool string with a space, or the reverse; or the program's
//              name as a word of a tool string);
//   "path"     a file change or connect whose path (or file name, 3+ bytes) or peer
//              appears in the tool call's arguments;
//   "lineage"  an event of a process, or a descendant of one, whose exec was attributed;
//   "time"     otherwise, the tool call of the latest attributed event before it, or the
//              only tool call of the answer.
// Events before any attribution, in an answer with several tool calls, stay unattributed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/session_reader.h"
#include "store/traffic/llm.h"

namespace aa::diff {

struct ToolEffect {
  uint64_t seq = 0;
  uint64_t tNs = 0;        // CLOCK_MONOTONIC
  uint32_t pid = 0;
  std::string kind;        // kindName(): "exec", "file.close", "file.rename", ...
  std::string summary;     // "exec ls -l /tmp", "write /tmp/a (12 bytes)", ...
  std::string by;          // "command", "path", "lineage", "time"
};

struct ToolCallEffects {
  size_t toolCall = 0;     // index into call.toolCalls
  std::string id, name;
  std::vector<ToolEffect> effects;   // in seq order, at most `max`
};

// The effects of the tool calls of calls[index] (empty when it asked for none).
std::vector<ToolCallEffects> toolCallEffects(const SessionReader& reader,
                                             const std::vector<traffic::LlmCall>& calls,
                                             size_t index, size_t max = 200);

// `[{"tool_call":0,"id":..,"name":..,"seqs":[..],"effects":[{"seq","t_ns","pid","kind",
// "summary","by"}]}]`, t_ns relative to the session start.
std::string toolEffectsJson(const std::vector<ToolCallEffects>& effects,
                            const SessionReader& reader);

}  // namespace aa::diff
