#include "recorder/aead_join.h"

#include <iterator>

namespace aa {

uint64_t AeadJoin::key(uint32_t pid, uint64_t ctx, int32_t fd, int dir) {
  if (auto it = ctxs_.find({pid, ctx}); it != ctxs_.end()) {
    if (fd >= 0 && dir == kWrite) writeFd(pid, ctx, fd);
    return it->second;
  }
  uint64_t k = 0;
  if (fd >= 0) {
    auto f = fds_.find({pid, fd});
    if (f != fds_.end() && !f->second.dir[dir]) {
      k = f->second.key;
      f->second.dir[dir] = true;
    }
  }
  if (!k) {
    k = (uint64_t(1) << 63) | next_++;
    if (fd >= 0) {
      OnFd on;
      on.key = k;
      on.dir[dir] = true;
      fds_[{pid, fd}] = on;
    }
  }
  ctxs_[{pid, ctx}] = k;
  return k;
}

uint64_t AeadJoin::writeFd(uint32_t pid, uint64_t ctx, int32_t fd) {
  auto it = ctxs_.find({pid, ctx});
  if (it == ctxs_.end() || fd < 0) return 0;
  OnFd& on = fds_[{pid, fd}];
  if (on.key != it->second) {
    // the socket carries a new connection (its fd number reused) or learns its first
    on = OnFd{};
    on.key = it->second;
  }
  on.dir[kWrite] = true;
  return it->second;
}

void AeadJoin::forgetProcess(uint32_t pid) {
  for (auto it = ctxs_.lower_bound({pid, 0}); it != ctxs_.end() && it->first.first == pid;) it = ctxs_.erase(it);
  for (auto it = fds_.lower_bound({pid, INT32_MIN}); it != fds_.end() && it->first.first == pid;) it = fds_.erase(it);
}

}  // namespace aa
