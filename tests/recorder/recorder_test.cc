// End-to-end tests of aa-record: real probes, real workloads, sessions read back with
// SessionReader. Need root (BPF); skip with the reason otherwise.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/recorder/record_util.h"

namespace fs = std::filesystem;
using aa::Kind;
using aa::test::Ev;

namespace {

const std::string kWorkload = AA_TEST_WORKLOAD;

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF programs";
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "needs kernel BTF";
    // A real directory (not a symlink) so that kernel-walked paths equal ours.
    dir_ = fs::canonical(fs::temp_directory_path()) /
           ("aa-rec-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Records `command` with `options`; returns aa-record's exit status.
  int record(std::vector<std::string> options, const std::vector<std::string>& command,
             const std::string& name = "s.aas") {
    session_ = (dir_ / name).string();
    options.insert(options.begin(), {"-q", "-o", session_});
    options.push_back("--");
    options.insert(options.end(), command.begin(), command.end());
    return aa::test::runRecorder(options);
  }

  std::vector<Ev> events() {
    auto reader = aa::SessionReader::open(session_);
    EXPECT_TRUE(reader.ok()) << reader.status().message();
    if (!reader.ok()) return {};
    EXPECT_TRUE((*reader)->damage().ok()) << (*reader)->damage().message();
    EXPECT_TRUE((*reader)->footer().has_value()) << "no footer: recording did not stop cleanly";
    return aa::test::readEvents(**reader);
  }

  static std::vector<Ev> ofKind(const std::vector<Ev>& evs, Kind k) {
    std::vector<Ev> out;
    for (const auto& e : evs)
      if (e.kind == k) out.push_back(e);
    return out;
  }
  static const Ev* find(const std::vector<Ev>& evs, Kind k, const std::string& path) {
    for (const auto& e : evs)
      if (e.kind == k && e.path == path) return &e;
    return nullptr;
  }

  fs::path dir_;
  std::string session_;
};

TEST_F(RecorderTest, ExecTreeWithArgvAndExitCodes) {
  int status = record({}, {"/bin/sh", "-c", "/bin/true a1; /bin/false b2 c3; /bin/sh -c 'exit 7'; exit 5"});
  EXPECT_EQ(status, 5) << "aa-record exits with the command's status";
  auto evs = events();
  auto execs = ofKind(evs, Kind::kExec);
  ASSERT_EQ(execs.size(), 4u);
  EXPECT_EQ(execs[0].argv.front(), "/bin/sh");
  EXPECT_EQ(execs[1].path, "/usr/bin/true");
  EXPECT_EQ(execs[1].argv, (std::vector<std::string>{"/bin/true", "a1"}));
  EXPECT_EQ(execs[2].path, "/usr/bin/false");
  EXPECT_EQ(execs[2].argv, (std::vector<std::string>{"/bin/false", "b2", "c3"}));
  EXPECT_EQ(execs[3].argv, (std::vector<std::string>{"/bin/sh", "-c", "exit 7"}));
  for (size_t i = 1; i < execs.size(); ++i) EXPECT_EQ(execs[i].ppid, execs[0].pid);

  std::map<uint32_t, int> exitByPid;
  for (const auto& e : ofKind(evs, Kind::kExit)) exitByPid[e.pid] = e.exitCode;
  ASSERT_EQ(exitByPid.size(), 4u);
  EXPECT_EQ(exitByPid[execs[0].pid], 5);
  EXPECT_EQ(exitByPid[execs[1].pid], 0);
  EXPECT_EQ(exitByPid[execs[2].pid], 1);
  EXPECT_EQ(exitByPid[execs[3].pid], 7);
  auto forks = ofKind(evs, Kind::kFork);
  EXPECT_EQ(forks.size(), 3u);
  for (const auto& f : forks) EXPECT_EQ(f.pid, execs[0].pid);
}

TEST_F(RecorderTest, FileCreateWriteRenameUnlink) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {kWorkload, "files", d}), 0);
  auto evs = events();

  const Ev* open = find(evs, Kind::kFileOpen, d + "/a.txt");
  ASSERT_NE(open, nullptr);
  EXPECT_GE(open->ret, 0);
  EXPECT_EQ(open->flags & (O_CREAT | O_WRONLY | O_TRUNC), unsigned(O_CREAT | O_WRONLY | O_TRUNC));
  EXPECT_EQ(open->mode, 0644u);
  const Ev* close = find(evs, Kind::kFileClose, d + "/a.txt");
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->bytesWritten, 100u);
  EXPECT_EQ(close->writes, 2u);
  EXPECT_EQ(close->bytesRead, 0u);
  EXPECT_EQ(close->reason, aa::schema::CloseReason::EXPLICIT);

  const Ev* rename = find(evs, Kind::kFileRename, d + "/a.txt");
  ASSERT_NE(rename, nullptr);
  EXPECT_EQ(rename->path2, d + "/b.txt");
  EXPECT_EQ(rename->ret, 0);
  ASSERT_NE(find(evs, Kind::kFileUnlink, d + "/b.txt"), nullptr);

  // openat relative to a directory fd
  ASSERT_NE(find(evs, Kind::kFileMkdir, d + "/sub"), nullptr);
  const Ev* c = find(evs, Kind::kFileClose, d + "/sub/c.txt");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->bytesWritten, 5u);
  ASSERT_NE(find(evs, Kind::kFileUnlink, d + "/sub/c.txt"), nullptr);
  ASSERT_NE(find(evs, Kind::kFileRmdir, d + "/sub"), nullptr);
  // directories are not files: no open event for the dirfd
  EXPECT_EQ(find(evs, Kind::kFileOpen, d + "/sub"), nullptr);

  // written through a dup2'd fd, closed through it
  const Ev* dd = find(evs, Kind::kFileClose, d + "/d.txt");
  ASSERT_NE(dd, nullptr);
  EXPECT_EQ(dd->bytesWritten, 10u);
  EXPECT_EQ(dd->fd, 7);
  ASSERT_NE(find(evs, Kind::kFileTruncate, d + "/d.txt"), nullptr);
  const Ev* ch = find(evs, Kind::kFileChmod, d + "/d.txt");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->mode, 0600u);

  const Ev* missing = find(evs, Kind::kFileOpen, d + "/missing.txt");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->ret, -ENOENT);
  EXPECT_EQ(find(evs, Kind::kFileClose, d + "/missing.txt"), nullptr);
}

// Paths are named as the traced process sees them: inside a chroot, from the chroot's
// root, for the exec, absolute paths, cwd-relative and dirfd-relative ones alike.
TEST_F(RecorderTest, PathsInsideAChrootAreThoseTheProcessSees) {
  if (!AA_TEST_WORKLOAD_STATIC) GTEST_SKIP() << "needs the statically linked workload";
  if (access("/usr/sbin/chroot", X_OK) != 0) GTEST_SKIP() << "needs /usr/sbin/chroot";
  const fs::path root = dir_ / "root";
  fs::create_directories(root / "work");
  fs::copy_file(kWorkload, root / "workload");
  ASSERT_EQ(record({}, {"/usr/sbin/chroot", root.string(), "/workload", "files", "/work"}), 0);
  auto evs = events();
  auto execs = ofKind(evs, Kind::kExec);
  ASSERT_EQ(execs.size(), 2u);
  EXPECT_EQ(execs[0].path, "/usr/sbin/chroot");
  EXPECT_EQ(execs[1].path, "/workload") << "not the host's " << root.string() << "/workload";
  ASSERT_NE(find(evs, Kind::kFileOpen, "/work/a.txt"), nullptr);
  const Ev* c = find(evs, Kind::kFileClose, "/work/sub/c.txt");
  ASSERT_NE(c, nullptr) << "dirfd-relative, walked from the chroot's root";
  EXPECT_EQ(c->bytesWritten, 5u);
  for (const auto& e : evs)
    EXPECT_EQ(e.path.find(root.string()), std::string::npos) << "host path leaked: " << e.path;
}

