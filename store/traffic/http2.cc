// HTTP/2 (RFC 9113) over an assembled connection: frames, HPACK header blocks decoded
// with libnghttp2's inflater (when built with it), streams paired by id.
//
// Each direction has its own HPACK state, so the two directions are parsed one after
// the other. A gap in a direction ends its parse: HPACK state and frame alignment are
// lost there, so every stream still open in that direction is marked incomplete.
#include <map>
#include <memory>

#include "store/traffic/body_decoder.h"
#include "store/traffic/http.h"

#ifdef AA_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif

namespace aa::traffic {

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum FrameType : uint8_t {
  kData = 0, kHeaders = 1, kPriority = 2, kRstStream = 3, kSettings = 4,
  kPushPromise = 5, kPing = 6, kGoaway = 7, kWindowUpdate = 8, kContinuation = 9,
};
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4, kPadded = 0x8, kPriorityFlag = 0x20;

struct H2Message {
  HttpMessage msg;
  std::unique_ptr<BodyDecoder> body;
  bool headersDone = false;   // the final (non-1xx) header block was seen
  bool ended = false;
};

class HpackInflater {
 public:
  HpackInflater() {
#ifdef AA_HAVE_NGHTTP2
    if (nghttp2_hd_inflate_new(&inf_) != 0) inf_ = nullptr;
    // The encoder may use any table size the receiver allowed in SETTINGS; allowing a
    // large one here accepts whatever it announces in the block.
    if (inf_) nghttp2_hd_inflate_change_table_size(inf_, 1 << 20);
#endif
  }
  ~HpackInflater() {
#ifdef AA_HAVE_NGHTTP2
    if (inf_) nghttp2_hd_inflate_del(inf_);
#endif
  }
  HpackInflater(const HpackInflater&) = delete;
  HpackInflater& operator=(const HpackInflater&) = delete;

  // Decodes one whole header block into `out`; fails when it cannot, saying why.
  Status inflate(std::string_view block, std::vector<HttpHeader>& out) {
#ifdef AA_HAVE_NGHTTP2
    if (!inf_) return Status::error("HPACK inflater unavailable");
    auto* in = reinterpret_cast<const uint8_t*>(block.data());
    size_t left = block.size();
    while (true) {
      nghttp2_nv nv;
      int flags = 0;
      ssize_t rv = nghttp2_hd_inflate_hd2(inf_, &nv, &flags, in, left, 1);
      if (rv < 0) return Status::error(std::string("HPACK: ") + nghttp2_strerror(static_cast<int>(rv)));
      in += rv;
      left -= static_cast<size_t>(rv);
      if (flags & NGHTTP2_HD_INFLATE_EMIT) {
        out.push_back({std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                       std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen)});
      }
      if (flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inf_);
        return Status();
      }
      if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) return Status();
    }
#else
    return Status::error("HTTP/2 headers not decoded: built without libnghttp2");
#endif
  }

 private:
#ifdef AA_HAVE_NGHTTP2
  nghttp2_hd_inflater* inf_ = nullptr;
#endif
};

void appendProblem(HttpMessage& m, const std::string& p) {
  if (m.problem.find(p) != std::string::npos) return;
  m.problem = m.problem.empty() ? p : m.problem + "; " + p;
}

// Parses one direction's frames into `msgs` (by stream id). `requests`: this direction
// carries the requests (client to server).
class DirectionParser {
 public:
  DirectionParser(const ByteStream& s, bool requests, std::map<uint32_t, H2Message>& msgs,
                  HttpParseStats& st)
      : s_(s), requests_(requests), msgs_(msgs), st_(st) {}

  void run() {
    for (size_t si = 0; si < s_.segments.size(); ++si) {
      if (!parseSegment(si)) break;
    }
    endOpenMessages();
  }

 private:
  void endMessage(H2Message& m, uint64_t endOffset, bool whole) {
    if (m.ended) return;
    m.ended = true;
    if (m.body) m.body->finish(whole);
    m.msg.endOffset = endOffset;
    m.msg.tEndNs = s_.timeAt(endOffset > 0 ? endOffset - 1 : 0);
    m.msg.complete = whole && m.headersDone;
  }

  // The first (non-interim) header block of a stream starts its message.
  void startMessage(H2Message& m, std::vector<HttpHeader> hs, uint64_t start, uint64_t end) {
    HttpMessage& msg = m.msg;
    msg.isRequest = requests_;
    msg.version = "HTTP/2";
    msg.startOffset = start;
    if (const TimeMark* tm = s_.markAt(start)) {
      msg.tStartNs = tm->tNs;
      msg.pid = tm->pid;
      msg.comm = tm->comm;
    }
    msg.tHeadersNs = s_.timeAt(end - 1);
    msg.headers = std::move(hs);
    for (const auto& h : msg.headers) {
      if (h.name == ":method") msg.method = h.value;
      else if (h.name == ":path") msg.target = h.value;
      else if (h.name == ":status") msg.status = std::atoi(h.value.c_str());
    }
    m.headersDone = true;
    ++st_.messages;
    m.body = std::make_unique<BodyDecoder>(msg, msg.headerOr("content-encoding"));
  }

