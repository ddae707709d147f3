// WebSocket after a 101: frames, masking, fragmentation, control frames between
// fragments, permessage-deflate with a shared window, cut and gapped streams, and the
// Responses API over WebSocket as LLM calls.
#include <gtest/gtest.h>

#include "store/traffic/json.h"
#include "store/traffic/llm.h"
#include "tests/traffic/api_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

const std::string kUpgrade =
    "GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
const std::string kSwitch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

std::string create(const std::string& model, const std::string& text) {
  return R"({"type":"response.create","model":")" + model +
         R"(","instructions":"Be Codex.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":")" +
         text + R"("}]}],"tools":[],"stream":true})";
}

std::vector<std::string> secondAnswer() {
  return {
      R"({"type":"response.created","response":{"id":"resp_2","model":"gpt-5","status":"in_progress"}})",
      R"({"type":"response.output_text.delta","output_index":0,"delta":"Second "})",
      R"({"type":"response.output_text.delta","output_index":0,"delta":"answer"})",
      R"({"type":"response.completed","response":{"id":"resp_2","model":"gpt-5","status":"completed","usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7}}})",
  };
}

// One Codex-style session: two response.create messages, each answered by events. The
// client's first request is compressed and fragmented around a ping; the server
// compresses the first answer's events (sharing one window) and not the second's.
struct WsConn {
  std::vector<TlsRecord> client, server;
  std::string serverBytes;   // everything the server sent, for cutting
};

TlsRecord rec(Direction dir, uint64_t offset, std::string data, uint64_t t) {
  TlsRecord r;
  r.conn = 7;
  r.dir = dir;
  r.offset = offset;
  r.length = data.size();
  r.data = std::move(data);
  r.tNs = t;
  r.pid = 42;
  r.comm = "codex";
  return r;
}

WsConn codexConn() {
  WsConn c;
  WsDeflater clientZ, serverZ;
  std::string c1 = clientZ.compress(create("gpt-5-codex", "Fix it"));
  std::string frames = wsFrame(1, c1.substr(0, 10), true, false, true) + wsFrame(9, "hb", true) +
                       wsFrame(0, c1.substr(10, 20), true, false) + wsFrame(0, c1.substr(30), true, true);
  uint64_t off = 0;
  c.client.push_back(rec(Direction::kWrite, off, kUpgrade, 0));
  off += kUpgrade.size();
  c.client.push_back(rec(Direction::kWrite, off, frames, 20'000'000));
  off += frames.size();
  std::string second = wsFrame(1, create("gpt-5", "Again"), true);
  c.client.push_back(rec(Direction::kWrite, off, second, 500'000'000));

  c.serverBytes = kSwitch;
  c.server.push_back(rec(Direction::kRead, 0, kSwitch, 10'000'000));
  uint64_t t = 100'000'000;
  for (const auto& ev : codexEvents()) {
    std::string f = wsFrame(1, serverZ.compress(ev), false, true, true);
    c.server.push_back(rec(Direction::kRead, c.serverBytes.size(), f, t += 1'000'000));
    c.serverBytes += f;
  }
  t = 600'000'000;
  for (const auto& ev : secondAnswer()) {
    std::string f = wsFrame(1, ev, false);
    c.server.push_back(rec(Direction::kRead, c.serverBytes.size(), f, t += 1'000'000));
    c.serverBytes += f;
  }
  std::string close = wsFrame(8, std::string("\x03\xe8", 2), false);
  c.server.push_back(rec(Direction::kRead, c.serverBytes.size(), close, 700'000'000));
  c.serverBytes += close;
  return c;
}

std::vector<HttpExchange> parse(const std::vector<TlsRecord>& client, const std::vector<TlsRecord>& server) {
  ByteStream w = assembleStream(7, Direction::kWrite, client);
  ByteStream r = assembleStream(7, Direction::kRead, server);
  return parseHttp1Connection(&w, &r);
}

