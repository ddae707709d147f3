#include "store/traffic/event_stream.h"

#include <zlib.h>

namespace aa::traffic {

namespace {

uint32_t be32(std::string_view d, size_t p) {
  return (uint32_t(uint8_t(d[p])) << 24) | (uint32_t(uint8_t(d[p + 1])) << 16) |
         (uint32_t(uint8_t(d[p + 2])) << 8) | uint32_t(uint8_t(d[p + 3]));
}

uint32_t crcOf(std::string_view d) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())));
}

// Parses the header section; false when it is malformed.
bool parseHeaders(std::string_view h, AwsEvent& ev) {
  size_t p = 0;
  while (p < h.size()) {
    size_t nameLen = uint8_t(h[p++]);
    if (h.size() - p < nameLen + 1) return false;
    std::string name(h.substr(p, nameLen));
    p += nameLen;
    uint8_t type = uint8_t(h[p++]);
    static const size_t kFixed[] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};   // by value type
    if (type == 6 || type == 7) {   // bytes, string: u16 length
      if (h.size() - p < 2) return false;
      size_t n = (size_t(uint8_t(h[p])) << 8) | uint8_t(h[p + 1]);
      p += 2;
      if (h.size() - p < n) return false;
      if (type == 7) ev.headers.emplace_back(std::move(name), std::string(h.substr(p, n)));
      p += n;
    } else if (type < 10) {
      if (h.size() - p < kFixed[type]) return false;
      p += kFixed[type];
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AwsEvent::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

std::vector<AwsEvent> splitAwsEventStream(std::string_view body, std::string* problem) {
  std::vector<AwsEvent> out;
  size_t p = 0;
  auto fail = [&](const std::string& why) {
    if (problem) *problem = "event stream message at offset " + std::to_string(p) + ": " + why;
    return out;
  };
  while (p < body.size()) {
    std::string_view rest = body.substr(p);
    if (rest.size() < 12) {
      out.push_back({{}, {}, body.size(), false});
      return out;
    }
    uint32_t total = be32(rest, 0), hlen = be32(rest, 4);
    if (crcOf(rest.substr(0, 8)) != be32(rest, 8)) return fail("prelude CRC mismatch");
    if (total < 16 || hlen > total - 16) return fail("bad lengths");
    if (rest.size() < total) {
      out.push_back({{}, {}, body.size(), false});
      return out;
    }
    std::string_view msg = rest.substr(0, total);
    if (crcOf(msg.substr(0, total - 4)) != be32(msg, total - 4)) return fail("message CRC mismatch");
    AwsEvent ev;
    if (!parseHeaders(msg.substr(12, hlen), ev)) return fail("bad headers");
    ev.payload = std::string(msg.substr(12 + hlen, total - 16 - hlen));
    p += total;
    ev.endPos = p;
    out.push_back(std::move(ev));
  }
  return out;
}

bool decodeBase64(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else if (ch == '=') break;
    else return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return true;
}

}  // namespace aa::traffic
