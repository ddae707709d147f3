// Comparing two runs in aa-view, and cause and effect in the conversation view:
// DiffModel under QAbstractItemModelTester; the differences of the two recorded runs of
// fixtures/replay (the demo loop, run B asked a changed task) entry by entry; bad run B
// inputs; tool-call effects of fixtures/llm/agent.aas; and, offscreen, the links: a
// selected difference moves run A's and run B's timelines to it, a tool call's effect
// link selects its event in the timeline and table; aa-view --diff on the command line.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QProcess>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QThread>
#include <QTimer>
#include <QMessageBox>
#include <functional>
#include <algorithm>
#include <gtest/gtest.h>

#include "tests/viewer/run_aa_view.h"
#include "store/diff/tool_effects.h"
#include "viewer/app/diff_panel.h"
#include "viewer/app/main_window.h"
#include "viewer/app/run_panel.h"
#include "viewer/app/timeline_view.h"
#include "viewer/models/details_html.h"
#include "viewer/models/diff_model.h"
#include "viewer/models/session_comparison.h"
#include "viewer/models/time_axis.h"
#include "viewer/models/tool_effects_view.h"
#include "viewer/models/traffic_view.h"

using namespace aa;
using namespace aa::view;
using aa::view::test::runAaView;
using aa::view::test::ViewRun;

namespace {

// Fixtures are copied: readers write an index beside the session.
QString copyFixture(const QTemporaryDir& dir, const QString& rel, const QString& name) {
  const QString to = dir.filePath(name);
  QFile::remove(to);
  if (!QFile::copy(QStringLiteral(AA_SOURCE_DIR "/") + rel, to)) return {};
  QFile::setPermissions(to, QFile::ReadOwner | QFile::WriteOwner);
  return to;
}

QString rowText(const DiffModel& m, int row) {
  QStringList cells;
  for (int c : {DiffModel::ChangeColumn, DiffModel::AreaColumn, DiffModel::SubjectColumn,
                DiffModel::AColumn, DiffModel::BColumn})
    cells << m.data(m.index(row, c)).toString();
  return cells.join(QStringLiteral(" | "));
}

diff::Difference difference(const char* area, const char* change, const char* subject,
                            const char* field, const char* a, const char* b,
                            std::vector<uint64_t> seqsA, std::vector<uint64_t> seqsB) {
  diff::Difference d;
  d.area = area;
  d.change = change;
  d.subject = subject;
  d.field = field;
  d.a = a;
  d.b = b;
  d.seqsA = std::move(seqsA);
  d.seqsB = std::move(seqsB);
  return d;
}

}  // namespace

// --- models ------------------------------------------------------------------------

TEST(DiffModel, RowsTargetsAndRolesUnderTheModelTester) {
  DiffModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  EXPECT_EQ(m.rowCount(), 0);
  diff::SessionDiff d;
  d.differences.push_back(difference("exec", "added", "git status", "", "", "exit 128", {}, {12}));
  d.differences.back().causeB = "llm call 0 tool 0 bash (command)";
  d.differences.push_back(difference("exec", "changed", "make", "status", "exit 0", "exit 2", {4}, {7}));
  d.differences.push_back(difference("file", "removed", "/w/a.txt", "", "created, 3 bytes written", "", {20, 21, 25}, {}));
  d.differences.push_back(difference("peer", "added", "10.0.0.1:443", "", "", "1 connection", {}, {30}));
  diff::Difference llm = difference("llm", "changed", "call 2", "messages[1].content", "\"a\nb\"", "\"c\"", {5000}, {7000});
  llm.callA = 2;
  llm.callB = 3;
  d.differences.push_back(llm);
  diff::Difference gone = difference("llm", "removed", "call 4", "", "anthropic messages m -> \"hi\"", "", {9000}, {});
  gone.callA = 4;
  d.differences.push_back(gone);
  d.execsA = 5;
  d.execsB = 6;
  m.setDiff(d);

  ASSERT_EQ(m.rowCount(), 6);
  EXPECT_EQ(m.columnCount(), int(DiffModel::ColumnCount));
  EXPECT_EQ(rowText(m, 0), QStringLiteral("+ | exec | git status |  | exit 128"));
  EXPECT_EQ(rowText(m, 1), QStringLiteral("~ | exec | make: status | exit 0 | exit 2"));
  EXPECT_EQ(rowText(m, 2), QString::fromUtf8("− | file | /w/a.txt | created, 3 bytes written | "));
  EXPECT_EQ(rowText(m, 3), QStringLiteral("+ | peer | 10.0.0.1:443 |  | 1 connection"));
  // Values are one line in the table.
  EXPECT_EQ(rowText(m, 4), QStringLiteral("~ | llm | call 2 / 3: messages[1].content | \"a b\" | \"c\""));
  EXPECT_EQ(rowText(m, 5), QString::fromUtf8("− | llm | call 4 (A) | anthropic messages m -> \"hi\" | "));
  EXPECT_EQ(m.data(m.index(0, DiffModel::CauseColumn)).toString(), QStringLiteral("llm call 0 tool 0 bash (command)"));
  EXPECT_EQ(m.data(m.index(2, 0), DiffModel::AreaRole).toString(), QStringLiteral("file"));
  EXPECT_EQ(m.data(m.index(2, 0), DiffModel::ChangeRole).toString(), QStringLiteral("removed"));
  // The tooltip is aa-session diff's own line for it.
  EXPECT_EQ(m.data(m.index(0, DiffModel::SubjectColumn), Qt::ToolTipRole).toString(),
            QStringLiteral("+ exec git status (exit 128)  <- llm call 0 tool 0 bash (command)"));
  EXPECT_EQ(m.summaryText(), QStringLiteral("6 differences: exec 2, file 1, peer 1, llm 2"));
  EXPECT_EQ(m.difference(6), nullptr);
  EXPECT_EQ(m.difference(-1), nullptr);

  // Where each points: events on each side, or calls (with their start time) for llm.
  DiffTarget t = diffTarget(*m.difference(0), DiffSide::A);
  EXPECT_TRUE(t.empty());
  t = diffTarget(*m.difference(0), DiffSide::B);
  EXPECT_EQ(t.seqs, std::vector<uint64_t>{12});
  EXPECT_FALSE(t.call);
  t = diffTarget(*m.difference(2), DiffSide::A);
  EXPECT_EQ(t.seqs, (std::vector<uint64_t>{20, 21, 25}));
  t = diffTarget(*m.difference(4), DiffSide::B);
  EXPECT_TRUE(t.seqs.empty());
  ASSERT_TRUE(t.call);
  EXPECT_EQ(*t.call, 3u);
  EXPECT_EQ(t.callStartMonoNs, std::optional<uint64_t>(7000));
  EXPECT_TRUE(diffTarget(*m.difference(5), DiffSide::B).empty());

  // The calls each item followed from, per run, as the comparison gives them.
  EXPECT_FALSE(m.causeCall(0, DiffSide::B));
  std::vector<DiffModel::Causes> causes(6);
  causes[0].callB = 0;
  causes[2].callA = 7;
  m.setDiff(d, causes);
  EXPECT_EQ(m.causeCall(0, DiffSide::B), std::optional<size_t>(0));
  EXPECT_FALSE(m.causeCall(0, DiffSide::A));
  EXPECT_EQ(m.causeCall(2, DiffSide::A), std::optional<size_t>(7));
  EXPECT_FALSE(m.causeCall(6, DiffSide::A));
  EXPECT_FALSE(m.causeCall(-1, DiffSide::A));

  m.clear();
  EXPECT_EQ(m.rowCount(), 0);
  EXPECT_FALSE(m.causeCall(0, DiffSide::B));
  EXPECT_TRUE(m.summaryText().startsWith(QStringLiteral("no differences")));
}

