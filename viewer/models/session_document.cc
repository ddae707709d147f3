#include "viewer/models/session_document.h"

#include <QFileInfo>
#include <QMetaObject>
#include <algorithm>
#include <chrono>
#include <limits>

namespace aa::view {

namespace {

QString fromBytes(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QString joinArgv(const std::vector<std::string>& argv) {
  QStringList parts;
  for (const std::string& a : argv) {
    QString s = fromBytes(a);
    if (s.isEmpty() || s.contains(QLatin1Char(' ')) || s.contains(QLatin1Char('"')))
      s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\\\"")) + QLatin1Char('"');
    parts << s;
  }
  return parts.join(QLatin1Char(' '));
}

}  // namespace

StatusOr<std::unique_ptr<SessionDocument>> SessionDocument::open(
    const QString& path, std::function<void(uint64_t, uint64_t)> progress) {
  ReaderOptions options;
  options.progress = std::move(progress);
  auto reader = SessionReader::open(path.toStdString(), options);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<SessionDocument> doc(new SessionDocument(std::move(reader.value()), path));
  return doc;
}

SessionDocument::SessionDocument(std::unique_ptr<SessionReader> reader, QString path)
    : m_path(std::move(path)), m_reader(std::move(reader)) {
  m_duration = m_reader->durationNs();
  buildProcesses();   // and the frame table, in the same pass over frames' pids
  for (const FrameSpan& f : m_frames) m_duration = std::max(m_duration, f.toNs);
}

SessionDocument::~SessionDocument() {
  m_stop = true;
  {
    std::lock_guard<std::mutex> lock(m_prefetchMutex);
    m_prefetchQueue.clear();
  }
  m_prefetchWake.notify_all();
  if (m_prefetcher.joinable()) m_prefetcher.join();
  if (m_worker.joinable()) m_worker.join();
}

void SessionDocument::requestMarks(std::vector<size_t> frames) {
  {
    std::lock_guard<std::mutex> lock(m_prefetchMutex);
    // The newest view wins: frames of a view already left are not worth decoding.
    m_prefetchQueue = std::move(frames);
    if (!m_prefetcher.joinable()) m_prefetcher = std::thread([this] { prefetchLoop(); });
  }
  m_prefetchWake.notify_all();
}

bool SessionDocument::prefetchIdle() const {
  std::lock_guard<std::mutex> lock(m_prefetchMutex);
  return m_prefetchQueue.empty() && !m_prefetchBusy;
}

