// The files of a session, named in one place: the log NAME.aas, its SQLite index
// NAME.aas-index, and the files SQLite keeps beside the index (WAL mode: -wal and -shm;
// -journal only if a rollback journal was ever used).
#pragma once

#include <array>
#include <string>

namespace aa {

inline std::string indexPath(const std::string& sessionPath) { return sessionPath + "-index"; }

// The index and the files SQLite keeps beside it, the index first.
inline std::array<std::string, 4> indexFiles(const std::string& sessionPath) {
  const std::string i = indexPath(sessionPath);
  return {i, i + "-wal", i + "-shm", i + "-journal"};
}

// What a recorder creates for a session: the log, the index, its -wal and -shm.
inline std::array<std::string, 4> sessionFiles(const std::string& sessionPath) {
  const std::string i = indexPath(sessionPath);
  return {sessionPath, i, i + "-wal", i + "-shm"};
}

}  // namespace aa
