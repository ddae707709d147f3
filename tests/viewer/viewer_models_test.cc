// Viewer models: pure time<->pixel mapping and level-of-detail aggregation, payload
// formatting, and the document/tree/table models checked against a known session.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QTemporaryDir>
#include <QTextDocument>
#include <gtest/gtest.h>

#include <fcntl.h>

#include <capnp/message.h>

#include "tests/viewer/llm_session.h"
#include "tests/viewer/test_session.h"
#include "viewer/models/chart_data.h"
#include "viewer/models/connection_stream.h"
#include "viewer/models/event_format.h"
#include "viewer/models/event_table_model.h"
#include "viewer/models/lod.h"
#include "viewer/models/process_tree_model.h"
#include "viewer/models/session_document.h"
#include "viewer/models/time_axis.h"
#include "viewer/models/traffic_view.h"

using namespace aa;
using namespace aa::view;
using namespace aa::view::test;

namespace {

// ---- TimeAxis ------------------------------------------------------------------------

TEST(TimeAxis, MapsBothWays) {
  TimeAxis a;
  a.setWidth(1000);
  a.setTotal(10'000'000'000ull);
  a.setRange(1e9, 3e9);
  EXPECT_DOUBLE_EQ(a.xOf(1e9), 0);
  EXPECT_DOUBLE_EQ(a.xOf(2e9), 500);
  EXPECT_DOUBLE_EQ(a.nsAt(250), 1.5e9);
  EXPECT_DOUBLE_EQ(a.nsPerPixel(), 2e6);
  for (double x : {0.0, 17.0, 999.0}) EXPECT_NEAR(a.xOf(a.nsAt(x)), x, 1e-6);
}

TEST(TimeAxis, ZoomKeepsAnchorAndPanMoves) {
  TimeAxis a;
  a.setWidth(800);
  a.setTotal(8'000'000'000ull);
  a.setRange(0, 8e9);
  const double anchorNs = a.nsAt(200);
  a.zoom(4, 200);
  EXPECT_NEAR(a.span(), 2e9, 1);
  EXPECT_NEAR(a.nsAt(200), anchorNs, 1);
  const double from = a.from();
  a.pan(100);
  EXPECT_NEAR(a.from(), from + 100 * a.nsPerPixel(), 1);
}

TEST(TimeAxis, ClampsAndFits) {
  TimeAxis a;
  a.setWidth(500);
  a.setTotal(1'000'000);
  a.zoom(1e12, 250);
  EXPECT_GE(a.span(), TimeAxis::kMinSpanNs);
  a.setRange(-1e12, 1e12);   // far outside: clamped to the session plus a margin
  EXPECT_GE(a.from(), -0.05e6 - 1);
  EXPECT_LE(a.to(), 1.05e6 + 1);
  a.fit();
  EXPECT_LT(a.from(), 0);
  EXPECT_GT(a.to(), 1e6);
  EXPECT_LE(a.from(), 0);
}

TEST(TimeAxis, TicksAreRoundAndSpaced) {
  TimeAxis a;
  a.setWidth(1000);
  a.setTotal(10'000'000'000ull);
  a.setRange(0, 10e9);
  const auto ticks = a.ticks(80);
  ASSERT_GE(ticks.size(), 5u);
  const double step = ticks[1].ns - ticks[0].ns;
  EXPECT_GE(ticks[1].x - ticks[0].x, 80 - 1e-9);
  EXPECT_DOUBLE_EQ(step, 1e9);   // 80 px = 0.8 s -> next 1-2-5 step is 1 s
  for (const Tick& t : ticks) EXPECT_NEAR(std::fmod(t.ns, step), 0, 1e-3);
}

TEST(TimeAxis, FormatsAndParses) {
  EXPECT_EQ(formatSessionTime(1.25e9, 1e7), QStringLiteral("+1.25 s"));
  EXPECT_EQ(formatSessionTime(0, 1e9), QStringLiteral("+0 s"));
  EXPECT_EQ(formatDuration(1.5e6), QStringLiteral("1.50 ms"));
  double ns = 0;
  EXPECT_TRUE(parseTime(QStringLiteral("1.5"), &ns));
  EXPECT_DOUBLE_EQ(ns, 1.5e9);
  EXPECT_TRUE(parseTime(QStringLiteral("200ms"), &ns));
  EXPECT_DOUBLE_EQ(ns, 2e8);
  EXPECT_TRUE(parseTime(QStringLiteral("30us"), &ns));
  EXPECT_DOUBLE_EQ(ns, 3e4);
  EXPECT_FALSE(parseTime(QStringLiteral("soon"), &ns));
}

// ---- LOD -----------------------------------------------------------------------------

TEST(Lod, SummaryBuilderBinsAndMergesOutOfOrder) {
  SummaryBuilder b(1000, 2, 10);   // 10 bins of 101 ns
  b.add(5, 0, Activity::Exec);
  b.add(150, 0, Activity::FileRead);
  b.add(10, 0, Activity::FileRead);   // out of order: back into bin 0
  b.add(999, 1, Activity::Sent, 300);
  b.addGap(400, 420, 3);
  b.addGap(410, 450, 2);   // overlaps: merged
  const Summary s = b.finish();
  ASSERT_EQ(s.processes[0].size(), 2u);
  EXPECT_EQ(s.processes[0][0].bin, 0u);
  EXPECT_EQ(s.processes[0][0].counts[int(Activity::Exec)], 1);
  EXPECT_EQ(s.processes[0][0].counts[int(Activity::FileRead)], 1);
  EXPECT_EQ(s.processes[0][1].bin, 1u);
  ASSERT_EQ(s.processes[1].size(), 1u);
  EXPECT_EQ(s.processes[1][0].bin, 9u);
  EXPECT_EQ(s.tlsOutBytes[9], 300u);
  EXPECT_EQ(s.events, 4u);
  ASSERT_EQ(s.gaps.size(), 1u);
  EXPECT_EQ(s.gaps[0].toNs, 450u);
  EXPECT_EQ(s.gaps[0].lost, 5u);
}

TEST(Lod, MarksLandInTheirLaneAndColumn) {
  TimeAxis a;
  a.setWidth(100);
  a.setTotal(1000);
  a.setRange(0, 1000);   // 10 ns per column
  ColumnGrid g;
  g.reset(2, 100);
  const std::vector<Mark> marks = {{15, 0, 0, Activity::Exec}, {15, 1, 1, Activity::Received},
                                   {999, 1, 2, Activity::Received}, {500, 2, 3, Activity::Exec},
                                   {700, 0, 4, Activity::FileWrite}};
  const std::vector<int> laneOf = {1, 0, -1};   // process 2 hidden
  accumulateMarks(g, a, marks, laneOf, kAllActivities, 600);
  EXPECT_EQ(g.at(1, 1)[int(Activity::Exec)], 1u);
  EXPECT_EQ(g.at(0, 1)[int(Activity::Received)], 1u);
  EXPECT_EQ(g.at(0, 99)[int(Activity::Received)], 0u);   // after the cutoff
  EXPECT_EQ(g.at(1, 70)[int(Activity::FileWrite)], 0u); // after the cutoff
  uint32_t total = 0;
  for (const auto& c : g.cells) for (uint32_t v : c) total += v;
  EXPECT_EQ(total, 2u);
  g.reset(2, 100);
  accumulateMarks(g, a, marks, laneOf, activityBit(Activity::FileWrite), 1e18);
  EXPECT_EQ(g.at(1, 70)[int(Activity::FileWrite)], 1u);
  EXPECT_EQ(g.maxCount(Activity::Exec), 0u);   // filtered out
}

TEST(Lod, SummaryFillsTheColumnsOfItsBins) {
  SummaryBuilder b(1000, 1, 10);   // bins of 101 ns
  for (int i = 0; i < 7; ++i) b.add(250, 0, Activity::FileMeta);   // bin 2: [202, 303)
  const Summary s = b.finish();
  TimeAxis a;
  a.setWidth(100);
  a.setTotal(1000);
  a.setRange(0, 1000);
  ColumnGrid g;
  g.reset(1, 100);
  accumulateSummary(g, a, s, {0}, kAllActivities, 1e18);
  EXPECT_EQ(g.at(0, 19)[int(Activity::FileMeta)], 0u);
  EXPECT_EQ(g.at(0, 20)[int(Activity::FileMeta)], 7u);   // [200, 210) meets the bin at 202
  EXPECT_EQ(g.at(0, 30)[int(Activity::FileMeta)], 7u);   // [300, 310) meets it up to 303
  EXPECT_EQ(g.at(0, 31)[int(Activity::FileMeta)], 0u);
  // Zoomed out so that many bins share a column, counts stay per bin (density).
  a.setWidth(5);
  a.setRange(0, 1000);
  g.reset(1, 5);
  accumulateSummary(g, a, s, {0}, kAllActivities, 1e18);
  EXPECT_EQ(g.at(0, 1)[int(Activity::FileMeta)], 7u);
}

TEST(Lod, EstimateAndRebin) {
  std::vector<FrameSpan> frames(2);
  frames[0].fromNs = 0; frames[0].toNs = 100; frames[0].count = 100;
  frames[1].fromNs = 100; frames[1].toNs = 300; frames[1].count = 50;
  EXPECT_NEAR(estimateEvents(frames, 0, 50), 50, 1e-9);
  EXPECT_NEAR(estimateEvents(frames, 200, 300), 25, 1e-9);
  EXPECT_NEAR(estimateEvents(frames, 0, 1000), 150, 1e-9);
  SummaryBuilder b(1000, 1, 100);
  for (int i = 0; i < 1000; ++i) b.add(uint64_t(i), 0, Activity::FileRead);
  const Summary s = b.finish();
  const auto r = rebinActivity(s, 0, 1000, 4);
  uint64_t sum = 0;
  for (const auto& c : r) sum += c[int(Activity::FileRead)];
  EXPECT_EQ(sum, 1000u);
}

// ---- Activities and formatting -------------------------------------------------------

TEST(Format, PayloadHttpJsonChunkedBinary) {
  const Payload req = formatPayload(QByteArray(kRequest));
  EXPECT_EQ(req.form, Payload::Form::Http);
  EXPECT_EQ(req.startLine, QStringLiteral("POST /v1/messages HTTP/1.1"));
  EXPECT_TRUE(req.headers.contains(QStringLiteral("Host: api.example.com")));
  EXPECT_FALSE(req.headers.contains(QStringLiteral("model")));
  EXPECT_TRUE(req.bodyIsJson);
  EXPECT_TRUE(req.body.contains(QStringLiteral("\"max_tokens\": 5"))) << req.body.toStdString();

  const QByteArray chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "7\r\n{\"a\":1}\r\n0\r\n\r\n";
  const Payload c = formatPayload(chunked);
  EXPECT_TRUE(c.bodyIsJson);
  EXPECT_TRUE(c.body.contains(QStringLiteral("\"a\": 1")));

  const Payload bin = formatPayload(QByteArray("\x00\x01\x02\x03zz\xff\xfe", 8));
  EXPECT_EQ(bin.form, Payload::Form::Binary);
  EXPECT_TRUE(bin.body.startsWith(QStringLiteral("00000000  00 01 02 03"))) << bin.body.toStdString();

  const Payload text = formatPayload("hello\nworld");
  EXPECT_EQ(text.form, Payload::Form::Text);
  EXPECT_EQ(text.body, QStringLiteral("hello\nworld"));
}

// Recorded values are Linux's whatever the host: 01101 is O_WRONLY|O_CREAT|O_TRUNC on
// Linux (on macOS O_CREAT is 0x200), 11 is EAGAIN (35 on macOS).
TEST(Format, FlagsAndErrno) {
  EXPECT_EQ(openFlagsText(01101), QStringLiteral("O_WRONLY|O_CREAT|O_TRUNC"));
  EXPECT_EQ(errnoText(-2), QStringLiteral("-2 (ENOENT)"));
  EXPECT_EQ(errnoText(-11), QStringLiteral("-11 (EAGAIN)"));
  EXPECT_EQ(errnoText(7), QStringLiteral("7"));
}

// ---- Against a session ---------------------------------------------------------------

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    path = dir.filePath(QStringLiteral("run.aas"));
    const std::string err = writeTestSession(path.toStdString(), spec());
    ASSERT_EQ(err, "");
    auto d = SessionDocument::open(path);
    ASSERT_TRUE(d.ok()) << d.status().message();
    doc = std::move(d.value());
  }
  virtual SessionSpec spec() const { return {}; }
  int proc(uint32_t pid) const { return doc->processIndex(pid); }

  QTemporaryDir dir;
  QString path;
  std::unique_ptr<SessionDocument> doc;
};

TEST_F(SessionTest, ProcessTreeShape) {
  ASSERT_EQ(doc->processes().size(), 3u);   // pid 0 (lost reports) gets no lane
  ASSERT_EQ(doc->roots().size(), 1u);
  const ProcessInfo& root = doc->processes()[doc->roots()[0]];
  EXPECT_EQ(root.row.pid, 100u);
  EXPECT_EQ(root.name, QStringLiteral("python3"));
  EXPECT_EQ(doc->commandLine(doc->roots()[0]), QStringLiteral("python3 agent.py"));
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(doc->processes()[root.children[0]].row.pid, 200u);   // started first
  EXPECT_EQ(doc->processes()[root.children[1]].row.pid, 300u);
  EXPECT_EQ(doc->processes()[proc(200)].depth, 1);
  EXPECT_EQ(doc->processes()[proc(200)].activity[int(Activity::Sent)], 1u);
  EXPECT_EQ(doc->processes()[proc(200)].activity[int(Activity::Received)], 1u);
  EXPECT_EQ(doc->subtreePids(proc(100)), (std::vector<uint32_t>{100, 200, 300}));
  EXPECT_EQ(doc->durationNs(), 100 * kMs);
  EXPECT_EQ(doc->eventCount(), uint64_t(kBaseEvents));
  EXPECT_GE(doc->frames().size(), 3u);
}

TEST_F(SessionTest, LanesFollowTreeAndCollapse) {
  LaneLayout l;
  l.setDocument(doc.get());
  ASSERT_EQ(l.lanes().size(), 3u);
  EXPECT_EQ(l.lanes()[0].process, proc(100));
  EXPECT_TRUE(l.lanes()[0].hasChildren);
  EXPECT_EQ(l.lanes()[1].process, proc(200));
  EXPECT_EQ(l.lanes()[2].process, proc(300));
  l.setCollapsed(proc(100), true);
  ASSERT_EQ(l.lanes().size(), 1u);
  EXPECT_EQ(l.laneOfProcess(proc(200)), 0);
  EXPECT_EQ(l.laneOfProcess(proc(300)), 0);
  l.setCollapsed(proc(100), false);
  EXPECT_EQ(l.laneOfProcess(proc(300)), 2);
}

TEST_F(SessionTest, SummaryCountsEveryEventInItsLane) {
  doc->startSummary(1000);
  ASSERT_TRUE(doc->waitForSummary(10000));
  auto s = doc->summary();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->events, uint64_t(kBaseEvents - 1));   // the lost report is a gap
  auto count = [&](uint32_t pid, Activity a) {
    uint64_t n = 0;
    for (const auto& c : s->processes[proc(pid)]) n += c.counts[int(a)];
    return n;
  };
  EXPECT_EQ(count(100, Activity::Exec), 1u);
  EXPECT_EQ(count(100, Activity::FileRead), 2u);    // open + close of /etc/hosts
  EXPECT_EQ(count(100, Activity::FileWrite), 2u);   // open for write + close that wrote
  EXPECT_EQ(count(100, Activity::FileMeta), 2u);    // rename + unlink
  EXPECT_EQ(count(200, Activity::Sent), 1u);
  EXPECT_EQ(count(200, Activity::Received), 1u);
  EXPECT_EQ(count(200, Activity::Net), 1u);
  EXPECT_EQ(count(300, Activity::Exec), 1u);
  ASSERT_EQ(s->gaps.size(), 1u);
  EXPECT_EQ(s->gaps[0].lost, 5u);
  EXPECT_EQ(s->gaps[0].toNs, 80 * kMs);
  EXPECT_EQ(s->gaps[0].fromNs, 75 * kMs);   // from the event before the report
  uint64_t tlsOut = 0;
  for (uint64_t b : s->tlsOutBytes) tlsOut += b;
  EXPECT_EQ(tlsOut, strlen(kRequest));
}

TEST_F(SessionTest, ProcessTreeModelPassesTesterAndShowsCounts) {
  ProcessTreeModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setDocument(doc.get());
  ASSERT_EQ(m.rowCount(), 1);
  const QModelIndex root = m.index(0, 0);
  EXPECT_EQ(m.data(root, Qt::DisplayRole).toString(), QStringLiteral("python3"));
  ASSERT_EQ(m.rowCount(root), 2);
  const QModelIndex curl = m.index(0, 0, root);
  EXPECT_EQ(m.data(m.index(0, ProcessTreeModel::PidColumn, root), Qt::DisplayRole).toUInt(), 200u);
  EXPECT_EQ(m.data(m.index(0, ProcessTreeModel::SentColumn, root), Qt::DisplayRole).toULongLong(), 1u);
  EXPECT_EQ(m.parent(curl), root);
  EXPECT_EQ(m.data(m.index(1, ProcessTreeModel::ExitColumn, root), Qt::DisplayRole).toInt(), 2);
  EXPECT_EQ(m.indexOfProcess(proc(300)), m.index(1, 0, root));
}

TEST_F(SessionTest, EventTablePassesTesterAndFilters) {
  EventTableModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setDocument(doc.get());
  EXPECT_EQ(m.rowCount(), kBaseEvents);
  EXPECT_EQ(m.data(m.index(0, EventTableModel::KindColumn), Qt::DisplayRole).toString(), QStringLiteral("exec"));
  // The one summary (store/render/event_summary.h): the binary run, then argv[1..].
  EXPECT_EQ(m.data(m.index(0, EventTableModel::SummaryColumn), Qt::DisplayRole).toString(), QStringLiteral("/usr/bin/python3 agent.py"));
  EXPECT_EQ(m.data(m.index(3, EventTableModel::SummaryColumn), Qt::DisplayRole).toString(), QStringLiteral("/etc/hosts"));
  EXPECT_EQ(m.data(m.index(4, EventTableModel::BytesColumn), Qt::DisplayRole).toString(), QStringLiteral("512"));

  EventFilter f;
  f.activities = activityBit(Activity::Sent) | activityBit(Activity::Received);
  m.setFilter(f);
  ASSERT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.data(m.index(0, EventTableModel::KindColumn), Qt::DisplayRole).toString(), QStringLiteral("tls.write"));
  EXPECT_EQ(m.data(m.index(1, EventTableModel::KindColumn), Qt::DisplayRole).toString(), QStringLiteral("tls.read"));

