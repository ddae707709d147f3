// Rendered output: the timeline's pixels in known lanes and bands, the aa-view
// --screenshot command line (success and error paths), a damaged session in the window,
// search highlighting and the connection stream.
#include <QApplication>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <gtest/gtest.h>

#include "tests/viewer/run_aa_view.h"
#include "tests/viewer/llm_session.h"
#include "tests/viewer/test_session.h"
#include "viewer/app/main_window.h"
#include "viewer/app/timeline_view.h"

using namespace aa;
using namespace aa::view;
using namespace aa::view::test;

namespace {


// Pixels of exactly this color inside r.
int countColor(const QImage& img, const QRect& r, const QColor& c) {
  int n = 0;
  const QRgb want = c.rgb();
  const QRect box = r.intersected(img.rect());
  for (int y = box.top(); y <= box.bottom(); ++y)
    for (int x = box.left(); x <= box.right(); ++x)
      if ((img.pixel(x, y) & 0xffffff) == (want & 0xffffff)) ++n;
  return n;
}

class WindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    path = dir.filePath(QStringLiteral("run.aas"));
    ASSERT_EQ(writeTestSession(path.toStdString(), spec()), "");
    window = std::make_unique<MainWindow>(true);
    window->resize(1400, 900);
    QString error;
    ASSERT_TRUE(window->openFile(path, &error)) << error.toStdString();
    window->show();
    ASSERT_TRUE(window->document()->waitForSummary(10000));
    QApplication::processEvents();
  }
  virtual SessionSpec spec() const { return {}; }
  int proc(uint32_t pid) const { return window->document()->processIndex(pid); }
  QImage timelineImage() const {
    QApplication::processEvents();
    return window->timeline()->viewport()->grab().toImage();
  }
  // A few pixels around the mark of an event at `ms` in `pid`'s band for `a`.
  QRect markBox(uint32_t pid, Activity a, double ms) const {
    const QRect band = window->timeline()->bandRect(proc(pid), a);
    const int x = window->timeline()->timeToX(ms * kMs);
    return QRect(x - 1, band.top(), 4, band.height());
  }

  QTemporaryDir dir;
  QString path;
  std::unique_ptr<MainWindow> window;
};

TEST_F(WindowTest, TimelineDrawsEachActivityInItsProcessBand) {
  const QImage img = timelineImage();
  ASSERT_FALSE(img.isNull());
  EXPECT_EQ(window->timeline()->lastDetail(), TimelineView::Detail::Events);
  struct Expect { uint32_t pid; Activity a; double ms; };
  const Expect marks[] = {
      {100, Activity::Exec, 1},      {200, Activity::Exec, 3},     {300, Activity::Exec, 93},
      {100, Activity::FileRead, 10}, {100, Activity::FileWrite, 20}, {100, Activity::FileMeta, 70},
      {200, Activity::Sent, 40},   {200, Activity::Received, 60},   {200, Activity::Net, 30},
  };
  for (const Expect& m : marks)
    EXPECT_GT(countColor(img, markBox(m.pid, m.a, m.ms), activityColor(m.a)), 0)
        << "pid " << m.pid << " " << activityName(m.a).toStdString() << " at " << m.ms << " ms";
  // And nowhere else: no TLS in python3's lane, no exec in curl's lane at 40 ms.
  EXPECT_EQ(countColor(img, window->timeline()->laneRect(proc(100)), activityColor(Activity::Sent)), 0);
  EXPECT_EQ(countColor(img, markBox(200, Activity::Exec, 40), activityColor(Activity::Exec)), 0);
  // The lost-event gap (75..80 ms) is hatched: reddish pixels there, none at 50 ms.
  auto reddish = [&](int x) {
    int n = 0;
    for (int y = TimelineView::kRulerHeight; y < img.height(); ++y) {
      const QColor c = img.pixelColor(x, y);
      if (c.red() > c.green() + 40 && c.red() > c.blue() + 40) ++n;
    }
    return n;
  };
  EXPECT_GT(reddish(window->timeline()->timeToX(78 * kMs)), 3);
  EXPECT_EQ(reddish(window->timeline()->timeToX(50 * kMs)), 0);
}