// The server's bytes re-cut at the given offsets as well as at the original record
// boundaries (so each byte keeps its capture time).
std::vector<TlsRecord> recut(const std::vector<TlsRecord>& orig, size_t size, std::vector<size_t> cuts) {
  std::vector<TlsRecord> out;
  for (const auto& r : orig) {
    if (r.offset >= size) break;
    std::string d = r.data.substr(0, size - r.offset);
    size_t p = 0;
    for (size_t c : cuts) {
      if (c > r.offset + p && c < r.offset + d.size()) {
        out.push_back(rec(Direction::kRead, r.offset + p, d.substr(p, c - r.offset - p), r.tNs));
        p = c - r.offset;
      }
    }
    out.push_back(rec(Direction::kRead, r.offset + p, d.substr(p), r.tNs));
  }
  return out;
}

TEST(WebSocket, MessagesUnmaskedReassembledAndInflated) {
  WsConn c = codexConn();
  auto xs = parse(c.client, c.server);
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.status(), 101);
  // 3 client messages (request, ping, request), 11 + 4 events and a close from the server.
  ASSERT_EQ(x.websocket.size(), 3u + 11u + 4u + 1u);
  const WsMessage* first = nullptr;
  const WsMessage* ping = nullptr;
  for (const auto& m : x.websocket) {
    if (m.fromClient && m.opcode == 1 && !first) first = &m;
    if (m.opcode == 9) ping = &m;
  }
  ASSERT_TRUE(first && ping);
  EXPECT_EQ(first->data, create("gpt-5-codex", "Fix it"));
  EXPECT_TRUE(first->compressed);
  EXPECT_EQ(first->frames, 3u);
  EXPECT_TRUE(first->complete) << first->problem;
  EXPECT_EQ(ping->data, "hb");
  size_t server = 0;
  for (const auto& m : x.websocket) {
    EXPECT_TRUE(m.complete) << m.problem;
    if (!m.fromClient && m.opcode == 1) {
      EXPECT_EQ(m.data, server < 11 ? codexEvents()[server] : secondAnswer()[server - 11]);
      ++server;
    }
  }
  EXPECT_EQ(server, 15u);
  EXPECT_EQ(x.websocket.back().opcode, 8);
  EXPECT_EQ(x.tEndNs(), 700'000'000u);
}

TEST(WebSocket, ResponsesOverWebSocketAreCalls) {
  WsConn c = codexConn();
  auto xs = parse(c.client, c.server);
  auto calls = recognizeLlmCalls(xs);
  ASSERT_EQ(calls.size(), 2u);
  const LlmCall& a = calls[0];
  EXPECT_EQ(a.provider, "openai");
  EXPECT_EQ(a.api, "responses");
  EXPECT_EQ(a.model, "gpt-5-codex");
  EXPECT_EQ(a.system, R"("Be Codex.")");
  EXPECT_TRUE(a.stream);
  EXPECT_EQ(a.thinking, "**Planning** the fix");
  ASSERT_EQ(a.toolCalls.size(), 2u);
  EXPECT_EQ(a.toolCalls[0].name, "apply_patch");
  EXPECT_EQ(a.usage.totalTokens, 970);
  EXPECT_EQ(a.stopReason, "completed");
  EXPECT_FALSE(a.incomplete) << a.problem;
  EXPECT_EQ(a.tStartNs, 20'000'000u);
  EXPECT_EQ(a.tFirstTokenNs, 103'000'000u);   // the reasoning delta, third event
  EXPECT_EQ(a.tEndNs, 111'000'000u);
  const LlmCall& b = calls[1];
  EXPECT_EQ(b.model, "gpt-5");
  EXPECT_EQ(b.responseText, "Second answer");
  EXPECT_EQ(b.usage.totalTokens, 7);
  EXPECT_FALSE(b.incomplete) << b.problem;
  EXPECT_EQ(b.tStartNs, 500'000'000u);
}

