#include "store/traffic/json_seq.h"

namespace aa::traffic {

namespace {

bool isWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trimWs(std::string_view s) {
  while (!s.empty() && isWs(s.front())) s.remove_prefix(1);
  while (!s.empty() && isWs(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<JsonPiece> splitJsonArray(std::string_view body, bool* closed) {
  std::vector<JsonPiece> out;
  if (closed) *closed = false;
  size_t p = 0;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") p = 3;
  while (p < body.size() && isWs(body[p])) ++p;
  if (p >= body.size() || body[p] != '[') return out;
  ++p;
  // Scan element by element: depth counts brackets and braces outside strings; an
  // element ends at a ',' or ']' at depth 0.
  size_t start = p;
  int depth = 0;
  bool inString = false, escape = false;
  for (; p < body.size(); ++p) {
    char c = body[p];
    if (inString) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    } else if (depth == 0 && (c == ',' || c == ']')) {
      std::string_view el = trimWs(body.substr(start, p - start));
      if (!el.empty()) {
        // The element ends with its last non-space byte.
        size_t end = start;
        while (end < p && isWs(body[end])) ++end;
        end += el.size();
        out.push_back({std::string(el), end, true});
      }
      start = p + 1;
      if (c == ']') {
        if (closed) *closed = true;
        return out;
      }
    }
  }
  std::string_view el = trimWs(body.substr(start));
  if (!el.empty()) {
    // The last element may be whole (a stream still sending the ',' or ']') or cut:
    // whole only when its brackets balance and no string is open.
    bool whole = depth == 0 && !inString && (el.back() == '}' || el.back() == ']');
    out.push_back({std::string(el), body.size(), whole});
  }
  return out;
}

std::vector<JsonPiece> splitNdjson(std::string_view body) {
  std::vector<JsonPiece> out;
  size_t p = 0;
  while (p < body.size()) {
    size_t e = body.find('\n', p);
    bool whole = e != std::string_view::npos;
    if (!whole) e = body.size();
    std::string_view line = trimWs(body.substr(p, e - p));
    size_t next = whole ? e + 1 : e;
    if (!line.empty()) out.push_back({std::string(line), next, whole});
    p = next;
  }
  return out;
}

}  // namespace aa::traffic
