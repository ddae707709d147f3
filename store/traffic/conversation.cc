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

void addMessage(std::vector<ConversationItem>& out, const Json& m) {
  std::string role = strOf(m.get("role"));
  std::string type = strOf(m.get("type"));
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
  if (role == "tool") {   // OpenAI chat tool result
    add(out, "tool", Kind::kToolResult, flatText(content), {}, strOf(m.get("tool_call_id")));
    return;
  }
  if (content.isString()) {
    add(out, role, Kind::kText, content.str());
  } else {
    for (const auto& b : content.items()) addBlock(out, role, b);
  }
  for (const auto& tc : m.get("tool_calls").items()) {   // OpenAI chat assistant turn
    const Json& f = tc.get("function");
    add(out, role, Kind::kToolCall, strOf(f.get("arguments")), strOf(f.get("name")), strOf(tc.get("id")));
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
    add(out, "system", Kind::kText, sys ? flatText(*sys) : call.system);
  }
  if (!call.requestMessages.empty()) {
    auto msgs = parseJson(call.requestMessages);
    if (!msgs) {
      add(out, "", Kind::kOther, call.requestMessages);
    } else if (msgs->isString()) {   // /responses "input" given as one string
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
