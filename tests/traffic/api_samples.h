// Canned traffic of the APIs added after the first three: Gemini (Google AI, Vertex,
// Code Assist), Ollama's native API, the Responses API as Codex uses it, and the
// helpers that frame it (WebSocket frames, brotli and zstd bodies). Shapes as the
// public API references document them.
#pragma once

#ifdef AA_TEST_HAVE_BROTLIENC
#include <brotli/encode.h>
#endif
#include <zstd.h>

#include <string>
#include <vector>

#include "tests/traffic/llm_samples.h"

namespace aa::traffic::testing {

inline const std::string kGeminiRequest =
    R"({"contents":[{"role":"user","parts":[{"text":"Read /tmp/a.txt"}]},)"
    R"({"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"path":"/tmp/a.txt"}}}]},)"
    R"({"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"content":"hi"}}}]}],)"
    R"("systemInstruction":{"parts":[{"text":"You are terse."}]},)"
    R"("tools":[{"functionDeclarations":[{"name":"read_file","parameters":{"type":"OBJECT"}}]}],)"
    R"("generationConfig":{"maxOutputTokens":512,"thinkingConfig":{"includeThoughts":true}}})";

// The chunks of one streamed answer: a thought, text in two pieces, a function call,
// the finish reason with the final usage.
inline std::vector<std::string> geminiChunks() {
  return {
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Let me see.","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":40,"totalTokenCount":40},"modelVersion":"gemini-2.5-flash","responseId":"resp-g1"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"The file says "}]},"index":0}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":3,"totalTokenCount":43},"modelVersion":"gemini-2.5-flash","responseId":"resp-g1"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"h\u00e9llo."},{"functionCall":{"name":"write_file","args":{"path":"/tmp/b.txt","text":"hi"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":9,"thoughtsTokenCount":4,"totalTokenCount":53,"cachedContentTokenCount":8},"modelVersion":"gemini-2.5-flash","responseId":"resp-g1"})",
  };
}

inline std::string geminiSseBody() {
  std::string out;
  for (const auto& c : geminiChunks()) out += "data: " + c + "\r\n\r\n";
  return out;
}

// streamGenerateContent without ?alt=sse: a JSON array, pretty-printed element by
// element as Google's servers send it.
inline std::string geminiArrayBody() {
  std::string out = "[";
  bool first = true;
  for (const auto& c : geminiChunks()) {
    out += first ? "" : ",\r\n";
    out += c;
    first = false;
  }
  return out + "]";
}

inline const std::string kOllamaChatRequest =
    R"({"model":"qwen3:8b","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"List /tmp"}],)"
    R"("tools":[{"type":"function","function":{"name":"ls","parameters":{"type":"object"}}}],"options":{"num_predict":256}})";

inline std::string ollamaChatNdjson() {
  return R"({"model":"qwen3:8b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","thinking":"User wants ls."},"done":false})" "\n"
         R"({"model":"qwen3:8b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Listing"},"done":false})" "\n"
         R"({"model":"qwen3:8b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":" now.","tool_calls":[{"function":{"name":"ls","arguments":{"dir":"/tmp"}}}]},"done":false})" "\n"
         R"({"model":"qwen3:8b","created_at":"2026-01-01T00:00:01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":100,"prompt_eval_count":30,"eval_count":12})" "\n";
}

// The Responses API as Codex streams it: reasoning with a summary, a custom tool
// (apply_patch, free-form input), a function call and a built-in local shell call.
inline const std::string kCodexRequest =
    R"({"model":"gpt-5-codex","instructions":"You are Codex.","input":[)"
    R"({"type":"message","role":"user","content":[{"type":"input_text","text":"Fix the bug"}]},)"
    R"({"type":"reasoning","summary":[{"type":"summary_text","text":"Earlier thought"}],"encrypted_content":"gAAAA"},)"
    R"({"type":"function_call","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"call_1"},)"
    R"({"type":"function_call_output","call_id":"call_1","output":"a.c"},)"
    R"({"type":"custom_tool_call","name":"apply_patch","input":"*** Begin Patch","call_id":"call_2"},)"
    R"({"type":"custom_tool_call_output","call_id":"call_2","output":"Done"}],)"
    R"("tools":[{"type":"function","name":"shell"},{"type":"custom","name":"apply_patch"}],)"
    R"("tool_choice":"auto","parallel_tool_calls":false,"reasoning":{"effort":"medium","summary":"auto"},)"
    R"("store":false,"stream":true,"include":["reasoning.encrypted_content"],"prompt_cache_key":"abc"})";

