#include "viewer/app/timeline_view.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "viewer/models/event_format.h"

namespace aa::view {

namespace {

// The activity a band shows in a column: the band's main activity when present,
// else the one that shares the band.
Activity bandActivity(int band, const ActivityCounts& c, uint32_t* count) {
  static const Activity primary[kBandCount] = {Activity::Exec, Activity::FileRead,
                                               Activity::FileWrite, Activity::FileMeta,
                                               Activity::Sent, Activity::Received};
  Activity a = primary[band];
  *count = c[int(a)];
  if (*count == 0) {
    if (band == 0) a = Activity::Process;
    if (band == 4) a = Activity::Net;
    *count = c[int(a)];
  }
  return a;
}

QColor blend(QColor c, double t) {
  // Toward white: keeps hue recognisable at low density instead of fading to grey.
  t = std::clamp(t, 0.0, 1.0);
  return QColor(int(255 + (c.red() - 255) * t), int(255 + (c.green() - 255) * t),
                int(255 + (c.blue() - 255) * t));
}

}  // namespace

TimelineView::TimelineView(QWidget* parent) : QAbstractScrollArea(parent) {
  setMouseTracking(true);
  viewport()->setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  verticalScrollBar()->setSingleStep(kLaneHeight);
  setMinimumHeight(kRulerHeight + 3 * kLaneHeight);
  connect(verticalScrollBar(), &QScrollBar::valueChanged, viewport(), qOverload<>(&QWidget::update));
}

void TimelineView::setDocument(SessionDocument* doc) {
  if (m_doc) disconnect(m_doc, nullptr, this, nullptr);
  m_doc = doc;
  m_layout.setDocument(doc);
  m_matches.clear();
  m_processFilter.clear();
  m_selectedSeq.reset();
  m_selectedCall = -1;
  m_cursor.reset();
  if (doc) {
    connect(doc, &SessionDocument::summaryReady, viewport(), qOverload<>(&QWidget::update));
    connect(doc, &SessionDocument::marksReady, viewport(), qOverload<>(&QWidget::update));
    connect(doc, &SessionDocument::trafficReady, viewport(), qOverload<>(&QWidget::update));
    m_axis.setTotal(doc->durationNs());
  }
  m_axis.setWidth(viewport()->width() - kLabelWidth);
  m_axis.fit();
  updateScrollBars();
  axisChanged();
}

void TimelineView::setRange(double fromNs, double toNs) {
  m_axis.setRange(fromNs, toNs);
  axisChanged();
}

void TimelineView::setActivityFilter(ActivityMask mask) {
  m_activities = mask;
  viewport()->update();
}

void TimelineView::setProcessFilter(std::vector<char> processes) {
  m_processFilter = std::move(processes);
  viewport()->update();
}

void TimelineView::setMatches(std::vector<Mark> matches) {
  m_matches = std::move(matches);
  viewport()->update();
}

void TimelineView::setSelectedEvent(std::optional<uint64_t> seq, double ns, int process) {
  m_selectedSeq = seq;
  m_selectedNs = ns;
  m_selectedProcess = process;
  viewport()->update();
}

void TimelineView::setReplayCursor(std::optional<double> ns) {
  m_cursor = ns;
  viewport()->update();
}

void TimelineView::setCollapsed(int process, bool collapsed) {
  if (m_layout.isCollapsed(process) == collapsed) return;
  m_layout.setCollapsed(process, collapsed);
  updateLaneWindow();
  updateScrollBars();
  viewport()->update();
  emit collapsedChanged(process, collapsed);
}

void TimelineView::collapseAll(bool collapsed) {
  m_layout.collapseAll(collapsed);
  updateLaneWindow();
  updateScrollBars();
  viewport()->update();
}

void TimelineView::zoomIn() { m_axis.zoom(2.0, m_axis.width() / 2.0); axisChanged(); }
void TimelineView::zoomOut() { m_axis.zoom(0.5, m_axis.width() / 2.0); axisChanged(); }
void TimelineView::fitAll() { m_axis.fit(); axisChanged(); }
void TimelineView::panLeft() { m_axis.pan(-m_axis.width() * 0.2); axisChanged(); }
void TimelineView::panRight() { m_axis.pan(m_axis.width() * 0.2); axisChanged(); }

void TimelineView::setHideIdle(bool hide) {
  m_hideIdle = hide;
  updateLaneWindow();
  viewport()->update();
}

void TimelineView::updateLaneWindow() {
  if (m_layout.setTimeWindow(m_hideIdle, m_axis.from(), m_axis.to())) updateScrollBars();
}

void TimelineView::axisChanged() {
  updateLaneWindow();
  viewport()->update();
  emit rangeChanged(m_axis.from(), m_axis.to());
}

void TimelineView::updateScrollBars() {
  const int content = int(m_layout.lanes().size()) * kLaneHeight;
  const int avail = viewport()->height() - kRulerHeight;
  verticalScrollBar()->setPageStep(std::max(1, avail));
  verticalScrollBar()->setRange(0, std::max(0, content - avail));
}

void TimelineView::resizeEvent(QResizeEvent* e) {
  QAbstractScrollArea::resizeEvent(e);
  const double from = m_axis.from(), to = m_axis.to();
  m_axis.setWidth(viewport()->width() - kLabelWidth);
  m_axis.setRange(from, to);
  updateScrollBars();
}

int TimelineView::laneTop(int lane) const {
  return kRulerHeight + lane * kLaneHeight - verticalScrollBar()->value();
}

int TimelineView::laneAtY(int y) const {
  if (y < kRulerHeight) return -1;
  const int lane = (y - kRulerHeight + verticalScrollBar()->value()) / kLaneHeight;
  return lane < int(m_layout.lanes().size()) ? lane : -1;
}

QRect TimelineView::laneRect(int process) const {
  const int lane = m_layout.laneOfProcess(process);
  if (lane < 0) return {};
  return QRect(kLabelWidth, laneTop(lane), viewport()->width() - kLabelWidth, kLaneHeight);
}

QRect TimelineView::bandRect(int process, Activity a) const {
  const QRect lane = laneRect(process);
  const int band = bandOf(a);
  if (lane.isNull() || band < 0) return {};
  return QRect(lane.left(), lane.top() + kLanePadding + band * kBandHeight, lane.width(),
               kBandHeight);
}

QRect TimelineView::llmStripRect(int process) const {
  const QRect lane = laneRect(process);
  if (lane.isNull()) return {};
  return QRect(lane.left(), lane.top() + kLanePadding + kBandCount * kBandHeight, lane.width(),
               kLanePadding - 1);
}

void TimelineView::setSelectedCall(int call) {
  m_selectedCall = call;
  viewport()->update();
}

int TimelineView::llmCallAt(QPoint pos) const {
  if (!m_doc || pos.x() < kLabelWidth) return -1;
  const auto data = m_doc->traffic();
  const int lane = laneAtY(pos.y());
  if (!data || lane < 0) return -1;
  const double ns = m_axis.nsAt(pos.x() - kLabelWidth);
  const double slack = 2 * m_axis.nsPerPixel();   // short calls stay clickable
  int best = -1;
  double bestLen = 0;
  for (const LlmSpan& sp : data->spans) {
    if (sp.process < 0 || m_layout.laneOfProcess(sp.process) != lane) continue;
    if (ns < sp.fromNs - slack || ns > sp.toNs + slack) continue;
    // Overlapping calls (concurrent HTTP/2 streams): the shortest is the one aimed at.
    const double len = sp.toNs - sp.fromNs;
    if (best < 0 || len < bestLen) { best = sp.call; bestLen = len; }
  }
  return best;
}

void TimelineView::paintLlmSpans(QPainter& p, int firstLane, int lastLane, bool wash) {
  const auto data = m_doc->traffic();
  if (!data || data->spans.empty()) return;
  if (!(m_activities & (activityBit(Activity::Sent) | activityBit(Activity::Received)))) return;
  const int w = viewport()->width();
  const QColor color = llmColor();
  for (const LlmSpan& sp : data->spans) {
    if (sp.process < 0 || sp.toNs < m_axis.from() || sp.fromNs > m_axis.to() || sp.fromNs > cutoff()) continue;
    if (!m_processFilter.empty() &&
        !(size_t(sp.process) < m_processFilter.size() && m_processFilter[sp.process]))
      continue;
    const int lane = m_layout.laneOfProcess(sp.process);
    if (lane < firstLane || lane > lastLane) continue;
    const int x0 = std::max(kLabelWidth, timeToX(sp.fromNs));
    const int x1 = std::min(w, std::max(timeToX(std::min(sp.toNs, cutoff())), x0 + 3));
    if (x1 <= x0) continue;
    const int y = laneTop(lane);
    if (wash) {
      QColor c = color;
      c.setAlpha(sp.call == m_selectedCall ? 70 : 34);
      p.fillRect(QRect(x0, y + 1, x1 - x0, kLaneHeight - 2), c);
      continue;
    }
    const QRect strip(x0, y + kLanePadding + kBandCount * kBandHeight, x1 - x0, kLanePadding - 1);
    if (sp.incomplete) {
      // Cut calls: a dashed strip and a red end tick, so they read as unfinished.
      for (int x = strip.left(); x < strip.right() + 1; x += 6)
        p.fillRect(QRect(x, strip.top(), std::min(4, strip.right() + 1 - x), strip.height()), color);
      p.fillRect(QRect(x1 - 2, y + 1, 2, kLaneHeight - 2), QColor(0xc0, 0x39, 0x2b));
    } else {
      p.fillRect(strip, color);
    }
    if (sp.call == m_selectedCall) {
      p.setPen(QPen(Qt::black, 2));
      p.setBrush(Qt::NoBrush);
      p.drawRect(QRect(x0, y + 1, x1 - x0, kLaneHeight - 3));
      p.setPen(Qt::NoPen);
    }
  }
}

double TimelineView::cutoff() const {
  return m_cursor ? *m_cursor : std::numeric_limits<double>::infinity();
}

std::vector<int> TimelineView::visibleLaneOf(int firstLane, int lastLane) const {
  std::vector<int> laneOf = m_layout.laneOf();
  for (size_t p = 0; p < laneOf.size(); ++p) {
    int& l = laneOf[p];
    const bool allowed = m_processFilter.empty() || (p < m_processFilter.size() && m_processFilter[p]);
    l = (allowed && l >= firstLane && l <= lastLane) ? l - firstLane : -1;
  }
  return laneOf;
}

void TimelineView::fillGrid(int firstLane, int lastLane) {
  const int columns = std::max(1, m_axis.width());
  const int lanes = std::max(0, lastLane - firstLane + 1);
  m_grid.reset(lanes, columns);
  if (!m_doc || lanes == 0) {
    m_lastDetail = Detail::None;
    return;
  }
  const std::vector<int> laneOf = visibleLaneOf(firstLane, lastLane);
  const double from = m_axis.from(), to = m_axis.to();
  const auto& frames = m_doc->frames();
  const double inView = estimateEvents(frames, from, to);
  auto summary = m_doc->summary();
  bool events = inView <= kEventThreshold || (!summary && inView <= 4 * kEventThreshold);
  if (events && summary) {
    // Decode on this thread only what fits in a frame's time budget; otherwise show the
    // summary now and the events when the prefetcher has them (marksReady repaints).
    const std::vector<size_t> inRange = m_doc->framesIn(from, to);
    std::vector<size_t> missing;
    uint64_t missingEvents = 0;
    for (size_t f : inRange)
      if (!m_doc->cachedMarks(f)) {
        missing.push_back(f);
        missingEvents += frames[f].count;
      }
    if (missingEvents > kSyncDecodeEvents) {
      // Neighbours too, so that the next pan or zoom-out finds them decoded.
      const double span = to - from;
      std::vector<size_t> around = m_doc->framesIn(from - span, to + span);
      std::vector<size_t> request = missing;
      for (size_t f : around)
        if (!std::binary_search(inRange.begin(), inRange.end(), f)) request.push_back(f);
      m_doc->requestMarks(std::move(request));
      events = false;
    }
  }
  if (events) {
    m_lastDetail = Detail::Events;
    for (size_t f : m_doc->framesIn(from, to)) {
      auto marks = m_doc->marks(f);
      if (marks) accumulateMarks(m_grid, m_axis, *marks, laneOf, m_activities, cutoff());
    }
  } else if (summary) {
    m_lastDetail = Detail::Summary;
    accumulateSummary(m_grid, m_axis, *summary, laneOf, m_activities, cutoff());
  } else {
    m_lastDetail = Detail::Frames;
    accumulateFrames(m_grid, m_axis, frames, laneOf, m_activities, cutoff());
  }
}

void TimelineView::paintEvent(QPaintEvent*) {
  QElapsedTimer timer;
  timer.start();
  QPainter p(viewport());
  const QRect all = viewport()->rect();
  p.fillRect(all, Qt::white);
  if (!m_doc) {
    p.setPen(Qt::gray);
    p.drawText(all, Qt::AlignCenter, tr("Open a session (File ▸ Open, or drop a .aas file here)"));
    return;
  }
  const int nLanes = int(m_layout.lanes().size());
  const int firstLane = std::max(0, verticalScrollBar()->value() / kLaneHeight);
  const int lastLane = std::min(nLanes - 1, firstLane + (all.height() - kRulerHeight) / kLaneHeight + 1);
  fillGrid(firstLane, lastLane);
  paintLanes(p, firstLane, lastLane);
  paintGaps(p, kRulerHeight, all.bottom());
  paintRuler(p, QRect(0, 0, all.width(), kRulerHeight));
  if (m_drag == Drag::Select) {
    const int x0 = std::min(m_selectX0, m_selectX1), x1 = std::max(m_selectX0, m_selectX1);
    p.fillRect(QRect(x0, 0, x1 - x0, all.height()), QColor(52, 120, 220, 50));
    p.setPen(QColor(52, 120, 220));
    p.drawLine(x0, 0, x0, all.height());
    p.drawLine(x1, 0, x1, all.height());
  }
  if (m_cursor) {
    const int x = timeToX(*m_cursor);
    if (x >= kLabelWidth) {
      p.setPen(QPen(QColor(200, 0, 0), 2));
      p.drawLine(x, 0, x, all.height());
    }
  }
  m_lastPaintMs = timer.nsecsElapsed() / 1e6;
}

void TimelineView::paintLanes(QPainter& p, int firstLane, int lastLane) {
  const auto& lanes = m_layout.lanes();
  const auto& procs = m_doc->processes();
  const int w = viewport()->width();
  const double total = double(m_doc->durationNs());
  // Vertical grid at major ticks behind the lanes.
  const auto ticks = m_axis.ticks(90);
  for (int l = firstLane; l <= lastLane; ++l) {
    const int y = laneTop(l);
    const auto& lane = lanes[l];
    const ProcessInfo& info = procs[lane.process];
    const bool dimmed = !m_processFilter.empty() &&
                        !(size_t(lane.process) < m_processFilter.size() && m_processFilter[lane.process]);
    // Label column.
    p.fillRect(QRect(0, y, kLabelWidth, kLaneHeight), l % 2 ? QColor(244, 245, 247) : QColor(250, 250, 251));
    const int indent = 6 + lane.depth * 12;
    if (lane.hasChildren) {
      QPainterPath tri;
      const int cx = indent + 4, cy = y + kLaneHeight / 2;
      if (lane.collapsed) {
        tri.moveTo(cx - 3, cy - 5); tri.lineTo(cx + 3, cy); tri.lineTo(cx - 3, cy + 5);
      } else {
        tri.moveTo(cx - 5, cy - 3); tri.lineTo(cx + 5, cy - 3); tri.lineTo(cx, cy + 3);
      }
      p.fillPath(tri, QColor(90, 90, 90));
    }
    p.setPen(dimmed ? QColor(170, 170, 170) : QColor(30, 30, 30));
    QString label = QStringLiteral("%1  %2").arg(info.name).arg(info.row.pid);
    if (lane.collapsed) label += QStringLiteral(" +%1").arg(m_doc->subtree(lane.process).size() - 1);
    p.drawText(QRect(indent + 12, y, kLabelWidth - indent - 16, kLaneHeight),
               Qt::AlignVCenter | Qt::AlignLeft,
               p.fontMetrics().elidedText(label, Qt::ElideRight, kLabelWidth - indent - 16));
    // Lane background and the process's lifetime.
    p.fillRect(QRect(kLabelWidth, y, w - kLabelWidth, kLaneHeight), l % 2 ? QColor(250, 250, 251) : Qt::white);
    const double start = info.row.startNs ? double(*info.row.startNs) : 0.0;
    const double end = info.row.endNs ? double(*info.row.endNs) : total;
    const int x0 = std::max(kLabelWidth, timeToX(start));
    const int x1 = std::min(w, timeToX(std::min(end, cutoff())) + 1);
    if (x1 > x0) p.fillRect(QRect(x0, y + 1, x1 - x0, kLaneHeight - 2), QColor(232, 236, 242));
    for (const Tick& t : ticks)
      if (t.major && t.x >= 0) p.fillRect(QRect(kLabelWidth + int(t.x), y, 1, kLaneHeight), QColor(225, 225, 230));
    p.fillRect(QRect(0, y + kLaneHeight - 1, w, 1), QColor(225, 227, 232));
  }
  paintLlmSpans(p, firstLane, lastLane, true);
  // Marks, band by band, merging runs of equal color into one rectangle.
  const bool exact = m_lastDetail == Detail::Events;
  std::array<double, kActivityCount> logMax{};
  for (int a = 0; a < kActivityCount; ++a) logMax[a] = std::log1p(double(m_grid.maxCount(Activity(a))));
  for (int gl = 0; gl < m_grid.lanes; ++gl) {
    const int y = laneTop(firstLane + gl) + kLanePadding;
    for (int band = 0; band < kBandCount; ++band) {
      int runStart = -1;
      QColor runColor;
      auto flush = [&](int end) {
        if (runStart < 0) return;
        // Single events stay visible: at least 2 px wide.
        const int width = std::max(exact ? 2 : 1, end - runStart);
        p.fillRect(QRect(kLabelWidth + runStart, y + band * kBandHeight, width, kBandHeight), runColor);
        runStart = -1;
      };
      for (int c = 0; c < m_grid.columns; ++c) {
        uint32_t count;
        const Activity a = bandActivity(band, m_grid.at(gl, c), &count);
        if (!count) { flush(c); continue; }
        QColor color = activityColor(a);
        if (!exact) {
          // Density as saturation, in 6 steps so runs stay long.
          const double t = logMax[int(a)] > 0 ? std::log1p(double(count)) / logMax[int(a)] : 1;
          color = blend(color, 0.4 + 0.6 * std::round(t * 5) / 5);
        }
        if (runStart >= 0 && color != runColor) flush(c);
        if (runStart < 0) { runStart = c; runColor = color; }
      }
      flush(m_grid.columns);
    }
  }
  paintLlmSpans(p, firstLane, lastLane, false);
  // Search matches: a gold tick above the bands.
  const auto laneOf = visibleLaneOf(firstLane, lastLane);
  p.setPen(Qt::NoPen);
  int drawn = 0;
  for (const Mark& m : m_matches) {
    if (double(m.ns) < m_axis.from() || double(m.ns) > m_axis.to() || m.process >= laneOf.size()) continue;
    const int gl = laneOf[m.process];
    if (gl < 0) continue;
    const int x = timeToX(double(m.ns));
    const int y = laneTop(firstLane + gl);
    QPainterPath tri;
    tri.moveTo(x - 4, y); tri.lineTo(x + 4, y); tri.lineTo(x, y + 5);
    p.fillPath(tri, QColor(241, 196, 15));
    if (++drawn > 20000) break;
  }
  if (m_selectedSeq && m_selectedProcess >= 0) {
    const int lane = m_layout.laneOfProcess(m_selectedProcess);
    if (lane >= firstLane && lane <= lastLane) {
      const int x = timeToX(m_selectedNs), y = laneTop(lane);
      p.setPen(QPen(Qt::black, 1.5));
      p.setBrush(Qt::NoBrush);
      p.drawRect(QRectF(x - 3.5, y + 0.5, 7, kLaneHeight - 2));
    }
  }
  p.setPen(QColor(200, 200, 205));
  p.drawLine(kLabelWidth - 1, kRulerHeight, kLabelWidth - 1, viewport()->height());
}

void TimelineView::paintGaps(QPainter& p, int top, int bottom) {
  std::vector<Gap> gaps;
  if (auto s = m_doc->summary()) {
    gaps = s->gaps;
  } else {
    for (const FrameSpan& f : m_doc->frames())
      if (f.kinds & bit(Kind::kLost)) gaps.push_back({f.fromNs, f.toNs, 0});
  }
  const int w = viewport()->width();
  // Gaps closer than a pixel or two become one region: fewer, larger fills (Qt splits
  // every tall fill over its thread pool, which costs more than the fill itself).
  std::vector<std::pair<int, int>> regions;
  for (const Gap& g : gaps) {
    int x0 = timeToX(double(g.fromNs)), x1 = timeToX(double(g.toNs));
    if (x1 < kLabelWidth || x0 > w) continue;
    // Real gaps are often far below a pixel: keep them findable, not dominant.
    if (x1 - x0 < 3) { x0 -= 1; x1 = x0 + 3; }
    x0 = std::max(x0, kLabelWidth);
    if (!regions.empty() && x0 <= regions.back().second + 1)
      regions.back().second = std::max(regions.back().second, x1);
    else
      regions.emplace_back(x0, x1);
  }
  if (regions.empty()) return;
  // The hatch is drawn as one image strip tiled down the view. Qt spreads every fill
  // taller than ~96 lines over its thread pool, and hundreds of tall fills cost tens of
  // ms in thread hand-offs; 64-line tiles stay on this thread. 64 is a multiple of the
  // hatch period (8), so tiles join seamlessly.
  constexpr int kTile = 64;
  const int width = w - kLabelWidth;
  if (width <= 0) return;
  QImage tile(width, kTile, QImage::Format_ARGB32_Premultiplied);
  tile.fill(Qt::transparent);
  const QRgb tint = qPremultiply(qRgba(192, 57, 43, 26));
  const QRgb hatch = qPremultiply(qRgba(192, 57, 43, 140));
  for (const auto& [x0, x1] : regions) {
    p.fillRect(QRect(x0, 0, x1 - x0, 5), QColor(192, 57, 43));
    for (int y = 0; y < kTile; ++y) {
      auto* line = reinterpret_cast<QRgb*>(tile.scanLine(y));
      for (int x = std::max(0, x0 - kLabelWidth); x < std::min(width, x1 - kLabelWidth); ++x)
        line[x] = ((x + y) % 8 == 0) ? hatch : tint;
    }
  }
  for (int y = top; y <= bottom; y += kTile)
    p.drawImage(QPoint(kLabelWidth, y), tile, QRect(0, 0, width, std::min(kTile, bottom - y + 1)));
}

void TimelineView::paintRuler(QPainter& p, const QRect& r) {
  p.fillRect(r, QColor(238, 240, 244));
  p.fillRect(QRect(0, r.bottom(), r.width(), 1), QColor(190, 193, 200));
  p.setPen(QColor(90, 90, 90));
  QFont f = p.font();
  p.drawText(QRect(6, 0, kLabelWidth - 8, 20), Qt::AlignVCenter, tr("session time"));
  p.drawText(QRect(6, 20, kLabelWidth - 8, 20), Qt::AlignVCenter, tr("wall clock"));
  const double step = m_axis.tickStep(90);
  p.save();
  p.setClipRect(QRect(kLabelWidth, 0, r.width() - kLabelWidth, r.height()));
  for (const Tick& t : m_axis.ticks(90)) {
    const int x = kLabelWidth + int(t.x);
    p.setPen(QColor(120, 120, 125));
    p.drawLine(x, t.major ? 26 : 32, x, r.bottom());
    p.setPen(QColor(40, 40, 40));
    p.drawText(QRect(x + 3, 0, 120, 20), Qt::AlignVCenter | Qt::AlignLeft, formatSessionTime(t.ns, step));
    if (t.major) {
      p.setPen(QColor(100, 100, 100));
      p.drawText(QRect(x + 3, 20, 140, 18), Qt::AlignVCenter | Qt::AlignLeft,
                 formatWallClock(m_doc->wallOf(t.ns), step));
    }
  }
  p.restore();
  p.setFont(f);
}

std::optional<TimelineView::Hit> TimelineView::hitTest(QPoint pos) const {
  if (!m_doc || pos.x() < kLabelWidth) return std::nullopt;
  const int lane = laneAtY(pos.y());
  if (lane < 0) return std::nullopt;
  const int laneProcess = m_layout.lanes()[lane].process;
  std::vector<uint32_t> pids;
  const auto& procs = m_doc->processes();
  for (int q : m_layout.isCollapsed(laneProcess) ? m_doc->subtree(laneProcess) : std::vector<int>{laneProcess})
    pids.push_back(procs[q].row.pid);
  const double x = pos.x() - kLabelWidth;
  const double at = m_axis.nsAt(x);
  EventQuery q;
  q.fromNs = uint64_t(std::max(0.0, m_axis.nsAt(x - 4)));
  const double to = std::min(m_axis.nsAt(x + 4), cutoff());
  if (to < 0 || double(*q.fromNs) > to) return std::nullopt;
  q.toNs = uint64_t(to);
  q.pids = pids;
  q.kinds = kindsOf(m_activities);
  std::optional<Hit> best;
  double bestDist = 1e300;
  int visited = 0;
  // A hover tooltip: events that cannot be read just give none.
  (void)m_doc->forEach(q, [&](schema::Event::Reader e) {
    const Activity a = activityOf(e);
    if (!(m_activities & activityBit(a)) || a == Activity::Lost) return ++visited < 20000;
    const double ns = double(m_doc->relNs(e.getTNs()));
    if (std::fabs(ns - at) < bestDist) {
      bestDist = std::fabs(ns - at);
      Hit h;
      h.seq = e.getSeq();
      h.ns = ns;
      h.process = m_doc->processIndex(e.getPid());
      const auto kn = kindName(kindOf(e));
      h.text = QStringLiteral("%1  %2\n%3 (%4)\n%5")
                   .arg(formatSessionTime(ns, 1e3), QString::fromUtf8(kn.data(), qsizetype(kn.size())),
                        h.process >= 0 ? procs[h.process].name : displayText(e.getComm()))
                   .arg(e.getPid())
                   .arg(eventSummary(e).left(200));
      best = h;
    }
    return ++visited < 20000;
  });
  return best;
}

bool TimelineView::viewportEvent(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    const QPoint pos = he->pos();
    QString text;
    if (pos.x() < kLabelWidth) {
      const int lane = laneAtY(pos.y());
      if (lane >= 0 && m_doc) {
        const ProcessInfo& info = m_doc->processes()[m_layout.lanes()[lane].process];
        text = QStringLiteral("%1 (pid %2)\n%3").arg(info.name).arg(info.row.pid).arg(m_doc->commandLine(m_layout.lanes()[lane].process));
      }
    } else if (auto hit = hitTest(pos)) {
      text = hit->text;
      if (const int call = llmCallAt(pos); call >= 0)
        text += QStringLiteral("\n\n") + llmCallTooltip(m_doc->traffic()->traffic.calls[size_t(call)]);
    } else if (const int call = llmCallAt(pos); call >= 0) {
      text = llmCallTooltip(m_doc->traffic()->traffic.calls[size_t(call)]);
    } else if (const int lane = laneAtY(pos.y()); lane >= 0 && m_doc) {
      // Zoomed out: what the hovered column of this lane aggregates.
      const int firstLane = std::max(0, verticalScrollBar()->value() / kLaneHeight);
      const int gl = lane - firstLane, col = pos.x() - kLabelWidth;
      if (gl >= 0 && gl < m_grid.lanes && col >= 0 && col < m_grid.columns) {
        QStringList parts;
        const auto& c = m_grid.at(gl, col);
        for (int a = 0; a < kActivityCount; ++a)
          if (c[a]) parts << QStringLiteral("%1: %2").arg(activityName(Activity(a))).arg(c[a]);
        if (!parts.isEmpty())
          text = formatSessionTime(m_axis.nsAt(col), m_axis.nsPerPixel()) + QStringLiteral("\n") + parts.join(QLatin1Char('\n'));
      }
    }
    if (text.isEmpty()) QToolTip::hideText(); else QToolTip::showText(he->globalPos(), text, viewport());
    return true;
  }
  return QAbstractScrollArea::viewportEvent(e);
}

