// Verifying a session in full: what `aa-session verify` reports. Beyond the framing the
// reader checks when it opens a file (magic, lengths, checksums), every frame's events
// are decoded in full (every pointer followed), must carry the sequence numbers, times
// and kinds their frame header promises, frames must chain without gaps, and the footer
// must count the events the log holds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "store/session_reader.h"
#include "store/status.h"

namespace aa {

struct VerifyReport {
  size_t frames = 0;
  uint64_t events = 0;
  bool hasFooter = false;
  bool cleanStop = false;
};

// `reader` should be opened with ReaderOptions::useIndex = false: an index could hide
// damage the log has. The first problem in file order is the error (damage the reader
// met, or a frame that fails the checks above); its message names the offset.
StatusOr<VerifyReport> verifySession(const SessionReader& reader);

}  // namespace aa