  f = EventFilter();
  f.activities = activityBit(Activity::FileWrite);   // opens decide by their flags
  m.setFilter(f);
  EXPECT_EQ(m.rowCount(), 2);

  f = EventFilter();
  f.processes.assign(doc->processes().size(), 0);
  for (int p : doc->subtree(proc(200))) f.processes[p] = 1;
  m.setFilter(f);
  EXPECT_EQ(m.rowCount(), 5);   // exec, connect, tls write, tls read, exit

  f = EventFilter();
  f.text = "final.txt";
  m.setFilter(f);
  ASSERT_EQ(m.rowCount(), 1);
  EXPECT_EQ(m.data(m.index(0, EventTableModel::KindColumn), Qt::DisplayRole).toString(), QStringLiteral("file.rename"));
  ASSERT_EQ(m.rows().matches().size(), 1u);
  EXPECT_EQ(m.rows().matches()[0].ns, 70 * kMs);

  f.text = "max_tokens";   // inside the TLS payload
  m.setFilter(f);
  EXPECT_EQ(m.rowCount(), 1);

  f = EventFilter();
  f.fromNs = 35 * kMs;
  f.toNs = 75 * kMs;
  m.setFilter(f);
  EXPECT_EQ(m.rowCount(), 4);   // tls write, tls read, rename, unlink

