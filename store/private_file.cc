#include "store/private_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aa {
namespace {

std::string errnoText(int err) { return std::strerror(err); }

// Closes the fd unless released.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

Status setModeAndOwner(int fd, const std::string& path, const PrivateFileOptions& o) {
  // The umask must not widen access, nor a replaced file keep a wider mode.
  if (fchmod(fd, o.mode) != 0) return Status::error(path + ": cannot set mode: " + errnoText(errno));
  if (o.ownerUid >= 0 && fchown(fd, uid_t(o.ownerUid), gid_t(o.ownerGid)) != 0)
    return Status::error(path + ": cannot give to uid " + std::to_string(o.ownerUid) + ": " +
                         errnoText(errno));
  return {};
}

}  // namespace

std::string fileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "not a regular file";
  }
}

StatusOr<int> createPrivateFile(const std::string& path, const PrivateFileOptions& o,
                                PrivateFileError* why) {
  PrivateFileError ignored;
  if (!why) why = &ignored;
  *why = PrivateFileError::kOther;
  // New file: O_EXCL fails on any existing name, a dangling symlink included.
  FdGuard fd{::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o.mode)};
  if (fd.fd < 0 && errno != EEXIST)
    return Status::error(path + ": cannot create: " + errnoText(errno));
  if (fd.fd < 0) {
    // Something is there. Look before opening: opening a device or a FIFO for
    // writing can have effects of its own (or block).
    struct stat before{};
    if (lstat(path.c_str(), &before) != 0)
      return Status::error(path + ": cannot create: " + errnoText(errno));
    if (!S_ISREG(before.st_mode)) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": is " + fileTypeName(before.st_mode) +
                           ", not a regular file; not touching it");
    }
    fd.fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd.fd < 0) return Status::error(path + ": cannot open: " + errnoText(errno));
    struct stat st{};
    if (fstat(fd.fd, &st) != 0) return Status::error(path + ": cannot stat: " + errnoText(errno));
    if (!S_ISREG(st.st_mode) || st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": changed while being opened; not touching it");
    }
    // A lock held means a writer is at work on it: say so whatever the policy.
    if (flock(fd.fd, LOCK_EX | LOCK_NB) != 0) {
      *why = PrivateFileError::kLocked;
      return Status::error(path + ": another recorder is writing this session");
    }
    if (o.existing == ExistingFile::kRefuse) {
      *why = PrivateFileError::kExists;
      return Status::error(path + ": already exists; not replacing it");
    }
    if (st.st_nlink != 1) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": has " + std::to_string(st.st_nlink) +
                           " hard links; not replacing it");
    }
    if (o.ownerUid >= 0 && st.st_uid != uid_t(o.ownerUid)) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
                           std::to_string(o.ownerUid) + "; not replacing it");
    }
    // Locked, checked: only now may its bytes change.
    if (ftruncate(fd.fd, 0) != 0) return Status::error(path + ": cannot truncate: " + errnoText(errno));
    int flags = fcntl(fd.fd, F_GETFL);
    if (flags >= 0) fcntl(fd.fd, F_SETFL, flags & ~O_NONBLOCK);
    if (!o.lock) flock(fd.fd, LOCK_UN);
  } else if (o.lock && flock(fd.fd, LOCK_EX | LOCK_NB) != 0) {
    *why = PrivateFileError::kLocked;
    return Status::error(path + ": another recorder is writing this session");
  }
  AA_RETURN_IF_ERROR(setModeAndOwner(fd.fd, path, o));
  *why = PrivateFileError::kNone;
  return fd.release();
}

}  // namespace aa