// openat2(RESOLVE_IN_ROOT) resolves "/in-root.txt" with the dirfd as its root: the
// event names the file that was opened (DIR/in-root.txt), not the host's /in-root.txt,
// and a failed lookup is named under the dirfd too.
TEST_F(RecorderTest, OpenInRootNamesTheFileUnderTheDirfd) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {kWorkload, "inroot", d}), 0);
  auto evs = events();
  const Ev* open = find(evs, Kind::kFileOpen, d + "/in-root.txt");
  ASSERT_NE(open, nullptr);
  EXPECT_GE(open->ret, 0);
  const Ev* close = find(evs, Kind::kFileClose, d + "/in-root.txt");
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->bytesWritten, 3u);
  const Ev* failed = find(evs, Kind::kFileOpen, d + "/missing/x");
  ASSERT_NE(failed, nullptr) << "the failed lookup, under the dirfd";
  EXPECT_EQ(failed->ret, -ENOENT);
  EXPECT_EQ(find(evs, Kind::kFileOpen, "/in-root.txt"), nullptr);
  EXPECT_EQ(find(evs, Kind::kFileOpen, "/missing/x"), nullptr);
}

TEST_F(RecorderTest, FilesClosedByExecAndByExitGetSummaries) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {kWorkload, "implicit", d}), 0);
  auto evs = events();
  const Ev* byExec = find(evs, Kind::kFileClose, d + "/cloexec.txt");
  ASSERT_NE(byExec, nullptr);
  EXPECT_EQ(byExec->reason, aa::schema::CloseReason::EXEC);
  EXPECT_EQ(byExec->bytesWritten, 3u);
  const Ev* byExit = find(evs, Kind::kFileClose, d + "/kept.txt");
  ASSERT_NE(byExit, nullptr);
  EXPECT_EQ(byExit->reason, aa::schema::CloseReason::EXIT);
  EXPECT_EQ(byExit->bytesWritten, 4u);
  EXPECT_EQ(byExit->comm, "true") << "kept open across exec, closed when true exits";
}

TEST_F(RecorderTest, CloseRangeClosesOnlyFilesWithoutOtherFds) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {kWorkload, "closerange", d}), 0);
  auto evs = events();
  const Ev* a = find(evs, Kind::kFileClose, d + "/a.txt");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->reason, aa::schema::CloseReason::EXPLICIT);
  EXPECT_EQ(a->bytesWritten, 2u);
  EXPECT_GE(a->fd, 3);
  EXPECT_LE(a->fd, 10);
  const Ev* b = find(evs, Kind::kFileClose, d + "/b.txt");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->fd, 20) << "b.txt stayed open through fd 20";
  EXPECT_EQ(b->bytesWritten, 7u);
  EXPECT_EQ(ofKind(evs, Kind::kFileClose).size(), 2u);
}

TEST_F(RecorderTest, RelativePathsAfterCd) {
  const std::string d = dir_.string();
  fs::create_directories(dir_ / "x" / "y");
  ASSERT_EQ(record({}, {"/bin/sh", "-c",
                        "cd " + d + "/x && cd y && echo hi > rel.txt && mv rel.txt ../moved.txt "
                        "&& cd .. && rm moved.txt"}),
            0);
  auto evs = events();
  const Ev* open = find(evs, Kind::kFileOpen, d + "/x/y/rel.txt");
  ASSERT_NE(open, nullptr) << "relative open resolved against the cwd after cd";
  const Ev* close = find(evs, Kind::kFileClose, d + "/x/y/rel.txt");
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->bytesWritten, 3u);
  const Ev* rename = find(evs, Kind::kFileRename, d + "/x/y/rel.txt");
  ASSERT_NE(rename, nullptr);
  EXPECT_EQ(rename->path2, d + "/x/moved.txt");
  EXPECT_NE(find(evs, Kind::kFileUnlink, d + "/x/moved.txt"), nullptr);
  auto chdirs = ofKind(evs, Kind::kChdir);
  ASSERT_EQ(chdirs.size(), 3u);
  EXPECT_EQ(chdirs[0].path, d + "/x");
  EXPECT_EQ(chdirs[1].path, d + "/x/y");
  EXPECT_EQ(chdirs[2].path, d + "/x");
}

TEST_F(RecorderTest, HardAndSymbolicLinksWithAbsolutePaths) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {"/bin/sh", "-c",
                        "cd " + d + " && echo x > f && ln f hard && ln -s f soft && "
                        "ln -L soft via && mkdir sub && cd sub && ln ../f ../up; "
                        "ln ../f ../hard 2>/dev/null; exit 0"}),
            0);
  auto evs = events();
  auto links = ofKind(evs, Kind::kFileLink);
  ASSERT_EQ(links.size(), 4u);
  EXPECT_EQ(links[0].path, d + "/f");
  EXPECT_EQ(links[0].path2, d + "/hard");
  EXPECT_EQ(links[0].ret, 0);
  EXPECT_EQ(links[1].path, d + "/soft");
  EXPECT_EQ(links[1].path2, d + "/via");
  EXPECT_EQ(links[1].flags & 0x400u, 0x400u) << "ln -L passes AT_SYMLINK_FOLLOW";
  EXPECT_EQ(links[2].path, d + "/f") << "relative to the cwd after cd";
  EXPECT_EQ(links[2].path2, d + "/up");
  EXPECT_EQ(links[3].path2, d + "/hard");
  EXPECT_EQ(links[3].ret, -EEXIST);
  const Ev* soft = find(evs, Kind::kFileSymlink, d + "/soft");
  ASSERT_NE(soft, nullptr);
  EXPECT_EQ(soft->path2, "f") << "a symlink target is kept as passed";
}