bool SessionDocument::waitForPrefetch(int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!prefetchIdle()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void SessionDocument::prefetchLoop() {
  bool decodedAny = false;
  while (true) {
    size_t frame;
    {
      std::unique_lock<std::mutex> lock(m_prefetchMutex);
      m_prefetchBusy = false;
      if (m_prefetchQueue.empty() && decodedAny) {
        decodedAny = false;
        lock.unlock();
        QMetaObject::invokeMethod(this, &SessionDocument::marksReady, Qt::QueuedConnection);
        lock.lock();
      }
      m_prefetchWake.wait(lock, [this] { return m_stop || !m_prefetchQueue.empty(); });
      if (m_stop) return;
      frame = m_prefetchQueue.front();
      m_prefetchQueue.erase(m_prefetchQueue.begin());
      m_prefetchBusy = true;
    }
    if (!cacheLookup(frame)) {
      marks(frame);
      decodedAny = true;
    }
  }
}

int64_t SessionDocument::wallOf(double relNs) const {
  return header().startWallNs + static_cast<int64_t>(relNs);
}

void SessionDocument::buildProcesses() {
  std::vector<ProcessRow> rows = m_reader->processes();
  m_processes.reserve(rows.size() + 16);
  m_pidIndex.reserve(rows.size() + 16);
  for (ProcessRow& r : rows) {
    // pid 0 is the kernel's idle task, never a traced process: the index may list it
    // because lost-event reports carry pid 0.
    if (r.pid == 0 || m_pidIndex.count(r.pid)) continue;
    m_pidIndex[r.pid] = int(m_processes.size());
    m_processes.emplace_back();
    m_processes.back().row = std::move(r);
  }
  // Pids with events but no process row (the index lost them, or the recorder attached
  // to a running tree) still get a lane; one pass over the frame table finds them and
  // turns every frame's pids into process indices.
  const auto& frames = m_reader->frames();
  m_frames.reserve(frames.size());
  for (const FrameInfo& f : frames) {
    FrameSpan s;
    s.fromNs = m_reader->relNs(f.tMin);
    s.toNs = std::max(s.fromNs, m_reader->relNs(f.tMax));
    s.firstSeq = f.firstSeq;
    s.count = f.count;
    s.kinds = f.kinds;
    s.kindCounts = f.kindCounts;
    s.processes.reserve(f.pids.size());
    for (uint32_t pid : f.pids) {
      if (pid == 0) continue;   // lost-event reports: drawn as gaps, not as a process
      auto [it, fresh] = m_pidIndex.try_emplace(pid, int(m_processes.size()));
      if (fresh) {
        m_processes.emplace_back();
        m_processes.back().row.pid = pid;
        m_processes.back().inIndex = false;
      }
      s.processes.push_back(uint32_t(it->second));
    }
    m_frames.push_back(std::move(s));
  }
  for (size_t i = 0; i < m_processes.size(); ++i) {
    ProcessInfo& p = m_processes[i];
    const ProcessRow& r = p.row;
    auto it = m_pidIndex.find(r.ppid);
    p.parent = (r.ppid != r.pid && it != m_pidIndex.end()) ? it->second : -1;
    if (!r.exe.empty()) {
      const size_t slash = r.exe.rfind('/');
      p.name = fromBytes(slash == std::string::npos ? r.exe : r.exe.substr(slash + 1));
    }
    if (p.name.isEmpty() && !r.comm.empty()) p.name = fromBytes(r.comm);
    if (p.name.isEmpty()) p.name = QStringLiteral("pid %1").arg(r.pid);
    for (int k = 0; k < kKindCount; ++k)
      p.activity[int(activityOfKind(static_cast<Kind>(k)))] += uint32_t(r.kindCounts[k]);
  }
  // Break parent cycles (pid reuse can make one): walk up; a process that meets itself
  // becomes a root.
  for (size_t i = 0; i < m_processes.size(); ++i) {
    int steps = 0;
    for (int q = m_processes[i].parent; q >= 0; q = m_processes[q].parent) {
      if (q == int(i) || ++steps > int(m_processes.size())) {
        m_processes[i].parent = -1;
        break;
      }
    }
  }
  auto earlier = [this](int a, int b) {
    const auto& ra = m_processes[a].row;
    const auto& rb = m_processes[b].row;
    const uint64_t sa = ra.startNs.value_or(0), sb = rb.startNs.value_or(0);
    return sa != sb ? sa < sb : ra.pid < rb.pid;
  };
  for (size_t i = 0; i < m_processes.size(); ++i) {
    const int parent = m_processes[i].parent;
    (parent >= 0 ? m_processes[parent].children : m_roots).push_back(int(i));
  }
  std::sort(m_roots.begin(), m_roots.end(), earlier);
  for (int r = 0; r < int(m_roots.size()); ++r) m_processes[m_roots[r]].rowInParent = r;
  std::vector<int> stack(m_roots.rbegin(), m_roots.rend());
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    auto& ch = m_processes[p].children;
    std::sort(ch.begin(), ch.end(), earlier);
    for (int r = 0; r < int(ch.size()); ++r) {
      m_processes[ch[r]].rowInParent = r;
      m_processes[ch[r]].depth = m_processes[p].depth + 1;
      stack.push_back(ch[r]);
    }
  }
}

QString SessionDocument::commandLine(int process) const {
  if (process < 0 || process >= int(m_processes.size())) return {};
  return joinArgv(m_processes[process].row.argv);
}

int SessionDocument::processIndex(uint32_t pid) const {
  auto it = m_pidIndex.find(pid);
  return it == m_pidIndex.end() ? -1 : it->second;
}

std::vector<int> SessionDocument::subtree(int process) const {
  std::vector<int> out;
  if (process < 0 || process >= int(m_processes.size())) return out;
  std::vector<int> stack{process};
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    out.push_back(p);
    for (int c : m_processes[p].children) stack.push_back(c);
  }
  return out;
}

