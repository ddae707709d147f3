#include "recorder/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

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

void fillFromPasswd(Credentials& c, const passwd* pw) {
  if (!pw) return;
  c.name = pw->pw_name;
  c.home = pw->pw_dir ? pw->pw_dir : "";
  c.shell = pw->pw_shell ? pw->pw_shell : "";
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(pw->pw_name, c.gid, groups.data(), &n) < 0) {
    groups.resize(size_t(n));
    if (getgrouplist(pw->pw_name, c.gid, groups.data(), &n) < 0) n = 0;
  }
  groups.resize(size_t(n));
  c.groups = std::move(groups);
}

// The raw syscalls: glibc's wrappers change every thread of the process; these change
// only the calling one, which is what a scoped identity needs.
int threadSetgroups(const std::vector<gid_t>& groups) {
  return int(syscall(SYS_setgroups, groups.size(), groups.data()));
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

ActAsUser::ActAsUser(const Credentials& creds) {
  if (geteuid() != 0 || !creds.change) return;
  int n = getgroups(0, nullptr);
  savedGroups_.resize(size_t(n > 0 ? n : 0));
  if (n > 0) getgroups(n, savedGroups_.data());
  threadSetgroups(creds.groups.empty() ? std::vector<gid_t>{creds.gid} : creds.groups);
  setfsgid(creds.gid);
  setfsuid(creds.uid);
  active_ = true;
}

ActAsUser::~ActAsUser() {
  if (!active_) return;
  setfsuid(geteuid());
  setfsgid(getegid());
  threadSetgroups(savedGroups_);
}

std::vector<std::string> commandEnvironment(const Credentials& creds, char** env) {
  std::vector<std::string> out;
  const bool reset = creds.change && !creds.name.empty();
  const std::pair<std::string_view, std::string> set[] = {
      {"HOME", creds.home}, {"USER", creds.name}, {"LOGNAME", creds.name}, {"SHELL", creds.shell}};
  for (char** e = env; e && *e; ++e) {
    std::string_view kv(*e);
    bool replaced = false;
    if (reset)
      for (const auto& [name, value] : set)
        if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=')
          replaced = true;
    if (!replaced) out.emplace_back(kv);
  }
  if (reset)
    for (const auto& [name, value] : set)
      if (!value.empty()) out.push_back(std::string(name) + "=" + value);
  return out;
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
    fillFromPasswd(c, pw);
  } else if (geteuid() == 0 && getenv("SUDO_UID")) {
    unsigned long uid, gid;
    if (!parseId(getenv("SUDO_UID"), &uid))
      return Status::error(std::string("SUDO_UID=") + getenv("SUDO_UID") + ": not a user id");
    c.uid = uid_t(uid);
    c.gid = parseId(getenv("SUDO_GID"), &gid) ? gid_t(gid) : gid_t(uid);
    fillFromPasswd(c, getpwuid(c.uid));
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
  // Built before fork: getpwnam and allocation are not for a forked child.
  const std::vector<std::string> envStrings = commandEnvironment(creds, environ);
  std::vector<char*> envp;
  for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

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
      bool ok = (creds.groups.empty() ? setgroups(0, nullptr) == 0
                                      : setgroups(creds.groups.size(), creds.groups.data()) == 0) &&
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
    execvpe(args[0], args.data(), envp.data());
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
