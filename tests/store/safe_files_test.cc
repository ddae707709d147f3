// The writer and the reader may run as root on paths someone else controls: they
// never follow a planted symlink, never touch a device, FIFO or directory given as a
// session, never block on a FIFO, and a second writer never destroys the first.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/sysmacros.h>   // makedev (macOS: sys/types.h)
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "store/private_file.h"
#include "store/session_reader.h"
#include "store/session_writer.h"

namespace fs = std::filesystem;

namespace aa {
namespace {

class SafeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aa-safe-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static void writeFile(const std::string& p, const std::string& text) {
    std::ofstream(p) << text;
  }
  static std::string readFile(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static SessionHeaderInfo header() {
    SessionHeaderInfo h;
    h.target = "test";
    return h;
  }
  static void appendOne(SessionWriter& w, uint32_t pid) {
    auto e = w.append();
    e.setTNs(1000 + pid);
    e.setPid(pid);
    e.initFork().setChildPid(pid + 1);
  }

  fs::path dir_;
};

// Runs `body` in a child with a time limit; returns its exit status, or -1 when it had
// to be killed (it blocked).
int runWithTimeout(const std::function<int()>& body, int seconds = 5) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(unsigned(seconds) + 5);  // a safety net if the parent dies
    _exit(body());
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int st = 0;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST_F(SafeFiles, PlantedSymlinkIsRefusedAndItsTargetUntouched) {
  const std::string victim = path("victim");
  writeFile(victim, "precious\n");
  chmod(victim.c_str(), 0644);
  const std::string out = path("s.aas");
  ASSERT_EQ(symlink(victim.c_str(), out.c_str()), 0);
  auto w = SessionWriter::create(out, header());
  ASSERT_FALSE(w.ok()) << "wrote through a symlink";
  EXPECT_NE(w.status().message().find("symbolic link"), std::string::npos) << w.status().message();
  EXPECT_EQ(readFile(victim), "precious\n");
  struct stat st{};
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(SafeFiles, DanglingSymlinkCreatesNothing) {
  const std::string target = path("elsewhere");
  const std::string out = path("s.aas");
  ASSERT_EQ(symlink(target.c_str(), out.c_str()), 0);
  auto w = SessionWriter::create(out, header());
  EXPECT_FALSE(w.ok());
  EXPECT_FALSE(fs::exists(target)) << "created the symlink's target";
}

TEST_F(SafeFiles, SymlinkedIndexFilesAreNotFollowed) {
  const std::string out = path("s.aas");
  std::vector<std::string> victims;
  for (const char* suffix : {"-index", "-index-wal", "-index-shm", "-index-journal"}) {
    std::string v = path(std::string("victim") + suffix);
    writeFile(v, "precious\n");
    ASSERT_EQ(symlink(v.c_str(), (out + suffix).c_str()), 0);
    victims.push_back(v);
  }
  {
    auto w = SessionWriter::create(out, header());
    ASSERT_TRUE(w.ok()) << w.status().message();
    appendOne(**w, 1);
    ASSERT_TRUE((*w)->close().ok());
    EXPECT_EQ((*w)->stats().indexError, "");
  }
  for (const auto& v : victims) EXPECT_EQ(readFile(v), "precious\n") << v;
  EXPECT_FALSE(fs::is_symlink(out + "-index"));
  auto r = SessionReader::open(out);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->eventCount(), 1u);
}

TEST_F(SafeFiles, SwappedDirectoryDoesNotRedirectTheIndexCleanup) {
  // The writer's directory is moved away during the recording and a symlink to
  // another directory put in its place: what the writer removes at its close (the
  // index's -wal and -shm) must go from the directory it started in.
  fs::create_directory(dir_ / "real");
  fs::create_directory(dir_ / "other");
  const std::string out = (dir_ / "real" / "s.aas").string();
  auto w = SessionWriter::create(out, header());
  ASSERT_TRUE(w.ok()) << w.status().message();
  appendOne(**w, 1);
  ASSERT_TRUE((*w)->flush().ok());
  fs::rename(dir_ / "real", dir_ / "moved");
  std::vector<std::string> victims;
  for (const char* suffix : {"-index-wal", "-index-shm"}) {
    victims.push_back((dir_ / "other" / (std::string("s.aas") + suffix)).string());
    writeFile(victims.back(), "precious\n");
  }
  fs::create_directory_symlink(dir_ / "other", dir_ / "real");
  appendOne(**w, 2);
  ASSERT_TRUE((*w)->close().ok());
  w = Status::error("closed");   // destroys the writer
  for (const auto& v : victims) EXPECT_EQ(readFile(v), "precious\n") << v << " was removed or changed";
  EXPECT_FALSE(fs::exists(dir_ / "moved" / "s.aas-index-wal")) << "the writer's own -wal stays";
  auto r = SessionReader::open((dir_ / "moved" / "s.aas").string());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->eventCount(), 2u);
}

TEST_F(SafeFiles, FifoAsOutputIsRefusedWithoutBlocking) {
  const std::string out = path("s.aas");
  ASSERT_EQ(mkfifo(out.c_str(), 0644), 0);
  int rc = runWithTimeout([&] {
    auto w = SessionWriter::create(out, header());
    if (w.ok()) return 1;
    return w.status().message().find("FIFO") != std::string::npos ? 0 : 2;
  });
  EXPECT_NE(rc, -1) << "creating a session on a FIFO blocked";
  EXPECT_EQ(rc, 0) << "not refused as a FIFO";
  struct stat st{};
  ASSERT_EQ(lstat(out.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "the FIFO's mode changed";
}

TEST_F(SafeFiles, DirectoryAsOutputIsRefused) {
  const std::string out = path("s.aas");
  fs::create_directory(out);
  auto w = SessionWriter::create(out, header());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("directory"), std::string::npos) << w.status().message();
}

TEST_F(SafeFiles, DeviceNodeAsOutputIsRefusedUntouched) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mknod of a character device";
  // A copy of /dev/null's node (c 1 3): the real one must never be at risk in a test.
  const std::string out = path("null");
  ASSERT_EQ(mknod(out.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << strerror(errno);
  chmod(out.c_str(), 0666);
  WriterOptions o;
  o.ownerUid = 65534;
  o.ownerGid = 65534;
  auto w = SessionWriter::create(out, header(), o);
  EXPECT_FALSE(w.ok()) << "a device node was taken as a session";
  if (!w.ok()) {
    EXPECT_NE(w.status().message().find("device"), std::string::npos) << w.status().message();
  }
  struct stat st{};
  ASSERT_EQ(lstat(out.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u) << "the device's mode changed";
  EXPECT_EQ(st.st_uid, 0u) << "the device changed owner";
}

TEST_F(SafeFiles, SecondWriterDoesNotDestroyTheFirst) {
  const std::string out = path("s.aas");
  auto first = SessionWriter::create(out, header());
  ASSERT_TRUE(first.ok()) << first.status().message();
  appendOne(**first, 1);
  ASSERT_TRUE((*first)->flush().ok());
  const auto sizeBefore = fs::file_size(out);

  auto second = SessionWriter::create(out, header());   // default: replace
  ASSERT_FALSE(second.ok()) << "a second writer took a live session";
  EXPECT_NE(second.status().message().find("another recorder"), std::string::npos)
      << second.status().message();
  EXPECT_GE(fs::file_size(out), sizeBefore) << "the live session was truncated";

  appendOne(**first, 2);
  ASSERT_TRUE((*first)->close().ok());
  auto r = SessionReader::open(out);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE((*r)->damage().ok()) << (*r)->damage().message();
  EXPECT_EQ((*r)->eventCount(), 2u);
  EXPECT_TRUE((*r)->footer().has_value());
}

TEST_F(SafeFiles, ExistingFileIsRefusedWhenAskedAndKeptWhole) {
  const std::string out = path("s.aas");
  writeFile(out, "an older session\n");
  WriterOptions o;
  o.existing = ExistingFile::kRefuse;
  auto w = SessionWriter::create(out, header(), o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("exists"), std::string::npos) << w.status().message();
  EXPECT_EQ(readFile(out), "an older session\n");
}

TEST_F(SafeFiles, HardLinkedFileIsNotReplaced) {
  const std::string other = path("other");
  writeFile(other, "precious\n");
  const std::string out = path("s.aas");
  ASSERT_EQ(link(other.c_str(), out.c_str()), 0);
  auto w = SessionWriter::create(out, header());
  ASSERT_FALSE(w.ok()) << "replaced a file with another name";
  EXPECT_NE(w.status().message().find("hard link"), std::string::npos) << w.status().message();
  EXPECT_EQ(readFile(other), "precious\n");
}

// Replacing never rewrites the old file in place: a reader holding it keeps a whole
// session (it once died of SIGBUS when the file was truncated under its mapping).
TEST_F(SafeFiles, ReplacedSessionIsANewFileAndReadersKeepTheOldOne) {
  const std::string out = path("s.aas");
  {
    auto w = SessionWriter::create(out, header());
    ASSERT_TRUE(w.ok()) << w.status().message();
    for (uint32_t pid = 1; pid <= 50; ++pid) appendOne(**w, pid);
    ASSERT_TRUE((*w)->close().ok());
  }
  struct stat before{};
  ASSERT_EQ(stat(out.c_str(), &before), 0);
  auto old = SessionReader::open(out, {.useIndex = false});
  ASSERT_TRUE(old.ok()) << old.status().message();

  auto w = SessionWriter::create(out, header());   // default: replace
  ASSERT_TRUE(w.ok()) << w.status().message();
  appendOne(**w, 7);
  ASSERT_TRUE((*w)->close().ok());

  struct stat after{};
  ASSERT_EQ(stat(out.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "the old file was rewritten in place";
  EXPECT_EQ(after.st_mode & 0777, 0600u);
  uint64_t n = 0;
  ASSERT_TRUE((*old)->forEach({}, [&](auto) { return ++n, true; }).ok());
  EXPECT_EQ(n, 50u) << "the reader of the old session lost events";
  EXPECT_TRUE((*old)->damage().ok()) << (*old)->damage().message();
  auto now = SessionReader::open(out);
  ASSERT_TRUE(now.ok()) << now.status().message();
  EXPECT_EQ((*now)->eventCount(), 1u);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".new."), std::string::npos) << e.path() << " left behind";
}

TEST_F(SafeFiles, AReplacementNeverCommittedLeavesTheOldFileAndNothingElse) {
  const std::string out = path("s.aas");
  writeFile(out, "an older session\n");
  PrivateFileOptions o;
  o.existing = ExistingFile::kReplace;
  o.lock = true;
  {
    auto f = NewPrivateFile::create(out, o);
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_TRUE(f->replacing());
    EXPECT_EQ(readFile(out), "an older session\n") << "replaced before commit()";
    ASSERT_EQ(::write(f->fd(), "new", 3), 3);
  }   // the recording never started
  EXPECT_EQ(readFile(out), "an older session\n");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) (void)e, ++files;
  EXPECT_EQ(files, 1u) << "the new file was left beside the old one";
}

// Between create() and commit() (the probes load meanwhile) the recorded command may
// swap the name for a symlink or another file: that name is not replaced, and what it
// points to is not touched.
TEST_F(SafeFiles, ANameSwappedBeforeCommitIsNotReplaced) {
  const std::string out = path("s.aas");
  const std::string victim = path("victim");
  writeFile(out, "an older session\n");
  writeFile(victim, "precious\n");
  PrivateFileOptions o;
  o.existing = ExistingFile::kReplace;
  for (bool symlinkSwap : {true, false}) {
    SCOPED_TRACE(symlinkSwap ? "a symlink" : "another file");
    {
      auto f = NewPrivateFile::create(out, o);
      ASSERT_TRUE(f.ok()) << f.status().message();
      const std::string planted = path("planted");
      if (symlinkSwap) {
        ASSERT_EQ(symlink(victim.c_str(), planted.c_str()), 0);
      } else {
        writeFile(planted, "someone else's\n");
      }
      ASSERT_EQ(rename(planted.c_str(), out.c_str()), 0);
      Status s = f->commit();
      ASSERT_FALSE(s.ok()) << "replaced a name that no longer held the checked file";
      EXPECT_NE(s.message().find("changed before it could be replaced"), std::string::npos) << s.message();
      struct stat st{};
      ASSERT_EQ(lstat(out.c_str(), &st), 0);
      EXPECT_EQ(S_ISLNK(st.st_mode), symlinkSwap) << "what was planted is still there";
      if (!symlinkSwap) {
        EXPECT_EQ(readFile(out), "someone else's\n");
      }
      EXPECT_EQ(readFile(victim), "precious\n");
    }   // the uncommitted new file is removed
    ::unlink(out.c_str());
    writeFile(out, "an older session\n");
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) (void)e, ++files;
  EXPECT_EQ(files, 2u) << "the session and the victim, nothing else";
}

TEST_F(SafeFiles, ReplacedSessionGetsPrivateModeOnEveryFile) {
  const std::string out = path("s.aas");
  writeFile(out, "old");
  chmod(out.c_str(), 0666);
  writeFile(out + "-index", "old index");
  chmod((out + "-index").c_str(), 0666);
  auto w = SessionWriter::create(out, header());
  ASSERT_TRUE(w.ok()) << w.status().message();
  appendOne(**w, 1);
  ASSERT_TRUE((*w)->flush().ok());
  for (const char* suffix : {"", "-index", "-index-wal", "-index-shm"}) {
    struct stat st{};
    if (lstat((out + suffix).c_str(), &st) != 0) continue;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
  ASSERT_TRUE((*w)->close().ok());
}

TEST_F(SafeFiles, EveryIndexFileBelongsToTheOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: fchown to another user";
  const std::string out = path("s.aas");
  WriterOptions o;
  o.ownerUid = 65534;
  o.ownerGid = 65534;
  auto w = SessionWriter::create(out, header(), o);
  ASSERT_TRUE(w.ok()) << w.status().message();
  appendOne(**w, 1);
  ASSERT_TRUE((*w)->flush().ok());
  int seen = 0;
  for (const char* suffix : {"", "-index", "-index-wal", "-index-shm"}) {
    struct stat st{};
    if (lstat((out + suffix).c_str(), &st) != 0) continue;
    ++seen;
    EXPECT_EQ(st.st_uid, 65534u) << suffix;
    EXPECT_EQ(st.st_gid, 65534u) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
  EXPECT_GE(seen, 3) << "the log, the index and its WAL exist while recording";
  ASSERT_TRUE((*w)->close().ok());
}

TEST_F(SafeFiles, ReaderRefusesFifoWithOneLineAndDoesNotBlock) {
  const std::string fifo = path("f.aas");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int rc = runWithTimeout([&] {
    auto r = SessionReader::open(fifo);
    if (r.ok()) return 1;
    const std::string& m = r.status().message();
    return m.find("FIFO") != std::string::npos && m.find('\n') == std::string::npos ? 0 : 2;
  });
  EXPECT_NE(rc, -1) << "SessionReader::open blocked on a FIFO";
  EXPECT_EQ(rc, 0);
}

TEST_F(SafeFiles, FifoPlantedAsTheIndexDoesNotHangTheReader) {
  const std::string out = path("s.aas");
  {
    auto w = SessionWriter::create(out, header());
    ASSERT_TRUE(w.ok()) << w.status().message();
    appendOne(**w, 1);
    ASSERT_TRUE((*w)->close().ok());
  }
  for (const char* suffix : {"-index", "-index-wal", "-index-shm"}) {
    for (const char* s : {"-index", "-index-wal", "-index-shm"}) unlink((out + s).c_str());
    ASSERT_EQ(mkfifo((out + suffix).c_str(), 0644), 0);
    int rc = runWithTimeout([&] {
      auto r = SessionReader::open(out);
      return r.ok() && (*r)->eventCount() == 1 ? 0 : 1;
    });
    EXPECT_NE(rc, -1) << "a FIFO as " << suffix << " made the reader block";
    EXPECT_EQ(rc, 0) << suffix;
    struct stat st{};
    EXPECT_EQ(lstat((out + suffix).c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the planted " << suffix << " was replaced";
  }
}

TEST_F(SafeFiles, ReaderRefusesDevicesAndDirectories) {
  auto dev = SessionReader::open("/dev/null");
  ASSERT_FALSE(dev.ok());
  EXPECT_NE(dev.status().message().find("character device"), std::string::npos)
      << dev.status().message();
  auto d = SessionReader::open(dir_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("directory"), std::string::npos) << d.status().message();
}

}  // namespace
}  // namespace aa
