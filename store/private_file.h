// Creating the files of a session (the log and its index) safely, for a writer that
// may run as root in a directory someone else controls.
//
// - The last path component is never followed when it is a symbolic link (O_NOFOLLOW,
//   and O_EXCL for a new file), so a link planted before or swapped in during a
//   recording cannot redirect root's writes.
// - Only a regular file with one link is ever reused: a device, FIFO, socket,
//   directory or a hard-linked file is refused before it is opened for writing, and
//   nothing about it (mode, owner, content) changes.
// - An existing file is refused, or replaced only after its lock is taken (so a
//   second recorder cannot replace the session a first one is writing). Replaced means
//   a new file made beside it and renamed over it: the old file's bytes never change,
//   so a reader holding it (aa-view, aa-session) keeps a whole session. The rename
//   swaps the two names (renameat2 RENAME_EXCHANGE where the file system has it) and
//   keeps the swap only if the old name held the very file that was checked and
//   locked; otherwise it swaps back and fails.
// - Mode and owner are set on the open descriptor (fchmod/fchown), never by path.
//
// Directories on the way are still resolved by path: run the creation with the file
// system identity of the user the files are for (the recorder does, see
// recorder/launcher.h ActAsUser), so that it can reach only what that user can.
#pragma once

#include <string>

#include "store/status.h"

namespace aa {

enum class ExistingFile {
  kRefuse,    // fail when the path exists (whatever it is)
  kReplace,   // a regular file is replaced by a new one, after its lock was taken
};

struct PrivateFileOptions {
  ExistingFile existing = ExistingFile::kRefuse;
  unsigned mode = 0600;
  int ownerUid = -1, ownerGid = -1;   // >= 0: fchown to them
  bool lock = false;                  // flock(LOCK_EX) held on the returned fd
};

// Why a creation failed, for callers that word the advice themselves.
enum class PrivateFileError { kNone, kExists, kLocked, kNotRegular, kOther };

// A new, empty private file for `path`. When it replaces an existing file it is made
// beside it (PATH.new.PID[.N]) and takes the name only at commit(); until then the old
// file is untouched, and without commit() the new one is removed again. Non-copyable;
// movable.
class NewPrivateFile {
 public:
  // Errors name the path and the reason; `why`, when given, gets the kind of failure.
  static StatusOr<NewPrivateFile> create(const std::string& path, const PrivateFileOptions& options,
                                         PrivateFileError* why = nullptr);
  NewPrivateFile(NewPrivateFile&& other) noexcept;
  NewPrivateFile& operator=(NewPrivateFile&& other) noexcept;
  NewPrivateFile(const NewPrivateFile&) = delete;
  NewPrivateFile& operator=(const NewPrivateFile&) = delete;
  ~NewPrivateFile();   // not committed: removes the new file if its name is still ours

  int fd() const { return fd_; }   // O_RDWR, close-on-exec (locked if asked)
  int release();                   // the fd, now owned by the caller
  bool replacing() const { return !tmp_.empty(); }   // an old file awaits commit()
  // Puts the new file at `path` (nothing to do when it was created there). Fails,
  // leaving the old file where it was, when the name no longer holds it.
  Status commit();

 private:
  NewPrivateFile() = default;
  void discard();

  std::string path_, tmp_;
  int fd_ = -1;
  int oldFd_ = -1;   // the file being replaced, locked
};

// A new, empty private file at `path`, an existing one replaced (kReplace) at once:
// returns an fd open O_RDWR (close-on-exec), or an error naming the path and the
// reason. `why`, when given, gets the kind of failure.
StatusOr<int> createPrivateFile(const std::string& path, const PrivateFileOptions& options,
                                PrivateFileError* why = nullptr);

// "a FIFO", "a directory", "a character device", ... for a stat st_mode.
std::string fileTypeName(unsigned mode);

}  // namespace aa
