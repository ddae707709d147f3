// What the agent did right after a model answered: the execs, file changes and
// connections of the calling process and its descendants, from the end of an LLM call
// until that process tree's next call (the "then the agent ran Z" of a conversation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/session_reader.h"
#include "store/traffic/llm.h"

namespace aa::traffic {

struct AgentAction {
  uint64_t seq = 0;
  uint64_t tNs = 0;          // CLOCK_MONOTONIC, like Event.tNs
  uint32_t pid = 0;
  std::string kind;          // kindName(): "exec", "file.rename", ...
  std::string summary;       // "exec /bin/ls -l", "write /tmp/a (12 bytes)", ...
};

// Actions of the call's process tree after `calls[index]` ended and before the next
// call made by that tree began (or the session's end), at most `max`. Reads events
// through the reader's index (only frames in the window are decoded).
std::vector<AgentAction> actionsAfterCall(const SessionReader& reader,
                                          const std::vector<LlmCall>& calls, size_t index,
                                          size_t max = 20);

}  // namespace aa::traffic
