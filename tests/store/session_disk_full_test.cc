// A full disk while recording (a 2 MiB tmpfs): the writer reports the error, truncates
// the file back to its last whole frame, appends a footer there when it fits and removes
// the index files; the session then reads back whole, without damage. Needs root (mount).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "random_events.h"
#include "store/session_reader.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts a 2 MiB tmpfs";
    char tmpl[] = "/tmp/aa-diskfull-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=2m") != 0) {
      std::string why = strerror(errno);
      rmdir(dir_.c_str());
      dir_.clear();
      GTEST_SKIP() << "cannot mount a tmpfs: " << why;
    }
  }
  void TearDown() override {
    if (dir_.empty()) return;
    umount2(dir_.c_str(), MNT_DETACH);
    rmdir(dir_.c_str());
  }
  std::string dir_;
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
  for (bool uring : {true, false}) {
    SCOPED_TRACE(uring ? "io_uring" : "pwrite");
    std::string path = dir_ + "/full.aas";
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
}

}  // namespace
}  // namespace aa