  m.setFilter(EventFilter());
  m.sort(EventTableModel::TimeColumn, Qt::DescendingOrder);
  EXPECT_EQ(m.data(m.index(0, EventTableModel::KindColumn), Qt::DisplayRole).toString(), QStringLiteral("exit"));
  EXPECT_EQ(m.rowOfSeq(0), kBaseEvents - 1);
  EXPECT_EQ(m.seqAtRow(m.rowOfSeq(5)), 5u);
  m.sort(EventTableModel::TimeColumn, Qt::AscendingOrder);
  EXPECT_EQ(m.rowAtTime(double(45 * kMs)), m.rowOfSeq(8));   // last event at or before 45 ms
}

// The "show whole stream" text: both directions of conn 7 in order, HTTP apart, and a
// budget that cuts a long stream (and says so).
TEST_F(SessionTest, ConnectionStreamJoinsBothDirections) {
  const QString all = connectionStreamText(*doc, 7);
  const qsizetype sent = all.indexOf(QStringLiteral("→ sent"));
  const qsizetype received = all.indexOf(QStringLiteral("← received"));
  ASSERT_GE(sent, 0) << all.toStdString();
  EXPECT_GT(received, sent);
  EXPECT_TRUE(all.contains(QStringLiteral("(SSL_write)")));
  EXPECT_TRUE(all.contains(QStringLiteral("POST /v1/messages HTTP/1.1")));
  EXPECT_FALSE(all.contains(QStringLiteral("stream cut")));
  EXPECT_TRUE(connectionStreamText(*doc, 99).isEmpty());
  const QString cut = connectionStreamText(*doc, 7, 10);
  EXPECT_TRUE(cut.contains(QStringLiteral("stream cut at 10 B")));
  EXPECT_LT(cut.indexOf(QStringLiteral("← received")), 0);
}

