// SessionWriter: appends events to a session file NAME.aas as framed batches, through
// io_uring, and keeps the SQLite index NAME.aas-index up to date.
//
// Events are built in place in the current batch (a Cap'n Proto message): append()
// returns a builder whose seq is already set; the caller sets tNs, pid, tid, comm and
// one union member. When a batch is full it is encoded (zstd when smaller) and its
// write submitted; the caller goes on filling the next batch while the kernel writes.
// A frame enters the index only after its write completed.
//
// Not thread-safe: one thread appends. Non-copyable; close() or the destructor ends
// the file (the destructor without a footer, like a crash, but with whole frames).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "schema/events.capnp.h"
#include "store/private_file.h"
#include "store/session_files.h"
#include "store/session_meta.h"
#include "store/status.h"

namespace aa {

struct WriterOptions {
  uint32_t batchEvents = 4096;          // events per frame at most
  uint32_t batchBytes = 1 << 20;        // approximate payload bytes per frame at most
  uint32_t inFlight = 4;                // frames written concurrently at most
  uint64_t fsyncEveryBytes = 8 << 20;   // fdatasync after this many bytes; 0 = only at close
  int zstdLevel = 1;
  bool useIoUring = true;               // false: plain pwrite (portable fallback)
  bool writeIndex = true;
  // An existing session file: replaced (after its lock is taken, by a new file renamed
  // over it: the old one is never rewritten, its readers keep it) or refused. A
  // symlink, device, FIFO, directory or hard-linked file is always refused, untouched
  // (store/private_file.h).
  ExistingFile existing = ExistingFile::kReplace;
  uint32_t fileMode = 0600;             // sessions can hold secrets
  int ownerUid = -1, ownerGid = -1;     // >= 0: fchown the session and its index to them
  int fd = -1;                          // >= 0: the session file, already made (and locked)
                                        // by createPrivateFile; the writer owns it
};

struct WriterStats {
  uint64_t events = 0;
  uint64_t frames = 0;
  uint64_t bytesWritten = 0;            // file bytes, headers included
  uint64_t rawPayloadBytes = 0;         // before compression
  std::string indexError;               // why the index was given up ("" if kept); the
                                        // log is complete regardless, readers rebuild it
  // After a write error (a full disk): close() truncates the file back to the end of
  // the last whole frame, tries to append a footer there (cleanStop false) and removes
  // the index files (readers rebuild them). What it managed:
  uint64_t keptEvents = 0;              // events in the whole frames kept
  uint64_t keptBytes = 0;               // the file's size after the truncation (+ footer)
  bool footerAfterError = false;        // the footer could still be written
};

class SessionWriter {
 public:
  static StatusOr<std::unique_ptr<SessionWriter>> create(const std::string& path,
                                                         SessionHeaderInfo header,
                                                         WriterOptions options = {});
  ~SessionWriter();
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  // A new event in the current batch, seq assigned. Valid until the next append/flush.
  schema::Event::Builder append();
  // Ends the current batch (if not empty) and submits its write.
  Status flush();
  // Flushes, waits for every write, writes the footer, syncs and closes. Idempotent.
  // After a write error, ends the file as well as it can (see WriterStats::keptEvents)
  // and returns that first error.
  Status close(SessionFooterInfo footer = {});

  // The first write error seen, if any (an append never fails by itself).
  const Status& error() const;
  const WriterStats& stats() const;
  const SessionHeaderInfo& header() const;
  const std::string& path() const;
  uint64_t nextSeq() const;

  class Impl;

 private:
  explicit SessionWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aa
