#include "store/traffic/llm.h"

#include <map>

#include "store/traffic/event_stream.h"
#include "store/traffic/json.h"
#include "store/traffic/json_seq.h"
#include "store/traffic/sse.h"

namespace aa::traffic {

namespace {

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<int64_t> intOf(const Json& j) { return j.asInt(); }

// Text of a JSON value that is either a string or absent: "" for anything else.
std::string strOf(const Json& j) { return j.isString() ? j.str() : std::string(); }

std::string dumpIfPresent(const Json& j) { return j.isNull() ? std::string() : j.dump(); }

void addProblem(LlmCall& c, const std::string& p) {
  if (c.problem.find(p) != std::string::npos) return;
  c.problem = c.problem.empty() ? p : c.problem + "; " + p;
}

// The message of an API error object ({"error":{"message":..}} or {"message":..}).
std::string errorMessage(const Json& body) {
  const Json& e = body.get("error");
  if (e.isString()) return e.str();
  if (e.isObject()) {
    std::string m = strOf(e.get("message"));
    std::string t = strOf(e.get("type"));
    if (t.empty()) t = strOf(e.get("status"));   // Google: "RESOURCE_EXHAUSTED"
    if (t.empty()) t = strOf(e.get("code"));
    if (!t.empty() && !m.empty()) return t + ": " + m;
    return m.empty() ? t : m;
  }
  return {};
}

// ---- Anthropic Messages API ---------------------------------------------------------

void anthropicUsage(const Json& u, LlmUsage& usage) {
  if (!u.isObject()) return;
  // message_delta carries cumulative counts: later values replace earlier ones.
  if (auto v = intOf(u.get("input_tokens"))) usage.inputTokens = v;
  if (auto v = intOf(u.get("output_tokens"))) usage.outputTokens = v;
  if (auto v = intOf(u.get("cache_read_input_tokens"))) usage.cacheReadTokens = v;
  if (auto v = intOf(u.get("cache_creation_input_tokens"))) usage.cacheCreationTokens = v;
  if (usage.inputTokens && usage.outputTokens) {
    usage.totalTokens = *usage.inputTokens + *usage.outputTokens;
  }
}

void anthropicContent(const Json& content, LlmCall& c) {
  for (const auto& b : content.items()) {
    std::string type = strOf(b.get("type"));
    if (type == "text") {
      c.responseText += strOf(b.get("text"));
    } else if (type == "thinking") {
      c.thinking += strOf(b.get("thinking"));
    } else if (type == "tool_use" || type == "server_tool_use") {
      c.toolCalls.push_back({strOf(b.get("id")), strOf(b.get("name")), b.get("input").dump()});
    }
  }
}

void anthropicResponse(const Json& body, LlmCall& c) {
  if (strOf(body.get("type")) == "error") {
    c.error = errorMessage(body);
    return;
  }
  c.responseId = strOf(body.get("id"));
  c.responseModel = strOf(body.get("model"));
  anthropicContent(body.get("content"), c);
  c.stopReason = strOf(body.get("stop_reason"));
  anthropicUsage(body.get("usage"), c.usage);
}

// Returns true when the stream's end event was seen.
bool anthropicStream(const std::vector<SseEvent>& events, const HttpMessage& resp, LlmCall& c) {
  struct Block {
    std::string type;
    size_t tool = SIZE_MAX;   // index into c.toolCalls
    bool sawDelta = false;
  };
  std::map<int64_t, Block> blocks;
  bool ended = false;
  for (const auto& ev : events) {
    auto j = parseJson(ev.data);
    if (!j.ok()) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + j.status().message() + ")");
      continue;
    }
    std::string type = strOf(j->get("type"));
    if (type.empty()) type = ev.event;
    auto firstToken = [&] {
      if (c.tFirstTokenNs == 0) c.tFirstTokenNs = resp.timeAtBody(ev.endPos);
    };
    if (type == "message_start") {
      const Json& m = j->get("message");
      c.responseId = strOf(m.get("id"));
      c.responseModel = strOf(m.get("model"));
      anthropicUsage(m.get("usage"), c.usage);
    } else if (type == "content_block_start") {
      int64_t idx = intOf(j->get("index")).value_or(-1);
      const Json& cb = j->get("content_block");
      Block& b = blocks[idx];
      b.type = strOf(cb.get("type"));
      if (b.type == "tool_use" || b.type == "server_tool_use") {
        c.toolCalls.push_back({strOf(cb.get("id")), strOf(cb.get("name")), ""});
        b.tool = c.toolCalls.size() - 1;
        // A non-empty initial input is the whole input; "{}" is the placeholder the
        // deltas replace.
        const Json& in = cb.get("input");
        if (in.isObject() && in.size() > 0) c.toolCalls[b.tool].arguments = in.dump();
      } else if (b.type == "text") {
        c.responseText += strOf(cb.get("text"));
      }
    } else if (type == "content_block_delta") {
      int64_t idx = intOf(j->get("index")).value_or(-1);
      Block& b = blocks[idx];
      const Json& d = j->get("delta");
      std::string dt = strOf(d.get("type"));
      if (dt == "text_delta") {
        c.responseText += strOf(d.get("text"));
        firstToken();
      } else if (dt == "input_json_delta") {
        if (b.tool == SIZE_MAX) {
          c.toolCalls.push_back({});
          b.tool = c.toolCalls.size() - 1;
          addProblem(c, "tool input delta without its block start");
        }
        if (!b.sawDelta) c.toolCalls[b.tool].arguments.clear();
        b.sawDelta = true;
        c.toolCalls[b.tool].arguments += strOf(d.get("partial_json"));
        firstToken();
      } else if (dt == "thinking_delta") {
        c.thinking += strOf(d.get("thinking"));
        firstToken();
      }
    } else if (type == "message_delta") {
      std::string sr = strOf(j->get("delta").get("stop_reason"));
      if (!sr.empty()) c.stopReason = sr;
      anthropicUsage(j->get("usage"), c.usage);
    } else if (type == "message_stop") {
      ended = ev.complete;
    } else if (type == "error") {
      c.error = errorMessage(*j);
      ended = ev.complete;   // an error event ends the stream
    }
  }
  // A tool block whose deltas never came has no arguments; "{}" is what the API means.
  for (auto& t : c.toolCalls) {
    if (t.arguments.empty() && ended) t.arguments = "{}";
  }
  return ended;
}

