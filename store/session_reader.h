// SessionReader: opens a session file NAME.aas (memory-mapped) with its SQLite index
// NAME.aas-index, and reads events back in sequence order.
//
// The log is the truth: an index that is missing, from another session, from another
// index version, or behind the log is rebuilt (or caught up) from the log on open.
// A damaged log is read up to its last whole, valid frame; damage() says where it
// stopped and why. Queries use the frame table (time range, kinds, pids per frame) so
// that frames that cannot match are never decompressed or decoded.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "schema/events.capnp.h"
#include "store/index_rows.h"
#include "store/kind.h"
#include "store/session_files.h"
#include "store/session_meta.h"
#include "store/status.h"

namespace aa {

// A decoded frame; events() stays valid as long as the DecodedFrame lives.
class DecodedFrame {
 public:
  virtual ~DecodedFrame() = default;
  virtual capnp::List<schema::Event>::Reader events() const = 0;
};

// Events matching every set criterion. Times are ns since session start.
struct EventQuery {
  std::optional<uint64_t> fromNs, toNs;   // inclusive range
  std::vector<uint32_t> pids;             // empty: all
  KindMask kinds = kAllKinds;
  uint64_t fromSeq = 0;
};

struct ReaderOptions {
  bool useIndex = true;                 // false: never touch NAME.aas-index
  bool rebuildIndex = false;            // force a rebuild
  // Called while (re)building the index: bytes of log done, total.
  std::function<void(uint64_t, uint64_t)> progress = nullptr;
};

class SessionReader {
 public:
  static StatusOr<std::unique_ptr<SessionReader>> open(const std::string& path,
                                                       ReaderOptions options = {});
  ~SessionReader();
  SessionReader(const SessionReader&) = delete;
  SessionReader& operator=(const SessionReader&) = delete;

  const std::string& path() const;
  const SessionHeaderInfo& header() const;
  const std::optional<SessionFooterInfo>& footer() const;   // absent: no clean stop
  // ok() when the log was whole; otherwise "PATH: offset N: reason" of the first damage.
  // A frame found damaged when decoded after opening turns it from ok to that error;
  // forEach skips such a frame. The file may change under the reader: bytes changed in
  // place fail the frame's checksum; a file that shrank (truncated, or rewritten in
  // place) reads as zeros past its new end, never faults (SIGBUS), and every frame that
  // reached past it is "PATH: offset N: the file shrank while being read (S of T bytes
  // left)". Of the damage met after opening, the frame of the lowest offset is named
  // (threads may decode frames in any order). Frames already decoded (and cached) stay
  // readable. A copy: thread-safe.
  Status damage() const;
  bool indexRebuilt() const;     // the index was (re)built or caught up on open
  // Why an existing index was not trusted ("" when none was found or it was used):
  // frames missing from it, frames that differ from its rows, a log changed after it.
  const std::string& indexNote() const;

  const std::vector<FrameInfo>& frames() const;
  uint64_t eventCount() const;   // events in whole frames
  uint64_t durationNs() const;   // last event time - session start
  uint64_t fileSize() const;
  uint64_t relNs(uint64_t monoNs) const;   // ns since session start (0 if before)

  // Decodes frame i (cached: a few recently used frames stay decoded).
  StatusOr<std::shared_ptr<const DecodedFrame>> frame(size_t i) const;
  // Visits matching events in seq order; the callback returns false to stop.
  // The Reader is valid only during the call.
  Status forEach(const EventQuery& query,
                 const std::function<bool(schema::Event::Reader)>& visit) const;
  // The frame holding seq, or frames().size().
  size_t frameOfSeq(uint64_t seq) const;
  // Frames a query would decode (for tests and benchmarks of the index).
  std::vector<size_t> framesFor(const EventQuery& query) const;
  uint64_t bytesDecoded() const;   // payload bytes read from the file so far

  // Tables derived from events, read from the index.
  std::vector<ProcessRow> processes() const;
  std::vector<FileRow> files() const;
  std::vector<TlsConnRow> tlsConnections() const;
  std::array<uint64_t, kKindCount> kindTotals() const;
  std::vector<LostCountInfo> lostTotals() const;   // summed lost events per probe

  class Impl;

 private:
  explicit SessionReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Replays matching events in order through `visit`, paced at `speed` x recorded speed
// (0: as fast as possible). Deterministic: the same file gives the same sequence.
Status replay(const SessionReader& reader, const EventQuery& query, double speed,
              const std::function<bool(schema::Event::Reader)>& visit);

}  // namespace aa
