// StreamAssembler: turns TLS records (chunks of plaintext with a connection id, a
// direction and a byte offset) into ordered byte streams, one per connection and
// direction.
//
// Records may arrive in any order and may overlap (the same bytes captured twice).
// Bytes that were never captured are GAPS: holes between records, a start after offset 0
// (recording began mid-connection), or the unknown tail of a truncated last record. Gaps
// are listed, never filled; parsers stop a message at a gap and say so.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aa::traffic {

enum class Direction : uint8_t {
  kWrite = 0,   // sent by the traced process (SSL_write*)
  kRead = 1,    // received by it (SSL_read*)
};

// One TLS event, decoupled from Cap'n Proto so parsers are testable without a session.
struct TlsRecord {
  uint64_t conn = 0;
  Direction dir = Direction::kWrite;
  uint64_t offset = 0;       // stream offset of data[0]
  std::string data;
  uint64_t length = 0;       // bytes the SSL call moved (>= data.size()); 0 = data.size()
  bool truncated = false;    // the recorder did not capture all bytes of the call
  uint64_t tNs = 0;          // CLOCK_MONOTONIC ns
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string comm;
  int32_t fd = -1;
  uint64_t seq = 0;
};

// A run of captured bytes without holes.
struct Segment {
  uint64_t offset = 0;
  std::string data;
  uint64_t end() const { return offset + data.size(); }
};

// Bytes not captured. unknownSize: the stream's last record was truncated, so an
// unknown number of bytes follows `offset`.
struct Gap {
  uint64_t offset = 0;
  uint64_t size = 0;
  bool unknownSize = false;
};

// From `offset` on, bytes were delivered by a record of this time and process.
struct TimeMark {
  uint64_t offset = 0;
  uint64_t tNs = 0;
  uint32_t pid = 0;
  std::string comm;
};

struct ByteStream {
  uint64_t conn = 0;
  Direction dir = Direction::kWrite;
  std::vector<Segment> segments;   // sorted by offset, disjoint, never adjacent
  std::vector<Gap> gaps;           // sorted by offset
  std::vector<TimeMark> marks;     // sorted by offset, one per contributing record
  uint64_t records = 0;
  uint64_t capturedBytes = 0;      // distinct bytes in segments
  uint64_t duplicateBytes = 0;     // bytes delivered more than once (identical)
  uint64_t conflictBytes = 0;      // bytes delivered more than once with other values
  int32_t fd = -1;

  // The record that delivered the byte at `offset` (the first mark when before all).
  const TimeMark* markAt(uint64_t offset) const;
  uint64_t timeAt(uint64_t offset) const;
  uint64_t firstNs() const { return marks.empty() ? 0 : marks.front().tNs; }
  uint64_t lastNs() const;
};

class StreamAssembler {
 public:
  void add(TlsRecord record);
  // Every stream seen, ordered by (conn, direction). The assembler is left empty.
  std::vector<ByteStream> finish();
  size_t recordCount() const { return count_; }

 private:
  std::map<std::pair<uint64_t, Direction>, std::vector<TlsRecord>> pending_;
  size_t count_ = 0;
};

// Assembles one stream from its records (any order). Exposed for tests.
ByteStream assembleStream(uint64_t conn, Direction dir, std::vector<TlsRecord> records);

}  // namespace aa::traffic