TEST(DiffFilterModel, NarrowsToAnAreaAndATextUnderTheModelTester) {
  DiffModel m;
  DiffFilterModel f;
  QAbstractItemModelTester tester(&f, QAbstractItemModelTester::FailureReportingMode::Fatal);
  f.setSourceModel(&m);
  diff::SessionDiff d;
  d.differences.push_back(difference("exec", "added", "git status", "", "", "exit 128", {}, {12}));
  d.differences.push_back(difference("exec", "removed", "make all", "", "exit 0", "", {3}, {}));
  d.differences.push_back(difference("file", "removed", "/w/Makefile", "", "created", "", {20}, {}));
  d.differences.push_back(difference("peer", "added", "10.0.0.1:443", "", "", "1 connection", {}, {30}));
  m.setDiff(d);
  EXPECT_EQ(f.rowCount(), 4);
  f.setArea(QStringLiteral("exec"));
  ASSERT_EQ(f.rowCount(), 2);
  EXPECT_EQ(f.sourceRow(1), 1);
  f.setText(QStringLiteral("MAKE"));   // any cell, any case
  ASSERT_EQ(f.rowCount(), 1);
  EXPECT_EQ(f.sourceRow(0), 1);
  f.setArea(QString());
  ASSERT_EQ(f.rowCount(), 2);
  EXPECT_EQ(f.sourceRow(1), 2);
  f.setText(QStringLiteral("1 connection"));
  ASSERT_EQ(f.rowCount(), 1);
  EXPECT_EQ(f.sourceRow(0), 3);
  EXPECT_EQ(f.sourceRow(1), -1);
  m.clear();
  EXPECT_EQ(f.rowCount(), 0);
}

TEST(RevealRange, KeepsAViewThatShowsTheItemElseCentresIt) {
  // In view: unchanged.
  EXPECT_EQ(revealRange(100, 200, 150, 160, 1000), (std::pair<double, double>{100, 200}));
  // Out of view: the same span, centred on it.
  EXPECT_EQ(revealRange(100, 200, 500, 500, 1000), (std::pair<double, double>{450, 550}));
  // Touching the edge counts as out of view.
  EXPECT_EQ(revealRange(100, 200, 199.5, 199.5, 1000), (std::pair<double, double>{149.5, 249.5}));
  // Longer than the view: widened to show all of it.
  EXPECT_EQ(revealRange(100, 200, 300, 700, 1000), (std::pair<double, double>{250, 750}));
  // Kept inside the session.
  EXPECT_EQ(revealRange(400, 500, 990, 995, 1000), (std::pair<double, double>{900, 1000}));
  EXPECT_EQ(revealRange(400, 500, 5, 5, 1000), (std::pair<double, double>{0, 100}));
  EXPECT_EQ(revealRange(0, 100, 0, 5000, 1000), (std::pair<double, double>{0, 1000}));
}

// --- the recorded pair ---------------------------------------------------------------

class ReplayFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    a = copyFixture(dir, QStringLiteral("fixtures/replay/a.aas"), QStringLiteral("a.aas"));
    b = copyFixture(dir, QStringLiteral("fixtures/replay/b.aas"), QStringLiteral("b.aas"));
    ASSERT_FALSE(a.isEmpty());
    ASSERT_FALSE(b.isEmpty());
  }
  QTemporaryDir dir;
  QString a, b;
};

