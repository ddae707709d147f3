#include "store/index.h"

#include <algorithm>
#include <cstring>

#include "store/event_catalog.h"
#include "store/format.h"
#include "store/net_addr.h"

namespace aa {
namespace {

template <typename Entry>
void markDirty(std::vector<Entry*>& dirty, Entry& entry) {
  if (!entry.second.dirty) {
    entry.second.dirty = true;
    dirty.push_back(&entry);
  }
}

std::string_view view(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

template <typename T, size_t N>
std::string packArray(const std::array<T, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), sizeof(T) * N);
}

template <typename T, size_t N>
void unpackArray(const std::string& blob, std::array<T, N>& a) {
  // Older indexes may have fewer kinds: copy what is there.
  std::memcpy(a.data(), blob.data(), std::min(blob.size(), sizeof(T) * N));
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS frames(offset INTEGER PRIMARY KEY, length INTEGER, first_seq INTEGER,
  count INTEGER, t_min INTEGER, t_max INTEGER, kinds INTEGER, kind_counts BLOB, pids BLOB);
CREATE TABLE IF NOT EXISTS processes(pid INTEGER PRIMARY KEY, ppid INTEGER, exe BLOB,
  argv BLOB, comm BLOB, start_ns INTEGER, end_ns INTEGER, exit_code INTEGER, signal INTEGER,
  kind_counts BLOB);
CREATE TABLE IF NOT EXISTS files(path BLOB PRIMARY KEY, opens INTEGER, bytes_read INTEGER,
  bytes_written INTEGER, first_ns INTEGER, last_ns INTEGER, kinds INTEGER);
CREATE TABLE IF NOT EXISTS tls_conns(conn INTEGER PRIMARY KEY, pid INTEGER, fd INTEGER,
  peer TEXT, lib BLOB, bytes_out INTEGER, bytes_in INTEGER, first_ns INTEGER, last_ns INTEGER,
  plain INTEGER);
CREATE TABLE IF NOT EXISTS lost(probe TEXT PRIMARY KEY, count INTEGER);
)sql";

}  // namespace