TEST(WebSocket, EverySplitOfTheServerStreamGivesTheSameMessages) {
  WsConn c = codexConn();
  auto want = parse(c.client, c.server)[0].websocket;
  for (size_t split = 1; split < c.serverBytes.size(); ++split) {
    auto xs = parse(c.client, recut(c.server, c.serverBytes.size(), {split}));
    ASSERT_EQ(xs.size(), 1u);
    ASSERT_EQ(xs[0].websocket.size(), want.size()) << split;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(xs[0].websocket[i].data, want[i].data) << split << " message " << i;
      ASSERT_TRUE(xs[0].websocket[i].complete) << split;
    }
    ASSERT_EQ(recognizeLlmCalls(xs).size(), 2u) << split;
  }
}

TEST(WebSocket, CutAtEveryByteInventsNothing) {
  WsConn c = codexConn();
  auto whole = parse(c.client, c.server)[0].websocket;
  for (size_t cut = kSwitch.size(); cut < c.serverBytes.size(); ++cut) {
    auto xs = parse(c.client, recut(c.server, cut, {cut / 2 + kSwitch.size() / 2}));
    ASSERT_EQ(xs.size(), 1u);
    size_t s = 0;
    for (const auto& m : xs[0].websocket) {
      if (m.fromClient) continue;
      if (!m.complete) {
        EXPECT_NE(m.problem.find("stream ends"), std::string::npos) << m.problem;
        continue;
      }
      while (s < whole.size() && whole[s].fromClient) ++s;
      ASSERT_LT(s, whole.size());
      EXPECT_EQ(m.data, whole[s].data) << cut;
      ++s;
    }
    auto calls = recognizeLlmCalls(xs);
    ASSERT_GE(calls.size(), 1u);
    // The last call seen is cut: no response.completed yet (the close frame follows it).
    if (cut < c.serverBytes.size() - 4) {
      EXPECT_TRUE(calls.back().incomplete) << cut;
    }
  }
}

TEST(WebSocket, GapEndsTheDirection) {
  WsConn c = codexConn();
  auto server = c.server;
  server.erase(server.begin() + 5);   // the fifth event never captured
  auto xs = parse(c.client, server);
  ASSERT_EQ(xs.size(), 1u);
  size_t serverMsgs = 0;
  for (const auto& m : xs[0].websocket) serverMsgs += !m.fromClient;
  EXPECT_EQ(serverMsgs, 4u);   // four whole events; nothing after the gap
  auto calls = recognizeLlmCalls(xs);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].incomplete);
  EXPECT_TRUE(calls[1].incomplete);
  EXPECT_EQ(calls[1].responseText, "");
}

TEST(WebSocket, RefusedUpgradeKeepsParsingHttp) {
  std::string req = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" +
                    httpRequest("/v1/chat/completions", kChatRequest);
  std::string resp = "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n" +
                     httpResponse(chatStreamBody(), true);
  ByteStream w = assembleStream(1, Direction::kWrite, recordsOf(req, Direction::kWrite));
  ByteStream r = assembleStream(1, Direction::kRead, recordsOf(resp, Direction::kRead, {}, 1, 5000));
  auto xs = parseHttp1Connection(&w, &r);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].status(), 426);
  EXPECT_TRUE(xs[0].websocket.empty());
  auto c = recognizeLlmCall(xs[1]);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->responseText, "Let me check.");
}

TEST(WebSocket, NoContextTakeoverResetsTheWindow) {
  // Each message compressed on its own (a fresh deflater), as a server that accepted
  // server_no_context_takeover sends them.
  std::string sw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n";
  std::string frames;
  for (int i = 0; i < 3; ++i) {
    WsDeflater z;
    frames += wsFrame(1, z.compress("same text, again and again"), false, true, true);
  }
  std::vector<TlsRecord> client = {rec(Direction::kWrite, 0, kUpgrade, 0)};
  std::vector<TlsRecord> server = {rec(Direction::kRead, 0, sw + frames, 10)};
  auto xs = parse(client, server);
  ASSERT_EQ(xs.size(), 1u);
  ASSERT_EQ(xs[0].websocket.size(), 3u);
  for (const auto& m : xs[0].websocket) {
    EXPECT_EQ(m.data, "same text, again and again");
    EXPECT_TRUE(m.complete) << m.problem;
  }
}