TEST_F(WindowTest, CollapsedParentLaneCarriesChildren) {
  window->timeline()->setCollapsed(proc(100), true);
  const QImage img = timelineImage();
  EXPECT_EQ(window->timeline()->layout().lanes().size(), 1u);
  EXPECT_GT(countColor(img, markBox(100, Activity::Sent, 40), activityColor(Activity::Sent)), 0);
}

TEST_F(WindowTest, FiltersHideMarksAndSearchHighlights) {
  window->setActivityEnabled(Activity::Sent, false);
  QImage img = timelineImage();
  EXPECT_EQ(countColor(img, markBox(200, Activity::Sent, 40), activityColor(Activity::Sent)), 0);
  EXPECT_GT(countColor(img, markBox(200, Activity::Received, 60), activityColor(Activity::Received)), 0);
  EXPECT_EQ(window->eventModel()->rowCount(), kBaseEvents - 1);
  window->setActivityEnabled(Activity::Sent, true);

  window->setSearchText(QStringLiteral("final.txt"));
  EXPECT_EQ(window->eventModel()->rowCount(), 1);
  img = timelineImage();
  // The match marker (gold) sits at the top of python3's lane at 70 ms.
  const QRect lane = window->timeline()->laneRect(proc(100));
  const int x = window->timeline()->timeToX(70 * kMs);
  EXPECT_GT(countColor(img, QRect(x - 4, lane.top(), 9, 5), QColor(241, 196, 15)), 0);
  window->selectEvent(window->eventModel()->seqAtRow(0));
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("/tmp/final.txt")));
}

TEST_F(WindowTest, SelectingShowsDetailsAndConnectionStream) {
  window->selectEvent(8);   // the TLS request
  const QString text = window->detailsView()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("POST /v1/messages HTTP/1.1")));
  EXPECT_TRUE(text.contains(QStringLiteral("\"max_tokens\": 5")));
  EXPECT_EQ(window->eventView()->currentIndex().row(), 8);
  const QString stream = window->connectionStream(7);
  EXPECT_LT(stream.indexOf(QStringLiteral("→ sent")), stream.indexOf(QStringLiteral("← received")));
  EXPECT_TRUE(stream.contains(QStringLiteral("HTTP/1.1 200 OK")));
}

TEST_F(WindowTest, ClickSelectsDragZoomsKeysFit) {
  TimelineView* tl = window->timeline();
  QWidget* vp = tl->viewport();
  const QPoint mark(tl->timeToX(40.0 * kMs), tl->bandRect(proc(200), Activity::Sent).center().y());
  QTest::mouseClick(vp, Qt::LeftButton, {}, mark);
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("POST /v1/messages")));
  EXPECT_EQ(window->eventView()->currentIndex().row(), 8);

  // Drag in the ruler selects a range and zooms to it.
  const int x0 = tl->timeToX(15.0 * kMs), x1 = tl->timeToX(65.0 * kMs);
  QTest::mousePress(vp, Qt::LeftButton, {}, QPoint(x0, 10));
  QTest::mouseMove(vp, QPoint((x0 + x1) / 2, 10));
  QTest::mouseMove(vp, QPoint(x1, 10));
  QTest::mouseRelease(vp, Qt::LeftButton, {}, QPoint(x1, 10));
  const double perPixelBefore = 110.0 * kMs / tl->axis().width();
  EXPECT_NEAR(tl->axis().from(), 15.0 * kMs, 2 * perPixelBefore);
  EXPECT_NEAR(tl->axis().to(), 65.0 * kMs, 2 * perPixelBefore);
  // The table follows the visible range once the debounce has run.
  window->applyFilterNow();
  EXPECT_EQ(window->eventModel()->rowCount(), 5);   // open+close /tmp/out.txt, connect, tls x2

  QTest::keyClick(tl, Qt::Key_Minus);
  EXPECT_NEAR(tl->axis().span(), 100.0 * kMs, 2 * perPixelBefore);
  QTest::keyClick(tl, Qt::Key_0);
  EXPECT_LT(tl->axis().from(), 0);
  EXPECT_GT(tl->axis().to(), 100.0 * kMs);
}