Status Indexer::createSchema(sql::Db& db) {
  AA_RETURN_IF_ERROR(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  return db.exec(kSchema);
}

Indexer::File& Indexer::touchFile(std::string_view path, Kind kind, uint64_t t) {
  auto it = files_.find(std::string(path));
  bool fresh = it == files_.end();
  if (fresh) it = files_.emplace(std::string(path), File{}).first;
  File& f = it->second;
  if (fresh || t < f.firstNs) f.firstNs = t;
  f.lastNs = std::max(f.lastNs, t);
  f.kinds |= bit(kind);
  markDirty(dirtyFiles_, *it);
  return f;
}

void Indexer::addEvent(schema::Event::Reader e, Kind kind) {
  const uint64_t t = e.getTNs();
  const uint32_t pid = e.getPid();
  if (kind == Kind::kLost) {
    // Loss is reported by the recorder, not by a traced process (pid 0).
    lost_[e.getLost().getProbe()] += e.getLost().getCount();
    lostDirty_ = true;
    return;
  }
  auto [pit, freshProcess] = processes_.try_emplace(pid);
  Process& p = pit->second;
  if (freshProcess || t < p.startNs) p.startNs = t;
  p.kindCounts[static_cast<size_t>(kind)]++;
  if (e.hasComm() && view(e.getComm()) != p.comm) p.comm = view(e.getComm());
  markDirty(dirtyProcesses_, *pit);

  // Every file the event acts on (both names of a rename or link) is in the file table
  // with this kind among its kinds; a symlink's target and an exec's binary are not.
  // (Process, connection and loss events name none: skipping them keeps the recorder's
  // per-event cost where it was.)
  const EventInfo info = (kKindsWithoutFiles & bit(kind)) ? EventInfo{} : describe(e);
  for (const Field& f : info.fields()) {
    if (f.alias || !touchesFile(f.role)) continue;
    File& file = touchFile(f.bytes, kind, t);
    if (kind == Kind::kFileOpen && info.ret && *info.ret >= 0) file.opens++;
    if (kind == Kind::kFileClose) {
      // Byte totals come from close summaries only: per-call read/write events
      // (--io=calls) describe the same bytes again.
      file.bytesRead += e.getFileClose().getBytesRead();
      file.bytesWritten += e.getFileClose().getBytesWritten();
    }
  }

  // The process and connection tables read the few kinds they derive from.
  switch (kind) {
    case Kind::kExec: {
      auto x = e.getExec();
      p.exe = view(x.getPath());
      p.argv.clear();
      for (auto a : x.getArgv()) {
        if (!p.argv.empty()) p.argv.push_back('\0');
        p.argv.append(view(a));
      }
      if (p.ppid == 0) p.ppid = x.getPpid();
      break;
    }
    case Kind::kFork: {
      uint32_t child = e.getFork().getChildPid();
      std::string parentComm = p.comm;   // p may dangle once processes_ grows
      auto [cit, freshChild] = processes_.try_emplace(child);
      cit->second.ppid = pid;
      if (freshChild || t < cit->second.startNs) cit->second.startNs = t;
      if (cit->second.comm.empty()) cit->second.comm = parentComm;
      markDirty(dirtyProcesses_, *cit);
      break;
    }
    case Kind::kExit: {
      // Re-read: the fork branch may have rehashed processes_.
      Process& q = processes_[pid];
      q.endNs = t;
      q.hasEnd = q.hasExit = true;
      q.exitCode = e.getExit().getExitCode();
      q.signal = e.getExit().getSignal();
      break;
    }
    case Kind::kNetConnect: {
      auto x = e.getNetConnect();
      peers_[{pid, x.getFd()}] = formatPeer(x.getFamily(), view(x.getAddr()), x.getPort());
      break;
    }
    case Kind::kTlsWrite:
    case Kind::kTlsRead:
    case Kind::kNetSend:
    case Kind::kNetRecv: {
      auto x = e.getTls();
      auto [cit, fresh] = conns_.try_emplace(x.getConn());
      TlsConn& c = cit->second;
      if (fresh) {
        c.pid = pid;
        c.firstNs = t;
        c.lib = view(x.getLib());
        c.plain = x.getPlain();
      }
      c.lastNs = std::max(c.lastNs, t);
      if (x.getFd() >= 0) c.fd = x.getFd();
      if (c.peer.empty() && c.fd >= 0) {
        auto peer = peers_.find({c.pid, c.fd});
        if (peer != peers_.end()) c.peer = peer->second;
      }
      (kindArea(kind) == KindArea::kSent ? c.bytesOut : c.bytesIn) += x.getData().size();
      markDirty(dirtyConns_, *cit);
      break;
    }
    default:   // file kinds: the file table above; lost: handled at the top
      break;
  }
}

void Indexer::addFrame(FrameInfo frame, capnp::List<schema::Event>::Reader events) {
  frame.kinds = 0;
  frame.kindCounts = {};
  frame.pids.clear();
  for (auto e : events) {
    Kind k = kindOf(e);
    frame.kinds |= bit(k);
    frame.kindCounts[static_cast<size_t>(k)]++;
    frame.pids.push_back(e.getPid());
    addEvent(e, k);
  }
  std::sort(frame.pids.begin(), frame.pids.end());
  frame.pids.erase(std::unique(frame.pids.begin(), frame.pids.end()), frame.pids.end());
  // The list held one pid per event until made distinct: kept for the whole session,
  // its spare capacity (4 bytes per event) was most of the recorder's heap growth.
  frame.pids.shrink_to_fit();
  frames_.push_back(std::move(frame));
}

Status Indexer::persist(sql::Db& db, const IndexMeta& meta) {
  AA_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto fail = [&](const char* what) {
    std::string msg = std::string("index: ") + what + ": " + db.error();
    (void)db.exec("ROLLBACK");   // the failure above is the one to report
    return Status::error(msg);
  };

  sql::Stmt frameRow(db, "INSERT OR REPLACE INTO frames VALUES(?,?,?,?,?,?,?,?,?)");
  if (!frameRow.ok()) return fail("frames");
  for (; persistedFrames_ < frames_.size(); ++persistedFrames_) {
    const FrameInfo& f = frames_[persistedFrames_];
    std::string pids(reinterpret_cast<const char*>(f.pids.data()), f.pids.size() * 4);
    frameRow.bind(1, int64_t(f.offset)).bind(2, int64_t(f.length)).bind(3, int64_t(f.firstSeq))
        .bind(4, int64_t(f.count)).bind(5, int64_t(f.tMin)).bind(6, int64_t(f.tMax))
        .bind(7, int64_t(f.kinds)).bind(8, packArray(f.kindCounts)).bind(9, pids);
    if (!frameRow.run()) return fail("frames");
  }

  sql::Stmt procRow(db, "INSERT OR REPLACE INTO processes VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!procRow.ok()) return fail("processes");
  for (auto* entry : dirtyProcesses_) {
    uint32_t pid = entry->first;
    Process& p = entry->second;
    p.dirty = false;
    procRow.bind(1, int64_t(pid)).bind(2, int64_t(p.ppid)).bind(3, p.exe).bind(4, p.argv)
        .bind(5, p.comm).bind(6, int64_t(p.startNs));
    if (p.hasEnd) procRow.bind(7, int64_t(p.endNs)); else procRow.bindNull(7);
    if (p.hasExit) procRow.bind(8, int64_t(p.exitCode)).bind(9, int64_t(p.signal));
    else procRow.bindNull(8).bindNull(9);
    procRow.bind(10, packArray(p.kindCounts));
    if (!procRow.run()) return fail("processes");
  }

  sql::Stmt fileRow(db, "INSERT OR REPLACE INTO files VALUES(?,?,?,?,?,?,?)");
  if (!fileRow.ok()) return fail("files");
  for (auto* entry : dirtyFiles_) {
    const std::string& path = entry->first;
    File& f = entry->second;
    f.dirty = false;
    fileRow.bind(1, path).bind(2, int64_t(f.opens)).bind(3, int64_t(f.bytesRead))
        .bind(4, int64_t(f.bytesWritten)).bind(5, int64_t(f.firstNs)).bind(6, int64_t(f.lastNs))
        .bind(7, int64_t(f.kinds));
    if (!fileRow.run()) return fail("files");
  }

  sql::Stmt connRow(db, "INSERT OR REPLACE INTO tls_conns VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!connRow.ok()) return fail("tls_conns");
  for (auto* entry : dirtyConns_) {
    uint64_t id = entry->first;
    TlsConn& c = entry->second;
    c.dirty = false;
    connRow.bind(1, int64_t(id)).bind(2, int64_t(c.pid)).bind(3, int64_t(c.fd))
        .bindText(4, c.peer).bind(5, c.lib).bind(6, int64_t(c.bytesOut))
        .bind(7, int64_t(c.bytesIn)).bind(8, int64_t(c.firstNs)).bind(9, int64_t(c.lastNs))
        .bind(10, int64_t(c.plain));
    if (!connRow.run()) return fail("tls_conns");
  }

  if (lostDirty_) {
    sql::Stmt lostRow(db, "INSERT OR REPLACE INTO lost VALUES(?,?)");
    for (const auto& [probe, count] : lost_) {
      lostRow.bindText(1, probe).bind(2, int64_t(count));
      if (!lostRow.run()) return fail("lost");
    }
  }

  sql::Stmt metaRow(db, "INSERT OR REPLACE INTO meta VALUES(?,?)");
  auto putMeta = [&](const char* key, auto value) {
    metaRow.bindText(1, key);
    if constexpr (std::is_integral_v<decltype(value)>) metaRow.bind(2, int64_t(value));
    else metaRow.bindText(2, value);
    return metaRow.run();
  };
  if (!putMeta("index_version", kIndexVersion) ||
      !putMeta("format_version", int64_t(format::kFormatVersion)) ||
      !putMeta("session_id", meta.sessionId) || !putMeta("scanned_size", meta.scannedSize) ||
      !putMeta("log_end", meta.logEnd) || !putMeta("damage", meta.damage) ||
      !putMeta("log_ino", meta.logIno) || !putMeta("log_mtime_ns", meta.logMtimeNs))
    return fail("meta");

  if (!db.exec("COMMIT").ok()) return fail("commit");
  dirtyProcesses_.clear();
  dirtyFiles_.clear();
  dirtyConns_.clear();
  lostDirty_ = false;
  return {};
}

void Indexer::forgetPersistedFrames() {
  if (persistedFrames_ < 2) return;
  frames_.erase(frames_.begin(), frames_.begin() + ptrdiff_t(persistedFrames_ - 1));
  persistedFrames_ = 1;
}

std::optional<IndexMeta> readIndexMeta(sql::Db& db) {
  sql::Stmt st(db, "SELECT key, value FROM meta");
  if (!st.ok()) return std::nullopt;
  IndexMeta m;
  int64_t indexVersion = -1, formatVersion = -1;
  while (st.step() == SQLITE_ROW) {
    std::string key = st.blob(0);
    if (key == "index_version") indexVersion = st.i64(1);
    else if (key == "format_version") formatVersion = st.i64(1);
    else if (key == "session_id") m.sessionId = st.blob(1);
    else if (key == "scanned_size") m.scannedSize = st.i64(1);
    else if (key == "log_end") m.logEnd = st.i64(1);
    else if (key == "damage") m.damage = st.blob(1);
    else if (key == "log_ino") m.logIno = st.i64(1);
    else if (key == "log_mtime_ns") m.logMtimeNs = st.i64(1);
  }
  if (indexVersion != kIndexVersion || formatVersion != format::kFormatVersion)
    return std::nullopt;
  return m;
}

StatusOr<std::vector<FrameInfo>> loadFrames(sql::Db& db) {
  sql::Stmt st(db, "SELECT offset, length, first_seq, count, t_min, t_max, kinds, kind_counts, "
                   "pids FROM frames ORDER BY offset");
  if (!st.ok()) return Status::error("index: frames: " + db.error());
  std::vector<FrameInfo> frames;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    FrameInfo f;
    f.offset = st.i64(0);
    f.length = st.i64(1);
    f.firstSeq = st.i64(2);
    f.count = st.i64(3);
    f.tMin = st.i64(4);
    f.tMax = st.i64(5);
    f.kinds = st.i64(6);
    unpackArray(st.blob(7), f.kindCounts);
    std::string pids = st.blob(8);
    f.pids.resize(pids.size() / 4);
    std::memcpy(f.pids.data(), pids.data(), f.pids.size() * 4);
    frames.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return Status::error("index: frames: " + db.error());
  return frames;
}

Status dropIndexTables(sql::Db& db) {
  return db.exec(
      "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS frames; DROP TABLE IF EXISTS processes;"
      "DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS tls_conns; DROP TABLE IF EXISTS lost;");
}

namespace {

Status queryFailed(const sql::Db& db, const char* table) {
  return Status::error(std::string("index: reading ") + table + ": " + db.error());
}

// Every row of `query` through `fill`; a query that fails to prepare or to finish is an
// error naming the table.
template <typename Row, typename Fill>
StatusOr<std::vector<Row>> readRows(const sql::Db& db, const char* table, const char* query,
                                    Fill fill, size_t expected = 0) {
  std::vector<Row> rows;
  rows.reserve(expected);
  sql::Stmt st(db, query);
  if (!st.ok()) return queryFailed(db, table);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) rows.push_back(fill(st));
  if (rc != SQLITE_DONE) return queryFailed(db, table);
  return rows;
}

std::vector<std::string> splitNul(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t nul = s.find('\0', pos);
    out.push_back(s.substr(pos, nul - pos));
    if (nul == std::string::npos) return out;
    pos = nul + 1;
  }
}

}  // namespace

StatusOr<std::vector<ProcessRow>> readProcessRows(const sql::Db& db, const RelNs& rel) {
  // Growing the vector row by row costs more than the query: size it first.
  size_t expected = 0;
  sql::Stmt count(db, "SELECT count(*) FROM processes");
  if (count.ok() && count.step() == SQLITE_ROW) expected = size_t(count.i64(0));
  return readRows<ProcessRow>(
      db, "processes",
      "SELECT pid, ppid, exe, argv, comm, start_ns, end_ns, exit_code, signal, kind_counts "
      "FROM processes ORDER BY start_ns, pid",
      [&](sql::Stmt& st) {
        ProcessRow r;
        r.pid = st.i64(0);
        r.ppid = st.i64(1);
        r.exe = st.blob(2);
        std::string argv = st.blob(3);
        if (!r.exe.empty() || !argv.empty()) r.argv = splitNul(argv);
        r.comm = st.blob(4);
        r.startNs = rel(st.i64(5));
        if (!st.isNull(6)) r.endNs = rel(st.i64(6));
        if (!st.isNull(7)) r.exitCode = st.i64(7);
        if (!st.isNull(8)) r.signal = st.i64(8);
        unpackArray(st.blob(9), r.kindCounts);
        return r;
      },
      expected);
}

StatusOr<std::vector<FileRow>> readFileRows(const sql::Db& db, const RelNs& rel) {
  return readRows<FileRow>(
      db, "files",
      "SELECT path, opens, bytes_read, bytes_written, first_ns, last_ns, kinds FROM files "
      "ORDER BY path",
      [&](sql::Stmt& st) {
        FileRow r;
        r.path = st.blob(0);
        r.opens = st.i64(1);
        r.bytesRead = st.i64(2);
        r.bytesWritten = st.i64(3);
        r.firstNs = rel(st.i64(4));
        r.lastNs = rel(st.i64(5));
        r.kinds = st.i64(6);
        return r;
      });
}

StatusOr<std::vector<TlsConnRow>> readTlsConnRows(const sql::Db& db, const RelNs& rel) {
  return readRows<TlsConnRow>(
      db, "tls_conns",
      "SELECT conn, pid, fd, peer, lib, bytes_out, bytes_in, first_ns, last_ns, plain FROM tls_conns "
      "ORDER BY first_ns, conn",
      [&](sql::Stmt& st) {
        TlsConnRow r;
        r.conn = st.i64(0);
        r.pid = st.i64(1);
        r.fd = st.i64(2);
        r.peer = st.blob(3);
        r.lib = st.blob(4);
        r.bytesOut = st.i64(5);
        r.bytesIn = st.i64(6);
        r.firstNs = rel(st.i64(7));
        r.lastNs = rel(st.i64(8));
        r.plain = st.i64(9) != 0;
        return r;
      });
}

StatusOr<std::vector<LostCountInfo>> readLostRows(const sql::Db& db) {
  return readRows<LostCountInfo>(db, "lost", "SELECT probe, count FROM lost ORDER BY probe",
                                 [](sql::Stmt& st) {
                                   return LostCountInfo{st.blob(0), uint64_t(st.i64(1))};
                                 });
}

}  // namespace aa