// What `aa-session diff a.aas b.aas` reports, as the list shows it: run B's prompt
// changed, the mock answered with a divergence error and the agent stopped.
const char* const kReplayDifferences[] = {
      "~ | exec | /bin/sh /tmp/aa-fixtures/replay/src/fixtures/demo/agent.sh: status | "
      "exit 0 | exit 1",
      "+ | exec | /usr/bin/python3 /tmp/aa-fixtures/replay/src/fixtures/demo/../tls/clie"
      "nt.py 46311 /tmp/aa-fixtures/replay/out/ca.pem --path /v1/messages --data "
      "'{\"model\":\"demo-model\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"Summ"
      "arise the repo\"}]}' --header 'x-api-key: *********************' --header "
      "'anthropic-version: 2023-06-01' |  | exit 1",
      "− | exec | /usr/bin/python3 /tmp/aa-fixtures/replay/src/fixtures/demo/../tls/clie"
      "nt.py 46311 /tmp/aa-fixtures/replay/out/ca.pem --path /v1/messages --data "
      "'{\"model\":\"demo-model\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"Summ"
      "arise the workspace\"}]}' --header 'x-api-key: *********************' --header "
      "'anthropic-version: 2023-06-01' | exit 0 | ",
      "− | exec | cat /tmp/aa-demo.XXXXXX/workspace/notes/count.txt | exit 0 | ",
      "− | exec | cat /tmp/aa-demo.XXXXXX/workspace/notes/listing.txt | exit 0 | ",
      "− | exec | curl -sS --cacert /tmp/aa-fixtures/replay/out/ca.pem -H "
      "'Authorization: **************************' -o "
      "/tmp/aa-demo.XXXXXX/workspace/download.bin https://127.0.0.1:46311/bytes/20000 "
      "| exit 0 | ",
      "− | exec | head -c 60 /tmp/aa-demo.XXXXXX/workspace/notes/result.txt | exit 0 | ",
      "− | exec | ls -l /tmp/aa-demo.XXXXXX/workspace | exit 0 | ",
      "− | exec | mkdir -p /tmp/aa-demo.XXXXXX/workspace/notes | exit 0 | ",
      "− | exec | mv /tmp/aa-demo.XXXXXX/workspace/notes/draft.txt "
      "/tmp/aa-demo.XXXXXX/workspace/notes/result.txt | exit 0 | ",
      "− | exec | node /tmp/aa-fixtures/replay/src/fixtures/demo/../tls/client.js "
      "46311 /tmp/aa-fixtures/replay/out/ca.pem --path /v1/messages --data "
      "'{\"model\":\"demo-model\",\"messages\":[{\"role\":\"user\",\"content\":\"todo: "
      "summarisesummary: 3 entries\"}]}' --header 'Authorization: "
      "**************************' | exit 0 | ",
      "− | exec | rm -r /tmp/aa-demo.XXXXXX/workspace/notes | exit 0 | ",
      "− | exec | rm /tmp/aa-demo.XXXXXX/workspace/scratch.tmp | exit 0 | ",
      "− | exec | sh -c 'cat '\\''/tmp/aa-demo.XXXXXX/workspace/notes/listing.txt'\\'' | "
      "wc -l' | exit 0 | ",
      "− | exec | tr -d '\\n\"' | exit 0 | ",
      "− | exec | wc -c | exit 0 | ",
      "− | exec | wc -c | exit 0 | ",
      "− | exec | wc -c | exit 0 | ",
      "− | exec | wc -l | exit 0 | ",
      "~ | file | /tmp/aa-demo.XXXXXX/plan.json | created, truncated, 275 bytes "
      "written, deleted | created, truncated, 239 bytes written, deleted",
      "− | file | /tmp/aa-demo.XXXXXX/workspace | directory made, directory removed | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/download.bin | created, truncated, "
      "20000 bytes written, deleted | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/notes | directory made, directory "
      "removed | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/notes/count.txt | created, truncated, "
      "2 bytes written, deleted | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/notes/draft.txt | created, truncated, "
      "35 bytes written, renamed to /tmp/aa-demo.XXXXXX/workspace/notes/result.txt | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/notes/listing.txt | created, "
      "truncated, 108 bytes written, deleted | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/notes/result.txt | renamed from "
      "/tmp/aa-demo.XXXXXX/workspace/notes/draft.txt, deleted | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/reply.json | created, truncated, 275 "
      "bytes written, deleted | ",
      "− | file | /tmp/aa-demo.XXXXXX/workspace/scratch.tmp | created, truncated, 8 "
      "bytes written, deleted | ",
      "~ | llm | call 0 / 0: messages[0].content | \"Summarise the workspace\" | "
      "\"Summarise the repo\"",
      "~ | llm | call 0 / 0: answer | List the workspace, then write the summary to "
      "notes/result.txt. | ",
      "~ | llm | call 0 / 0: stop_reason | end_turn | ",
      "~ | llm | call 0 / 0: status | 200 | 400",
      "~ | llm | call 0 / 0: error |  | invalid_request_error: aa-session serve: "
      "request 0 (POST /v1/messages) differs from llm call 0 at messages[0].content: "
      "recorded \"Summarise the workspace\", received \"Summarise the repo\"",
      "− | llm | call 1 (A) | anthropic messages demo-model -> \"List the workspace, "
      "then write the summary to notes/result.t...\" | ",
};

