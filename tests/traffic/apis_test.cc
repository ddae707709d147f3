// Gemini, Ollama, the Responses API as Codex uses it, brotli/zstd bodies, the streamed
// JSON splitters, and what is not a model call. Each streamed answer is also parsed at
// every split point and cut at every byte.
#include <gtest/gtest.h>

#include "store/traffic/body_decoder.h"
#include "store/traffic/conversation.h"
#include "store/traffic/event_stream.h"
#include "store/traffic/sse.h"
#include "store/traffic/json.h"
#include "store/traffic/json_seq.h"
#include "store/traffic/llm.h"
#include "tests/traffic/api_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

// One exchange; the response in records of the given sizes (1 ms apart, 100 ms after
// the request).
HttpExchange exchangeOf(const std::string& req, const std::string& resp, std::vector<size_t> sizes = {}) {
  ByteStream w = assembleStream(1, Direction::kWrite, recordsOf(req, Direction::kWrite, {}, 1, 0));
  ByteStream r = assembleStream(1, Direction::kRead,
                                recordsOf(resp, Direction::kRead, std::move(sizes), 1, 100'000'000, 1'000'000));
  auto xs = parseHttp1Connection(&w, &r);
  EXPECT_EQ(xs.size(), 1u);
  return xs.empty() ? HttpExchange() : xs[0];
}

std::string response(const std::string& body, const std::string& type, const std::string& extra = "",
                     int status = 200) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type + "\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string chunkedResponse(const std::string& body, const std::string& type, size_t chunk) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
         chunked(body, chunk);
}

// The fields a call's answer is made of, as one comparable string.
std::string answerOf(const LlmCall& c) {
  std::string s = c.responseText + "|" + c.thinking + "|" + c.stopReason + "|" + c.error + "|";
  for (const auto& t : c.toolCalls) s += t.id + "," + t.name + "," + t.arguments + ";";
  s += "|" + std::to_string(c.usage.inputTokens.value_or(-1)) + "/" +
       std::to_string(c.usage.outputTokens.value_or(-1)) + "/" + std::to_string(c.usage.totalTokens.value_or(-1));
  return s + (c.incomplete ? "|incomplete" : "|whole");
}

// Every split of the response into two records gives the same call; every cut of it
// gives an incomplete call whose text is a prefix of the whole answer's.
void checkSplitsAndCuts(const std::string& req, const std::string& resp) {
  auto whole = recognizeLlmCall(exchangeOf(req, resp));
  ASSERT_TRUE(whole);
  ASSERT_FALSE(whole->incomplete) << whole->problem;
  std::string want = answerOf(*whole);
  for (size_t split = 1; split < resp.size(); ++split) {
    auto c = recognizeLlmCall(exchangeOf(req, resp, {split}));
    ASSERT_TRUE(c) << "split " << split;
    ASSERT_EQ(answerOf(*c), want) << "split " << split;
  }
  size_t headerEnd = resp.find("\r\n\r\n") + 4;
  for (size_t cut = headerEnd; cut < resp.size(); ++cut) {
    auto c = recognizeLlmCall(exchangeOf(req, resp.substr(0, cut)));
    ASSERT_TRUE(c) << "cut " << cut;
    // Whole only when just the framing after the answer's end is missing, and said so.
    if (!c->incomplete) {
      EXPECT_EQ(answerOf(*c), want) << "cut " << cut;
      EXPECT_NE(c->problem.find("after the answer's end"), std::string::npos) << "cut " << cut << ": " << c->problem;
    }
    EXPECT_EQ(whole->responseText.compare(0, c->responseText.size(), c->responseText), 0)
        << "cut " << cut << ": " << c->responseText;
    EXPECT_LE(c->toolCalls.size(), whole->toolCalls.size());
  }
}

// ---- streamed JSON ------------------------------------------------------------------

