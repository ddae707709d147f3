// WebSocket framing (RFC 6455 section 5) and permessage-deflate (RFC 7692) over one
// direction of an upgraded connection.
#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "store/traffic/http.h"

namespace aa::traffic {

namespace {

constexpr uint64_t kMaxWsMessage = 64ull << 20;   // larger messages are cut, and said so

struct Deflate {
  bool enabled = false;
  bool noContextTakeover = false;   // for the sender of this direction
};

// permessage-deflate as the server accepted it; the parameters name the sender.
Deflate deflateOf(std::string_view ext, bool fromClient) {
  Deflate d;
  std::string e(ext);
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Only the first offered extension is accepted by servers; look at the first
  // permessage-deflate element (elements are comma separated, parameters ';').
  size_t at = e.find("permessage-deflate");
  if (at == std::string::npos) return d;
  d.enabled = true;
  size_t end = e.find(',', at);
  std::string params = e.substr(at, end == std::string::npos ? std::string::npos : end - at);
  d.noContextTakeover = params.find(fromClient ? "client_no_context_takeover"
                                               : "server_no_context_takeover") != std::string::npos;
  return d;
}

class Inflater {
 public:
  ~Inflater() {
    if (init_) inflateEnd(&z_);
  }
  // Inflates one message's payload (the sender stripped the final 00 00 FF FF) onto `out`;
  // on failure `out` keeps what was inflated.
  Status inflateMessage(std::string_view in, std::string& out, bool reset) {
    if (!init_) {
      if (inflateInit2(&z_, -15) != Z_OK) return Status::error("zlib init failed");
      init_ = true;
    } else if (reset) {
      inflateReset(&z_);
    }
    static const char kTail[4] = {0, 0, '\xff', '\xff'};
    for (std::string_view piece : {in, std::string_view(kTail, 4)}) {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
      z_.avail_in = static_cast<uInt>(piece.size());
      char buf[16384];
      // Until the input is used up and inflate left room in the buffer (a full buffer
      // may mean more output is pending).
      while (z_.avail_in > 0 || z_.avail_out == 0) {
        z_.next_out = reinterpret_cast<Bytef*>(buf);
        z_.avail_out = sizeof buf;
        int rc = inflate(&z_, Z_SYNC_FLUSH);
        out.append(buf, sizeof buf - z_.avail_out);
        if (out.size() > kMaxWsMessage)
          return Status::error("inflated message exceeds " + std::to_string(kMaxWsMessage >> 20) +
                               " MiB");
        if (rc == Z_STREAM_END) {
          // A final deflate block: the next message starts a new stream.
          inflateReset(&z_);
          break;
        }
        if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
          // The shared window is now unknown: later messages cannot be inflated.
          broken_ = true;
          return Status::error(std::string("permessage-deflate data damaged: ") +
                               (z_.msg ? z_.msg : "error"));
        }
      }
    }
    return Status();
  }
  bool broken() const { return broken_; }

 private:
  z_stream z_{};
  bool init_ = false;
  bool broken_ = false;
};

}  // namespace

const char* WsMessage::opcodeName() const {
  switch (opcode) {
    case 1: return "text";
    case 2: return "binary";
    case 8: return "close";
    case 9: return "ping";
    case 10: return "pong";
    default: return "other";
  }
}

