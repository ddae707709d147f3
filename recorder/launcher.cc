#include "recorder/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
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

}  // namespace

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
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0)
    return Status::error(std::string("pipe: ") + strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

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
      bool ok = (creds.name.empty() ? setgroups(0, nullptr) == 0
                                    : initgroups(creds.name.c_str(), creds.gid) == 0) &&
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
    execvp(args[0], args.data());
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