TEST(WebSocket, LargeCompressedMessagesInflateWhole) {
  // Highly compressible: a few hundred compressed bytes inflate to far more than one
  // inflate buffer, in one frame and across fragments.
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i % 7) + "\n";
  WsDeflater z;
  std::string a = z.compress(big), b = z.compress(big + "again");
  std::string frames = wsFrame(1, a, false, true, true) + wsFrame(1, b.substr(0, 3), false, false, true) +
                       wsFrame(0, b.substr(3), false, true);
  std::vector<TlsRecord> client = {rec(Direction::kWrite, 0, kUpgrade, 0)};
  std::vector<TlsRecord> server = {rec(Direction::kRead, 0, kSwitch + frames, 10)};
  auto xs = parse(client, server);
  ASSERT_EQ(xs.size(), 1u);
  ASSERT_EQ(xs[0].websocket.size(), 2u);
  EXPECT_EQ(xs[0].websocket[0].data, big);
  EXPECT_EQ(xs[0].websocket[1].data, big + "again");
  EXPECT_EQ(xs[0].websocket[1].frames, 2u);
  EXPECT_LT(xs[0].websocket[0].wireBytes, big.size() / 20);
}

TEST(WebSocket, NotFramesIsSaid) {
  std::vector<TlsRecord> client = {rec(Direction::kWrite, 0, kUpgrade, 0)};
  std::vector<TlsRecord> server = {rec(Direction::kRead, 0, kSwitch + wsFrame(1, "ok", false) + "\x8F\x01x", 10)};
  HttpParseStats st;
  ByteStream w = assembleStream(7, Direction::kWrite, client);
  ByteStream r = assembleStream(7, Direction::kRead, server);
  auto xs = parseHttp1Connection(&w, &r, &st);
  ASSERT_EQ(xs.size(), 1u);
  ASSERT_EQ(xs[0].websocket.size(), 1u);
  EXPECT_EQ(xs[0].websocket[0].data, "ok");
  EXPECT_EQ(st.unparsedBytes, 3u);
}

}  // namespace
}  // namespace aa::traffic

namespace aa::traffic {
namespace {

TEST(WebSocket, AppendStartsTheNextResponseAndProcessedIsNoRequest) {
  std::string client = wsFrame(1, create("gpt-5-codex", "First"), true) +
                       wsFrame(1, R"({"type":"response.processed","response_id":"resp_2"})", true);
  std::string client2 = wsFrame(1, R"({"type":"response.append","input":[{"type":"message","role":"user","content":"More"}]})", true);
  std::string server1, server2;
  for (const auto& e : secondAnswer()) server1 += wsFrame(1, e, false);
  for (const auto& e : secondAnswer()) server2 += wsFrame(1, e, false);
  std::vector<TlsRecord> c = {rec(Direction::kWrite, 0, kUpgrade, 0),
                              rec(Direction::kWrite, kUpgrade.size(), client, 20),
                              rec(Direction::kWrite, kUpgrade.size() + client.size(), client2, 200)};
  std::vector<TlsRecord> s = {rec(Direction::kRead, 0, kSwitch, 10),
                              rec(Direction::kRead, kSwitch.size(), server1, 100),
                              rec(Direction::kRead, kSwitch.size() + server1.size(), server2, 300)};
  auto calls = recognizeLlmCalls(parse(c, s));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].model, "gpt-5-codex");   // carried over from response.create
  EXPECT_EQ(calls[1].system, R"("Be Codex.")");
  EXPECT_EQ(calls[1].requestMessages, R"([{"type":"message","role":"user","content":"More"}])");
  EXPECT_EQ(calls[1].responseText, "Second answer");
  EXPECT_FALSE(calls[0].incomplete) << calls[0].problem;
  EXPECT_FALSE(calls[1].incomplete) << calls[1].problem;
}

}  // namespace
}  // namespace aa::traffic