// Each ownership syscall as the kernel saw it: the file named (by path, by fd, by dirfd,
// the dirfd's own file with AT_EMPTY_PATH), the ids as passed (-1: unchanged), the
// no-follow flag, the result. The ownership the files end with checks the calls ran.
TEST_F(RecorderTest, ChownByPathFdAndDirfd) {
  const std::string d = dir_.string();
  ASSERT_EQ(record({}, {kWorkload, "chown", d}), 0);
  auto evs = events();
  auto chowns = ofKind(evs, Kind::kFileChown);
  struct Want { std::string path; int32_t fd; int64_t uid, gid; uint32_t flags; int64_t ret; };
  std::vector<Want> want;
#ifdef SYS_chown
  want.push_back({d + "/f.txt", -1, 1001, 1002, 0, 0});
  want.push_back({d + "/l", -1, 1003, -1, AT_SYMLINK_NOFOLLOW, 0});  // lchown
#endif
  want.push_back({d + "/f.txt", 0, -1, 1004, 0, 0});   // fchown: fd >= 0 (which one: inherited fds)
  want.push_back({d + "/f.txt", -1, 1005, 1006, 0, 0});
  want.push_back({d + "/l", -1, 1007, 1008, AT_SYMLINK_NOFOLLOW, 0});
  want.push_back({d + "/f.txt", -1, 1009, -1, AT_EMPTY_PATH, 0});
  want.push_back({d + "/missing.txt", -1, 1, 1, 0, -ENOENT});
  ASSERT_EQ(chowns.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(aa::kindName(chowns[i].kind), "file.chown");
    EXPECT_EQ(chowns[i].path, want[i].path);
    if (want[i].fd >= 0)
      EXPECT_GE(chowns[i].fd, 3);
    else
      EXPECT_EQ(chowns[i].fd, want[i].fd);
    EXPECT_EQ(chowns[i].uid, want[i].uid);
    EXPECT_EQ(chowns[i].gid, want[i].gid);
    EXPECT_EQ(chowns[i].flags, want[i].flags);
    EXPECT_EQ(chowns[i].ret, want[i].ret);
  }
  struct stat f{}, l{};
  ASSERT_EQ(stat((d + "/f.txt").c_str(), &f), 0);
  ASSERT_EQ(lstat((d + "/l").c_str(), &l), 0);
  EXPECT_EQ(f.st_uid, 1009u);
  EXPECT_EQ(f.st_gid, 1006u);
  EXPECT_EQ(l.st_uid, 1007u);
  EXPECT_EQ(l.st_gid, 1008u);
}

TEST_F(RecorderTest, ProcessOutsideTheTreeIsAbsent) {
  const std::string outside = (dir_ / "outside.txt").string();
  pid_t other = fork();
  if (other == 0) {
    execl(kWorkload.c_str(), kWorkload.c_str(), "loop", outside.c_str(), "3", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = record({}, {kWorkload, "files", dir_.string()});
  kill(other, SIGKILL);
  waitpid(other, nullptr, 0);
  ASSERT_EQ(status, 0);
  auto evs = events();
  ASSERT_FALSE(evs.empty());
  for (const auto& e : evs) {
    EXPECT_NE(e.pid, uint32_t(other)) << "event of an untraced process, kind " << int(e.kind);
    EXPECT_EQ(e.path.find("outside"), std::string::npos) << e.path;
  }
  EXPECT_NE(find(evs, Kind::kFileOpen, dir_.string() + "/a.txt"), nullptr);
}

TEST_F(RecorderTest, InstantlyExitingCommandIsRecorded) {
  ASSERT_EQ(record({}, {"/bin/true"}), 0);
  auto evs = events();
  auto execs = ofKind(evs, Kind::kExec);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].path, "/usr/bin/true");
  auto exits = ofKind(evs, Kind::kExit);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].pid, execs[0].pid);
  EXPECT_EQ(exits[0].exitCode, 0);
}

TEST_F(RecorderTest, PidTargetIsFollowedUntilItExits) {
  const std::string file = (dir_ / "pid.txt").string();
  pid_t target = fork();
  if (target == 0) {
    usleep(300000);  // lets the recorder attach first, so the exec is in the session too
    execl(kWorkload.c_str(), kWorkload.c_str(), "loop", file.c_str(), "1.5", nullptr);
    _exit(127);
  }
  session_ = (dir_ / "pid.aas").string();
  int status = aa::test::runRecorder({"-q", "-o", session_, "--pid", std::to_string(target)});
  waitpid(target, nullptr, 0);
  EXPECT_EQ(status, 0);
  auto evs = events();
  size_t opens = 0;
  bool exited = false;
  for (const auto& e : evs) {
    EXPECT_EQ(e.pid, uint32_t(target));
    if (e.kind == Kind::kFileOpen && e.path == file) ++opens;
    if (e.kind == Kind::kExit) exited = true;
  }
  EXPECT_GT(opens, 20u);
  EXPECT_TRUE(exited) << "recording ends with the target's exit";
}

