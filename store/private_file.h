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
//   second recorder cannot truncate the session a first one is writing).
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
  kReplace,   // a regular file is truncated, after its lock was taken
};

struct PrivateFileOptions {
  ExistingFile existing = ExistingFile::kRefuse;
  unsigned mode = 0600;
  int ownerUid = -1, ownerGid = -1;   // >= 0: fchown to them
  bool lock = false;                  // flock(LOCK_EX) held on the returned fd
};

// Why a creation failed, for callers that word the advice themselves.
enum class PrivateFileError { kNone, kExists, kLocked, kNotRegular, kOther };

// Returns an fd open O_RDWR (close-on-exec) on an empty regular file at `path`, or an
// error naming the path and the reason. `why`, when given, gets the kind of failure.
StatusOr<int> createPrivateFile(const std::string& path, const PrivateFileOptions& options,
                                PrivateFileError* why = nullptr);

// "a FIFO", "a directory", "a character device", ... for a stat st_mode.
std::string fileTypeName(unsigned mode);

}  // namespace aa
