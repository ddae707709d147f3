#include "store/traffic/stream_assembler.h"

#include <gtest/gtest.h>

#include "tests/traffic/test_util.h"

namespace aa::traffic {
namespace {

using testing::recordsOf;

TEST(StreamAssembler, OrdersByOffsetWhateverTheArrivalOrder) {
  auto recs = recordsOf("hello, world", Direction::kWrite, {3, 4, 5});
  std::swap(recs[0], recs[2]);
  ByteStream s = assembleStream(1, Direction::kWrite, recs);
  ASSERT_EQ(s.segments.size(), 1u);
  EXPECT_EQ(s.segments[0].data, "hello, world");
  EXPECT_TRUE(s.gaps.empty());
  EXPECT_EQ(s.capturedBytes, 12u);
  ASSERT_EQ(s.marks.size(), 3u);
  EXPECT_EQ(s.timeAt(0), 1000u);
  EXPECT_EQ(s.timeAt(3), 1010u);
  EXPECT_EQ(s.timeAt(11), 1020u);
}

TEST(StreamAssembler, HolesBecomeGapsNeverFilled) {
  auto recs = recordsOf("0123456789", Direction::kRead, {2, 3, 5});
  recs.erase(recs.begin() + 1);   // bytes 2..4 never captured
  ByteStream s = assembleStream(7, Direction::kRead, recs);
  ASSERT_EQ(s.segments.size(), 2u);
  EXPECT_EQ(s.segments[0].data, "01");
  EXPECT_EQ(s.segments[1].offset, 5u);
  EXPECT_EQ(s.segments[1].data, "56789");
  ASSERT_EQ(s.gaps.size(), 1u);
  EXPECT_EQ(s.gaps[0].offset, 2u);
  EXPECT_EQ(s.gaps[0].size, 3u);
}

TEST(StreamAssembler, StartAfterZeroIsAGap) {
  auto recs = recordsOf("abc", Direction::kRead, {}, 1, 1000, 10, 100);
  ByteStream s = assembleStream(1, Direction::kRead, recs);
  ASSERT_EQ(s.gaps.size(), 1u);
  EXPECT_EQ(s.gaps[0].offset, 0u);
  EXPECT_EQ(s.gaps[0].size, 100u);
}

TEST(StreamAssembler, OverlapsAreCountedAndFirstCaptureWins) {
  auto recs = recordsOf("abcdef", Direction::kWrite, {4, 2});
  TlsRecord dup = recs[0];
  dup.offset = 2;
  dup.data = "cXef";   // 'c','e','f' agree, 'X' conflicts with 'd'
  dup.seq = 99;
  recs.push_back(dup);
  ByteStream s = assembleStream(1, Direction::kWrite, recs);
  ASSERT_EQ(s.segments.size(), 1u);
  EXPECT_EQ(s.segments[0].data, "abcdef");
  EXPECT_EQ(s.duplicateBytes, 3u);
  EXPECT_EQ(s.conflictBytes, 1u);
}

TEST(StreamAssembler, TruncatedLastRecordLeavesUnknownTail) {
  auto recs = recordsOf("abcdef", Direction::kRead, {3, 3});
  recs[1].truncated = true;
  recs[1].length = 100;
  ByteStream s = assembleStream(1, Direction::kRead, recs);
  ASSERT_EQ(s.gaps.size(), 1u);
  EXPECT_TRUE(s.gaps[0].unknownSize);
  EXPECT_EQ(s.gaps[0].offset, 6u);
}

TEST(StreamAssembler, SplitsByConnectionAndDirection) {
  StreamAssembler a;
  for (auto& r : recordsOf("req", Direction::kWrite, {}, 2)) a.add(r);
  for (auto& r : recordsOf("resp", Direction::kRead, {}, 2)) a.add(r);
  for (auto& r : recordsOf("other", Direction::kWrite, {}, 1)) a.add(r);
  EXPECT_EQ(a.recordCount(), 3u);
  auto v = a.finish();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].conn, 1u);
  EXPECT_EQ(v[1].conn, 2u);
  EXPECT_EQ(v[1].dir, Direction::kWrite);
  EXPECT_EQ(v[2].dir, Direction::kRead);
  EXPECT_EQ(v[2].segments[0].data, "resp");
}

}  // namespace
}  // namespace aa::traffic