TEST_F(RecorderTest, UnderSudoTheCommandAndTheFileBelongToTheUser) {
  // What sudo sets; the recorder runs the command as that user and hands it the file.
  setenv("SUDO_UID", "65534", 1);
  setenv("SUDO_GID", "65534", 1);
  // The session is created as that user: the directory must be one it can write.
  ASSERT_EQ(chown(dir_.c_str(), 65534, 65534), 0);
  int status = record({}, {"/bin/sh", "-c", "test \"$(id -u)\" = 65534"});
  unsetenv("SUDO_UID");
  unsetenv("SUDO_GID");
  EXPECT_EQ(status, 0) << "the command did not run as uid 65534";
  struct stat st;
  ASSERT_EQ(stat(session_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto execs = ofKind(events(), Kind::kExec);
  ASSERT_FALSE(execs.empty());
}

// Starts aa-record --all in the background; returns its pid once frames are on disk.
static pid_t startAll(const std::string& session) {
  pid_t rec = fork();
  if (rec == 0) {
    execl(AA_RECORD_PATH, AA_RECORD_PATH, "-q", "-o", session.c_str(), "--all", "--duration",
          "30", nullptr);
    _exit(99);
  }
  aa::ReaderOptions peek;
  peek.useIndex = false;
  for (int i = 0; i < 80; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = aa::SessionReader::open(session, peek);
    if (r.ok() && (*r)->eventCount() > 0) break;
    system("/bin/true");  // something to record
  }
  return rec;
}

TEST_F(RecorderTest, SigintStopsCleanlyWithFooter) {
  session_ = (dir_ / "int.aas").string();
  pid_t rec = startAll(session_);
  ASSERT_EQ(kill(rec, SIGINT), 0);
  int st = 0;
  waitpid(rec, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_TRUE((*reader)->footer().has_value());
  EXPECT_TRUE((*reader)->footer()->cleanStop);
  EXPECT_EQ((*reader)->footer()->eventCount, (*reader)->eventCount());
}

TEST_F(RecorderTest, SecondSigintStopsAtOnceLeavingAReadableFile) {
  session_ = (dir_ / "int2.aas").string();
  pid_t rec = startAll(session_);
  ASSERT_EQ(kill(rec, SIGINT), 0);
  ASSERT_EQ(kill(rec, SIGINT), 0);
  int st = 0;
  waitpid(rec, &st, 0);
  EXPECT_TRUE(WIFEXITED(st)) << "status " << st;
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_TRUE((*reader)->damage().ok()) << (*reader)->damage().message();
  EXPECT_GT((*reader)->eventCount(), 0u);
}

// A command that cannot start gives one line and the shell's exit code, and leaves no
// session: a session of the recorder's own set-up (the held child's stderr write)
// would be recorded as if the command had done it.
TEST_F(RecorderTest, CommandNotFoundExits127WithoutSession) {
  EXPECT_EQ(record({}, {"/nonexistent/aa-no-such-command"}), 127);
  EXPECT_FALSE(fs::exists(session_));
  EXPECT_EQ(record({}, {"aa-no-such-command-on-path"}), 127);
  EXPECT_FALSE(fs::exists(session_));
}

TEST_F(RecorderTest, CommandNotExecutableExits126WithoutSession) {
  const std::string plain = (dir_ / "not-executable").string();
  { std::ofstream(plain) << "echo hi\n"; }
  chmod(plain.c_str(), 0644);
  EXPECT_EQ(record({}, {plain}), 126);
  EXPECT_FALSE(fs::exists(session_));
  EXPECT_EQ(record({}, {dir_.string()}), 126) << "a directory";
  EXPECT_FALSE(fs::exists(session_));
}

// Found and executable, but the exec itself fails in the child (its interpreter does
// not exist): the child reports it instead of printing, and no session is left.
TEST_F(RecorderTest, ExecFailureInTheChildLeavesNoSession) {
  const std::string script = (dir_ / "bad-interpreter").string();
  { std::ofstream(script) << "#!/nonexistent/interpreter\n"; }
  chmod(script.c_str(), 0755);
  EXPECT_EQ(record({}, {script}), 127);
  EXPECT_FALSE(fs::exists(session_));
  EXPECT_FALSE(fs::exists(session_ + "-index"));
}

TEST_F(RecorderTest, ForcedLossIsCountedExactly) {
  // 4 KiB of ring against 20000 writes recorded one event each: the workload outruns
  // the drain. Every record the kernel tried to emit is either in the session or
  // counted as lost, per probe.
  if (!AA_TEST_WORKLOAD_STATIC)
    GTEST_SKIP() << "needs a statically linked workload (no libc.a): a dynamic loader's "
                    "records would share the ring and the loss counter";
  const long n = 20000;
  const std::string file = (dir_ / "w.txt").string();
  ASSERT_EQ(record({"--ring-size", "4K", "--io=calls"}, {kWorkload, "writes", file, std::to_string(n)}), 0);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto evs = aa::test::readEvents(**reader);
  uint64_t fromSysExit = 0, lostSysExit = 0, fromSysEnter = 0, lostSysEnter = 0;
  for (const auto& e : evs) {
    if (e.kind == Kind::kLost) {
      if (e.probe == "sys_exit") lostSysExit += e.count;
      if (e.probe == "sys_enter") lostSysEnter += e.count;
    }
    if (e.path == file && (e.kind == Kind::kFileOpen || e.kind == Kind::kFileWrite)) ++fromSysExit;
    if (e.path == file && e.kind == Kind::kFileClose) ++fromSysEnter;
  }
  EXPECT_GT(lostSysExit, 0u) << "the ring was expected to overflow";
  EXPECT_EQ(fromSysExit + lostSysExit, uint64_t(n + 1)) << "open + writes, recorded or lost";
  EXPECT_EQ(fromSysEnter + lostSysEnter, 1u) << "the close summary, recorded or lost";
  // the footer carries the same totals
  ASSERT_TRUE((*reader)->footer().has_value());
  uint64_t footerLost = 0;
  for (const auto& l : (*reader)->footer()->lost)
    if (l.probe == "sys_exit") footerLost = l.count;
  EXPECT_EQ(footerLost, lostSysExit);
}

TEST_F(RecorderTest, SigkillOfRecorderLeavesReadableSession) {
  session_ = (dir_ / "killed.aas").string();
  const std::string file = (dir_ / "loop.txt").string();
  pid_t rec = fork();
  if (rec == 0) {
    execl(AA_RECORD_PATH, AA_RECORD_PATH, "-q", "-o", session_.c_str(), "--io=calls", "--",
          kWorkload.c_str(), "loop", file.c_str(), "8", nullptr);
    _exit(99);
  }
  // Kill once whole frames with writes are on disk (startup time varies with load).
  aa::ReaderOptions peek;
  peek.useIndex = false;
  for (int i = 0; i < 80; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = aa::SessionReader::open(session_, peek);
    if (r.ok() && (*r)->eventCount() >= 60) break;
  }
  ASSERT_EQ(kill(rec, SIGKILL), 0);
  waitpid(rec, nullptr, 0);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_FALSE((*reader)->footer().has_value()) << "a killed recorder writes no footer";
  auto evs = aa::test::readEvents(**reader);
  EXPECT_EQ(evs.size(), (*reader)->eventCount());
  auto execs = ofKind(evs, Kind::kExec);
  ASSERT_EQ(execs.size(), 1u);
  // the workload outlives the recorder, untraced; do not leave it behind
  kill(pid_t(execs[0].pid), SIGKILL);
  EXPECT_GT(ofKind(evs, Kind::kFileWrite).size(), 10u);
  for (size_t i = 0; i < evs.size(); ++i) EXPECT_EQ(evs[i].seq, i);
}

TEST_F(RecorderTest, FooterProbesListHooksAttachedDuringRecording) {
  // An executable that carries OpenSSL gets its SSL_* hooks when it execs, after the
  // header was written, so only the footer's report can list them. The client's
  // ClientHello is never answered: the connection is closed half a second after it
  // is accepted (long enough for the hooks to be attached), and the client fails.
  const std::string client = AA_TEST_TLS_STATIC;
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::thread closer([listener] {
    pollfd waiting{listener, POLLIN, 0};
    int conn = poll(&waiting, 1, 20000) == 1 ? accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (conn >= 0) close(conn);
    close(listener);
  });
  const std::string ca = (dir_ / "ca.pem").string();
  {  // any certificate: the handshake never gets that far
    std::ofstream(ca) <<
      "-----BEGIN CERTIFICATE-----\n"
      "MIIBezCCASGgAwIBAgIUW+buWxMrz3F+V+Iq2g+udB5vf+8wCgYIKoZIzj0EAwIw\n"
      "EjEQMA4GA1UEAwwHYWEtdGVzdDAgFw0yNjEyMDEwOTAzMzBaGA8yMTI2MTEwNzA5\n"
      "MDMzMFowEjEQMA4GA1UEAwwHYWEtdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
      "A0IABDkVcWLwUalyj21dPphU3OLwUjrSAg+k8Qamyljw0LA/+CLl9NgW9TDWBEzR\n"
      "+3z2eIYQJ0W73DH4kpVJ4WZ7w5mjUzBRMB0GA1UdDgQWBBSDUAGbqIvLkHZrz10L\n"
      "7pbQTAkVpTAfBgNVHSMEGDAWgBSDUAGbqIvLkHZrz10L7pbQTAkVpTAPBgNVHRMB\n"
      "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIE//kaDcsK4sSvRSGlxBANJmuU8r\n"
      "K9ciznD2brRHXpQzAiEAzXnuAOlOjNko0Qeo9MK86nBSEUFhYe24o7/W5nRWHBw=\n"
      "-----END CERTIFICATE-----\n";
  }
  int status = record({}, {client, std::to_string(ntohs(addr.sin_port)), ca, "1"});
  closer.join();
  ASSERT_EQ(status, 1) << "the client fails when its connection is closed";
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_TRUE((*reader)->footer().has_value());
  auto late = [](const std::vector<aa::ProbeStatusInfo>& probes) {
    for (const auto& p : probes)
      if (p.name == "SSL_write@" AA_TEST_TLS_STATIC) return &p;
    return static_cast<const aa::ProbeStatusInfo*>(nullptr);
  };
  const auto& header = (*reader)->header().probes;
  const auto& footer = (*reader)->footer()->probes;
  for (const auto& p : header)
    if (p.name == "tls" && !p.ok) GTEST_SKIP() << "TLS capture off: " << p.error;
  EXPECT_EQ(late(header), nullptr);
  const aa::ProbeStatusInfo* hook = late(footer);
  ASSERT_NE(hook, nullptr) << "the client's SSL_write hook is missing from the footer";
  EXPECT_TRUE(hook->ok) << hook->error;
  // The core hooks head both reports, in the same order.
  ASSERT_GE(footer.size(), 5u);
  ASSERT_GE(header.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(footer[i].name, header[i].name);
  EXPECT_EQ(footer[0].name, "sched_process_exec");
}

}  // namespace

namespace {

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A path the recorder stored for a file whose real absolute path is `real`: either the
// real path, or (the kernel's walk cut) a relative tail of it with the event flagged.
// Never an absolute path that names another file.
::testing::AssertionResult namesTheFile(const Ev& e, const std::string& real) {
  if (e.path == real) return ::testing::AssertionSuccess();
  if (e.path.empty() || e.path.front() == '/')
    return ::testing::AssertionFailure() << "absolute path " << e.path.size() << " bytes, not the file's ("
                                         << real.size() << " bytes): " << e.path.substr(0, 120) << "...";
  if (!e.pathTruncated) return ::testing::AssertionFailure() << "relative path without pathTruncated";
  if (!endsWith(real, "/" + e.path))
    return ::testing::AssertionFailure() << "tail " << e.path << " is not the end of the real path";
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST_F(RecorderTest, DeepDirectoryPathIsNeverWrong) {
  // 70 levels: more components than the kernel walk takes (AA_WALK_DEPTH 64).
  fs::path deep = dir_ / "deep";
  std::string rel = "deep";
  for (int i = 1; i <= 70; ++i) {
    deep /= "d" + std::to_string(i);
    rel += "/d" + std::to_string(i);
  }
  fs::create_directories(deep);
  ASSERT_EQ(record({}, {"/bin/sh", "-c", "cd " + deep.string() + " && echo x > f && mv f g"}), 0);
  auto evs = events();
  const std::string real = (deep / "f").string();
  bool sawOpen = false, sawClose = false, sawRename = false;
  for (const auto& e : evs) {
    if (e.kind == Kind::kFileOpen && endsWith(e.path, "d70/f")) {
      sawOpen = true;
      EXPECT_TRUE(namesTheFile(e, real));
      EXPECT_TRUE(e.pathTruncated) << "70 levels are beyond the walk: the flag must say so";
    }
    if (e.kind == Kind::kFileClose && endsWith(e.path, "d70/f")) {
      sawClose = true;
      EXPECT_TRUE(namesTheFile(e, real));
      EXPECT_EQ(e.bytesWritten, 2u);
    }
    if (e.kind == Kind::kFileRename && endsWith(e.path, "d70/f")) {
      sawRename = true;
      EXPECT_TRUE(namesTheFile(e, real));
      Ev to = e;
      to.path = e.path2;
      EXPECT_TRUE(namesTheFile(to, (deep / "g").string()));
    }
  }
  EXPECT_TRUE(sawOpen && sawClose && sawRename);
  // The JSON says it too.
  std::string json = ::testing::TempDir() + "/deep.jsonl";
  std::string cmd = std::string(AA_SESSION_PATH) + " events --json --kind file.open " + session_ + " > " + json;
  ASSERT_EQ(system(cmd.c_str()), 0);
  FILE* in = fopen(json.c_str(), "r");
  ASSERT_NE(in, nullptr);
  char line[16384];
  bool flagged = false;
  while (fgets(line, sizeof line, in))
    if (strstr(line, "d70/f\"") && strstr(line, "\"path_truncated\":true")) flagged = true;
  fclose(in);
  EXPECT_TRUE(flagged) << "aa-session events --json shows path_truncated";
}

TEST_F(RecorderTest, LongDirectoryNamesPathIsNeverWrong) {
  // 18 directories of 250-byte names: 4.5 KB, more than the walk's 4 KiB (and than
  // PATH_MAX, so the tree is built and entered one level at a time).
  std::vector<std::string> names;
  for (int i = 0; i < 18; ++i) names.push_back(std::string(247, char('a' + i)) + std::to_string(100 + i));
  int fd = open(dir_.c_str(), O_DIRECTORY | O_RDONLY);
  ASSERT_GE(fd, 0);
  std::string script = "cd " + dir_.string();
  for (const auto& n : names) {
    ASSERT_EQ(mkdirat(fd, n.c_str(), 0755), 0);
    int next = openat(fd, n.c_str(), O_DIRECTORY | O_RDONLY);
    close(fd);
    fd = next;
    ASSERT_GE(fd, 0);
    script += " && cd -P " + n;   // dash's logical cd would chdir to the whole path
  }
  close(fd);
  script += " && echo long > f";
  ASSERT_EQ(record({}, {"/bin/sh", "-c", script}), 0);
  auto evs = events();
  std::string real = dir_.string();
  for (const auto& n : names) real += "/" + n;
  real += "/f";
  bool saw = false;
  for (const auto& e : evs) {
    if ((e.kind == Kind::kFileOpen || e.kind == Kind::kFileClose) && endsWith(e.path, names.back() + "/f")) {
      saw = true;
      EXPECT_TRUE(namesTheFile(e, real));
      EXPECT_TRUE(e.pathTruncated);
    }
  }
  EXPECT_TRUE(saw);
  // std::filesystem cannot remove paths longer than PATH_MAX; rm -r works level by level.
  ASSERT_EQ(system(("rm -rf " + dir_.string() + "/" + names[0]).c_str()), 0);
}

TEST_F(RecorderTest, ScriptExecKeepsTheScriptAndTheInterpreter) {
  const std::string d = dir_.string();
  {
    FILE* f = fopen((dir_ / "s.sh").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("#!/bin/sh\nexit 3\n", f);
    fclose(f);
    chmod((dir_ / "s.sh").c_str(), 0755);
  }
  ASSERT_EQ(record({}, {"/bin/sh", "-c", "cd " + d + " && ./s.sh x; exit 0"}), 0);
  auto evs = events();
  const Ev* script = nullptr;
  for (const auto& e : evs)
    if (e.kind == Kind::kExec && e.filename == d + "/s.sh") script = &e;
  ASSERT_NE(script, nullptr) << "the script named in the execve is recorded";
  EXPECT_EQ(script->path, fs::canonical("/bin/sh").string()) << "the interpreter that ran";
  EXPECT_EQ(script->argv, (std::vector<std::string>{"/bin/sh", "./s.sh", "x"}))
      << "argv as the kernel passed it";
  const Ev* first = nullptr;
  for (const auto& e : evs)
    if (e.kind == Kind::kExec) { first = &e; break; }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->filename, "/bin/sh") << "a plain exec names the file it was given";
}

TEST_F(RecorderTest, OpenModeOnlyWithCreate) {
  const std::string d = dir_.string();
  // openat(AT_FDCWD, path, O_RDONLY, 0777): the mode register holds a value open ignores.
  std::string py = "import ctypes; l = ctypes.CDLL(None); l.syscall.restype = ctypes.c_long; "
                   "fd = l.syscall(257, -100, b'/etc/hostname', 0, 0o777); "
                   "fd2 = l.syscall(257, -100, b'" + d + "/new', 0o101, 0o640)";
  ASSERT_EQ(record({}, {"python3", "-c", py}), 0);
  auto evs = events();
  const Ev* ro = find(evs, Kind::kFileOpen, "/etc/hostname");
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->mode, 0u) << "no O_CREAT/O_TMPFILE: mode is not meaningful";
  const Ev* cr = find(evs, Kind::kFileOpen, d + "/new");
  ASSERT_NE(cr, nullptr);
  EXPECT_EQ(cr->mode, 0640u);
}

TEST_F(RecorderTest, DescendantsThatOutliveTheCommandAreFollowed) {
  const std::string d = dir_.string();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(record({}, {"/bin/sh", "-c", "cd " + d + " && (sleep 1; echo late > f) & exit 0"}), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900))
      << "the recording lasted until the background job ended";
  auto evs = events();
  bool sleepExec = false;
  for (const auto& e : ofKind(evs, Kind::kExec)) sleepExec |= endsWith(e.path, "/sleep");
  EXPECT_TRUE(sleepExec);
  const Ev* f = find(evs, Kind::kFileClose, d + "/f");
  ASSERT_NE(f, nullptr) << "the late write is recorded";
  EXPECT_EQ(f->bytesWritten, 5u);
  // sh, the subshell and sleep all exit inside the recording.
  EXPECT_EQ(ofKind(evs, Kind::kExit).size(), 3u);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->footer().has_value());
  EXPECT_EQ((*reader)->footer()->runningAtStop, 0u);
}

TEST_F(RecorderTest, StopWithCommandLeavesDescendantsAndSaysSo) {
  // No wall-clock bound (start-up time varies with load): the missing write of f and
  // the footer's count show that the recording stopped before the job finished.
  const std::string d = dir_.string();
  ASSERT_EQ(record({"--stop-with-command"},
                   {"/bin/sh", "-c", "cd " + d + " && (sleep 2; echo late > f) & exit 0"}),
            0);
  auto evs = events();
  EXPECT_EQ(find(evs, Kind::kFileClose, d + "/f"), nullptr);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->footer().has_value());
  EXPECT_GE((*reader)->footer()->runningAtStop, 1u) << "the subshell (and sleep) still ran";
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));   // let the job finish
}

