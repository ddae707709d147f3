#include "store/traffic/traffic_json.h"

#include <algorithm>
#include <cstdio>

#include "store/render/units.h"
#include "store/traffic/json.h"

namespace aa::traffic {

namespace {

uint64_t rel(uint64_t t, const RenderOptions& o) { return t > o.originNs ? t - o.originNs : 0; }

void key(std::string& out, const char* k) {
  if (out.back() != '{') out += ',';
  appendJsonString(out, k);
  out += ':';
}

void fStr(std::string& out, const char* k, std::string_view v) {
  key(out, k);
  appendJsonString(out, v);
}

void fU(std::string& out, const char* k, uint64_t v) {
  key(out, k);
  out += std::to_string(v);
}

void fI(std::string& out, const char* k, int64_t v) {
  key(out, k);
  out += std::to_string(v);
}

void fB(std::string& out, const char* k, bool v) {
  key(out, k);
  out += v ? "true" : "false";
}

void fOpt(std::string& out, const char* k, const std::optional<int64_t>& v) {
  key(out, k);
  out += v ? std::to_string(*v) : "null";
}

// Raw JSON text produced by our own dumper (always valid), or null when empty.
void fRaw(std::string& out, const char* k, const std::string& json) {
  key(out, k);
  out += json.empty() ? "null" : json;
}

void message(std::string& out, const HttpMessage& m, const RenderOptions& o) {
  out += '{';
  if (m.isRequest) {
    fStr(out, "method", m.method);
    fStr(out, "target", m.target);
  } else {
    fI(out, "status", m.status);
    fStr(out, "reason", m.reason);
  }
  fStr(out, "version", m.version);
  key(out, "headers");
  out += '[';
  for (size_t i = 0; i < m.headers.size(); ++i) {
    if (i) out += ',';
    out += '[';
    appendJsonString(out, m.headers[i].name);
    out += ',';
    appendJsonString(out, m.headers[i].value);
    out += ']';
  }
  out += ']';
  bool cut = m.body.size() > o.maxBodyBytes;
  std::string_view body = std::string_view(m.body).substr(0, o.maxBodyBytes);
  fStr(out, "body", body);
  const bool utf8 = isValidUtf8(body);
  fB(out, "body_utf8", utf8);
  // As in the JSON Lines of events: invalid bytes read as U+FFFD in `body`, the exact
  // bytes (as far as `body` goes) are in body_b64.
  if (!utf8) fStr(out, "body_b64", base64Encode(body));
  fU(out, "body_size", m.body.size());
  if (cut) fB(out, "body_cut", true);
  fU(out, "wire_body_bytes", m.wireBodyBytes);
  fB(out, "chunked", m.chunked);
  fStr(out, "content_encoding", m.contentEncoding);
  fB(out, "decoded", m.decoded);
  fU(out, "t_start_ns", rel(m.tStartNs, o));
  fU(out, "t_end_ns", rel(m.tEndNs, o));
  fU(out, "stream_offset", m.startOffset);
  fU(out, "stream_end", m.endOffset);
  fB(out, "complete", m.complete);
  fStr(out, "problem", m.problem);
  out += '}';
}

std::string humanTime(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+%.6fs", ns / 1e9);
  return buf;
}

std::string ms(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", ns / 1e6);
  return buf;
}

// Printable one-line excerpt: control bytes shown as spaces, cut at `max` bytes on a
// UTF-8 boundary.
std::string excerpt(std::string_view s, size_t max) {
  size_t n = std::min(s.size(), max);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += c < 0x20 ? ' ' : static_cast<char>(c);
  }
  if (n < s.size()) out += "...";
  return out;
}

}  // namespace