TEST_F(SessionTest, DetailsShowArgvCwdAndTlsParts) {
  QString exec, tls;
  ASSERT_TRUE(doc->withEvent(2, [&](schema::Event::Reader e) { exec = eventDetailsHtml(e, "t", "p"); }));
  EXPECT_TRUE(exec.contains(QStringLiteral("/home/agent")));
  EXPECT_TRUE(exec.contains(QStringLiteral("https://api.example.com")));
  ASSERT_TRUE(doc->withEvent(8, [&](schema::Event::Reader e) { tls = eventDetailsHtml(e, "t", "p"); }));
  EXPECT_TRUE(tls.contains(QStringLiteral("POST /v1/messages HTTP/1.1")));
  EXPECT_TRUE(tls.contains(QStringLiteral("JSON body")));
  EXPECT_TRUE(tls.contains(QStringLiteral("aa:conn/7")));
}

TEST_F(SessionTest, ChartDataAndTops) {
  doc->startSummary(1000);
  ASSERT_TRUE(doc->waitForSummary(10000));
  const ChartData d = computeChartData(*doc, *doc->summary(), 0, double(doc->durationNs()), 10);
  ASSERT_EQ(d.eventsPerSecond.size(), 10u);
  double events = 0;
  for (const auto& r : d.eventsPerSecond) for (double v : r) events += v * d.bucketNs / 1e9;
  EXPECT_NEAR(events, kBaseEvents - 1, 1e-6);
  double out = 0;
  for (double v : d.tlsOutPerSecond) out += v * d.bucketNs / 1e9;
  EXPECT_NEAR(out, double(strlen(kRequest)), 1e-6);
  ASSERT_FALSE(d.topFiles.empty());
  EXPECT_EQ(d.topFiles[0].first, QStringLiteral("/tmp/out.txt"));   // 1000 B written
  ASSERT_EQ(d.topExecutables.size(), 3u);
}

