// Golden tests over sessions recorded by aa-record from real clients
// (fixtures/apis/record.sh: @google/genai, openai, @anthropic-ai/sdk, Gemini CLI, the
// `ws` client, Node's http2 and https against the loopback test server
// fixtures/server/server.js). The behaviour that matters is asserted first, so a wrong
// golden cannot hide it; then the whole `aa-session llm --json` and `aa-session http`
// output is compared with fixtures/apis/golden/ (AA_UPDATE_GOLDEN=1 rewrites them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "store/session_reader.h"
#include "store/traffic/conversation.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"
#include "store/traffic/traffic_json.h"

namespace aa::traffic {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(AA_FIXTURES_DIR) / "apis";

struct Loaded {
  Traffic t;
  uint64_t origin = 0;
};

Loaded load(const std::string& name) {
  Loaded out;
  fs::path src = kDir / (name + ".aas");
  if (!fs::exists(src)) {
    ADD_FAILURE() << "no recording at " << src << ": run fixtures/apis/record.sh";
    return out;
  }
  // Read a copy: opening writes an index (and the traffic cache) beside the session.
  std::string path = ::testing::TempDir() + "/apis_" + name + "_" + std::to_string(getpid()) + ".aas";
  fs::copy_file(src, path, fs::copy_options::overwrite_existing);
  {
    auto r = SessionReader::open(path);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) {
      auto t = loadTraffic(*r.value(), {false, false});
      EXPECT_TRUE(t.ok()) << t.status().message();
      if (t.ok()) out.t = std::move(t.value());
      out.origin = r.value()->header().startMonoNs;
    }
  }
  unlink(path.c_str());
  unlink((path + "-index").c_str());
  return out;
}

