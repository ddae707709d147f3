#include "store/traffic/stream_assembler.h"

#include <algorithm>

namespace aa::traffic {

const TimeMark* ByteStream::markAt(uint64_t offset) const {
  if (marks.empty()) return nullptr;
  auto it = std::upper_bound(marks.begin(), marks.end(), offset,
                             [](uint64_t o, const TimeMark& m) { return o < m.offset; });
  if (it == marks.begin()) return &marks.front();
  return &*(it - 1);
}

uint64_t ByteStream::timeAt(uint64_t offset) const {
  const TimeMark* m = markAt(offset);
  return m ? m->tNs : 0;
}

uint64_t ByteStream::lastNs() const {
  uint64_t t = 0;
  for (const auto& m : marks) t = std::max(t, m.tNs);
  return t;
}

ByteStream assembleStream(uint64_t conn, Direction dir, std::vector<TlsRecord> records) {
  ByteStream s;
  s.conn = conn;
  s.dir = dir;
  s.records = records.size();
  // Offset order; among equal offsets, capture order, so the first capture wins.
  std::stable_sort(records.begin(), records.end(), [](const TlsRecord& a, const TlsRecord& b) {
    if (a.offset != b.offset) return a.offset < b.offset;
    return a.seq < b.seq;
  });
  uint64_t end = 0;
  bool lastTruncated = false;
  size_t runScanned = 0;   // records[0, runScanned) were already measured for a reserve
  for (size_t ri = 0; ri < records.size(); ++ri) {
    TlsRecord& r = records[ri];
    if (s.fd < 0 && r.fd >= 0) s.fd = r.fd;
    if (r.data.empty()) {
      lastTruncated = lastTruncated || (r.truncated && r.offset >= end);
      continue;
    }
    uint64_t rEnd = r.offset + r.data.size();
    if (s.segments.empty() || r.offset > end) {
      if (r.offset > end) s.gaps.push_back({end, r.offset - end, false});
      s.segments.push_back({r.offset, std::move(r.data)});
      // Reserve the whole contiguous run once: appending record by record would copy
      // the segment over and over as it grows.
      if (ri >= runScanned) {
        uint64_t runEnd = rEnd;
        size_t j = ri + 1;
        for (; j < records.size() && records[j].offset <= runEnd; ++j) {
          runEnd = std::max<uint64_t>(runEnd, records[j].offset + records[j].data.size());
        }
        runScanned = j;
        s.segments.back().data.reserve(runEnd - r.offset);
      }
      s.marks.push_back({r.offset, r.tNs, r.pid, r.comm});
      end = rEnd;
      lastTruncated = r.truncated;
      continue;
    }
    // Overlap with what we have: [r.offset, end) lies inside the last segment because every
    // earlier record started at or before r.offset.
    Segment& seg = s.segments.back();
    uint64_t overlapEnd = std::min(end, rEnd);
    for (uint64_t o = r.offset; o < overlapEnd; ++o) {
      if (seg.data[o - seg.offset] == r.data[o - r.offset]) {
        ++s.duplicateBytes;
      } else {
        ++s.conflictBytes;
      }
    }
    if (rEnd > end) {
      seg.data.append(r.data, end - r.offset, rEnd - end);
      s.marks.push_back({end, r.tNs, r.pid, r.comm});
      end = rEnd;
      lastTruncated = r.truncated;
    }
  }
  if (lastTruncated) s.gaps.push_back({end, 0, true});
  for (const auto& seg : s.segments) s.capturedBytes += seg.data.size();
  return s;
}

void StreamAssembler::add(TlsRecord record) {
  ++count_;
  auto key = std::make_pair(record.conn, record.dir);
  pending_[key].push_back(std::move(record));
}

std::vector<ByteStream> StreamAssembler::finish() {
  std::vector<ByteStream> out;
  out.reserve(pending_.size());
  for (auto& [key, recs] : pending_) {
    out.push_back(assembleStream(key.first, key.second, std::move(recs)));
  }
  pending_.clear();
  count_ = 0;
  return out;
}

}  // namespace aa::traffic
