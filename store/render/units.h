// Sizes and durations for people, the same in every output (CLI text, HTTP listings,
// the viewer).
#pragma once

#include <cstdint>
#include <string>

namespace aa {

// "512 B", "1.5 KiB", "3.0 MiB", "1.2 GiB" (binary units, one decimal above bytes).
std::string formatBytes(uint64_t bytes);
// "15ns", "1.500us", "200.000ms", "1.234s", "2m03.500s", "1h02m03s".
std::string formatDuration(uint64_t ns);

}  // namespace aa