// ---- OpenAI chat completions --------------------------------------------------------

void openaiUsage(const Json& u, LlmUsage& usage) {
  if (!u.isObject()) return;
  if (auto v = intOf(u.get("prompt_tokens"))) usage.inputTokens = v;
  if (auto v = intOf(u.get("completion_tokens"))) usage.outputTokens = v;
  if (auto v = intOf(u.get("input_tokens"))) usage.inputTokens = v;      // /responses
  if (auto v = intOf(u.get("output_tokens"))) usage.outputTokens = v;    // /responses
  if (auto v = intOf(u.get("total_tokens"))) usage.totalTokens = v;
  for (const char* details : {"prompt_tokens_details", "input_tokens_details"}) {
    if (auto v = intOf(u.get(details).get("cached_tokens"))) usage.cacheReadTokens = v;
  }
  if (!usage.totalTokens && usage.inputTokens && usage.outputTokens) {
    usage.totalTokens = *usage.inputTokens + *usage.outputTokens;
  }
}

std::string chatContentText(const Json& content) {
  if (content.isString()) return content.str();
  std::string out;
  for (const auto& part : content.items()) {
    if (part.get("text").isString()) out += part.get("text").str();
  }
  return out;
}

void chatResponse(const Json& body, LlmCall& c) {
  if (body.find("error") && !body.find("choices")) {
    c.error = errorMessage(body);
    return;
  }
  c.responseId = strOf(body.get("id"));
  c.responseModel = strOf(body.get("model"));
  const Json& choice = body.get("choices").at(0);
  const Json& msg = choice.get("message");
  c.responseText = chatContentText(msg.get("content"));
  c.thinking = strOf(msg.get("reasoning_content"));
  for (const auto& tc : msg.get("tool_calls").items()) {
    const Json& f = tc.get("function");
    c.toolCalls.push_back({strOf(tc.get("id")), strOf(f.get("name")), strOf(f.get("arguments"))});
  }
  c.stopReason = strOf(choice.get("finish_reason"));
  openaiUsage(body.get("usage"), c.usage);
  if (body.get("choices").size() > 1) addProblem(c, "only the first of several choices shown");
}

bool chatStream(const std::vector<SseEvent>& events, const HttpMessage& resp, LlmCall& c) {
  std::map<int64_t, size_t> toolByIndex;
  bool ended = false;
  for (const auto& ev : events) {
    if (ev.data == "[DONE]") {
      ended = ev.complete;
      continue;
    }
    auto j = parseJson(ev.data);
    if (!j.ok()) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + j.status().message() + ")");
      continue;
    }
    if (j->find("error") && !j->find("choices")) {
      c.error = errorMessage(*j);
      continue;
    }
    if (c.responseId.empty()) c.responseId = strOf(j->get("id"));
    if (c.responseModel.empty()) c.responseModel = strOf(j->get("model"));
    openaiUsage(j->get("usage"), c.usage);
    for (const auto& choice : j->get("choices").items()) {
      if (intOf(choice.get("index")).value_or(0) != 0) continue;
      const Json& d = choice.get("delta");
      std::string text = chatContentText(d.get("content"));
      std::string reasoning = strOf(d.get("reasoning_content"));
      bool token = !text.empty() || !reasoning.empty();
      c.responseText += text;
      c.thinking += reasoning;
      for (const auto& tc : d.get("tool_calls").items()) {
        int64_t idx = intOf(tc.get("index")).value_or(static_cast<int64_t>(toolByIndex.size()));
        auto it = toolByIndex.find(idx);
        if (it == toolByIndex.end()) {
          c.toolCalls.push_back({});
          it = toolByIndex.emplace(idx, c.toolCalls.size() - 1).first;
        }
        LlmToolCall& t = c.toolCalls[it->second];
        if (tc.get("id").isString()) t.id = tc.get("id").str();
        const Json& f = tc.get("function");
        if (f.get("name").isString()) t.name += f.get("name").str();
        t.arguments += strOf(f.get("arguments"));
        token = true;
      }
      std::string fr = strOf(choice.get("finish_reason"));
      if (!fr.empty()) c.stopReason = fr;
      if (token && c.tFirstTokenNs == 0) c.tFirstTokenNs = resp.timeAtBody(ev.endPos);
    }
  }
  return ended;
}

// ---- OpenAI responses ---------------------------------------------------------------

// Output items that are calls of a tool: function_call, custom_tool_call (Codex's
// apply_patch), local_shell_call, web_search_call, mcp_call, ... — every "*_call".
bool isResponsesToolItem(std::string_view type) {
  return type.size() > 5 && type.substr(type.size() - 5) == "_call";
}

