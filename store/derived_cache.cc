#include "store/derived_cache.h"

#include <unistd.h>

#include "store/sqlite.h"

namespace aa {
namespace {

constexpr const char* kTable =
    "CREATE TABLE IF NOT EXISTS derived_caches(name TEXT PRIMARY KEY, key TEXT, value BLOB)";

std::string keyOf(const SessionReader& reader, uint32_t version) {
  return reader.header().sessionId + "/" + std::to_string(reader.eventCount()) + "/" +
         std::to_string(reader.fileSize()) + "/v" + std::to_string(version);
}

}  // namespace

std::optional<std::string> loadDerivedCache(const SessionReader& reader, std::string_view name,
                                            uint32_t version) {
  const std::string path = indexPath(reader.path());
  if (::access(path.c_str(), R_OK) != 0) return std::nullopt;
  auto db = sql::Db::open(path, true);
  if (!db.ok()) return std::nullopt;
  sql::Stmt st(db.value(), "SELECT key, value FROM derived_caches WHERE name=?");
  if (!st.ok()) return std::nullopt;   // no cache was ever stored in this index
  st.bindText(1, std::string(name));
  if (st.step() != SQLITE_ROW || st.blob(0) != keyOf(reader, version)) return std::nullopt;
  return st.blob(1);
}

Status storeDerivedCache(const SessionReader& reader, std::string_view name, uint32_t version,
                         std::string_view value) {
  const std::string path = indexPath(reader.path());
  if (!reader.footer()) return Status::error(path + ": not cached: the session has no footer");
  if (::access(path.c_str(), W_OK) != 0)
    return Status::error(path + ": not cached: no writable index beside the session");
  AA_ASSIGN_OR_RETURN(sql::Db db, sql::Db::open(path, false));
  // A derived cache needs no durability: a torn write is a miss on the next open.
  AA_RETURN_IF_ERROR(db.exec("PRAGMA synchronous=OFF"));
  AA_RETURN_IF_ERROR(db.exec(kTable));
  sql::Stmt ins(db, "INSERT OR REPLACE INTO derived_caches VALUES(?,?,?)");
  if (!ins.ok()) return Status::error(path + ": derived_caches: " + db.error());
  if (!ins.bindText(1, std::string(name)).bindText(2, keyOf(reader, version)).bind(3, value).run())
    return Status::error(path + ": writing the " + std::string(name) + " cache: " + db.error());
  return {};
}

}  // namespace aa
