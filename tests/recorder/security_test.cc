// aa-record runs as root: it must never be turned against the machine (issue 12).
// Attacks by the recorded command and by other users on the output path, tried for
// real: a symlink swapped in during a recording, a symlink planted in a sticky
// directory, device nodes and FIFOs as outputs, two recorders on one output, an
// existing output, and the command's environment under real sudo. Needs root (BPF,
// mknod, a test user); skips with the reason otherwise.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/status.h"
#include "tests/recorder/record_util.h"
#include "tests/support/test_server.h"

namespace fs = std::filesystem;

namespace {

const char* kUser = "aa-sec-test";

struct Result {
  int status = -1;       // exit status, 128+signal; -1 when it had to be killed
  std::string err;       // stdout and stderr
};

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// Runs argv (execv, no PATH search) with `env` added, optionally as `as` (uid, gid,
// no supplementary groups), killing it after `timeoutSec`.
Result run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
        const Identity* as = nullptr, int timeoutSec = 60) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    setpgid(0, 0);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    if (as && (setgroups(0, nullptr) != 0 || setgid(as->gid) != 0 || setuid(as->uid) != 0)) _exit(98);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(99);
  }
  close(out[1]);
  Result r;
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSec);
  int st = 0;
  bool done = false;
  while (!done) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) r.err.append(buf, size_t(n));
    if (waitpid(pid, &st, WNOHANG) == pid) {
      done = true;
      r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    } else if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &st, 0);
      done = true;
      r.status = -1;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) r.err.append(buf, size_t(n));
  close(out[0]);
  return r;
}