  void onHeaderBlock(uint32_t id, uint8_t flags, uint64_t start, uint64_t end) {
    H2Message& m = msgs_[id];
    std::vector<HttpHeader> hs;
    if (!hpackBroken_) {
      if (Status st = hpack_.inflate(block_, hs); !st.ok()) {
        stopReason_ = st.message();
        hpackBroken_ = true;
      }
    }
    if (hpackBroken_) {
      // Later blocks depend on this one's table updates: headers of this direction
      // cannot be trusted from here on.
      appendProblem(m.msg, stopReason_.empty() ? "HPACK state lost" : stopReason_);
    }
    if (m.headersDone) {
      for (auto& h : hs) m.msg.headers.push_back(std::move(h));   // trailers
    } else {
      bool interim = false;
      for (const auto& h : hs) {
        if (h.name == ":status" && h.value.size() == 3 && h.value[0] == '1') interim = true;
      }
      if (!interim) startMessage(m, std::move(hs), start, end);
    }
    if (flags & kEndStream) endMessage(m, end, true);
  }

  void onData(uint32_t id, uint8_t flags, std::string_view payload, uint64_t frameStart,
              uint64_t frameEnd) {
    H2Message& m = msgs_[id];
    if (!m.body) {
      // DATA before HEADERS: the headers were lost; keep the bytes, marked.
      m.msg.isRequest = requests_;
      m.msg.version = "HTTP/2";
      m.msg.startOffset = frameStart;
      m.msg.tStartNs = s_.timeAt(frameStart);
      appendProblem(m.msg, "DATA without HEADERS");
      m.body = std::make_unique<BodyDecoder>(m.msg, "");
    }
    if (!m.ended) m.body->feedAt(s_.timeAt(frameEnd - 1), payload);
    if (flags & kEndStream) endMessage(m, frameEnd, true);
  }

  void onFrame(uint8_t type, uint8_t flags, uint32_t id, std::string_view payload,
               uint64_t frameStart, uint64_t frameEnd) {
    switch (type) {
      case kHeaders: {
        if (flags & kPriorityFlag) payload = payload.size() >= 5 ? payload.substr(5) : std::string_view();
        block_.assign(payload);
        blockStream_ = id;
        blockFlags_ = flags;
        blockStart_ = frameStart;
        if (flags & kEndHeaders) onHeaderBlock(id, flags, frameStart, frameEnd);
        break;
      }
      case kContinuation:
        if (id == blockStream_) {
          block_.append(payload);
          if (flags & kEndHeaders) onHeaderBlock(id, blockFlags_, blockStart_, frameEnd);
        }
        break;
      case kData:
        onData(id, flags, payload, frameStart, frameEnd);
        break;
      case kRstStream: {
        H2Message& m = msgs_[id];
        uint32_t code = payload.size() >= 4 ? (uint8_t(payload[0]) << 24 | uint8_t(payload[1]) << 16 |
                                               uint8_t(payload[2]) << 8 | uint8_t(payload[3]))
                                            : 0;
        appendProblem(m.msg, "stream reset (error code " + std::to_string(code) + ")");
        endMessage(m, frameEnd, false);
        break;
      }
      case kPushPromise:
        // Server push carries a header block of its own; decode it to keep HPACK in step.
        if (payload.size() >= 4) {
          std::vector<HttpHeader> ignored;
          if (!hpackBroken_ && (flags & kEndHeaders)) {
            if (Status st = hpack_.inflate(payload.substr(4), ignored); !st.ok()) {
              hpackBroken_ = true;
              stopReason_ = st.message();
            }
          }
        }
        break;
      default:
        break;   // SETTINGS, PING, GOAWAY, WINDOW_UPDATE, PRIORITY: no message content
    }
  }

