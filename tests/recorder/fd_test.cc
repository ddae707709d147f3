// aa::Fd (recorder/fd.h): closes what it owns exactly once, and moving hands ownership over.
#include "recorder/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>

namespace {

bool isOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

int openNull() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "/dev/null";
  return fd;
}

TEST(Fd, ClosesOnDestruction) {
  const int raw = openNull();
  { aa::Fd fd(raw); EXPECT_EQ(fd.get(), raw); }
  EXPECT_FALSE(isOpen(raw));
}

TEST(Fd, ResetClosesTheOldOne) {
  const int a = openNull(), b = openNull();
  aa::Fd fd(a);
  fd.reset(b);
  EXPECT_FALSE(isOpen(a));
  EXPECT_TRUE(isOpen(b));
  fd.reset();
  EXPECT_FALSE(isOpen(b));
  EXPECT_EQ(fd.get(), -1);
}

TEST(Fd, MoveHandsOwnershipOver) {
  const int raw = openNull();
  aa::Fd from(raw);
  aa::Fd to(std::move(from));
  EXPECT_EQ(from.get(), -1);
  EXPECT_EQ(to.get(), raw);
  aa::Fd third;
  third = std::move(to);
  EXPECT_TRUE(isOpen(raw));
  EXPECT_EQ(third.get(), raw);
  third = aa::Fd();
  EXPECT_FALSE(isOpen(raw));
}

}  // namespace
