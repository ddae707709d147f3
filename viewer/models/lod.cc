#include "viewer/models/lod.h"

#include <algorithm>
#include <cmath>

namespace aa::view {

SummaryBuilder::SummaryBuilder(uint64_t totalNs, size_t processCount, uint32_t binCount) {
  m_s.binCount = std::max<uint32_t>(1, binCount);
  m_s.binNs = std::max<uint64_t>(1, (totalNs + m_s.binCount) / m_s.binCount);
  m_s.processes.resize(processCount);
  m_s.global.resize(m_s.binCount);
  m_s.tlsOutBytes.resize(m_s.binCount);
  m_s.tlsInBytes.resize(m_s.binCount);
}

uint32_t SummaryBuilder::binOf(uint64_t ns) const {
  return static_cast<uint32_t>(std::min<uint64_t>(ns / m_s.binNs, m_s.binCount - 1));
}

void SummaryBuilder::add(uint64_t ns, uint32_t process, Activity a, uint64_t tlsBytes) {
  const uint32_t b = binOf(ns);
  const int ai = static_cast<int>(a);
  ++m_s.global[b][ai];
  ++m_s.events;
  if (a == Activity::Sent) m_s.tlsOutBytes[b] += tlsBytes;
  if (a == Activity::Received) m_s.tlsInBytes[b] += tlsBytes;
  if (process >= m_s.processes.size()) return;
  auto& cells = m_s.processes[process];
  // Events come in sequence order, which is time order up to per-CPU reordering:
  // almost always the last cell or a new one; anything else is merged in finish().
  if (cells.empty() || cells.back().bin != b) cells.push_back(SummaryCell{b, {}});
  auto& c = cells.back().counts[ai];
  if (c != UINT16_MAX) ++c;
}

void SummaryBuilder::addGap(uint64_t fromNs, uint64_t toNs, uint64_t count) {
  if (!m_s.gaps.empty() && m_s.gaps.back().toNs >= fromNs) {
    m_s.gaps.back().toNs = std::max(m_s.gaps.back().toNs, toNs);
    m_s.gaps.back().lost += count;
    return;
  }
  m_s.gaps.push_back({fromNs, toNs, count});
}

Summary SummaryBuilder::finish() {
  for (auto& cells : m_s.processes) {
    if (std::is_sorted(cells.begin(), cells.end(),
                       [](const SummaryCell& a, const SummaryCell& b) { return a.bin < b.bin; }) &&
        std::adjacent_find(cells.begin(), cells.end(), [](const SummaryCell& a,
                                                          const SummaryCell& b) {
          return a.bin == b.bin;
        }) == cells.end())
      continue;
    std::stable_sort(cells.begin(), cells.end(),
                     [](const SummaryCell& a, const SummaryCell& b) { return a.bin < b.bin; });
    std::vector<SummaryCell> merged;
    for (const SummaryCell& c : cells) {
      if (!merged.empty() && merged.back().bin == c.bin) {
        for (int i = 0; i < kActivityCount; ++i)
          merged.back().counts[i] = static_cast<uint16_t>(
              std::min<uint32_t>(UINT16_MAX, uint32_t(merged.back().counts[i]) + c.counts[i]));
      } else {
        merged.push_back(c);
      }
    }
    cells = std::move(merged);
  }
  std::sort(m_s.gaps.begin(), m_s.gaps.end(),
            [](const Gap& a, const Gap& b) { return a.fromNs < b.fromNs; });
  for (auto& cells : m_s.processes) cells.shrink_to_fit();
  return std::move(m_s);
}

void ColumnGrid::reset(int lanes_, int columns_) {
  lanes = std::max(0, lanes_);
  columns = std::max(0, columns_);
  cells.assign(size_t(lanes) * columns, ActivityCounts{});
}

uint32_t ColumnGrid::maxCount(Activity a) const {
  uint32_t m = 0;
  const int ai = static_cast<int>(a);
  for (const auto& c : cells) m = std::max(m, c[ai]);
  return m;
}

namespace {

// Columns covered by [fromNs, toNs), clipped to the grid; false when none.
bool columnRange(const TimeAxis& axis, int columns, double fromNs, double toNs, int* c0,
                 int* c1) {
  const double x0 = axis.xOf(fromNs), x1 = axis.xOf(toNs);
  if (x1 < 0 || x0 >= columns) return false;
  *c0 = std::max(0, static_cast<int>(std::floor(x0)));
  *c1 = std::min(columns - 1, std::max(*c0, static_cast<int>(std::ceil(x1)) - 1));
  return true;
}

}  // namespace

void accumulateMarks(ColumnGrid& grid, const TimeAxis& axis, std::span<const Mark> marks,
                     const std::vector<int>& laneOfProcess, ActivityMask filter,
                     double cutoffNs) {
  const double from = axis.from(), to = axis.to();
  const double scale = grid.columns / axis.span();
  for (const Mark& m : marks) {
    const double ns = static_cast<double>(m.ns);
    if (ns < from || ns > to || ns > cutoffNs) continue;
    if (!(filter & activityBit(m.activity))) continue;
    if (m.process >= laneOfProcess.size()) continue;
    const int lane = laneOfProcess[m.process];
    if (lane < 0 || lane >= grid.lanes) continue;
    const int col = std::min(grid.columns - 1, static_cast<int>((ns - from) * scale));
    ++grid.at(lane, col)[static_cast<int>(m.activity)];
  }
}

void accumulateSummary(ColumnGrid& grid, const TimeAxis& axis, const Summary& s,
                       const std::vector<int>& laneOfProcess, ActivityMask filter,
                       double cutoffNs) {
  if (grid.columns == 0) return;
  const double from = std::max(0.0, axis.from());
  const double to = std::min(axis.to(), cutoffNs);
  if (to < from) return;
  const uint32_t b0 = static_cast<uint32_t>(std::min<double>(from / s.binNs, s.binCount));
  const uint32_t b1 = static_cast<uint32_t>(std::min<double>(to / s.binNs, s.binCount - 1.0));
  for (size_t p = 0; p < s.processes.size() && p < laneOfProcess.size(); ++p) {
    const int lane = laneOfProcess[p];
    if (lane < 0 || lane >= grid.lanes) continue;
    const auto& cells = s.processes[p];
    auto it = std::lower_bound(cells.begin(), cells.end(), b0,
                               [](const SummaryCell& c, uint32_t b) { return c.bin < b; });
    for (; it != cells.end() && it->bin <= b1; ++it) {
      int c0, c1;
      const double binFrom = double(it->bin) * s.binNs;
      if (!columnRange(axis, grid.columns, binFrom, std::min(binFrom + s.binNs, to), &c0, &c1))
        continue;
      for (int a = 0; a < kActivityCount; ++a) {
        if (!it->counts[a] || !(filter & (1u << a))) continue;
        // A bin wider than a pixel puts its whole count in each column it covers: the
        // grid shows density per bin, not a sum that would depend on the zoom.
        for (int c = c0; c <= c1; ++c) grid.at(lane, c)[a] += it->counts[a];
      }
    }
  }
}

void accumulateFrames(ColumnGrid& grid, const TimeAxis& axis, std::span<const FrameSpan> frames,
                      const std::vector<int>& laneOfProcess, ActivityMask filter,
                      double cutoffNs) {
  for (const FrameSpan& f : frames) {
    if (double(f.fromNs) > cutoffNs) continue;
    int c0, c1;
    if (!columnRange(axis, grid.columns, double(f.fromNs),
                     std::min(double(f.toNs) + 1, cutoffNs), &c0, &c1))
      continue;
    ActivityCounts counts{};
    for (int k = 0; k < kKindCount; ++k) {
      const Activity a = activityOfKind(static_cast<Kind>(k));
      if (f.kindCounts[k] && (filter & activityBit(a))) counts[int(a)] += f.kindCounts[k];
    }
    const int cols = c1 - c0 + 1;
    for (uint32_t p : f.processes) {
      if (p >= laneOfProcess.size()) continue;
      const int lane = laneOfProcess[p];
      if (lane < 0 || lane >= grid.lanes) continue;
      for (int c = c0; c <= c1; ++c)
        for (int a = 0; a < kActivityCount; ++a)
          if (counts[a]) grid.at(lane, c)[a] += std::max<uint32_t>(1, counts[a] / cols);
    }
  }
}

double estimateEvents(std::span<const FrameSpan> frames, double fromNs, double toNs) {
  double n = 0;
  for (const FrameSpan& f : frames) {
    const double a = double(f.fromNs), b = double(f.toNs);
    if (b < fromNs || a > toNs) continue;
    if (b <= a) {
      n += f.count;
      continue;
    }
    const double overlap = std::min(b, toNs) - std::max(a, fromNs);
    n += f.count * std::clamp(overlap / (b - a), 0.0, 1.0);
  }
  return n;
}

std::vector<ActivityCounts> rebinActivity(const Summary& s, double fromNs, double toNs,
                                          int buckets) {
  std::vector<ActivityCounts> out(std::max(1, buckets));
  if (toNs <= fromNs) return out;
  const double width = (toNs - fromNs) / out.size();
  for (uint32_t b = 0; b < s.binCount; ++b) {
    const double mid = (b + 0.5) * s.binNs;
    if (mid < fromNs || mid >= toNs) continue;
    const size_t i = std::min(out.size() - 1, size_t((mid - fromNs) / width));
    for (int a = 0; a < kActivityCount; ++a) out[i][a] += s.global[b][a];
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> rebinTls(const Summary& s, double fromNs,
                                                    double toNs, int buckets) {
  std::vector<std::pair<uint64_t, uint64_t>> out(std::max(1, buckets));
  if (toNs <= fromNs) return out;
  const double width = (toNs - fromNs) / out.size();
  for (uint32_t b = 0; b < s.binCount; ++b) {
    const double mid = (b + 0.5) * s.binNs;
    if (mid < fromNs || mid >= toNs) continue;
    const size_t i = std::min(out.size() - 1, size_t((mid - fromNs) / width));
    out[i].first += s.tlsOutBytes[b];
    out[i].second += s.tlsInBytes[b];
  }
  return out;
}

}  // namespace aa::view
