#include "store/traffic/conversation.h"

#include "store/traffic/json.h"

namespace aa::traffic {

namespace {

using Kind = ConversationItem::Kind;

std::string strOf(const Json& j) { return j.isString() ? j.str() : std::string(); }

void add(std::vector<ConversationItem>& out, std::string role, Kind kind, std::string text,
         std::string name = {}, std::string id = {}) {
  out.push_back({std::move(role), kind, std::move(text), std::move(name), std::move(id), false});
}

// Text of a content value that may be a string or a list of text parts.
std::string flatText(const Json& content) {
  if (content.isString()) return content.str();
  std::string out;
  for (const auto& p : content.items()) {
    if (p.get("text").isString()) {
      if (!out.empty()) out += '\n';
      out += p.get("text").str();
    }
  }
  if (out.empty() && !content.isNull() && !content.isArray()) return content.dump();
  return out;
}

// One content block of Anthropic or of an OpenAI part list.
void addBlock(std::vector<ConversationItem>& out, const std::string& role, const Json& b) {
  std::string type = strOf(b.get("type"));
  if (type == "text" || type == "input_text" || type == "output_text") {
    add(out, role, Kind::kText, strOf(b.get("text")));
  } else if (type == "image" || type == "image_url" || type == "input_image") {
    add(out, role, Kind::kImage, "");
  } else if (type == "tool_use" || type == "server_tool_use") {
    add(out, role, Kind::kToolCall, b.get("input").dump(), strOf(b.get("name")), strOf(b.get("id")));
  } else if (type == "tool_result") {
    add(out, "tool", Kind::kToolResult, flatText(b.get("content")), {}, strOf(b.get("tool_use_id")));
  } else if (type == "thinking") {
    add(out, role, Kind::kThinking, strOf(b.get("thinking")));
  } else {
    add(out, role, Kind::kOther, b.dump());
  }
}

// Tool arguments: JSON text (OpenAI) or an object (Ollama, Gemini).
std::string argsText(const Json& a) { return a.isString() ? a.str() : a.isNull() ? "" : a.dump(); }

// One Gemini part (contents[].parts[], systemInstruction.parts[]).
void addGeminiPart(std::vector<ConversationItem>& out, const std::string& role, const Json& p) {
  const Json* fc = p.find("functionCall");
  if (!fc) fc = p.find("function_call");
  const Json* fr = p.find("functionResponse");
  if (!fr) fr = p.find("function_response");
  if (p.get("text").isString()) {
    add(out, role, p.get("thought").asBool() ? Kind::kThinking : Kind::kText, p.get("text").str());
  } else if (fc) {
    add(out, role, Kind::kToolCall, argsText(fc->get("args")), strOf(fc->get("name")), strOf(fc->get("id")));
  } else if (fr) {
    // Gemini pairs results with calls by name (and id, when the call had one).
    std::string id = strOf(fr->get("id"));
    add(out, "tool", Kind::kToolResult, argsText(fr->get("response")), strOf(fr->get("name")),
        id.empty() ? strOf(fr->get("name")) : id);
  } else if (p.find("inlineData") || p.find("inline_data") || p.find("fileData") || p.find("file_data")) {
    add(out, role, Kind::kImage, "");
  } else {
    add(out, role, Kind::kOther, p.dump());
  }
}

void addMessage(std::vector<ConversationItem>& out, const Json& m) {
  std::string role = strOf(m.get("role"));
  std::string type = strOf(m.get("type"));
  if (m.get("parts").isArray()) {   // Gemini content: role "user" / "model" (or absent)
    std::string r = role == "model" ? "assistant" : role.empty() ? "user" : role;
    for (const auto& p : m.get("parts").items()) addGeminiPart(out, r, p);
    return;
  }
  if (type == "reasoning") {   // /responses reasoning item sent back
    std::string text;
    for (const auto& s : m.get("summary").items()) text += strOf(s.get("text"));
    add(out, "assistant", Kind::kThinking, text);
    return;
  }
  if (type.size() > 5 && type.ends_with("_call") && type != "function_call" && type != "custom_tool_call") {
    // Built-in tools of /responses (local_shell_call, web_search_call, ...).
    add(out, "assistant", Kind::kToolCall, argsText(m.get("action")), type.substr(0, type.size() - 5),
        strOf(m.get("call_id")));
    return;
  }
  if (type.size() > 12 && type.ends_with("_call_output")) {
    add(out, "tool", Kind::kToolResult, flatText(m.get("output")), {}, strOf(m.get("call_id")));
    return;
  }
  // /responses input items that are not messages.
  if (type == "function_call" || type == "custom_tool_call") {
    std::string args = m.get("arguments").isString() ? m.get("arguments").str() : strOf(m.get("input"));
    add(out, "assistant", Kind::kToolCall, args, strOf(m.get("name")), strOf(m.get("call_id")));
    return;
  }
  if (type == "function_call_output" || type == "custom_tool_call_output") {
    add(out, "tool", Kind::kToolResult, flatText(m.get("output")), {}, strOf(m.get("call_id")));
    return;
  }
  if (role.empty()) {
    add(out, "", Kind::kOther, m.dump());
    return;
  }
  const Json& content = m.get("content");
  if (role == "tool") {   // OpenAI chat tool result (Ollama: tool_name instead of an id)
    add(out, "tool", Kind::kToolResult, flatText(content), strOf(m.get("tool_name")),
        strOf(m.get("tool_call_id")));
    return;
  }
  if (content.isString()) {
    add(out, role, Kind::kText, content.str());
  } else {
    for (const auto& b : content.items()) addBlock(out, role, b);
  }
  for (const auto& tc : m.get("tool_calls").items()) {   // OpenAI chat / Ollama assistant turn
    const Json& f = tc.get("function");
    add(out, role, Kind::kToolCall, argsText(f.get("arguments")), strOf(f.get("name")), strOf(tc.get("id")));
  }
}

}  // namespace

const char* conversationKindName(ConversationItem::Kind k) {
  switch (k) {
    case Kind::kText: return "text";
    case Kind::kToolCall: return "tool_call";
    case Kind::kToolResult: return "tool_result";
    case Kind::kThinking: return "thinking";
    case Kind::kImage: return "image";
    case Kind::kOther: return "other";
  }
  return "other";
}

std::vector<ConversationItem> conversationOf(const LlmCall& call) {
  std::vector<ConversationItem> out;
  if (!call.system.empty()) {
    auto sys = parseJson(call.system);
    if (sys.ok() && sys->get("parts").isArray()) {   // Gemini systemInstruction
      std::string text;
      for (const auto& p : sys->get("parts").items()) {
        if (!text.empty()) text += '\n';
        text += strOf(p.get("text"));
      }
      add(out, "system", Kind::kText, text);
    } else {
      add(out, "system", Kind::kText, sys.ok() ? flatText(*sys) : call.system);
    }
  }
  if (!call.requestMessages.empty()) {
    auto msgs = parseJson(call.requestMessages);
    if (!msgs.ok()) {
      add(out, "", Kind::kOther, call.requestMessages);
    } else if (msgs->isString()) {   // /responses "input" or Ollama's "prompt" as one string
      add(out, "user", Kind::kText, msgs->str());
    } else {
      for (const auto& m : msgs->items()) addMessage(out, m);
    }
  }
  size_t answerStart = out.size();
  if (!call.thinking.empty()) add(out, "assistant", Kind::kThinking, call.thinking);
  if (!call.responseText.empty()) add(out, "assistant", Kind::kText, call.responseText);
  for (const auto& t : call.toolCalls) add(out, "assistant", Kind::kToolCall, t.arguments, t.name, t.id);
  for (size_t i = answerStart; i < out.size(); ++i) out[i].fromResponse = true;
  return out;
}

}  // namespace aa::traffic
