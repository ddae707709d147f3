#include "store/net_addr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace aa {

std::string formatAddr(uint16_t family, std::string_view addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == kRecordedAfInet && addr.size() == 4) {
    inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
    return buf;
  }
  if (family == kRecordedAfInet6 && addr.size() == 16) {
    inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
    return buf;
  }
  if (family == kRecordedAfUnix) {
    if (!addr.empty() && addr[0] == '\0') return "@" + std::string(addr.substr(1));
    return std::string(addr);
  }
  return "";
}

std::string formatPeer(uint16_t family, std::string_view addr, uint16_t port) {
  std::string a = formatAddr(family, addr);
  if (family == kRecordedAfInet) return a + ":" + std::to_string(port);
  if (family == kRecordedAfInet6) return "[" + a + "]:" + std::to_string(port);
  return a;
}

}  // namespace aa