// A tool call item: function calls carry "arguments" (JSON text), custom tools "input"
// (free text), built-in tools an "action" object; built-in tools have no name, so the
// item type without "_call" names them.
LlmToolCall responsesToolCall(const Json& item) {
  LlmToolCall t;
  t.id = strOf(item.get("call_id"));
  if (t.id.empty()) t.id = strOf(item.get("id"));
  t.name = strOf(item.get("name"));
  std::string type = strOf(item.get("type"));
  if (t.name.empty() && type != "function_call" && type != "custom_tool_call") {
    t.name = type.substr(0, type.size() - 5);
  }
  if (item.get("arguments").isString()) t.arguments = item.get("arguments").str();
  else if (item.get("input").isString()) t.arguments = item.get("input").str();
  else if (item.find("action")) t.arguments = item.get("action").dump();
  return t;
}

// Reasoning item text: its summary parts, else its reasoning_text content (the
// encrypted_content Codex sends back is opaque and not shown).
std::string responsesReasoningText(const Json& item) {
  std::string out;
  for (const auto& s : item.get("summary").items()) out += strOf(s.get("text"));
  if (out.empty()) {
    for (const auto& part : item.get("content").items()) out += strOf(part.get("text"));
  }
  return out;
}

void responsesOutput(const Json& output, LlmCall& c) {
  for (const auto& item : output.items()) {
    std::string type = strOf(item.get("type"));
    if (type == "message") {
      for (const auto& part : item.get("content").items()) {
        if (strOf(part.get("type")) == "output_text") c.responseText += strOf(part.get("text"));
      }
    } else if (isResponsesToolItem(type)) {
      c.toolCalls.push_back(responsesToolCall(item));
    } else if (type == "reasoning") {
      c.thinking += responsesReasoningText(item);
    }
  }
}

void responsesFinal(const Json& r, LlmCall& c) {
  if (c.responseId.empty()) c.responseId = strOf(r.get("id"));
  if (c.responseModel.empty()) c.responseModel = strOf(r.get("model"));
  std::string status = strOf(r.get("status"));
  std::string why = strOf(r.get("incomplete_details").get("reason"));
  c.stopReason = why.empty() ? status : status + ": " + why;
  openaiUsage(r.get("usage"), c.usage);
  std::string err = errorMessage(r);
  if (!err.empty()) c.error = err;
}

void responsesResponse(const Json& body, LlmCall& c) {
  if (body.find("error") && !body.get("error").isNull() && !body.find("output")) {
    c.error = errorMessage(body);
    return;
  }
  responsesOutput(body.get("output"), c);
  responsesFinal(body, c);
}

bool responsesStream(const std::vector<SseEvent>& events, const HttpMessage& resp, LlmCall& c) {
  std::map<int64_t, size_t> toolByOutput;   // output_index -> tool call
  std::map<int64_t, bool> toolArgsFinal;
  std::map<int64_t, bool> textDeltaAt;      // output_index -> text deltas seen
  bool sawReasoningDelta = false;
  bool ended = false;
  for (const auto& ev : events) {
    auto j = parseJson(ev.data);
    if (!j.ok()) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + j.status().message() + ")");
      continue;
    }
    std::string type = strOf(j->get("type"));
    if (type.empty()) type = ev.event;
    int64_t oi = intOf(j->get("output_index")).value_or(-1);
    auto firstToken = [&] {
      if (c.tFirstTokenNs == 0) c.tFirstTokenNs = resp.timeAtBody(ev.endPos);
    };
    auto toolAt = [&](int64_t idx) -> LlmToolCall& {
      auto it = toolByOutput.find(idx);
      if (it == toolByOutput.end()) {
        c.toolCalls.push_back({});
        it = toolByOutput.emplace(idx, c.toolCalls.size() - 1).first;
      }
      return c.toolCalls[it->second];
    };
    if (type == "response.created" || type == "response.in_progress") {
      const Json& r = j->get("response");
      c.responseId = strOf(r.get("id"));
      c.responseModel = strOf(r.get("model"));
    } else if (type == "response.output_text.delta") {
      c.responseText += strOf(j->get("delta"));
      textDeltaAt[oi] = true;
      firstToken();
    } else if (type == "response.reasoning_summary_text.delta" ||
               type == "response.reasoning_text.delta") {
      c.thinking += strOf(j->get("delta"));
      sawReasoningDelta = true;
      firstToken();
    } else if (type == "response.output_item.added" || type == "response.output_item.done") {
      const Json& item = j->get("item");
      std::string it = strOf(item.get("type"));
      if (isResponsesToolItem(it)) {
        LlmToolCall& t = toolAt(oi);
        LlmToolCall whole = responsesToolCall(item);
        if (!whole.id.empty()) t.id = whole.id;
        if (!whole.name.empty()) t.name = whole.name;
        // The done item holds the whole arguments: they replace the assembled deltas.
        // (Built-in tools have no deltas: their action comes with the item.)
        if ((type == "response.output_item.done" || !toolArgsFinal[oi]) &&
            !whole.arguments.empty() &&
            (type == "response.output_item.done" || item.find("action"))) {
          t.arguments = whole.arguments;
          toolArgsFinal[oi] = type == "response.output_item.done";
        }
        if (type == "response.output_item.done" && it != "function_call" &&
            it != "custom_tool_call") {
          firstToken();
        }
      } else if (it == "reasoning" && type == "response.output_item.done" &&
                 !sawReasoningDelta) {
        c.thinking += responsesReasoningText(item);
      } else if (it == "message" && type == "response.output_item.done" && !textDeltaAt[oi]) {
        // A server that sends the finished message without text deltas.
        size_t before = c.responseText.size();
        for (const auto& part : item.get("content").items()) {
          if (strOf(part.get("type")) == "output_text") c.responseText += strOf(part.get("text"));
        }
        if (c.responseText.size() > before) firstToken();
      }
    } else if (type == "response.function_call_arguments.delta" ||
               type == "response.custom_tool_call_input.delta") {
      if (!toolArgsFinal[oi]) toolAt(oi).arguments += strOf(j->get("delta"));
      firstToken();
    } else if (type == "response.function_call_arguments.done" ||
               type == "response.custom_tool_call_input.done") {
      const Json& whole = j->get(type == "response.function_call_arguments.done" ? "arguments" : "input");
      if (whole.isString()) {
        toolAt(oi).arguments = whole.str();
        toolArgsFinal[oi] = true;
      }
    } else if (type == "response.completed" || type == "response.incomplete" ||
               type == "response.failed") {
      responsesFinal(j->get("response"), c);
      ended = ev.complete;
    } else if (type == "error") {
      std::string m = strOf(j->get("message"));
      c.error = m.empty() ? errorMessage(*j) : m;
      ended = ev.complete;
    }
  }
  return ended;
}