TEST_F(RecorderTest, DurationStopsWhileDescendantsRun) {
  ASSERT_EQ(record({"--duration", "0.5"}, {"/bin/sh", "-c", "sleep 3 & exit 0"}), 0);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->footer().has_value());
  EXPECT_EQ((*reader)->footer()->runningAtStop, 1u);
}

TEST_F(RecorderTest, SpliceIntoAndOutOfAFileCountsBytes) {
  const std::string d = dir_.string();
  std::string py =
      "import os\n"
      "r, w = os.pipe()\n"
      "os.write(w, b'x' * 1000)\n"
      "fd = os.open('" + d + "/sp', os.O_WRONLY | os.O_CREAT, 0o644)\n"
      "assert os.splice(r, fd, 1000) == 1000\n"
      "os.close(fd)\n"
      "fd = os.open('" + d + "/sp', os.O_RDONLY)\n"
      "assert os.splice(fd, w, 600) == 600\n"
      "os.close(fd)\n";
  ASSERT_EQ(record({}, {"python3", "-c", py}), 0);
  auto evs = events();
  std::vector<Ev> closes;
  for (const auto& e : ofKind(evs, Kind::kFileClose))
    if (e.path == d + "/sp") closes.push_back(e);
  ASSERT_EQ(closes.size(), 2u);
  EXPECT_EQ(closes[0].bytesWritten, 1000u) << "splice from a pipe into the file";
  EXPECT_EQ(closes[1].bytesRead, 600u) << "splice from the file into a pipe";
}

