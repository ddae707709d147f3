// HTTP/2: frames built here, header blocks encoded with libnghttp2's HPACK deflater.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "store/traffic/http.h"
#include "store/traffic/llm.h"
#include "tests/traffic/llm_samples.h"

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

}  // namespace
}  // namespace aa::traffic
