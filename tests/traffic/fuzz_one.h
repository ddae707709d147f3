// One fuzz input through every traffic parser: JSON, SSE, streamed JSON (arrays,
// NDJSON), the AWS event stream, content decoding (gzip, deflate, br, zstd), WebSocket framing, and the bytes
// as both directions of a connection (HTTP/1, HTTP/2 with a preface, or WebSocket after
// an upgrade), cut into records with gaps chosen by the input itself. Shared by the libFuzzer target
// and the deterministic ctest run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/traffic/conversation.h"
#include "store/traffic/event_stream.h"
#include "store/traffic/json.h"
#include "store/traffic/json_seq.h"
#include "store/traffic/llm.h"
#include "store/traffic/sse.h"
#include "store/traffic/traffic.h"
#include "store/traffic/traffic_json.h"

namespace aa::traffic::testing {

inline void fuzzOne(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)parseJson(in);
  (void)splitSse(in);
  std::string out;
  (void)decodeContent("gzip", in);
  (void)decodeContent("deflate", in);
  (void)decodeContent("br", in);
  (void)decodeContent("zstd", in);
  bool closed = false;
  (void)splitJsonArray(in, &closed);
  (void)splitNdjson(in);
  (void)splitAwsEventStream(in);
  (void)decodeBase64(in, out);
  {
    // The input as the frames of either side of an upgraded connection.
    ByteStream s;
    s.segments.push_back({0, std::string(in)});
    s.marks.push_back({0, 1000, 1, "fuzz"});
    for (bool client : {false, true}) {
      (void)parseWebSocketStream(s, 0, client, "permessage-deflate; client_no_context_takeover");
      (void)parseWebSocketStream(s, size / 3, client, "");
    }
  }
  if (size < 4) return;

  // Header: split point, piece size, gap pattern, protocol.
  uint8_t flags = data[0];
  size_t split = (size_t(data[1]) * (size - 4)) / 255;
  size_t piece = 1 + data[2] % 64;
  uint8_t gapMask = data[3];
  std::string_view body = in.substr(4);
  std::string w(body.substr(0, split)), r(body.substr(split));
  if (flags & 1) {
    w = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + w;
  } else if (flags & 8) {
    // WebSocket after a 101 (bit 4: with permessage-deflate); the rest are frames.
    w = "GET /v1/responses HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + w;
    r = std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n") +
        ((flags & 16) ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "") + "\r\n" + r;
  }

  std::vector<TlsRecord> recs;
  auto cut = [&](const std::string& s, Direction dir) {
    size_t i = 0;
    for (size_t p = 0; p < s.size(); p += piece, ++i) {
      if ((gapMask >> (i % 8)) & 1 && (flags & 2)) continue;   // a hole
      TlsRecord rec;
      rec.conn = 1 + (flags >> 6);
      rec.dir = dir;
      rec.offset = p;
      rec.data = s.substr(p, piece);
      rec.tNs = 1000 + i;
      rec.truncated = (flags & 4) && p + piece >= s.size();
      rec.seq = recs.size();
      recs.push_back(std::move(rec));
    }
  };
  cut(w, Direction::kWrite);
  cut(r, Direction::kRead);
  Traffic t = analyzeRecords(std::move(recs));
  for (size_t i = 0; i < t.exchanges.size(); ++i) {
    std::string e = encodeExchange(t.exchanges[i]);
    HttpExchange back;
    if (!decodeExchange(e, back)) __builtin_trap();
    (void)exchangeJson(t.exchanges[i], i);
    (void)exchangeLine(t.exchanges[i], i);
  }
  for (size_t i = 0; i < t.calls.size(); ++i) {
    (void)callJson(t.calls[i], i);
    (void)callLine(t.calls[i], i);
    (void)conversationOf(t.calls[i]);
  }
  (void)chromeTraceEvents(t.exchanges, t.calls, true);
  // Raw input through the cache decoders: damage must be rejected, never crash.
  HttpExchange x;
  (void)decodeExchange(in, x);
  LlmCall c;
  (void)decodeCall(in, c);
  // The input as a request's messages: every provider shape through the conversation.
  c = LlmCall();
  c.requestMessages = std::string(in);
  c.system = std::string(in);
  (void)conversationOf(c);
}

}  // namespace aa::traffic::testing
