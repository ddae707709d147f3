#include "store/private_file.h"

#include <fcntl.h>
#include <stdio.h>   // renameat2, RENAME_EXCHANGE (glibc)
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

StatusOr<NewPrivateFile> NewPrivateFile::create(const std::string& path, const PrivateFileOptions& o,
                                                PrivateFileError* why) {
  PrivateFileError ignored;
  if (!why) why = &ignored;
  *why = PrivateFileError::kOther;
  NewPrivateFile out;
  out.path_ = path;
  // New file: O_EXCL fails on any existing name, a dangling symlink included.
  FdGuard fd{::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o.mode)};
  if (fd.fd < 0 && errno != EEXIST)
    return Status::error(path + ": cannot create: " + errnoText(errno));
  if (fd.fd < 0) {
    // Something is there. Look before opening: opening a device or a FIFO can have
    // effects of its own (or block).
    struct stat before{};
    if (lstat(path.c_str(), &before) != 0)
      return Status::error(path + ": cannot create: " + errnoText(errno));
    if (!S_ISREG(before.st_mode)) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": is " + fileTypeName(before.st_mode) +
                           ", not a regular file; not touching it");
    }
    // Read-only: the old file is only looked at and locked, never written.
    FdGuard old{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
    if (old.fd < 0) return Status::error(path + ": cannot open: " + errnoText(errno));
    struct stat st{};
    if (fstat(old.fd, &st) != 0) return Status::error(path + ": cannot stat: " + errnoText(errno));
    if (!S_ISREG(st.st_mode) || st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
      *why = PrivateFileError::kNotRegular;
      return Status::error(path + ": changed while being opened; not touching it");
    }
    // A lock held means a writer is at work on it: say so whatever the policy.
    if (flock(old.fd, LOCK_EX | LOCK_NB) != 0) {
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
    // Locked, checked: the new file is made beside it, exclusively, never through a
    // symlink, and takes the name at commit().
    for (int n = 0; fd.fd < 0; ++n) {
      std::string tmp = path + ".new." + std::to_string(getpid()) + (n ? "." + std::to_string(n) : "");
      fd.fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o.mode);
      if (fd.fd >= 0) out.tmp_ = tmp;
      else if (errno != EEXIST || n >= 100)
        return Status::error(tmp + ": cannot create: " + errnoText(errno));
    }
    out.oldFd_ = old.release();
  }
  out.fd_ = fd.release();
  // From here `out` removes the new file again on any error.
  if (o.lock && flock(out.fd_, LOCK_EX | LOCK_NB) != 0) {
    *why = PrivateFileError::kLocked;
    return Status::error(path + ": another recorder is writing this session");
  }
  AA_RETURN_IF_ERROR(setModeAndOwner(out.fd_, out.tmp_.empty() ? path : out.tmp_, o));
  *why = PrivateFileError::kNone;
  return out;
}

Status NewPrivateFile::commit() {
  if (tmp_.empty()) return {};
  struct stat old{}, mine{};
  if (fstat(oldFd_, &old) != 0 || fstat(fd_, &mine) != 0)
    return Status::error(path_ + ": cannot stat: " + errnoText(errno));
  auto isOld = [&](const std::string& p) {
    struct stat st{};
    return lstat(p.c_str(), &st) == 0 && st.st_dev == old.st_dev && st.st_ino == old.st_ino;
  };
  bool swapped = false;
#ifdef __linux__
  // Swap the names, then look at what came out: only the file checked and locked at
  // create() may be replaced. Anything else put there meanwhile gets its name back.
  if (renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) == 0) {
    if (!isOld(tmp_)) {
      (void)renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE);
      return Status::error(path_ + ": changed before it could be replaced; not replacing it");
    }
    swapped = true;
    ::unlink(tmp_.c_str());   // the old file's name now: it goes, its readers keep it
  } else if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    return Status::error(path_ + ": cannot replace: " + errnoText(errno));
  }
#endif
  if (!swapped) {
    // No exchange on this file system: the narrower check-then-rename.
    if (!isOld(path_)) return Status::error(path_ + ": changed before it could be replaced; not replacing it");
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      return Status::error(path_ + ": cannot replace: " + errnoText(errno));
  }
  tmp_.clear();
  ::close(oldFd_);
  oldFd_ = -1;
  return {};
}

void NewPrivateFile::discard() {
  if (!tmp_.empty() && fd_ >= 0) {
    struct stat mine{}, there{};
    if (fstat(fd_, &mine) == 0 && lstat(tmp_.c_str(), &there) == 0 && mine.st_dev == there.st_dev &&
        mine.st_ino == there.st_ino)
      ::unlink(tmp_.c_str());
  }
  if (fd_ >= 0) ::close(fd_);
  if (oldFd_ >= 0) ::close(oldFd_);
  fd_ = oldFd_ = -1;
  tmp_.clear();
}

int NewPrivateFile::release() {
  int f = fd_;
  fd_ = -1;
  return f;
}

NewPrivateFile::NewPrivateFile(NewPrivateFile&& o) noexcept { *this = std::move(o); }

NewPrivateFile& NewPrivateFile::operator=(NewPrivateFile&& o) noexcept {
  if (this == &o) return *this;
  discard();
  path_ = std::move(o.path_);
  tmp_ = std::move(o.tmp_);
  fd_ = o.fd_;
  oldFd_ = o.oldFd_;
  o.tmp_.clear();
  o.fd_ = o.oldFd_ = -1;
  return *this;
}

NewPrivateFile::~NewPrivateFile() { discard(); }

StatusOr<int> createPrivateFile(const std::string& path, const PrivateFileOptions& o,
                                PrivateFileError* why) {
  AA_ASSIGN_OR_RETURN(NewPrivateFile f, NewPrivateFile::create(path, o, why));
  if (Status s = f.commit(); !s.ok()) {
    if (why) *why = PrivateFileError::kNotRegular;
    return s;
  }
  return f.release();
}

}  // namespace aa
