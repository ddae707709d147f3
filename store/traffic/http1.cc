// HTTP/1.x message parsing over an assembled byte stream (RFC 9112).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "store/traffic/body_decoder.h"
#include "store/traffic/http.h"

namespace aa::traffic {

namespace {

constexpr size_t kMaxHeaderBytes = 1 << 20;   // a header section larger than this is not HTTP
constexpr size_t kMaxStartLine = 64 << 10;

bool isTchar(unsigned char c) {
  return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool isVersion(std::string_view v) {
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(v[5])) &&
         v[6] == '.' && std::isdigit(static_cast<unsigned char>(v[7]));
}

// Parses a start line (without its line ending) into msg. False when it is not one.
bool parseStartLine(std::string_view line, HttpMessage& msg) {
  if (line.substr(0, 5) == "HTTP/") {
    if (line.size() < 12 || !isVersion(line.substr(0, 8)) || line[8] != ' ') return false;
    for (int i = 9; i < 12; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(line[i]))) return false;
    }
    if (line.size() > 12 && line[12] != ' ') return false;
    msg.isRequest = false;
    msg.version = std::string(line.substr(0, 8));
    msg.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    msg.reason = line.size() > 13 ? std::string(line.substr(13)) : std::string();
    return true;
  }
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos || sp1 > 32) return false;
  for (size_t i = 0; i < sp1; ++i) {
    if (!isTchar(static_cast<unsigned char>(line[i]))) return false;
  }
  size_t sp2 = line.rfind(' ');
  if (sp2 == sp1 || !isVersion(line.substr(sp2 + 1))) return false;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.find(' ') != std::string_view::npos) return false;
  msg.isRequest = true;
  msg.method = std::string(line.substr(0, sp1));
  msg.target = std::string(target);
  msg.version = std::string(line.substr(sp2 + 1));
  return true;
}

// Where a line that starts at `pos` ends: index of its '\n', or npos.
size_t lineEnd(std::string_view d, size_t pos, size_t limit) {
  size_t stop = std::min(d.size(), pos + limit);
  const void* p = std::memchr(d.data() + pos, '\n', stop - pos);
  return p ? static_cast<const char*>(p) - d.data() : std::string_view::npos;
}

std::string_view stripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

enum class Outcome {
  kDone,       // a whole message was parsed
  kCut,        // the segment ended inside the message
  kBroken,     // framing error inside an otherwise valid message; resync after it
  kNotHttp,    // no message starts here
};

struct ParseState {
  const ByteStream& stream;
  const Segment& seg;
  const std::vector<std::string>& requestMethods;
  size_t responsesSeen;   // final responses parsed so far on this stream
};

enum class Headers { kDone, kCut, kNotHttp };