// ---- aa-record against strace -f on the same scripted workload ----

namespace {

// One strace line "name(args) = ret" split into its top-level arguments.
struct Call {
  std::string name;
  std::vector<std::string> args;
  long long ret = 0;
};

std::optional<Call> parseStraceLine(const std::string& line) {
  size_t open = line.find('(');
  if (open == std::string::npos || open == 0) return std::nullopt;
  size_t eq = line.rfind(") = ");
  size_t eqSpaced = line.rfind(")");
  if (eq == std::string::npos) {
    // strace pads: ")        = 3"
    if (eqSpaced == std::string::npos) return std::nullopt;
    size_t e = line.find("= ", eqSpaced);
    if (e == std::string::npos) return std::nullopt;
    eq = eqSpaced;
  }
  Call c;
  c.name = line.substr(0, open);
  for (char ch : c.name)
    if (!isalnum(static_cast<unsigned char>(ch)) && ch != '_') return std::nullopt;
  std::string inner = line.substr(open + 1, eq - open - 1);
  int depth = 0;
  bool quoted = false;
  std::string cur;
  for (size_t i = 0; i < inner.size(); ++i) {
    char ch = inner[i];
    if (quoted) {
      cur += ch;
      if (ch == '\\' && i + 1 < inner.size()) cur += inner[++i];
      else if (ch == '"') quoted = false;
      continue;
    }
    if (ch == '"') quoted = true;
    if (ch == '[' || ch == '{' || ch == '<' || ch == '(') ++depth;
    if (ch == ']' || ch == '}' || ch == '>' || ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      c.args.push_back(cur);
      cur.clear();
      if (i + 1 < inner.size() && inner[i + 1] == ' ') ++i;
      continue;
    }
    cur += ch;
  }
  if (!cur.empty()) c.args.push_back(cur);
  size_t e = line.find("= ", eq);
  c.ret = std::strtoll(line.c_str() + e + 2, nullptr, 10);
  if (c.ret == -1) {
    // "= -1 ENOENT (No such file or directory)": -errno, as aa-record keeps it.
    static const std::map<std::string, int> kErrno = {
        {"ENOENT", ENOENT}, {"EEXIST", EEXIST}, {"ENOTDIR", ENOTDIR}, {"EISDIR", EISDIR},
        {"EACCES", EACCES}, {"EPERM", EPERM}, {"ENOTEMPTY", ENOTEMPTY}, {"EXDEV", EXDEV}};
    size_t name = e + 5;
    size_t end = line.find(' ', name);
    auto it = kErrno.find(line.substr(name, end == std::string::npos ? end : end - name));
    if (it != kErrno.end()) c.ret = -it->second;
  }
  return c;
}

std::string unquote(const std::string& a) {
  if (a.size() >= 2 && a.front() == '"' && a.back() == '"') return a.substr(1, a.size() - 2);
  return a;
}
// "3</tmp/x>" or "AT_FDCWD</tmp>" -> "/tmp/x"
std::string fdPath(const std::string& a) {
  size_t lt = a.find('<');
  if (lt == std::string::npos || a.back() != '>') return "";
  return a.substr(lt + 1, a.size() - lt - 2);
}
std::string joinAt(const std::string& dirArg, const std::string& pathArg) {
  std::string p = unquote(pathArg);
  if (!p.empty() && p.front() == '/') return p;
  return fdPath(dirArg) + "/" + p;
}

// What both tools must agree on, as sorted lists of "category item" strings.
using Facts = std::map<std::string, std::vector<std::string>>;

void finish(Facts& f) {
  for (auto& [k, v] : f) std::sort(v.begin(), v.end());
}

Facts straceFacts(const std::string& prefix, const std::string& under) {
  Facts f;
  std::map<std::string, long long> bytes;
  for (const auto& entry : fs::directory_iterator(fs::path(prefix).parent_path())) {
    std::string name = entry.path().filename().string();
    if (name.rfind(fs::path(prefix).filename().string() + ".", 0) != 0) continue;
    FILE* in = fopen(entry.path().c_str(), "r");
    if (!in) continue;
    char buf[65536];
    while (fgets(buf, sizeof buf, in)) {
      std::string line(buf);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      if (line.rfind("+++ exited with ", 0) == 0) {
        f["exit"].push_back(std::to_string(std::atoi(line.c_str() + 16)));
        continue;
      }
      auto c = parseStraceLine(line);
      if (!c) continue;
      auto mine = [&](const std::string& p) { return p.rfind(under, 0) == 0; };
      const auto& a = c->args;
      if (c->name == "execve" && c->ret == 0) {
        f["exec"].push_back(unquote(a.at(0)));
      } else if ((c->name == "openat" || c->name == "open") && a.size() >= 2) {
        std::string p = c->name == "open" ? unquote(a[0]) : joinAt(a[0], a[1]);
        std::string flags = c->name == "open" ? a[1] : a.at(2);
        // A directory opened is not a file event; a failed open is one whatever it named.
        if (mine(p) && !(flags.find("O_DIRECTORY") != std::string::npos && c->ret >= 0))
          f["open"].push_back(p + (c->ret >= 0 ? " ok" : " " + std::to_string(c->ret)));
      } else if (c->name == "creat") {
        if (mine(unquote(a[0]))) f["open"].push_back(unquote(a[0]) + (c->ret >= 0 ? " ok" : " err"));
      } else if (c->name == "unlinkat" || c->name == "unlink") {
        std::string p = c->name == "unlink" ? unquote(a[0]) : joinAt(a[0], a[1]);
        bool dir = c->name == "unlinkat" && a.at(2).find("AT_REMOVEDIR") != std::string::npos;
        if (mine(p)) f[dir ? "rmdir" : "unlink"].push_back(p + " " + std::to_string(c->ret));
      } else if (c->name == "rmdir") {
        if (mine(unquote(a[0]))) f["rmdir"].push_back(unquote(a[0]) + " " + std::to_string(c->ret));
      } else if (c->name == "mkdir" || c->name == "mkdirat") {
        std::string p = c->name == "mkdir" ? unquote(a[0]) : joinAt(a[0], a[1]);
        if (mine(p)) f["mkdir"].push_back(p + " " + std::to_string(c->ret));
      } else if (c->name == "rename" || c->name == "renameat" || c->name == "renameat2") {
        std::string from = c->name == "rename" ? unquote(a[0]) : joinAt(a[0], a[1]);
        std::string to = c->name == "rename" ? unquote(a[1]) : joinAt(a[2], a[3]);
        if (mine(from) || mine(to)) f["rename"].push_back(from + " -> " + to + " " + std::to_string(c->ret));
      } else if ((c->name == "chown" || c->name == "lchown" || c->name == "fchown" ||
                  c->name == "fchownat") && a.size() >= 3) {
        // "PATH UID GID follow|nofollow RET", ids as passed (strace prints -1 as -1)
        const bool at = c->name == "fchownat";
        std::string p = c->name == "fchown" ? fdPath(a[0])
                        : !at ? unquote(a[0])
                        : a[1] == "\"\"" ? fdPath(a[0]) : joinAt(a[0], a[1]);
        const bool nofollow = c->name == "lchown" ||
                              (at && a.at(4).find("AT_SYMLINK_NOFOLLOW") != std::string::npos);
        const size_t id = at ? 2 : 1;
        if (mine(p))
          f["chown"].push_back(p + " " + a.at(id) + " " + a.at(id + 1) +
                               (nofollow ? " nofollow " : " follow ") + std::to_string(c->ret));
      } else if (c->ret > 0) {
        std::string target;
        if (c->name == "write" || c->name == "pwrite64" || c->name == "writev" ||
            c->name == "sendfile")
          target = fdPath(a.at(0));
        else if (c->name == "copy_file_range" || c->name == "splice")
          target = fdPath(a.at(2));
        if (!target.empty() && mine(target)) bytes[target] += c->ret;
      }
    }
    fclose(in);
  }
  for (const auto& [p, n] : bytes) f["bytes"].push_back(p + " " + std::to_string(n));
  finish(f);
  return f;
}

Facts recordedFacts(const std::vector<Ev>& evs, const std::string& under) {
  Facts f;
  std::map<std::string, long long> bytes;
  auto mine = [&](const std::string& p) { return p.rfind(under, 0) == 0; };
  for (const auto& e : evs) {
    switch (e.kind) {
      case Kind::kExec: f["exec"].push_back(e.filename); break;
      case Kind::kExit: f["exit"].push_back(std::to_string(e.exitCode)); break;
      case Kind::kFileOpen:
        if (mine(e.path)) f["open"].push_back(e.path + (e.ret >= 0 ? " ok" : " " + std::to_string(e.ret)));
        break;
      case Kind::kFileUnlink: if (mine(e.path)) f["unlink"].push_back(e.path + " " + std::to_string(e.ret)); break;
      case Kind::kFileRmdir: if (mine(e.path)) f["rmdir"].push_back(e.path + " " + std::to_string(e.ret)); break;
      case Kind::kFileMkdir: if (mine(e.path)) f["mkdir"].push_back(e.path + " " + std::to_string(e.ret)); break;
      case Kind::kFileRename:
        if (mine(e.path) || mine(e.path2))
          f["rename"].push_back(e.path + " -> " + e.path2 + " " + std::to_string(e.ret));
        break;
      case Kind::kFileClose:
        if (mine(e.path) && e.bytesWritten) bytes[e.path] += e.bytesWritten;
        break;
      case Kind::kFileChown:
        if (mine(e.path))
          f["chown"].push_back(e.path + " " + std::to_string(e.uid) + " " + std::to_string(e.gid) +
                               ((e.flags & AT_SYMLINK_NOFOLLOW) ? " nofollow " : " follow ") +
                               std::to_string(e.ret));
        break;
      default: break;
    }
  }
  for (const auto& [p, n] : bytes) f["bytes"].push_back(p + " " + std::to_string(n));
  finish(f);
  return f;
}

}  // namespace

