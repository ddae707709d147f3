#include "store/sqlite.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>

namespace aa::sql {
namespace {

// SQLite's unix VFS opens the database, its -wal, -shm and -journal by path, and
// follows a symbolic link in any of them. An index lives beside a session, in a
// directory a recorded (untrusted) command may write to, and root may be the one
// opening it: no open made by SQLite in this process ever follows a symlink in the
// last component.
int openNoFollow(const char* path, int flags, int mode) {
  return ::open(path, flags | O_NOFOLLOW, mode);
}

void refuseSymlinks() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
    if (vfs && vfs->iVersion >= 3 && vfs->xSetSystemCall)
      vfs->xSetSystemCall(vfs, "open", reinterpret_cast<sqlite3_syscall_ptr>(&openNoFollow));
  });
}

}  // namespace

StatusOr<Db> Db::open(const std::string& path, bool readOnly, int createMode) {
  refuseSymlinks();
  Db db;
  if (!readOnly && path != ":memory:") {
    // SQLite would create the file 0644: an index holds argv and paths, which can
    // be as secret as the session itself.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, createMode);
    if (fd >= 0) {
      fchmod(fd, createMode);
      ::close(fd);
    }
  }
  int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // Not SQLITE_OPEN_NOFOLLOW: it refuses a symlink anywhere in the path (a /tmp or a
  // home directory that is one); the last component is covered by openNoFollow.
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db.db_ ? sqlite3_errmsg(db.db_) : sqlite3_errstr(rc);
    return Status::error(path + ": " + msg);
  }
  sqlite3_busy_timeout(db.db_, 5000);
  return db;
}

Status Db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "sqlite error";
    sqlite3_free(err);
    return Status::error(msg);
  }
  return {};
}

Stmt::Stmt(const Db& db, const char* sql) {
  if (sqlite3_prepare_v2(db.get(), sql, -1, &st_, nullptr) != SQLITE_OK) st_ = nullptr;
}

}  // namespace aa::sql
