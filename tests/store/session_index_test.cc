// The index: rebuilt when missing, stale or foreign; queries equal a filtered full scan;
// derived tables match the events.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <capnp/message.h>

#include "random_events.h"
#include "store/index.h"
#include "store/session_files.h"
#include "store/session_reader.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

void removeSession(const std::string& p) {
  for (const std::string& f : sessionFiles(p)) unlink(f.c_str());
}

TEST(Index, MissingStaleAndForeignIndexesAreRebuilt) {
  std::string a = test::tempPath("ia.aas"), b = test::tempPath("ib.aas");
  test::writeRandomSession(a, 500, 1);
  test::writeRandomSession(b, 300, 2);

  auto fresh = SessionReader::open(a);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh.value()->indexRebuilt());
  fresh.value().reset();

  unlink((a + "-index").c_str());
  auto missing = SessionReader::open(a);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing.value()->indexRebuilt());
  EXPECT_EQ(missing.value()->eventCount(), 500u);
  missing.value().reset();
  EXPECT_FALSE(SessionReader::open(a).value()->indexRebuilt()) << "the rebuilt index is kept";

  fs::copy_file(b + "-index", a + "-index", fs::copy_options::overwrite_existing);
  auto foreign = SessionReader::open(a);
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(foreign.value()->indexRebuilt());
  EXPECT_EQ(foreign.value()->eventCount(), 500u);
  foreign.value().reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((a + "-index").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value=0 WHERE key='index_version'", 0, 0, 0), SQLITE_OK);
  sqlite3_close(db);
  auto older = SessionReader::open(a);
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older.value()->indexRebuilt());
  EXPECT_EQ(older.value()->eventCount(), 500u);
  older.value().reset();

  // A log that grew after indexing (a recorder killed before its last index update).
  fs::resize_file(a, fs::file_size(a) + 5);
  auto grown = SessionReader::open(a);
  ASSERT_TRUE(grown.ok());
  EXPECT_TRUE(grown.value()->indexRebuilt());
  EXPECT_FALSE(grown.value()->damage().ok()) << "trailing garbage is damage";
  EXPECT_TRUE(grown.value()->footer().has_value()) << "the footer before the garbage still counts";
  EXPECT_EQ(grown.value()->eventCount(), 500u);

  removeSession(a);
  removeSession(b);
}

TEST(Index, QueriesEqualAFilteredFullScan) {
  std::string p = test::tempPath("iq.aas");
  WriterOptions opt;
  opt.batchEvents = 64;
  test::writeRandomSession(p, 20000, 5, opt);
  auto r = SessionReader::open(p);
  ASSERT_TRUE(r.ok());
  const SessionReader& reader = *r.value();

  struct Row { uint64_t seq, rel; uint32_t pid; Kind kind; };
  std::vector<Row> all;
  ASSERT_TRUE(reader.forEach({}, [&](auto e) {
    all.push_back({e.getSeq(), reader.relNs(e.getTNs()), e.getPid(), kindOf(e)});
    return true;
  }).ok());
  ASSERT_EQ(all.size(), 20000u);

  std::mt19937 rng(9);
  uint64_t span = reader.durationNs();
  for (int round = 0; round < 40; ++round) {
    EventQuery q;
    uint64_t a = rng() % span, w = rng() % (span / 20 + 1);
    if (round % 4 != 0) q.fromNs = a, q.toNs = a + w;
    if (round % 3 == 0) q.pids = {uint32_t(100u + rng() % 8)};
    if (round % 2 == 0) q.kinds = bit(Kind(rng() % kKindCount)) | bit(Kind::kTlsWrite);
    if (round % 5 == 0) q.fromSeq = rng() % 20000;
    std::vector<uint64_t> expect, got;
    for (const Row& row : all) {
      if (row.seq < q.fromSeq) continue;
      if (q.fromNs && row.rel < *q.fromNs) continue;
      if (q.toNs && row.rel > *q.toNs) continue;
      if (!q.pids.empty() && row.pid != q.pids[0]) continue;
      if (!(q.kinds & bit(row.kind))) continue;
      expect.push_back(row.seq);
    }
    ASSERT_TRUE(reader.forEach(q, [&](auto e) { got.push_back(e.getSeq()); return true; }).ok());
    ASSERT_EQ(got, expect) << "round " << round;
    if (q.fromNs && !q.pids.size()) {
      // A narrow time window decodes only the frames around it.
      EXPECT_LT(reader.framesFor(q).size(), reader.frames().size() / 4 + 2) << "round " << round;
    }
  }
  removeSession(p);
}

