// HTTP messages and exchanges recovered from assembled TLS byte streams.
//
// HTTP/1.x (http1.cc): start line, headers, bodies delimited by Content-Length, chunked
// transfer coding or the end of the stream; keep-alive and pipelining (many messages
// per connection); gzip/deflate/br/zstd bodies decoded. HTTP/2 (http2.cc): frames,
// HPACK via libnghttp2 when built with it, streams paired by id. WebSocket (ws.cc):
// the messages of a connection after its 101 upgrade.
//
// Nothing is invented: a message cut by a gap or by the end of the capture is returned
// with complete = false and `problem` saying where and why; bytes that cannot be parsed
// are counted, and parsing resynchronises at the next plausible message start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/status.h"
#include "store/traffic/stream_assembler.h"

namespace aa::traffic {

struct HttpHeader {
  std::string name;    // as sent (HTTP/2: lower case)
  std::string value;
};

// After the body had reached `bodySize` decoded bytes, the capture time was `tNs`.
// Used to time parts of a streamed body (server-sent events, first token).
struct BodyMark {
  uint64_t bodySize = 0;
  uint64_t tNs = 0;
};

struct HttpMessage {
  bool isRequest = true;
  std::string method;        // requests
  std::string target;        // requests: as sent (path and query)
  int status = 0;            // responses
  std::string reason;        // responses (empty in HTTP/2)
  std::string version;       // "HTTP/1.1", "HTTP/2"
  std::vector<HttpHeader> headers;

  std::string body;          // decoded when `decoded`, else as transferred
  uint64_t wireBodyBytes = 0;   // body bytes transferred (after de-chunking, before decoding)
  bool chunked = false;
  std::string contentEncoding;  // lower case, "" for identity
  bool decoded = false;         // body was content-decoded (gzip/deflate)
  std::vector<BodyMark> bodyMarks;

  uint64_t startOffset = 0;  // stream offset of the first byte (HTTP/2: first frame)
  uint64_t endOffset = 0;    // stream offset after the last byte parsed
  uint64_t tStartNs = 0;     // capture time of the first byte
  uint64_t tHeadersNs = 0;   // capture time of the end of the header section
  uint64_t tEndNs = 0;       // capture time of the last byte parsed
  uint32_t pid = 0;          // process that sent/received the first byte
  std::string comm;

  bool complete = false;
  std::string problem;       // why not complete, or a decoding note; "" when clean

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
  std::string headerOr(std::string_view name, std::string_view fallback = {}) const;
  // Capture time at which the decoded body had reached `bodySize` bytes.
  uint64_t timeAtBody(uint64_t bodySize) const;
  std::string contentType() const;   // lower case media type without parameters
};

// One WebSocket message (RFC 6455) after a 101 Switching Protocols: the frames of one
// message joined (fragmentation undone), unmasked, and inflated when sent with
// permessage-deflate (RFC 7692). Control frames (close, ping, pong) are messages too.
struct WsMessage {
  bool fromClient = false;    // sent by the client (the side that asked for the upgrade)
  uint8_t opcode = 0;         // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  std::string data;           // payload, unmasked and decompressed
  uint64_t wireBytes = 0;     // payload bytes as framed (compressed size)
  bool compressed = false;    // permessage-deflate (RSV1 on the first frame)
  uint32_t frames = 0;
  uint64_t startOffset = 0;   // stream offset of the first frame
  uint64_t tStartNs = 0;      // capture time of the first frame's first byte
  uint64_t tEndNs = 0;        // capture time of the last byte of the last frame
  uint32_t pid = 0;
  std::string comm;
  bool complete = false;      // the final frame arrived whole (and inflated cleanly)
  std::string problem;

  const char* opcodeName() const;   // "text", "binary", "close", "ping", "pong", "opcode N"
};

struct HttpExchange {
  uint64_t conn = 0;
  std::string protocol;        // "http/1.1", "http/1.0", "h2"
  uint32_t streamId = 0;       // HTTP/2 stream id, 0 for HTTP/1
  uint32_t pid = 0;
  std::string comm;
  int32_t fd = -1;
  bool serverSide = false;     // the traced process answered the request
  std::optional<HttpMessage> request;
  std::optional<HttpMessage> response;
  // After a 101 to "Upgrade: websocket": the messages of both directions, by capture
  // time of their last frame.
  std::vector<WsMessage> websocket;

  std::string method() const { return request ? request->method : std::string(); }
  std::string host() const;    // Host header or :authority
  std::string path() const { return request ? request->target : std::string(); }
  int status() const { return response ? response->status : 0; }
  uint64_t tStartNs() const;
  uint64_t tEndNs() const;
  bool complete() const;
};

// Statistics of the parse (counted, not fatal).
struct HttpParseStats {
  uint64_t unparsedBytes = 0;   // bytes skipped while resynchronising
  uint64_t messages = 0;
  uint64_t incompleteMessages = 0;
};

// Parses every HTTP/1.x message of one direction of a connection. For responses,
// `requestMethods[i]` is the method of the i-th request on the other direction (HEAD
// responses have no body); pass {} for a request stream.
std::vector<HttpMessage> parseHttp1Stream(const ByteStream& stream,
                                          const std::vector<std::string>& requestMethods = {},
                                          HttpParseStats* stats = nullptr);

// True when the stream begins like HTTP/1.x (a request or status line).
bool looksLikeHttp1(std::string_view head);
// True when the stream begins with the HTTP/2 client connection preface.
bool looksLikeHttp2Preface(std::string_view head);

// Pairs the two directions of one connection into exchanges, in request order.
// Either stream may be null (only one direction captured).
std::vector<HttpExchange> parseHttp1Connection(const ByteStream* write, const ByteStream* read,
                                               HttpParseStats* stats = nullptr);

// HTTP/2 over one connection (client or server side, by where the preface is).
std::vector<HttpExchange> parseHttp2Connection(const ByteStream* write, const ByteStream* read,
                                               HttpParseStats* stats = nullptr);
bool http2Supported();   // HPACK decoding built in (libnghttp2)

// The WebSocket messages one direction carries from stream offset `from` on (just after
// the upgrade's header section). `fromClient`: client frames (masked). `deflate`: the
// 101 response's Sec-WebSocket-Extensions ("" when none); permessage-deflate and its
// no_context_takeover parameters are honoured. A gap ends the direction: the message it
// cuts is returned incomplete with the reason.
std::vector<WsMessage> parseWebSocketStream(const ByteStream& stream, uint64_t from, bool fromClient,
                                            std::string_view extensions,
                                            HttpParseStats* stats = nullptr);

// Decodes a whole body with a content coding ("gzip", "x-gzip", "deflate", "br", "zstd"). Fails
// when the coding is unknown or the data is damaged or cut, saying which. Output is capped
// at kMaxDecodedBody.
constexpr uint64_t kMaxDecodedBody = 256ull << 20;
StatusOr<std::string> decodeContent(std::string_view coding, std::string_view in);

// Every exchange of the streams, HTTP/1 and HTTP/2, sorted by start time.
std::vector<HttpExchange> parseExchanges(const std::vector<ByteStream>& streams,
                                         HttpParseStats* stats = nullptr);

}  // namespace aa::traffic
