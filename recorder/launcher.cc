#include "recorder/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
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
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0)
    return Status::error(std::string("pipe: ") + strerror(errno));
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
    close(gate[0]);
    close(gate[1]);
    return Status::error(std::string("fork: ") + strerror(e));
  }
  if (pid == 0) {
    close(gate[1]);
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
        dprintf(2, "aa-record: cannot run as uid %u: %s\n", unsigned(creds.uid), strerror(errno));
        _exit(126);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execvpe(args[0], args.data(), envp.data());
    int e = errno;
    if (e == ENOENT)
      dprintf(2, "aa-record: %s: command not found\n", args[0]);
    else
      dprintf(2, "aa-record: %s: %s\n", args[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  close(gate[0]);
  return std::unique_ptr<HeldChild>(new HeldChild(pid, gate[1]));
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

HeldChild::~HeldChild() {
  if (gateFd_ >= 0) {
    close(gateFd_);  // the child sees EOF and exits 125
    int st;
    waitpid(pid_, &st, 0);
  }
}

}  // namespace aa
