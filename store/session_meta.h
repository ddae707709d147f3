// Session metadata as plain values: what the header and the footer of a session file
// say (schema/session.capnp), decoded once so callers need no Cap'n Proto for it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aa {

struct ProbeStatusInfo {
  std::string name;
  std::string mode;
  bool ok = false;
  std::string error;
};

struct SessionHeaderInfo {
  uint32_t formatVersion = 0;      // filled by the writer
  std::string sessionId;           // filled by the writer when empty
  std::string host;                // filled by the writer when empty
  std::string kernel;              // filled by the writer when empty
  std::vector<std::string> command;
  int64_t startWallNs = 0;         // filled by the writer when 0 (with startMonoNs)
  uint64_t startMonoNs = 0;
  int64_t clockOffsetNs = 0;       // wall = mono + offset
  std::string recorderVersion;
  std::vector<ProbeStatusInfo> probes;
  bool redaction = false;
  std::string target;
  std::vector<std::string> options;
  std::vector<std::string> redactRules;   // recorder/redact.h RedactRules::describe()
};

struct LostCountInfo {
  std::string probe;
  uint64_t count = 0;
};

struct SessionFooterInfo {
  uint64_t eventCount = 0;         // filled by the writer
  uint64_t batchCount = 0;         // filled by the writer
  uint64_t endMonoNs = 0;          // filled by the writer when 0
  int64_t endWallNs = 0;           // filled by the writer when 0
  bool cleanStop = true;
  std::vector<LostCountInfo> lost;
  int32_t exitCode = -1;
  std::vector<ProbeStatusInfo> probes;   // every hook at the stop, late attachments included
  uint32_t runningAtStop = 0;            // traced processes still running at the stop
};

}  // namespace aa