TEST(JsonSeq, ArrayElementsAndTheirEnds) {
  bool closed = false;
  std::string body = "[{\"a\":\"x],\\\"\"}\r\n,\r\n[1,{\"b\":2}] , 3]";
  auto pieces = splitJsonArray(body, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].text, "{\"a\":\"x],\\\"\"}");
  EXPECT_EQ(body.substr(0, pieces[0].endPos), "[{\"a\":\"x],\\\"\"}");
  EXPECT_EQ(pieces[1].text, "[1,{\"b\":2}]");
  EXPECT_EQ(pieces[2].text, "3");
  for (const auto& p : pieces) EXPECT_TRUE(p.complete);
  // Every prefix: whole elements match the full split; only the last may be cut.
  for (size_t n = 0; n < body.size(); ++n) {
    bool c = true;
    auto part = splitJsonArray(body.substr(0, n), &c);
    EXPECT_FALSE(c) << n;
    for (size_t i = 0; i < part.size(); ++i) {
      if (part[i].complete) {
        EXPECT_EQ(part[i].text, pieces[i].text) << n;
      } else {
        EXPECT_EQ(i + 1, part.size()) << n;
      }
    }
  }
  EXPECT_TRUE(splitJsonArray("{\"not\":\"an array\"}", &closed).empty());
  EXPECT_FALSE(closed);
}

TEST(JsonSeq, NdjsonLines) {
  auto p = splitNdjson("{\"a\":1}\r\n\n{\"b\":2}\n{\"c\"");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].text, "{\"a\":1}");
  EXPECT_EQ(p[0].endPos, 9u);
  EXPECT_TRUE(p[1].complete);
  EXPECT_FALSE(p[2].complete);
  EXPECT_EQ(p[2].text, "{\"c\"");
}

// ---- Gemini -------------------------------------------------------------------------

void expectGeminiAnswer(const LlmCall& c) {
  EXPECT_EQ(c.provider, "google");
  EXPECT_EQ(c.model, "gemini-2.5-flash");
  EXPECT_EQ(c.responseModel, "gemini-2.5-flash");
  EXPECT_EQ(c.responseId, "resp-g1");
  EXPECT_EQ(c.system, R"({"parts":[{"text":"You are terse."}]})");
  EXPECT_EQ(c.tools, R"([{"functionDeclarations":[{"name":"read_file","parameters":{"type":"OBJECT"}}]}])");
  EXPECT_EQ(c.maxTokens, 512);
  auto msgs = parseJson(c.requestMessages);
  ASSERT_TRUE(msgs.ok());
  EXPECT_EQ(msgs->size(), 3u);
  EXPECT_EQ(c.thinking, "Let me see.");
  EXPECT_EQ(c.responseText, "The file says h\xC3\xA9llo.");
  ASSERT_EQ(c.toolCalls.size(), 1u);
  EXPECT_EQ(c.toolCalls[0].name, "write_file");
  EXPECT_EQ(c.toolCalls[0].arguments, R"({"path":"/tmp/b.txt","text":"hi"})");
  EXPECT_EQ(c.stopReason, "STOP");
  EXPECT_EQ(c.usage.inputTokens, 40);
  EXPECT_EQ(c.usage.outputTokens, 13);   // candidates + thoughts
  EXPECT_EQ(c.usage.totalTokens, 53);
  EXPECT_EQ(c.usage.cacheReadTokens, 8);
  EXPECT_FALSE(c.incomplete) << c.problem;
}

TEST(Gemini, StreamAsServerSentEvents) {
  std::string req = httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiRequest,
                                "x-goog-api-key: k\r\n");
  std::string resp = chunkedResponse(geminiSseBody(), "text/event-stream", 100);
  auto c = recognizeLlmCall(exchangeOf(req, resp, std::vector<size_t>(resp.size() / 40 + 1, 40)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "streamGenerateContent");
  EXPECT_TRUE(c->stream);
  expectGeminiAnswer(*c);
  EXPECT_GT(c->tFirstTokenNs, c->tFirstByteNs);
  EXPECT_LT(c->tFirstTokenNs, c->tEndNs);
  checkSplitsAndCuts(req, resp);
}

