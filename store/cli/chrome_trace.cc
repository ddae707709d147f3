#include "store/cli/chrome_trace.h"

#include <cstring>
#include <set>
#include <string>
#include <map>
#include <utility>

#include "store/event_catalog.h"
#include "store/render/event_json.h"
#include "store/kind.h"
#include "store/traffic/traffic.h"
#include "store/traffic/traffic_json.h"

namespace aa {
namespace {

class Out {
 public:
  explicit Out(std::FILE* f) : f_(f) { buf_.reserve(kFlushAt + 65536); }
  std::string& buf() { return buf_; }
  // Starts the next element of traceEvents.
  void next() {
    if (!first_) buf_ += ",\n";
    first_ = false;
    if (buf_.size() >= kFlushAt) flush();
  }
  bool flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      failed_ = true;
    buf_.clear();
    return !failed_;
  }
  bool failed() const { return failed_ || std::ferror(f_); }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  std::FILE* f_;
  std::string buf_;
  bool first_ = true;
  bool failed_ = false;
};

void appendTs(std::string& out, uint64_t ns) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%llu.%03llu", (unsigned long long)(ns / 1000),
                        (unsigned long long)(ns % 1000));
  out.append(buf, n);
}

// The export in the order Perfetto reads best: session info, a slice per process, the
// events (with an async slice per open file), a slice per TLS connection, then the
// HTTP exchanges and LLM calls.
class ChromeTraceWriter {
 public:
  ChromeTraceWriter(const SessionReader& reader, std::FILE* f) : reader_(reader), out_(f), b_(out_.buf()) {}

  StatusOr<ChromeTraceStats> write() {
    writeSessionInfo();
    writeProcessSlices();
    Status st = writeEvents();
    if (!st.ok()) return st;
    writeTlsSlices();
    writeTrafficSlices();
    b_ += "\n]}\n";
    out_.flush();
    if (out_.failed()) return Status::error(std::string("write failed: ") + std::strerror(errno));
    return stats_;
  }

 private:
  struct OpenSpan {
    uint64_t id;
    std::string path;
  };

  void writeSessionInfo() {
    const auto& h = reader_.header();
    b_ += "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"session_id\":";
    appendJsonString(b_, h.sessionId);
    b_ += ",\"host\":";
    appendJsonString(b_, h.host);
    b_ += ",\"kernel\":";
    appendJsonString(b_, h.kernel);
    b_ += ",\"command\":";
    std::string cmd;
    for (auto& a : h.command) cmd += (cmd.empty() ? "" : " ") + a;
    appendJsonString(b_, cmd);
    b_ += ",\"start_wall_ns\":" + std::to_string(h.startWallNs);
    b_ += ",\"clean_stop\":";
    b_ += reader_.footer() && reader_.footer()->cleanStop ? "true" : "false";
    b_ += "},\n\"traceEvents\":[\n";
  }

  void nameProcess(uint32_t pid, const std::string& name) {
    namedPids_.insert(pid);
    out_.next();
    b_ += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
          ",\"tid\":" + std::to_string(pid) + ",\"args\":{\"name\":";
    appendJsonString(b_, name);
    b_ += "}}";
    out_.next();
    b_ += "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
          ",\"tid\":" + std::to_string(pid) + ",\"args\":{\"sort_index\":" +
          std::to_string(order_++) + "}}";
  }

  void nameThreadOnce(uint32_t pid, uint32_t tid, std::string_view comm) {
    if (!namedThreads_.insert({pid, tid}).second) return;
    out_.next();
    b_ += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
          ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":";
    appendJsonString(b_, std::string(comm) + " " + std::to_string(tid));
    b_ += "}}";
  }

  void writeProcessSlices() {
    const uint64_t endNs = reader_.durationNs();
    for (const auto& p : reader_.processes()) {
      std::string name = p.comm.empty() ? std::string("pid") : p.comm;
      name += " " + std::to_string(p.pid);
      if (!p.exe.empty()) name += ": " + p.exe;
      nameProcess(p.pid, name);
      uint64_t start = p.startNs.value_or(0);
      uint64_t end = std::max(start, p.endNs.value_or(endNs));
      out_.next();
      b_ += "{\"name\":";
      std::string label;
      for (auto& a : p.argv) label += (label.empty() ? "" : " ") + a;
      appendJsonString(b_, label.empty() ? (p.exe.empty() ? p.comm : p.exe) : label);
      b_ += ",\"cat\":\"process\",\"ph\":\"X\",\"pid\":" + std::to_string(p.pid) +
            ",\"tid\":" + std::to_string(p.pid) + ",\"ts\":";
      appendTs(b_, start);
      b_ += ",\"dur\":";
      appendTs(b_, end - start);
      b_ += ",\"args\":{\"ppid\":" + std::to_string(p.ppid) + ",\"exe\":";
      appendJsonString(b_, p.exe);
      b_ += ",\"argv\":[";
      for (size_t i = 0; i < p.argv.size(); ++i) {
        if (i) b_ += ',';
        appendJsonString(b_, p.argv[i]);
      }
      b_ += "]";
      if (p.exitCode) b_ += ",\"exit_code\":" + std::to_string(*p.exitCode);
      if (p.signal) b_ += ",\"signal\":" + std::to_string(*p.signal);
      b_ += "}}";
      ++stats_.processes;
    }
  }

  void spanEdge(char ph, uint32_t pid, uint32_t tid, uint64_t id, std::string_view path, uint64_t t) {
    out_.next();
    b_ += "{\"name\":";
    appendJsonString(b_, path);
    b_ += ",\"cat\":\"file\",\"ph\":\"";
    b_ += ph;
    b_ += "\",\"id\":" + std::to_string(id) + ",\"pid\":" + std::to_string(pid) +
          ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    appendTs(b_, t);
    b_ += "}";
  }

