#include "store/file_mapping.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

namespace aa {
namespace {

// One guarded range. `seq` is odd while begin/end change (a seqlock): the handler skips
// a slot it sees changing, or that changed while it read it. That is never the slot of
// the faulting range: its owner is reading the mapping, so it was claimed before and
// will be released after.
struct Slot {
  std::atomic<bool> claimed{false};
  std::atomic<uint32_t> seq{0};
  std::atomic<uintptr_t> begin{0}, end{0};
  std::atomic<uintptr_t> lowestFault{UINTPTR_MAX};   // the lowest page replaced by zeros
};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uintptr_t>::is_always_lock_free,
              "the SIGBUS handler may only use lock-free atomics");

Slot gSlots[FileMapping::kMaxMappings];
struct sigaction gPrevious {};
uintptr_t gPageSize = 4096;   // set before the handler is installed
bool gInstalled = false;

void setRange(Slot& s, uintptr_t begin, uintptr_t end) {
  s.seq.fetch_add(1, std::memory_order_relaxed);   // odd: changing
  std::atomic_thread_fence(std::memory_order_release);
  s.begin.store(begin, std::memory_order_relaxed);
  s.end.store(end, std::memory_order_relaxed);
  s.seq.fetch_add(1, std::memory_order_release);   // even: stable
}

bool covers(const Slot& s, uintptr_t at) {
  const uint32_t before = s.seq.load(std::memory_order_acquire);
  if (before & 1) return false;
  const uintptr_t begin = s.begin.load(std::memory_order_relaxed);
  const uintptr_t end = s.end.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (s.seq.load(std::memory_order_relaxed) != before) return false;
  return at >= begin && at < end;
}

// What would have happened without our handler.
void forward(int sig, siginfo_t* info, void* context, bool fault) {
  const struct sigaction& p = gPrevious;
  if ((p.sa_flags & SA_SIGINFO) && p.sa_sigaction) {
    p.sa_sigaction(sig, info, context);
    return;
  }
  if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN) {
    p.sa_handler(sig);
    return;
  }
  // An ignored SIGBUS sent by kill() stays ignored; a fault is never ignored by the
  // kernel either, it kills.
  if (p.sa_handler == SIG_IGN && !(p.sa_flags & SA_SIGINFO) && !fault) return;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGBUS, &dfl, nullptr);
  // A fault recurs when this handler returns, now with the default action; a signal
  // sent is raised again (blocked while the handler runs, delivered when it returns).
  if (!fault) ::raise(SIGBUS);
}

void onSigbus(int sig, siginfo_t* info, void* context) {
  const int savedErrno = errno;
  const bool fault = info && info->si_code > 0;   // SI_USER, SI_QUEUE, ... are <= 0
  if (fault) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(info->si_addr);
    for (Slot& s : gSlots) {
      if (!covers(s, at)) continue;
      const uintptr_t page = at & ~(gPageSize - 1);
      // A private page of zeros in place of the page the file no longer has; the
      // faulting read is retried on return and sees zeros.
      if (::mmap(reinterpret_cast<void*>(page), gPageSize, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
        uintptr_t low = s.lowestFault.load(std::memory_order_relaxed);
        while (page < low && !s.lowestFault.compare_exchange_weak(low, page, std::memory_order_release,
                                                                 std::memory_order_relaxed)) {
        }
        errno = savedErrno;
        return;
      }
      break;   // cannot map: the fault is fatal after all
    }
  }
  errno = savedErrno;
  forward(sig, info, context, fault);
}

bool installHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0) gPageSize = uintptr_t(page);
    struct sigaction sa {};
    sa.sa_sigaction = onSigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    gInstalled = ::sigaction(SIGBUS, &sa, &gPrevious) == 0;
  });
  return gInstalled;
}

int claimSlot(const void* data, uint64_t size) {
  for (int i = 0; i < FileMapping::kMaxMappings; ++i) {
    Slot& s = gSlots[i];
    if (s.claimed.exchange(true, std::memory_order_acq_rel)) continue;
    s.lowestFault.store(UINTPTR_MAX, std::memory_order_relaxed);
    setRange(s, reinterpret_cast<uintptr_t>(data), reinterpret_cast<uintptr_t>(data) + size);
    return i;
  }
  return -1;
}

void dropSlot(int i) {
  setRange(gSlots[i], 0, 0);
  gSlots[i].claimed.store(false, std::memory_order_release);
}

}  // namespace

StatusOr<FileMapping> FileMapping::map(int fd, uint64_t size, const std::string& path) {
  FileMapping m;
  m.fd_ = fd;   // closed by m on every return below
  if (size == 0) return m;
  if (size > uint64_t(SIZE_MAX)) return Status::error(path + ": too large to map");
  if (!installHandler()) return Status::error(path + ": cannot install the SIGBUS handler");
  void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::error(path + ": cannot map: " + std::strerror(errno));
  m.data_ = static_cast<const uint8_t*>(p);
  m.size_ = size;
  m.slot_ = claimSlot(p, size);
  if (m.slot_ < 0)
    return Status::error(path + ": more than " + std::to_string(kMaxMappings) + " files mapped at once");
  return m;
}

FileMapping::FileMapping(FileMapping&& o) noexcept { *this = std::move(o); }

FileMapping& FileMapping::operator=(FileMapping&& o) noexcept {
  if (this == &o) return *this;
  release();
  fd_ = o.fd_;
  slot_ = o.slot_;
  data_ = o.data_;
  size_ = o.size_;
  o.fd_ = -1;
  o.slot_ = -1;
  o.data_ = nullptr;
  o.size_ = 0;
  return *this;
}

FileMapping::~FileMapping() { release(); }

void FileMapping::release() {
  // The range leaves the table first: once unmapped, anyone may map something there.
  if (slot_ >= 0) dropSlot(slot_);
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_t(size_));
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  slot_ = -1;
  data_ = nullptr;
  size_ = 0;
}

bool FileMapping::faulted() const {
  return slot_ >= 0 && gSlots[slot_].lowestFault.load(std::memory_order_acquire) != UINTPTR_MAX;
}

uint64_t FileMapping::currentSize() const {
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) return size_;
  return uint64_t(st.st_size);
}

uint64_t FileMapping::validUpTo() const {
  uint64_t valid = std::min(currentSize(), size_);
  if (slot_ >= 0) {
    const uintptr_t low = gSlots[slot_].lowestFault.load(std::memory_order_acquire);
    // the page's start may lie before data_ only for a mapping not page-aligned, which
    // mmap never returns
    if (low != UINTPTR_MAX) valid = std::min<uint64_t>(valid, low - reinterpret_cast<uintptr_t>(data_));
  }
  return valid;
}

}  // namespace aa
