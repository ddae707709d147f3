// Server-sent events (text/event-stream, WHATWG HTML "Parsing an event stream"):
// a body split into events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aa::traffic {

struct SseEvent {
  std::string event;      // "event:" field ("" = the default, "message")
  std::string data;       // "data:" lines joined with '\n'
  std::string id;
  uint64_t endPos = 0;    // body offset just after the event's terminating blank line
  bool complete = true;   // false: the body ended before the blank line
};

// Splits a whole (or cut) body. Lines end with CRLF, LF or CR; comment lines (":...")
// and "retry:" are skipped. A final event without its blank line is returned with
// complete = false when it has data.
std::vector<SseEvent> splitSse(std::string_view body);

}  // namespace aa::traffic
