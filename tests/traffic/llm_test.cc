#include "store/traffic/llm.h"

#include <gtest/gtest.h>

#include "store/traffic/json.h"
#include "tests/traffic/llm_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

// One exchange from request and response bytes; the response arrives in records of
// `respPiece` bytes, 1 ms apart, starting 100 ms after the request.
HttpExchange exchangeOf(const std::string& req, const std::string& resp, size_t respPiece = 0) {
  ByteStream w = assembleStream(1, Direction::kWrite, recordsOf(req, Direction::kWrite, {}, 1, 0));
  std::vector<size_t> sizes;
  if (respPiece) sizes.assign(resp.size() / respPiece + 1, respPiece);
  ByteStream r = assembleStream(1, Direction::kRead,
                                recordsOf(resp, Direction::kRead, sizes, 1, 100'000'000, 1'000'000));
  auto xs = parseHttp1Connection(&w, &r);
  EXPECT_EQ(xs.size(), 1u);
  return xs.empty() ? HttpExchange() : xs[0];
}

TEST(Llm, AnthropicStreamAssembled) {
  for (bool chunk : {false, true}) {
    auto x = exchangeOf(httpRequest("/v1/messages", kAnthropicRequest, "anthropic-version: 2023-06-01\r\n"),
                        httpResponse(anthropicStreamBody(), true, chunk), 50);
    auto c = recognizeLlmCall(x, 3);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->exchange, 3u);
    EXPECT_EQ(c->provider, "anthropic");
    EXPECT_EQ(c->api, "messages");
    EXPECT_EQ(c->model, "claude-sonnet-4-5");
    EXPECT_EQ(c->responseModel, "claude-sonnet-4-5-20250929");
    EXPECT_TRUE(c->stream);
    EXPECT_EQ(c->requestMessages, R"([{"role":"user","content":"Read /tmp/a.txt"}])");
    EXPECT_EQ(c->system, R"("You are terse.")");
    EXPECT_EQ(c->tools, R"([{"name":"read_file","input_schema":{"type":"object"}}])");
    EXPECT_EQ(c->maxTokens, 1024);
    EXPECT_EQ(c->responseText, "Hello, w\xC3\xB6rld");
    ASSERT_EQ(c->toolCalls.size(), 1u);
    EXPECT_EQ(c->toolCalls[0].id, "toolu_01");
    EXPECT_EQ(c->toolCalls[0].name, "read_file");
    EXPECT_EQ(c->toolCalls[0].arguments, R"({"path": "/tmp/a.txt"})");
    EXPECT_EQ(c->stopReason, "tool_use");
    EXPECT_EQ(c->usage.inputTokens, 25);
    EXPECT_EQ(c->usage.outputTokens, 42);
    EXPECT_EQ(c->usage.cacheReadTokens, 3);
    EXPECT_EQ(c->usage.totalTokens, 67);
    EXPECT_EQ(c->status, 200);
    EXPECT_FALSE(c->incomplete) << c->problem;
    EXPECT_EQ(c->tStartNs, 0u);
    // The first text delta arrives after the headers and before the last byte.
    EXPECT_GT(c->tFirstTokenNs, c->tFirstByteNs);
    EXPECT_LT(c->tFirstTokenNs, c->tEndNs);
    EXPECT_EQ(c->latencyNs(), c->tEndNs);
    EXPECT_EQ(c->pid, 42u);
  }
}

TEST(Llm, AnthropicFirstTokenTimeIsTheRecordCarryingIt) {
  std::string resp = httpResponse(anthropicStreamBody(), true);
  auto x = exchangeOf(httpRequest("/v1/messages", kAnthropicRequest), resp, 1);
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  // With one byte per record 1 ms apart, the first token time is the time of the byte
  // that ended the first text_delta event.
  size_t evEnd = resp.find("\n\n", resp.find("text_delta")) + 2;
  EXPECT_EQ(c->tFirstTokenNs, 100'000'000 + 1'000'000 * (evEnd - 1));
}

TEST(Llm, AnthropicPlainResponse) {
  std::string req = R"({"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"2+2?"}]})";
  auto x = exchangeOf(httpRequest("/v1/messages?beta=true", req), httpResponse(kAnthropicPlainResponse, false));
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->stream);
  EXPECT_EQ(c->responseText, "The answer is 4.");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"expr":"2+2"})");
  EXPECT_EQ(c->stopReason, "end_turn");
  EXPECT_EQ(c->usage.inputTokens, 10);
  EXPECT_EQ(c->usage.outputTokens, 7);
  EXPECT_FALSE(c->incomplete);
}

TEST(Llm, AnthropicErrorStatus) {
  std::string req = R"({"model":"claude-x","messages":[]})";
  auto x = exchangeOf(httpRequest("/v1/messages", req),
                      httpResponse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                                   false, false, 529));
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 529);
  EXPECT_EQ(c->error, "overloaded_error: Overloaded");
  EXPECT_TRUE(c->responseText.empty());
}

