#include "store/traffic/sse.h"

namespace aa::traffic {

std::vector<SseEvent> splitSse(std::string_view body) {
  std::vector<SseEvent> out;
  SseEvent cur;
  bool hasData = false;
  size_t p = 0;
  // A UTF-8 BOM may start the stream.
  if (body.substr(0, 3) == "\xEF\xBB\xBF") p = 3;
  while (p < body.size()) {
    size_t e = p;
    while (e < body.size() && body[e] != '\n' && body[e] != '\r') ++e;
    if (e == body.size()) {
      // The last line has no ending: the event is cut. Take the field all the same, so
      // a cut stream shows what was received; it stays marked incomplete.
      std::string_view line = body.substr(p);
      if (line.substr(0, 5) == "data:") {
        std::string_view v = line.substr(5);
        if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
        if (hasData) cur.data += '\n';
        cur.data.append(v);
        hasData = true;
      }
      p = e;
      break;
    }
    std::string_view line = body.substr(p, e - p);
    size_t next = e + 1;
    if (body[e] == '\r' && next < body.size() && body[next] == '\n') ++next;
    p = next;
    if (line.empty()) {
      if (hasData) {
        cur.endPos = p;
        cur.complete = true;
        out.push_back(std::move(cur));
      }
      cur = SseEvent();
      hasData = false;
      continue;
    }
    if (line[0] == ':') continue;
    size_t colon = line.find(':');
    std::string_view field = colon == std::string_view::npos ? line : line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (field == "data") {
      if (hasData) cur.data += '\n';
      cur.data.append(value);
      hasData = true;
    } else if (field == "event") {
      cur.event = std::string(value);
    } else if (field == "id") {
      cur.id = std::string(value);
    }
  }
  if (hasData) {
    cur.endPos = body.size();
    cur.complete = false;
    out.push_back(std::move(cur));
  }
  return out;
}

}  // namespace aa::traffic
