#include "store/cli/chrome_trace.h"

#include <cstring>
#include <set>
#include <string>
#include <map>
#include <utility>

#include "store/cli/event_json.h"
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

std::string_view categoryOf(Kind k) {
  switch (k) {
    case Kind::kExec: case Kind::kFork: case Kind::kExit: return "process";
    case Kind::kNetConnect: return "net";
    case Kind::kTlsWrite: case Kind::kTlsRead: return "tls";
    case Kind::kLost: return "lost";
    default: return "file";
  }
}

}  // namespace

StatusOr<ChromeTraceStats> writeChromeTrace(const SessionReader& reader, std::FILE* f) {
  ChromeTraceStats stats;
  Out out(f);
  std::string& b = out.buf();
  const auto& h = reader.header();
  b += "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"session_id\":";
  appendJsonString(b, h.sessionId);
  b += ",\"host\":";
  appendJsonString(b, h.host);
  b += ",\"kernel\":";
  appendJsonString(b, h.kernel);
  b += ",\"command\":";
  std::string cmd;
  for (auto& a : h.command) cmd += (cmd.empty() ? "" : " ") + a;
  appendJsonString(b, cmd);
  b += ",\"start_wall_ns\":" + std::to_string(h.startWallNs);
  b += ",\"clean_stop\":";
  b += reader.footer() && reader.footer()->cleanStop ? "true" : "false";
  b += "},\n\"traceEvents\":[\n";

  std::set<uint32_t> namedPids;
  std::set<std::pair<uint32_t, uint32_t>> namedThreads;
  auto nameProcess = [&](uint32_t pid, const std::string& name, int64_t sortIndex) {
    namedPids.insert(pid);
    out.next();
    b += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
         ",\"tid\":" + std::to_string(pid) + ",\"args\":{\"name\":";
    appendJsonString(b, name);
    b += "}}";
    out.next();
    b += "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
         ",\"tid\":" + std::to_string(pid) + ",\"args\":{\"sort_index\":" +
         std::to_string(sortIndex) + "}}";
  };

  const uint64_t endNs = reader.durationNs();
  auto procs = reader.processes();
  int64_t order = 0;
  for (const auto& p : procs) {
    std::string name = p.comm.empty() ? std::string("pid") : p.comm;
    name += " " + std::to_string(p.pid);
    if (!p.exe.empty()) name += ": " + p.exe;
    nameProcess(p.pid, name, order++);
    uint64_t start = p.startNs.value_or(0);
    uint64_t end = std::max(start, p.endNs.value_or(endNs));
    out.next();
    b += "{\"name\":";
    std::string label;
    for (auto& a : p.argv) label += (label.empty() ? "" : " ") + a;
    appendJsonString(b, label.empty() ? (p.exe.empty() ? p.comm : p.exe) : label);
    b += ",\"cat\":\"process\",\"ph\":\"X\",\"pid\":" + std::to_string(p.pid) +
         ",\"tid\":" + std::to_string(p.pid) + ",\"ts\":";
    appendTs(b, start);
    b += ",\"dur\":";
    appendTs(b, end - start);
    b += ",\"args\":{\"ppid\":" + std::to_string(p.ppid) + ",\"exe\":";
    appendJsonString(b, p.exe);
    b += ",\"argv\":[";
    for (size_t i = 0; i < p.argv.size(); ++i) {
      if (i) b += ',';
      appendJsonString(b, p.argv[i]);
    }
    b += "]";
    if (p.exitCode) b += ",\"exit_code\":" + std::to_string(*p.exitCode);
    if (p.signal) b += ",\"signal\":" + std::to_string(*p.signal);
    b += "}}";
    ++stats.processes;
  }

  struct OpenSpan {
    uint64_t id;
    std::string path;
  };
  std::map<uint64_t, OpenSpan> openFiles;   // key: pid << 32 | fd
  uint64_t nextSpan = 1;
  auto spanEdge = [&](char ph, uint32_t pid, uint32_t tid, uint64_t id, std::string_view path,
                      uint64_t t) {
    out.next();
    b += "{\"name\":";
    appendJsonString(b, path);
    b += ",\"cat\":\"file\",\"ph\":\"";
    b += ph;
    b += "\",\"id\":" + std::to_string(id) + ",\"pid\":" + std::to_string(pid) +
         ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    appendTs(b, t);
    b += "}";
  };

  Status st = reader.forEach(EventQuery{}, [&](schema::Event::Reader e) {
    Kind k = kindOf(e);
    uint32_t pid = e.getPid(), tid = e.getTid();
    uint64_t t = reader.relNs(e.getTNs());
    if (k != Kind::kLost) {
      if (!namedPids.count(pid)) {
        nameProcess(pid, std::string(asView(e.getComm())) + " " + std::to_string(pid),
                    order++);
      }
      if (namedThreads.insert({pid, tid}).second) {
        out.next();
        b += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) +
             ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":";
        appendJsonString(b, std::string(asView(e.getComm())) + " " + std::to_string(tid));
        b += "}}";
      }
    }
    if (k == Kind::kFileOpen && e.getFileOpen().getRet() >= 0) {
      uint64_t key = uint64_t(pid) << 32 | uint32_t(e.getFileOpen().getRet());
      OpenSpan span{nextSpan++, std::string(asView(e.getFileOpen().getPath()))};
      spanEdge('b', pid, tid, span.id, span.path, t);
      openFiles.insert_or_assign(key, std::move(span));
      ++stats.fileSlices;
    } else if (k == Kind::kFileClose) {
      uint64_t key = uint64_t(pid) << 32 | uint32_t(e.getFileClose().getFd());
      if (auto it = openFiles.find(key); it != openFiles.end()) {
        spanEdge('e', pid, tid, it->second.id, it->second.path, t);
        openFiles.erase(it);
      }
    }
    out.next();
    b += "{\"name\":\"";
    b += kindName(k);
    b += "\",\"cat\":\"";
    b += categoryOf(k);
    b += "\",\"ph\":\"i\",\"s\":\"";
    b += k == Kind::kLost ? 'g' : 't';
    b += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    appendTs(b, t);
    b += ",\"args\":{\"seq\":" + std::to_string(e.getSeq()) + ",\"comm\":";
    appendJsonString(b, asView(e.getComm()));
    appendKindFieldsJson(b, e);
    b += "}}";
    ++stats.events;
    return !out.failed();
  });
  if (!st.ok()) return st;
  // Files still open at the end of the recording end with it.
  for (auto& [key, span] : openFiles)
    spanEdge('e', uint32_t(key >> 32), uint32_t(key >> 32), span.id, span.path, endNs);
  // A TLS connection as one async slice from its first to its last captured byte, in
  // its own category, so a request and its streamed response read as one span.
  for (const auto& c : reader.tlsConnections()) {
    std::string name = "tls " + std::to_string(c.conn) + (c.peer.empty() ? "" : " " + c.peer);
    for (char ph : {'b', 'e'}) {
      out.next();
      b += "{\"name\":";
      appendJsonString(b, name);
      b += ",\"cat\":\"tls\",\"ph\":\"";
      b += ph;
      b += "\",\"id\":\"conn-" + std::to_string(c.conn) + "\",\"pid\":" + std::to_string(c.pid) +
           ",\"tid\":" + std::to_string(c.pid) + ",\"ts\":";
      appendTs(b, ph == 'b' ? c.firstNs : std::max(c.firstNs, c.lastNs));
      if (ph == 'b') {
        b += ",\"args\":{\"conn\":" + std::to_string(c.conn) + ",\"peer\":";
        appendJsonString(b, c.peer);
        b += ",\"lib\":";
        appendJsonString(b, c.lib);
        b += ",\"bytes_out\":" + std::to_string(c.bytesOut) +
             ",\"bytes_in\":" + std::to_string(c.bytesIn) + "}";
      }
      b += "}";
    }
    ++stats.tlsSlices;
  }
  // What the agent said to the model: a slice per LLM call and per other HTTP
  // exchange, reassembled from the TLS streams (cached in the index).
  auto traffic = traffic::loadTraffic(reader);
  if (traffic.ok()) {
    traffic::RenderOptions render;
    render.originNs = reader.header().startMonoNs;
    std::string slices = traffic::chromeTraceEvents(traffic->exchanges, traffic->calls,
                                                    /*withHttp=*/true, render);
    if (!slices.empty()) {
      out.next();
      b += slices;
      stats.llmSlices = traffic->calls.size();
    }
  }
  b += "\n]}\n";
  out.flush();
  if (out.failed()) return Status::error(std::string("write failed: ") + std::strerror(errno));
  return stats;
}

}  // namespace aa
