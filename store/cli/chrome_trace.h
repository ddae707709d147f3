// Export of a session to the Chrome trace-event JSON format, which Perfetto UI and
// chrome://tracing open. Layout:
//   - one process track per recorded process, named "COMM PID: EXE" (process_name
//     metadata), threads named after their comm (thread_name metadata);
//   - a complete slice ("X") per process for its lifetime, args: exe, argv, exit code;
//   - a nestable async slice ("b"/"e", category "file") per open file, from the open
//     to its close, so overlapping opens do not break the thread's slice stacking;
//   - a nestable async slice (category "tls") per TLS connection, first to last byte,
//     args: peer, library, bytes each way;
//   - a complete slice per LLM call (category "llm") and per other HTTP exchange
//     ("http"), from store/traffic;
//   - an instant ("i") per event on its thread, named by its kind, with every
//     JSON Lines field of the event (event_json.h) as args; lost-event reports are
//     global instants so gaps show across every track.
// Timestamps are microseconds since session start with ns precision.
#pragma once

#include <cstdint>
#include <cstdio>

#include "store/session_reader.h"
#include "store/status.h"

namespace aa {

struct ChromeTraceStats {
  uint64_t events = 0;       // instants written
  uint64_t processes = 0;
  uint64_t fileSlices = 0;
  uint64_t tlsSlices = 0;
  uint64_t llmSlices = 0;    // LLM calls (HTTP exchanges come with them)
};

// Writes the whole trace to out (a complete JSON document). Errors name the reason;
// damage in the session is not an error here (whole frames are exported; the caller
// reports reader.damage()).
StatusOr<ChromeTraceStats> writeChromeTrace(const SessionReader& reader, std::FILE* out);

}  // namespace aa