// ---- Google Gemini (generateContent) ------------------------------------------------
//
// The REST API accepts camelCase and snake_case field names; both are read.

const Json& either(const Json& j, std::string_view camel, std::string_view snake) {
  const Json* v = j.find(camel);
  return v ? *v : j.get(snake);
}

void geminiUsage(const Json& u, LlmUsage& usage) {
  if (!u.isObject()) return;
  // Every streamed chunk carries the counts so far: later values replace earlier ones.
  auto prompt = intOf(either(u, "promptTokenCount", "prompt_token_count"));
  auto cand = intOf(either(u, "candidatesTokenCount", "candidates_token_count"));
  auto thoughts = intOf(either(u, "thoughtsTokenCount", "thoughts_token_count"));
  auto total = intOf(either(u, "totalTokenCount", "total_token_count"));
  auto cached = intOf(either(u, "cachedContentTokenCount", "cached_content_token_count"));
  if (prompt) usage.inputTokens = prompt;
  // Output counts thinking too, as the other APIs' output counts do.
  if (cand || thoughts) usage.outputTokens = cand.value_or(0) + thoughts.value_or(0);
  if (total) usage.totalTokens = total;
  else if (usage.inputTokens && usage.outputTokens) usage.totalTokens = *usage.inputTokens + *usage.outputTokens;
  if (cached) usage.cacheReadTokens = cached;
}

// One GenerateContentResponse (a whole response or a streamed chunk). Returns true when
// it ends the answer (a finish reason, a blocked prompt or an error). `token`: it
// carried text or a function call.
bool geminiChunk(const Json& in, LlmCall& c, bool& token) {
  // Code Assist (Gemini CLI with a Google login) wraps each response: {"response":{..}}.
  const Json& j = in.get("response").isObject() ? in.get("response") : in;
  token = false;
  if (j.find("error") || in.find("error")) {
    c.error = errorMessage(j.find("error") ? j : in);
    return true;
  }
  if (c.responseId.empty()) c.responseId = strOf(either(j, "responseId", "response_id"));
  if (c.responseModel.empty()) c.responseModel = strOf(either(j, "modelVersion", "model_version"));
  geminiUsage(either(j, "usageMetadata", "usage_metadata"), c.usage);
  const Json& cands = j.get("candidates");
  bool finished = false;
  for (const auto& cand : cands.items()) {
    if (intOf(cand.get("index")).value_or(0) != 0) {
      addProblem(c, "only the first of several candidates shown");
      continue;
    }
    for (const auto& part : cand.get("content").get("parts").items()) {
      if (part.get("text").isString()) {
        (part.get("thought").asBool() ? c.thinking : c.responseText) += part.get("text").str();
        token = true;
      }
      const Json& fc = either(part, "functionCall", "function_call");
      if (fc.isObject()) {
        c.toolCalls.push_back({strOf(fc.get("id")), strOf(fc.get("name")),
                               fc.find("args") ? fc.get("args").dump() : std::string("{}")});
        token = true;
      }
    }
    std::string fr = strOf(either(cand, "finishReason", "finish_reason"));
    if (!fr.empty()) {
      c.stopReason = fr;
      finished = true;
    }
  }
  const Json& fb = either(j, "promptFeedback", "prompt_feedback");
  std::string blocked = strOf(either(fb, "blockReason", "block_reason"));
  if (!blocked.empty()) {
    c.stopReason = "blocked: " + blocked;
    finished = true;
  }
  return finished;
}

// A streamed answer as pieces (SSE events or JSON array elements). True when ended.
template <typename Piece>
bool geminiPieces(const std::vector<Piece>& pieces, const HttpMessage& resp, LlmCall& c,
                  std::string (*dataOf)(const Piece&)) {
  bool ended = false;
  for (const auto& pc : pieces) {
    auto j = parseJson(dataOf(pc));
    if (!j.ok()) {
      if (pc.complete) addProblem(c, "stream chunk not JSON (" + j.status().message() + ")");
      continue;
    }
    bool token = false;
    if (geminiChunk(*j, c, token) && pc.complete) ended = true;
    if (token && c.tFirstTokenNs == 0) c.tFirstTokenNs = resp.timeAtBody(pc.endPos);
  }
  return ended;
}