TEST_F(RecorderTest, EqualsStraceOnAScriptedWorkload) {
  if (system("command -v strace >/dev/null 2>&1") != 0) GTEST_SKIP() << "strace not installed";
  // The same script in two fresh directories of the same name length, so paths match
  // after the directory is replaced.
  auto script = [](const std::string& d) {
    return "set -e; cd " + d + "; D=" + d + "\n"
           "echo hello > $D/a.txt; printf abc >> $D/a.txt\n"
           "cat $D/a.txt > $D/b.txt; mv $D/b.txt $D/c.txt\n"
           "mkdir $D/sub; touch $D/sub/x; cp $D/c.txt $D/sub/y\n"
           "head -c 5000 /dev/zero > $D/z; dd if=$D/z of=$D/z2 bs=1000 count=3 2>/dev/null\n"
           "for i in 1 2 3; do echo $i > $D/n$i; done; ln $D/n1 $D/h1\n"
           "cat $D/missing 2>/dev/null || true\n"
           "python3 -c \"import os; os.rename('$D/n2', '$D/n2b'); os.unlink('$D/n3'); "
           "fd = os.open('$D/p', os.O_WRONLY | os.O_CREAT, 0o600); os.write(fd, b'x' * 77); "
           "os.fchown(fd, 9, -1); os.close(fd); os.chown('$D/n1', -1, 8); os.symlink('n1', '$D/sl'); "
           "os.lchown('$D/sl', 7, 7)\n"
           "try: os.chown('$D/missing', 1, 1)\nexcept OSError: pass\"\n"
           "chown 1234:5678 $D/h1; chown -h 42 $D/sl\n"
           "(sh -c 'exit 4') || true\n"
           "rm -r $D/sub; rm $D/a.txt $D/z\n";
  };
  fs::path straceDir = dir_ / "st";
  fs::path recDir = dir_ / "rc";
  fs::create_directories(straceDir / "w");
  fs::create_directories(recDir / "w");
  std::string prefix = (straceDir / "trace").string();
  std::string cmd = "strace -f -ff -q -y -s 0 -o " + prefix +
                    " -e trace=execve,open,openat,creat,rename,renameat,renameat2,unlink,unlinkat,"
                    "mkdir,mkdirat,rmdir,write,pwrite64,writev,copy_file_range,sendfile,splice,"
                    "chown,fchown,lchown,fchownat "
                    "/bin/sh -c '" + std::string() + "sh " + (straceDir / "s.sh").string() + "'";
  {
    FILE* f = fopen((straceDir / "s.sh").c_str(), "w");
    fputs(script((straceDir / "w").string()).c_str(), f);
    fclose(f);
    FILE* g = fopen((recDir / "s.sh").c_str(), "w");
    fputs(script((recDir / "w").string()).c_str(), g);
    fclose(g);
  }
  ASSERT_EQ(system(cmd.c_str()), 0);
  Facts traced = straceFacts(prefix, (straceDir / "w").string() + "/");

  ASSERT_EQ(record({}, {"/bin/sh", "-c", "sh " + (recDir / "s.sh").string()}), 0);
  Facts recorded = recordedFacts(events(), (recDir / "w").string() + "/");

  // Same paths once the directory is renamed; execs and exits compare as they are.
  auto rename = [&](std::vector<std::string> v) {
    for (auto& s : v) {
      size_t at;
      while ((at = s.find((straceDir / "w").string())) != std::string::npos)
        s.replace(at, (straceDir / "w").string().size(), (recDir / "w").string());
      while ((at = s.find((straceDir / "s.sh").string())) != std::string::npos)
        s.replace(at, (straceDir / "s.sh").string().size(), (recDir / "s.sh").string());
    }
    std::sort(v.begin(), v.end());
    return v;
  };
  for (const char* k : {"exec", "exit", "open", "unlink", "rmdir", "mkdir", "rename", "bytes", "chown"}) {
    SCOPED_TRACE(k);
    EXPECT_FALSE(traced[k].empty()) << "the workload exercises " << k;
    EXPECT_EQ(rename(traced[k]), recorded[k]);
  }
}

