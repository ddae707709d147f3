// Streamed JSON bodies that are not server-sent events, split into their documents:
//
// - a JSON array sent element by element (Gemini's streamGenerateContent without
//   ?alt=sse: "[{...}\r\n,\r\n{...}]");
// - newline-delimited JSON (application/x-ndjson, Ollama's streams: one document per
//   line).
//
// Like splitSse, a cut body gives its last document with complete = false, holding the
// bytes that arrived (not valid JSON then), so callers can tell "cut" from "damaged".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aa::traffic {

struct JsonPiece {
  std::string text;       // one JSON document's text, surrounding whitespace removed
  uint64_t endPos = 0;    // body offset just after the document
  bool complete = true;   // false: the body ended inside the document
};

// Elements of a top-level JSON array. The array need not be closed (a stream still
// running, or cut). `closed` is set when the closing ']' was seen. A body that does not
// start with '[' (after whitespace) gives no pieces and closed = false.
std::vector<JsonPiece> splitJsonArray(std::string_view body, bool* closed = nullptr);

// Non-empty lines (LF or CRLF). A last line without its LF is returned with
// complete = false.
std::vector<JsonPiece> splitNdjson(std::string_view body);

}  // namespace aa::traffic
