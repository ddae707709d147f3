// One fuzz input through SessionReader: the bytes become a session file, which is
// opened from the log alone and then read in every way a consumer reads it (frames,
// queries, every event rendered as JSON). Shared by the libFuzzer target and the
// deterministic mutation test, so both exercise the same paths.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/render/event_json.h"
#include "store/format.h"
#include "store/session_reader.h"

namespace aa::fuzz {

// Where inputs are written: one file per process, reused.
inline const std::string& scratchPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string d = dir && *dir ? dir : "/tmp";
    return d + "/aa-reader-fuzz-" + std::to_string(::getpid()) + ".aas";
  }();
  return path;
}

inline bool writeScratch(const uint8_t* data, size_t size) {
  int fd = ::open(scratchPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += n;
  }
  ::close(fd);
  return done == size;
}

// Makes every checksum in a session file right again: the file header's, and each
// frame's that can be found by walking from frame to frame (magic at an 8-aligned offset,
// its stored length) over whatever bytes are there. Damage then reaches the decoders
// instead of stopping at a CRC mismatch, so Cap'n Proto decoding, decompression and the
// consumers of events (index, JSON) are what gets fuzzed.
inline void fixChecksums(std::string& bytes) {
  auto* p = reinterpret_cast<uint8_t*>(bytes.data());
  const uint64_t size = bytes.size();
  if (size < format::kFileHeaderSize) return;
  uint32_t len;
  std::memcpy(&len, p + 12, 4);
  if (format::kFileHeaderSize + uint64_t(len) <= size) {
    uint32_t crc = format::crc32(p + format::kFileHeaderSize, len);
    std::memcpy(p + 16, &crc, 4);
  }
  uint64_t off = format::align8(format::kFileHeaderSize + uint64_t(len));
  if (off >= size) off = format::kFileHeaderSize;
  while (off + format::kFrameHeaderSize <= size) {
    auto h = format::decodeFrameHeader(p + off);
    if (!h) {
      off += 8;
      continue;
    }
    uint64_t avail = size - off - format::kFrameHeaderSize;
    h->crc = format::frameCrc(p + off, p + off + format::kFrameHeaderSize,
                              std::min<uint64_t>(h->storedLen, avail));
    format::encodeFrameHeader(*h, p + off);
    if (h->storedLen > avail) break;
    off += h->frameLength();
  }
}

// Returns the number of events read (so callers can assert on good inputs).
inline uint64_t readSessionBytes(const uint8_t* data, size_t size) {
  if (!writeScratch(data, size)) return 0;
  ReaderOptions opts;
  opts.useIndex = false;
  auto r = SessionReader::open(scratchPath(), opts);
  if (!r.ok()) return 0;
  const SessionReader& reader = **r;
  uint64_t n = 0;
  std::string json;
  (void)reader.forEach(EventQuery{}, [&](schema::Event::Reader e) {
    json.clear();
    appendEventJson(json, e, reader.relNs(e.getTNs()));
    ++n;
    return true;
  });
  // Index-driven paths on whatever frames were found.
  EventQuery q;
  q.fromNs = reader.durationNs() / 3;
  q.toNs = reader.durationNs() / 2;
  q.kinds = bit(Kind::kFileOpen) | bit(Kind::kTlsRead);
  (void)reader.framesFor(q);
  (void)reader.forEach(q, [&](schema::Event::Reader e) { return e.getSeq() % 7 != 6; });
  for (size_t i = 0; i < reader.frames().size(); ++i) (void)reader.frame(i);
  (void)reader.frameOfSeq(n / 2);
  return n;
}

// The same with every checksum made right first (see fixChecksums).
inline uint64_t readSessionBytesFixed(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  fixChecksums(bytes);
  return readSessionBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

inline void removeScratch() {
  ::unlink(scratchPath().c_str());
  ::unlink((scratchPath() + "-index").c_str());
}

}  // namespace aa::fuzz
