// SessionDocument: one open session as the viewer sees it. Owns the SessionReader and
// what the viewer derives from it: the process table as a tree, the frame table in
// session time, a cache of decoded Marks per frame, and the background Summary
// (see lod.h). The reader is not thread-safe, so every call into it goes through
// m_readerMutex; the summary thread takes it one frame at a time.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/diff/tool_effects.h"
#include "store/session_reader.h"
#include "viewer/models/activity.h"
#include "viewer/models/lod.h"
#include "viewer/models/traffic_view.h"

namespace aa::view {

struct ProcessInfo {
  ProcessRow row;
  int parent = -1;              // index of the parent process, -1 for a root
  std::vector<int> children;    // indices, ordered by start time then pid
  int depth = 0;
  int rowInParent = 0;          // position among its parent's children (or the roots)
  ActivityCounts activity{};    // from the index's per-kind counts
  bool inIndex = true;          // false: a pid seen in frames but absent from processes()
  QString name;                 // exe basename, else comm, else "pid N"
};

class SessionDocument : public QObject {
  Q_OBJECT

 public:
  // progress(done, total) is called from the opening thread while an index is built.
  static StatusOr<std::unique_ptr<SessionDocument>> open(
      const QString& path, std::function<void(uint64_t, uint64_t)> progress = {});
  ~SessionDocument() override;

  QString path() const { return m_path; }
  const SessionHeaderInfo& header() const { return m_reader->header(); }
  const std::optional<SessionFooterInfo>& footer() const { return m_reader->footer(); }
  Status damage() const { return m_reader->damage(); }
  bool indexRebuilt() const { return m_reader->indexRebuilt(); }
  uint64_t eventCount() const { return m_reader->eventCount(); }
  uint64_t durationNs() const { return m_duration; }
  uint64_t fileSize() const { return m_reader->fileSize(); }
  int64_t wallOf(double relNs) const;   // wall-clock ns of a session time

  const std::vector<ProcessInfo>& processes() const { return m_processes; }
  const std::vector<int>& roots() const { return m_roots; }
  int processIndex(uint32_t pid) const;   // -1 when unknown
  std::vector<uint32_t> subtreePids(int process) const;
  // argv joined for display, quoting arguments with spaces (made on demand: a session
  // can have 100k processes).
  QString commandLine(int process) const;
  std::vector<int> subtree(int process) const;

  const std::vector<FrameSpan>& frames() const { return m_frames; }
  // Frames whose time range meets [fromNs, toNs], in sequence order.
  std::vector<size_t> framesIn(double fromNs, double toNs) const;

  // The frame's events as Marks (cached, bounded); null when the frame cannot be decoded.
  std::shared_ptr<const std::vector<Mark>> marks(size_t frame) const;
  // The frame's marks only if already decoded; never decodes.
  std::shared_ptr<const std::vector<Mark>> cachedMarks(size_t frame) const;
  // Decodes these frames' marks on a background thread (replacing any earlier request
  // not yet done), then emits marksReady(). Keeps the GUI thread from decoding.
  void requestMarks(std::vector<size_t> frames);
  bool prefetchIdle() const;
  bool waitForPrefetch(int timeoutMs);
  // Calls fn with event `seq`; false when it is not readable.
  bool withEvent(uint64_t seq, const std::function<void(schema::Event::Reader)>& fn) const;
  // Calls fn(reader of frame i's events); false when the frame cannot be decoded.
  bool withFrame(size_t frame, const std::function<void(capnp::List<schema::Event>::Reader)>& fn) const;
  Status forEach(const EventQuery& query,
                 const std::function<bool(schema::Event::Reader)>& visit) const;
  std::vector<FileRow> files() const;
  std::vector<TlsConnRow> tlsConnections() const;
  std::vector<LostCountInfo> lostTotals() const;
  uint64_t relNs(uint64_t monoNs) const { return m_reader->relNs(monoNs); }

  // The Summary, once the background scan is done (null before).
  std::shared_ptr<const Summary> summary() const;
  void startSummary(uint32_t bins = 8192);
  // Blocks until the summary is ready (or the scan failed); false on timeout.
  bool waitForSummary(int timeoutMs);
  // Frames the scan could not decode (damage inside the log that the index did not see).
  uint64_t unreadableFrames() const { return m_unreadableFrames.load(); }