TEST(Replay, ClockAdvancesAndStopsAtEnd) {
  ReplayClock c;
  c.setRange(0, 1e9);
  c.setSpeed(10);
  c.play();
  EXPECT_TRUE(c.advance(5e7));   // 50 ms wall x 10 = 0.5 s
  EXPECT_DOUBLE_EQ(c.cursor(), 5e8);
  EXPECT_FALSE(c.advance(1e8));
  EXPECT_DOUBLE_EQ(c.cursor(), 1e9);
  EXPECT_FALSE(c.playing());
  c.play();   // at the end: starts over
  EXPECT_DOUBLE_EQ(c.cursor(), 0);
}

class BigSessionTest : public SessionTest {
 protected:
  SessionSpec spec() const override { return {.fillerEvents = 4000, .batchEvents = 256}; }
};

TEST_F(BigSessionTest, UnfilteredTableDecodesNothing) {
  EventTableModel m;
  m.setDocument(doc.get());
  EXPECT_EQ(m.rowCount(), kBaseEvents + 4000);
  EXPECT_EQ(m.rows().framesDecoded(), 0u);   // rows come from the frame table alone
  EXPECT_EQ(m.seqAtRow(3000), 3000u);
}

TEST_F(BigSessionTest, DamagedSessionOpensWithReadablePart) {
  // Cut the log in the middle of a frame: the reader keeps the whole frames before it.
  doc.reset();
  QFile::remove(path + QStringLiteral("-index"));
  QFile f(path);
  const qint64 size = f.size();
  ASSERT_TRUE(f.resize(size * 6 / 10));
  auto d = SessionDocument::open(path);
  ASSERT_TRUE(d.ok()) << d.status().message();
  auto& damaged = *d.value();
  EXPECT_FALSE(damaged.damage().ok());
  EXPECT_GT(damaged.eventCount(), 0u);
  EXPECT_LT(damaged.eventCount(), uint64_t(kBaseEvents + 4000));
  EventTableModel m;
  m.setDocument(&damaged);
  EXPECT_EQ(uint64_t(m.rowCount()), damaged.eventCount());
  damaged.startSummary();
  ASSERT_TRUE(damaged.waitForSummary(10000));
  EXPECT_EQ(damaged.summary()->events + damaged.unreadableFrames(), damaged.eventCount());
}