TEST_F(ReplayFixture, TheDifferenceListHasExactlyTheExpectedEntries) {
  SessionComparison c(a, b);
  c.start();
  ASSERT_TRUE(c.waitForDone(60000));
  ASSERT_TRUE(c.status().ok()) << c.status().message();
  EXPECT_EQ(c.warning(), QString());
  ASSERT_NE(c.documentB(), nullptr);
  DiffModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setDiff(c.result());
  QStringList want;
  for (const char* s : kReplayDifferences) want << QString::fromUtf8(s);
  QStringList got;
  for (int r = 0; r < m.rowCount(); ++r) got << rowText(m, r);
  EXPECT_EQ(got.size(), want.size());
  for (int r = 0; r < std::min(got.size(), want.size()); ++r) EXPECT_EQ(got[r], want[r]) << "row " << r;
  EXPECT_EQ(m.summaryText(), QStringLiteral("35 differences: exec 19, file 10, peer 0, llm 6"));
  // The demo agent's answers ask for no tool: nothing is caused by one.
  ASSERT_EQ(c.causes().size(), 35u);
  for (const auto& k : c.causes()) EXPECT_FALSE(k.callA || k.callB);

  // Each entry's events are events of that run, of the kind the area says.
  auto doc = SessionDocument::open(a);
  ASSERT_TRUE(doc.ok());
  const SessionDocument* docs[2] = {doc.value().get(), c.documentB()};
  for (int r = 0; r < m.rowCount(); ++r) {
    const diff::Difference& d = *m.difference(r);
    for (DiffSide side : {DiffSide::A, DiffSide::B}) {
      const DiffTarget t = diffTarget(d, side);
      const SessionDocument& on = *docs[side == DiffSide::A ? 0 : 1];
      const bool present = side == DiffSide::A ? d.change != "added" : d.change != "removed";
      EXPECT_EQ(t.empty(), !present) << "row " << r;
      for (uint64_t seq : t.seqs) {
        bool read = on.withEvent(seq, [&](schema::Event::Reader e) {
          if (d.area == "exec") {
            EXPECT_TRUE(e.isExec()) << "row " << r << " seq " << seq;
          } else if (d.area == "file") {
            EXPECT_FALSE(e.isExec() || e.isTls()) << "row " << r << " seq " << seq;
          }
        });
        EXPECT_TRUE(read) << "row " << r << " seq " << seq;
      }
      if (t.call) {
        EXPECT_TRUE(targetSpan(on, t).has_value()) << "row " << r;
      }
    }
  }
}

TEST_F(ReplayFixture, SwappedRunsMirrorTheList) {
  SessionComparison ab(a, b), ba(b, a);
  ab.start();
  ba.start();
  ASSERT_TRUE(ab.waitForDone(60000) && ba.waitForDone(60000));
  ASSERT_TRUE(ab.status().ok() && ba.status().ok());
  const auto& x = ab.result().differences;
  const auto& y = ba.result().differences;
  ASSERT_EQ(x.size(), y.size());
  auto count = [](const std::vector<diff::Difference>& v, const char* change) {
    return std::count_if(v.begin(), v.end(), [&](const diff::Difference& d) { return d.change == change; });
  };
  EXPECT_EQ(count(y, "added"), count(x, "removed"));
  EXPECT_EQ(count(y, "removed"), count(x, "added"));
  EXPECT_EQ(count(y, "changed"), count(x, "changed"));
}

TEST_F(ReplayFixture, IgnoresAreAaSessionDiffs) {
  diff::DiffOptions o;
  o.ignore = {"exec:*", "llm:*"};
  SessionComparison c(a, b, o);
  c.start();
  ASSERT_TRUE(c.waitForDone(60000));
  ASSERT_TRUE(c.status().ok());
  // llm:FIELD leaves out fields of calls both runs made, not a call only one made.
  size_t files = 0;
  for (const auto& d : c.result().differences) {
    if (d.area == "file") ++files;
    else EXPECT_TRUE(d.area == "llm" && d.change == "removed") << d.area << " " << d.subject;
  }
  EXPECT_EQ(files, 10u);
  EXPECT_EQ(c.result().differences.size(), 11u);
  // A bad pattern is refused with aa-session's message.
  diff::DiffOptions bad;
  bad.ignore = {"disk:*"};
  SessionComparison e(a, b, bad);
  e.start();
  ASSERT_TRUE(e.waitForDone(60000));
  EXPECT_FALSE(e.status().ok());
  EXPECT_NE(e.status().message().find("disk:*"), std::string::npos) << e.status().message();
}

TEST_F(ReplayFixture, MissingCorruptAndDamagedRunB) {
  // Missing: one message naming the file and the reason.
  const QString missing = dir.filePath(QStringLiteral("missing.aas"));
  SessionComparison m(a, missing);
  m.start();
  ASSERT_TRUE(m.waitForDone(60000));
  EXPECT_EQ(QString::fromStdString(m.status().message()),
            missing + QStringLiteral(": cannot open: No such file or directory"));
  EXPECT_EQ(m.documentB(), nullptr);
  // Not a session.
  const QString junk = dir.filePath(QStringLiteral("junk.aas"));
  {
    QFile f(junk);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
  }
  SessionComparison j(a, junk);
  j.start();
  ASSERT_TRUE(j.waitForDone(60000));
  EXPECT_FALSE(j.status().ok());
  EXPECT_TRUE(QString::fromStdString(j.status().message()).startsWith(junk + QStringLiteral(": "))) << j.status().message();
  // Cut mid-frame: compared up to the damage, and the warning says where.
  const QString cut = dir.filePath(QStringLiteral("cut.aas"));
  ASSERT_TRUE(QFile::copy(b, cut));
  QFile::setPermissions(cut, QFile::ReadOwner | QFile::WriteOwner);
  ASSERT_TRUE(QFile::resize(cut, QFileInfo(b).size() - 3000));
  SessionComparison d(a, cut);
  d.start();
  ASSERT_TRUE(d.waitForDone(60000));
  ASSERT_TRUE(d.status().ok()) << d.status().message();
  EXPECT_TRUE(d.warning().startsWith(cut + QStringLiteral(": "))) << d.warning().toStdString();
  EXPECT_TRUE(d.warning().contains(QStringLiteral("compared up to the damage")));
  EXPECT_FALSE(d.result().differences.empty());
}

// --- cause and effect -------------------------------------------------------------------

class LlmFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    path = copyFixture(dir, QStringLiteral("fixtures/llm/agent.aas"), QStringLiteral("agent.aas"));
    ASSERT_FALSE(path.isEmpty());
  }
  QTemporaryDir dir;
  QString path;
};

