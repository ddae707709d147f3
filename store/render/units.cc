#include "store/render/units.h"

#include <cstdio>

#include "store/render/strings.h"

namespace aa {

std::string formatDuration(uint64_t ns) {
  std::string out;
  if (ns >= 3600'000'000'000ull) {
    appendf(out, "%lluh%02llum%02llus", (unsigned long long)(ns / 3600'000'000'000ull),
            (unsigned long long)(ns / 60'000'000'000ull % 60),
            (unsigned long long)(ns / 1'000'000'000ull % 60));
  } else if (ns >= 60'000'000'000ull) {
    appendf(out, "%llum%06.3fs", (unsigned long long)(ns / 60'000'000'000ull),
            (ns % 60'000'000'000ull) / 1e9);
  } else if (ns >= 1'000'000'000ull) {
    appendf(out, "%.3fs", ns / 1e9);
  } else if (ns >= 1'000'000ull) {
    appendf(out, "%.3fms", ns / 1e6);
  } else if (ns >= 1'000ull) {
    appendf(out, "%.3fus", ns / 1e3);
  } else {
    appendf(out, "%lluns", (unsigned long long)ns);
  }
  return out;
}

std::string formatBytes(uint64_t bytes) {
  std::string out;
  if (bytes < 1024) {
    appendf(out, "%llu B", (unsigned long long)bytes);
    return out;
  }
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = bytes / 1024.0;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  appendf(out, "%.1f %s", v, kUnits[u]);
  return out;
}

}  // namespace aa