  // HTTP exchanges and LLM calls (store/traffic), loaded on the background thread right
  // after the summary, through a reader of its own so the GUI thread never waits on it.
  // Null until loaded; `error` says why there is none. Sessions with more than
  // kMaxTrafficRecords TLS events are not analysed automatically (parsing holds about
  // 4x their plaintext in memory).
  static constexpr uint64_t kMaxTrafficRecords = 100'000;
  std::shared_ptr<const TrafficData> traffic() const;
  bool waitForTraffic(int timeoutMs);
  // What the calling process tree did after call `call` (at most `max` actions).
  std::vector<traffic::AgentAction> actionsAfterCall(size_t call, size_t max = 20) const;
  // Cause and effect: what each tool call of call `call` led to (store/diff's
  // toolCallEffects, as `aa-session llm --json` reports it); empty before the traffic
  // is loaded or when the call asked for no tool. Cached per call: it reads the process
  // table and the events up to the agent's next call, and replay asks again and again.
  std::vector<diff::ToolCallEffects> toolEffects(size_t call) const;

 signals:
  void summaryReady();
  void trafficReady();
  void marksReady();

 private:
  explicit SessionDocument(std::unique_ptr<SessionReader> reader, QString path);
  void buildProcesses();
  void scan(uint32_t bins);
  void loadTrafficData();
  void prefetchLoop();
  std::shared_ptr<const std::vector<Mark>> cacheLookup(size_t frame) const;

  QString m_path;
  std::unique_ptr<SessionReader> m_reader;
  mutable std::mutex m_readerMutex;
  uint64_t m_duration = 0;

  std::vector<ProcessInfo> m_processes;
  std::vector<int> m_roots;
  std::unordered_map<uint32_t, int> m_pidIndex;
  std::vector<FrameSpan> m_frames;

  struct CacheEntry {
    size_t frame;
    std::shared_ptr<const std::vector<Mark>> marks;
  };
  mutable std::mutex m_cacheMutex;
  mutable std::list<CacheEntry> m_cache;   // most recent first
  mutable size_t m_cachedMarks = 0;
  static constexpr size_t kMaxCachedMarks = 2'000'000;

  mutable std::mutex m_summaryMutex;
  std::shared_ptr<const Summary> m_summary;
  std::thread m_worker;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_scanDone{false};
  std::atomic<uint64_t> m_unreadableFrames{0};
  mutable std::mutex m_trafficMutex;
  std::shared_ptr<const TrafficData> m_traffic;
  std::atomic<bool> m_trafficDone{false};
  mutable std::mutex m_toolEffectsMutex;
  mutable std::unordered_map<size_t, std::vector<diff::ToolCallEffects>> m_toolEffects;

  std::thread m_prefetcher;
  mutable std::mutex m_prefetchMutex;
  std::condition_variable m_prefetchWake;
  std::vector<size_t> m_prefetchQueue;
  bool m_prefetchBusy = false;
};

// Which processes get a lane, given collapsed subtrees: lanes follow the process tree
// depth-first; a collapsed process's lane also carries its whole subtree.
class LaneLayout {
 public:
  struct Lane {
    int process = -1;
    int depth = 0;
    bool hasChildren = false;
    bool collapsed = false;
  };

  void setDocument(const SessionDocument* doc);
  void setCollapsed(int process, bool collapsed);
  bool isCollapsed(int process) const;
  void collapseAll(bool collapsed);
  // Only processes alive somewhere in [fromNs, toNs] get a lane (a collapsed lane counts
  // its subtree); returns true when the lanes changed. Disabled by default.
  bool setTimeWindow(bool enabled, double fromNs, double toNs);

  const std::vector<Lane>& lanes() const { return m_lanes; }
  // laneOf()[p]: lane showing process p (its own or a collapsed ancestor's).
  const std::vector<int>& laneOf() const { return m_laneOf; }
  int laneOfProcess(int p) const;

 private:
  void rebuild();
  const SessionDocument* m_doc = nullptr;
  bool aliveIn(int process) const;
  std::vector<char> m_collapsed;
  bool m_windowed = false;
  double m_from = 0, m_to = 0;
  std::vector<Lane> m_lanes;
  std::vector<int> m_laneOf;
};

}  // namespace aa::view