// fixtures/llm/agent.aas: call 0 (the Python client) asks for read_file; the agent then
// makes /tmp/aa-fixtures/llm, runs ls, writes the tool result.
constexpr uint64_t kMkdirSeq = 264, kLsSeq = 266, kResultWriteSeq = 320;

TEST_F(LlmFixture, ToolEffectsAreStoreDiffsAndLinkToTheirEvents) {
  auto opened = SessionDocument::open(path);
  ASSERT_TRUE(opened.ok());
  SessionDocument& doc = *opened.value();
  doc.startSummary();
  ASSERT_TRUE(doc.waitForTraffic(60000));
  auto data = doc.traffic();
  ASSERT_TRUE(data && data->error.isEmpty());
  const auto fx = doc.toolEffects(0);
  // The same as aa-session llm --json computes, through a reader of its own.
  auto reader = SessionReader::open(path.toStdString());
  ASSERT_TRUE(reader.ok());
  const auto want = diff::toolCallEffects(*reader.value(), data->traffic.calls, 0);
  ASSERT_EQ(fx.size(), want.size());
  ASSERT_EQ(fx.size(), 1u);
  ASSERT_EQ(fx[0].effects.size(), want[0].effects.size());
  for (size_t i = 0; i < fx[0].effects.size(); ++i) EXPECT_EQ(fx[0].effects[i].seq, want[0].effects[i].seq);
  std::vector<uint64_t> seqs;
  for (const auto& e : fx[0].effects) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{kMkdirSeq, kLsSeq, 319, kResultWriteSeq}));

  const QString html = toolEffectsHtml(data->traffic.calls[0], fx);
  EXPECT_TRUE(html.contains(QStringLiteral("What each tool call led to")));
  EXPECT_TRUE(html.contains(QStringLiteral("tool 1 · read_file")));
  for (uint64_t s : seqs) EXPECT_TRUE(html.contains(QStringLiteral("href='aa:event/%1'").arg(s))) << s;
  EXPECT_TRUE(html.contains(QStringLiteral("exec /bin/ls /tmp/aa-fixtures/llm")));
  EXPECT_TRUE(html.contains(QStringLiteral("write /tmp/aa-fixtures/llm/tool-result.txt (20 bytes)")));
  // The call's details carry the section between the answer and what came next.
  const QString details = llmCallDetailsHtml(doc, 0);
  const qsizetype answer = details.indexOf(QStringLiteral(">Answer<"));
  const qsizetype effects = details.indexOf(QStringLiteral("What each tool call led to"));
  const qsizetype next = details.indexOf(QStringLiteral("What the agent did next"));
  EXPECT_GT(answer, 0);
  EXPECT_GT(effects, answer);
  EXPECT_GT(next, effects);
  // A tool call with nothing attributed says so; a call without tools has no section.
  long emptyCall = -1, noTools = -1;
  for (size_t i = 0; i < data->traffic.calls.size(); ++i) {
    if (data->traffic.calls[i].toolCalls.empty()) { if (noTools < 0) noTools = long(i); }
    else if (doc.toolEffects(i)[0].effects.empty() && emptyCall < 0) emptyCall = long(i);
  }
  ASSERT_GE(emptyCall, 0);
  ASSERT_GE(noTools, 0);
  EXPECT_TRUE(toolEffectsHtml(data->traffic.calls[size_t(emptyCall)], doc.toolEffects(size_t(emptyCall)))
                  .contains(QStringLiteral("nothing attributed to it")));
  EXPECT_EQ(toolEffectsHtml(data->traffic.calls[size_t(noTools)], doc.toolEffects(size_t(noTools))), QString());
  EXPECT_FALSE(llmCallDetailsHtml(doc, size_t(noTools)).contains(QStringLiteral("What each tool call led to")));
}

// --- in the window (offscreen) -----------------------------------------------------------

TEST_F(LlmFixture, ClickingAToolEffectSelectsItsEventInTimelineAndTable) {
  MainWindow w(true);
  w.resize(1400, 900);
  QString error;
  ASSERT_TRUE(w.openFile(path, &error)) << error.toStdString();
  w.show();
  ASSERT_TRUE(w.document()->waitForTraffic(60000));
  QApplication::processEvents();
  w.selectLlmCall(0);
  EXPECT_TRUE(w.detailsView()->toPlainText().contains(QStringLiteral("What each tool call led to")));
  EXPECT_TRUE(w.detailsView()->toHtml().contains(QStringLiteral("aa:event/%1").arg(kLsSeq)));
  // Zoomed far from it first: the link brings the event into view.
  w.timeline()->setRange(2.0e9, 2.1e9);
  w.applyFilterNow();
  emit w.detailsView()->anchorClicked(QUrl(QStringLiteral("aa:event/%1").arg(kLsSeq)));
  EXPECT_EQ(w.timeline()->selectedEvent(), std::optional<uint64_t>(kLsSeq));
  double lsNs = 0;
  ASSERT_TRUE(w.document()->withEvent(kLsSeq, [&](schema::Event::Reader e) { lsNs = double(w.document()->relNs(e.getTNs())); }));
  EXPECT_LT(w.timeline()->axis().from(), lsNs);
  EXPECT_GT(w.timeline()->axis().to(), lsNs);
  EXPECT_NEAR(w.timeline()->axis().span(), 0.1e9, 1e6);   // the zoom is kept
  w.applyFilterNow();   // the table follows the range
  ASSERT_TRUE(w.eventView()->currentIndex().isValid());
  EXPECT_EQ(w.eventModel()->seqAtRow(w.eventView()->currentIndex().row()), kLsSeq);
  EXPECT_TRUE(w.detailsView()->toPlainText().contains(QStringLiteral("/tmp/aa-fixtures/llm")));
  // Another effect, already in view: the range stays.
  const auto before = std::make_pair(w.timeline()->axis().from(), w.timeline()->axis().to());
  emit w.detailsView()->anchorClicked(QUrl(QStringLiteral("aa:event/%1").arg(kMkdirSeq)));
  EXPECT_EQ(w.timeline()->selectedEvent(), std::optional<uint64_t>(kMkdirSeq));
  EXPECT_EQ(std::make_pair(w.timeline()->axis().from(), w.timeline()->axis().to()), before);
  EXPECT_EQ(w.eventModel()->seqAtRow(w.eventView()->currentIndex().row()), kMkdirSeq);
}