TEST(Llm, AnthropicStreamCutMidwayIsIncompleteAndInventsNothing) {
  std::string body = anthropicStreamBody();
  size_t cut = body.find("a.txt");   // inside the second tool input delta
  std::string resp = httpResponse(body, true);
  resp.resize(resp.size() - (body.size() - cut));
  auto x = exchangeOf(httpRequest("/v1/messages", kAnthropicRequest), resp, 100);
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_NE(c->problem.find("response incomplete"), std::string::npos) << c->problem;
  EXPECT_NE(c->problem.find("message_stop"), std::string::npos) << c->problem;
  EXPECT_EQ(c->responseText, "Hello, w\xC3\xB6rld");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"path": "/tmp/)");   // as far as it came
  EXPECT_EQ(c->stopReason, "");
  EXPECT_EQ(c->usage.outputTokens, 1);   // message_start's count only
}

TEST(Llm, OpenAiChatStreamAssembled) {
  auto x = exchangeOf(httpRequest("/v1/chat/completions", kChatRequest),
                      httpResponse(chatStreamBody(), true, true), 7);
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->provider, "openai");
  EXPECT_EQ(c->api, "chat.completions");
  EXPECT_EQ(c->model, "gpt-4o-mini");
  EXPECT_TRUE(c->stream);
  EXPECT_EQ(c->responseText, "Let me check.");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].id, "call_abc");
  EXPECT_EQ(c->toolCalls[0].name, "get_weather");
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(c->stopReason, "tool_calls");
  EXPECT_EQ(c->usage.inputTokens, 31);
  EXPECT_EQ(c->usage.outputTokens, 18);
  EXPECT_EQ(c->usage.totalTokens, 49);
  EXPECT_FALSE(c->incomplete) << c->problem;
  auto msgs = parseJson(c->requestMessages);
  ASSERT_TRUE(msgs.ok());
  EXPECT_EQ(msgs->size(), 2u);
  EXPECT_EQ(msgs->at(1).get("content").str(), "Weather in Paris?");
}

TEST(Llm, OpenAiChatStreamWithoutDoneIsIncomplete) {
  std::string body = chatStreamBody();
  body.resize(body.find("data: [DONE]"));
  auto x = exchangeOf(httpRequest("/v1/chat/completions", kChatRequest), httpResponse(body, true));
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_NE(c->problem.find("[DONE]"), std::string::npos);
  EXPECT_EQ(c->responseText, "Let me check.");
}

TEST(Llm, OpenAiChatPlainGzipResponse) {
  std::string gz = gzipOf(kChatPlainResponse);
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                     "Content-Length: " + std::to_string(gz.size()) + "\r\n\r\n" + gz;
  std::string req = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
  auto x = exchangeOf(httpRequest("/v1/chat/completions", req), resp, 5);
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->stream);
  EXPECT_EQ(c->responseText, "Paris is sunny.");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(c->stopReason, "stop");
  EXPECT_EQ(c->usage.totalTokens, 25);
  EXPECT_EQ(c->responseBytes, gz.size());
}

TEST(Llm, OpenAiResponsesStreamAssembled) {
  auto x = exchangeOf(httpRequest("/v1/responses", kResponsesRequest), httpResponse(responsesStreamBody(), true), 33);
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "responses");
  EXPECT_EQ(c->model, "gpt-4.1");
  EXPECT_EQ(c->system, R"("Answer in French.")");
  EXPECT_EQ(c->requestMessages, R"([{"role":"user","content":"Hello"}])");
  EXPECT_EQ(c->responseText, "Bonjour");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].id, "call_77");
  EXPECT_EQ(c->toolCalls[0].name, "lookup");
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"q":"x"})");
  EXPECT_EQ(c->stopReason, "completed");
  EXPECT_EQ(c->usage.inputTokens, 12);
  EXPECT_EQ(c->usage.cacheReadTokens, 2);
  EXPECT_FALSE(c->incomplete) << c->problem;
}

TEST(Llm, OpenAiResponsesPlain) {
  std::string req = R"({"model":"gpt-4.1","input":"Hello"})";
  auto x = exchangeOf(httpRequest("/v1/responses", req), httpResponse(kResponsesPlainResponse, false));
  auto c = recognizeLlmCall(x);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->requestMessages, R"("Hello")");
  EXPECT_EQ(c->responseText, "Salut");
  EXPECT_EQ(c->thinking, "thinking");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].id, "call_5");
  EXPECT_EQ(c->usage.totalTokens, 7);
}

TEST(Llm, UnknownApisAreNotCalls) {
  auto x1 = exchangeOf(httpRequest("/v1/embeddings", R"({"model":"e","input":"x"})"),
                       httpResponse("{}", false));
  EXPECT_FALSE(recognizeLlmCall(x1));
  auto x2 = exchangeOf(httpRequest("/v1/messages", "not json"), httpResponse("{}", false));
  EXPECT_FALSE(recognizeLlmCall(x2));
  // An OpenAI-compatible server on another path is recognised by the body's shape.
  auto x3 = exchangeOf(httpRequest("/api/generate", R"({"model":"llama","messages":[]})"),
                       httpResponse(R"({"choices":[{"message":{"content":"hi"}}]})", false));
  auto c = recognizeLlmCall(x3);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->responseText, "hi");
}

TEST(Llm, RequestWithoutResponse) {
  ByteStream w = streamOf(httpRequest("/v1/messages", kAnthropicRequest), Direction::kWrite);
  auto xs = parseHttp1Connection(&w, nullptr);
  ASSERT_EQ(xs.size(), 1u);
  auto c = recognizeLlmCall(xs[0]);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_EQ(c->status, 0);
  EXPECT_NE(c->problem.find("no response"), std::string::npos);
}

}  // namespace
}  // namespace aa::traffic
