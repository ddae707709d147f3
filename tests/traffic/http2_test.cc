// HTTP/2: frames built here, header blocks encoded with libnghttp2's HPACK deflater.
#include <gtest/gtest.h>

#include <algorithm>
#include <nghttp2/nghttp2.h>

#include "store/traffic/http.h"
#include "store/traffic/llm.h"
#include "tests/traffic/api_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

class Hpack {
 public:
  Hpack() { nghttp2_hd_deflate_new(&d_, 4096); }
  ~Hpack() { nghttp2_hd_deflate_del(d_); }
  std::string encode(const std::vector<std::pair<std::string, std::string>>& hs) {
    std::vector<nghttp2_nv> nv;
    for (const auto& [n, v] : hs) {
      nv.push_back({(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    std::string out(nghttp2_hd_deflate_bound(d_, nv.data(), nv.size()), '\0');
    auto n = nghttp2_hd_deflate_hd(d_, (uint8_t*)out.data(), out.size(), nv.data(), nv.size());
    out.resize(n < 0 ? 0 : n);
    return out;
  }

 private:
  nghttp2_hd_deflater* d_ = nullptr;
};

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  f += char(payload.size() >> 16);
  f += char(payload.size() >> 8);
  f += char(payload.size());
  f += char(type);
  f += char(flags);
  f += char(stream >> 24);
  f += char(stream >> 16);
  f += char(stream >> 8);
  f += char(stream);
  f.append(payload);
  return f;
}

constexpr uint8_t DATA = 0, HEADERS = 1, SETTINGS = 4, CONTINUATION = 9, RST = 3;
constexpr uint8_t END_STREAM = 1, END_HEADERS = 4, PADDED = 8;
const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Conn {
  std::string client = kPreface + frame(SETTINGS, 0, 0, "");
  std::string server = frame(SETTINGS, 0, 0, "");
  Hpack clientHpack, serverHpack;
};

void addLlmCall(Conn& c, uint32_t id) {
  std::string block = c.clientHpack.encode({{":method", "POST"}, {":scheme", "https"},
                                            {":authority", "api.anthropic.com"}, {":path", "/v1/messages"},
                                            {"content-type", "application/json"},
                                            {"anthropic-version", "2023-06-01"}});
  // Header block split across HEADERS + CONTINUATION.
  size_t half = block.size() / 2;
  c.client += frame(HEADERS, 0, id, block.substr(0, half));
  c.client += frame(CONTINUATION, END_HEADERS, id, block.substr(half));
  c.client += frame(DATA, END_STREAM, id, kAnthropicRequest);
}

void addLlmResponse(Conn& c, uint32_t id, bool end = true) {
  c.server += frame(HEADERS, END_HEADERS, id,
                    c.serverHpack.encode({{":status", "200"}, {"content-type", "text/event-stream"}}));
  std::string body = anthropicStreamBody();
  for (size_t p = 0; p < body.size(); p += 100) {
    bool last = p + 100 >= body.size();
    // Padded frames too: the padding must not reach the body.
    std::string payload = std::string(1, char(3)) + body.substr(p, 100) + "PAD";
    c.server += frame(DATA, PADDED | (last && end ? END_STREAM : 0), id, payload);
  }
}

std::vector<HttpExchange> parse(const std::string& client, const std::string& server,
                                std::vector<size_t> serverPieces = {}) {
  std::vector<ByteStream> streams;
  streams.push_back(assembleStream(9, Direction::kWrite, recordsOf(client, Direction::kWrite, {7, 100}, 9, 0)));
  streams.push_back(assembleStream(9, Direction::kRead, recordsOf(server, Direction::kRead, serverPieces, 9, 1000)));
  return parseExchanges(streams);
}

TEST(Http2, StreamsPairedAndLlmCallRecognised) {
  if (!http2Supported()) GTEST_SKIP() << "built without libnghttp2";
  Conn c;
  addLlmCall(c, 1);
  // A second, interleaved stream that reuses the dynamic table.
  c.client += frame(HEADERS, END_HEADERS | END_STREAM, 3,
                    c.clientHpack.encode({{":method", "GET"}, {":scheme", "https"},
                                          {":authority", "api.anthropic.com"}, {":path", "/v1/models"}}));
  c.server += frame(HEADERS, END_HEADERS, 3, c.serverHpack.encode({{":status", "200"}, {"content-type", "application/json"}}));
  addLlmResponse(c, 1);
  c.server += frame(DATA, END_STREAM, 3, "{\"data\":[]}");
  auto xs = parse(c.client, c.server, {13, 200, 5});
  ASSERT_EQ(xs.size(), 2u);
  const HttpExchange* llm = xs[0].streamId == 1 ? &xs[0] : &xs[1];
  const HttpExchange* models = xs[0].streamId == 3 ? &xs[0] : &xs[1];
  EXPECT_EQ(llm->protocol, "h2");
  EXPECT_EQ(llm->method(), "POST");
  EXPECT_EQ(llm->host(), "api.anthropic.com");
  EXPECT_EQ(llm->status(), 200);
  EXPECT_EQ(llm->request->body, kAnthropicRequest);
  EXPECT_EQ(llm->response->body, anthropicStreamBody());
  EXPECT_TRUE(llm->complete()) << llm->response->problem;
  EXPECT_EQ(models->path(), "/v1/models");
  EXPECT_EQ(models->response->body, "{\"data\":[]}");
  EXPECT_TRUE(models->complete());
  auto call = recognizeLlmCall(*llm);
  ASSERT_TRUE(call);
  EXPECT_EQ(call->responseText, "Hello, w\xC3\xB6rld");
  EXPECT_EQ(call->toolCalls.at(0).arguments, R"({"path": "/tmp/a.txt"})");
  EXPECT_FALSE(call->incomplete) << call->problem;
}

TEST(Http2, StreamWithoutEndIsIncomplete) {
  if (!http2Supported()) GTEST_SKIP() << "built without libnghttp2";
  Conn c;
  addLlmCall(c, 1);
  addLlmResponse(c, 1, false);
  auto xs = parse(c.client, c.server);
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_TRUE(xs[0].request->complete);
  EXPECT_FALSE(xs[0].response->complete);
  EXPECT_NE(xs[0].response->problem.find("stream ends"), std::string::npos) << xs[0].response->problem;
  auto call = recognizeLlmCall(xs[0]);
  ASSERT_TRUE(call);
  // The SSE stream reached message_stop: the answer is whole, the cut framing is said.
  EXPECT_FALSE(call->incomplete);
  EXPECT_NE(call->problem.find("response framing cut after the answer's end"), std::string::npos) << call->problem;
}

TEST(Http2, ResetStreamIsIncomplete) {
  if (!http2Supported()) GTEST_SKIP() << "built without libnghttp2";
  Conn c;
  addLlmCall(c, 1);
  c.server += frame(HEADERS, END_HEADERS, 1, c.serverHpack.encode({{":status", "200"}}));
  c.server += frame(RST, 0, 1, std::string("\0\0\0\x08", 4));
  auto xs = parse(c.client, c.server);
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_FALSE(xs[0].response->complete);
  EXPECT_NE(xs[0].response->problem.find("reset (error code 8)"), std::string::npos);
}

TEST(Http2, GapStopsTheDirectionAndMarksOpenStreams) {
  if (!http2Supported()) GTEST_SKIP() << "built without libnghttp2";
  Conn c;
  addLlmCall(c, 1);
  addLlmResponse(c, 1);
  auto recs = recordsOf(c.server, Direction::kRead, {300, 50}, 9, 1000);
  recs.erase(recs.begin() + 1);
  std::vector<ByteStream> streams;
  streams.push_back(assembleStream(9, Direction::kWrite, recordsOf(c.client, Direction::kWrite, {}, 9, 0)));
  streams.push_back(assembleStream(9, Direction::kRead, recs));
  auto xs = parseExchanges(streams);
  ASSERT_EQ(xs.size(), 1u);
  ASSERT_TRUE(xs[0].response);
  EXPECT_FALSE(xs[0].response->complete);
  EXPECT_NE(xs[0].response->problem.find("gap"), std::string::npos) << xs[0].response->problem;
  // Only bytes before the gap made it into the body.
  EXPECT_EQ(anthropicStreamBody().find(xs[0].response->body), 0u);
}

// Streams as SDKs interleave them: a Gemini SSE stream, a zstd chat answer and a
// Responses stream, their DATA frames round-robin, one with trailers; parsed whole at
// every split point of the server direction and cut at every byte.
struct Interleaved {
  Conn c;
  std::string zbody;
};

Interleaved interleaved() {
  Interleaved w;
  Conn& c = w.c;
  auto request = [&](uint32_t id, const std::string& path, const std::string& body) {
    c.client += frame(HEADERS, END_HEADERS, id,
                      c.clientHpack.encode({{":method", "POST"}, {":scheme", "https"}, {":authority", "api.test"},
                                            {":path", path}, {"content-type", "application/json"}}));
    c.client += frame(DATA, END_STREAM, id, body);
  };
  request(1, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiRequest);
  request(3, "/v1/chat/completions", kChatRequest);
  request(5, "/v1/responses", kCodexRequest);
  c.server += frame(HEADERS, END_HEADERS, 1, c.serverHpack.encode({{":status", "200"}, {"content-type", "text/event-stream"}}));
  c.server += frame(HEADERS, END_HEADERS, 3,
                    c.serverHpack.encode({{":status", "200"}, {"content-type", "text/event-stream"}, {"content-encoding", "zstd"}}));
  c.server += frame(HEADERS, END_HEADERS, 5, c.serverHpack.encode({{":status", "200"}, {"content-type", "text/event-stream"}}));
  std::string b1 = geminiSseBody(), b5 = codexSseBody();
  w.zbody = zstdOf(chatStreamBody());
  std::string b3 = w.zbody;
  for (size_t p = 0; p < std::max({b1.size(), b3.size(), b5.size()}); p += 150) {
    if (p < b1.size()) c.server += frame(DATA, p + 150 >= b1.size() ? END_STREAM : 0, 1, b1.substr(p, 150));
    if (p < b3.size()) c.server += frame(DATA, 0, 3, b3.substr(p, 150));
    if (p < b5.size()) c.server += frame(DATA, p + 150 >= b5.size() ? END_STREAM : 0, 5, b5.substr(p, 150));
  }
  // Trailers end stream 3.
  c.server += frame(HEADERS, END_HEADERS | END_STREAM, 3, c.serverHpack.encode({{"x-request-cost", "7"}}));
  return w;
}

std::string callsOf(const std::vector<HttpExchange>& xs) {
  std::string out;
  for (const auto& c : recognizeLlmCalls(xs)) {
    out += c.provider + " " + c.responseText + " " + c.thinking + " " + std::to_string(c.toolCalls.size()) + " " +
           c.stopReason + (c.incomplete ? " incomplete" : " whole") + "\n";
  }
  return out;
}

TEST(Http2, InterleavedStreamsTrailersAndEverySplit) {
  if (!http2Supported()) GTEST_SKIP() << "built without libnghttp2";
  Interleaved w = interleaved();
  auto xs = parse(w.c.client, w.c.server);
  ASSERT_EQ(xs.size(), 3u);
  for (const auto& x : xs) EXPECT_TRUE(x.complete()) << x.streamId << ": " << x.response->problem;
  const HttpExchange& chat = xs[0].streamId == 3 ? xs[0] : xs[1].streamId == 3 ? xs[1] : xs[2];
  EXPECT_EQ(chat.response->body, chatStreamBody());
  EXPECT_EQ(chat.response->wireBodyBytes, w.zbody.size());
  EXPECT_EQ(chat.response->headerOr("x-request-cost"), "7");
  std::string want = callsOf(xs);
  EXPECT_EQ(want,
            "google The file says h\xC3\xA9llo. Let me see. 1 STOP whole\n"
            "openai Let me check.  1 tool_calls whole\n"
            "openai  **Planning** the fix 2 completed whole\n");
  for (size_t split = 1; split < w.c.server.size(); split += 7) {
    ASSERT_EQ(callsOf(parse(w.c.client, w.c.server, {split})), want) << split;
  }
  for (size_t cut = 9; cut < w.c.server.size(); cut += 5) {
    std::string got = callsOf(parse(w.c.client, w.c.server.substr(0, cut)));
    // Cut: all three are still there, and none invents an end: whole only when just
    // the framing after every answer's end (here: the trailers) is missing.
    EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 3) << cut;
    if (got.find("incomplete") == std::string::npos) {
      EXPECT_EQ(got, want) << cut;
      EXPECT_GT(cut, w.c.server.size() - 30) << cut;
    }
  }
}

}  // namespace
}  // namespace aa::traffic