class CompareWindow : public ReplayFixture {
 protected:
  void SetUp() override {
    ReplayFixture::SetUp();
    window = std::make_unique<MainWindow>(true);
    window->resize(1600, 1000);
    QString error;
    ASSERT_TRUE(window->openFile(a, &error)) << error.toStdString();
    window->show();
    ASSERT_TRUE(window->document()->waitForTraffic(60000));
    QApplication::processEvents();
  }
  int rowOf(const char* area, const char* change, const QString& subjectPart) const {
    const DiffModel& m = *window->diffPanel()->model();
    for (int r = 0; r < m.rowCount(); ++r) {
      const diff::Difference& d = *m.difference(r);
      if (d.area == area && d.change == change && QString::fromStdString(d.subject).contains(subjectPart))
        return r;
    }
    return -1;
  }
  double timeOf(const SessionDocument& doc, uint64_t seq) const {
    double ns = -1;
    doc.withEvent(seq, [&](schema::Event::Reader e) { ns = double(doc.relNs(e.getTNs())); });
    return ns;
  }
  std::unique_ptr<MainWindow> window;
};

TEST_F(CompareWindow, SelectingADifferenceMovesBothTimelines) {
  QString error;
  ASSERT_TRUE(window->compareWith(b, &error)) << error.toStdString();
  SessionDocument* docB = window->runPanel()->document();
  ASSERT_NE(docB, nullptr);
  ASSERT_TRUE(docB->waitForTraffic(60000));
  QApplication::processEvents();
  EXPECT_TRUE(window->findChild<QDockWidget*>(QStringLiteral("differences"))->isVisible());
  EXPECT_TRUE(window->findChild<QDockWidget*>(QStringLiteral("run-b"))->isVisible());
  EXPECT_EQ(window->diffPanel()->model()->rowCount(), 35);
  EXPECT_TRUE(window->diffPanel()->headerText().contains(QStringLiteral("35 differences")));
  EXPECT_TRUE(window->windowTitle().contains(QStringLiteral("a.aas vs b.aas")));
  TimelineView* ta = window->timeline();
  TimelineView* tb = window->runPanel()->timeline();

  // A file both runs wrote, differently: each timeline selects its own event of it,
  // brought into view from a range far away; each keeps its zoom.
  const int plan = rowOf("file", "changed", QStringLiteral("plan.json"));
  ASSERT_GE(plan, 0);
  const diff::Difference& p = *window->diffPanel()->model()->difference(plan);
  ta->setRange(0, 1e6);
  tb->setRange(0, 1e6);
  // A click on the row, as a user makes it.
  QTableView* list = window->diffPanel()->view();
  window->showDock(QStringLiteral("differences"));
  const QModelIndex planCell = window->diffPanel()->filterModel()->mapFromSource(window->diffPanel()->model()->index(plan, 2));
  list->scrollTo(planCell);
  QApplication::processEvents();
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(planCell).center());
  EXPECT_EQ(window->diffPanel()->currentRow(), plan);
  EXPECT_EQ(ta->selectedEvent(), std::optional<uint64_t>(p.seqsA.front()));
  EXPECT_EQ(tb->selectedEvent(), std::optional<uint64_t>(p.seqsB.front()));
  const double atA = timeOf(*window->document(), p.seqsA.front()), atB = timeOf(*docB, p.seqsB.front());
  EXPECT_LE(ta->axis().from(), atA);
  EXPECT_GE(ta->axis().to(), atA);
  EXPECT_LE(tb->axis().from(), atB);
  EXPECT_GE(tb->axis().to(), atB);
  window->applyFilterNow();
  EXPECT_EQ(window->eventModel()->seqAtRow(window->eventView()->currentIndex().row()), p.seqsA.front());
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("plan.json")));
  EXPECT_TRUE(window->runPanel()->detailsView()->toPlainText().contains(QStringLiteral("plan.json")));

  // The llm area alone: its first row is the changed prompt; picking it moves both.
  window->diffPanel()->setAreaFilter(QStringLiteral("llm"));
  ASSERT_EQ(list->model()->rowCount(), 6);
  list->setCurrentIndex(list->model()->index(0, 2));
  EXPECT_EQ(window->diffPanel()->currentRow(), 29);
  EXPECT_EQ(ta->selectedCall(), 0);
  EXPECT_EQ(tb->selectedCall(), 0);
  // Selecting a row the filter hides shows every row again.
  window->selectDifference(plan);
  EXPECT_EQ(list->model()->rowCount(), 35);
  EXPECT_EQ(window->diffPanel()->currentRow(), plan);

  // An exec only A ran: A selects it; B says it has none and selects nothing.
  const int ls = rowOf("exec", "removed", QStringLiteral("ls -l"));
  ASSERT_GE(ls, 0);
  const diff::Difference& l = *window->diffPanel()->model()->difference(ls);
  const uint64_t lsSeq = l.seqsA.front();   // the list is gone once the comparison is closed
  window->selectDifference(ls);
  EXPECT_EQ(ta->selectedEvent(), std::optional<uint64_t>(l.seqsA.front()));
  EXPECT_EQ(tb->selectedEvent(), std::nullopt);
  EXPECT_TRUE(window->runPanel()->detailsView()->toPlainText().startsWith(QStringLiteral("Only in run A: - exec ls -l")));
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("/bin/ls")));

  // An exec only B ran: the other way round.
  const int py = rowOf("exec", "added", QStringLiteral("Summarise the repo"));
  ASSERT_GE(py, 0);
  const diff::Difference& x = *window->diffPanel()->model()->difference(py);
  window->selectDifference(py);
  EXPECT_EQ(tb->selectedEvent(), std::optional<uint64_t>(x.seqsB.front()));
  EXPECT_EQ(ta->selectedEvent(), std::nullopt);
  EXPECT_TRUE(window->detailsView()->toPlainText().startsWith(QStringLiteral("Only in run B: + exec")));

  // The changed prompt: each run's call is selected, its conversation shown.
  const int prompt = rowOf("llm", "changed", QStringLiteral("call 0"));
  ASSERT_GE(prompt, 0);
  EXPECT_EQ(window->diffPanel()->model()->difference(prompt)->field, "messages[0].content");
  window->selectDifference(prompt);
  EXPECT_EQ(ta->selectedCall(), 0);
  EXPECT_EQ(tb->selectedCall(), 0);
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("Summarise the workspace")));
  EXPECT_TRUE(window->runPanel()->detailsView()->toPlainText().contains(QStringLiteral("Summarise the repo")));
  EXPECT_TRUE(window->runPanel()->detailsView()->toPlainText().contains(QStringLiteral("aa_replay_divergence")) ||
              window->runPanel()->detailsView()->toPlainText().contains(QStringLiteral("differs from llm call 0")));

  // Run B's own links select within run B.
  emit window->runPanel()->detailsView()->anchorClicked(QUrl(QStringLiteral("aa:event/%1").arg(x.seqsB.front())));
  EXPECT_EQ(tb->selectedEvent(), std::optional<uint64_t>(x.seqsB.front()));
  EXPECT_EQ(ta->selectedEvent(), std::nullopt);

  // Closing the comparison leaves run A as it was.
  window->closeComparison();
  EXPECT_EQ(window->runPanel()->document(), nullptr);
  EXPECT_FALSE(window->findChild<QDockWidget*>(QStringLiteral("run-b"))->isVisible());
  ASSERT_NE(window->document(), nullptr);
  window->selectEvent(lsSeq);
  EXPECT_EQ(ta->selectedEvent(), std::optional<uint64_t>(lsSeq));
}