std::vector<WsMessage> parseWebSocketStream(const ByteStream& s, uint64_t from, bool fromClient,
                                            std::string_view extensions, HttpParseStats* stats) {
  HttpParseStats local;
  HttpParseStats& st = stats ? *stats : local;
  std::vector<WsMessage> out;
  Deflate deflate = deflateOf(extensions, fromClient);
  Inflater inflater;
  WsMessage cur;          // the data message being assembled from fragments
  bool inMessage = false;
  std::string wire;       // its payload as framed (compressed, when it is)

  auto start = [&](WsMessage& m, uint64_t offset) {
    m.fromClient = fromClient;
    m.startOffset = offset;
    if (const TimeMark* tm = s.markAt(offset)) {
      m.tStartNs = tm->tNs;
      m.pid = tm->pid;
      m.comm = tm->comm;
    }
  };
  auto finishData = [&](WsMessage& m, std::string& payload) {
    m.wireBytes = payload.size();
    if (m.compressed) {
      if (inflater.broken()) {
        m.data = payload;
        m.problem = "not inflated: an earlier message's deflate data was damaged";
        m.complete = false;
      } else if (Status st = inflater.inflateMessage(payload, m.data, deflate.noContextTakeover);
                 !st.ok()) {
        m.problem = st.message();
        m.complete = false;
      }
    } else {
      m.data = std::move(payload);
    }
    payload.clear();
  };

  // The bytes of a frame cut by a gap or the end of the capture: its header, when whole,
  // says whether it starts a message; the payload bytes that arrived are kept.
  auto cutFrame = [&](std::string_view f, uint64_t offset) {
    uint8_t op = uint8_t(f[0]) & 0x0F;
    // A cut control frame says nothing worth keeping; neither do bytes that cannot
    // start or continue a message here.
    if (op >= 3 || (op == 0 && !inMessage) || (op != 0 && inMessage)) return;
    if (op != 0) {
      cur = WsMessage();
      start(cur, offset);
      cur.opcode = op;
      cur.compressed = deflate.enabled && (uint8_t(f[0]) & 0x40);
      wire.clear();
      inMessage = true;
    }
    ++cur.frames;
    cur.tEndNs = s.timeAt(offset + f.size() - 1);
    if (f.size() < 2) return;
    bool masked = uint8_t(f[1]) & 0x80;
    uint64_t len = uint8_t(f[1]) & 0x7F;
    size_t h = len == 126 ? 4 : len == 127 ? 10 : 2;
    size_t maskAt = h;
    if (masked) h += 4;
    if (f.size() <= h) return;
    std::string payload(f.substr(h));
    if (masked) {
      for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= f[maskAt + (i & 3)];
    }
    wire += payload;
  };

  std::string stopReason;
  // Frames never span a gap: parse the segment holding `from`, then stop at the gap.
  for (size_t si = 0; si < s.segments.size(); ++si) {
    const Segment& seg = s.segments[si];
    if (seg.end() <= from) continue;
    if (seg.offset > from) {
      stopReason = "gap at offset " + std::to_string(from);
      st.unparsedBytes += seg.data.size();
      break;
    }
    std::string_view d = seg.data;
    size_t p = from - seg.offset;
    while (true) {
      if (d.size() - p < 2) break;
      uint8_t b0 = uint8_t(d[p]), b1 = uint8_t(d[p + 1]);
      bool fin = b0 & 0x80, rsv1 = b0 & 0x40;
      uint8_t op = b0 & 0x0F;
      bool masked = b1 & 0x80;
      uint64_t len = b1 & 0x7F;
      size_t h = 2;
      if (len == 126) {
        if (d.size() - p < 4) break;
        len = (uint64_t(uint8_t(d[p + 2])) << 8) | uint8_t(d[p + 3]);
        h = 4;
      } else if (len == 127) {
        if (d.size() - p < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | uint8_t(d[p + 2 + i]);
        h = 10;
      }
      size_t maskAt = p + h;
      if (masked) h += 4;
      bool validOp = op <= 2 || (op >= 8 && op <= 10);
      if (!validOp || (op >= 8 && (!fin || len > 125)) || len > kMaxWsMessage ||
          (op == 0 && !inMessage) || (op >= 1 && op <= 2 && inMessage)) {
        stopReason = "not a WebSocket frame at offset " + std::to_string(seg.offset + p);
        st.unparsedBytes += d.size() - p;
        p = d.size();
        break;
      }
      if (d.size() - p < h + len) break;   // frame cut
      uint64_t frameStart = seg.offset + p;
      std::string payload(d.substr(p + h, len));
      if (masked) {
        for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= d[maskAt + (i & 3)];
      }
      p += h + len;
      uint64_t tEnd = s.timeAt(seg.offset + p - 1);
      if (op >= 8) {   // control frame: a message of its own, never compressed
        WsMessage m;
        start(m, frameStart);
        m.opcode = op;
        m.frames = 1;
        m.wireBytes = payload.size();
        m.data = std::move(payload);
        m.tEndNs = tEnd;
        m.complete = true;
        out.push_back(std::move(m));
        ++st.messages;
        continue;
      }
      if (op != 0) {
        cur = WsMessage();
        start(cur, frameStart);
        cur.opcode = op;
        cur.compressed = deflate.enabled && rsv1;
        inMessage = true;
      }
      ++cur.frames;
      if (wire.size() + payload.size() > kMaxWsMessage) {
        stopReason = "WebSocket message exceeds " + std::to_string(kMaxWsMessage >> 20) + " MiB";
        p = d.size();
        break;
      }
      wire += payload;
      cur.tEndNs = tEnd;
      if (fin) {
        cur.complete = true;
        finishData(cur, wire);
        out.push_back(std::move(cur));
        cur = WsMessage();
        inMessage = false;
        ++st.messages;
        if (!out.back().complete) ++st.incompleteMessages;
      }
    }
    if (stopReason.empty()) {
      bool more = si + 1 < s.segments.size();
      bool truncated = !more && !s.gaps.empty() && s.gaps.back().unknownSize;
      std::string where = more ? "gap of " + std::to_string(s.segments[si + 1].offset - seg.end()) +
                                     " bytes at offset " + std::to_string(seg.end())
                          : truncated ? "capture truncated at offset " + std::to_string(seg.end())
                                      : "stream ends at offset " + std::to_string(seg.end());
      if (p < d.size()) {
        stopReason = where + " inside a frame";
        cutFrame(d.substr(p), seg.offset + p);
      } else if (inMessage) {
        stopReason = where + " inside a fragmented message";
      } else if (more) {
        stopReason = where;
        for (size_t k = si + 1; k < s.segments.size(); ++k) st.unparsedBytes += s.segments[k].data.size();
      }
    }
    break;
  }
  if (inMessage) {
    cur.complete = false;
    cur.wireBytes = wire.size();
    if (cur.compressed) {
      // A cut deflate stream cannot be told from a damaged one: not inflated.
      cur.data.clear();
      cur.problem = "compressed message cut: not inflated";
    } else {
      cur.data = std::move(wire);
    }
    cur.problem = cur.problem.empty() ? stopReason : stopReason + "; " + cur.problem;
    out.push_back(std::move(cur));
    ++st.messages;
    ++st.incompleteMessages;
  }
  return out;
}

}  // namespace aa::traffic
