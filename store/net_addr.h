// Formatting of socket addresses as recorded in net.connect events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aa {

// "1.2.3.4", "::1", or the AF_UNIX path; "" when family/bytes do not fit.
std::string formatAddr(uint16_t family, std::string_view addr);
// "1.2.3.4:443", "[::1]:443", or the AF_UNIX path.
std::string formatPeer(uint16_t family, std::string_view addr, uint16_t port);

}  // namespace aa
