// aa-view: the session viewer. With --screenshot it renders the main window offscreen
// to a PNG and exits (for docs, bug reports and tests).
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QImage>
#include <QRegularExpression>
#include <QTableView>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "store/diff/session_diff.h"
#include "store/version.h"
#include "viewer/app/diff_panel.h"
#include "viewer/app/main_window.h"
#include "viewer/app/run_panel.h"
#include "viewer/app/timeline_view.h"

using namespace aa::view;

namespace {

int fail(const QString& message) {
  std::fprintf(stderr, "aa-view: %s\n", message.toLocal8Bit().constData());
  return 1;
}

bool wantTiming() { return qEnvironmentVariableIsSet("AA_VIEW_TIMING"); }

// CPU time of the calling thread: on a loaded machine, wall time mostly measures the
// other jobs.
double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void timing(const char* what, const QElapsedTimer& t) {
  if (wantTiming()) std::fprintf(stderr, "timing: %s %.1f ms\n", what, t.nsecsElapsed() / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer sinceStart;
  sinceStart.start();
  // Screenshots need no display: choose the offscreen platform before Qt starts.
  bool screenshot = false;
  for (int i = 1; i < argc; ++i)
    if (QByteArray(argv[i]) == "--screenshot" || QByteArray(argv[i]).startsWith("--screenshot="))
      screenshot = true;
  if (screenshot && !qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Headless, stderr carries only our one-line errors: Qt's chatter about the platform
  // (no XDG_RUNTIME_DIR, no window manager) is noise there. AA_VIEW_DEBUG keeps it.
  if (screenshot && !qEnvironmentVariableIsSet("AA_VIEW_DEBUG"))
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
      if (type == QtCriticalMsg || type == QtFatalMsg)
        std::fprintf(stderr, "aa-view: qt: %s\n", msg.toLocal8Bit().constData());
    });

  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("aa-record"));
  QApplication::setApplicationName(QStringLiteral("aa-view"));
  QApplication::setApplicationVersion(QStringLiteral(AA_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("View an aa-record session as a timeline."));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("Render offscreen to OUT.png and exit."), QStringLiteral("OUT.png"));
  QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1600x1000)."), QStringLiteral("WxH"), QStringLiteral("1600x1000"));
  QCommandLineOption rangeOpt(QStringLiteral("range"), QStringLiteral("Visible time range, session time: FROM:TO (e.g. 1.5:3, 200ms:1s)."), QStringLiteral("FROM:TO"));
  QCommandLineOption searchOpt(QStringLiteral("search"), QStringLiteral("Search text to highlight."), QStringLiteral("TEXT"));
  QCommandLineOption selectOpt(QStringLiteral("select"), QStringLiteral("Select event SEQ, llm:N the N-th LLM call (details pane), or diff:N the N-th difference (with --diff)."), QStringLiteral("SEQ|llm:N|diff:N"));
  QCommandLineOption showOpt(QStringLiteral("show"), QStringLiteral("Dock to bring to front: events, charts, processes, details, differences."), QStringLiteral("DOCK"));
  QCommandLineOption diffOpt(QStringLiteral("diff"), QStringLiteral("Compare FILE (run A) with run B, as aa-session diff A B: the differences, and B's timeline beside A's."), QStringLiteral("B.aas"));
  QCommandLineOption diffIgnoreOpt(QStringLiteral("diff-ignore"), QStringLiteral("With --diff, also leave out AREA:GLOB (as aa-session diff --ignore; repeatable)."), QStringLiteral("AREA:GLOB"));
  parser.addOptions({shotOpt, sizeOpt, rangeOpt, searchOpt, selectOpt, showOpt, diffOpt, diffIgnoreOpt});
  parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("Session file (.aas)."));
  if (!parser.parse(QApplication::arguments())) return fail(parser.errorText());
  if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
  if (parser.isSet(QStringLiteral("version"))) parser.showVersion();
  const QStringList files = parser.positionalArguments();
  if (files.size() > 1) return fail(QStringLiteral("expected one session file, got %1").arg(files.size()));

  QSize size(1600, 1000);
  {
    const auto m = QRegularExpression(QStringLiteral("^(\\d+)x(\\d+)$")).match(parser.value(sizeOpt));
    if (!m.hasMatch() || m.captured(1).toInt() < 200 || m.captured(2).toInt() < 150 ||
        m.captured(1).toInt() > 10000 || m.captured(2).toInt() > 10000)
      return fail(QStringLiteral("--size %1: expected WxH between 200x150 and 10000x10000").arg(parser.value(sizeOpt)));
    size = QSize(m.captured(1).toInt(), m.captured(2).toInt());
  }
  aa::diff::DiffOptions diffOptions;
  for (const QString& g : parser.values(diffIgnoreOpt)) diffOptions.ignore.push_back(g.toStdString());
  if (!parser.isSet(diffOpt) && !diffOptions.ignore.empty()) return fail(QStringLiteral("--diff-ignore needs --diff B.aas"));
  if (aa::Status s = aa::diff::validateIgnores(diffOptions.ignore); !s.ok())
    return fail(QStringLiteral("--diff-ignore: ") + QString::fromStdString(s.message()));
  if (parser.isSet(diffOpt) && files.isEmpty()) return fail(QStringLiteral("--diff needs run A: aa-view A.aas --diff B.aas"));
  std::optional<std::pair<double, double>> range;
  if (parser.isSet(rangeOpt)) {
    const QStringList parts = parser.value(rangeOpt).split(QLatin1Char(':'));
    double a = 0, b = 0;
    if (parts.size() != 2 || !parseTime(parts[0], &a) || !parseTime(parts[1], &b) || b <= a)
      return fail(QStringLiteral("--range %1: expected FROM:TO in session time with FROM < TO (e.g. 1.5:3 or 200ms:1s)").arg(parser.value(rangeOpt)));
    range = {a, b};
  }

  if (!parser.isSet(shotOpt)) {
    MainWindow window(false);
    window.show();
    // A that cannot be opened has already said why; B is then not compared.
    if (!files.isEmpty() && window.openFile(files.first()) && parser.isSet(diffOpt))
      window.compareWith(parser.value(diffOpt), nullptr, nullptr, diffOptions);
    if (range) window.timeline()->setRange(range->first, range->second);
    return app.exec();
  }

  if (files.isEmpty()) return fail(QStringLiteral("--screenshot needs a session FILE"));
  const QString out = parser.value(shotOpt);
  MainWindow window(true);
  window.resize(size);
  QElapsedTimer t;
  t.start();
  QString error, warning;
  if (!window.openFile(files.first(), &error, &warning)) return fail(error);
  timing("open", t);
  if (range) window.timeline()->setRange(range->first, range->second);
  window.show();
  if (wantTiming()) {
    // The first frame a user would see: the timeline with whatever detail is ready now.
    // grab() paints now, without waiting for the platform to expose the window.
    window.timeline()->viewport()->grab();
    std::fprintf(stderr, "timing: first timeline paint %.1f ms after start, %.1f ms CPU (paint %.1f ms, detail %d)\n",
                 sinceStart.nsecsElapsed() / 1e6, threadCpuMs(), window.timeline()->lastPaintMs(),
                 int(window.timeline()->lastDetail()));
  }
  QApplication::processEvents();
  // A screenshot shows the finished overview, not the provisional one.
  if (!window.document()->waitForSummary(120000)) return fail(files.first() + QStringLiteral(": overview not ready after 120 s"));
  timing("summary", t);
  QApplication::processEvents();
  if (parser.isSet(searchOpt)) window.setSearchText(parser.value(searchOpt));
  window.applyFilterNow();
  // LLM spans and the HTTP view come from the traffic analysis, which follows the summary.
  if (!window.document()->waitForTraffic(120000)) return fail(files.first() + QStringLiteral(": HTTP analysis not done after 120 s"));
  timing("traffic", t);
  QApplication::processEvents();
  if (parser.isSet(diffOpt)) {
    QString diffError, diffWarning;
    if (!window.compareWith(parser.value(diffOpt), &diffError, &diffWarning, diffOptions)) return fail(diffError);
    SessionDocument* b = window.runPanel()->document();
    if (!b->waitForSummary(120000) || !b->waitForTraffic(120000))
      return fail(parser.value(diffOpt) + QStringLiteral(": overview not ready after 120 s"));
    QApplication::processEvents();
    timing("diff", t);
    // The comparison names the damage of each run; A's own warning would repeat it.
    if (!diffWarning.isEmpty()) warning = diffWarning;
  }
  if (parser.isSet(selectOpt)) {
    const QString sel = parser.value(selectOpt);
    bool ok = false;
    if (sel.startsWith(QStringLiteral("diff:"))) {
      // "diff:N": the N-th difference (1-based, as the list shows them).
      const int n = sel.mid(5).toInt(&ok);
      const int rows = window.diffPanel()->model()->rowCount();
      if (!parser.isSet(diffOpt)) return fail(QStringLiteral("--select %1: needs --diff B.aas").arg(sel));
      if (!ok || n < 1 || n > rows)
        return fail(QStringLiteral("--select %1: no such difference (there are %2)").arg(sel).arg(rows));
      window.selectDifference(n - 1);
    } else if (sel.startsWith(QStringLiteral("llm:"))) {
      // "llm:N": the N-th LLM call (1-based, as the details pane numbers them).
      const int n = sel.mid(4).toInt(&ok);
      auto data = window.document()->traffic();
      const int calls = data ? int(data->traffic.calls.size()) : 0;
      if (!ok || n < 1 || n > calls)
        return fail(QStringLiteral("--select %1: no such LLM call (the session has %2)").arg(sel).arg(calls));
      window.selectLlmCall(n - 1);
    } else {
      const qulonglong seq = sel.toULongLong(&ok);
      if (!ok || seq >= window.document()->eventCount())
        return fail(QStringLiteral("--select %1: no such event (the session has %2)").arg(sel).arg(window.document()->eventCount()));
      window.selectEvent(seq);
    }
  }
  if (parser.isSet(showOpt) && !window.showDock(parser.value(showOpt)))
    return fail(QStringLiteral("--show %1: expected events, charts, processes, details or differences").arg(parser.value(showOpt)));
  QApplication::processEvents();
  // A paint may have handed the events in view to the prefetcher: let it finish so the
  // picture shows them rather than the provisional overview.
  window.timeline()->viewport()->grab();
  window.document()->waitForPrefetch(60000);
  if (parser.isSet(diffOpt)) {
    window.runPanel()->timeline()->viewport()->grab();
    window.runPanel()->document()->waitForPrefetch(60000);
  }
  QApplication::processEvents();
  const QImage image = window.grab().toImage();
  if (image.isNull() || !image.save(out, "PNG"))
    return fail(out + QStringLiteral(": cannot write PNG"));
  timing("screenshot total", t);
  for (const QString& w : warning.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
    std::fprintf(stderr, "aa-view: warning: %s (the screenshot shows the readable part)\n", w.toLocal8Bit().constData());
  return 0;
}