std::string sseData(const SseEvent& e) { return e.data; }
std::string pieceText(const JsonPiece& p) { return p.text; }

// The response of a Gemini call, streamed or not. A stream without its end (a finish
// reason, or the array's closing bracket) makes the call incomplete.
bool geminiResponse(const HttpMessage& resp, bool sse, LlmCall& c) {
  std::string_view body = resp.body;
  size_t p = body.find_first_not_of(" \t\r\n");
  if (sse) {
    c.stream = true;
    if (!geminiPieces(splitSse(body), resp, c, sseData)) {
      c.incomplete = true;
      addProblem(c, "stream has no finishReason");
      return false;
    }
    return true;
  } else if (p != std::string_view::npos && body[p] == '[') {
    // streamGenerateContent without ?alt=sse: a JSON array, one element per chunk.
    c.stream = true;
    bool closed = false;
    auto pieces = splitJsonArray(body, &closed);
    bool ended = geminiPieces(pieces, resp, c, pieceText);
    if (!closed || !ended) {
      c.incomplete = true;
      addProblem(c, !closed ? "stream array not closed" : "stream has no finishReason");
      return false;
    }
    return true;
  } else if (p != std::string_view::npos) {
    auto j = parseJson(body);
    if (!j.ok()) {
      if (resp.complete) addProblem(c, "response body is not JSON (" + j.status().message() + ")");
      if (resp.status >= 400) c.error = std::string(body.substr(0, 500));
      return false;
    }
    bool token = false;
    geminiChunk(*j, c, token);
    c.tFirstTokenNs = resp.timeAtBody(1);
    return true;
  }
  return false;
}

// ---- Ollama native API (/api/chat, /api/generate) ------------------------------------

// One object of the NDJSON stream (or the whole non-streamed answer). True when it ends
// the answer ("done": true, or an error).
bool ollamaChunk(const Json& j, LlmCall& c, bool& token) {
  token = false;
  if (j.find("error")) {
    c.error = errorMessage(j);
    return true;
  }
  if (c.responseModel.empty()) c.responseModel = strOf(j.get("model"));
  const Json& m = j.get("message");
  std::string text = strOf(m.get("content")) + strOf(j.get("response"));
  std::string thinking = strOf(m.get("thinking")) + strOf(j.get("thinking"));
  c.responseText += text;
  c.thinking += thinking;
  token = !text.empty() || !thinking.empty();
  for (const auto& tc : m.get("tool_calls").items()) {
    const Json& f = tc.get("function");
    const Json& args = f.get("arguments");
    c.toolCalls.push_back({strOf(tc.get("id")), strOf(f.get("name")),
                           args.isString() ? args.str() : args.dump()});
    token = true;
  }
  if (!j.get("done").asBool()) return false;
  c.stopReason = strOf(j.get("done_reason"));
  if (c.stopReason.empty()) c.stopReason = "stop";
  if (auto v = intOf(j.get("prompt_eval_count"))) c.usage.inputTokens = v;
  if (auto v = intOf(j.get("eval_count"))) c.usage.outputTokens = v;
  if (c.usage.inputTokens && c.usage.outputTokens) {
    c.usage.totalTokens = *c.usage.inputTokens + *c.usage.outputTokens;
  }
  return true;
}

bool ollamaResponse(const HttpMessage& resp, LlmCall& c) {
  auto whole = parseJson(resp.body);
  if (whole.ok() && whole->isObject() && resp.contentType() != "application/x-ndjson") {
    bool token = false;
    ollamaChunk(*whole, c, token);
    c.tFirstTokenNs = resp.timeAtBody(1);
    return true;
  }
  c.stream = true;
  bool ended = false;
  for (const auto& pc : splitNdjson(resp.body)) {
    auto j = parseJson(pc.text);
    if (!j.ok()) {
      if (pc.complete) addProblem(c, "stream line not JSON (" + j.status().message() + ")");
      continue;
    }
    bool token = false;
    if (ollamaChunk(*j, c, token) && pc.complete) ended = true;
    if (token && c.tFirstTokenNs == 0) c.tFirstTokenNs = resp.timeAtBody(pc.endPos);
  }
  if (!ended) {
    c.incomplete = true;
    addProblem(c, resp.body.empty() && resp.status >= 400 ? "empty error body" : "stream has no \"done\": true");
  }
  return ended;
}

// ---- which API a request is ----------------------------------------------------------

struct Route {
  std::string provider, api, model;
  bool codeAssist = false;   // Gemini CLI's Code Assist wrapper: {"model", "request": {..}}
  bool bedrock = false;      // Amazon Bedrock InvokeModel: streams in the AWS event stream
};

