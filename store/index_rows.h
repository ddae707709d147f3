// The rows of the session index (NAME.aas-index) as readers see them: one frame of the
// log, and the derived process, file and TLS connection tables. Written by the Indexer,
// read through SessionReader (store/index.h holds the SQL of both).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/kind.h"

namespace aa {

// One frame of the log as the index describes it.
struct FrameInfo {
  uint64_t offset = 0;        // file offset of the frame header
  uint32_t length = 0;        // header + payload + padding, bytes on disk
  uint64_t firstSeq = 0;
  uint32_t count = 0;
  uint64_t tMin = 0, tMax = 0;  // monotonic ns
  KindMask kinds = 0;
  std::array<uint32_t, kKindCount> kindCounts{};
  std::vector<uint32_t> pids;   // sorted, distinct
};

struct ProcessRow {
  uint32_t pid = 0, ppid = 0;
  std::string exe;                       // last exec path ("" when never exec'd)
  std::vector<std::string> argv;
  std::string comm;
  std::optional<uint64_t> startNs, endNs;   // ns since session start
  std::optional<int32_t> exitCode, signal;
  std::array<uint64_t, kKindCount> kindCounts{};
};

struct FileRow {
  std::string path;
  uint64_t opens = 0;
  uint64_t bytesRead = 0, bytesWritten = 0;
  uint64_t firstNs = 0, lastNs = 0;     // ns since session start
  KindMask kinds = 0;
};

struct TlsConnRow {
  uint64_t conn = 0;
  uint32_t pid = 0;
  int32_t fd = -1;
  std::string peer;                     // "1.2.3.4:443" when connect() was seen
  std::string lib;                      // "" for a plain connection
  uint64_t bytesOut = 0, bytesIn = 0;
  uint64_t firstNs = 0, lastNs = 0;
  bool plain = false;                   // net.send / net.recv: not encrypted
};

}  // namespace aa
