#include "viewer/models/chart_data.h"

#include <algorithm>
#include <map>

#include "viewer/models/event_format.h"

namespace aa::view {

std::vector<std::pair<QString, uint64_t>> topFiles(const std::vector<FileRow>& files, int n) {
  std::vector<std::pair<QString, uint64_t>> out;
  for (const FileRow& f : files) {
    const uint64_t bytes = f.bytesRead + f.bytesWritten;
    if (bytes) out.emplace_back(QString::fromUtf8(f.path.data(), qsizetype(f.path.size())), bytes);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (int(out.size()) > n) out.resize(n);
  return out;
}

std::vector<std::pair<QString, uint64_t>> topExecutables(const std::vector<ProcessInfo>& procs,
                                                         int n) {
  std::map<QString, uint64_t> counts;
  for (const ProcessInfo& p : procs)
    if (!p.row.exe.empty())
      ++counts[QString::fromUtf8(p.row.exe.data(), qsizetype(p.row.exe.size()))];
  std::vector<std::pair<QString, uint64_t>> out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (int(out.size()) > n) out.resize(n);
  return out;
}

ChartData computeChartData(const SessionDocument& doc, const Summary& summary, double fromNs,
                           double toNs, int buckets, int top) {
  ChartData d;
  d.fromNs = std::max(0.0, fromNs);
  d.toNs = std::max(d.fromNs + 1, toNs);
  // Never finer than the summary's bins, or buckets would alternate between 0 and 2x.
  const int maxBuckets = std::max(1, int((d.toNs - d.fromNs) / double(summary.binNs)));
  buckets = std::clamp(buckets, 1, maxBuckets);
  d.bucketNs = (d.toNs - d.fromNs) / buckets;
  const auto acts = rebinActivity(summary, d.fromNs, d.toNs, buckets);
  const auto tls = rebinTls(summary, d.fromNs, d.toNs, buckets);
  const double perSecond = 1e9 / d.bucketNs;
  for (int b = 0; b < buckets; ++b) {
    d.bucketStartNs.push_back(d.fromNs + b * d.bucketNs);
    std::array<double, kActivityCount> rates{};
    for (int a = 0; a < kActivityCount; ++a) rates[a] = acts[b][a] * perSecond;
    d.eventsPerSecond.push_back(rates);
    d.tlsOutPerSecond.push_back(tls[b].first * perSecond);
    d.tlsInPerSecond.push_back(tls[b].second * perSecond);
  }
  if (top > 0) {
    d.topFiles = topFiles(doc.files(), top);
    d.topExecutables = topExecutables(doc.processes(), top);
  }
  return d;
}

void ReplayClock::setRange(double fromNs, double toNs) {
  m_from = fromNs;
  m_to = std::max(fromNs, toNs);
  m_cursor = std::clamp(m_cursor, m_from, m_to);
}

void ReplayClock::seek(double ns) { m_cursor = std::clamp(ns, m_from, m_to); }

void ReplayClock::play() {
  if (m_cursor >= m_to) m_cursor = m_from;   // play again from the start
  m_playing = true;
}

bool ReplayClock::advance(double wallNs) {
  if (!m_playing) return false;
  m_cursor = std::min(m_to, m_cursor + wallNs * m_speed);
  if (m_cursor >= m_to) m_playing = false;
  return m_playing;
}

}  // namespace aa::view