TEST_F(CompareWindow, ABadRunBIsOneErrorAndALeavesAUsable) {
  const QString missing = dir.filePath(QStringLiteral("nope.aas"));
  QString error;
  EXPECT_FALSE(window->compareWith(missing, &error));
  EXPECT_EQ(error, missing + QStringLiteral(": cannot open: No such file or directory"));
  EXPECT_TRUE(window->diffPanel()->headerText().contains(QStringLiteral("nope.aas: cannot open")));
  EXPECT_FALSE(window->findChild<QDockWidget*>(QStringLiteral("run-b"))->isVisible());
  EXPECT_EQ(window->diffPanel()->model()->rowCount(), 0);
  // Run A is untouched and still works.
  ASSERT_NE(window->document(), nullptr);
  EXPECT_EQ(window->document()->path(), a);
  window->selectEvent(1);
  EXPECT_EQ(window->timeline()->selectedEvent(), std::optional<uint64_t>(1));
  window->selectLlmCall(0);
  EXPECT_EQ(window->timeline()->selectedCall(), 0);
  // A file that is not a session.
  const QString junk = dir.filePath(QStringLiteral("junk.aas"));
  {
    QFile f(junk);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("not a session at all, just some text that is long enough to have a header");
  }
  EXPECT_FALSE(window->compareWith(junk, &error));
  EXPECT_TRUE(error.startsWith(junk + QStringLiteral(": "))) << error.toStdString();
  // Then a good run B still compares.
  EXPECT_TRUE(window->compareWith(b, &error)) << error.toStdString();
  EXPECT_EQ(window->diffPanel()->model()->rowCount(), 35);
  // Opening another run A ends the comparison (it was against the previous A).
  ASSERT_TRUE(window->openFile(b, &error));
  EXPECT_EQ(window->comparison(), nullptr);
  EXPECT_EQ(window->runPanel()->document(), nullptr);
}

TEST_F(ReplayFixture, InTheWindowTheComparisonRunsInTheBackgroundAndAnErrorIsOneDialog) {
  MainWindow w(false);   // as a user has it: dialogs, the comparison on its thread
  w.resize(1400, 900);
  w.show();
  ASSERT_TRUE(w.openFile(a));
  const QString missing = dir.filePath(QStringLiteral("gone.aas"));
  // The error dialog is modal: read and close it when it comes.
  QStringList dialogs;
  QTimer closer;
  QObject::connect(&closer, &QTimer::timeout, [&] {
    if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
      dialogs << box->text();
      box->done(0);
    }
  });
  closer.start(20);
  EXPECT_TRUE(w.compareWith(missing));   // started
  auto waitFor = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 3000 && !done(); ++i) {
      QApplication::processEvents(QEventLoop::AllEvents, 10);
      QThread::msleep(2);
    }
    return done();
  };
  ASSERT_TRUE(waitFor([&] { return !dialogs.isEmpty(); }));
  QApplication::processEvents();
  EXPECT_EQ(dialogs.size(), 1);
  EXPECT_TRUE(dialogs.value(0).contains(QStringLiteral("gone.aas: cannot open: No such file or directory")))
      << dialogs.value(0).toStdString();
  EXPECT_NE(w.document(), nullptr);
  EXPECT_EQ(w.runPanel()->document(), nullptr);
  // Then the good run B: the docks fill in once the worker is done.
  EXPECT_TRUE(w.compareWith(b));
  ASSERT_TRUE(waitFor([&] { return w.diffPanel()->model()->rowCount() == 35; }));
  EXPECT_NE(w.runPanel()->document(), nullptr);
  EXPECT_TRUE(w.findChild<QDockWidget*>(QStringLiteral("run-b"))->isVisible());
  EXPECT_EQ(dialogs.size(), 1);
  w.selectDifference(0);
  EXPECT_TRUE(w.timeline()->selectedEvent().has_value());
  EXPECT_TRUE(w.runPanel()->timeline()->selectedEvent().has_value());
}