// The header lines from d[p] up to the empty line; `p` ends after it. Obsolete line
// folding joins a line to the previous value.
Headers parseHeaderSection(std::string_view d, size_t pos, size_t& p, HttpMessage& msg) {
  while (true) {
    if (p - pos > kMaxHeaderBytes) return Headers::kNotHttp;
    size_t e = lineEnd(d, p, kMaxHeaderBytes);
    if (e == std::string_view::npos) return Headers::kCut;
    std::string_view line = stripCr(d.substr(p, e - p));
    p = e + 1;
    if (line.empty()) return Headers::kDone;
    if ((line[0] == ' ' || line[0] == '\t') && !msg.headers.empty()) {
      msg.headers.back().value += ' ';
      msg.headers.back().value += std::string(trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Headers::kNotHttp;
    for (size_t i = 0; i < colon; ++i) {
      if (!isTchar(static_cast<unsigned char>(line[i]))) return Headers::kNotHttp;
    }
    msg.headers.push_back({std::string(line.substr(0, colon)),
                           std::string(trim(line.substr(colon + 1)))});
  }
}

// A response that has no body whatever its headers say (RFC 9112 section 6.3): 1xx,
// 204, 304, the answer to a HEAD, a 2xx to a CONNECT.
bool responseHasNoBody(const ParseState& st, const HttpMessage& msg) {
  if (msg.isRequest) return false;
  if ((msg.status >= 100 && msg.status < 200) || msg.status == 204 || msg.status == 304) return true;
  if (st.responsesSeen >= st.requestMethods.size()) return false;
  const std::string& method = st.requestMethods[st.responsesSeen];
  return method == "HEAD" || (method == "CONNECT" && msg.status / 100 == 2);
}

// A chunk-size line's number (extensions after ';' ignored), or nullopt.
std::optional<uint64_t> chunkSize(std::string_view line) {
  line = trim(stripCr(line));
  size_t semi = line.find(';');
  if (semi != std::string_view::npos) line = trim(line.substr(0, semi));
  if (line.empty() || line.size() > 15) return std::nullopt;
  uint64_t n = 0;
  for (char c : line) {
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
            : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                        : -1;
    if (v < 0) return std::nullopt;
    n = n * 16 + v;
  }
  return n;
}

// A Content-Length value, or nullopt when it is not a decimal number.
std::optional<uint64_t> contentLength(const std::string& v) {
  if (v.empty() || v.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Trailer lines after the last chunk, up to the empty line (added to the headers).
// False when the segment ends first.
bool parseTrailers(std::string_view d, size_t& p, HttpMessage& msg) {
  while (true) {
    size_t e = lineEnd(d, p, kMaxHeaderBytes);
    if (e == std::string_view::npos) return false;
    std::string_view tl = stripCr(d.substr(p, e - p));
    p = e + 1;
    if (tl.empty()) return true;
    size_t colon = tl.find(':');
    if (colon != std::string_view::npos) {
      msg.headers.push_back({std::string(tl.substr(0, colon)),
                             std::string(trim(tl.substr(colon + 1)))});
    }
  }
}

// Parses one message at seg.data[pos]. `next` is set to the segment index after it
// (kDone/kBroken), or, for kCut, to where the message would end when known (else 0).
Outcome parseMessage(ParseState& st, size_t pos, HttpMessage& msg, size_t& next,
                     uint64_t& knownEndOffset) {
  std::string_view d = st.seg.data;
  const ByteStream& s = st.stream;
  knownEndOffset = 0;
  size_t le = lineEnd(d, pos, kMaxStartLine);
  // A start line that is not all here says too little (not even request or response)
  // to make a message of: its bytes count as unparsed.
  if (le == std::string_view::npos) return Outcome::kNotHttp;
  if (!parseStartLine(stripCr(d.substr(pos, le - pos)), msg)) return Outcome::kNotHttp;
  uint64_t base = st.seg.offset;
  msg.startOffset = base + pos;
  const TimeMark* m0 = s.markAt(msg.startOffset);
  if (m0) {
    msg.tStartNs = m0->tNs;
    msg.pid = m0->pid;
    msg.comm = m0->comm;
  }
  auto cutAt = [&](size_t at) {
    msg.endOffset = base + at;
    msg.tEndNs = s.timeAt(base + (at > 0 ? at - 1 : 0));
    return Outcome::kCut;
  };

  size_t p = le + 1;
  switch (parseHeaderSection(d, pos, p, msg)) {
    case Headers::kDone: break;
    case Headers::kCut: return cutAt(d.size());
    case Headers::kNotHttp: return Outcome::kNotHttp;
  }
  msg.tHeadersNs = s.timeAt(base + p - 1);

  // Body framing (RFC 9112 section 6.3).
  const bool noBody = responseHasNoBody(st, msg);
  const std::string* te = msg.header("transfer-encoding");
  const std::string* cl = msg.header("content-length");
  BodyDecoder body(msg, msg.headerOr("content-encoding"));
  auto done = [&](size_t at, bool whole) {
    body.finish(whole);
    msg.endOffset = base + at;
    msg.tEndNs = s.timeAt(base + (at > 0 ? at - 1 : 0));
    next = at;
    return Outcome::kDone;
  };
  if (noBody) {
    msg.complete = true;
    return done(p, true);
  }
  if (te) {
    std::string t = *te;
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.size() >= 7 && t.compare(t.size() - 7, 7, "chunked") == 0) {
      msg.chunked = true;
      while (true) {
        size_t e = lineEnd(d, p, 4096);
        if (e == std::string_view::npos) {
          if (d.size() - p >= 4096) break;   // not a chunk-size line
          body.finish(false);
          return cutAt(d.size());
        }
        const std::optional<uint64_t> size = chunkSize(d.substr(p, e - p));
        if (!size) {
          msg.problem = "bad chunk size at offset " + std::to_string(base + p);
          body.finish(false);
          msg.endOffset = base + p;
          msg.tEndNs = s.timeAt(base + p);
          next = p;
          return Outcome::kBroken;
        }
        const uint64_t n = *size;
        p = e + 1;
        if (n == 0) {
          if (!parseTrailers(d, p, msg)) {
            body.finish(true);
            return cutAt(d.size());
          }
          msg.complete = true;
          return done(p, true);
        }
        size_t avail = d.size() - p;
        if (avail < n) {
          body.feed(s, base + p, d.substr(p, avail));
          body.finish(false);
          return cutAt(d.size());
        }
        body.feed(s, base + p, d.substr(p, n));
        p += n;
        // CRLF after the chunk data.
        if (p < d.size() && d[p] == '\r') ++p;
        if (p >= d.size()) {
          body.finish(false);
          return cutAt(d.size());
        }
        if (d[p] != '\n') {
          msg.problem = "chunk not followed by CRLF at offset " + std::to_string(base + p);
          body.finish(false);
          msg.endOffset = base + p;
          msg.tEndNs = s.timeAt(base + p);
          next = p;
          return Outcome::kBroken;
        }
        ++p;
      }
      msg.problem = "bad chunk size at offset " + std::to_string(base + p);
      body.finish(false);
      msg.endOffset = base + p;
      next = p;
      return Outcome::kBroken;
    }
  }
  if (cl) {
    const std::optional<uint64_t> length = contentLength(*cl);
    if (!length) {
      msg.problem = "bad Content-Length '" + *cl + "'";
      body.finish(false);
      msg.endOffset = base + p;
      msg.tEndNs = s.timeAt(base + p - 1);
      next = p;
      return Outcome::kBroken;
    }
    const uint64_t n = *length;
    size_t avail = d.size() - p;
    if (avail < n) {
      body.feed(s, base + p, d.substr(p, avail));
      body.finish(false);
      knownEndOffset = base + p + n;
      return cutAt(d.size());
    }
    body.feed(s, base + p, d.substr(p, n));
    msg.complete = true;
    return done(p + n, true);
  }
  if (msg.isRequest) {
    msg.complete = true;
    return done(p, true);
  }
  // A response delimited by the end of the connection: everything that follows.
  body.feed(s, base + p, d.substr(p));
  return cutAt(d.size());
}

// Index in seg.data of the next plausible message start at or after `from`, or npos.
size_t resync(std::string_view d, size_t from) {
  size_t p = from;
  while (p < d.size()) {
    if (p == 0 || d[p - 1] == '\n') {
      size_t e = lineEnd(d, p, 8192);
      std::string_view line = e == std::string_view::npos ? d.substr(p, 0) : stripCr(d.substr(p, e - p));
      HttpMessage probe;
      if (!line.empty() && parseStartLine(line, probe)) return p;
    }
    const void* nl = std::memchr(d.data() + p, '\n', d.size() - p);
    if (!nl) return std::string_view::npos;
    p = static_cast<const char*>(nl) - d.data() + 1;
  }
  return std::string_view::npos;
}

std::string cutReason(const ByteStream& s, size_t segIndex, uint64_t at) {
  if (segIndex + 1 < s.segments.size()) {
    const Segment& nx = s.segments[segIndex + 1];
    uint64_t end = s.segments[segIndex].end();
    return "gap of " + std::to_string(nx.offset - end) + " bytes at offset " + std::to_string(end);
  }
  if (!s.gaps.empty() && s.gaps.back().unknownSize) {
    return "capture truncated at offset " + std::to_string(at);
  }
  return "stream ends at offset " + std::to_string(at);
}

}  // namespace

const std::string* HttpMessage::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (ieq(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string HttpMessage::headerOr(std::string_view name, std::string_view fallback) const {
  const std::string* v = header(name);
  return v ? *v : std::string(fallback);
}

uint64_t HttpMessage::timeAtBody(uint64_t bodySize) const {
  auto it = std::lower_bound(bodyMarks.begin(), bodyMarks.end(), bodySize,
                             [](const BodyMark& m, uint64_t n) { return m.bodySize < n; });
  if (it != bodyMarks.end()) return it->tNs;
  return tEndNs;
}

std::string HttpMessage::contentType() const {
  std::string v = headerOr("content-type");
  size_t semi = v.find(';');
  if (semi != std::string::npos) v.resize(semi);
  std::string out(trim(v));
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string HttpExchange::host() const {
  if (!request) return {};
  if (const std::string* h = request->header(":authority")) return *h;
  return request->headerOr("host");
}

uint64_t HttpExchange::tStartNs() const {
  if (request) return request->tStartNs;
  return response ? response->tStartNs : 0;
}

uint64_t HttpExchange::tEndNs() const {
  if (!websocket.empty()) {
    uint64_t t = response ? std::max(response->tEndNs, response->tStartNs) : 0;
    for (const auto& m : websocket) t = std::max(t, m.tEndNs);
    return t;
  }
  if (response) return std::max(response->tEndNs, response->tStartNs);
  return request ? std::max(request->tEndNs, request->tStartNs) : 0;
}

bool HttpExchange::complete() const {
  return request && response && request->complete && response->complete;
}

bool looksLikeHttp1(std::string_view head) {
  if (head.empty()) return false;
  if (head.substr(0, 5) == std::string_view("HTTP/").substr(0, std::min<size_t>(5, head.size()))) {
    return true;
  }
  size_t i = 0;
  while (i < head.size() && i <= 32 && std::isupper(static_cast<unsigned char>(head[i]))) ++i;
  return i > 0 && (i == head.size() || head[i] == ' ');
}

bool looksLikeHttp2Preface(std::string_view head) {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  size_t n = std::min(head.size(), kPreface.size());
  return n >= 4 && head.substr(0, n) == kPreface.substr(0, n);
}

namespace {

bool containsWord(std::string v, std::string_view word) {
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v.find(word) != std::string::npos;
}

// A request asking to switch the connection to WebSocket (RFC 6455 section 4.1).
bool isWebSocketUpgrade(const HttpMessage& m) {
  const std::string* u = m.header("upgrade");
  return m.isRequest && u && containsWord(*u, "websocket");
}

std::vector<HttpMessage> parseStream(const ByteStream& stream,
                                     const std::vector<std::string>& requestMethods,
                                     HttpParseStats* stats, bool stopAtUpgrade);

}  // namespace

std::vector<HttpMessage> parseHttp1Stream(const ByteStream& stream,
                                          const std::vector<std::string>& requestMethods,
                                          HttpParseStats* stats) {
  return parseStream(stream, requestMethods, stats, false);
}

namespace {

// `stopAtUpgrade`: stop after a whole WebSocket upgrade request: the client sends
// frames, not HTTP, once the server agrees.
std::vector<HttpMessage> parseStream(const ByteStream& stream,
                                     const std::vector<std::string>& requestMethods,
                                     HttpParseStats* stats, bool stopAtUpgrade) {
  std::vector<HttpMessage> out;
  HttpParseStats local;
  HttpParseStats& st = stats ? *stats : local;
  size_t responsesSeen = 0;
  uint64_t resumeAt = 0;   // stream offset where the next message is known to start
  bool upgraded = false;
  for (size_t si = 0; si < stream.segments.size() && !upgraded; ++si) {
    const Segment& seg = stream.segments[si];
    std::string_view d = seg.data;
    size_t pos = 0;
    if (resumeAt > seg.offset && resumeAt <= seg.end()) {
      pos = resumeAt - seg.offset;
    } else if (resumeAt > seg.end()) {
      continue;   // the cut message's body spans this whole segment
    } else if (seg.offset != 0 || si > 0) {
      size_t r = resync(d, 0);
      st.unparsedBytes += (r == std::string_view::npos ? d.size() : r);
      if (r == std::string_view::npos) continue;
      pos = r;
    }
    resumeAt = 0;
    while (pos < d.size()) {
      HttpMessage msg;
      size_t next = 0;
      uint64_t knownEnd = 0;
      ParseState ps{stream, seg, requestMethods, responsesSeen};
      Outcome o = parseMessage(ps, pos, msg, next, knownEnd);
      if (o == Outcome::kNotHttp) {
        size_t r = resync(d, pos + 1);
        st.unparsedBytes += (r == std::string_view::npos ? d.size() : r) - pos;
        if (r == std::string_view::npos) break;
        pos = r;
        continue;
      }
      bool finalResponse = !msg.isRequest && (msg.status >= 200 || msg.status == 101 || msg.status < 100);
      if (finalResponse) ++responsesSeen;
      if (!msg.isRequest && msg.status == 101) upgraded = true;   // not HTTP/1 after this
      if (stopAtUpgrade && o == Outcome::kDone && isWebSocketUpgrade(msg)) upgraded = true;
      ++st.messages;
      if (o == Outcome::kCut) {
        msg.complete = false;
        std::string why = cutReason(stream, si, msg.endOffset);
        // A response running to the end of a cleanly ended capture is whole.
        bool closeDelimited = !msg.isRequest && !msg.chunked && !msg.header("content-length") &&
                              msg.tHeadersNs != 0 && si + 1 == stream.segments.size() &&
                              (stream.gaps.empty() || !stream.gaps.back().unknownSize);
        if (closeDelimited) {
          msg.complete = true;
        } else {
          msg.problem = msg.problem.empty() ? why : why + "; " + msg.problem;
          ++st.incompleteMessages;
        }
        resumeAt = knownEnd;
        out.push_back(std::move(msg));
        break;
      }
      if (o == Outcome::kBroken) ++st.incompleteMessages;
      out.push_back(std::move(msg));
      if (upgraded) break;
      if (o == Outcome::kBroken) {
        size_t r = resync(d, next);
        st.unparsedBytes += (r == std::string_view::npos ? d.size() : r) - next;
        if (r == std::string_view::npos) break;
        pos = r;
      } else {
        pos = next;
      }
    }
  }
  return out;
}

}  // namespace

std::vector<HttpExchange> parseHttp1Connection(const ByteStream* write, const ByteStream* read,
                                               HttpParseStats* stats) {
  HttpParseStats local;
  if (!stats) stats = &local;
  auto startsWithStatus = [](const ByteStream* s) {
    return s && !s->segments.empty() && s->segments.front().data.compare(0, 5, "HTTP/") == 0;
  };
  // Whoever sends status lines is the server; with only the read side captured, a
  // request arriving there means the traced process serves.
  bool serverSide = false;
  if (write && !write->segments.empty()) {
    serverSide = startsWithStatus(write);
  } else if (read && !read->segments.empty()) {
    serverSide = !startsWithStatus(read) &&
                 looksLikeHttp1(std::string_view(read->segments.front().data).substr(0, 16));
  }
  const ByteStream* reqStream = serverSide ? read : write;
  const ByteStream* respStream = serverSide ? write : read;

  std::vector<HttpMessage> reqs, resps;
  auto parseBoth = [&](bool stopAtUpgrade, HttpParseStats* st) {
    reqs.clear();
    resps.clear();
    if (reqStream) reqs = parseStream(*reqStream, {}, st, stopAtUpgrade);
    std::vector<std::string> methods;
    for (const auto& r : reqs) {
      if (r.isRequest) methods.push_back(r.method);
    }
    if (respStream) resps = parseStream(*respStream, methods, st, false);
  };
  // Requests end at a WebSocket upgrade, unless the server refused it (no 101): then
  // the client may go on with HTTP, and the requests are parsed again to the end.
  HttpParseStats first;
  parseBoth(true, &first);
  bool refused = !reqs.empty() && isWebSocketUpgrade(reqs.back()) &&
                 std::none_of(resps.begin(), resps.end(),
                              [](const HttpMessage& m) { return !m.isRequest && m.status == 101; });
  if (refused) {
    parseBoth(false, stats);
  } else {
    stats->unparsedBytes += first.unparsedBytes;
    stats->messages += first.messages;
    stats->incompleteMessages += first.incompleteMessages;
  }

  uint64_t conn = write ? write->conn : read->conn;
  int32_t fd = write && write->fd >= 0 ? write->fd : (read ? read->fd : -1);
  std::vector<HttpExchange> out;
  auto protoOf = [](const HttpMessage& m) {
    return m.version == "HTTP/1.0" ? std::string("http/1.0") : std::string("http/1.1");
  };
  std::vector<HttpMessage> finals;
  for (auto& r : resps) {
    if (r.isRequest) continue;   // a request on the response side: not ours to pair
    if (r.status >= 100 && r.status < 200 && r.status != 101) continue;   // interim
    finals.push_back(std::move(r));
  }
  std::vector<HttpMessage*> requests;
  for (auto& q : reqs) {
    if (q.isRequest) requests.push_back(&q);
  }
  auto emit = [&](HttpMessage* q, HttpMessage* r) {
    HttpExchange x;
    x.conn = conn;
    x.fd = fd;
    x.serverSide = serverSide;
    const HttpMessage& owner = (serverSide && r) || !q ? *r : *q;
    x.protocol = protoOf(q ? *q : *r);
    x.pid = owner.pid;
    x.comm = owner.comm;
    if (q) x.request = std::move(*q);
    if (r) x.response = std::move(*r);
    out.push_back(std::move(x));
  };
  // After a 101 to a WebSocket upgrade, both directions carry frames.
  auto upgradeWs = [&](HttpExchange& x) {
    if (!x.request || !x.response || x.response->status != 101 || !isWebSocketUpgrade(*x.request) ||
        !x.request->complete || !x.response->complete) {
      return;
    }
    std::string ext = x.response->headerOr("sec-websocket-extensions");
    std::vector<WsMessage> msgs;
    if (reqStream) msgs = parseWebSocketStream(*reqStream, x.request->endOffset, true, ext, stats);
    if (respStream) {
      for (auto& m : parseWebSocketStream(*respStream, x.response->endOffset, false, ext, stats)) {
        msgs.push_back(std::move(m));
      }
    }
    std::stable_sort(msgs.begin(), msgs.end(), [](const WsMessage& a, const WsMessage& b) {
      return a.tEndNs != b.tEndNs ? a.tEndNs < b.tEndNs : a.tStartNs < b.tStartNs;
    });
    x.websocket = std::move(msgs);
  };
  // In order, except that a response captured before the next request began cannot
  // answer it: its own request was lost in a gap, so it stands alone.
  size_t qi = 0, fi = 0;
  while (qi < requests.size() || fi < finals.size()) {
    if (qi < requests.size() && fi < finals.size()) {
      if (finals[fi].tStartNs < requests[qi]->tStartNs) {
        emit(nullptr, &finals[fi++]);
      } else {
        emit(requests[qi++], &finals[fi++]);
      }
    } else if (qi < requests.size()) {
      emit(requests[qi++], nullptr);
    } else {
      emit(nullptr, &finals[fi++]);
    }
  }
  for (auto& x : out) upgradeWs(x);
  return out;
}

std::vector<HttpExchange> parseExchanges(const std::vector<ByteStream>& streams,
                                         HttpParseStats* stats) {
  std::vector<HttpExchange> out;
  for (size_t i = 0; i < streams.size();) {
    const ByteStream* write = nullptr;
    const ByteStream* read = nullptr;
    uint64_t conn = streams[i].conn;
    for (; i < streams.size() && streams[i].conn == conn; ++i) {
      (streams[i].dir == Direction::kWrite ? write : read) = &streams[i];
    }
    auto head = [](const ByteStream* s) {
      return s && !s->segments.empty() && s->segments.front().offset == 0
                 ? std::string_view(s->segments.front().data).substr(0, 64)
                 : std::string_view();
    };
    std::vector<HttpExchange> xs;
    if (looksLikeHttp2Preface(head(write)) || looksLikeHttp2Preface(head(read))) {
      xs = parseHttp2Connection(write, read, stats);
    } else {
      xs = parseHttp1Connection(write, read, stats);
    }
    for (auto& x : xs) out.push_back(std::move(x));
  }
  std::stable_sort(out.begin(), out.end(), [](const HttpExchange& a, const HttpExchange& b) {
    return a.tStartNs() < b.tStartNs();
  });
  return out;
}

}  // namespace aa::traffic
