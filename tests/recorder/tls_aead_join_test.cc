// AeadJoin (recorder/aead_join.h): the record sequences rustls produces, as measured on
// Codex 0.171.0, and the cases around them.
#include "recorder/aead_join.h"

#include <gtest/gtest.h>

namespace aa {
namespace {

constexpr int W = AeadJoin::kWrite, R = AeadJoin::kRead;

TEST(AeadJoinTest, WriteBeforeItsFdAndReadJoinOneConnection) {
  AeadJoin j;
  // the request: three seals before the writev that names the socket
  const uint64_t k = j.key(10, 0x7000, -1, W);
  EXPECT_EQ(j.key(10, 0x7000, -1, W), k);
  EXPECT_EQ(j.key(10, 0x7000, -1, W), k);
  EXPECT_NE(k & (uint64_t(1) << 63), 0u) << "never an SSL* address";
  EXPECT_EQ(j.writeFd(10, 0x7000, 53), k);
  // the answer: another context, its fd from the recv
  EXPECT_EQ(j.key(10, 0x8000, 53, R), k);
  EXPECT_EQ(j.key(10, 0x8000, 53, R), k);
  // the next request on the same connection
  EXPECT_EQ(j.key(10, 0x7000, 53, W), k);
}

TEST(AeadJoinTest, TwoConnectionsOnTwoSockets) {
  AeadJoin j;
  const uint64_t a = j.key(10, 0x7000, -1, W);
  const uint64_t b = j.key(10, 0x9000, -1, W);
  EXPECT_NE(a, b);
  j.writeFd(10, 0x7000, 5);
  j.writeFd(10, 0x9000, 6);
  EXPECT_EQ(j.key(10, 0xa000, 6, R), b);
  EXPECT_EQ(j.key(10, 0xb000, 5, R), a);
}

TEST(AeadJoinTest, AReusedFdStartsANewConnection) {
  AeadJoin j;
  const uint64_t a = j.key(10, 0x7000, -1, W);
  j.writeFd(10, 0x7000, 5);
  EXPECT_EQ(j.key(10, 0x8000, 5, R), a);
  // closed; a new connection gets fd 5 and new contexts
  const uint64_t b = j.key(10, 0x7100, -1, W);
  EXPECT_NE(a, b);
  EXPECT_EQ(j.writeFd(10, 0x7100, 5), b);
  EXPECT_EQ(j.key(10, 0x8100, 5, R), b) << "its read joins the new connection, not the old one";
}

TEST(AeadJoinTest, AReinitialisedContextAddressIsANewConnection) {
  AeadJoin j;
  const uint64_t a = j.key(10, 0x7000, -1, W);
  j.writeFd(10, 0x7000, 5);
  EXPECT_EQ(j.key(10, 0x8000, 5, R), a);
  // both contexts freed, their addresses reused by the next connection (EVP_AEAD_CTX_init)
  j.reset(10, 0x7000);
  j.reset(10, 0x8000);
  const uint64_t b = j.key(10, 0x7000, -1, W);
  EXPECT_NE(a, b);
  j.writeFd(10, 0x7000, 5);
  EXPECT_EQ(j.key(10, 0x8000, 5, R), b);
}

TEST(AeadJoinTest, ASecondReadContextOnTheSameSocketIsAnotherConnection) {
  // a key update (or a context we did not see start) must not interleave two read
  // streams in one connection
  AeadJoin j;
  const uint64_t a = j.key(10, 0x8000, 5, R);
  EXPECT_NE(j.key(10, 0x8800, 5, R), a);
}

TEST(AeadJoinTest, ProcessesAreSeparate) {
  AeadJoin j;
  const uint64_t a = j.key(10, 0x7000, 5, W);
  EXPECT_NE(j.key(11, 0x8000, 5, R), a);
  j.forgetProcess(10);
  EXPECT_NE(j.key(10, 0x7000, 5, W), a) << "forgotten with its process";
  EXPECT_EQ(j.writeFd(12, 0x1, 3), 0u) << "an fd for a context never seen";
}

}  // namespace
}  // namespace aa