TEST(Document, ForeignFileIsAnErrorNamingIt) {
  QTemporaryDir dir;
  const QString p = dir.filePath(QStringLiteral("notes.aas"));
  QFile f(p);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("this is not a session file, just some text that is long enough to have a header");
  f.close();
  auto d = SessionDocument::open(p);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("notes.aas"), std::string::npos) << d.status().message();
}

}  // namespace

// --- LLM calls and HTTP exchanges (store/traffic) -----------------------------------

class LlmDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    path = dir.filePath(QStringLiteral("llm.aas"));
    ASSERT_EQ(writeLlmSession(path.toStdString()), "");
    auto d = SessionDocument::open(path);
    ASSERT_TRUE(d.ok()) << d.status().message();
    doc = std::move(d.value());
    doc->startSummary();
    ASSERT_TRUE(doc->waitForTraffic(20000));
    data = doc->traffic();
    ASSERT_TRUE(data);
    ASSERT_TRUE(data->error.isEmpty()) << data->error.toStdString();
  }
  QTemporaryDir dir;
  QString path;
  std::unique_ptr<SessionDocument> doc;
  std::shared_ptr<const TrafficData> data;
};

TEST_F(LlmDocumentTest, SpansSitOnTheCallingProcessFromRequestToLastByte) {
  ASSERT_EQ(data->traffic.calls.size(), 2u);
  ASSERT_EQ(data->spans.size(), 2u);
  const LlmSpan& a = data->spans[0];
  EXPECT_EQ(a.process, doc->processIndex(100));
  EXPECT_DOUBLE_EQ(a.fromNs, 10.0 * kMs);
  EXPECT_DOUBLE_EQ(a.toNs, 35.0 * kMs);
  EXPECT_FALSE(a.incomplete);
  const LlmSpan& b = data->spans[1];
  EXPECT_EQ(b.process, doc->processIndex(100));
  EXPECT_DOUBLE_EQ(b.fromNs, 70.0 * kMs);
  EXPECT_TRUE(b.incomplete);
  EXPECT_EQ(a.call, 0);
  EXPECT_EQ(b.call, 1);
}