std::string readFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The unprivileged test user, created when missing.
bool testUser(Identity* id, std::string* why) {
  passwd* pw = getpwnam(kUser);
  if (!pw) {
    Result r = run({"/usr/sbin/useradd", "-m", "-s", "/bin/sh", kUser});
    pw = getpwnam(kUser);
    if (!pw) {
      *why = std::string("cannot create the test user ") + kUser + ": " + r.err;
      return false;
    }
  }
  id->uid = pw->pw_uid;
  id->gid = pw->pw_gid;
  id->home = pw->pw_dir;
  return true;
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF programs, runs as a test user";
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "needs kernel BTF";
    std::string why;
    if (!testUser(&user_, &why)) GTEST_SKIP() << why;
    dir_ = fs::canonical(fs::temp_directory_path()) /
           ("aa-sec-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    chmod(dir_.c_str(), 0755);
    // What the user owns (the recorded command can do anything there)...
    userDir_ = dir_ / "user";
    fs::create_directory(userDir_);
    ASSERT_EQ(chown(userDir_.c_str(), user_.uid, user_.gid), 0);
    // ...and a root file it must never be able to touch through aa-record.
    victim_ = (dir_ / "victim").string();
    std::ofstream(victim_) << "root's file\n";
    chmod(victim_.c_str(), 0644);
  }
  void TearDown() override {
    if (!sudoers_.empty()) unlink(sudoers_.c_str());
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void expectVictimUntouched() {
    struct stat st{};
    ASSERT_EQ(lstat(victim_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_uid, 0u) << "the victim changed owner";
    EXPECT_EQ(st.st_gid, 0u) << "the victim changed group";
    EXPECT_EQ(st.st_mode & 07777, 0644u) << "the victim changed mode";
    EXPECT_EQ(readFile(victim_), "root's file\n") << "the victim was written";
  }

  std::vector<std::string> sudoEnv() const {
    return {"SUDO_UID=" + std::to_string(user_.uid), "SUDO_GID=" + std::to_string(user_.gid),
            std::string("SUDO_USER=") + kUser};
  }

  // Lets the test user run aa-record through sudo (a drop-in removed by TearDown).
  bool allowSudo(std::string* why) {
    if (access("/usr/bin/sudo", X_OK) != 0) {
      *why = "needs /usr/bin/sudo (tests/setup.sh installs it)";
      return false;
    }
    if (access("/etc/sudoers.d", W_OK) != 0) {
      *why = "cannot write /etc/sudoers.d";
      return false;
    }
    sudoers_ = "/etc/sudoers.d/aa-record-test-" + std::to_string(getpid());
    std::ofstream(sudoers_) << kUser << " ALL=(root) NOPASSWD: " << AA_RECORD_PATH << "\n";
    chmod(sudoers_.c_str(), 0440);
    Result check = run({"/usr/bin/sudo", "-n", "-l", AA_RECORD_PATH}, {}, &user_, 20);
    if (check.status != 0) {
      *why = "sudo refuses the test rule: " + check.err;
      return false;
    }
    return true;
  }

  // `sudo aa-record ARGS` run by the test user, from a clean environment like a login.
  Result sudoRecord(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/sudo", "-n", AA_RECORD_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"HOME=" + user_.home, std::string("USER=") + kUser,
                                    std::string("LOGNAME=") + kUser, "SHELL=/bin/sh",
                                    "PATH=/usr/bin:/bin"};
    return run(argv, env, &user_);
  }

  Identity user_;
  fs::path dir_, userDir_;
  std::string victim_;
  std::string sudoers_;
};

TEST_F(SecurityTest, SymlinkSwappedInDuringTheRecordingIsNotFollowed) {
  // The repro of issue 12: the command (as the user) moves the session away and puts
  // symlinks to a root file in its place, for the log and each index file.
  const std::string d = userDir_.string();
  const std::string swap =
      "cd " + d + " && for f in s.aas s.aas-index s.aas-index-wal s.aas-index-shm; do "
      "[ -e $f ] && mv $f moved$f; ln -s " + victim_ + " $f; done; true";
  Result r = run({AA_RECORD_PATH, "-q", "-o", d + "/s.aas", "--", "/bin/sh", "-c", swap}, sudoEnv());
  EXPECT_EQ(r.status, 0) << r.err;
  expectVictimUntouched();
  // The session itself went on into the file that was moved: whole, and the user's.
  struct stat st{};
  ASSERT_EQ(stat((d + "/moveds.aas").c_str(), &st), 0) << r.err;
  EXPECT_EQ(st.st_uid, user_.uid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto reader = aa::SessionReader::open(d + "/moveds.aas");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_TRUE((*reader)->footer().has_value());
}

TEST_F(SecurityTest, SymlinkSwapUnderRealSudo) {
  std::string why;
  if (!allowSudo(&why)) GTEST_SKIP() << why;
  const std::string d = userDir_.string();
  const std::string swap =
      "cd " + d + " && for f in s.aas s.aas-index s.aas-index-wal s.aas-index-shm; do "
      "[ -e $f ] && mv $f moved$f; ln -s " + victim_ + " $f; done; true";
  Result r = sudoRecord({"-q", "-o", d + "/s.aas", "--", "/bin/sh", "-c", swap});
  EXPECT_EQ(r.status, 0) << r.err;
  expectVictimUntouched();
}

TEST_F(SecurityTest, SymlinkPlantedInAStickyDirectoryIsRefused) {
  // /tmp-like: sticky and world-writable. Owned by the attacker, so that even with
  // fs.protected_symlinks=1 root would follow the attacker's link there.
  const fs::path sticky = dir_ / "sticky";
  fs::create_directory(sticky);
  ASSERT_EQ(chown(sticky.c_str(), user_.uid, user_.gid), 0);
  chmod(sticky.c_str(), 01777);
  const std::string out = (sticky / "run.aas").string();
  ASSERT_EQ(symlink(victim_.c_str(), out.c_str()), 0);
  ASSERT_EQ(lchown(out.c_str(), user_.uid, user_.gid), 0);

  // root recording into the shared directory
  Result r = run({AA_RECORD_PATH, "-q", "-o", out, "--", "/bin/true"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  expectVictimUntouched();
  // --force does not change that
  r = run({AA_RECORD_PATH, "-q", "--force", "-o", out, "--", "/bin/true"});
  EXPECT_EQ(r.status, 1) << r.err;
  expectVictimUntouched();
  // nor does sudo (simulated: the variables sudo sets)
  r = run({AA_RECORD_PATH, "-q", "--force", "-o", out, "--", "/bin/true"}, sudoEnv());
  EXPECT_EQ(r.status, 1) << r.err;
  expectVictimUntouched();
}

TEST_F(SecurityTest, SymlinkPlantedInAStickyDirectoryIsRefusedUnderRealSudo) {
  std::string why;
  if (!allowSudo(&why)) GTEST_SKIP() << why;
  const fs::path sticky = dir_ / "sticky";
  fs::create_directory(sticky);
  chmod(sticky.c_str(), 01777);
  const std::string out = (sticky / "run.aas").string();
  ASSERT_EQ(symlink(victim_.c_str(), out.c_str()), 0);
  Result r = sudoRecord({"-q", "--force", "-o", out, "--", "/bin/true"});
  EXPECT_EQ(r.status, 1) << r.err;
  expectVictimUntouched();
}

TEST_F(SecurityTest, UnderSudoTheOutputIsLimitedToWhatTheUserCanWrite) {
  // A sudo rule for aa-record must not let a user create files where they cannot.
  const fs::path rootOnly = dir_ / "root-only";
  fs::create_directory(rootOnly);
  chmod(rootOnly.c_str(), 0755);
  const std::string out = (rootOnly / "s.aas").string();
  Result r = run({AA_RECORD_PATH, "-q", "-o", out, "--", "/bin/true"}, sudoEnv());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(SecurityTest, DeviceNodeCopyAsOutputIsRefusedUntouched) {
  // A copy of /dev/null's node: the real one must never be at risk in a test.
  const std::string dev = (userDir_ / "null").string();
  ASSERT_EQ(mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << strerror(errno);
  chmod(dev.c_str(), 0666);
  for (bool force : {false, true}) {
    std::vector<std::string> args = {AA_RECORD_PATH, "-q", "-o", dev, "--", "/bin/true"};
    if (force) args.insert(args.begin() + 1, "--force");
    Result r = run(args, sudoEnv(), nullptr, 20);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("character device"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    struct stat st{};
    ASSERT_EQ(lstat(dev.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(st.st_mode & 07777, 0666u) << "the device's mode changed";
    EXPECT_EQ(st.st_uid, 0u) << "the device changed owner";
  }
}

TEST_F(SecurityTest, FifoAsOutputIsRefusedWithoutBlocking) {
  const std::string fifo = (userDir_ / "f.aas").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  Result r = run({AA_RECORD_PATH, "-q", "--force", "-o", fifo, "--", "/bin/true"}, sudoEnv(), nullptr, 20);
  EXPECT_NE(r.status, -1) << "aa-record blocked on a FIFO";
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  struct stat st{};
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "the FIFO's mode changed";
  EXPECT_EQ(st.st_uid, 0u) << "the FIFO changed owner";
}

TEST_F(SecurityTest, ExistingOutputIsKeptWithoutForce) {
  const std::string out = (dir_ / "s.aas").string();
  std::ofstream(out) << "an older session\n";
  Result r = run({AA_RECORD_PATH, "-q", "-o", out, "--", "/bin/true"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << "should say how to replace it: " << r.err;
  EXPECT_EQ(readFile(out), "an older session\n");

  r = run({AA_RECORD_PATH, "-q", "--force", "-o", out, "--", "/bin/true"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto reader = aa::SessionReader::open(out);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_TRUE((*reader)->footer().has_value());
}

// --force writes the new session beside the old one and renames it into place when the
// recording starts: a reader holding the old session (aa-view, aa-session) keeps it
// whole, where truncating it in place once killed that reader with SIGBUS.
TEST_F(SecurityTest, ForceReplacesByRenameAndReadersOfTheOldSessionKeepIt) {
  const std::string out = (dir_ / "s.aas").string();
  Result r = run({AA_RECORD_PATH, "-q", "-o", out, "--", "/bin/sh", "-c", "true; true"});
  ASSERT_EQ(r.status, 0) << r.err;
  struct stat before{};
  ASSERT_EQ(stat(out.c_str(), &before), 0);
  auto old = aa::SessionReader::open(out, {.useIndex = false});
  ASSERT_TRUE(old.ok()) << old.status().message();
  const uint64_t events = (*old)->eventCount();
  ASSERT_GT(events, 0u);

  r = run({AA_RECORD_PATH, "-q", "--force", "-o", out, "--", "/bin/true"});
  ASSERT_EQ(r.status, 0) << r.err;
  struct stat after{};
  ASSERT_EQ(stat(out.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "the old session was rewritten in place";
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(aa::test::readEvents(**old).size(), events) << "the old session's reader lost events";
  EXPECT_TRUE((*old)->damage().ok()) << (*old)->damage().message();
  auto now = aa::SessionReader::open(out);
  ASSERT_TRUE(now.ok()) << now.status().message();
  EXPECT_TRUE((*now)->footer().has_value());
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".new."), std::string::npos) << e.path() << " left behind";
}

TEST_F(SecurityTest, SecondRecorderDoesNotDestroyTheFirst) {
  const std::string out = (dir_ / "s.aas").string();
  pid_t first = fork();
  if (first == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl(AA_RECORD_PATH, AA_RECORD_PATH, "-q", "-o", out.c_str(), "--", "/bin/sleep", "3", nullptr);
    _exit(99);
  }
  // Wait until the first recorder has its header on disk.
  for (int i = 0; i < 100; ++i) {
    std::error_code ec;
    if (fs::exists(out) && fs::file_size(out, ec) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(fs::file_size(out), 0u);
  for (bool force : {false, true}) {
    std::vector<std::string> args = {AA_RECORD_PATH, "-q", "-o", out, "--", "/bin/true"};
    if (force) args.insert(args.begin() + 1, "--force");
    Result second = run(args);
    EXPECT_EQ(second.status, 1) << second.err;
    EXPECT_NE(second.err.find("another recorder"), std::string::npos) << second.err;
  }
  int st = 0;
  waitpid(first, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "first recorder status " << st;
  auto reader = aa::SessionReader::open(out);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_TRUE((*reader)->damage().ok()) << (*reader)->damage().message();
  EXPECT_TRUE((*reader)->footer().has_value());
  bool sawSleep = false;
  for (const auto& e : aa::test::readEvents(**reader))
    if (e.kind == aa::Kind::kExec && !e.argv.empty() && e.argv[0] == "/bin/sleep") sawSleep = true;
  EXPECT_TRUE(sawSleep) << "the first recording lost its events";
}

TEST_F(SecurityTest, UnderRealSudoTheCommandGetsTheUsersEnvironmentAndFiles) {
  std::string why;
  if (!allowSudo(&why)) GTEST_SKIP() << why;
  const std::string d = userDir_.string();
  const std::string out = d + "/s.aas";
  const std::string envFile = d + "/env.txt";
  Result r = sudoRecord({"-q", "-o", out, "--", "/bin/sh", "-c",
                      "echo \"$HOME|$USER|$LOGNAME|$SHELL|$(id -u)|$(id -g)|${SUDO_USER}\" > " + envFile});
  ASSERT_EQ(r.status, 0) << r.err;
  passwd* pw = getpwnam(kUser);
  ASSERT_NE(pw, nullptr);
  const std::string expected = std::string(pw->pw_dir) + "|" + kUser + "|" + kUser + "|" +
                               pw->pw_shell + "|" + std::to_string(user_.uid) + "|" +
                               std::to_string(user_.gid) + "|" + kUser + "\n";
  EXPECT_EQ(readFile(envFile), expected);
  for (const char* suffix : {"", "-index"}) {
    struct stat st{};
    ASSERT_EQ(lstat((out + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_uid, user_.uid) << suffix;
    EXPECT_EQ(st.st_gid, user_.gid) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
}

TEST_F(SecurityTest, ReadersRefuseAFifoWithOneLine) {
  const std::string fifo = (dir_ / "f.aas").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  Result r = run({AA_SESSION_PATH, "info", fifo}, {}, nullptr, 10);
  EXPECT_NE(r.status, -1) << "aa-session blocked on a FIFO";
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

}  // namespace

// ---- redaction, end to end (issue 12 item 6) ----

class RedactionEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: loads BPF programs";
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "needs kernel BTF";
    for (const char* exe : {"/usr/bin/curl", "/usr/bin/openssl"})
      if (access(exe, X_OK) != 0) GTEST_SKIP() << "needs " << exe;
    if (aa::Status st = server_.start(AA_SOURCE_DIR); !st.ok()) GTEST_SKIP() << st.message();
    dir_ = fs::canonical(fs::temp_directory_path()) /
           ("aa-redact-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Every secret goes out in the command lines and over TLS, in the ways of issue 12.
  std::string script() const {
    const std::string url = "https://127.0.0.1:" + server_.port();
    const std::string curl = "/usr/bin/curl -sS -o /dev/null --cacert " + server_.cert() + " ";
    return curl +
           "-H 'X-Auth-Token: SECRET-XAUTH-1' -H 'Authentication: SECRET-AUTHN-2' "
           "-H 'X-Team: SECRET-CUSTOM-4' "
           "-u alice:SECRET-USERPASS-5 -b 'sid=SECRET-COOKIE-6' -H 'Content-Type: application/json' "
           "-d '{\"model\": \"claude-test\", \"api_key\": \"SECRET-JSON-7\", \"max_tokens\": 5, "
           "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}' " +
           url + "/v1/messages; " + curl + "-H 'Authorization : Bearer SECRET-MALFORMED-3' '" + url +
           "/v1/models?key=SECRET-QUERY-8&access_token=SECRET-TOKEN-9&alt=json'";
  }
  const std::vector<std::string> secrets_ = {
      "SECRET-XAUTH-1", "SECRET-AUTHN-2", "SECRET-MALFORMED-3", "SECRET-CUSTOM-4",
      "SECRET-USERPASS-5", "SECRET-COOKIE-6", "SECRET-JSON-7", "SECRET-QUERY-8", "SECRET-TOKEN-9"};

  // Everything a session shows: decoded events and header, the raw log and index
  // bytes, and each aa-session view.
  std::vector<std::pair<std::string, std::string>> views(const std::string& session) {
    std::vector<std::pair<std::string, std::string>> out;
    auto reader = aa::SessionReader::open(session);
    EXPECT_TRUE(reader.ok()) << reader.status().message();
    if (reader.ok()) {
      std::string decoded;
      for (const auto& a : (*reader)->header().command) decoded += a + "\n";
      aa::EventQuery all;
      aa::Status read = (*reader)->forEach(all, [&](aa::schema::Event::Reader e) {
        if (e.isExec())
          for (auto a : e.getExec().getArgv()) decoded += aa::test::str(a) + "\n";
        if (e.isTls()) decoded += aa::test::str(e.getTls().getData());
        return true;
      });
      EXPECT_TRUE(read.ok()) << read.message();
      out.emplace_back("decoded log", decoded);
    }
    for (const char* suffix : {"", "-index", "-index-wal"}) out.emplace_back(std::string("file") + suffix, readFile(session + suffix));
    const std::string trace = (dir_ / "trace.json").string();
    out.emplace_back("events --json", run({AA_SESSION_PATH, "events", "--json", session}).err);
    out.emplace_back("http", run({AA_SESSION_PATH, "http", session}).err);
    out.emplace_back("llm", run({AA_SESSION_PATH, "llm", session}).err);
    Result ex = run({AA_SESSION_PATH, "export", "--format", "chrome-trace", session, "-o", trace});
    EXPECT_EQ(ex.status, 0) << ex.err;
    out.emplace_back("chrome-trace", readFile(trace));
    struct stat st{};
    EXPECT_EQ(stat(trace.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the export holds argv and payloads: private";
    return out;
  }

  aa::test_support::TestServer server_;  // fixtures/server/server.js
  fs::path dir_;
};

TEST_F(RedactionEndToEnd, NoSecretReachesAnyView) {
  const std::string session = (dir_ / "s.aas").string();
  Result r = run({AA_RECORD_PATH, "-q", "-o", session, "--redact-header", "X-Team", "--", "/bin/sh",
                  "-c", script()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto reader = aa::SessionReader::open(session);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  uint64_t tlsBytes = 0;
  for (const auto& c : (*reader)->tlsConnections()) tlsBytes += c.bytesOut;
  if (tlsBytes == 0) GTEST_SKIP() << "no TLS captured (TLS capture off here?)";
  const auto& rules = (*reader)->header().redactRules;
  EXPECT_NE(std::find(rules.begin(), rules.end(), "header:x-team"), rules.end())
      << "the extended rule list is in the session header";
  EXPECT_NE(std::find(rules.begin(), rules.end(), "header:authorization"), rules.end());
  for (const auto& [view, text] : views(session)) {
    if (view != "file-index-wal") {
      EXPECT_FALSE(text.empty()) << view << " is empty";
    }
    for (const auto& s : secrets_) EXPECT_EQ(text.find(s), std::string::npos) << s << " in " << view;
  }
  // what is not secret is still there
  const std::string json = run({AA_SESSION_PATH, "events", "--json", session}).err;
  EXPECT_NE(json.find("claude-test"), std::string::npos);
  EXPECT_NE(json.find("alt=json"), std::string::npos);
}

TEST_F(RedactionEndToEnd, NoRedactKeepsEverything) {
  // The control: the same run with --no-redact shows each secret, so the views above
  // do carry these bytes when they are there.
  const std::string session = (dir_ / "s.aas").string();
  Result r = run({AA_RECORD_PATH, "-q", "--no-redact", "-o", session, "--", "/bin/sh", "-c", script()});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string json = run({AA_SESSION_PATH, "events", "--json", session}).err;
  for (const auto& s : secrets_) EXPECT_NE(json.find(s), std::string::npos) << s;
  auto reader = aa::SessionReader::open(session);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->header().redactRules.empty());
  EXPECT_FALSE((*reader)->header().redaction);
}