// %XX escapes decoded (Bedrock model ids: "anthropic.claude-...-v1%3A0").
std::string urlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char ch) {
      return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Amazon Bedrock: POST /model/MODEL/invoke and /model/MODEL/invoke-with-response-stream
// (Claude Code with CLAUDE_CODE_USE_BEDROCK); the body of an Anthropic model is the
// Messages API's.
bool bedrockRoute(std::string_view path, Route& r) {
  size_t m = path.rfind("/model/");
  if (m == std::string_view::npos) return false;
  std::string_view rest = path.substr(m + 7);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view op = rest.substr(slash + 1);
  if (op != "invoke" && op != "invoke-with-response-stream") return false;
  r.provider = "anthropic";
  r.api = "messages";
  r.model = urlDecode(rest.substr(0, slash));
  r.bedrock = true;
  return true;
}

// A Bedrock stream: each "chunk" event carries one Messages API event, base64 encoded;
// an exception message ends the stream with its error. True when the stream ended.
bool bedrockStream(const HttpMessage& resp, LlmCall& c) {
  std::string problem;
  std::vector<SseEvent> events;
  bool failed = false;
  for (const AwsEvent& ev : splitAwsEventStream(resp.body, &problem)) {
    if (!ev.complete) continue;   // the cut last message: the response says it is cut
    if (ev.header(":message-type") == "exception" || ev.header(":message-type") == "error") {
      auto j = parseJson(ev.payload);
      std::string type = ev.header(":exception-type");
      if (type.empty()) type = ev.header(":error-code");
      std::string msg = j.ok() ? strOf(j->get("message")) : std::string();
      if (msg.empty()) msg = ev.header(":error-message");
      c.error = type.empty() ? msg : msg.empty() ? type : type + ": " + msg;
      failed = true;
      continue;
    }
    if (ev.header(":event-type") != "chunk") continue;
    auto j = parseJson(ev.payload);
    SseEvent sse;
    if (!j.ok() || !decodeBase64(strOf(j->get("bytes")), sse.data)) {
      addProblem(c, "event stream chunk without base64 \"bytes\"");
      continue;
    }
    sse.endPos = ev.endPos;
    events.push_back(std::move(sse));
  }
  if (!problem.empty()) addProblem(c, problem);
  bool ended = anthropicStream(events, resp, c);
  return (ended || failed) && problem.empty();
}

// Gemini paths: .../models/MODEL:METHOD (Google AI /v1beta, Vertex
// /v1/projects/P/locations/L/publishers/google/models/MODEL) and Code Assist's
// /v1internal:METHOD. Returns false when the path is not one; `notCall` when it is a
// Gemini method that is no model call (countTokens, embedContent, ...).
bool geminiRoute(std::string_view path, Route& r, bool& notCall) {
  size_t slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t colon = last.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view method = last.substr(colon + 1);
  std::string_view name = last.substr(0, colon);
  std::string_view dir = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  bool models = dir.ends_with("/models") || dir.ends_with("/tunedModels");
  bool internal = name == "v1internal";
  if (!models && !internal) return false;
  if ((method == "rawPredict" || method == "streamRawPredict") && models &&
      dir.find("/publishers/anthropic/") != std::string_view::npos) {
    // Claude on Vertex AI: the Messages API body, its model in the path.
    r.provider = "anthropic";
    r.api = "messages";
    r.model = std::string(name);
    return true;
  }
  if (method != "generateContent" && method != "streamGenerateContent") {
    notCall = method == "countTokens" || method == "embedContent" || method == "batchEmbedContents" ||
              method == "loadCodeAssist" || method == "onboardUser" || method == "predict";
    return notCall;
  }
  r.provider = "google";
  r.api = std::string(method);
  r.codeAssist = internal && !models;
  if (models) r.model = std::string(name);
  return true;
}

}  // namespace

