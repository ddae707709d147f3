// FileMapping: a read-only, shared memory mapping of a whole file that survives the file
// shrinking under it. Used for every file this project maps: session logs
// (SessionReader) and executables examined for TLS discovery (recorder ElfImage).
//
// A file can shrink while it is mapped: another program truncates it or rewrites it in
// place, a traced process truncates a library it mapped. Touching a page past the new
// end raises SIGBUS, which would kill the reader. A process-wide SIGBUS handler,
// installed once (the first mapping), turns such a fault on one of these mappings into
// a page of zeros and marks the mapping: the read is retried and sees zeros. Nothing
// read from a mapping after the file shrank may be trusted; shrank() says whether that
// happened (it also catches a cut inside the last page, which reads zeros without any
// fault). A fault anywhere else goes to the handler that was there before, or gets the
// default action (the process dies of SIGBUS, as it would have without this).
//
// The handler is async-signal-safe: it reads a fixed table of ranges through lock-free
// atomics (a sequence count per slot so that a slot being reused is never misread) and
// calls only mmap. Mappings are claimed and released from any thread. The table holds
// kMaxMappings ranges; a mapping beyond that is refused with an error.
//
// Non-copyable (owns the mapping and the descriptor); movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "store/status.h"

namespace aa {

class FileMapping {
 public:
  static constexpr int kMaxMappings = 1024;

  // Maps the first `size` bytes of the open file `fd`, read-only and shared, and takes
  // ownership of `fd` (closed with the mapping, and on error). `size` 0 maps nothing.
  // `path` names the file in error messages.
  static StatusOr<FileMapping> map(int fd, uint64_t size, const std::string& path);

  FileMapping() = default;
  FileMapping(FileMapping&& other) noexcept;
  FileMapping& operator=(FileMapping&& other) noexcept;
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping();

  int fd() const { return fd_; }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_t(size_)}; }

  // True once a read of this mapping touched a page past the file's end.
  bool faulted() const;
  // The file's size now (fstat of the descriptor); its size when mapped if that fails.
  uint64_t currentSize() const;
  // How many bytes from the start of the mapping still read as the file's: the file's
  // size now, or less where a fault put zeros in place of a page (they stay there,
  // also if the file grows again). One fstat.
  uint64_t validUpTo() const;
  // True when some bytes of the mapping read as zeros rather than the file's: the file
  // shrank below the mapping's size, or a read faulted.
  bool shrank() const { return validUpTo() < size_; }

 private:
  void release();

  int fd_ = -1;
  int slot_ = -1;   // in the handler's table
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace aa