  // The frames of segment `si`; false when parsing stops before it (a gap).
  bool parseSegment(size_t si) {
    const Segment& seg = s_.segments[si];
    std::string_view d = seg.data;
    size_t p = 0;
    if (si > 0 || seg.offset != 0) {
      stopReason_ = "gap at offset " + std::to_string(si > 0 ? s_.segments[si - 1].end() : 0);
      stopAt_ = seg.offset;
      st_.unparsedBytes += d.size();
      return false;
    }
    if (d.substr(0, kPreface.size()) == kPreface) p = kPreface.size();
    while (p + 9 <= d.size()) {
      uint32_t len = (uint8_t(d[p]) << 16) | (uint8_t(d[p + 1]) << 8) | uint8_t(d[p + 2]);
      uint8_t type = uint8_t(d[p + 3]);
      uint8_t flags = uint8_t(d[p + 4]);
      uint32_t id = ((uint8_t(d[p + 5]) << 24) | (uint8_t(d[p + 6]) << 16) |
                     (uint8_t(d[p + 7]) << 8) | uint8_t(d[p + 8])) & 0x7FFFFFFFu;
      if (len > (1u << 24) - 1 || p + 9 + len > d.size()) break;   // frame cut
      uint64_t frameStart = seg.offset + p;
      uint64_t frameEnd = frameStart + 9 + len;
      std::string_view payload = d.substr(p + 9, len);
      p += 9 + len;
      if ((type == kData || type == kHeaders) && (flags & kPadded)) {
        if (payload.empty() || uint8_t(payload[0]) >= payload.size()) continue;
        size_t pad = uint8_t(payload[0]);
        payload = payload.substr(1, payload.size() - 1 - pad);
      }
      onFrame(type, flags, id, payload, frameStart, frameEnd);
    }
    if (p < d.size()) {
      stopAt_ = seg.offset + p;
      stopReason_ = (si + 1 < s_.segments.size()) ? "gap at offset " + std::to_string(seg.end())
                                                  : "stream ends at offset " + std::to_string(seg.end());
      if (si + 1 == s_.segments.size() && !s_.gaps.empty() && s_.gaps.back().unknownSize) {
        stopReason_ = "capture truncated at offset " + std::to_string(seg.end());
      }
    } else if (si + 1 == s_.segments.size()) {
      stopReason_ = "stream ends at offset " + std::to_string(seg.end());
      stopAt_ = seg.end();
    }
    return true;
  }

  // Messages of this direction still open where parsing stopped end there, incomplete.
  void endOpenMessages() {
    for (auto& [id, m] : msgs_) {
      if (m.ended || m.msg.isRequest != requests_ || !m.headersDone) continue;
      appendProblem(m.msg, stopReason_.empty() ? "stream not ended" : stopReason_);
      endMessage(m, std::max(stopAt_, m.msg.startOffset), false);
      ++st_.incompleteMessages;
    }
  }

  const ByteStream& s_;
  const bool requests_;
  std::map<uint32_t, H2Message>& msgs_;
  HttpParseStats& st_;
  HpackInflater hpack_;
  bool hpackBroken_ = false;
  std::string block_;           // header block being collected across CONTINUATION frames
  uint32_t blockStream_ = 0;
  uint8_t blockFlags_ = 0;
  uint64_t blockStart_ = 0;
  std::string stopReason_;
  uint64_t stopAt_ = 0;
};

void parseDirection(const ByteStream& s, bool requests, std::map<uint32_t, H2Message>& msgs,
                    HttpParseStats& st) {
  DirectionParser(s, requests, msgs, st).run();
}

}  // namespace

bool http2Supported() {
#ifdef AA_HAVE_NGHTTP2
  return true;
#else
  return false;
#endif
}

std::vector<HttpExchange> parseHttp2Connection(const ByteStream* write, const ByteStream* read,
                                               HttpParseStats* stats) {
  HttpParseStats local;
  HttpParseStats& st = stats ? *stats : local;
  auto startsWithPreface = [](const ByteStream* s) {
    return s && !s->segments.empty() && s->segments.front().offset == 0 &&
           looksLikeHttp2Preface(std::string_view(s->segments.front().data).substr(0, 24));
  };
  bool serverSide = !startsWithPreface(write) && startsWithPreface(read);
  const ByteStream* reqStream = serverSide ? read : write;
  const ByteStream* respStream = serverSide ? write : read;
  std::map<uint32_t, H2Message> reqs, resps;
  if (reqStream) parseDirection(*reqStream, true, reqs, st);
  if (respStream) parseDirection(*respStream, false, resps, st);

  uint64_t conn = write ? write->conn : read->conn;
  int32_t fd = write && write->fd >= 0 ? write->fd : (read ? read->fd : -1);
  std::map<uint32_t, HttpExchange> byId;
  for (auto& [id, m] : reqs) {
    if (id == 0 || (!m.headersDone && !m.body)) continue;
    HttpExchange& x = byId[id];
    m.body.reset();
    x.request = std::move(m.msg);
  }
  for (auto& [id, m] : resps) {
    if (id == 0 || (!m.headersDone && !m.body)) continue;
    HttpExchange& x = byId[id];
    m.body.reset();
    x.response = std::move(m.msg);
  }
  std::vector<HttpExchange> out;
  for (auto& [id, x] : byId) {
    x.conn = conn;
    x.fd = fd;
    x.protocol = "h2";
    x.streamId = id;
    x.serverSide = serverSide;
    const HttpMessage* owner = serverSide ? (x.response ? &*x.response : nullptr)
                                          : (x.request ? &*x.request : nullptr);
    if (!owner) owner = x.request ? &*x.request : &*x.response;
    x.pid = owner->pid;
    x.comm = owner->comm;
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace aa::traffic
