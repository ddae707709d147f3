// Decoder: maps raw ring-buffer records of the core probes (bpf/events.h, types 1..99)
// to schema events appended to a SessionWriter.
//
// State it keeps: the path of every tracked open file per (pid, struct file *), learned
// from its open or adopt record, so that close summaries and per-call reads/writes
// carry the path; the kernel sends the pointer only. A record that is too short or
// inconsistent is counted in stats().malformed and skipped; decoding goes on.
//
// Not thread-safe (the drain thread only). Non-copyable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "store/session_writer.h"

namespace aa {

struct DecoderStats {
  uint64_t records = 0;     // records decoded into events (or state)
  uint64_t malformed = 0;   // records skipped as too short or inconsistent
  uint64_t unknown = 0;     // records of a type the decoder does not know
};

// The image an exec event names: its path, and the identity of the file that ran (dev
// in the kernel's encoding), which a file found at that path later must match.
struct ExecutedImage {
  std::string path;
  uint64_t kernelDev = 0;
  uint64_t ino = 0;
};

class Decoder {
 public:
  explicit Decoder(SessionWriter& writer) : writer_(writer) {}
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Called after a process's exec / exit event was appended.
  std::function<void(uint32_t pid, const ExecutedImage& image)> onExec;
  std::function<void(uint32_t pid)> onExit;
  // Set: masks secrets in an exec's argv before it is written (same lengths).
  std::function<void(std::vector<std::string>& argv)> redactArgv;
  // Called after a connect event was appended (addr as in aa_rec_connect).
  std::function<void(uint32_t pid, int32_t fd, uint16_t family, std::span<const uint8_t> addr,
                     uint16_t port, int64_t ret)>
      onConnect;

  // Decodes one record; returns false when it was not a core record (unknown type).
  bool decode(const void* data, size_t size);
  // A `lost` event: `count` records the kernel could not reserve in `probe`.
  void appendLost(uint64_t tNs, std::string_view probe, uint64_t count);

  const DecoderStats& stats() const { return stats_; }

 private:
  void decodeExec(const uint8_t* p, size_t size);
  void decodeFork(const uint8_t* p, size_t size);
  void decodeExit(const uint8_t* p, size_t size);
  void decodeFileOp(const uint8_t* p, size_t size);
  void decodeClose(const uint8_t* p, size_t size);
  void decodeIo(const uint8_t* p, size_t size);
  void decodeAdopt(const uint8_t* p, size_t size);
  void decodeConnect(const uint8_t* p, size_t size);
  schema::Event::Builder begin(const void* header);
  std::string pathOf(uint32_t pid, uint64_t file) const;

  SessionWriter& writer_;
  DecoderStats stats_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> files_;   // (pid, file) -> path
};

}  // namespace aa