inline std::vector<std::string> codexEvents() {
  return {
      R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_c1","model":"gpt-5-codex","status":"in_progress","output":[]}})",
      R"({"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}})",
      R"({"type":"response.reasoning_summary_text.delta","sequence_number":2,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"**Planning** the fix"})",
      R"({"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"**Planning** the fix"}],"encrypted_content":"gAAAB"}})",
      R"({"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"type":"custom_tool_call","id":"ctc_1","call_id":"call_3","name":"apply_patch","input":"","status":"in_progress"}})",
      R"({"type":"response.custom_tool_call_input.delta","sequence_number":5,"output_index":1,"item_id":"ctc_1","delta":"*** Begin Patch\n"})",
      R"({"type":"response.custom_tool_call_input.delta","sequence_number":6,"output_index":1,"item_id":"ctc_1","delta":"*** End Patch"})",
      R"({"type":"response.custom_tool_call_input.done","sequence_number":7,"output_index":1,"item_id":"ctc_1","input":"*** Begin Patch\n*** End Patch"})",
      R"({"type":"response.output_item.done","sequence_number":8,"output_index":1,"item":{"type":"custom_tool_call","id":"ctc_1","call_id":"call_3","name":"apply_patch","input":"*** Begin Patch\n*** End Patch","status":"completed"}})",
      R"({"type":"response.output_item.done","sequence_number":9,"output_index":2,"item":{"type":"local_shell_call","id":"lsh_1","call_id":"call_4","action":{"type":"exec","command":["make"]},"status":"completed"}})",
      R"({"type":"response.completed","sequence_number":10,"response":{"id":"resp_c1","model":"gpt-5-codex","status":"completed","output":[],"usage":{"input_tokens":900,"input_tokens_details":{"cached_tokens":800},"output_tokens":70,"output_tokens_details":{"reasoning_tokens":30},"total_tokens":970}}})",
  };
}

inline std::string codexSseBody() {
  std::string out;
  for (const auto& e : codexEvents()) {
    auto j = e.find("\"type\":\"") + 8;
    out += "event: " + e.substr(j, e.find('"', j) - j) + "\ndata: " + e + "\n\n";
  }
  return out;
}

// One WebSocket frame. `mask`: a client frame (masked with a fixed key).
inline std::string wsFrame(uint8_t opcode, std::string_view payload, bool mask, bool fin = true,
                           bool rsv1 = false) {
  std::string f;
  f += char((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
  uint8_t m = mask ? 0x80 : 0;
  if (payload.size() < 126) {
    f += char(m | payload.size());
  } else if (payload.size() < 65536) {
    f += char(m | 126);
    f += char(payload.size() >> 8);
    f += char(payload.size());
  } else {
    f += char(m | 127);
    for (int i = 7; i >= 0; --i) f += char(uint64_t(payload.size()) >> (8 * i));
  }
  const char key[4] = {'\x12', '\x34', '\x56', '\x78'};
  if (mask) f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) f += mask ? char(payload[i] ^ key[i & 3]) : payload[i];
  return f;
}

// permessage-deflate of a sequence of messages sharing one window (context takeover):
// each compressed with a sync flush, the trailing 00 00 FF FF removed (RFC 7692 7.2.1).
class WsDeflater {
 public:
  WsDeflater() { deflateInit2(&z_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
  ~WsDeflater() { deflateEnd(&z_); }
  std::string compress(std::string_view in) {
    std::string out(in.size() + 64, '\0');
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    deflate(&z_, Z_SYNC_FLUSH);
    out.resize(out.size() - z_.avail_out);
    out.resize(out.size() - 4);
    return out;
  }

 private:
  z_stream z_{};
};

// "" when built without libbrotlienc (the br tests then fail saying so).
// One AWS event stream message with string headers (Bedrock's response stream).
inline std::string awsEventMessage(const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::string_view payload) {
  std::string h;
  for (const auto& [n, v] : headers) {
    h += char(n.size());
    h += n;
    h += char(7);
    h += char(v.size() >> 8);
    h += char(v.size());
    h += v;
  }
  auto be = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  auto crc = [](std::string_view d) {
    return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())));
  };
  uint32_t total = static_cast<uint32_t>(16 + h.size() + payload.size());
  std::string m = be(total) + be(static_cast<uint32_t>(h.size()));
  m += be(crc(m));
  m += h;
  m.append(payload);
  m += be(crc(m));
  return m;
}

inline std::string base64Of(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Bedrock's InvokeModelWithResponseStream answer carrying the given Messages API events.
inline std::string bedrockStreamBody(const std::vector<std::string>& events) {
  std::string out;
  for (const auto& e : events) {
    out += awsEventMessage({{":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}},
                           R"({"bytes":")" + base64Of(e) + R"(","p":"abcd"})");
  }
  return out;
}

inline std::string brotliOf(std::string_view in) {
#ifdef AA_TEST_HAVE_BROTLIENC
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 16, '\0');
  size_t n = out.size();
  BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, in.size(), reinterpret_cast<const uint8_t*>(in.data()), &n,
                        reinterpret_cast<uint8_t*>(out.data()));
  out.resize(n);
  return out;
#else
  (void)in;
  return {};
#endif
}

inline std::string zstdOf(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

}  // namespace aa::traffic::testing