std::vector<uint32_t> SessionDocument::subtreePids(int process) const {
  std::vector<uint32_t> pids;
  for (int p : subtree(process)) pids.push_back(m_processes[p].row.pid);
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::vector<size_t> SessionDocument::framesIn(double fromNs, double toNs) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < m_frames.size(); ++i)
    if (double(m_frames[i].toNs) >= fromNs && double(m_frames[i].fromNs) <= toNs)
      out.push_back(i);
  return out;
}

bool SessionDocument::withFrame(
    size_t frame, const std::function<void(capnp::List<schema::Event>::Reader)>& fn) const {
  std::shared_ptr<const DecodedFrame> decoded;
  {
    std::lock_guard<std::mutex> lock(m_readerMutex);
    auto r = m_reader->frame(frame);
    if (!r.ok()) return false;
    decoded = r.value();
  }
  // A decoded frame is immutable: reading it needs no lock.
  fn(decoded->events());
  return true;
}

std::shared_ptr<const std::vector<Mark>> SessionDocument::cacheLookup(size_t frame) const {
  std::lock_guard<std::mutex> lock(m_cacheMutex);
  for (auto it = m_cache.begin(); it != m_cache.end(); ++it) {
    if (it->frame != frame) continue;
    m_cache.splice(m_cache.begin(), m_cache, it);
    return it->marks;
  }
  return nullptr;
}

std::shared_ptr<const std::vector<Mark>> SessionDocument::cachedMarks(size_t frame) const {
  return cacheLookup(frame);
}

std::shared_ptr<const std::vector<Mark>> SessionDocument::marks(size_t frame) const {
  if (auto hit = cacheLookup(frame)) return hit;
  auto marks = std::make_shared<std::vector<Mark>>();
  const bool ok = withFrame(frame, [&](capnp::List<schema::Event>::Reader events) {
    marks->reserve(events.size());
    uint32_t i = 0;
    for (auto e : events) {
      const int p = processIndex(e.getPid());
      marks->push_back(Mark{relNs(e.getTNs()), p < 0 ? UINT32_MAX : uint32_t(p), i++,
                            activityOf(e)});
    }
  });
  if (!ok) return nullptr;
  std::lock_guard<std::mutex> lock(m_cacheMutex);
  for (const CacheEntry& e : m_cache)   // decoded meanwhile by the other thread
    if (e.frame == frame) return e.marks;
  m_cache.push_front({frame, marks});
  m_cachedMarks += marks->size();
  while (m_cachedMarks > kMaxCachedMarks && m_cache.size() > 1) {
    m_cachedMarks -= m_cache.back().marks->size();
    m_cache.pop_back();
  }
  return marks;
}

bool SessionDocument::withEvent(uint64_t seq,
                                const std::function<void(schema::Event::Reader)>& fn) const {
  size_t f;
  {
    std::lock_guard<std::mutex> lock(m_readerMutex);
    f = m_reader->frameOfSeq(seq);
  }
  if (f >= m_frames.size()) return false;
  const uint64_t idx = seq - m_frames[f].firstSeq;
  bool found = false;
  withFrame(f, [&](capnp::List<schema::Event>::Reader events) {
    if (idx < events.size()) {
      fn(events[uint32_t(idx)]);
      found = true;
    }
  });
  return found;
}

Status SessionDocument::forEach(const EventQuery& query,
                                const std::function<bool(schema::Event::Reader)>& visit) const {
  std::lock_guard<std::mutex> lock(m_readerMutex);
  return m_reader->forEach(query, visit);
}

std::vector<FileRow> SessionDocument::files() const {
  std::lock_guard<std::mutex> lock(m_readerMutex);
  return m_reader->files();
}

std::vector<TlsConnRow> SessionDocument::tlsConnections() const {
  std::lock_guard<std::mutex> lock(m_readerMutex);
  return m_reader->tlsConnections();
}

std::vector<LostCountInfo> SessionDocument::lostTotals() const {
  std::lock_guard<std::mutex> lock(m_readerMutex);
  return m_reader->lostTotals();
}

std::shared_ptr<const Summary> SessionDocument::summary() const {
  std::lock_guard<std::mutex> lock(m_summaryMutex);
  return m_summary;
}

void SessionDocument::startSummary(uint32_t bins) {
  if (m_worker.joinable()) return;
  m_worker = std::thread([this, bins] { scan(bins); });
}

