// Reading fields of what aa-session writes, through the project's JSON parser
// (store/traffic/json.h: strict RFC 8259, numbers kept as their text, members in order).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/traffic/json.h"

namespace aa::testing {

using Json = aa::traffic::Json;

// A JSON number that is an unsigned 64-bit integer, exactly (no sign, fraction or
// exponent); nullopt for anything else, so a wrong type fails the comparison.
inline std::optional<uint64_t> asU64(const Json& j) {
  if (!j.isNumber()) return std::nullopt;
  const std::string& s = j.str();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// An object's member names in order (the JSON Lines contract fixes the order).
inline std::vector<std::string> memberNames(const Json& j) {
  std::vector<std::string> out;
  for (const auto& m : j.members()) out.push_back(m.first);
  return out;
}

}  // namespace aa::testing
