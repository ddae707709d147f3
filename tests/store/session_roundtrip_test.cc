#include <capnp/message.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "random_events.h"
#include "store/kind.h"
#include "store/session_reader.h"

namespace aa {
namespace {

std::vector<std::string> readAll(const SessionReader& r, EventQuery q = {}) {
  std::vector<std::string> out;
  Status s = r.forEach(q, [&](schema::Event::Reader e) {
    out.push_back(kj::str(e.toString()).cStr());
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

class RoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(RoundTrip, EventsComeBackEqualAndInOrder) {
  std::string path = test::tempPath(std::string("rt") + (GetParam() ? "u" : "p") + ".aas");
  WriterOptions opt;
  opt.batchEvents = 97;             // many frames, odd sizes
  opt.useIoUring = GetParam();
  opt.inFlight = 3;
  opt.fsyncEveryBytes = 64 << 10;
  auto written = test::writeRandomSession(path, 5000, 42, opt, 1 << 20);

  for (bool useIndex : {true, false}) {
    ReaderOptions ro;
    ro.useIndex = useIndex;
    auto r = SessionReader::open(path, ro);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r.value()->damage().ok()) << r.value()->damage().message();
    ASSERT_TRUE(r.value()->footer().has_value());
    EXPECT_EQ(r.value()->footer()->eventCount, 5000u);
    EXPECT_TRUE(r.value()->footer()->cleanStop);
    EXPECT_EQ(r.value()->footer()->lost.at(0).count, 3u);
    ASSERT_EQ(r.value()->footer()->probes.size(), 1u);
    EXPECT_EQ(r.value()->footer()->probes[0].name, "SSL_write@/usr/bin/node");
    EXPECT_EQ(r.value()->eventCount(), 5000u);
    EXPECT_EQ(r.value()->header().command.at(1), std::string("arg\xff\0x", 6));
    EXPECT_EQ(r.value()->header().target, "test");
    auto read = readAll(*r.value());
    ASSERT_EQ(read.size(), written.size());
    for (size_t i = 0; i < read.size(); ++i) ASSERT_EQ(read[i], written[i]) << "event " << i;
  }
  // The writer left an index; opening again uses it instead of rebuilding.
  auto again = SessionReader::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value()->indexRebuilt());
  EXPECT_EQ(readAll(*again.value()), written);
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "sessions can hold secrets";
  ASSERT_EQ(stat((path + "-index").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "so can their indexes";
  unlink((path + "-index").c_str());
  ASSERT_TRUE(SessionReader::open(path).ok());
  ASSERT_EQ(stat((path + "-index").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a rebuilt index too";
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

INSTANTIATE_TEST_SUITE_P(Writers, RoundTrip, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "io_uring" : "pwrite"; });

// The random streams every store test writes hold every kind, so a new kind is
// round-tripped, indexed and damaged too once random_events.h has it.
TEST(RandomEvents, CoverEveryKind) {
  test::RandomEvents gen(42);
  std::array<int, kKindCount> seen{};
  for (int i = 0; i < 4000; ++i) {
    capnp::MallocMessageBuilder msg;
    auto e = msg.initRoot<schema::Event>();
    gen.fill(e);
    ++seen[static_cast<size_t>(kindOf(e.asReader()))];
  }
  for (int k = 0; k < kKindCount; ++k)
    EXPECT_GT(seen[k], 0) << kindName(static_cast<Kind>(k))
                          << " is never generated: add it to tests/store/random_events.h";
}

TEST(RoundTrip, ReplayIsDeterministicAndPaced) {
  std::string path = test::tempPath("replay.aas");
  test::writeRandomSession(path, 300, 7);
  auto r = SessionReader::open(path);
  ASSERT_TRUE(r.ok());
  std::vector<uint64_t> a, b;
  ASSERT_TRUE(replay(*r.value(), {}, 0, [&](auto e) { a.push_back(e.getSeq()); return true; }).ok());
  ASSERT_TRUE(replay(*r.value(), {}, 0, [&](auto e) { b.push_back(e.getSeq()); return true; }).ok());
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 300u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], i);
  // Paced at 100x: the session spans at least the recorded time / 100.
  uint64_t span = r.value()->durationNs();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(replay(*r.value(), {}, 100, [&](auto) { return true; }).ok());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count() * 100,
            int64_t(span) - int64_t(span / 50));
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(RoundTrip, LiveSessionIsReadableWhileBeingWritten) {
  std::string path = test::tempPath("live.aas");
  SessionHeaderInfo h;
  auto w = SessionWriter::create(path, h, {});
  ASSERT_TRUE(w.ok());
  test::RandomEvents gen(3, w.value()->header().startMonoNs);
  for (int i = 0; i < 100; ++i) gen.fill(w.value()->append());
  ASSERT_TRUE(w.value()->flush().ok());
  // flush() submitted the frame; it becomes readable once the kernel wrote it.
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto r = SessionReader::open(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r.value()->footer().has_value());
    EXPECT_TRUE(r.value()->damage().ok()) << r.value()->damage().message();
    seen = r.value()->eventCount() == 100;
    if (!seen) usleep(5000);
  }
  EXPECT_TRUE(seen) << "the flushed frame never became readable";
  ASSERT_TRUE(w.value()->close().ok());
  auto r = SessionReader::open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value()->footer().has_value());
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

}  // namespace
}  // namespace aa