std::optional<LlmCall> recognizeLlmCall(const HttpExchange& x, size_t index) {
  if (!x.request || x.request->method != "POST") return std::nullopt;
  const HttpMessage& req = *x.request;
  std::string path = req.target;
  std::string query;
  size_t q = path.find('?');
  if (q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  // Token counting and model listing are API calls, not model calls.
  if (endsWith(path, "/count_tokens") || endsWith(path, "/countTokens")) return std::nullopt;

  Route route;
  bool notCall = false;
  if (geminiRoute(path, route, notCall)) {
    if (notCall) return std::nullopt;
  } else if (endsWith(path, "/chat/completions")) {
    route = {"openai", "chat.completions", ""};
  } else if (endsWith(path, "/responses")) {
    route = {"openai", "responses", ""};
  } else if (endsWith(path, "/responses/compact")) {
    // Codex's remote compaction: a Responses-shaped request whose answer is the
    // compacted conversation (output items, mostly encrypted).
    route = {"openai", "responses.compact", ""};
  } else if (endsWith(path, "/messages")) {
    route = {"anthropic", "messages", ""};
  } else if (bedrockRoute(path, route)) {
    // route filled in
  } else if (endsWith(path, "/api/chat")) {
    route = {"ollama", "chat", ""};
  } else if (endsWith(path, "/api/generate")) {
    route = {"ollama", "generate", ""};
  }
  const std::string& api = route.api;
  auto reqJson = parseJson(req.body);
  if (reqJson.ok() && !reqJson->isObject()) return std::nullopt;
  const Json* rj = reqJson.ok() ? &*reqJson : nullptr;
  bool shapeMessages = rj && rj->get("messages").isArray();
  if (api.empty()) {
    // Unknown path: only an unmistakable body shape makes it a call (OpenAI-compatible
    // servers and proxies on their own paths).
    if (!shapeMessages || !rj->get("model").isString()) return std::nullopt;
    route = req.header("anthropic-version") ? Route{"anthropic", "messages", ""}
                                            : Route{"openai", "chat.completions", ""};
  }
  if (rj) {
    if (route.provider == "google") {
      const Json& g = route.codeAssist ? rj->get("request") : *rj;
      if (!g.get("contents").isArray() && !g.get("contents").isObject()) return std::nullopt;
    } else if (route.provider == "ollama") {
      bool ok = rj->get("model").isString() &&
                (api == "chat" ? shapeMessages : rj->get("prompt").isString());
      if (!ok && shapeMessages && rj->get("model").isString()) {
        route = {"openai", "chat.completions", ""};   // an OpenAI-shaped body on that path
      } else if (!ok) {
        return std::nullopt;
      }
    } else if (api == "responses" || api == "responses.compact") {
      if (!rj->find("input") && !rj->find("model")) return std::nullopt;
    } else if (!shapeMessages) {
      return std::nullopt;
    }
  }
  if (!reqJson.ok() && req.complete) return std::nullopt;   // a whole body that is not JSON

  LlmCall c;
  c.exchange = index;
  c.api = route.api;
  c.provider = route.provider;
  c.host = x.host();
  c.path = req.target;
  c.transport = x.protocol;
  c.pid = x.pid;
  c.comm = x.comm;
  c.conn = x.conn;
  c.tStartNs = req.tStartNs;
  c.tEndNs = x.tEndNs();
  c.requestBytes = req.wireBodyBytes;
  if (!req.complete) {
    c.incomplete = true;
    addProblem(c, "request incomplete" + (req.problem.empty() ? "" : ": " + req.problem));
  }
  if (route.provider == "google") {
    c.model = route.model;
    c.stream = api == "streamGenerateContent";
  }
  std::string pathModel = route.provider == "anthropic" ? route.model : std::string();
  if (reqJson.ok()) {
    const Json& r = *reqJson;
    if (route.provider == "google") {
      const Json& g = route.codeAssist ? r.get("request") : r;
      if (route.codeAssist) c.model = strOf(r.get("model"));
      c.requestMessages = dumpIfPresent(g.get("contents"));
      c.system = dumpIfPresent(either(g, "systemInstruction", "system_instruction"));
      c.tools = dumpIfPresent(g.get("tools"));
      c.maxTokens = intOf(either(either(g, "generationConfig", "generation_config"),
                                 "maxOutputTokens", "max_output_tokens"));
    } else if (route.provider == "ollama") {
      c.model = strOf(r.get("model"));
      c.stream = r.find("stream") ? r.get("stream").asBool() : true;   // Ollama streams by default
      c.requestMessages = dumpIfPresent(api == "chat" ? r.get("messages") : r.get("prompt"));
      c.system = dumpIfPresent(r.get("system"));
      c.tools = dumpIfPresent(r.get("tools"));
      c.maxTokens = intOf(r.get("options").get("num_predict"));
    } else {
      c.model = strOf(r.get("model"));
      if (c.model.empty()) c.model = pathModel;   // Vertex AI: the model is in the path
      c.stream = r.get("stream").asBool();
      if (api == "responses" || api == "responses.compact") {
        c.requestMessages = dumpIfPresent(r.get("input"));
        c.system = dumpIfPresent(r.get("instructions"));
        c.maxTokens = intOf(r.get("max_output_tokens"));
      } else {
        c.requestMessages = dumpIfPresent(r.get("messages"));
        c.system = dumpIfPresent(r.get("system"));
        c.maxTokens = intOf(r.get("max_tokens"));
        if (!c.maxTokens) c.maxTokens = intOf(r.get("max_completion_tokens"));
      }
      c.tools = dumpIfPresent(r.get("tools"));
    }
  } else {
    addProblem(c, "request body is not whole JSON");
  }

  if (!x.response) {
    c.incomplete = true;
    addProblem(c, "no response captured");
    if (c.tEndNs < c.tStartNs) c.tEndNs = c.tStartNs;
    return c;
  }
  const HttpMessage& resp = *x.response;
  c.status = resp.status;
  c.tFirstByteNs = resp.tHeadersNs;
  c.responseBytes = resp.wireBodyBytes;
  // A response cut after the answer's own end (the stream's end event, a whole JSON
  // body) still holds the whole answer: clients stop reading there (the openai SDK
  // closes the connection at [DONE], before the last chunk). Said, not counted as cut.
  auto noteCut = [&](bool answerEnded) {
    if (resp.complete) {
      if (!resp.problem.empty()) addProblem(c, resp.problem);
    } else if (answerEnded) {
      addProblem(c, "response framing cut after the answer's end" +
                        (resp.problem.empty() ? "" : ": " + resp.problem));
    } else {
      c.incomplete = true;
      addProblem(c, "response incomplete" + (resp.problem.empty() ? "" : ": " + resp.problem));
    }
  };
  if (resp.contentEncoding.size() && !resp.decoded) {
    noteCut(false);
    // The body is as transferred (an unknown coding, or damaged): do not read it as JSON.
    if (resp.status >= 400 && c.error.empty()) c.error = "HTTP " + std::to_string(resp.status);
    if (c.model.empty()) c.model = c.responseModel;
    return c;
  }
  bool sse = resp.contentType() == "text/event-stream";
  bool answerEnded = false;
  if (route.provider == "google") {
    answerEnded = geminiResponse(resp, sse, c);
  } else if (route.provider == "ollama") {
    if (!resp.body.empty()) answerEnded = ollamaResponse(resp, c);
  } else if (route.bedrock && resp.contentType() == "application/vnd.amazon.eventstream") {
    c.stream = true;
    answerEnded = bedrockStream(resp, c);
    if (!answerEnded) {
      c.incomplete = true;
      addProblem(c, "stream has no message_stop");
    }
  } else if (sse) {
    c.stream = true;
    auto events = splitSse(resp.body);
    bool ended = false;
    if (api == "messages") ended = anthropicStream(events, resp, c);
    else if (api == "chat.completions") ended = chatStream(events, resp, c);
    else ended = responsesStream(events, resp, c);
    answerEnded = ended;
    if (!ended) {
      c.incomplete = true;
      addProblem(c, api == "messages"           ? "stream has no message_stop"
                    : api == "chat.completions" ? "stream has no [DONE]"
                                                : "stream has no response.completed");
    }
  } else if (!resp.body.empty()) {
    auto body = parseJson(resp.body);
    if (!body.ok()) {
      if (resp.complete) addProblem(c, "response body is not JSON (" + body.status().message() + ")");
      if (resp.status >= 400) c.error = resp.body.substr(0, 500);
    } else {
      if (api == "messages") anthropicResponse(*body, c);
      else if (api == "chat.completions") chatResponse(*body, c);
      else responsesResponse(*body, c);
      c.tFirstTokenNs = resp.timeAtBody(1);
      answerEnded = true;
    }
  }
  noteCut(answerEnded);
  if (resp.status >= 400 && c.error.empty()) {
    // {"message": ...} error bodies (Bedrock names the type in x-amzn-ErrorType).
    auto body = parseJson(resp.body);
    std::string msg = body.ok() ? strOf(body->get("message")) : std::string();
    std::string type = resp.headerOr("x-amzn-errortype");
    type = type.substr(0, type.find(':'));
    if (!msg.empty()) c.error = type.empty() ? msg : type + ": " + msg;
  }
  if (resp.status >= 400 && c.error.empty()) c.error = "HTTP " + std::to_string(resp.status);
  if (c.model.empty()) c.model = c.responseModel;
  return c;
}

std::vector<LlmCall> recognizeWebSocketCalls(const HttpExchange& x, size_t index) {
  std::vector<LlmCall> out;
  if (x.websocket.empty()) return out;
  // Responses over WebSocket: the client sends {"type":"response.create", ...the
  // /responses body...} (or with the body under "response"); the server answers with
  // the events the SSE stream would carry, one per text message, up to
  // response.completed. One call per response.create.
  struct Pending {
    LlmCall call;
    HttpMessage events;            // server messages as one body, marks at message ends
    std::vector<SseEvent> pieces;
  };
  std::vector<Pending> calls;
  auto finish = [&](Pending& p) {
    LlmCall& c = p.call;
    bool ended = responsesStream(p.pieces, p.events, c);
    if (!ended) {
      c.incomplete = true;
      addProblem(c, "no response.completed before the next request or the end");
    }
    if (c.model.empty()) c.model = c.responseModel;
    out.push_back(std::move(c));
  };
  std::optional<Pending> cur;
  for (const WsMessage& m : x.websocket) {
    if (m.opcode != 1) continue;
    if (m.fromClient) {
      auto j = parseJson(m.data);
      std::string type = j.ok() ? strOf(j->get("type")) : std::string();
      // response.append (older Codex) adds input to the conversation and starts the
      // next response with the settings of the last response.create; other client
      // messages (response.processed, ...) are not requests.
      if (type != "response.create" && type != "response.append") continue;
      std::string lastModel = cur ? cur->call.model : std::string();
      std::string lastSystem = cur ? cur->call.system : std::string();
      std::string lastTools = cur ? cur->call.tools : std::string();
      if (cur) finish(*cur);
      cur.emplace();
      LlmCall& c = cur->call;
      const Json& r = j->get("response").isObject() ? j->get("response") : *j;
      c.exchange = index;
      c.provider = "openai";
      c.api = "responses";
      c.host = x.host();
      c.path = x.path();
      c.transport = "websocket";
      c.stream = true;
      c.model = strOf(r.get("model"));
      c.requestMessages = dumpIfPresent(r.get("input"));
      c.system = dumpIfPresent(r.get("instructions"));
      c.tools = dumpIfPresent(r.get("tools"));
      c.maxTokens = intOf(r.get("max_output_tokens"));
      if (type == "response.append") {
        c.model = lastModel;
        c.system = lastSystem;
        c.tools = lastTools;
      }
      c.status = x.status();
      c.pid = m.pid ? m.pid : x.pid;
      c.comm = m.pid ? m.comm : x.comm;
      c.conn = x.conn;
      c.tStartNs = m.tStartNs;
      c.tEndNs = m.tEndNs;
      c.requestBytes = m.wireBytes;
      if (!m.complete) {
        c.incomplete = true;
        addProblem(c, "request incomplete: " + m.problem);
      }
      continue;
    }
    if (!cur) continue;
    LlmCall& c = cur->call;
    if (c.tFirstByteNs == 0) c.tFirstByteNs = m.tStartNs;
    c.tEndNs = std::max(c.tEndNs, m.tEndNs);
    c.responseBytes += m.wireBytes;
    cur->events.body += m.data;
    cur->events.bodyMarks.push_back({cur->events.body.size(), m.tEndNs});
    cur->events.tEndNs = m.tEndNs;
    SseEvent ev;
    ev.data = m.data;
    ev.endPos = cur->events.body.size();
    ev.complete = m.complete;
    if (!m.complete) {
      c.incomplete = true;
      addProblem(c, "response message incomplete: " + m.problem);
    }
    cur->pieces.push_back(std::move(ev));
  }
  if (cur) finish(*cur);
  return out;
}

std::vector<LlmCall> recognizeLlmCalls(const std::vector<HttpExchange>& exchanges) {
  std::vector<LlmCall> out;
  for (size_t i = 0; i < exchanges.size(); ++i) {
    if (!exchanges[i].websocket.empty()) {
      for (auto& c : recognizeWebSocketCalls(exchanges[i], i)) out.push_back(std::move(c));
    } else if (auto c = recognizeLlmCall(exchanges[i], i)) {
      out.push_back(std::move(*c));
    }
  }
  return out;
}

}  // namespace aa::traffic
