// Level of detail for the timeline. Whatever the zoom, painting works on a ColumnGrid:
// per visible lane and per pixel column, how many events of each activity fall there.
// The grid is filled from one of three sources, cheapest first:
//   - frame spans (the reader's frame table: time range, kind counts, pids), available
//     the moment a session opens, coarse: a frame's kinds are spread over its pids;
//   - the Summary, built once in the background by scanning every event: per process,
//     counts per activity in fixed time bins (sparse), plus global per-bin totals;
//   - Marks, events decoded from the frames in view, when few enough are in view.
// Painting cost is therefore bounded by lanes x columns, not by the session size.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "store/kind.h"
#include "viewer/models/activity.h"
#include "viewer/models/time_axis.h"

namespace aa::view {

// One decoded event, as small as the timeline needs it.
struct Mark {
  uint64_t ns = 0;        // since session start
  uint32_t process = 0;   // index into the document's process table
  uint32_t index = 0;     // position inside its frame
  Activity activity = Activity::Process;
};

// A frame of the log in session time, with its pids turned into process indices.
struct FrameSpan {
  uint64_t fromNs = 0, toNs = 0;
  uint64_t firstSeq = 0;
  uint32_t count = 0;
  KindMask kinds = 0;
  std::array<uint32_t, kKindCount> kindCounts{};
  std::vector<uint32_t> processes;
};

using ActivityCounts = std::array<uint32_t, kActivityCount>;

struct SummaryCell {
  uint32_t bin = 0;
  std::array<uint16_t, kActivityCount> counts{};   // saturating
};

struct Gap {
  uint64_t fromNs = 0, toNs = 0;
  uint64_t lost = 0;
};

struct Summary {
  uint64_t binNs = 1;
  uint32_t binCount = 0;
  std::vector<std::vector<SummaryCell>> processes;   // sorted by bin, one per process
  std::vector<ActivityCounts> global;                // per bin, every process
  std::vector<uint64_t> tlsOutBytes, tlsInBytes;     // per bin
  std::vector<Gap> gaps;                             // lost-event regions
  uint64_t events = 0;
};

// Accumulates events in any order into a Summary.
class SummaryBuilder {
 public:
  SummaryBuilder(uint64_t totalNs, size_t processCount, uint32_t binCount);
  void add(uint64_t ns, uint32_t process, Activity a, uint64_t tlsBytes = 0);
  // `count` events were lost somewhere in [fromNs, toNs].
  void addGap(uint64_t fromNs, uint64_t toNs, uint64_t count);
  Summary finish();

 private:
  uint32_t binOf(uint64_t ns) const;
  Summary m_s;
};

struct ColumnGrid {
  int columns = 0;
  int lanes = 0;
  std::vector<ActivityCounts> cells;   // lanes x columns, row-major
  ActivityCounts& at(int lane, int column) { return cells[size_t(lane) * columns + column]; }
  const ActivityCounts& at(int lane, int column) const {
    return cells[size_t(lane) * columns + column];
  }
  void reset(int lanes, int columns);
  // Largest count of activity a over the grid (for intensity scaling).
  uint32_t maxCount(Activity a) const;
};

// laneOfProcess[p] is the grid lane of process p, or -1 when not shown.
// Events later than cutoffNs are left out (replay shows only what already happened).
void accumulateMarks(ColumnGrid& grid, const TimeAxis& axis, std::span<const Mark> marks,
                     const std::vector<int>& laneOfProcess, ActivityMask filter,
                     double cutoffNs);
void accumulateSummary(ColumnGrid& grid, const TimeAxis& axis, const Summary& summary,
                       const std::vector<int>& laneOfProcess, ActivityMask filter,
                       double cutoffNs);
// Coarse: each frame's kind counts are drawn over its time range in every lane of its pids.
void accumulateFrames(ColumnGrid& grid, const TimeAxis& axis, std::span<const FrameSpan> frames,
                      const std::vector<int>& laneOfProcess, ActivityMask filter,
                      double cutoffNs);

// Events expected in [fromNs, toNs], assuming each frame's events are spread evenly.
double estimateEvents(std::span<const FrameSpan> frames, double fromNs, double toNs);

// Per-bucket totals over [fromNs, toNs) from a summary's global bins (charts).
std::vector<ActivityCounts> rebinActivity(const Summary& s, double fromNs, double toNs,
                                          int buckets);
std::vector<std::pair<uint64_t, uint64_t>> rebinTls(const Summary& s, double fromNs,
                                                    double toNs, int buckets);

}  // namespace aa::view
