// Canned LLM API traffic (shapes as documented by Anthropic and OpenAI), used by the
// recognizer unit tests and the session golden tests.
#pragma once

#include <string>
#include <vector>

#include "tests/traffic/test_util.h"

namespace aa::traffic::testing {

inline std::string sseOf(const std::vector<std::pair<std::string, std::string>>& events) {
  std::string out;
  for (const auto& [name, data] : events) {
    if (!name.empty()) out += "event: " + name + "\n";
    out += "data: " + data + "\n\n";
  }
  return out;
}

inline std::string httpRequest(const std::string& path, const std::string& body,
                               const std::string& extraHeaders = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n" +
         extraHeaders + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::string httpResponse(const std::string& body, bool sse, bool chunk = false,
                                int status = 200) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                  "\r\nContent-Type: " + (sse ? "text/event-stream; charset=utf-8" : "application/json") +
                  "\r\n";
  if (chunk) return h + "Transfer-Encoding: chunked\r\n\r\n" + chunked(body, 64);
  return h + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline const std::string kAnthropicRequest =
    R"({"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are terse.",)"
    R"("messages":[{"role":"user","content":"Read /tmp/a.txt"}],)"
    R"("tools":[{"name":"read_file","input_schema":{"type":"object"}}],"stream":true})";

inline std::string anthropicStreamBody() {
  return sseOf({
      {"message_start", R"({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":3}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", w\u00f6rld"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"read_file","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"/tmp/"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"a.txt\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  });
}

inline const std::string kAnthropicPlainResponse =
    R"({"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",)"
    R"("content":[{"type":"text","text":"The answer is 4."},{"type":"tool_use","id":"toolu_9","name":"calc","input":{"expr":"2+2"}}],)"
    R"("stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":7}})";

inline const std::string kChatRequest =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Paris?"}],)"
    R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"stream":true,"stream_options":{"include_usage":true}})";

inline std::string chatStreamBody() {
  return sseOf({
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Let me check"},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"."},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"},
      {"", R"({"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":18,"total_tokens":49}})"},
      {"", "[DONE]"},
  });
}

inline const std::string kChatPlainResponse =
    R"({"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"Paris is sunny.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}})";

inline const std::string kResponsesRequest =
    R"({"model":"gpt-4.1","instructions":"Answer in French.","input":[{"role":"user","content":"Hello"}],)"
    R"("tools":[{"type":"function","name":"lookup","parameters":{}}],"stream":true})";

inline std::string responsesStreamBody() {
  return sseOf({
      {"response.created", R"({"type":"response.created","response":{"id":"resp_1","object":"response","model":"gpt-4.1-2025-04-14","status":"in_progress","output":[]}})"},
      {"response.output_item.added", R"({"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}})"},
      {"response.output_text.delta", R"({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Bon"})"},
      {"response.output_text.delta", R"({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"jour"})"},
      {"response.output_item.added", R"({"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_77","name":"lookup","arguments":""}})"},
      {"response.function_call_arguments.delta", R"({"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"{\"q\":"})"},
      {"response.function_call_arguments.delta", R"({"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"\"x\"}"})"},
      {"response.function_call_arguments.done", R"({"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":1,"arguments":"{\"q\":\"x\"}"})"},
      {"response.completed", R"({"type":"response.completed","response":{"id":"resp_1","object":"response","model":"gpt-4.1-2025-04-14","status":"completed","usage":{"input_tokens":12,"output_tokens":9,"total_tokens":21,"input_tokens_details":{"cached_tokens":2}}}})"},
  });
}

inline const std::string kResponsesPlainResponse =
    R"({"id":"resp_2","object":"response","model":"gpt-4.1-2025-04-14","status":"completed",)"
    R"("output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"thinking"}]},)"
    R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"Salut"}]},)"
    R"({"type":"function_call","call_id":"call_5","name":"lookup","arguments":"{}"}],)"
    R"("usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}})";

}  // namespace aa::traffic::testing
