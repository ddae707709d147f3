// The conversation of an LLM call as a flat list of items, the same shape for every
// API: what a conversation view shows (system prompt, the messages as sent, then the
// model's answer and the tools it asked for). Provider formats are handled here so
// viewers need not know them.
#pragma once

#include <string>
#include <vector>

#include "store/traffic/llm.h"

namespace aa::traffic {

struct ConversationItem {
  enum class Kind { kText, kToolCall, kToolResult, kThinking, kImage, kOther };
  std::string role;        // "system", "user", "assistant", "tool" (as the API names it)
  Kind kind = Kind::kText;
  std::string text;        // text; tool call arguments (JSON text); tool result content;
                           // for kOther the item's JSON
  std::string name;        // tool name (kToolCall)
  std::string id;          // tool call id (kToolCall, kToolResult)
  bool fromResponse = false;   // part of the model's answer, not of the request
};

const char* conversationKindName(ConversationItem::Kind k);   // "text", "tool_call", ...

// System prompt first, then the request's messages in order, then the answer: the
// response text, its thinking, and its tool calls. Unparseable request JSON gives one
// kOther item holding it as is.
std::vector<ConversationItem> conversationOf(const LlmCall& call);

}  // namespace aa::traffic
