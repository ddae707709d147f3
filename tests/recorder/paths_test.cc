#include <gtest/gtest.h>

#include <string>

#include "recorder/paths.h"

namespace {

using namespace std::string_literals;

TEST(Paths, WalkedComponentsReverse) {
  EXPECT_EQ(aa::walkedToPath(""), "/");
  EXPECT_EQ(aa::walkedToPath("c\0b\0a\0"s), "/a/b/c");
  EXPECT_EQ(aa::walkedToPath("tmp\0"s), "/tmp");
  // a truncated last component without its NUL still counts
  EXPECT_EQ(aa::walkedToPath("c\0b"s), "/b/c");
}

TEST(Paths, Normalize) {
  EXPECT_EQ(aa::normalizePath("/"), "/");
  EXPECT_EQ(aa::normalizePath("//a///b/"), "/a/b");
  EXPECT_EQ(aa::normalizePath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(aa::normalizePath("/../.."), "/");
}

TEST(Paths, Resolve) {
  EXPECT_EQ(aa::resolvePath("x.txt", "/home/u"), "/home/u/x.txt");
  EXPECT_EQ(aa::resolvePath("../x.txt", "/home/u"), "/home/x.txt");
  EXPECT_EQ(aa::resolvePath("/etc/passwd", "/home/u"), "/etc/passwd");
  EXPECT_EQ(aa::resolvePath("./a/../b", "/"), "/b");
  EXPECT_EQ(aa::resolvePath("", "/home/u"), "/home/u");
  EXPECT_EQ(aa::resolvePath("rel", ""), "rel") << "unknown base: left as given";
}

}  // namespace

TEST(Paths, CutWalkIsARelativeTailAndStaysOne) {
  using namespace std::string_literals;
  EXPECT_EQ(aa::walkedTail("c\0b\0a\0"s), "a/b/c");
  EXPECT_EQ(aa::walkedTail(""s), "");
  EXPECT_EQ(aa::resolvePath("x/../y", "a/b"), "a/b/y");
  EXPECT_EQ(aa::resolvePath("../../../z", "a/b"), "../z") << "above the tail: unknown, kept as ..";
  EXPECT_EQ(aa::resolvePath("/abs", "a/b"), "/abs");
  EXPECT_EQ(aa::resolvePath("", "a/b/"), "a/b");
}
