#include "store/sqlite.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aa::sql {

StatusOr<Db> Db::open(const std::string& path, bool readOnly, int createMode) {
  Db db;
  if (!readOnly && path != ":memory:") {
    // SQLite would create the file 0644: an index holds argv and paths, which can
    // be as secret as the session itself.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, createMode);
    if (fd >= 0) {
      fchmod(fd, createMode);
      ::close(fd);
    }
  }
  int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
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
