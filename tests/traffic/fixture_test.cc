// Golden test over a real recording: fixtures/llm/agent.aas, made by
// fixtures/llm/record.sh (aa-record recording fixtures/llm/agent.sh: client.py, curl and
// client.js calling the test server, fixtures/server/server.js --answers llm, over
// loopback HTTPS). What client.py sent and what the server answered is known exactly, so
// every prompt, answer, tool call and token count is checked.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/session_reader.h"
#include "store/traffic/actions.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"

namespace aa::traffic {
namespace {

namespace fs = std::filesystem;

class LlmFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path src = fs::path(AA_FIXTURES_DIR) / "llm" / "agent.aas";
    if (!fs::exists(src)) GTEST_SKIP() << "no recording at " << src << ": run fixtures/llm/record.sh";
    // Read a copy: opening writes an index (and the traffic cache) beside the session.
    path_ = ::testing::TempDir() + "/llm_fixture_" + std::to_string(getpid()) + ".aas";
    fs::copy_file(src, path_, fs::copy_options::overwrite_existing);
    auto r = SessionReader::open(path_);
    ASSERT_TRUE(r.ok()) << r.status().message();
    reader_ = std::move(r.value());
    auto t = loadTraffic(*reader_);
    ASSERT_TRUE(t.ok()) << t.status().message();
    t_ = std::move(t.value());
  }
  void TearDown() override {
    reader_.reset();
    if (!path_.empty()) {
      unlink(path_.c_str());
      unlink((path_ + "-index").c_str());
    }
  }

  std::string path_;
  std::unique_ptr<SessionReader> reader_;
  Traffic t_;
};

std::string userText(const LlmCall& c) {
  auto j = parseJson(c.requestMessages);
  if (!j.ok()) return "";
  if (j->isString()) return j->str();   // /responses "input" as a plain string
  for (size_t i = j->size(); i-- > 0;) {
    if (j->at(i).get("role").str() == "user") return j->at(i).get("content").str();
  }
  return "";
}

TEST_F(LlmFixture, EveryCallFoundInOrder) {
  ASSERT_EQ(t_.exchanges.size(), 14u);
  ASSERT_EQ(t_.calls.size(), 14u);
  EXPECT_EQ(t_.stats.gaps, 0u);
  EXPECT_EQ(t_.stats.unparsedBytes, 0u);
  struct Want {
    const char* api;
    bool stream;
    const char* prompt;
    bool tool;
    int status;
    const char* comm = "python3";
  };
  const Want want[] = {
      {"messages", true, "Please use a tool to read the file", true, 200},
      {"messages", false, "What is 2+2?", false, 200},
      {"chat.completions", true, "Hello chat", false, 200},
      {"chat.completions", false, "Zipped please", false, 200},
      {"responses", true, "Use a tool, responses", true, 200},
      {"responses", false, "Chunked answer", false, 200},
      {"messages", true, "This stream will be cut", false, 200},
      {"chat.completions", false, "Rate limit me", false, 429},
      {"chat.completions", true, "Gzip stream", false, 200},
      {"messages", true, "Curl streams this", false, 200, "curl"},
      {"chat.completions", false, "Node says hi", false, 200, "node"},
      {"responses", true, "Node uses a tool", true, 200, "node"},
      {"messages", true, "HTTP/2 stream please", false, 200, "node"},
      {"chat.completions", false, "HTTP/2 plain", false, 200, "node"},
  };
  for (size_t i = 0; i < 14; ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    const LlmCall& c = t_.calls[i];
    EXPECT_EQ(c.api, want[i].api);
    EXPECT_EQ(c.provider, std::string(want[i].api) == "messages" ? "anthropic" : "openai");
    EXPECT_EQ(c.stream, want[i].stream);
    EXPECT_EQ(userText(c), want[i].prompt);
    EXPECT_EQ(c.status, want[i].status);
    EXPECT_EQ(c.comm, want[i].comm);
    if (i < 9) {
      EXPECT_EQ(c.system, c.api == "chat.completions" ? "" : "\"You are a fixture.\"");
    }
    if (want[i].status == 200 && i != 6) {
      EXPECT_FALSE(c.incomplete) << c.problem;
      EXPECT_EQ(c.responseText, std::string("echo: ") + want[i].prompt);
      EXPECT_EQ(c.model, std::string(c.api == "messages" ? "claude-fixture-1"
                                     : c.api == "responses" ? "gpt-fixture-2" : "gpt-fixture-1"));
      EXPECT_EQ(c.responseModel, c.model);
      ASSERT_TRUE(c.usage.outputTokens);
      ASSERT_TRUE(c.usage.inputTokens);
      EXPECT_GT(*c.usage.inputTokens, 0);
      EXPECT_LE(c.tStartNs, c.tFirstTokenNs);
      EXPECT_LE(c.tFirstTokenNs, c.tEndNs);
      EXPECT_GT(c.latencyNs(), 0u);
    }
    if (want[i].tool) {
      ASSERT_EQ(c.toolCalls.size(), 1u);
      EXPECT_EQ(c.toolCalls[0].name, "read_file");
      EXPECT_EQ(c.toolCalls[0].arguments, R"({"path": "/tmp/fixture.txt"})");
    } else {
      EXPECT_TRUE(c.toolCalls.empty());
    }
  }
  // The server counts one output token per word, plus 3 for a tool call.
  EXPECT_EQ(t_.calls[0].usage.outputTokens, 9 + 3);
  EXPECT_EQ(t_.calls[0].stopReason, "tool_use");
  EXPECT_EQ(t_.calls[1].usage.outputTokens, 4);
  EXPECT_EQ(t_.calls[1].stopReason, "end_turn");
  EXPECT_EQ(t_.calls[2].stopReason, "stop");
  EXPECT_EQ(t_.calls[4].stopReason, "completed");
  EXPECT_EQ(t_.calls[2].usage.totalTokens, *t_.calls[2].usage.inputTokens + *t_.calls[2].usage.outputTokens);
  // Three programs, three ways into OpenSSL: each call belongs to its own process.
  EXPECT_NE(t_.calls[9].pid, t_.calls[0].pid);
  EXPECT_NE(t_.calls[10].pid, t_.calls[9].pid);
  EXPECT_EQ(t_.calls[11].pid, t_.calls[10].pid);
  EXPECT_EQ(t_.calls[11].conn, t_.calls[10].conn);   // Node's keep-alive agent
}