TEST_F(LlmDocumentTest, CallDetailsShowConversationUsageAndWhatFollowed) {
  const auto next = doc->actionsAfterCall(0);
  ASSERT_FALSE(next.empty());
  // ls /tmp ran after the answer, before the second call.
  bool sawLs = false;
  for (const auto& act : next) sawLs |= act.seq == kLlmSeqLsExec && act.kind == "exec";
  EXPECT_TRUE(sawLs);
  const QString html = llmCallHtml(data->traffic, 0, next, kStartMono);
  QTextDocument td;
  td.setHtml(html);
  const QString text = td.toPlainText();
  for (const char* want : {"anthropic claude-test-1", "You are terse.", "List /tmp please", "Let me look.",
                           "list_dir", "toolu_v1", "\"path\": \"/tmp\"", "tool_use", "input 31", "output 17",
                           "HTTP 200", "What the agent did next", "ls /tmp", "first token 10"})
    EXPECT_TRUE(text.contains(QString::fromUtf8(want))) << want << "\n" << text.toStdString();
  EXPECT_TRUE(html.contains(QStringLiteral("aa:event/%1").arg(kLlmSeqLsExec)));
  EXPECT_LT(text.indexOf(QStringLiteral("List /tmp please")), text.indexOf(QStringLiteral("Let me look.")));
  EXPECT_FALSE(text.contains(QStringLiteral("incomplete")));

  QTextDocument cut;
  cut.setHtml(llmCallHtml(data->traffic, 1, doc->actionsAfterCall(1), kStartMono));
  EXPECT_TRUE(cut.toPlainText().contains(QStringLiteral("incomplete"))) << cut.toPlainText().toStdString();
  const QString tip = llmCallTooltip(data->traffic.calls[0]);
  EXPECT_TRUE(tip.contains(QStringLiteral("claude-test-1")) && tip.contains(QStringLiteral("in 31")) &&
              tip.contains(QStringLiteral("latency 25")))
      << tip.toStdString();
}

