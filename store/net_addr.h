// Socket addresses as recorded in net.connect events, formatted for people.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/linux_abi.h"

namespace aa {

// Address families as the recorder stores them: Linux's numbers, which are not the
// host's AF_* on every system that reads sessions (AF_INET6 is 30 on macOS).
constexpr uint16_t kRecordedAfUnix = linux_abi::kAF_UNIX, kRecordedAfInet = linux_abi::kAF_INET,
                   kRecordedAfInet6 = linux_abi::kAF_INET6;

// "1.2.3.4", "::1", an AF_UNIX path, or "@name" for an abstract socket (as ss(8)
// shows it); "" when family and bytes do not fit.
std::string formatAddr(uint16_t family, std::string_view addr);
// "1.2.3.4:443", "[::1]:443", or the AF_UNIX form of formatAddr.
std::string formatPeer(uint16_t family, std::string_view addr, uint16_t port);

}  // namespace aa
