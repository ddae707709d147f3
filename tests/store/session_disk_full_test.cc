// A full disk while recording (a 2 MiB tmpfs): the writer reports the error, truncates
// the file back to its last whole frame, appends a footer there when it fits and removes
// the index files; the session then reads back whole, without damage. Needs root (mount).
//
// The tmpfs is mounted in a child process, in a mount namespace of its own, over /tmp
// (so the child sees a private /tmp, and nothing is created on the host): when the
// test is killed (a ctest timeout), the child dies with it (PR_SET_PDEATHSIG) and its
// namespace takes the mount along. Nothing is ever left mounted.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "random_events.h"
#include "store/session_reader.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

constexpr int kCannotMount = 77;

// Runs `body(dir)` in a child whose /tmp is a private 2 MiB tmpfs. The child's failed
// expectations are reported here; a child that cannot mount makes the test skip.
void onFullDisk(const std::function<void(const std::string&)>& body) {
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    ::close(out[0]);
    auto say = [&](const std::string& m) { (void)!::write(out[1], m.data(), m.size()); };
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // a new mount namespace; private, so that nothing mounted here propagates back
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      say(std::string("cannot make a private mount namespace: ") + strerror(errno));
      _exit(kCannotMount);
    }
    if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=2m,mode=0700") != 0) {
      say(std::string("cannot mount a tmpfs: ") + strerror(errno));
      _exit(kCannotMount);
    }
    ::testing::TestPartResultArray results;
    {
      ::testing::ScopedFakeTestPartResultReporter collect(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS, &results);
      body("/tmp");
    }
    bool failed = false;
    for (int k = 0; k < results.size(); ++k) {
      const ::testing::TestPartResult& r = results.GetTestPartResult(k);
      if (!r.failed()) continue;
      failed = true;
      say(std::string(r.file_name() ? r.file_name() : "?") + ":" + std::to_string(r.line_number()) +
          ": " + r.message() + "\n");
    }
    _exit(failed ? 1 : 0);
  }
  ::close(out[1]);
  std::string said;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) said.append(buf, size_t(n));
  ::close(out[0]);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  if (WIFEXITED(st) && WEXITSTATUS(st) == kCannotMount) GTEST_SKIP() << said;
  ASSERT_TRUE(WIFEXITED(st)) << "the child died of signal " << WTERMSIG(st) << "\n" << said;
  EXPECT_EQ(WEXITSTATUS(st), 0) << said;
}

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts a 2 MiB tmpfs";
  }
};

void fillUntilFull(SessionWriter& w, uint64_t maxEvents) {
  test::RandomEvents gen(9);
  std::mt19937 rng(1);
  for (uint64_t i = 0; i < maxEvents && w.error().ok(); ++i) {
    auto e = w.append();
    gen.fill(e);
    // Incompressible bytes, so the disk fills after a few hundred frames.
    std::string junk(512, '\0');
    for (char& c : junk) c = char(rng());
    e.initFileOpen().setPath(test::bytes("/tmp/" + junk));
    if (i % 200 == 199) (void)w.flush();
  }
  // The recorder goes on decoding what is in its ring after the error: appends and
  // flushes must stay harmless (they once freed a batch twice).
  for (int i = 0; i < 3000; ++i) {
    gen.fill(w.append());
    if (i % 500 == 0) (void)w.flush();
  }
}

TEST_F(DiskFull, FileEndsAtTheLastWholeFrameWithAFooterAndNoIndexFiles) {
  onFullDisk([](const std::string& dir) {
    for (bool uring : {true, false}) {
      SCOPED_TRACE(uring ? "io_uring" : "pwrite");
      std::string path = dir + "/full.aas";
      WriterOptions opt;
      opt.useIoUring = uring;
      opt.batchEvents = 100;
      auto w = SessionWriter::create(path, {}, opt);
      ASSERT_TRUE(w.ok()) << w.status().message();
      fillUntilFull(**w, 200000);
      ASSERT_FALSE((*w)->error().ok()) << "2 MiB must fill up";
      Status closed = (*w)->close({});
      ASSERT_FALSE(closed.ok());
      EXPECT_NE(closed.message().find("No space left"), std::string::npos) << closed.message();
      const WriterStats& st = (*w)->stats();
      EXPECT_GT(st.keptEvents, 0u);
      EXPECT_EQ(st.keptBytes, fs::file_size(path));
      for (const char* suffix : {"-index", "-index-wal", "-index-shm"})
        EXPECT_FALSE(fs::exists(path + suffix)) << suffix << " left behind";

      auto r = SessionReader::open(path, {.useIndex = false});
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_TRUE((*r)->damage().ok()) << "no partial frame: " << (*r)->damage().message();
      EXPECT_EQ((*r)->eventCount(), st.keptEvents);
      if (st.footerAfterError) {
        ASSERT_TRUE((*r)->footer().has_value());
        EXPECT_FALSE((*r)->footer()->cleanStop);
        EXPECT_EQ((*r)->footer()->eventCount, st.keptEvents);
      }
      w->reset();
      r->reset();
      fs::remove(path);
    }
  });
}

}  // namespace
}  // namespace aa