TEST_F(WindowTest, ReplayCursorShowsOnlyWhatHappened) {
  window->timeline()->setReplayCursor(50.0 * kMs);
  QImage img = timelineImage();
  EXPECT_GT(countColor(img, markBox(200, Activity::Sent, 40), activityColor(Activity::Sent)), 0);
  EXPECT_EQ(countColor(img, markBox(200, Activity::Received, 60), activityColor(Activity::Received)), 0);
  // The cursor line itself.
  const int x = window->timeline()->timeToX(50.0 * kMs);
  EXPECT_GT(countColor(img, QRect(x - 1, 0, 3, img.height()), QColor(200, 0, 0)), 50);
  window->timeline()->setReplayCursor(std::nullopt);
  img = timelineImage();
  EXPECT_GT(countColor(img, markBox(200, Activity::Received, 60), activityColor(Activity::Received)), 0);
}

TEST_F(WindowTest, ZoomedOutUsesTheSummaryAndKeepsLanes) {
  // Force the overview path whatever the size: the summary must put marks in the same
  // lanes and bands as the decoded events do (colors are blended by density there).
  ColumnGrid events, summary;
  const TimeAxis& axis = window->timeline()->axis();
  const auto& laneOf = window->timeline()->layout().laneOf();
  const int lanes = int(window->timeline()->layout().lanes().size());
  events.reset(lanes, axis.width());
  summary.reset(lanes, axis.width());
  for (size_t f = 0; f < window->document()->frames().size(); ++f)
    accumulateMarks(events, axis, *window->document()->marks(f), laneOf, kAllActivities, 1e18);
  accumulateSummary(summary, axis, *window->document()->summary(), laneOf, kAllActivities, 1e18);
  for (int a = 0; a < kActivityCount; ++a) {
    uint64_t e = 0, s = 0;
    for (int l = 0; l < lanes; ++l)
      for (int c = 0; c < events.columns; ++c) {
        e += events.at(l, c)[a] ? 1 : 0;
        s += summary.at(l, c)[a] ? 1 : 0;
      }
    // Every column with an event is covered by the summary (bins may be wider).
    EXPECT_GE(s, e) << activityName(Activity(a)).toStdString();
    for (int l = 0; l < lanes; ++l)
      for (int c = 0; c < events.columns; ++c)
        if (events.at(l, c)[a]) {
          EXPECT_GT(summary.at(l, c)[a], 0u) << "lane " << l << " col " << c;
        }
  }
}

class DamagedWindowTest : public ::testing::Test {};

TEST_F(DamagedWindowTest, OpensWithWarningAndShowsReadablePart) {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("cut.aas"));
  ASSERT_EQ(writeTestSession(path.toStdString(), {.fillerEvents = 3000, .batchEvents = 256}), "");
  QFile::remove(path + QStringLiteral("-index"));
  QFile f(path);
  ASSERT_TRUE(f.resize(f.size() / 2));
  MainWindow w(true);
  QString error, warning;
  ASSERT_TRUE(w.openFile(path, &error, &warning)) << error.toStdString();
  QApplication::processEvents();   // the table is filled after the first paint
  EXPECT_FALSE(warning.isEmpty());
  EXPECT_GT(w.eventModel()->rowCount(), 0);
  EXPECT_EQ(uint64_t(w.eventModel()->rowCount()), w.document()->eventCount());
  // The headless screenshot of it succeeds and says what is wrong on one line.
  const QString png = dir.filePath(QStringLiteral("cut.png"));
  const ViewRun s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--size"), QStringLiteral("800x600"), path});
  EXPECT_EQ(s.exitCode, 0) << s.err.toStdString();
  EXPECT_TRUE(s.err.startsWith(QStringLiteral("aa-view: warning: "))) << s.err.toStdString();
  EXPECT_EQ(QImage(png).size(), QSize(800, 600));
}

