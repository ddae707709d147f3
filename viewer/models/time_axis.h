// TimeAxis: the pure mapping between session time (ns since session start) and pixels
// of the timeline's drawing area, plus zoom/pan arithmetic and ruler ticks.
// Doubles hold ns: 2^53 ns is 104 days, far beyond any session, so no precision is lost
// at the zoom levels we allow (the visible span never drops below kMinSpanNs).
#pragma once

#include <QString>
#include <cstdint>
#include <utility>
#include <vector>

namespace aa::view {

struct Tick {
  double ns = 0;
  double x = 0;
  bool major = false;
};

class TimeAxis {
 public:
  static constexpr double kMinSpanNs = 100.0;

  void setWidth(int px);
  int width() const { return m_width; }
  // The whole session, for fit and clamping; [0, totalNs].
  void setTotal(uint64_t totalNs);
  uint64_t total() const { return m_total; }

  void setRange(double fromNs, double toNs);
  double from() const { return m_from; }
  double to() const { return m_to; }
  double span() const { return m_to - m_from; }

  double xOf(double ns) const { return (ns - m_from) * m_width / span(); }
  double nsAt(double x) const { return m_from + x * span() / m_width; }
  double nsPerPixel() const { return span() / m_width; }

  // factor > 1 zooms in; the time under anchorX stays under anchorX.
  void zoom(double factor, double anchorX);
  void pan(double dxPixels);
  void fit();

  // Ticks about minSpacingPx apart or more, on 1-2-5 steps; every 5th/2nd is major.
  std::vector<Tick> ticks(double minSpacingPx) const;
  double tickStep(double minSpacingPx) const;

 private:
  void clamp();

  int m_width = 1;
  uint64_t m_total = 1;
  double m_from = 0, m_to = 1;
};

// The visible range that shows [itemFrom, itemTo] (session time): [from, to] when it
// already does (away from the edges), else the same span centred on the item, widened
// to 1.25x the item when the item is longer, moved inside [0, total].
std::pair<double, double> revealRange(double from, double to, double itemFrom, double itemTo,
                                      double total);

// "1.250 s", "12.5 ms", "800 µs"; precision chosen so that `step` is resolved.
QString formatDuration(double ns, double step = 0);
// A session-relative time like "+1.2500 s" precise to `step`.
QString formatSessionTime(double ns, double step);
// Wall clock "14:03:27.125" (local time) precise to `step`.
QString formatWallClock(int64_t wallNs, double step);
// Parses "1.5", "1.5s", "200ms", "30us", "100ns", "2m" into ns; false on junk.
bool parseTime(const QString& text, double* ns);

}  // namespace aa::view
