#include "viewer/models/time_axis.h"

#include <QDateTime>
#include <algorithm>
#include <cmath>

namespace aa::view {

void TimeAxis::setWidth(int px) { m_width = std::max(1, px); }

void TimeAxis::setTotal(uint64_t totalNs) {
  m_total = std::max<uint64_t>(1, totalNs);
  clamp();
}

void TimeAxis::setRange(double fromNs, double toNs) {
  if (toNs < fromNs) std::swap(fromNs, toNs);
  m_from = fromNs;
  m_to = toNs;
  clamp();
}

void TimeAxis::zoom(double factor, double anchorX) {
  if (factor <= 0) return;
  const double anchor = nsAt(anchorX);
  const double newSpan = std::max(kMinSpanNs, span() / factor);
  const double frac = anchorX / m_width;
  m_from = anchor - frac * newSpan;
  m_to = m_from + newSpan;
  clamp();
}

void TimeAxis::pan(double dxPixels) {
  const double d = dxPixels * nsPerPixel();
  m_from += d;
  m_to += d;
  clamp();
}

void TimeAxis::fit() {
  // A small margin so marks at the very start and end are not cut by the edges.
  const double margin = m_total * 0.01;
  m_from = -margin;
  m_to = m_total + margin;
}

void TimeAxis::clamp() {
  const double margin = m_total * 0.05;
  const double lo = -margin, hi = m_total + margin;
  double s = std::clamp(m_to - m_from, kMinSpanNs, hi - lo);
  if (!(s > 0)) s = kMinSpanNs;  // NaN guard
  if (m_from < lo) m_from = lo;
  if (m_from + s > hi) m_from = hi - s;
  m_to = m_from + s;
}

double TimeAxis::tickStep(double minSpacingPx) const {
  const double raw = minSpacingPx * nsPerPixel();
  double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (p * m >= raw) return p * m;
  return p * 10;
}

std::vector<Tick> TimeAxis::ticks(double minSpacingPx) const {
  std::vector<Tick> out;
  const double step = tickStep(minSpacingPx);
  const double first = std::ceil(m_from / step) * step;
  // Major every 5 steps for 1/5 steps, every 2 for 2 steps: lands on round numbers.
  const double mant = step / std::pow(10.0, std::floor(std::log10(step)));
  const int majorEvery = std::lround(mant) == 2 ? 5 : 2;
  for (double t = first; t <= m_to; t += step) {
    const long long n = std::llround(t / step);
    out.push_back({t, xOf(t), n % majorEvery == 0});
    if (out.size() > 10000) break;
  }
  return out;
}

namespace {

int decimalsFor(double step, double unit) {
  if (step <= 0) return 3;
  const double rel = step / unit;
  if (rel >= 1) return 0;
  return std::clamp(static_cast<int>(std::ceil(-std::log10(rel) - 1e-9)), 0, 9);
}

}  // namespace

QString formatDuration(double ns, double step) {
  const double a = std::fabs(ns);
  struct Unit { double scale; const char* name; };
  static const Unit units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
  for (const Unit& u : units) {
    if (a >= u.scale || u.scale == 1) {
      const int dec = step > 0 ? decimalsFor(step, u.scale) : (a / u.scale >= 100 ? 0 : 2);
      return QString::number(ns / u.scale, 'f', dec) + QStringLiteral(" ") +
             QString::fromUtf8(u.name);
    }
  }
  return QString::number(ns) + QStringLiteral(" ns");
}

QString formatSessionTime(double ns, double step) {
  const int dec = decimalsFor(step, 1e9);
  return (ns < 0 ? QStringLiteral("-") : QStringLiteral("+")) +
         QString::number(std::fabs(ns) / 1e9, 'f', dec) + QStringLiteral(" s");
}

QString formatWallClock(int64_t wallNs, double step) {
  const int64_t ms = wallNs / 1000000;
  const QDateTime dt = QDateTime::fromMSecsSinceEpoch(ms);
  QString s = dt.toString(QStringLiteral("HH:mm:ss"));
  const int dec = std::min(9, decimalsFor(step, 1e9));
  if (dec > 0) {
    const int64_t frac = ((wallNs % 1000000000) + 1000000000) % 1000000000;
    s += QStringLiteral(".") + QStringLiteral("%1").arg(frac, 9, 10, QLatin1Char('0')).left(dec);
  }
  return s;
}

bool parseTime(const QString& text, double* ns) {
  QString t = text.trimmed();
  double scale = 1e9;
  struct Suffix { const char* s; double scale; };
  static const Suffix sufs[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
                                {"s", 1e9}, {"m", 60e9}};
  for (const Suffix& s : sufs) {
    const QString suf = QString::fromUtf8(s.s);
    if (t.endsWith(suf)) {
      scale = s.scale;
      t.chop(suf.size());
      break;
    }
  }
  bool ok = false;
  const double v = t.trimmed().toDouble(&ok);
  if (!ok || !std::isfinite(v)) return false;
  *ns = v * scale;
  return true;
}

std::pair<double, double> revealRange(double from, double to, double itemFrom, double itemTo,
                                      double total) {
  if (itemTo < itemFrom) std::swap(itemFrom, itemTo);
  const double margin = (to - from) * 0.02;
  if (itemFrom >= from + margin && itemTo <= to - margin) return {from, to};
  double span = std::max(to - from, (itemTo - itemFrom) * 1.25);
  if (total > 0) span = std::min(span, total);
  double a = (itemFrom + itemTo) / 2 - span / 2;
  if (total > 0 && a + span > total) a = total - span;
  a = std::max(0.0, a);
  return {a, a + span};
}

}  // namespace aa::view
