// What the charts show, computed without Qt Charts so it can be tested and so the chart
// class stays a thin presenter: activity rates per kind over time, TLS bytes/s, top
// files by bytes, top executables by process count.
#pragma once

#include <QString>
#include <utility>
#include <vector>

#include "viewer/models/lod.h"
#include "viewer/models/session_document.h"

namespace aa::view {

struct ChartData {
  double fromNs = 0, toNs = 0;
  double bucketNs = 1;
  std::vector<double> bucketStartNs;
  std::vector<std::array<double, kActivityCount>> eventsPerSecond;  // per bucket
  std::vector<double> tlsOutPerSecond, tlsInPerSecond;              // bytes/s per bucket
  std::vector<std::pair<QString, uint64_t>> topFiles;               // path, bytes
  std::vector<std::pair<QString, uint64_t>> topExecutables;         // exe, processes
};

// top = 0 leaves the top lists empty (they cover the whole session and query the index:
// callers that redraw on every range change compute them once).
ChartData computeChartData(const SessionDocument& doc, const Summary& summary, double fromNs,
                           double toNs, int buckets = 120, int top = 10);
std::vector<std::pair<QString, uint64_t>> topFiles(const std::vector<FileRow>& files, int n);
std::vector<std::pair<QString, uint64_t>> topExecutables(const std::vector<ProcessInfo>& procs,
                                                         int n);

// The replay cursor: session time advanced by wall time x speed, within [from, to].
class ReplayClock {
 public:
  void setRange(double fromNs, double toNs);
  void setSpeed(double speed) { m_speed = speed > 0 ? speed : 1; }
  double speed() const { return m_speed; }
  void seek(double ns);
  void play();
  void pause() { m_playing = false; }
  bool playing() const { return m_playing; }
  double cursor() const { return m_cursor; }
  // Moves the cursor by wallNs x speed; stops (and returns false) at the end.
  bool advance(double wallNs);

 private:
  double m_from = 0, m_to = 0, m_cursor = 0, m_speed = 1;
  bool m_playing = false;
};

}  // namespace aa::view
