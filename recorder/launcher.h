// Starting the recorded command: who it runs as, and a child held between fork and
// exec so that probes and the traced set are in place before its first exec.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "store/status.h"

namespace aa {

// The identity the command runs as and session files belong to.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;      // user name when known (for supplementary groups)
  std::string home;      // from the passwd entry when known
  std::string shell;     // from the passwd entry when known
  std::vector<gid_t> groups;   // supplementary groups of `name` (empty when unknown)
  bool change = false;   // differs from the recorder's: drop to it before exec
};

// While alive, the calling thread touches the file system as `creds` (fsuid, fsgid
// and supplementary groups; Linux credentials are per thread): files it creates
// belong to that user, and a path the user could not open, or a symlink the user
// could not follow, fails as it would for them. Nothing changes unless the recorder
// runs as root for another user. Used around every path operation on session files,
// so that `sudo aa-record -o PATH` can write only where the invoking user could.
class ActAsUser {
 public:
  explicit ActAsUser(const Credentials& creds);
  ~ActAsUser();
  ActAsUser(const ActAsUser&) = delete;
  ActAsUser& operator=(const ActAsUser&) = delete;

 private:
  bool active_ = false;
  std::vector<gid_t> savedGroups_;
};

// The environment the command gets: the recorder's, with HOME, USER, LOGNAME and
// SHELL set from the passwd entry of the user it runs as, when that user differs
// from the recorder's (as `sudo -u USER -H` sets them). Entries "NAME=value".
std::vector<std::string> commandEnvironment(const Credentials& creds, char** environ);

// `user` (--user NAME or UID) when set; else SUDO_UID/SUDO_GID of the invoking user
// when run through sudo as root; else the recorder's own identity.
StatusOr<Credentials> resolveCredentials(const std::string& user);

// Finds argv[0] as execvp would (PATH search unless it names a path) before anything
// is recorded, so a command that cannot start costs one line and no session. Returns
// the shell's exit code for the failure: 127 not found, 126 found but not executable;
// 0 when it can be executed. `message` gets the one line to print.
int checkCommand(const std::string& command, std::string* message);

// A forked child blocked until release(); then it takes `creds`, restores the signal
// mask and execs argv (PATH search). Exec failure exits 127 (not found) or 126, like a
// shell, after one line on stderr. Destroying an unreleased child kills it.
class HeldChild {
 public:
  static StatusOr<std::unique_ptr<HeldChild>> spawn(const std::vector<std::string>& argv,
                                                    const Credentials& creds);
  ~HeldChild();
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;

  pid_t pid() const { return pid_; }
  Status release();
  // After release(): waits until the child has exec'd. Returns "" then, else the one
  // line saying why it could not start, and sets *code to 127 or 126.
  std::string waitExec(int* code);

 private:
  HeldChild(pid_t pid, int gateFd, int execFd, std::string command, uid_t uid)
      : pid_(pid), gateFd_(gateFd), execFd_(execFd), command_(std::move(command)), uid_(uid) {}
  pid_t pid_;
  int gateFd_;   // write end; closed by release()
  int execFd_;   // read end of the exec report: EOF on exec, else the errno
  std::string command_;
  uid_t uid_;
};

}  // namespace aa
