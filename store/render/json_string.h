// The one JSON string writer of every output (events --json, llm/http --json, the
// chrome-trace export, diff --json). The rule for bytes that are not UTF-8: each invalid
// byte becomes U+FFFD, so the output is always valid UTF-8 JSON; where the exact bytes
// matter the writer adds them in base64 beside it (event_json.h: NAME_b64). Control
// characters are escaped (\n, \t, ... or \u00XX); DEL and valid UTF-8 pass as they are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aa {

// A JSON string literal, quotes included.
void appendJsonString(std::string& out, std::string_view s);
std::string base64Encode(std::string_view bytes);
void appendU64(std::string& out, uint64_t v);
void appendI64(std::string& out, int64_t v);

}  // namespace aa