  // An open that returned an fd begins a file slice; the close of that fd ends it.
  void fileSpan(schema::Event::Reader e, const EventInfo& info, uint64_t t) {
    const Kind k = info.kind;
    if (k != Kind::kFileOpen && k != Kind::kFileClose) return;
    if (!info.fd || *info.fd < 0) return;
    const uint32_t pid = e.getPid(), tid = e.getTid();
    const uint64_t key = uint64_t(pid) << 32 | uint32_t(*info.fd);
    if (k == Kind::kFileOpen) {
      OpenSpan span{nextSpan_++, std::string(info.path(PathRole::kPath))};
      spanEdge('b', pid, tid, span.id, span.path, t);
      openFiles_.insert_or_assign(key, std::move(span));
      ++stats_.fileSlices;
    } else if (auto it = openFiles_.find(key); it != openFiles_.end()) {
      spanEdge('e', pid, tid, it->second.id, it->second.path, t);
      openFiles_.erase(it);
    }
  }

  // Each event as an instant, its catalog fields as args.
  Status writeEvents() {
    Status st = reader_.forEach(EventQuery{}, [&](schema::Event::Reader e) {
      const EventInfo info = describe(e);   // once: the file slice and the args
      const Kind k = info.kind;
      const uint32_t pid = e.getPid(), tid = e.getTid();
      const uint64_t t = reader_.relNs(e.getTNs());
      if (k != Kind::kLost) {
        if (!namedPids_.count(pid)) nameProcess(pid, std::string(asView(e.getComm())) + " " + std::to_string(pid));
        nameThreadOnce(pid, tid, asView(e.getComm()));
      }
      fileSpan(e, info, t);
      out_.next();
      b_ += "{\"name\":\"";
      b_ += kindName(k);
      b_ += "\",\"cat\":\"";
      b_ += areaCategory(kindArea(k));
      b_ += "\",\"ph\":\"i\",\"s\":\"";
      b_ += k == Kind::kLost ? 'g' : 't';
      b_ += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
      appendTs(b_, t);
      b_ += ",\"args\":{\"seq\":" + std::to_string(e.getSeq()) + ",\"comm\":";
      appendJsonString(b_, asView(e.getComm()));
      appendKindFieldsJson(b_, info);
      b_ += "}}";
      ++stats_.events;
      return !out_.failed();
    });
    if (!st.ok()) return st;
    // Files still open at the end of the recording end with it.
    const uint64_t endNs = reader_.durationNs();
    for (auto& [key, span] : openFiles_)
      spanEdge('e', uint32_t(key >> 32), uint32_t(key >> 32), span.id, span.path, endNs);
    return {};
  }

  // A connection with captured bytes as one async slice from its first to its last, in
  // its own category ("tls", or "plain" for a plain socket's), so a request and its
  // streamed response read as one span.
  void writeTlsSlices() {
    for (const auto& c : reader_.tlsConnections()) {
      const char* category = c.plain ? "plain" : "tls";
      std::string name = category + (" " + std::to_string(c.conn)) + (c.peer.empty() ? "" : " " + c.peer);
      for (char ph : {'b', 'e'}) {
        out_.next();
        b_ += "{\"name\":";
        appendJsonString(b_, name);
        b_ += ",\"cat\":\"";
        b_ += category;
        b_ += "\",\"ph\":\"";
        b_ += ph;
        b_ += "\",\"id\":\"conn-" + std::to_string(c.conn) + "\",\"pid\":" + std::to_string(c.pid) +
              ",\"tid\":" + std::to_string(c.pid) + ",\"ts\":";
        appendTs(b_, ph == 'b' ? c.firstNs : std::max(c.firstNs, c.lastNs));
        if (ph == 'b') {
          b_ += ",\"args\":{\"conn\":" + std::to_string(c.conn) + ",\"peer\":";
          appendJsonString(b_, c.peer);
          b_ += ",\"lib\":";
          appendJsonString(b_, c.lib);
          b_ += ",\"bytes_out\":" + std::to_string(c.bytesOut) +
                ",\"bytes_in\":" + std::to_string(c.bytesIn) + "}";
        }
        b_ += "}";
      }
      ++stats_.tlsSlices;
    }
  }

  // What the agent said to the model: a slice per LLM call and per other HTTP
  // exchange, reassembled from the TLS streams (cached in the index).
  void writeTrafficSlices() {
    auto traffic = traffic::loadTraffic(reader_);
    if (!traffic.ok()) return;
    traffic::RenderOptions render;
    render.originNs = reader_.header().startMonoNs;
    std::string slices = traffic::chromeTraceEvents(traffic->exchanges, traffic->calls,
                                                    /*withHttp=*/true, render);
    if (slices.empty()) return;
    out_.next();
    b_ += slices;
    stats_.llmSlices = traffic->calls.size();
  }

  const SessionReader& reader_;
  Out out_;
  std::string& b_;
  ChromeTraceStats stats_;
  std::set<uint32_t> namedPids_;
  std::set<std::pair<uint32_t, uint32_t>> namedThreads_;
  std::map<uint64_t, OpenSpan> openFiles_;   // key: pid << 32 | fd
  uint64_t nextSpan_ = 1;
  int64_t order_ = 0;   // process_sort_index, in order of first appearance
};

}  // namespace

StatusOr<ChromeTraceStats> writeChromeTrace(const SessionReader& reader, std::FILE* f) {
  return ChromeTraceWriter(reader, f).write();
}

}  // namespace aa