TEST(Screenshot, RendersLanesWithActivityColors) {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("run.aas"));
  ASSERT_EQ(writeTestSession(path.toStdString()), "");
  const QString png = dir.filePath(QStringLiteral("shot.png"));
  const ViewRun s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--size"),
                            QStringLiteral("1200x800"), QStringLiteral("--range"), QStringLiteral("0:0.1"), path});
  ASSERT_EQ(s.exitCode, 0) << s.err.toStdString();
  EXPECT_TRUE(s.err.isEmpty()) << s.err.toStdString();
  const QImage img(png);
  ASSERT_EQ(img.size(), QSize(1200, 800));
  for (Activity a : {Activity::Exec, Activity::FileRead, Activity::FileWrite, Activity::FileMeta,
                     Activity::Sent, Activity::Received})
    EXPECT_GT(countColor(img, img.rect(), activityColor(a)), 4) << activityName(a).toStdString();
}

TEST(Screenshot, ErrorsAreOneLineAndNonZero) {
  QTemporaryDir dir;
  const QString png = dir.filePath(QStringLiteral("x.png"));
  ViewRun s = runAaView({QStringLiteral("--screenshot"), png, dir.filePath(QStringLiteral("missing.aas"))});
  EXPECT_NE(s.exitCode, 0);
  EXPECT_TRUE(s.err.startsWith(QStringLiteral("aa-view: "))) << s.err.toStdString();
  EXPECT_TRUE(s.err.contains(QStringLiteral("missing.aas")));
  EXPECT_EQ(s.err.count(QLatin1Char('\n')), 1) << s.err.toStdString();
  EXPECT_FALSE(QFile::exists(png));

  const QString path = dir.filePath(QStringLiteral("run.aas"));
  ASSERT_EQ(writeTestSession(path.toStdString()), "");
  s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--size"), QStringLiteral("big"), path});
  EXPECT_NE(s.exitCode, 0);
  EXPECT_TRUE(s.err.contains(QStringLiteral("--size"))) << s.err.toStdString();
  s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--range"), QStringLiteral("3:1"), path});
  EXPECT_NE(s.exitCode, 0);
  EXPECT_TRUE(s.err.contains(QStringLiteral("--range"))) << s.err.toStdString();
}

}  // namespace

// --- LLM spans -----------------------------------------------------------------------

class LlmWindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir.isValid());
    path = dir.filePath(QStringLiteral("llm.aas"));
    ASSERT_EQ(writeLlmSession(path.toStdString()), "");
    window = std::make_unique<MainWindow>(true);
    window->resize(1400, 900);
    QString error;
    ASSERT_TRUE(window->openFile(path, &error)) << error.toStdString();
    window->show();
    ASSERT_TRUE(window->document()->waitForTraffic(20000));
    QApplication::processEvents();
    QApplication::processEvents();
  }
  QImage timelineImage() const {
    QApplication::processEvents();
    return window->timeline()->viewport()->grab().toImage();
  }
  QTemporaryDir dir;
  QString path;
  std::unique_ptr<MainWindow> window;
};