TEST_F(LlmDocumentTest, ExchangesListedPerConnectionWithHeadersAndBodies) {
  const long x = exchangeAt(data->traffic, 9, kStartMono + 20 * kMs);
  ASSERT_GE(x, 0);
  EXPECT_EQ(callOfExchange(data->traffic, size_t(x)), 0);
  EXPECT_EQ(exchangeAt(data->traffic, 10, kStartMono + 80 * kMs), long(data->traffic.calls[1].exchange));
  EXPECT_EQ(exchangeAt(data->traffic, 77, kStartMono), -1);
  QTextDocument list;
  const QString listHtml = connectionExchangesHtml(data->traffic, 9, x, kStartMono);
  list.setHtml(listHtml);
  EXPECT_TRUE(list.toPlainText().contains(QStringLiteral("POST /v1/messages")));
  EXPECT_TRUE(list.toPlainText().contains(QStringLiteral("200")));
  EXPECT_TRUE(listHtml.contains(QStringLiteral("aa:exchange/%1").arg(x)));
  EXPECT_TRUE(listHtml.contains(QStringLiteral("aa:call/0")));
  QTextDocument one;
  one.setHtml(exchangeHtml(data->traffic, size_t(x), kStartMono));
  const QString t = one.toPlainText();
  EXPECT_TRUE(t.contains(QStringLiteral("anthropic-version: 2023-06-01")));
  EXPECT_TRUE(t.contains(QStringLiteral("HTTP/1.1 200 OK")));
  EXPECT_TRUE(t.contains(QStringLiteral("\"system\": \"You are terse.\"")));
  EXPECT_TRUE(t.contains(QStringLiteral("message_stop")));
}

TEST(LlmDocument, SessionWithoutTlsHasNoSpans) {
  QTemporaryDir dir;
  const QString p = dir.filePath(QStringLiteral("plain.aas"));
  SessionSpec spec;
  ASSERT_EQ(writeTestSession(p.toStdString(), spec), "");
  auto d = SessionDocument::open(p);
  ASSERT_TRUE(d.ok());
  d.value()->startSummary();
  ASSERT_TRUE(d.value()->waitForTraffic(20000));
  ASSERT_TRUE(d.value()->traffic());
  EXPECT_TRUE(d.value()->traffic()->spans.empty());   // its /v1/messages body has no messages
  EXPECT_EQ(d.value()->traffic()->traffic.exchanges.size(), 1u);
}

namespace aa::view {
namespace {

// A path whose kernel walk was cut is shown as "…/tail", never as an absolute path;
// a script's exec shows the file named in the execve beside the interpreter.
TEST(EventFormat, TruncatedPathsAndScriptExecs) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto bytes = [](const char* s) {
    return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s), strlen(s));
  };
  e.initFileOpen().setPath(bytes("d69/d70/f"));
  e.setPathTruncated(true);
  EXPECT_EQ(eventSummary(e.asReader()), QStringLiteral("…/d69/d70/f"));
  EXPECT_TRUE(eventDetailsHtml(e.asReader(), "t", "p").contains(QStringLiteral("path truncated")));
  e.setPathTruncated(false);
  e.initFileOpen().setPath(bytes("/etc/hosts"));
  EXPECT_EQ(eventSummary(e.asReader()), QStringLiteral("/etc/hosts"));
  auto x = e.initExec();
  x.setPath(bytes("/usr/bin/dash"));
  x.setFilename(bytes("/tmp/w/s.sh"));
  EXPECT_TRUE(eventDetailsHtml(e.asReader(), "t", "p").contains(QStringLiteral("/tmp/w/s.sh")));
}

}  // namespace
}  // namespace aa::view
