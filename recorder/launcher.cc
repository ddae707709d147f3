#include "recorder/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace aa {
namespace {

bool parseId(const char* s, unsigned long* out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

// What execve would say of `path`: 0, or its errno.
int execError(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EACCES;
  return access(path.c_str(), X_OK) == 0 ? 0 : errno;
}

}  // namespace

int checkCommand(const std::string& command, std::string* message) {
  int err = ENOENT;
  if (command.find('/') != std::string::npos) {
    err = execError(command);
  } else if (!command.empty()) {
    const char* env = getenv("PATH");
    std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
    // execvp reports EACCES if some candidate was not executable and none was.
    bool denied = false;
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(start, end - start);
      int e = execError((dir.empty() ? "." : dir) + "/" + command);
      if (e == 0) return 0;
      if (e == EACCES || e == EISDIR) denied = true;
      start = end + 1;
    }
    err = denied ? EACCES : ENOENT;
  }
  if (err == 0) return 0;
  *message = command + (err == ENOENT ? ": command not found" : ": " + std::string(strerror(err)));
  return err == ENOENT ? 127 : 126;
}

StatusOr<Credentials> resolveCredentials(const std::string& user) {
  Credentials c;
  c.uid = geteuid();
  c.gid = getegid();
  if (!user.empty()) {
    unsigned long id;
    passwd* pw = nullptr;
    if (parseId(user.c_str(), &id)) {
      pw = getpwuid(uid_t(id));
      c.uid = uid_t(id);
      c.gid = pw ? pw->pw_gid : gid_t(id);
    } else {
      pw = getpwnam(user.c_str());
      if (!pw) return Status::error("--user " + user + ": no such user");
      c.uid = pw->pw_uid;
      c.gid = pw->pw_gid;
    }
    if (pw) c.name = pw->pw_name;
  } else if (geteuid() == 0 && getenv("SUDO_UID")) {
    unsigned long uid, gid;
    if (!parseId(getenv("SUDO_UID"), &uid))
      return Status::error(std::string("SUDO_UID=") + getenv("SUDO_UID") + ": not a user id");
    c.uid = uid_t(uid);
    c.gid = parseId(getenv("SUDO_GID"), &gid) ? gid_t(gid) : gid_t(uid);
    if (passwd* pw = getpwuid(c.uid)) c.name = pw->pw_name;
  }
  c.change = c.uid != geteuid() || c.gid != getegid();
  if (c.change && geteuid() != 0)
    return Status::error("--user: switching to uid " + std::to_string(c.uid) + " needs root");
  return c;
}

StatusOr<std::unique_ptr<HeldChild>> HeldChild::spawn(const std::vector<std::string>& argv,
                                                      const Credentials& creds) {
  if (argv.empty()) return Status::error("no command given after --");
  int gate[2], report[2];
  if (pipe2(gate, O_CLOEXEC) != 0)
    return Status::error(std::string("pipe: ") + strerror(errno));
  if (pipe2(report, O_CLOEXEC) != 0) {
    int e = errno;
    close(gate[0]);
    close(gate[1]);
    return Status::error(std::string("pipe: ") + strerror(e));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {gate[0], gate[1], report[0], report[1]}) close(fd);
    return Status::error(std::string("fork: ") + strerror(e));
  }
  if (pid == 0) {
    close(gate[1]);
    close(report[0]);
    char go;
    ssize_t n;
    do n = read(gate[0], &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(125);  // the recorder gave up before release
    close(gate[0]);
    if (creds.change) {
      bool ok = (creds.name.empty() ? setgroups(0, nullptr) == 0
                                    : initgroups(creds.name.c_str(), creds.gid) == 0) &&
                setgid(creds.gid) == 0 && setuid(creds.uid) == 0;
      if (!ok) {
        int e = -errno;  // negative: taking the credentials failed, not the exec
        (void)!write(report[1], &e, sizeof(e));
        _exit(126);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(report[1], &e, sizeof(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  close(gate[0]);
  close(report[1]);
  return std::unique_ptr<HeldChild>(new HeldChild(pid, gate[1], report[0], argv[0], creds.uid));
}

Status HeldChild::release() {
  if (gateFd_ < 0) return Status();
  char go = 'g';
  ssize_t n = write(gateFd_, &go, 1);
  close(gateFd_);
  gateFd_ = -1;
  if (n != 1) return Status::error(std::string("releasing the command: ") + strerror(errno));
  return Status();
}

std::string HeldChild::waitExec(int* code) {
  if (execFd_ < 0) return "";
  int e = 0;
  ssize_t n;
  do n = read(execFd_, &e, sizeof(e));
  while (n < 0 && errno == EINTR);
  close(execFd_);
  execFd_ = -1;
  if (n != ssize_t(sizeof(e))) return "";  // EOF: the exec closed the pipe
  *code = e == ENOENT ? 127 : 126;
  if (e < 0) return "cannot run as uid " + std::to_string(uid_) + ": " + strerror(-e);
  return command_ + (e == ENOENT ? ": command not found" : ": " + std::string(strerror(e)));
}

HeldChild::~HeldChild() {
  if (execFd_ >= 0) close(execFd_);
  if (gateFd_ >= 0) {
    close(gateFd_);  // the child sees EOF and exits 125
    int st;
    waitpid(pid_, &st, 0);
  }
}

}  // namespace aa