// A small tmpfs at `at`, mounted in a private mount namespace that this test process
// (and the aa-record it runs) enters for the test's length: when the test is killed,
// or an assertion returns early, nothing stays mounted on the host.
class PrivateTmpfs {
 public:
  explicit PrivateTmpfs(const fs::path& at) : at_(at) {
    home_ = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (home_ < 0 || ::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      error_ = std::string("cannot make a private mount namespace: ") + std::strerror(errno);
      return;
    }
    fs::create_directories(at_);
    if (::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=2m") != 0)
      error_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
  }
  ~PrivateTmpfs() {
    ::umount2(at_.c_str(), MNT_DETACH);
    if (home_ >= 0) {
      (void)::setns(home_, CLONE_NEWNS);
      ::close(home_);
    }
  }
  const std::string& error() const { return error_; }

 private:
  fs::path at_;
  int home_ = -1;
  std::string error_;
};

TEST_F(RecorderTest, DiskFullGivesOneMessageAndAWholeFile) {
  fs::path mnt = dir_ / "small";
  PrivateTmpfs small(mnt);
  if (!small.error().empty()) GTEST_SKIP() << small.error();
  const std::string out = (mnt / "x.aas").string();
  const std::string err = (dir_ / "err.txt").string();
  // Open/close of files with long random names: incompressible events, fast.
  std::string py = "import os, random\n"
                   "d = '" + dir_.string() + "/f'\n"
                   "os.mkdir(d)\n"
                   "for i in range(200000):\n"
                   "    p = d + '/' + '%030x' % random.getrandbits(120) + 'x' * 150\n"
                   "    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)); os.unlink(p)\n";
  for (const char* mode : {"leave", "kill"}) {
    SCOPED_TRACE(mode);
    std::string cmd = std::string(AA_RECORD_PATH) + " -q --on-write-error=" + mode + " -o " + out +
                      " -- python3 -c \"" + py + "\" 2> " + err;
    int st = system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << st;
    std::string text;
    {
      FILE* in = fopen(err.c_str(), "r");
      ASSERT_NE(in, nullptr);
      char buf[4096];
      while (fgets(buf, sizeof buf, in)) text += buf;
      fclose(in);
    }
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << "one message:\n" << text;
    EXPECT_NE(text.find("No space left on device"), std::string::npos) << text;
    EXPECT_NE(text.find("footer written"), std::string::npos) << text;
    EXPECT_NE(text.find(std::string(mode) == "kill" ? "killed" : "still running"), std::string::npos) << text;
    for (const char* suffix : {"-index", "-index-wal", "-index-shm"})
      EXPECT_FALSE(fs::exists(out + suffix)) << suffix;
    auto reader = aa::SessionReader::open(out, {.useIndex = false});
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_TRUE((*reader)->damage().ok()) << (*reader)->damage().message();
    ASSERT_TRUE((*reader)->footer().has_value());
    EXPECT_FALSE((*reader)->footer()->cleanStop);
    EXPECT_EQ((*reader)->footer()->eventCount, (*reader)->eventCount());
    EXPECT_GT((*reader)->eventCount(), 1000u);
    reader->reset();
    fs::remove(out);
    // With "leave", the python loop runs on: wait for it (it ends by itself).
    for (int i = 0; i < 600 && system("pgrep -f 'random[.]getrandbits' >/dev/null") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fs::remove_all(dir_ / "f");
  }
}
