// LLM API calls recognised in HTTP exchanges:
//   anthropic  messages           POST .../v1/messages (query strings allowed); Claude
//                                 on Vertex AI (:rawPredict, :streamRawPredict) and on
//                                 Amazon Bedrock (/model/M/invoke[-with-response-stream])
//   openai     chat.completions   POST .../chat/completions, or any path with a
//                                 {"model", "messages": [...]} body (compatible servers)
//   openai     responses          POST .../responses, and "response.create" messages
//                                 of a WebSocket (Responses over WebSocket)
//   openai     responses.compact  POST .../responses/compact (Codex's compaction)
//   google     generateContent, streamGenerateContent
//                                 POST .../models/MODEL:METHOD (Google AI, Vertex AI;
//                                 SSE with ?alt=sse, else a streamed JSON array) and
//                                 Code Assist's /v1internal:METHOD
//   ollama     chat, generate     POST .../api/chat, .../api/generate (NDJSON streams)
// streamed or not. Token counting (count_tokens, :countTokens), embeddings and model
// lists are not calls.
//
// The answer is assembled from the stream's deltas exactly as received; a cut stream
// gives a call marked incomplete with what had arrived.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/traffic/http.h"

namespace aa::traffic {

struct LlmToolCall {
  std::string id;
  std::string name;
  std::string arguments;   // JSON text as sent by the model (may be partial when cut)
};

struct LlmUsage {
  std::optional<int64_t> inputTokens;
  std::optional<int64_t> outputTokens;
  std::optional<int64_t> totalTokens;
  std::optional<int64_t> cacheReadTokens;
  std::optional<int64_t> cacheCreationTokens;
  bool empty() const { return !inputTokens && !outputTokens && !totalTokens; }
};

struct LlmCall {
  size_t exchange = 0;        // index into the exchange list it came from
  std::string provider;       // "anthropic", "openai", "google", "ollama"
  std::string api;            // "messages", "chat.completions", "responses",
                              // "generateContent", "streamGenerateContent", "chat", "generate"
  std::string model;          // requested model (the response's when the request lacks it)
  std::string responseModel;  // model named in the response
  std::string host, path;
  std::string transport;      // "http/1.1", "http/1.0", "h2", "websocket"
  bool stream = false;

  // The request as sent, compact JSON text: "[...]" for messages (the /responses
  // "input", which may be a string; Gemini's "contents"; Ollama's "prompt" string for
  // generate); "" when absent.
  std::string requestMessages;
  std::string system;         // system prompt / instructions as JSON text
  std::string tools;          // tool definitions as JSON text
  std::optional<int64_t> maxTokens;

  std::string responseId;
  std::string responseText;   // assistant text, assembled from deltas when streamed
  std::string thinking;       // reasoning text when the API exposes it
  std::vector<LlmToolCall> toolCalls;
  std::string stopReason;     // stop_reason / finish_reason / status
  LlmUsage usage;

  int status = 0;             // HTTP status, 0 when no response was seen
  std::string error;          // API error message (error bodies or stream error events)
  bool incomplete = false;    // request or response cut, or stream without its end event
  std::string problem;        // why incomplete / what could not be parsed

  uint64_t tStartNs = 0;      // first request byte captured (CLOCK_MONOTONIC)
  uint64_t tFirstByteNs = 0;  // response headers captured
  uint64_t tFirstTokenNs = 0; // first text/tool delta captured (streamed), else 0
  uint64_t tEndNs = 0;        // last response byte captured
  uint32_t pid = 0;
  std::string comm;
  uint64_t conn = 0;
  uint64_t requestBytes = 0, responseBytes = 0;   // bodies as transferred

  uint64_t latencyNs() const { return tEndNs > tStartNs ? tEndNs - tStartNs : 0; }
  uint64_t timeToFirstTokenNs() const {
    return tFirstTokenNs > tStartNs ? tFirstTokenNs - tStartNs : 0;
  }
};

// The call carried by `x`, or nullopt when it is not a recognised LLM API call.
std::optional<LlmCall> recognizeLlmCall(const HttpExchange& x, size_t index = 0);

// The calls carried by the WebSocket messages of `x` (Responses over WebSocket: one
// per "response.create" the client sent).
std::vector<LlmCall> recognizeWebSocketCalls(const HttpExchange& x, size_t index = 0);

// Every call among `exchanges`, in order (several per WebSocket exchange).
std::vector<LlmCall> recognizeLlmCalls(const std::vector<HttpExchange>& exchanges);

}  // namespace aa::traffic