TEST(Index, DerivedTablesDescribeTheEvents) {
  std::string p = test::tempPath("id.aas");
  SessionHeaderInfo h;
  h.startMonoNs = 1000;
  auto w = SessionWriter::create(p, h).value();
  auto common = [&](schema::Event::Builder e, uint64_t t, uint32_t pid) {
    e.setTNs(t);
    e.setPid(pid);
    e.setTid(pid);
    e.setComm(test::bytes("sh"));
  };
  auto e = w->append();
  common(e, 2000, 10);
  e.initFork().setChildPid(11);
  e = w->append();
  common(e, 3000, 11);
  auto x = e.initExec();
  x.setPath(test::bytes("/usr/bin/curl"));
  auto argv = x.initArgv(2);
  argv.set(0, test::bytes("curl"));
  argv.set(1, test::bytes("https://x"));
  e = w->append();
  common(e, 3500, 11);
  auto c = e.initNetConnect();
  c.setFd(5);
  c.setFamily(2);
  c.setAddr(test::bytes(std::string("\x7f\0\0\x01", 4)));
  c.setPort(8443);
  for (int i = 0; i < 2; ++i) {
    e = w->append();
    common(e, 4000 + i, 11);
    auto t = e.initTls();
    t.setDirection(i ? schema::TlsDirection::READ : schema::TlsDirection::WRITE);
    t.setConn(1);
    t.setFd(5);
    t.setData(test::bytes(i ? "HTTP/1.1 200 OK\r\n\r\n" : "GET / HTTP/1.1\r\n\r\n"));
  }
  e = w->append();
  common(e, 5000, 11);
  auto cl = e.initFileClose();
  cl.setPath(test::bytes("/tmp/out"));
  cl.setBytesWritten(1234);
  e = w->append();
  common(e, 5001, 11);
  auto rn = e.initFileRename();
  rn.setOldPath(test::bytes("/tmp/out"));
  rn.setNewPath(test::bytes("/tmp/final"));
  e = w->append();
  common(e, 6000, 11);
  e.initExit().setExitCode(3);
  e = w->append();
  common(e, 6001, 0);   // the recorder reports loss as pid 0
  e.initLost().setCount(7);
  e.getLost().setProbe("sys_exit");
  ASSERT_TRUE(w->close().ok());

  for (bool rebuild : {false, true}) {
    auto r = SessionReader::open(p, {.rebuildIndex = rebuild}).value();
    auto procs = r->processes();
    ASSERT_EQ(procs.size(), 2u) << "no process row for the recorder's loss reports";
    ASSERT_EQ(r->lostTotals().size(), 1u);
    EXPECT_EQ(r->lostTotals()[0].count, 7u);
    EXPECT_EQ(procs[1].pid, 11u);
    EXPECT_EQ(procs[1].ppid, 10u);
    EXPECT_EQ(procs[1].exe, "/usr/bin/curl");
    EXPECT_EQ(procs[1].argv, (std::vector<std::string>{"curl", "https://x"}));
    EXPECT_EQ(procs[1].startNs, 1000u);
    EXPECT_EQ(procs[1].endNs, 5000u);
    EXPECT_EQ(procs[1].exitCode, 3);
    EXPECT_EQ(procs[1].kindCounts[int(Kind::kTlsWrite)], 1u);
    auto files = r->files();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[1].path, "/tmp/out");
    EXPECT_EQ(files[1].bytesWritten, 1234u);
    EXPECT_EQ(files[0].path, "/tmp/final");
    auto conns = r->tlsConnections();
    ASSERT_EQ(conns.size(), 1u);
    EXPECT_EQ(conns[0].peer, "127.0.0.1:8443");
    EXPECT_EQ(conns[0].bytesOut, 18u);
    EXPECT_EQ(conns[0].bytesIn, 19u);
    EXPECT_EQ(r->kindTotals()[int(Kind::kExec)], 1u);
  }
  removeSession(p);
}

}  // namespace
}  // namespace aa

namespace aa {
namespace {

// The recorder's heap grew ~5 B per event over a long session: each frame's pid list
// kept the capacity of one entry per event after being made distinct. Frames live as
// long as the writer, so the list must hold no more than its distinct pids.
TEST(Index, FramePidListsKeepNoSpareCapacity) {
  capnp::MallocMessageBuilder msg;
  auto events = msg.initRoot<schema::Batch>().initEvents(4096);
  for (uint32_t i = 0; i < events.size(); ++i) {
    events[i].setSeq(i);
    events[i].setPid(100 + i % 3);
    events[i].initChdir().setRet(0);
  }
  Indexer indexer;
  FrameInfo f;
  f.count = events.size();
  indexer.addFrame(f, events.asReader());
  ASSERT_EQ(indexer.frames().size(), 1u);
  EXPECT_EQ(indexer.frames()[0].pids, (std::vector<uint32_t>{100, 101, 102}));
  EXPECT_LE(indexer.frames()[0].pids.capacity(), 3u);

  // The writer keeps only the last persisted frame in memory.
  auto db = sql::Db::open(":memory:", false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Indexer::createSchema(db.value()).ok());
  for (uint64_t i = 1; i < 5; ++i) {
    FrameInfo g;
    g.offset = 1000 * i;
    g.count = events.size();
    indexer.addFrame(g, events.asReader());
  }
  ASSERT_TRUE(indexer.persist(db.value(), IndexMeta{}).ok());
  indexer.forgetPersistedFrames();
  ASSERT_EQ(indexer.frames().size(), 1u);
  EXPECT_EQ(indexer.frames()[0].offset, 4000u);
  auto frames = loadFrames(db.value());
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames.value().size(), 5u) << "all of them are in the database";
}

}  // namespace
}  // namespace aa