TEST_F(LlmFixture, KeepAliveChunkedGzipAndSplitRecords) {
  // Calls 1-6 share one connection; 7, 8 and 9 each have their own.
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(t_.exchanges[i].conn, t_.exchanges[0].conn);
  EXPECT_NE(t_.exchanges[6].conn, t_.exchanges[0].conn);
  EXPECT_NE(t_.exchanges[8].conn, t_.exchanges[7].conn);
  const HttpExchange& zipped = t_.exchanges[t_.calls[3].exchange];
  EXPECT_EQ(zipped.response->contentEncoding, "gzip");
  EXPECT_TRUE(zipped.response->decoded);
  const HttpExchange& chunked = t_.exchanges[t_.calls[5].exchange];
  EXPECT_TRUE(chunked.response->chunked);
  const HttpExchange& gzipStream = t_.exchanges[t_.calls[8].exchange];
  EXPECT_TRUE(gzipStream.response->chunked);
  EXPECT_EQ(gzipStream.response->contentEncoding, "gzip");
  // Streamed answers arrive over many TLS reads: the body is timed piece by piece.
  const HttpExchange& streamed = t_.exchanges[t_.calls[0].exchange];
  EXPECT_GT(streamed.response->bodyMarks.size(), 5u);
  EXPECT_GT(t_.stats.records, 2 * t_.exchanges.size());
}

TEST_F(LlmFixture, Http2StreamsOfOneSession) {
  const HttpExchange& a = t_.exchanges[t_.calls[12].exchange];
  const HttpExchange& b = t_.exchanges[t_.calls[13].exchange];
  EXPECT_EQ(a.protocol, "h2");
  EXPECT_EQ(a.conn, b.conn);
  EXPECT_EQ(a.streamId, 1u);
  EXPECT_EQ(b.streamId, 3u);
  EXPECT_EQ(a.host(), b.host());
  EXPECT_TRUE(a.complete());
  EXPECT_TRUE(b.complete());
  EXPECT_EQ(a.response->contentType(), "text/event-stream");
  EXPECT_EQ(t_.calls[12].stopReason, "end_turn");
  EXPECT_EQ(t_.calls[12].usage.outputTokens, 4);
  EXPECT_GT(t_.calls[12].tFirstTokenNs, t_.calls[12].tFirstByteNs);
}

TEST_F(LlmFixture, CutStreamIsIncompleteAndInventsNothing) {
  const LlmCall& c = t_.calls[6];
  EXPECT_TRUE(c.incomplete);
  EXPECT_NE(c.problem.find("message_stop"), std::string::npos) << c.problem;
  EXPECT_EQ(c.responseText, "echo: ");   // the four events sent before the cut
  EXPECT_EQ(c.stopReason, "");
  EXPECT_FALSE(t_.exchanges[c.exchange].complete());
}

TEST_F(LlmFixture, ErrorStatusCarriesTheApiMessage) {
  const LlmCall& c = t_.calls[7];
  EXPECT_EQ(c.status, 429);
  EXPECT_EQ(c.error, "requests: fixture error 429");
  EXPECT_TRUE(c.responseText.empty());
}

TEST_F(LlmFixture, WhatTheAgentDidAfterTheToolCall) {
  auto acts = actionsAfterCall(*reader_, t_.calls, 0);
  ASSERT_EQ(acts.size(), 3u);
  EXPECT_EQ(acts[0].summary, "mkdir /tmp/aa-fixtures/llm");
  EXPECT_EQ(acts[1].kind, "exec");
  EXPECT_NE(acts[1].pid, t_.calls[0].pid);   // a child of the agent
  EXPECT_EQ(acts[1].summary.substr(acts[1].summary.size() - 23), "ls /tmp/aa-fixtures/llm");
  EXPECT_EQ(acts[2].summary, "write /tmp/aa-fixtures/llm/tool-result.txt (20 bytes)");
  EXPECT_GE(acts[0].tNs, t_.calls[0].tEndNs);
  EXPECT_LE(acts[2].tNs, t_.calls[1].tStartNs);
  EXPECT_TRUE(actionsAfterCall(*reader_, t_.calls, 1).empty());
}

TEST_F(LlmFixture, SecondOpenUsesTheCache) {
  auto r = SessionReader::open(path_);
  ASSERT_TRUE(r.ok());
  auto t = loadTraffic(*r.value());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->fromCache);
  ASSERT_EQ(t->calls.size(), t_.calls.size());
  for (size_t i = 0; i < t_.calls.size(); ++i) EXPECT_EQ(encodeCall(t->calls[i]), encodeCall(t_.calls[i]));
}

}  // namespace
}  // namespace aa::traffic