TEST_F(LlmFixture, ADifferencesCauseLinksToTheToolCallThatLedToIt) {
  // fixtures/llm/agent.aas against another recording (the Anthropic SDK fixture): the
  // ls that call 0's read_file led to is only in A, and says so.
  const QString other = copyFixture(dir, QStringLiteral("fixtures/apis/anthropic.aas"), QStringLiteral("sdk.aas"));
  ASSERT_FALSE(other.isEmpty());
  MainWindow w(true);
  w.resize(1600, 1000);
  QString error;
  ASSERT_TRUE(w.openFile(path, &error)) << error.toStdString();
  w.show();
  ASSERT_TRUE(w.document()->waitForTraffic(60000));
  ASSERT_TRUE(w.compareWith(other, &error)) << error.toStdString();
  const DiffModel& m = *w.diffPanel()->model();
  int ls = -1;
  for (int r = 0; r < m.rowCount(); ++r)
    if (m.difference(r)->area == "exec" && m.difference(r)->subject == "/bin/ls /tmp/aa-fixtures/llm") ls = r;
  ASSERT_GE(ls, 0);
  EXPECT_EQ(m.difference(ls)->causeA, "llm call 0 tool 0 read_file (time)");
  EXPECT_EQ(m.causeCall(ls, DiffSide::A), std::optional<size_t>(0));
  EXPECT_FALSE(m.causeCall(ls, DiffSide::B));
  EXPECT_EQ(m.data(m.index(ls, DiffModel::CauseColumn)).toString(), QStringLiteral("llm call 0 tool 0 read_file (time)"));
  w.selectDifference(ls);
  EXPECT_EQ(w.timeline()->selectedEvent(), std::optional<uint64_t>(kLsSeq));
  EXPECT_TRUE(w.diffPanel()->detailText().contains(QStringLiteral("href='aa:cause/A/0'")))
      << w.diffPanel()->detailText().toStdString();
  // Following it selects the call in run A, where the conversation shows the effect.
  QLabel* detail = nullptr;
  for (QLabel* l : w.diffPanel()->findChildren<QLabel*>())
    if (l->text().contains(QStringLiteral("aa:cause/"))) detail = l;
  ASSERT_NE(detail, nullptr);
  emit detail->linkActivated(QStringLiteral("aa:cause/A/0"));
  EXPECT_EQ(w.timeline()->selectedCall(), 0);
  EXPECT_TRUE(w.detailsView()->toPlainText().contains(QStringLiteral("What each tool call led to")));
  EXPECT_TRUE(w.detailsView()->toHtml().contains(QStringLiteral("aa:event/%1").arg(kLsSeq)));
}

// --- aa-view --diff ---------------------------------------------------------------------

TEST_F(ReplayFixture, ScreenshotOfADifferenceAndOneLineErrors) {
  const QString png = dir.filePath(QStringLiteral("diff.png"));
  ViewRun r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--diff"), b,
                     QStringLiteral("--select"), QStringLiteral("diff:30"), a});
  EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
  EXPECT_EQ(r.err, QString());
  QImage img(png);
  ASSERT_FALSE(img.isNull());
  EXPECT_EQ(img.size(), QSize(1600, 1000));
  // The selected row's highlight and both runs' LLM span color are drawn.
  int navy = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      if ((img.pixel(x, y) & 0xffffff) == (llmColor().rgb() & 0xffffff)) ++navy;
  EXPECT_GT(navy, 100);

  const QString missing = dir.filePath(QStringLiteral("missing.aas"));
  r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--diff"), missing, a});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.err, QStringLiteral("aa-view: ") + missing + QStringLiteral(": cannot open: No such file or directory\n"));
  r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--diff"), b,
                 QStringLiteral("--select"), QStringLiteral("diff:99"), a});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.err, QStringLiteral("aa-view: --select diff:99: no such difference (there are 35)\n"));
  r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--select"), QStringLiteral("diff:1"), a});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.err, QStringLiteral("aa-view: --select diff:1: needs --diff B.aas\n"));
  r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--diff"), b,
                 QStringLiteral("--diff-ignore"), QStringLiteral("disk:*"), a});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(r.err.startsWith(QStringLiteral("aa-view: --diff-ignore: "))) << r.err.toStdString();
  EXPECT_EQ(r.err.count(QLatin1Char('\n')), 1);
  // A damaged run B renders, with one warning line naming it.
  const QString cut = dir.filePath(QStringLiteral("cut.aas"));
  ASSERT_TRUE(QFile::copy(b, cut));
  QFile::setPermissions(cut, QFile::ReadOwner | QFile::WriteOwner);
  ASSERT_TRUE(QFile::resize(cut, QFileInfo(b).size() - 3000));
  r = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--diff"), cut, a});
  EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
  EXPECT_TRUE(r.err.startsWith(QStringLiteral("aa-view: warning: ") + cut + QStringLiteral(": "))) << r.err.toStdString();
  EXPECT_EQ(r.err.count(QLatin1Char('\n')), 1);
}
