// TlsCapture::onExec for a process that is gone before /proc/PID could be read: the file
// at the exec'd path is examined only if it is still the file that ran (issue: as root,
// never follow a path the agent could have changed).
#include <bpf/bpf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "recorder/fd.h"
#include "recorder/tls_capture.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

// A pid that is certainly gone: a child that exited and was reaped.
uint32_t goneProcess() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return uint32_t(child);
}

ExecutedImage imageOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {path.string(), (uint64_t(major(st.st_dev)) << 20) | minor(st.st_dev), st.st_ino};
}

// The probe-report lines naming `path`.
std::vector<ProbeStatusInfo> reportOn(const TlsCapture& capture, const std::string& path) {
  std::vector<ProbeStatusInfo> out;
  for (const ProbeStatusInfo& r : capture.probeReport())
    if (r.name.find(path) != std::string::npos) out.push_back(r);
  return out;
}

class TlsExecImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF, attaches uprobes)";
    for (const char* p : {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/aarch64-linux-gnu/libssl.so.3"})
      if (fs::exists(p)) libssl_ = p;
    if (libssl_.empty()) GTEST_SKIP() << "needs the system libssl.so.3";
    pids_.reset(bpf_map_create(BPF_MAP_TYPE_HASH, "traced_pids", 4, 4, 64, nullptr));
    ring_.reset(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, 1 << 20, nullptr));
    ASSERT_GE(pids_.get(), 0) << std::strerror(errno);
    ASSERT_GE(ring_.get(), 0) << std::strerror(errno);
    auto capture = TlsCapture::create(pids_.get(), ring_.get(), TlsOptions{});
    ASSERT_TRUE(capture.ok()) << capture.status().message();
    capture_ = std::move(*capture);
    dir_ = fs::temp_directory_path() / ("aa-exec-image-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    capture_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A copy of libssl (a new inode, so not the system file create() already hooked).
  fs::path copyOfLibssl(const std::string& name) {
    const fs::path p = dir_ / name;
    fs::copy_file(libssl_, p);
    return p;
  }

  std::string libssl_;
  Fd pids_, ring_;
  std::unique_ptr<TlsCapture> capture_;
  fs::path dir_;
};

TEST_F(TlsExecImageTest, TheFileThatRanIsExamined) {
  const fs::path lib = copyOfLibssl("ran.so");
  capture_->onExec(goneProcess(), imageOf(lib));
  bool hooked = false;
  for (const ProbeStatusInfo& r : reportOn(*capture_, lib.string()))
    hooked |= r.ok && r.name.find("SSL_write@") == 0;
  EXPECT_TRUE(hooked) << "the exec'd file, unchanged, should be hooked";
}

TEST_F(TlsExecImageTest, AFilePutInItsPlaceIsNotExamined) {
  const fs::path ran = copyOfLibssl("ran.so");
  const ExecutedImage image = imageOf(ran);
  // the agent replaces the file at that path after the exec
  fs::rename(copyOfLibssl("new.so"), ran);
  ASSERT_NE(imageOf(ran).ino, image.ino);
  capture_->onExec(goneProcess(), image);
  const auto lines = reportOn(*capture_, ran.string());
  ASSERT_EQ(lines.size(), 1u) << "one line saying why it was not examined";
  EXPECT_FALSE(lines[0].ok);
  EXPECT_NE(lines[0].error.find("no longer the one pid"), std::string::npos) << lines[0].error;
}

TEST_F(TlsExecImageTest, ASymlinkToAnotherFileIsNotFollowedIntoIt) {
  const fs::path ran = copyOfLibssl("ran.so");
  const ExecutedImage image = imageOf(ran);
  const fs::path other = copyOfLibssl("other.so");
  fs::remove(ran);
  fs::create_symlink(other, ran);
  capture_->onExec(goneProcess(), image);
  EXPECT_TRUE(reportOn(*capture_, other.string()).empty()) << "the symlink's target was examined";
  const auto lines = reportOn(*capture_, ran.string());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].ok);
}

TEST_F(TlsExecImageTest, AFifoInItsPlaceDoesNotBlock) {
  const fs::path ran = copyOfLibssl("ran.so");
  const ExecutedImage image = imageOf(ran);
  fs::remove(ran);
  ASSERT_EQ(::mkfifo(ran.c_str(), 0600), 0);
  capture_->onExec(goneProcess(), image);  // returns: the FIFO is never opened for reading
  const auto lines = reportOn(*capture_, ran.string());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].ok);
}

}  // namespace
}  // namespace aa
