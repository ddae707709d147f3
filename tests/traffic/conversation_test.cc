#include "store/traffic/conversation.h"

#include <gtest/gtest.h>

namespace aa::traffic {
namespace {

using Kind = ConversationItem::Kind;

std::string render(const std::vector<ConversationItem>& items) {
  std::string out;
  for (const auto& i : items) {
    out += (i.fromResponse ? "< " : "> ") + i.role + " " + conversationKindName(i.kind);
    if (!i.name.empty()) out += " " + i.name;
    if (!i.id.empty()) out += " #" + i.id;
    out += ": " + i.text + "\n";
  }
  return out;
}

TEST(Conversation, AnthropicBlocksToolUseAndResult) {
  LlmCall c;
  c.system = R"([{"type":"text","text":"Be terse."}])";
  c.requestMessages =
      R"([{"role":"user","content":"Read a.txt"},)"
      R"({"role":"assistant","content":[{"type":"text","text":"Reading."},{"type":"tool_use","id":"t1","name":"read","input":{"p":"a.txt"}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"hello"}]},{"type":"image","source":{}}]}])";
  c.responseText = "It says hello.";
  c.toolCalls.push_back({"t2", "write", R"({"p":"b.txt"})"});
  EXPECT_EQ(render(conversationOf(c)),
            "> system text: Be terse.\n"
            "> user text: Read a.txt\n"
            "> assistant text: Reading.\n"
            "> assistant tool_call read #t1: {\"p\":\"a.txt\"}\n"
            "> tool tool_result #t1: hello\n"
            "> user image: \n"
            "< assistant text: It says hello.\n"
            "< assistant tool_call write #t2: {\"p\":\"b.txt\"}\n");
}

TEST(Conversation, OpenAiChatToolCallsAndToolMessages) {
  LlmCall c;
  c.requestMessages =
      R"([{"role":"system","content":"Sys"},{"role":"user","content":[{"type":"text","text":"Hi"}]},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"c1","content":"42"}])";
  c.thinking = "hmm";
  c.responseText = "The answer is 42.";
  EXPECT_EQ(render(conversationOf(c)),
            "> system text: Sys\n"
            "> user text: Hi\n"
            "> assistant tool_call f #c1: {}\n"
            "> tool tool_result #c1: 42\n"
            "< assistant thinking: hmm\n"
            "< assistant text: The answer is 42.\n");
}

TEST(Conversation, OpenAiResponsesItemsAndStringInput) {
  LlmCall c;
  c.system = R"("Answer in French.")";
  c.requestMessages =
      R"([{"role":"user","content":[{"type":"input_text","text":"Bonjour"}]},)"
      R"({"type":"function_call","call_id":"k","name":"look","arguments":"{\"q\":1}"},)"
      R"({"type":"function_call_output","call_id":"k","output":"found"}])";
  auto items = conversationOf(c);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].text, "Answer in French.");
  EXPECT_EQ(items[2].kind, Kind::kToolCall);
  EXPECT_EQ(items[2].name, "look");
  EXPECT_EQ(items[3].kind, Kind::kToolResult);
  EXPECT_EQ(items[3].text, "found");
  LlmCall s;
  s.requestMessages = R"("just a string")";
  auto one = conversationOf(s);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].role, "user");
  EXPECT_EQ(one[0].text, "just a string");
}

TEST(Conversation, BrokenRequestIsShownAsIs) {
  LlmCall c;
  c.requestMessages = "[{\"role\":";
  auto items = conversationOf(c);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Kind::kOther);
  EXPECT_EQ(items[0].text, "[{\"role\":");
}

}  // namespace
}  // namespace aa::traffic