TEST(Gemini, StreamAsJsonArray) {
  std::string req = httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent", kGeminiRequest);
  std::string resp = chunkedResponse(geminiArrayBody(), "application/json; charset=UTF-8", 77);
  auto c = recognizeLlmCall(exchangeOf(req, resp, std::vector<size_t>(resp.size() / 50 + 1, 50)));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->stream);
  expectGeminiAnswer(*c);
  // The first token is the record that completed the first element.
  EXPECT_GT(c->tFirstTokenNs, c->tFirstByteNs);
  checkSplitsAndCuts(req, resp);
}

TEST(Gemini, StreamWithoutFinishIsIncomplete) {
  std::string body = "data: " + geminiChunks()[1] + "\n\n";
  auto c = recognizeLlmCall(exchangeOf(
      httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiRequest),
      response(body, "text/event-stream")));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_NE(c->problem.find("finishReason"), std::string::npos) << c->problem;
  EXPECT_EQ(c->responseText, "The file says ");
}

TEST(Gemini, VertexPathPlainResponseAndSnakeCase) {
  std::string req = R"({"contents":[{"role":"user","parts":[{"text":"2+2?"}]}],)"
                    R"("system_instruction":{"parts":[{"text":"Math."}]},"generation_config":{"max_output_tokens":9}})";
  std::string body = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"4"}]},"finish_reason":"STOP"}],)"
                     R"("usage_metadata":{"prompt_token_count":5,"candidates_token_count":1,"total_token_count":6},"model_version":"gemini-2.0-flash-001"})";
  auto c = recognizeLlmCall(exchangeOf(
      httpRequest("/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent", req),
      response(body, "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "generateContent");
  EXPECT_FALSE(c->stream);
  EXPECT_EQ(c->model, "gemini-2.0-flash");
  EXPECT_EQ(c->responseModel, "gemini-2.0-flash-001");
  EXPECT_EQ(c->system, R"({"parts":[{"text":"Math."}]})");
  EXPECT_EQ(c->maxTokens, 9);
  EXPECT_EQ(c->responseText, "4");
  EXPECT_EQ(c->stopReason, "STOP");
  EXPECT_EQ(c->usage.totalTokens, 6);
  EXPECT_FALSE(c->incomplete) << c->problem;
}

TEST(Gemini, ErrorsAndBlockedPrompts) {
  std::string err = R"({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}})";
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1beta/models/gemini-2.5-pro:generateContent", kGeminiRequest),
                                       response(err, "application/json", "", 429)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 429);
  EXPECT_EQ(c->error, "RESOURCE_EXHAUSTED: Quota exceeded");
  // In a streamed array, an error element ends the stream.
  c = recognizeLlmCall(exchangeOf(httpRequest("/v1beta/models/gemini-2.5-pro:streamGenerateContent", kGeminiRequest),
                                  response("[" + geminiChunks()[1] + ",\n" + err + "]", "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, "RESOURCE_EXHAUSTED: Quota exceeded");
  EXPECT_EQ(c->responseText, "The file says ");
  EXPECT_FALSE(c->incomplete) << c->problem;
  c = recognizeLlmCall(exchangeOf(httpRequest("/v1beta/models/gemini-2.5-pro:generateContent", kGeminiRequest),
                                  response(R"({"promptFeedback":{"blockReason":"SAFETY"}})", "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stopReason, "blocked: SAFETY");
}

TEST(Gemini, CodeAssistWrapper) {
  // Gemini CLI logged in with Google: cloudcode-pa's /v1internal, the request and each
  // response wrapped.
  std::string req = R"({"model":"gemini-2.5-pro","project":"p","user_prompt_id":"u1","request":)" + kGeminiRequest + "}";
  std::string body;
  for (const auto& ch : geminiChunks()) body += "data: {\"response\":" + ch + ",\"traceId\":\"t\"}\n\n";
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1internal:streamGenerateContent?alt=sse", req),
                                       response(body, "text/event-stream")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->provider, "google");
  EXPECT_EQ(c->model, "gemini-2.5-pro");
  EXPECT_EQ(c->responseText, "The file says h\xC3\xA9llo.");
  EXPECT_EQ(c->usage.totalTokens, 53);
  EXPECT_FALSE(c->incomplete) << c->problem;
}

TEST(Gemini, ConversationItems) {
  auto c = recognizeLlmCall(exchangeOf(
      httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiRequest),
      response(geminiSseBody(), "text/event-stream")));
  ASSERT_TRUE(c);
  auto items = conversationOf(*c);
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0].role, "system");
  EXPECT_EQ(items[0].text, "You are terse.");
  EXPECT_EQ(items[1].role, "user");
  EXPECT_EQ(items[1].text, "Read /tmp/a.txt");
  EXPECT_EQ(items[2].role, "assistant");
  EXPECT_EQ(items[2].kind, ConversationItem::Kind::kToolCall);
  EXPECT_EQ(items[2].name, "read_file");
  EXPECT_EQ(items[2].text, R"({"path":"/tmp/a.txt"})");
  EXPECT_EQ(items[3].kind, ConversationItem::Kind::kToolResult);
  EXPECT_EQ(items[3].text, R"({"content":"hi"})");
  EXPECT_EQ(items[3].id, "read_file");
  EXPECT_EQ(items[4].kind, ConversationItem::Kind::kThinking);
  EXPECT_TRUE(items[4].fromResponse);
  EXPECT_EQ(items[6].name, "write_file");
}

TEST(Gemini, ClaudeOnVertexIsTheMessagesApi) {
  // Claude Code on Vertex AI: the Anthropic body without "model", the model in the path.
  std::string req = R"({"anthropic_version":"vertex-2023-10-16","max_tokens":1024,"stream":true,)"
                    R"("messages":[{"role":"user","content":"Read /tmp/a.txt"}]})";
  auto c = recognizeLlmCall(exchangeOf(
      httpRequest("/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", req),
      response(anthropicStreamBody(), "text/event-stream")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->provider, "anthropic");
  EXPECT_EQ(c->api, "messages");
  EXPECT_EQ(c->model, "claude-sonnet-4-5@20250929");
  EXPECT_EQ(c->responseText, "Hello, w\xC3\xB6rld");
  EXPECT_FALSE(c->incomplete) << c->problem;
}

// ---- Amazon Bedrock (Claude Code with CLAUDE_CODE_USE_BEDROCK) -------------------------

std::vector<std::string> anthropicEvents() {
  std::vector<std::string> out;
  for (const auto& e : splitSse(anthropicStreamBody())) out.push_back(e.data);
  return out;
}

const std::string kBedrockRequest =
    R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":1024,"system":"You are terse.",)"
    R"("messages":[{"role":"user","content":"Read /tmp/a.txt"}],"tools":[{"name":"read_file","input_schema":{"type":"object"}}]})";

TEST(Bedrock, InvokeWithResponseStream) {
  std::string req = httpRequest("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
                                kBedrockRequest);
  std::string resp = response(bedrockStreamBody(anthropicEvents()), "application/vnd.amazon.eventstream");
  auto c = recognizeLlmCall(exchangeOf(req, resp, std::vector<size_t>(resp.size() / 64 + 1, 64)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->provider, "anthropic");
  EXPECT_EQ(c->api, "messages");
  EXPECT_EQ(c->model, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
  EXPECT_TRUE(c->stream);
  EXPECT_EQ(c->responseText, "Hello, w\xC3\xB6rld");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"path": "/tmp/a.txt"})");
  EXPECT_EQ(c->stopReason, "tool_use");
  EXPECT_EQ(c->usage.outputTokens, 42);
  EXPECT_FALSE(c->incomplete) << c->problem;
  EXPECT_GT(c->tFirstTokenNs, c->tFirstByteNs);
  checkSplitsAndCuts(req, resp);
}

TEST(Bedrock, ExceptionsDamageAndPlainInvoke) {
  std::string req = httpRequest("/model/anthropic.claude-3-haiku-20240307-v1:0/invoke-with-response-stream", kBedrockRequest);
  auto ev = anthropicEvents();
  std::string body = bedrockStreamBody({ev[0], ev[1], ev[3]}) +
                     awsEventMessage({{":exception-type", "throttlingException"}, {":content-type", "application/json"},
                                      {":message-type", "exception"}},
                                     R"({"message":"Too many requests"})");
  auto c = recognizeLlmCall(exchangeOf(req, response(body, "application/vnd.amazon.eventstream")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, "throttlingException: Too many requests");
  EXPECT_EQ(c->responseText, "Hello");
  EXPECT_FALSE(c->incomplete) << c->problem;
  // A damaged message: the stream stops there, said, and the call is incomplete.
  std::string bad = bedrockStreamBody(ev);
  bad[bad.size() / 2] ^= 0x20;
  c = recognizeLlmCall(exchangeOf(req, response(bad, "application/vnd.amazon.eventstream")));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_NE(c->problem.find("CRC mismatch"), std::string::npos) << c->problem;
  // InvokeModel: the plain Messages API answer; errors as {"message"} bodies.
  c = recognizeLlmCall(exchangeOf(httpRequest("/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke", kBedrockRequest),
                                  response(kAnthropicPlainResponse, "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->model, "anthropic.claude-3-haiku-20240307-v1:0");
  EXPECT_EQ(c->responseText, "The answer is 4.");
  c = recognizeLlmCall(exchangeOf(httpRequest("/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke", kBedrockRequest),
                                  response(R"({"message":"Model access denied"})", "application/json",
                                           "x-amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/\r\n", 403)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, "AccessDeniedException: Model access denied");
  // Other model families on Bedrock have other bodies: not Messages API calls.
  EXPECT_FALSE(recognizeLlmCall(exchangeOf(httpRequest("/model/amazon.titan-text-express-v1/invoke",
                                                       R"({"inputText":"hi"})"),
                                           response(R"({"results":[]})", "application/json"))));
  std::string decoded;
  EXPECT_TRUE(decodeBase64(base64Of("any bytes\x01\xff"), decoded));
  EXPECT_EQ(decoded, "any bytes\x01\xff");
  EXPECT_FALSE(decodeBase64("not*base64", decoded));
}

// ---- what is not a model call ---------------------------------------------------------

TEST(NotCalls, CountTokensModelListsEmbeddings) {
  std::string anth = R"({"model":"claude-x","messages":[{"role":"user","content":"hi"}]})";
  EXPECT_FALSE(recognizeLlmCall(exchangeOf(httpRequest("/v1/messages/count_tokens?beta=true", anth),
                                           response(R"({"input_tokens":3})", "application/json"))));
  EXPECT_FALSE(recognizeLlmCall(exchangeOf(httpRequest("/v1beta/models/gemini-2.5-flash:countTokens", kGeminiRequest),
                                           response(R"({"totalTokens":3})", "application/json"))));
  EXPECT_FALSE(recognizeLlmCall(exchangeOf(httpRequest("/v1beta/models/text-embedding-004:embedContent",
                                                       R"({"content":{"parts":[{"text":"x"}]}})"),
                                           response("{}", "application/json"))));
  EXPECT_FALSE(recognizeLlmCall(exchangeOf("GET /v1/models HTTP/1.1\r\nHost: api.test\r\n\r\n",
                                           response(R"({"data":[]})", "application/json"))));
  EXPECT_FALSE(recognizeLlmCall(exchangeOf("GET /api/tags HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                           response(R"({"models":[]})", "application/json"))));
  // The query string does not hide the API (Claude Code posts ?beta=true).
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1/messages?beta=true", anth),
                                       response(kAnthropicPlainResponse, "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "messages");
  // An OpenAI-compatible server on its own path (llama.cpp's /completion is not chat;
  // a proxy's /llm/v1/chat is).
  c = recognizeLlmCall(exchangeOf(httpRequest("/llm/v1/chat", R"({"model":"m","messages":[{"role":"user","content":"x"}]})"),
                                  response(kChatPlainResponse, "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "chat.completions");
  EXPECT_EQ(c->responseText, "Paris is sunny.");
}

// ---- Ollama -------------------------------------------------------------------------

TEST(Ollama, ChatNdjsonStream) {
  std::string req = httpRequest("/api/chat", kOllamaChatRequest);
  std::string resp = chunkedResponse(ollamaChatNdjson(), "application/x-ndjson", 90);
  auto c = recognizeLlmCall(exchangeOf(req, resp, std::vector<size_t>(resp.size() / 30 + 1, 30)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->provider, "ollama");
  EXPECT_EQ(c->api, "chat");
  EXPECT_EQ(c->model, "qwen3:8b");
  EXPECT_TRUE(c->stream);   // Ollama streams unless told not to
  EXPECT_EQ(c->maxTokens, 256);
  EXPECT_EQ(c->thinking, "User wants ls.");
  EXPECT_EQ(c->responseText, "Listing now.");
  ASSERT_EQ(c->toolCalls.size(), 1u);
  EXPECT_EQ(c->toolCalls[0].name, "ls");
  EXPECT_EQ(c->toolCalls[0].arguments, R"({"dir":"/tmp"})");
  EXPECT_EQ(c->stopReason, "stop");
  EXPECT_EQ(c->usage.inputTokens, 30);
  EXPECT_EQ(c->usage.outputTokens, 12);
  EXPECT_EQ(c->usage.totalTokens, 42);
  EXPECT_FALSE(c->incomplete) << c->problem;
  EXPECT_GT(c->tFirstTokenNs, c->tFirstByteNs);
  checkSplitsAndCuts(req, resp);
  auto items = conversationOf(*c);
  ASSERT_GE(items.size(), 3u);
  EXPECT_EQ(items[0].role, "system");
  EXPECT_EQ(items[1].text, "List /tmp");
}

TEST(Ollama, GeneratePlainAndErrors) {
  std::string req = httpRequest("/api/generate", R"({"model":"llama3.2","prompt":"Why?","system":"Short.","stream":false})");
  auto c = recognizeLlmCall(exchangeOf(
      req, response(R"({"model":"llama3.2","response":"Because.","done":true,"done_reason":"stop","prompt_eval_count":4,"eval_count":2})",
                    "application/json; charset=utf-8")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "generate");
  EXPECT_FALSE(c->stream);
  EXPECT_EQ(c->requestMessages, R"("Why?")");
  EXPECT_EQ(c->system, R"("Short.")");
  EXPECT_EQ(c->responseText, "Because.");
  EXPECT_EQ(c->usage.totalTokens, 6);
  EXPECT_FALSE(c->incomplete) << c->problem;
  c = recognizeLlmCall(exchangeOf(req, response(R"({"error":"model 'llama3.2' not found"})", "application/json", "", 404)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, "model 'llama3.2' not found");
  // A stream without its done line is incomplete.
  std::string body = ollamaChatNdjson();
  body.resize(body.rfind("{\"model\""));
  c = recognizeLlmCall(exchangeOf(httpRequest("/api/chat", kOllamaChatRequest), response(body, "application/x-ndjson")));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->incomplete);
  EXPECT_NE(c->problem.find("done"), std::string::npos) << c->problem;
  EXPECT_EQ(c->responseText, "Listing now.");
}

// ---- Responses API as Codex sends it ---------------------------------------------------

TEST(Codex, ResponsesStreamWithReasoningAndToolKinds) {
  std::string req = httpRequest("/v1/responses", kCodexRequest);
  std::string resp = chunkedResponse(codexSseBody(), "text/event-stream", 120);
  auto c = recognizeLlmCall(exchangeOf(req, resp, std::vector<size_t>(resp.size() / 64 + 1, 64)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->model, "gpt-5-codex");
  EXPECT_EQ(c->thinking, "**Planning** the fix");
  ASSERT_EQ(c->toolCalls.size(), 2u);
  EXPECT_EQ(c->toolCalls[0].id, "call_3");
  EXPECT_EQ(c->toolCalls[0].name, "apply_patch");
  EXPECT_EQ(c->toolCalls[0].arguments, "*** Begin Patch\n*** End Patch");
  EXPECT_EQ(c->toolCalls[1].id, "call_4");
  EXPECT_EQ(c->toolCalls[1].name, "local_shell");
  EXPECT_EQ(c->toolCalls[1].arguments, R"({"type":"exec","command":["make"]})");
  EXPECT_EQ(c->stopReason, "completed");
  EXPECT_EQ(c->usage.inputTokens, 900);
  EXPECT_EQ(c->usage.cacheReadTokens, 800);
  EXPECT_EQ(c->usage.totalTokens, 970);
  EXPECT_FALSE(c->incomplete) << c->problem;
  checkSplitsAndCuts(req, resp);

  auto items = conversationOf(*c);
  std::vector<std::string> kinds;
  for (const auto& it : items) kinds.push_back(std::string(conversationKindName(it.kind)) + ":" + it.role);
  std::vector<std::string> want = {"text:system",      "text:user",        "thinking:assistant",
                                   "tool_call:assistant", "tool_result:tool", "tool_call:assistant",
                                   "tool_result:tool", "thinking:assistant", "tool_call:assistant",
                                   "tool_call:assistant"};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(items[5].name, "apply_patch");
  EXPECT_EQ(items[5].text, "*** Begin Patch");
}

TEST(Codex, RemoteCompactionIsACall) {
  std::string body = R"({"id":"resp_k","object":"response","model":"gpt-5-codex","status":"completed",)"
                     R"("output":[{"type":"compaction","id":"cmp_1","encrypted_content":"gAAAA"}],)"
                     R"("usage":{"input_tokens":5000,"output_tokens":300,"total_tokens":5300}})";
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1/responses/compact", kCodexRequest), response(body, "application/json")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api, "responses.compact");
  EXPECT_EQ(c->model, "gpt-5-codex");
  EXPECT_EQ(c->system, R"("You are Codex.")");
  EXPECT_EQ(c->responseText, "");
  EXPECT_TRUE(c->toolCalls.empty());
  EXPECT_EQ(c->usage.totalTokens, 5300);
  EXPECT_EQ(c->stopReason, "completed");
  EXPECT_FALSE(c->incomplete) << c->problem;
}

TEST(Codex, MessageWithoutTextDeltas) {
  // Some compatible servers send the finished message item only.
  std::string body = sseOf({
      {"response.created", R"({"type":"response.created","response":{"id":"r1","model":"m"}})"},
      {"response.output_item.done", R"({"type":"response.output_item.done","output_index":0,"item":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Whole answer"}]}})"},
      {"response.completed", R"({"type":"response.completed","response":{"id":"r1","model":"m","status":"completed"}})"},
  });
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1/responses", kResponsesRequest), response(body, "text/event-stream")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->responseText, "Whole answer");
  EXPECT_GT(c->tFirstTokenNs, 0u);
  // With deltas, the done item does not add the text again.
  c = recognizeLlmCall(exchangeOf(httpRequest("/v1/responses", kCodexRequest), response(codexSseBody(), "text/event-stream")));
  ASSERT_TRUE(c);
  auto d = recognizeLlmCall(exchangeOf(httpRequest("/v1/responses", kResponsesRequest),
                                       response(responsesStreamBody(), "text/event-stream")));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->responseText, "Bonjour");
}

// ---- brotli and zstd ----------------------------------------------------------------

TEST(Encodings, BrotliAndZstdBodiesDecoded) {
  std::string body = chatStreamBody();
  for (std::string coding : {"br", "zstd"}) {
    if (coding == "br" && (!brotliSupported() || brotliOf("x").empty())) {
      ADD_FAILURE() << "built without libbrotlidec or libbrotlienc (apt-get install libbrotli-dev): br not tested";
      continue;
    }
    std::string wire = coding == "br" ? brotliOf(body) : zstdOf(body);
    std::string req = httpRequest("/v1/chat/completions", kChatRequest);
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: " + coding +
                       "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(wire, 50);
    auto x = exchangeOf(req, resp, std::vector<size_t>(resp.size() / 20 + 1, 20));
    ASSERT_TRUE(x.response);
    EXPECT_TRUE(x.response->decoded) << coding;
    EXPECT_EQ(x.response->contentEncoding, coding);
    EXPECT_EQ(x.response->body, body) << coding << ": " << x.response->problem;
    EXPECT_EQ(x.response->wireBodyBytes, wire.size());
    EXPECT_TRUE(x.response->problem.empty()) << x.response->problem;
    auto c = recognizeLlmCall(x);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->responseText, "Let me check.");
    EXPECT_FALSE(c->incomplete) << c->problem;
    checkSplitsAndCuts(req, resp);

    auto out = decodeContent(coding, wire);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, body);
    // Damaged data: marked with the reason, nothing guessed.
    std::string bad = wire;
    bad[bad.size() / 2] ^= 0x55;
    bad[bad.size() / 2 + 1] ^= 0x55;
    if (coding == "zstd") bad.resize(bad.size() - 4);   // and the checksum frame end lost
    out = decodeContent(coding, bad);
    ASSERT_FALSE(out.ok()) << coding;
    EXPECT_FALSE(out.status().message().empty());
    // Cut: "ends early".
    out = decodeContent(coding, wire.substr(0, wire.size() / 2));
    ASSERT_FALSE(out.ok()) << coding;
    EXPECT_NE(out.status().message().find("ends early"), std::string::npos)
        << coding << ": " << out.status().message();
  }
}

TEST(Encodings, ZstdFramesInSequenceAndUnknownCodings) {
  auto out = decodeContent("zstd", zstdOf("abc") + zstdOf("def"));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "abcdef");
  out = decodeContent("gzip, br", "xx");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("'gzip, br' not decoded"), std::string::npos)
      << out.status().message();
  // A body in an unknown coding is not read as the API's JSON.
  std::string resp = response(kChatPlainResponse, "application/json", "Content-Encoding: compress\r\n");
  auto c = recognizeLlmCall(exchangeOf(httpRequest("/v1/chat/completions", kChatRequest), resp));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->responseText, "");
  EXPECT_NE(c->problem.find("not decoded"), std::string::npos) << c->problem;
}

TEST(Encodings, CompressedRequestBodies) {
  // Codex's HTTP client may send its request bodies zstd-compressed.
  std::string body = zstdOf(kCodexRequest);
  std::string req = "POST /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n"
                    "Content-Encoding: zstd\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  auto c = recognizeLlmCall(exchangeOf(req, chunkedResponse(codexSseBody(), "text/event-stream", 200)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->model, "gpt-5-codex");
  EXPECT_EQ(c->system, R"("You are Codex.")");
  EXPECT_EQ(c->requestBytes, body.size());
  EXPECT_FALSE(c->incomplete) << c->problem;
}

}  // namespace
}  // namespace aa::traffic