std::string exchangeJson(const HttpExchange& x, size_t index, const RenderOptions& o) {
  std::string out = "{";
  fU(out, "index", index);
  fU(out, "conn", x.conn);
  fStr(out, "protocol", x.protocol);
  if (x.streamId) fU(out, "stream_id", x.streamId);
  fU(out, "pid", x.pid);
  fStr(out, "comm", x.comm);
  fI(out, "fd", x.fd);
  fB(out, "server_side", x.serverSide);
  fStr(out, "method", x.method());
  fStr(out, "host", x.host());
  fStr(out, "path", x.path());
  fI(out, "status", x.status());
  fU(out, "t_start_ns", rel(x.tStartNs(), o));
  fU(out, "t_end_ns", rel(x.tEndNs(), o));
  fU(out, "request_bytes", x.request ? x.request->wireBodyBytes : 0);
  fU(out, "response_bytes", x.response ? x.response->wireBodyBytes : 0);
  fB(out, "complete", x.complete());
  key(out, "request");
  if (x.request) message(out, *x.request, o);
  else out += "null";
  key(out, "response");
  if (x.response) message(out, *x.response, o);
  else out += "null";
  if (!x.websocket.empty()) {
    key(out, "websocket");
    out += '[';
    for (size_t i = 0; i < x.websocket.size(); ++i) {
      const WsMessage& m = x.websocket[i];
      if (i) out += ',';
      out += '{';
      fStr(out, "from", m.fromClient ? "client" : "server");
      fStr(out, "type", m.opcodeName());
      bool cut = m.data.size() > o.maxBodyBytes;
      std::string_view data = std::string_view(m.data).substr(0, o.maxBodyBytes);
      fStr(out, "data", data);
      fB(out, "data_utf8", isValidUtf8(data));
      fU(out, "data_size", m.data.size());
      if (cut) fB(out, "data_cut", true);
      fU(out, "wire_bytes", m.wireBytes);
      fB(out, "compressed", m.compressed);
      fU(out, "frames", m.frames);
      fU(out, "t_start_ns", rel(m.tStartNs, o));
      fU(out, "t_end_ns", rel(m.tEndNs, o));
      fU(out, "stream_offset", m.startOffset);
      fB(out, "complete", m.complete);
      fStr(out, "problem", m.problem);
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string exchangeLine(const HttpExchange& x, size_t index, const RenderOptions& o) {
  std::string out = humanTime(rel(x.tStartNs(), o)) + " #" + std::to_string(index) + " conn " +
                    std::to_string(x.conn);
  if (x.streamId) out += "/" + std::to_string(x.streamId);
  out += " pid " + std::to_string(x.pid) + " " + excerpt(x.comm, 16) + " " + x.protocol + " ";
  out += x.request ? excerpt(x.method(), 16) + " " + excerpt(x.host(), 80) + excerpt(x.path(), 200)
                   : std::string("(no request)");
  out += " -> ";
  out += x.response ? std::to_string(x.status()) : std::string("(no response)");
  out += " (" + formatBytes(x.request ? x.request->wireBodyBytes : 0) + " / " +
         formatBytes(x.response ? x.response->wireBodyBytes : 0) + ", " +
         ms(x.tEndNs() - x.tStartNs()) + ")";
  if (!x.websocket.empty()) {
    size_t client = 0;
    for (const auto& m : x.websocket) client += m.fromClient;
    out += " websocket " + std::to_string(client) + "/" + std::to_string(x.websocket.size() - client) +
           " messages";
    for (const auto& m : x.websocket) {
      if (!m.complete) {
        out += " (cut: " + excerpt(m.problem, 120) + ")";
        break;
      }
    }
  }
  if (!x.complete()) {
    std::string why = x.request && !x.request->complete ? x.request->problem
                      : x.response && !x.response->complete ? x.response->problem
                                                            : std::string();
    out += " INCOMPLETE";
    if (!why.empty()) out += ": " + excerpt(why, 200);
  }
  return out;
}

std::string callJson(const LlmCall& c, size_t index, const RenderOptions& o) {
  std::string out = "{";
  fU(out, "index", index);
  fU(out, "exchange", c.exchange);
  fStr(out, "provider", c.provider);
  fStr(out, "api", c.api);
  fStr(out, "model", c.model);
  fStr(out, "response_model", c.responseModel);
  fStr(out, "host", c.host);
  fStr(out, "path", c.path);
  fStr(out, "transport", c.transport);
  fB(out, "stream", c.stream);
  fRaw(out, "request", c.requestMessages);
  fRaw(out, "system", c.system);
  fRaw(out, "tools", c.tools);
  fOpt(out, "max_tokens", c.maxTokens);
  fStr(out, "response_id", c.responseId);
  fStr(out, "response_text", c.responseText);
  if (!c.thinking.empty()) fStr(out, "thinking", c.thinking);
  key(out, "tool_calls");
  out += '[';
  for (size_t i = 0; i < c.toolCalls.size(); ++i) {
    const auto& t = c.toolCalls[i];
    if (i) out += ',';
    out += '{';
    fStr(out, "id", t.id);
    fStr(out, "name", t.name);
    fStr(out, "arguments", t.arguments);
    // The arguments as JSON when they parse (a cut stream leaves them partial).
    auto parsed = parseJson(t.arguments);
    key(out, "input");
    out += parsed.ok() ? parsed->dump() : "null";
    out += '}';
  }
  out += ']';
  fStr(out, "stop_reason", c.stopReason);
  key(out, "usage");
  out += '{';
  fOpt(out, "input_tokens", c.usage.inputTokens);
  fOpt(out, "output_tokens", c.usage.outputTokens);
  fOpt(out, "total_tokens", c.usage.totalTokens);
  fOpt(out, "cache_read_tokens", c.usage.cacheReadTokens);
  fOpt(out, "cache_creation_tokens", c.usage.cacheCreationTokens);
  out += '}';
  fI(out, "status", c.status);
  fStr(out, "error", c.error);
  fB(out, "incomplete", c.incomplete);
  fStr(out, "problem", c.problem);
  fU(out, "t_start_ns", rel(c.tStartNs, o));
  key(out, "t_first_token_ns");
  out += c.tFirstTokenNs ? std::to_string(rel(c.tFirstTokenNs, o)) : "null";
  fU(out, "t_end_ns", rel(c.tEndNs, o));
  fU(out, "latency_ns", c.latencyNs());
  key(out, "ttft_ns");
  out += c.tFirstTokenNs ? std::to_string(c.timeToFirstTokenNs()) : "null";
  fU(out, "pid", c.pid);
  fStr(out, "comm", c.comm);
  fU(out, "conn", c.conn);
  fU(out, "request_bytes", c.requestBytes);
  fU(out, "response_bytes", c.responseBytes);
  out += '}';
  return out;
}

std::string callLine(const LlmCall& c, size_t index, const RenderOptions& o) {
  std::string out = humanTime(rel(c.tStartNs, o)) + " #" + std::to_string(index) + " pid " +
                    std::to_string(c.pid) + " " + excerpt(c.comm, 16) + " " + c.provider + " " +
                    excerpt(c.model, 80) + (c.transport == "websocket" ? " websocket" : "") +
                    (c.stream ? " stream" : "") + " -> " +
                    (c.status ? std::to_string(c.status) : std::string("(no response)"));
  out += " " + ms(c.latencyNs());
  if (c.tFirstTokenNs) out += " ttft " + ms(c.timeToFirstTokenNs());
  if (c.usage.inputTokens || c.usage.outputTokens) {
    out += " tokens " + (c.usage.inputTokens ? std::to_string(*c.usage.inputTokens) : "?") + "/" +
           (c.usage.outputTokens ? std::to_string(*c.usage.outputTokens) : "?");
  }
  if (!c.stopReason.empty()) out += " stop " + excerpt(c.stopReason, 40);
  if (!c.responseText.empty()) out += " \"" + excerpt(c.responseText, 80) + "\"";
  for (const auto& t : c.toolCalls) out += " tool " + excerpt(t.name, 60) + excerpt(t.arguments, 80);
  if (!c.error.empty()) out += " error: " + excerpt(c.error, 120);
  if (c.incomplete) out += " INCOMPLETE: " + excerpt(c.problem, 160);
  return out;
}

namespace {

void fUs(std::string& out, const char* k, uint64_t ns) {
  key(out, k);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  out += buf;
}

void slice(std::string& out, const char* cat, const std::string& name, uint32_t pid,
           uint64_t t0, uint64_t t1, const RenderOptions& o) {
  if (!out.empty()) out += ',';
  out += '{';
  fStr(out, "ph", "X");
  fStr(out, "cat", cat);
  fStr(out, "name", name);
  fU(out, "pid", pid);
  fU(out, "tid", pid);
  fUs(out, "ts", rel(t0, o));
  fUs(out, "dur", t1 > t0 ? t1 - t0 : 0);
}

}  // namespace

std::string chromeTraceEvents(const std::vector<HttpExchange>& exchanges,
                              const std::vector<LlmCall>& calls, bool withHttp,
                              const RenderOptions& o) {
  std::string out;
  std::vector<bool> isCall(exchanges.size(), false);
  for (const auto& c : calls) {
    if (c.exchange < isCall.size()) isCall[c.exchange] = true;
    slice(out, "llm", c.provider + " " + excerpt(c.model, 80), c.pid, c.tStartNs, c.tEndNs, o);
    key(out, "args");
    out += '{';
    fStr(out, "api", c.api);
    fStr(out, "transport", c.transport);
    fI(out, "status", c.status);
    fB(out, "stream", c.stream);
    fOpt(out, "input_tokens", c.usage.inputTokens);
    fOpt(out, "output_tokens", c.usage.outputTokens);
    if (c.tFirstTokenNs) {
      key(out, "ttft_ms");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", c.timeToFirstTokenNs() / 1e6);
      out += buf;
    }
    fStr(out, "stop_reason", c.stopReason);
    fStr(out, "response", excerpt(c.responseText, 200));
    std::string tools;
    for (const auto& t : c.toolCalls) tools += (tools.empty() ? "" : ", ") + t.name + excerpt(t.arguments, 100);
    fStr(out, "tool_calls", tools);
    if (!c.error.empty()) fStr(out, "error", excerpt(c.error, 200));
    fB(out, "incomplete", c.incomplete);
    if (c.incomplete) fStr(out, "problem", excerpt(c.problem, 200));
    out += "}}";
  }
  if (withHttp) {
    for (size_t i = 0; i < exchanges.size(); ++i) {
      if (isCall[i]) continue;
      const HttpExchange& x = exchanges[i];
      std::string name = x.request ? excerpt(x.method() + " " + x.host() + x.path(), 160)
                                   : std::string("(response without request)");
      slice(out, "http", name, x.pid, x.tStartNs(), x.tEndNs(), o);
      key(out, "args");
      out += '{';
      fU(out, "conn", x.conn);
      fStr(out, "protocol", x.protocol);
      fI(out, "status", x.status());
      fU(out, "request_bytes", x.request ? x.request->wireBodyBytes : 0);
      fU(out, "response_bytes", x.response ? x.response->wireBodyBytes : 0);
      fB(out, "complete", x.complete());
      out += "}}";
    }
  }
  return out;
}

}  // namespace aa::traffic
