// printf-style appending for the renderers.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

namespace aa {

// Appends printf(fmt, args...) to out; output past 255 bytes is cut (renderers format
// numbers and short words with it, never payloads).
template <typename... Args>
void appendf(std::string& out, const char* fmt, Args... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min<size_t>(size_t(n), sizeof buf - 1));
}

}  // namespace aa
