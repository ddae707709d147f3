// Indexer: derives the session index from whole frames of events — the frame table
// (time range, kinds, pids per frame) and the tables of processes, files, TLS
// connections and lost counts — and persists it into SQLite (NAME.aas-index).
// The writer feeds it frames whose writes completed; the reader feeds it every frame
// when it rebuilds. Times are stored as recorded (CLOCK_MONOTONIC ns).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "schema/events.capnp.h"
#include "store/index_rows.h"
#include "store/session_meta.h"
#include "store/sqlite.h"
#include "store/status.h"

namespace aa {

constexpr int kIndexVersion = 2;   // 2: tls_conns.plain

// What meta says about the log an index was built from.
struct IndexMeta {
  std::string sessionId;
  uint64_t scannedSize = 0;   // file size the index describes; another size means stale
  uint64_t logEnd = 0;        // end of the last whole frame
  std::string damage;         // first damage found while scanning, "" if none
  // The log file as last seen (st_ino, st_mtim); 0 when unknown. Another value means
  // the log was written after indexing: the index is checked against it, frame by frame.
  uint64_t logIno = 0;
  uint64_t logMtimeNs = 0;
};

class Indexer {
 public:
  // Creates the tables in db if missing. db must be writable.
  static Status createSchema(sql::Db& db);

  // Adds one whole frame (header fields in `frame`; kinds, counts and pids are derived).
  void addFrame(FrameInfo frame, capnp::List<schema::Event>::Reader events);
  const std::vector<FrameInfo>& frames() const { return frames_; }

  // Writes what changed since the last call, and meta, in one transaction.
  Status persist(sql::Db& db, const IndexMeta& meta);
  // Drops the frames already persisted but the last one (the writer needs only where
  // the log ends): a recording's frame table lives in the database, not in memory.
  void forgetPersistedFrames();

 private:
  struct Process {
    bool dirty = false;
    uint32_t ppid = 0;
    std::string exe, argv, comm;   // argv: NUL-separated
    uint64_t startNs = 0, endNs = 0;
    bool hasEnd = false, hasExit = false;
    int32_t exitCode = 0, signal = 0;
    std::array<uint64_t, kKindCount> kindCounts{};
  };
  struct File {
    bool dirty = false;
    uint64_t opens = 0, bytesRead = 0, bytesWritten = 0, firstNs = 0, lastNs = 0;
    KindMask kinds = 0;
  };
  struct TlsConn {
    bool dirty = false;
    uint32_t pid = 0;
    int32_t fd = -1;
    std::string peer, lib;
    uint64_t bytesOut = 0, bytesIn = 0, firstNs = 0, lastNs = 0;
    bool plain = false;
  };

  File& touchFile(std::string_view path, Kind kind, uint64_t t);
  void addEvent(schema::Event::Reader e, Kind kind);

  std::vector<FrameInfo> frames_;
  size_t persistedFrames_ = 0;
  std::unordered_map<uint32_t, Process> processes_;
  std::unordered_map<std::string, File> files_;
  std::unordered_map<uint64_t, TlsConn> conns_;
  std::map<std::string, uint64_t> lost_;
  std::map<std::pair<uint32_t, int32_t>, std::string> peers_;   // (pid, fd) -> last connect
  // Rows changed since the last persist (unordered_map nodes never move).
  std::vector<std::pair<const uint32_t, Process>*> dirtyProcesses_;
  std::vector<std::pair<const std::string, File>*> dirtyFiles_;
  std::vector<std::pair<const uint64_t, TlsConn>*> dirtyConns_;
  bool lostDirty_ = false;
};

// Reads meta from an index database; nullopt when it has none or another version.
std::optional<IndexMeta> readIndexMeta(sql::Db& db);
// Removes every table of the index (before a rebuild into the same file).
Status dropIndexTables(sql::Db& db);

// The derived tables, read back; times become ns since session start through `rel`.
// A failed query is an error, never an empty table.
using RelNs = std::function<uint64_t(uint64_t monoNs)>;
StatusOr<std::vector<ProcessRow>> readProcessRows(const sql::Db& db, const RelNs& rel);
StatusOr<std::vector<FileRow>> readFileRows(const sql::Db& db, const RelNs& rel);
StatusOr<std::vector<TlsConnRow>> readTlsConnRows(const sql::Db& db, const RelNs& rel);
StatusOr<std::vector<LostCountInfo>> readLostRows(const sql::Db& db);
// Loads the frame table.
StatusOr<std::vector<FrameInfo>> loadFrames(sql::Db& db);

}  // namespace aa