std::string readFile(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void checkGolden(const std::string& name, const Loaded& l) {
  RenderOptions o;
  o.originNs = l.origin;
  std::string calls, http;
  for (size_t i = 0; i < l.t.calls.size(); ++i) calls += callJson(l.t.calls[i], i, o) + "\n";
  for (size_t i = 0; i < l.t.exchanges.size(); ++i) http += exchangeLine(l.t.exchanges[i], i, o) + "\n";
  for (const auto& [file, actual] : {std::pair{name + ".llm.jsonl", calls}, std::pair{name + ".http.txt", http}}) {
    fs::path p = kDir / "golden" / file;
    if (std::getenv("AA_UPDATE_GOLDEN")) {
      fs::create_directories(p.parent_path());
      std::ofstream(p) << actual;
      continue;
    }
    std::string expected = readFile(p);
    ASSERT_FALSE(expected.empty()) << p << " missing: run with AA_UPDATE_GOLDEN=1";
    EXPECT_EQ(actual, expected) << "golden " << p << " differs";
  }
}

// Every call: whole, with the fields the issue asks for.
void expectWholeCalls(const Traffic& t) {
  EXPECT_EQ(t.stats.gaps, 0u);
  EXPECT_EQ(t.stats.unparsedBytes, 0u);
  for (const auto& c : t.calls) {
    EXPECT_FALSE(c.incomplete) << c.path << ": " << c.problem;
    EXPECT_FALSE(c.model.empty()) << c.path;
    EXPECT_FALSE(c.requestMessages.empty()) << c.path;
    EXPECT_EQ(c.responseText.rfind("echo: ", 0), 0u) << c.path << ": " << c.responseText;
    EXPECT_TRUE(c.usage.inputTokens && c.usage.outputTokens && c.usage.totalTokens) << c.path;
    EXPECT_FALSE(c.stopReason.empty()) << c.path;
    EXPECT_EQ(c.comm, "node");
    EXPECT_LE(c.tStartNs, c.tEndNs);
  }
}

void expectToolCall(const LlmCall& c, const std::string& name) {
  ASSERT_EQ(c.toolCalls.size(), 1u) << c.path;
  EXPECT_EQ(c.toolCalls[0].name, name);
  auto args = parseJson(c.toolCalls[0].arguments);
  ASSERT_TRUE(args.ok()) << c.toolCalls[0].arguments;
  EXPECT_EQ(args->get("path").str(), "/tmp/fixture.txt");
}

TEST(ApisFixture, GoogleGenAiSdk) {
  Loaded l = load("genai");
  const Traffic& t = l.t;
  ASSERT_EQ(t.exchanges.size(), 4u);   // the last, countTokens, is no call
  ASSERT_EQ(t.calls.size(), 3u);
  expectWholeCalls(t);
  EXPECT_EQ(t.calls[0].api, "generateContent");
  EXPECT_EQ(t.calls[0].model, "gemini-2.5-flash");
  EXPECT_EQ(t.calls[0].responseText, "echo: Plain Gemini question");
  EXPECT_EQ(t.calls[0].maxTokens, 64);
  EXPECT_NE(t.calls[0].system.find("Be terse."), std::string::npos) << t.calls[0].system;
  EXPECT_EQ(t.calls[1].api, "streamGenerateContent");
  EXPECT_TRUE(t.calls[1].stream);
  expectToolCall(t.calls[1], "read_file");
  EXPECT_NE(t.calls[1].tools.find("functionDeclarations"), std::string::npos);
  EXPECT_GT(t.calls[1].tFirstTokenNs, 0u);
  // The follow-up carries the call and its result: the conversation pairs them.
  auto items = conversationOf(t.calls[2]);
  ASSERT_GE(items.size(), 4u);
  EXPECT_EQ(items[1].kind, ConversationItem::Kind::kToolCall);
  EXPECT_EQ(items[2].kind, ConversationItem::Kind::kToolResult);
  EXPECT_EQ(items[2].text, R"({"content":"fixture text"})");
  EXPECT_NE(t.exchanges[3].path().find(":countTokens"), std::string::npos);
  checkGolden("genai", l);
}

TEST(ApisFixture, GeminiCli) {
  Loaded l = load("gemini-cli");
  const Traffic& t = l.t;
  ASSERT_EQ(t.calls.size(), 2u);
  expectWholeCalls(t);
  for (const auto& c : t.calls) {
    EXPECT_EQ(c.provider, "google");
    EXPECT_EQ(c.api, "streamGenerateContent");
    EXPECT_EQ(c.model, "gemini-2.5-flash");
    EXPECT_FALSE(c.system.empty());   // the CLI's long system instruction
    EXPECT_NE(c.tools.find("functionDeclarations"), std::string::npos);
  }
  expectToolCall(t.calls[0], "update_topic");
  // The second request sends the tool's (error) result back.
  bool sawResult = false;
  for (const auto& it : conversationOf(t.calls[1])) {
    sawResult |= it.kind == ConversationItem::Kind::kToolResult && it.name == "update_topic";
  }
  EXPECT_TRUE(sawResult);
  checkGolden("gemini-cli", l);
}

TEST(ApisFixture, OpenAiSdk) {
  Loaded l = load("openai");
  const Traffic& t = l.t;
  ASSERT_EQ(t.calls.size(), 5u);
  expectWholeCalls(t);
  EXPECT_EQ(t.calls[0].api, "chat.completions");
  expectToolCall(t.calls[0], "read_file");
  EXPECT_EQ(t.calls[1].maxTokens, 50);
  EXPECT_EQ(t.calls[2].api, "responses");
  EXPECT_EQ(t.calls[2].thinking, "Thinking about it.");
  expectToolCall(t.calls[2], "read_file");
  EXPECT_EQ(t.calls[3].api, "responses");
  EXPECT_NE(t.calls[3].requestMessages.find("function_call_output"), std::string::npos);
  EXPECT_EQ(t.calls[4].path, "/compat/v1/chat/completions");
  checkGolden("openai", l);
}

TEST(ApisFixture, AnthropicSdk) {
  Loaded l = load("anthropic");
  const Traffic& t = l.t;
  ASSERT_EQ(t.exchanges.size(), 4u);   // count_tokens and the model list are no calls
  ASSERT_EQ(t.calls.size(), 2u);
  expectWholeCalls(t);
  expectToolCall(t.calls[0], "read_file");
  EXPECT_EQ(t.calls[0].stopReason, "tool_use");
  EXPECT_EQ(t.calls[1].path, "/v1/messages?beta=true");
  checkGolden("anthropic", l);
}

TEST(ApisFixture, Http2ConcurrentStreams) {
  Loaded l = load("h2");
  const Traffic& t = l.t;
  ASSERT_EQ(t.exchanges.size(), 5u);
  ASSERT_EQ(t.calls.size(), 5u);
  expectWholeCalls(t);
  std::set<std::string> providers;
  for (const auto& x : t.exchanges) {
    EXPECT_EQ(x.protocol, "h2");
    EXPECT_EQ(x.conn, t.exchanges[0].conn);   // one connection
  }
  for (const auto& c : t.calls) providers.insert(c.provider);
  EXPECT_EQ(providers, (std::set<std::string>{"anthropic", "google", "openai"}));
  // The streams overlap in time: concurrent, not one after another.
  EXPECT_LT(t.exchanges[1].tStartNs(), t.exchanges[0].tEndNs());
  bool big = false, trailer = false;
  for (const auto& x : t.exchanges) {
    // A 20000-byte header: its block continued in CONTINUATION frames.
    if (const std::string* v = x.request->header("x-big")) big = v->size() == 20000;
    if (x.response->header("x-fixture-usage")) trailer = *x.response->header("x-fixture-usage") == "done";
  }
  EXPECT_TRUE(big);
  EXPECT_TRUE(trailer);
  checkGolden("h2", l);
}

TEST(ApisFixture, ResponsesOverWebSocket) {
  Loaded l = load("ws");
  const Traffic& t = l.t;
  ASSERT_EQ(t.exchanges.size(), 1u);
  const HttpExchange& x = t.exchanges[0];
  EXPECT_EQ(x.status(), 101);
  ASSERT_FALSE(x.websocket.empty());
  size_t compressed = 0;
  for (const auto& m : x.websocket) {
    EXPECT_TRUE(m.complete) << m.problem;
    compressed += m.compressed;
  }
  EXPECT_GT(compressed, 0u);   // permessage-deflate was negotiated and used
  ASSERT_EQ(t.calls.size(), 2u);
  expectWholeCalls(t);
  EXPECT_EQ(t.calls[0].model, "gpt-fixture-ws");
  expectToolCall(t.calls[0], "read_file");
  EXPECT_TRUE(t.calls[1].toolCalls.empty());
  EXPECT_LT(t.calls[0].tEndNs, t.calls[1].tStartNs);
  checkGolden("ws", l);
}

TEST(ApisFixture, EncodingsGeminiArrayOllamaCompatible) {
  Loaded l = load("raw");
  const Traffic& t = l.t;
  ASSERT_EQ(t.calls.size(), 8u);
  expectWholeCalls(t);
  EXPECT_EQ(t.calls[0].api, "streamGenerateContent");
  EXPECT_TRUE(t.calls[0].stream);   // a JSON array, no ?alt=sse
  const std::vector<std::string> codings = {"", "br", "zstd", "zstd"};
  for (size_t i = 1; i < codings.size(); ++i) {
    const HttpMessage& r = *t.exchanges[t.calls[i].exchange].response;
    EXPECT_EQ(r.contentEncoding, codings[i]);
    EXPECT_TRUE(r.decoded);
    EXPECT_TRUE(r.problem.empty()) << r.problem;
  }
  EXPECT_EQ(t.calls[4].provider, "ollama");
  EXPECT_EQ(t.calls[4].api, "chat");
  EXPECT_TRUE(t.calls[4].stream);
  expectToolCall(t.calls[4], "ls");
  EXPECT_EQ(t.calls[5].api, "generate");
  EXPECT_FALSE(t.calls[5].stream);
  EXPECT_TRUE(t.calls[6].stream);
  EXPECT_EQ(t.calls[7].api, "chat.completions");   // recognised by its body on /llm/run
  checkGolden("raw", l);
}

// The traffic cache in the index keeps everything the new parsers derive (WebSocket
// messages included): a second open renders the same from the cache.
TEST(ApisFixture, CacheRoundTrip) {
  for (const char* name : {"ws", "raw", "h2", "gemini-cli"}) {
    fs::path src = kDir / (std::string(name) + ".aas");
    ASSERT_TRUE(fs::exists(src)) << src;
    std::string path = ::testing::TempDir() + "/apis_cache_" + name + "_" + std::to_string(getpid()) + ".aas";
    fs::copy_file(src, path, fs::copy_options::overwrite_existing);
    std::string first, second;
    for (int pass = 0; pass < 2; ++pass) {
      auto r = SessionReader::open(path);
      ASSERT_TRUE(r.ok()) << r.status().message();
      auto t = loadTraffic(*r.value());
      ASSERT_TRUE(t.ok()) << t.status().message();
      EXPECT_EQ(t->fromCache, pass == 1) << name;
      RenderOptions o;
      o.originNs = r.value()->header().startMonoNs;
      std::string& out = pass ? second : first;
      for (size_t i = 0; i < t->exchanges.size(); ++i) out += exchangeJson(t->exchanges[i], i, o) + "\n";
      for (size_t i = 0; i < t->calls.size(); ++i) out += callJson(t->calls[i], i, o) + "\n";
    }
    EXPECT_EQ(first, second) << name;
    unlink(path.c_str());
    unlink((path + "-index").c_str());
  }
}

}  // namespace
}  // namespace aa::traffic
