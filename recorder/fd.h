// Fd: the one owner of a file descriptor in recorder/ (closed on destruction; -1 owns
// nothing). Movable, not copyable.
#pragma once

#include <unistd.h>

#include <utility>

namespace aa {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { closeIfOwned(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }

  int get() const { return fd_; }
  // Closes the fd owned so far (if any) and owns `fd` instead.
  void reset(int fd = -1) {
    closeIfOwned();
    fd_ = fd;
  }

 private:
  void closeIfOwned() {
    if (fd_ >= 0) ::close(fd_);
  }

  int fd_;
};

}  // namespace aa