void TimelineView::wheelEvent(QWheelEvent* e) {
  if (e->modifiers() & (Qt::ShiftModifier | Qt::AltModifier)) {
    QAbstractScrollArea::wheelEvent(e);
    return;
  }
  const double steps = e->angleDelta().y() / 120.0;
  if (steps == 0) return;
  m_axis.zoom(std::pow(1.25, steps), e->position().x() - kLabelWidth);
  axisChanged();
  e->accept();
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
  setFocus();
  m_pressPos = e->pos();
  m_moved = false;
  if (e->button() != Qt::LeftButton && e->button() != Qt::MiddleButton) return;
  if (e->pos().x() < kLabelWidth) {
    const int lane = laneAtY(e->pos().y());
    if (lane >= 0) {
      const auto& l = m_layout.lanes()[lane];
      if (l.hasChildren && e->pos().x() < 6 + l.depth * 12 + 14) setCollapsed(l.process, !l.collapsed);
      else emit processClicked(l.process);
    }
    return;
  }
  const bool select = e->button() == Qt::LeftButton &&
                      (e->pos().y() < kRulerHeight || (e->modifiers() & Qt::ShiftModifier));
  m_drag = select ? Drag::Select : Drag::Pan;
  m_selectX0 = m_selectX1 = e->pos().x();
  m_pressFrom = m_axis.from();
  m_pressTo = m_axis.to();
  if (m_drag == Drag::Pan) viewport()->setCursor(Qt::ClosedHandCursor);
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
  if (m_drag == Drag::None) return;
  if ((e->pos() - m_pressPos).manhattanLength() > 3) m_moved = true;
  if (m_drag == Drag::Pan) {
    m_axis.setRange(m_pressFrom, m_pressTo);
    m_axis.pan(m_pressPos.x() - e->pos().x());
    const int dy = m_pressPos.y() - e->pos().y();
    if (std::abs(dy) > 3 && m_moved) {
      verticalScrollBar()->setValue(verticalScrollBar()->value() + dy);
      m_pressPos.setY(e->pos().y());
    }
    axisChanged();
  } else {
    m_selectX1 = std::clamp(e->pos().x(), kLabelWidth, viewport()->width());
    viewport()->update();
  }
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
  const Drag drag = m_drag;
  m_drag = Drag::None;
  viewport()->unsetCursor();
  if (drag == Drag::Select && std::abs(m_selectX1 - m_selectX0) > 3) {
    const double a = m_axis.nsAt(std::min(m_selectX0, m_selectX1) - kLabelWidth);
    const double b = m_axis.nsAt(std::max(m_selectX0, m_selectX1) - kLabelWidth);
    setRange(a, b);
    return;
  }
  viewport()->update();
  if (!m_moved && e->button() == Qt::LeftButton) {
    // The span strip selects the call; elsewhere an event mark wins over the span.
    const int call = llmCallAt(e->pos());
    const int lane = laneAtY(e->pos().y());
    const bool onStrip = lane >= 0 && e->pos().y() >= laneTop(lane) + kLanePadding + kBandCount * kBandHeight - 1;
    auto hit = onStrip && call >= 0 ? std::nullopt : hitTest(e->pos());
    if (hit) {
      setSelectedEvent(hit->seq, hit->ns, hit->process);
      emit eventClicked(hit->seq);
    } else if (call >= 0) {
      setSelectedCall(call);
      emit llmCallClicked(call);
    }
  }
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent* e) {
  if (e->pos().x() < kLabelWidth) return;
  m_axis.zoom(e->modifiers() & Qt::ShiftModifier ? 0.5 : 2.0, e->pos().x() - kLabelWidth);
  axisChanged();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_Plus: case Qt::Key_Equal: zoomIn(); break;
    case Qt::Key_Minus: zoomOut(); break;
    case Qt::Key_Left: panLeft(); break;
    case Qt::Key_Right: panRight(); break;
    case Qt::Key_Home: case Qt::Key_0: fitAll(); break;
    case Qt::Key_Up: verticalScrollBar()->setValue(verticalScrollBar()->value() - kLaneHeight); break;
    case Qt::Key_Down: verticalScrollBar()->setValue(verticalScrollBar()->value() + kLaneHeight); break;
    default: QAbstractScrollArea::keyPressEvent(e); return;
  }
  e->accept();
}

}  // namespace aa::view