bool SessionDocument::waitForSummary(int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!m_scanDone.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void SessionDocument::scan(uint32_t bins) {
  SummaryBuilder builder(m_duration, m_processes.size(), bins);
  uint64_t prevNs = 0;
  for (size_t i = 0; i < m_frames.size() && !m_stop; ++i) {
    const bool ok = withFrame(i, [&](capnp::List<schema::Event>::Reader events) {
      for (auto e : events) {
        const uint64_t ns = relNs(e.getTNs());
        const Activity a = activityOf(e);
        if (a == Activity::Lost) {
          // The ring buffer lost records between the last delivered event and this
          // report; that stretch is the gap.
          builder.addGap(std::min(prevNs, ns), ns,
                         e.isLost() ? e.getLost().getCount() : 0);
          continue;
        }
        const int p = processIndex(e.getPid());
        const uint64_t bytes = e.isTls() ? e.getTls().getData().size() : 0;
        builder.add(ns, p < 0 ? UINT32_MAX : uint32_t(p), a, bytes);
        prevNs = ns;
      }
    });
    if (!ok) ++m_unreadableFrames;
  }
  if (m_stop) {
    m_scanDone = true;
    m_trafficDone = true;
    return;
  }
  auto summary = std::make_shared<const Summary>(builder.finish());
  {
    std::lock_guard<std::mutex> lock(m_summaryMutex);
    m_summary = std::move(summary);
  }
  m_scanDone = true;
  QMetaObject::invokeMethod(this, &SessionDocument::summaryReady, Qt::QueuedConnection);
  loadTrafficData();
}

void SessionDocument::loadTrafficData() {
  auto data = std::make_shared<TrafficData>();
  uint64_t streamRecords = 0;
  for (const FrameSpan& f : m_frames)
    for (int k = 0; k < kKindCount; ++k)
      if (kStreamKinds & bit(Kind(k))) streamRecords += f.kindCounts[size_t(k)];
  if (streamRecords > kMaxTrafficRecords) {
    data->error = QStringLiteral("HTTP/LLM analysis skipped: %1 stream events (more than %2); "
                                 "use aa-session llm / http")
                      .arg(streamRecords).arg(kMaxTrafficRecords);
  } else if (streamRecords > 0 && !m_stop) {
    // A reader of its own: parsing reads every TLS event, which must not hold the GUI
    // thread's reader lock for seconds.
    auto reader = SessionReader::open(m_path.toStdString());
    StatusOr<traffic::Traffic> t = reader.ok() ? traffic::loadTraffic(*reader.value())
                                               : StatusOr<traffic::Traffic>(reader.status());
    if (!t.ok()) {
      data->error = QStringLiteral("HTTP/LLM analysis failed: %1").arg(QString::fromStdString(t.status().message()));
    } else {
      data->traffic = std::move(t.value());
      for (size_t i = 0; i < data->traffic.calls.size(); ++i) {
        const traffic::LlmCall& c = data->traffic.calls[i];
        LlmSpan s;
        s.call = int(i);
        s.process = processIndex(c.pid);
        s.fromNs = double(relNs(c.tStartNs));
        s.toNs = std::max(s.fromNs, double(relNs(std::max(c.tEndNs, c.tStartNs))));
        s.incomplete = c.incomplete;
        data->spans.push_back(s);
      }
      std::sort(data->spans.begin(), data->spans.end(),
                [](const LlmSpan& a, const LlmSpan& b) { return a.fromNs < b.fromNs; });
    }
  }
  {
    std::lock_guard<std::mutex> lock(m_trafficMutex);
    m_traffic = std::move(data);
  }
  m_trafficDone = true;
  if (!m_stop) QMetaObject::invokeMethod(this, &SessionDocument::trafficReady, Qt::QueuedConnection);
}

std::shared_ptr<const TrafficData> SessionDocument::traffic() const {
  std::lock_guard<std::mutex> lock(m_trafficMutex);
  return m_traffic;
}

bool SessionDocument::waitForTraffic(int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!m_trafficDone.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<traffic::AgentAction> SessionDocument::actionsAfterCall(size_t call, size_t max) const {
  auto data = traffic();
  if (!data || call >= data->traffic.calls.size()) return {};
  std::lock_guard<std::mutex> lock(m_readerMutex);
  return traffic::actionsAfterCall(*m_reader, data->traffic.calls, call, max);
}

std::vector<diff::ToolCallEffects> SessionDocument::toolEffects(size_t call) const {
  auto data = traffic();
  if (!data || call >= data->traffic.calls.size()) return {};
  {
    std::lock_guard<std::mutex> lock(m_toolEffectsMutex);
    if (auto it = m_toolEffects.find(call); it != m_toolEffects.end()) return it->second;
  }
  std::vector<diff::ToolCallEffects> fx;
  {
    std::lock_guard<std::mutex> lock(m_readerMutex);
    fx = diff::toolCallEffects(*m_reader, data->traffic.calls, call);   // its default cap, as llm --json
  }
  std::lock_guard<std::mutex> lock(m_toolEffectsMutex);
  return m_toolEffects.emplace(call, std::move(fx)).first->second;
}

// ---------------------------------------------------------------------------------

void LaneLayout::setDocument(const SessionDocument* doc) {
  m_doc = doc;
  m_collapsed.assign(doc ? doc->processes().size() : 0, 0);
  rebuild();
}

void LaneLayout::setCollapsed(int process, bool collapsed) {
  if (process < 0 || process >= int(m_collapsed.size())) return;
  if (bool(m_collapsed[process]) == collapsed) return;
  m_collapsed[process] = collapsed;
  rebuild();
}

bool LaneLayout::isCollapsed(int process) const {
  return process >= 0 && process < int(m_collapsed.size()) && m_collapsed[process];
}

void LaneLayout::collapseAll(bool collapsed) {
  if (!m_doc) return;
  for (size_t p = 0; p < m_collapsed.size(); ++p)
    m_collapsed[p] = collapsed && !m_doc->processes()[p].children.empty();
  rebuild();
}

int LaneLayout::laneOfProcess(int p) const {
  return p >= 0 && p < int(m_laneOf.size()) ? m_laneOf[p] : -1;
}

bool LaneLayout::setTimeWindow(bool enabled, double fromNs, double toNs) {
  if (enabled == m_windowed && (!enabled || (fromNs == m_from && toNs == m_to))) return false;
  const std::vector<Lane> before = m_lanes;
  m_windowed = enabled;
  m_from = fromNs;
  m_to = toNs;
  rebuild();
  return before.size() != m_lanes.size() ||
         !std::equal(before.begin(), before.end(), m_lanes.begin(), [](const Lane& a, const Lane& b) {
           return a.process == b.process && a.collapsed == b.collapsed;
         });
}

bool LaneLayout::aliveIn(int process) const {
  const ProcessRow& r = m_doc->processes()[process].row;
  const double start = r.startNs ? double(*r.startNs) : 0.0;
  const double end = r.endNs ? double(*r.endNs) : std::numeric_limits<double>::infinity();
  return end >= m_from && start <= m_to;
}

void LaneLayout::rebuild() {
  m_lanes.clear();
  m_laneOf.assign(m_collapsed.size(), -1);
  if (!m_doc) return;
  const auto& procs = m_doc->processes();
  struct Item { int process; int carrier; };   // carrier: lane of a collapsed ancestor
  std::vector<Item> stack;
  for (auto it = m_doc->roots().rbegin(); it != m_doc->roots().rend(); ++it)
    stack.push_back({*it, -1});
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    const ProcessInfo& p = procs[item.process];
    int lane = item.carrier;
    if (lane < 0) {
      if (m_windowed) {
        bool alive = aliveIn(item.process);
        if (!alive && m_collapsed[item.process])
          for (int q : m_doc->subtree(item.process))
            if ((alive = aliveIn(q))) break;
        if (!alive) {
          // No lane, but its children may still be alive and get theirs.
          for (auto c = p.children.rbegin(); c != p.children.rend(); ++c) stack.push_back({*c, -1});
          continue;
        }
      }
      lane = int(m_lanes.size());
      m_lanes.push_back({item.process, p.depth, !p.children.empty(),
                         bool(m_collapsed[item.process])});
    }
    m_laneOf[item.process] = lane;
    const int carrier = (item.carrier >= 0 || m_collapsed[item.process]) ? lane : -1;
    for (auto c = p.children.rbegin(); c != p.children.rend(); ++c) stack.push_back({*c, carrier});
  }
}

}  // namespace aa::view
