// A session that shrinks while a reader holds it: truncated by someone, or overwritten in
// place by another program, while aa-view or aa-session reads it (the log is mapped).
// Touching a page past the new end once killed the reader with SIGBUS. The reader must
// keep every frame still whole in the file, report the rest as damage in one line naming
// the file, and never crash.
//
// Each case runs in a child process (a death test), so that a SIGBUS fails the case with
// the signal named instead of ending the whole suite.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "random_events.h"
#include "store/session_reader.h"
#include "store/verify.h"

namespace aa {
namespace {

// Runs `body` in a child (forked: it shares the fixture) and passes when no expectation
// failed there and no signal ended it. The child's failures are collected and printed
// to its stderr, which the parent shows when the child fails.
void inChild(const std::function<void()>& body) {
  EXPECT_EXIT(
      {
        ::testing::TestPartResultArray results;
        bool failed = false;
        {
          ::testing::ScopedFakeTestPartResultReporter collect(
              ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS, &results);
          body();
        }
        for (int k = 0; k < results.size(); ++k) {
          const ::testing::TestPartResult& r = results.GetTestPartResult(k);
          if (!r.failed()) continue;
          failed = true;
          std::fprintf(stderr, "%s:%d: %s\n", r.file_name() ? r.file_name() : "?", r.line_number(),
                       r.message());
        }
        std::fflush(nullptr);
        _exit(failed ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}
#define IN_CHILD(...) inChild([&] { __VA_ARGS__; })

class Shrink : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test::tempPath(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                           ".aas");
    rewrite();
    auto r = SessionReader::open(path_, {.useIndex = false});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_GT((*r)->frames().size(), 50u);
    ASSERT_GT((*r)->fileSize(), 16u * 4096) << "a cut must leave whole pages past the new end";
  }
  void TearDown() override {
    for (const char* s : {"", "-index", "-index-wal", "-index-shm"}) unlink((path_ + s).c_str());
  }
  // The session, written anew (a case cuts it).
  void rewrite() const {
    WriterOptions opt;
    opt.batchEvents = 40;   // many frames over many pages
    test::writeRandomSession(path_, 4000, 3, opt, 3000);
  }
  // Shrinks the file through a descriptor of its own, as another process would.
  void cut(uint64_t to) const {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t(to)), 0);
    ::close(fd);
  }
  // Events in the frames of `r` that lie wholly before `to`.
  static uint64_t eventsBefore(const SessionReader& r, uint64_t to) {
    uint64_t n = 0;
    for (const auto& f : r.frames())
      if (f.offset + f.length <= to) n += f.count;
    return n;
  }
  // The offset of the first frame of `r` that the cut reaches into.
  static uint64_t firstLost(const SessionReader& r, uint64_t to) {
    for (const auto& f : r.frames())
      if (f.offset + f.length > to) return f.offset;
    return 0;
  }
  static uint64_t countInOrder(const SessionReader& r) {
    uint64_t n = 0;
    Status s = r.forEach({}, [&](schema::Event::Reader e) {
      EXPECT_EQ(e.getSeq(), n) << "events in order, none invented";
      n = e.getSeq() + 1;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.message();
    return n;
  }
  void expectShrinkReported(const SessionReader& r, uint64_t to) const {
    const std::string m = r.damage().message();
    EXPECT_FALSE(r.damage().ok());
    EXPECT_EQ(m.rfind(path_ + ": ", 0), 0u) << m;
    EXPECT_NE(m.find("shrank"), std::string::npos) << m;
    EXPECT_NE(m.find("offset " + std::to_string(firstLost(r, to)) + ": "), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }

  std::string path_;
};

TEST_F(Shrink, TruncatedToHalfWhileOpenKeepsTheFramesBeforeTheCut) {
  for (bool useIndex : {true, false}) {
    SCOPED_TRACE(useIndex ? "index" : "no index");
    rewrite();
    IN_CHILD({
      auto r = SessionReader::open(path_, {.useIndex = useIndex});
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_TRUE((*r)->damage().ok());
      const uint64_t to = (*r)->fileSize() / 2;
      cut(to);
      EXPECT_EQ(countInOrder(**r), eventsBefore(**r, to));
      expectShrinkReported(**r, to);
      EXPECT_EQ((*r)->eventCount(), 4000u) << "what the reader found at open is still listed";
    });
  }
}

TEST_F(Shrink, EveryKindOfCutKeepsExactlyTheWholeFrames) {
  // Where each cut goes, in the frames of the session as written for it.
  const std::vector<std::pair<std::string, std::function<uint64_t(const SessionReader&)>>> cuts = {
      {"to zero", [](const SessionReader&) { return uint64_t(0); }},
      {"into the file header", [](const SessionReader&) { return uint64_t(10); }},
      {"at the first frame", [](const SessionReader& r) { return r.frames()[0].offset; }},
      {"at a frame start", [](const SessionReader& r) { return r.frames()[r.frames().size() / 2].offset; }},
      {"inside a frame", [](const SessionReader& r) { return r.frames()[r.frames().size() / 2].offset + 20; }},
      {"at a page boundary", [](const SessionReader& r) { return (r.fileSize() / 2) & ~uint64_t(4095); }},
      // no page past the end is touched: no fault to notice the cut by
      {"inside the last page", [](const SessionReader& r) {
         return r.frames().back().offset + r.frames().back().length - 3;
       }},
  };
  IN_CHILD({
    for (const auto& [name, where] : cuts) {
      rewrite();
      auto r = SessionReader::open(path_, {.useIndex = false});
      ASSERT_TRUE(r.ok()) << r.status().message();
      const uint64_t to = where(**r);
      SCOPED_TRACE(name + ": cut to " + std::to_string(to));
      cut(to);
      EXPECT_EQ(countInOrder(**r), eventsBefore(**r, to));
      expectShrinkReported(**r, to);
    }
  });
}

// The file shrinks while the reader scans it at open (rebuilding its index): the scan
// stops at the cut, keeps every frame before it, and the next open rebuilds again.
TEST_F(Shrink, ACutDuringTheScanAtOpenEndsTheScanThere) {
  IN_CHILD({
    WriterOptions opt;
    opt.batchEvents = 100;
    test::writeRandomSession(path_, 120000, 5, opt);   // a scan long enough to be reported
    std::vector<FrameInfo> before;
    {
      auto whole = SessionReader::open(path_, {.useIndex = false});
      ASSERT_TRUE(whole.ok()) << whole.status().message();
      before = (*whole)->frames();
    }
    uint64_t to = 0;
    ReaderOptions o;
    o.rebuildIndex = true;
    o.progress = [&](uint64_t done, uint64_t total) {
      if (to == 0 && done + (64u << 10) < total) {   // reported every 50 ms
        to = done + (total - done) / 2;
        cut(to);
      }
    };
    auto r = SessionReader::open(path_, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_NE(to, 0u) << "the scan was never reported before its end: nothing was cut";
    uint64_t kept = 0, firstLost = 0;
    for (const auto& f : before) {
      if (f.offset + f.length <= to) kept += f.count;
      else if (!firstLost) firstLost = f.offset;
    }
    EXPECT_EQ((*r)->eventCount(), kept);
    EXPECT_EQ(countInOrder(**r), kept);
    const std::string m = (*r)->damage().message();
    EXPECT_NE(m.find("offset " + std::to_string(firstLost) + ": the file shrank while being read"),
              std::string::npos) << m;
    r->reset();
    auto again = SessionReader::open(path_);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_TRUE((*again)->indexRebuilt()) << "an index of the longer log was kept";
    EXPECT_EQ((*again)->eventCount(), kept);
  });
}

TEST_F(Shrink, AReaderThatReadEverythingBeforeKeepsItsTablesAndReportsTheCut) {
  IN_CHILD({
    auto r = SessionReader::open(path_);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(countInOrder(**r), 4000u);
    const size_t processes = (*r)->processes().size();
    cut(0);
    // Only the few frames still decoded in memory (read whole before the cut) can be
    // visited again, in order.
    uint64_t again = 0, next = 0;
    Status s = (*r)->forEach({}, [&](schema::Event::Reader e) {
      EXPECT_GE(e.getSeq(), next);
      next = e.getSeq() + 1;
      ++again;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_LE(again, 8u * 40) << "more than the cached frames";
    EXPECT_LE(next, 4000u);
    expectShrinkReported(**r, 0);
    EXPECT_EQ((*r)->processes().size(), processes) << "the index was read at open";
    // aa-session verify names the file and the reason
    auto v = verifySession(**r);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.status().message().find("shrank"), std::string::npos) << v.status().message();
  });
}

TEST_F(Shrink, ReadersOnSeveralThreadsSurviveACut) {
  IN_CHILD({
    auto r = SessionReader::open(path_);
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::atomic<int> started{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&] {
        for (int pass = 0; pass < 3; ++pass) {
          if (pass == 1) started++;
          uint64_t last = 0;
          bool any = false;
          (void)(*r)->forEach({}, [&](schema::Event::Reader e) {
            if (any && e.getSeq() <= last) std::abort();   // out of order: fail loudly
            any = true;
            last = e.getSeq();
            return true;
          });
        }
      });
    }
    while (started < 4) std::this_thread::yield();
    cut((*r)->fileSize() / 3);
    for (auto& t : readers) t.join();
    EXPECT_FALSE((*r)->damage().ok());
    EXPECT_NE((*r)->damage().message().find("shrank"), std::string::npos) << (*r)->damage().message();
  });
}

}  // namespace
}  // namespace aa
