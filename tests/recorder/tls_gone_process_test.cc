// TlsCapture and processes that are gone before the recorder reads /proc/PID:
// - onExec: the file at the exec'd path is examined only if it is still the file that
//   ran (as root, never follow a path the agent could have changed);
// - a library reported mapped by a process that exited before its maps were read is
//   examined when the next process maps it, not marked done unexamined.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "recorder/fd.h"
#include "recorder/tls_capture.h"
#include "store/session_writer.h"

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

class TlsGoneProcessTest : public ::testing::Test {
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
    dir_ = fs::temp_directory_path() / ("aa-gone-process-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    capture_.reset();
    if (writer_) (void)writer_->close();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A copy of libssl (a new inode, so not the system file create() already hooked).
  fs::path copyOfLibssl(const std::string& name) {
    const fs::path p = dir_ / name;
    fs::copy_file(libssl_, p);
    return p;
  }

  // A traced child that maps `lib` executable, then exits at once or, with `stay`,
  // when `release` is closed. Returns its pid.
  pid_t mapInChild(const fs::path& lib, bool stay, Fd* release) {
    int go[2], hold[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(hold, O_CLOEXEC) != 0) return -1;
    const pid_t child = ::fork();
    if (child == 0) {
      char c;
      ::close(go[1]);
      ::close(hold[1]);
      if (::read(go[0], &c, 1) != 1) ::_exit(1);
      const int fd = ::open(lib.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)
        ::_exit(2);
      if (stay) (void)::read(hold[0], &c, 1);
      ::_exit(0);
    }
    ::close(go[0]);
    ::close(hold[0]);
    const uint32_t key = uint32_t(child), one = 1;
    bpf_map_update_elem(pids_.get(), &key, &one, BPF_ANY);
    if (::write(go[1], "g", 1) != 1) ADD_FAILURE() << "cannot release the child";
    ::close(go[1]);
    release->reset(hold[1]);
    return child;
  }

  // Hands every record the kernel side wrote so far (up to `wait` for the first) to
  // the capture; returns how many.
  int drain(std::chrono::milliseconds wait) {
    if (!writer_) {
      SessionHeaderInfo header;
      header.target = "command";
      auto w = SessionWriter::create((dir_ / "s.aas").string(), header);
      EXPECT_TRUE(w.ok()) << w.status().message();
      if (!w.ok()) return 0;
      writer_ = std::move(*w);
    }
    struct Ctx {
      TlsCapture* capture;
      SessionWriter* writer;
      int n;
    } ctx{capture_.get(), writer_.get(), 0};
    ring_buffer* ring = ring_buffer__new(
        ring_.get(),
        [](void* p, void* data, size_t size) {
          auto* c = static_cast<Ctx*>(p);
          c->capture->decode(data, size, *c->writer);
          ++c->n;
          return 0;
        },
        &ctx, nullptr);
    if (!ring) return 0;
    ring_buffer__poll(ring, int(wait.count()));
    ring_buffer__consume(ring);
    ring_buffer__free(ring);
    return ctx.n;
  }

  std::string libssl_;
  Fd pids_, ring_;
  std::unique_ptr<SessionWriter> writer_;
  std::unique_ptr<TlsCapture> capture_;
  fs::path dir_;
};

TEST_F(TlsGoneProcessTest, TheFileThatRanIsExamined) {
  const fs::path lib = copyOfLibssl("ran.so");
  capture_->onExec(goneProcess(), imageOf(lib));
  bool hooked = false;
  for (const ProbeStatusInfo& r : reportOn(*capture_, lib.string()))
    hooked |= r.ok && r.name.find("SSL_write@") == 0;
  EXPECT_TRUE(hooked) << "the exec'd file, unchanged, should be hooked";
}

TEST_F(TlsGoneProcessTest, AFilePutInItsPlaceIsNotExamined) {
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

TEST_F(TlsGoneProcessTest, ASymlinkToAnotherFileIsNotFollowedIntoIt) {
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

TEST_F(TlsGoneProcessTest, AFifoInItsPlaceDoesNotBlock) {
  const fs::path ran = copyOfLibssl("ran.so");
  const ExecutedImage image = imageOf(ran);
  fs::remove(ran);
  ASSERT_EQ(::mkfifo(ran.c_str(), 0600), 0);
  capture_->onExec(goneProcess(), image);  // returns: the FIFO is never opened for reading
  const auto lines = reportOn(*capture_, ran.string());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].ok);
}

TEST_F(TlsGoneProcessTest, ALibraryMappedByAProcessThatIsGoneIsExaminedWhenMappedAgain) {
  const fs::path lib = copyOfLibssl("late.so");
  Fd release;
  // the first process maps it and exits before the recorder reads its maps
  const pid_t first = mapInChild(lib, /*stay=*/false, &release);
  ASSERT_GT(first, 0);
  int status = 0;
  ::waitpid(first, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not map " << lib;
  ASSERT_EQ(drain(std::chrono::milliseconds(1000)), 1) << "one mmap report";
  bool named = false;
  for (const ProbeStatusInfo& r : capture_->probeReport())
    named |= !r.ok && r.error.find("not examined: 1 process mapped it executable and was gone") == 0;
  EXPECT_TRUE(named) << "the unexamined file is not named in the probe report";

  // the next process that maps it is reported, and the file examined and hooked
  const pid_t second = mapInChild(lib, /*stay=*/true, &release);
  ASSERT_GT(second, 0);
  EXPECT_EQ(drain(std::chrono::milliseconds(2000)), 1) << "the second mapping was not reported";
  release.reset();
  ::waitpid(second, &status, 0);
  bool hooked = false;
  for (const ProbeStatusInfo& r : reportOn(*capture_, lib.string()))
    hooked |= r.ok && r.name.find("SSL_write@") == 0;
  EXPECT_TRUE(hooked) << "the library was never examined";
  for (const ProbeStatusInfo& r : capture_->probeReport())
    EXPECT_EQ(r.error.find("not examined: "), std::string::npos) << "still named unexamined: " << r.name;
}

}  // namespace
}  // namespace aa
