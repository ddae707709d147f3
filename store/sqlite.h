// Minimal RAII over the SQLite C API: one owner per connection and per statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "store/status.h"

namespace aa::sql {

class Db {
 public:
  Db() = default;
  ~Db() { if (db_) sqlite3_close_v2(db_); }
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept { std::swap(db_, o.db_); return *this; }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // path ":memory:" for a private in-memory database. A file created here gets
  // `createMode` (SQLite gives its -wal and -shm files the same mode).
  static StatusOr<Db> open(const std::string& path, bool readOnly, int createMode = 0600);
  Status exec(const char* sql);
  std::string error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }
  sqlite3* get() const { return db_; }
  explicit operator bool() const { return db_ != nullptr; }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Db& db, const char* sql);   // check ok() after
  ~Stmt() { if (st_) sqlite3_finalize(st_); }
  Stmt(Stmt&& o) noexcept : st_(o.st_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept { std::swap(st_, o.st_); return *this; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return st_ != nullptr; }
  Stmt& bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); return *this; }
  Stmt& bind(int i, std::string_view blob) {
    sqlite3_bind_blob64(st_, i, blob.data(), blob.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bindText(int i, std::string_view t) {
    sqlite3_bind_text64(st_, i, t.data(), t.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Stmt& bindNull(int i) { sqlite3_bind_null(st_, i); return *this; }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step() { return sqlite3_step(st_); }
  // Runs to completion and resets; false on error.
  bool run() { int rc = sqlite3_step(st_); sqlite3_reset(st_); return rc == SQLITE_DONE || rc == SQLITE_ROW; }
  void reset() { sqlite3_reset(st_); sqlite3_clear_bindings(st_); }

  int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  bool isNull(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  std::string blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
    return p ? std::string(p, sqlite3_column_bytes(st_, col)) : std::string();
  }

 private:
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace aa::sql
