#include "store/traffic/llm.h"

#include <map>

#include "store/traffic/json.h"
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
    std::string err;
    auto j = parseJson(ev.data, &err);
    if (!j) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + err + ")");
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
    std::string err;
    auto j = parseJson(ev.data, &err);
    if (!j) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + err + ")");
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

void responsesOutput(const Json& output, LlmCall& c) {
  for (const auto& item : output.items()) {
    std::string type = strOf(item.get("type"));
    if (type == "message") {
      for (const auto& part : item.get("content").items()) {
        if (strOf(part.get("type")) == "output_text") c.responseText += strOf(part.get("text"));
      }
    } else if (type == "function_call" || type == "custom_tool_call") {
      std::string args = item.get("arguments").isString() ? item.get("arguments").str()
                                                          : strOf(item.get("input"));
      c.toolCalls.push_back({strOf(item.get("call_id")), strOf(item.get("name")), args});
    } else if (type == "reasoning") {
      for (const auto& s : item.get("summary").items()) c.thinking += strOf(s.get("text"));
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
  bool ended = false;
  for (const auto& ev : events) {
    std::string err;
    auto j = parseJson(ev.data, &err);
    if (!j) {
      // A cut last event is expected in a cut stream; the stream is marked for that.
      if (ev.complete) addProblem(c, "stream event not JSON (" + err + ")");
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
      firstToken();
    } else if (type == "response.reasoning_summary_text.delta" ||
               type == "response.reasoning_text.delta") {
      c.thinking += strOf(j->get("delta"));
      firstToken();
    } else if (type == "response.output_item.added" || type == "response.output_item.done") {
      const Json& item = j->get("item");
      std::string it = strOf(item.get("type"));
      if (it == "function_call" || it == "custom_tool_call") {
        LlmToolCall& t = toolAt(oi);
        if (item.get("call_id").isString()) t.id = item.get("call_id").str();
        if (item.get("name").isString()) t.name = item.get("name").str();
        // The done item holds the whole arguments: they replace the assembled deltas.
        if (type == "response.output_item.done" && item.get("arguments").isString()) {
          t.arguments = item.get("arguments").str();
          toolArgsFinal[oi] = true;
        }
      }
    } else if (type == "response.function_call_arguments.delta" ||
               type == "response.custom_tool_call_input.delta") {
      if (!toolArgsFinal[oi]) toolAt(oi).arguments += strOf(j->get("delta"));
      firstToken();
    } else if (type == "response.function_call_arguments.done") {
      if (j->get("arguments").isString()) {
        toolAt(oi).arguments = j->get("arguments").str();
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

}  // namespace

std::optional<LlmCall> recognizeLlmCall(const HttpExchange& x, size_t index) {
  if (!x.request || x.request->method != "POST") return std::nullopt;
  const HttpMessage& req = *x.request;
  std::string path = req.target;
  size_t q = path.find('?');
  if (q != std::string::npos) path.resize(q);
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  std::string api;
  if (endsWith(path, "/chat/completions")) {
    api = "chat.completions";
  } else if (endsWith(path, "/responses")) {
    api = "responses";
  } else if (endsWith(path, "/messages")) {
    api = "messages";
  }
  auto reqJson = parseJson(req.body);
  bool shapeMessages = reqJson && reqJson->isObject() && reqJson->get("messages").isArray();
  if (api.empty()) {
    // Unknown path: only an unmistakable body shape makes it a call.
    if (!shapeMessages || !reqJson->get("model").isString()) return std::nullopt;
    api = req.header("anthropic-version") ? "messages" : "chat.completions";
  }
  if (reqJson && !reqJson->isObject()) return std::nullopt;
  if (reqJson && api == "responses" && !reqJson->find("input") && !reqJson->find("model")) {
    return std::nullopt;
  }
  if (reqJson && api != "responses" && !shapeMessages) return std::nullopt;
  if (!reqJson && req.complete) return std::nullopt;   // a whole body that is not JSON

  LlmCall c;
  c.exchange = index;
  c.api = api;
  c.provider = api == "messages" ? "anthropic" : "openai";
  c.host = x.host();
  c.path = req.target;
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
  if (reqJson) {
    const Json& r = *reqJson;
    c.model = strOf(r.get("model"));
    c.stream = r.get("stream").asBool();
    if (api == "responses") {
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
  if (!resp.complete) {
    c.incomplete = true;
    addProblem(c, "response incomplete" + (resp.problem.empty() ? "" : ": " + resp.problem));
  } else if (!resp.problem.empty()) {
    addProblem(c, resp.problem);
  }
  bool sse = resp.contentType() == "text/event-stream";
  if (sse) c.stream = true;
  if (sse) {
    auto events = splitSse(resp.body);
    bool ended = false;
    if (api == "messages") ended = anthropicStream(events, resp, c);
    else if (api == "chat.completions") ended = chatStream(events, resp, c);
    else ended = responsesStream(events, resp, c);
    if (!ended) {
      c.incomplete = true;
      addProblem(c, api == "messages"           ? "stream has no message_stop"
                    : api == "chat.completions" ? "stream has no [DONE]"
                                                : "stream has no response.completed");
    }
  } else if (!resp.body.empty()) {
    std::string err;
    auto body = parseJson(resp.body, &err);
    if (!body) {
      if (resp.complete) addProblem(c, "response body is not JSON (" + err + ")");
      if (resp.status >= 400) c.error = resp.body.substr(0, 500);
    } else {
      if (api == "messages") anthropicResponse(*body, c);
      else if (api == "chat.completions") chatResponse(*body, c);
      else responsesResponse(*body, c);
      c.tFirstTokenNs = resp.timeAtBody(1);
    }
  }
  if (resp.status >= 400 && c.error.empty()) c.error = "HTTP " + std::to_string(resp.status);
  if (c.model.empty()) c.model = c.responseModel;
  return c;
}

std::vector<LlmCall> recognizeLlmCalls(const std::vector<HttpExchange>& exchanges) {
  std::vector<LlmCall> out;
  for (size_t i = 0; i < exchanges.size(); ++i) {
    if (auto c = recognizeLlmCall(exchanges[i], i)) out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace aa::traffic
