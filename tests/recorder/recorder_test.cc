// End-to-end tests of aa-record: real probes, real workloads, sessions read back with
// SessionReader. Need root (BPF); skip with the reason otherwise.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
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

TEST_F(RecorderTest, CommandNotFoundExits127) {
  EXPECT_EQ(record({}, {"/nonexistent/aa-no-such-command"}), 127);
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
  // node carries its own OpenSSL: its SSL_* hooks are attached when it execs, after
  // the header was written, so only the footer's report can list them.
  if (access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/node";
  ASSERT_EQ(record({}, {"/usr/bin/node", "-e", "setTimeout(() => {}, 300)"}), 0);
  auto reader = aa::SessionReader::open(session_);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_TRUE((*reader)->footer().has_value());
  auto late = [](const std::vector<aa::ProbeStatusInfo>& probes) {
    for (const auto& p : probes)
      if (p.name == "SSL_write@/usr/bin/node") return &p;
    return static_cast<const aa::ProbeStatusInfo*>(nullptr);
  };
  const auto& header = (*reader)->header().probes;
  const auto& footer = (*reader)->footer()->probes;
  for (const auto& p : header)
    if (p.name == "tls" && !p.ok) GTEST_SKIP() << "TLS capture off: " << p.error;
  EXPECT_EQ(late(header), nullptr);
  const aa::ProbeStatusInfo* hook = late(footer);
  ASSERT_NE(hook, nullptr) << "node's SSL_write hook missing from the footer";
  EXPECT_TRUE(hook->ok) << hook->error;
  // The core hooks head both reports, in the same order.
  ASSERT_GE(footer.size(), 5u);
  ASSERT_GE(header.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(footer[i].name, header[i].name);
  EXPECT_EQ(footer[0].name, "sched_process_exec");
}

}  // namespace
