// Helpers shared by the traffic tests: streams built from byte strings, gzip.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "store/traffic/stream_assembler.h"

namespace aa::traffic::testing {

// Records covering `bytes` in pieces of the given sizes (the last piece takes the rest),
// captured at t0, t0+step, ...
inline std::vector<TlsRecord> recordsOf(std::string_view bytes, Direction dir,
                                        std::vector<size_t> sizes = {}, uint64_t conn = 1,
                                        uint64_t t0 = 1000, uint64_t step = 10,
                                        uint64_t offset0 = 0) {
  std::vector<TlsRecord> out;
  size_t p = 0, i = 0;
  while (p < bytes.size()) {
    size_t n = i < sizes.size() ? sizes[i] : bytes.size() - p;
    if (n > bytes.size() - p) n = bytes.size() - p;
    TlsRecord r;
    r.conn = conn;
    r.dir = dir;
    r.offset = offset0 + p;
    r.data = std::string(bytes.substr(p, n));
    r.length = n;
    r.tNs = t0 + step * i;
    r.pid = 42;
    r.comm = "agent";
    r.seq = i;
    out.push_back(std::move(r));
    p += n;
    ++i;
  }
  return out;
}

inline ByteStream streamOf(std::string_view bytes, Direction dir, std::vector<size_t> sizes = {},
                           uint64_t t0 = 1000) {
  return assembleStream(1, dir, recordsOf(bytes, dir, std::move(sizes), 1, t0));
}

inline std::string gzipOf(std::string_view in, bool gzipWrapper = true) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, gzipWrapper ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string chunked(std::string_view body, size_t chunk) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t p = 0; p < body.size(); p += chunk) {
    size_t n = std::min(chunk, body.size() - p);
    std::string h;
    for (size_t v = n; v; v >>= 4) h.insert(h.begin(), hex[v & 15]);
    out += h + "\r\n";
    out.append(body.substr(p, n));
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

}  // namespace aa::traffic::testing