TEST_F(LlmWindowTest, SpanColorInTheCallersLaneOverTheCallsTime) {
  TimelineView* tl = window->timeline();
  const int p = window->document()->processIndex(100);
  const QRect strip = tl->llmStripRect(p);
  ASSERT_FALSE(strip.isNull());
  const QImage img = timelineImage();
  const int x10 = tl->timeToX(10.0 * kMs), x35 = tl->timeToX(35.0 * kMs);
  ASSERT_GT(x35 - x10, 20);
  // Solid across the call, and nowhere before it or between the two calls.
  EXPECT_EQ(countColor(img, QRect(x10 + 2, strip.top(), x35 - x10 - 4, strip.height()), llmColor()),
            (x35 - x10 - 4) * strip.height());
  EXPECT_EQ(countColor(img, QRect(tl->timeToX(0), strip.top(), x10 - tl->timeToX(0) - 2, strip.height()), llmColor()), 0);
  EXPECT_EQ(countColor(img, QRect(x35 + 3, strip.top(), tl->timeToX(69.0 * kMs) - x35 - 3, strip.height()), llmColor()), 0);
  // The incomplete call is dashed: some of its strip, not all.
  const int x70 = tl->timeToX(70.0 * kMs), x80 = tl->timeToX(80.0 * kMs);
  const int dashed = countColor(img, QRect(x70 + 1, strip.top(), x80 - x70 - 4, strip.height()), llmColor());
  EXPECT_GT(dashed, 0);
  EXPECT_LT(dashed, (x80 - x70 - 4) * strip.height());
  // Not in the child's lane.
  const QRect childLane = tl->laneRect(window->document()->processIndex(101));
  if (!childLane.isNull()) {
    EXPECT_EQ(countColor(img, childLane, llmColor()), 0);
  }
}

TEST_F(LlmWindowTest, ClickingTheSpanShowsTheConversationAndActionsSelectEvents) {
  TimelineView* tl = window->timeline();
  const QRect strip = tl->llmStripRect(window->document()->processIndex(100));
  const QPoint at(tl->timeToX(28.0 * kMs), strip.center().y());
  EXPECT_EQ(tl->llmCallAt(at), 0);
  QTest::mouseClick(tl->viewport(), Qt::LeftButton, {}, at);
  EXPECT_EQ(tl->selectedCall(), 0);
  const QString text = window->detailsView()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("LLM call 1")));
  EXPECT_TRUE(text.contains(QStringLiteral("Let me look.")));
  EXPECT_TRUE(text.contains(QStringLiteral("HTTP exchanges on connection 9")));
  // An action link selects its event in the table.
  emit window->detailsView()->anchorClicked(QUrl(QStringLiteral("aa:event/%1").arg(kLlmSeqLsExec)));
  EXPECT_EQ(window->eventModel()->seqAtRow(window->eventView()->currentIndex().row()), kLlmSeqLsExec);
  // An exchange link shows its headers and bodies.
  emit window->detailsView()->anchorClicked(QUrl(QStringLiteral("aa:exchange/%1").arg(window->document()->traffic()->traffic.calls[0].exchange)));
  EXPECT_TRUE(window->detailsView()->toPlainText().contains(QStringLiteral("anthropic-version: 2023-06-01")));
}

TEST_F(LlmWindowTest, SelectingTheRequestEventShowsItsCall) {
  window->selectEvent(kLlmSeqRequest);
  const QString text = window->detailsView()->toPlainText();
  EXPECT_TRUE(text.contains(QStringLiteral("You are terse.")));
  EXPECT_TRUE(text.contains(QStringLiteral("This TLS event")));
  EXPECT_EQ(window->timeline()->selectedCall(), 0);
}

TEST(Screenshot, SelectsAnLlmCall) {
  QTemporaryDir dir;
  const QString session = dir.filePath(QStringLiteral("llm.aas"));
  ASSERT_EQ(writeLlmSession(session.toStdString()), "");
  const QString png = dir.filePath(QStringLiteral("llm.png"));
  ViewRun s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--select"), QStringLiteral("llm:1"), session});
  EXPECT_EQ(s.exitCode, 0) << s.err.toStdString();
  QImage img(png);
  ASSERT_FALSE(img.isNull());
  EXPECT_GT(countColor(img, img.rect(), llmColor()), 50);
  s = runAaView({QStringLiteral("--screenshot"), png, QStringLiteral("--select"), QStringLiteral("llm:9"), session});
  EXPECT_NE(s.exitCode, 0);
  EXPECT_TRUE(s.err.contains(QStringLiteral("no such LLM call"))) << s.err.toStdString();
}
