// timeline_bench: how fast the viewer gets a session on screen and repaints it.
//   timeline_bench FILE [WIDTHxHEIGHT]
// Prints, one per line: open, first paint (with whatever detail is ready), summary
// build, and repaint times after zoom and pan at full range and at 1% of the range.
// Runs offscreen; paint times are measured around a synchronous repaint().
#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "viewer/app/timeline_view.h"

using namespace aa::view;

namespace {

double repaintMs(TimelineView& view) {
  QElapsedTimer t;
  t.start();
  view.viewport()->repaint();
  return t.nsecsElapsed() / 1e6;
}

const char* detailName(TimelineView::Detail d) {
  switch (d) {
    case TimelineView::Detail::Events: return "events";
    case TimelineView::Detail::Summary: return "summary";
    case TimelineView::Detail::Frames: return "frames";
    default: return "none";
  }
}

// ms: wall time of each repaint (backing store included); paint: our paintEvent alone.
void report(const char* what, std::vector<double> ms, std::vector<double> paint, TimelineView& view) {
  std::sort(ms.begin(), ms.end());
  std::sort(paint.begin(), paint.end());
  std::printf("%-34s median %7.2f ms  max %7.2f ms  | paintEvent median %6.2f ms  max %6.2f ms  (%zu repaints, detail %s)\n",
              what, ms[ms.size() / 2], ms.back(), paint[paint.size() / 2], paint.back(), ms.size(),
              detailName(view.lastDetail()));
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer sinceStart;
  sinceStart.start();
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  qInstallMessageHandler([](QtMsgType, const QMessageLogContext&, const QString&) {});
  QApplication app(argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: timeline_bench FILE [WIDTHxHEIGHT]\n");
    return 2;
  }
  int w = 1600, h = 900;
  if (argc > 2 && std::sscanf(argv[2], "%dx%d", &w, &h) != 2) {
    std::fprintf(stderr, "timeline_bench: %s: expected WIDTHxHEIGHT\n", argv[2]);
    return 2;
  }
  QElapsedTimer t;
  t.start();
  auto opened = SessionDocument::open(QString::fromLocal8Bit(argv[1]));
  if (!opened.ok()) {
    std::fprintf(stderr, "timeline_bench: %s\n", opened.status().message().c_str());
    return 1;
  }
  SessionDocument& doc = *opened.value();
  const double openMs = t.nsecsElapsed() / 1e6;
  TimelineView view;
  view.resize(w, h);
  view.setDocument(&doc);
  view.show();
  doc.startSummary();
  QApplication::processEvents();
  const double firstPaint = repaintMs(view);
  std::printf("events %llu, frames %zu, processes %zu, file %.1f MiB\n",
              (unsigned long long)doc.eventCount(), doc.frames().size(), doc.processes().size(),
              doc.fileSize() / 1048576.0);
  std::printf("%-34s %7.1f ms\n", "open (reader + tables)", openMs);
  std::printf("%-34s %7.1f ms  (detail %s)\n", "first paint", firstPaint, detailName(view.lastDetail()));
  std::printf("%-34s %7.1f ms\n", "launch to first painted timeline", sinceStart.nsecsElapsed() / 1e6);
  t.restart();
  doc.waitForSummary(600000);
  std::printf("%-34s %7.1f ms (background)\n", "summary built", t.nsecsElapsed() / 1e6);
  QApplication::processEvents();

  const double total = double(doc.durationNs());
  auto run = [&](const char* label, double span, bool zoom) {
    view.setRange(total / 2 - span / 2, total / 2 + span / 2);
    repaintMs(view);
    std::vector<double> ms, paint;
    for (int i = 0; i < 20; ++i) {
      if (zoom) {
        if (i % 2) view.zoomIn(); else view.zoomOut();
      } else {
        if (i % 2) view.panLeft(); else view.panRight();
      }
      ms.push_back(repaintMs(view));
      paint.push_back(view.lastPaintMs());
    }
    report(label, ms, paint, view);
  };
  run("full range: repaint after zoom", total, true);
  run("full range: repaint after pan", total * 0.9, false);
  run("1% range: repaint after zoom", total * 0.01, true);
  run("1% range: repaint after pan", total * 0.01, false);
  // A jump to a range never seen: the frames in view must be decoded first.
  view.setRange(total * 0.1, total * 0.11);
  const double coldMs = repaintMs(view);
  std::printf("%-34s %7.2f ms  (detail %s)\n", "1% range: first repaint, cold", coldMs, detailName(view.lastDetail()));
  t.restart();
  doc.waitForPrefetch(60000);
  QApplication::processEvents();
  const double decodeMs = t.nsecsElapsed() / 1e6;
  const double afterMs = repaintMs(view);
  std::printf("%-34s %7.2f ms  (then repaint %.2f ms, detail %s)\n", "1% range: events decoded after", decodeMs,
              afterMs, detailName(view.lastDetail()));
  // Resident memory split: RssFile is the memory-mapped session (page cache the kernel
  // can drop), RssAnon is what the viewer itself holds.
  QFile status(QStringLiteral("/proc/self/status"));
  if (status.open(QIODevice::ReadOnly))
    for (const QByteArray& line : status.readAll().split('\n'))
      if (line.startsWith("VmHWM") || line.startsWith("RssAnon") || line.startsWith("RssFile"))
        std::printf("%s\n", line.simplified().constData());
  return 0;
}
