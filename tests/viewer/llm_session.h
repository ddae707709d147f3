// A session holding LLM traffic for the viewer tests, written with SessionWriter:
// python3 (pid 100) makes a streamed Anthropic Messages call on TLS connection 9
// (request at 10 ms, response in two reads at 20 and 35 ms: text, then a list_dir
// tool call, usage, message_stop), then runs `ls /tmp` (pid 101, 40-45 ms) and
// writes /tmp/notes.txt (50 ms); at 70 ms a second call on connection 10 whose
// chunked response is cut before its end (incomplete). The session ends at 90 ms.
#pragma once

#include <string>

#include "tests/viewer/test_session.h"

namespace aa::view::test {

inline std::string sseEvent(const std::string& name, const std::string& json) {
  return "event: " + name + "\ndata: " + json + "\n\n";
}

inline const std::string kLlmRequestBody =
    R"({"model":"claude-test-1","max_tokens":256,"stream":true,"system":"You are terse.",)"
    R"("messages":[{"role":"user","content":"List /tmp please"}],)"
    R"("tools":[{"name":"list_dir","input_schema":{"type":"object"}}]})";

inline std::string llmRequest(const std::string& body) {
  return "POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.test\r\nanthropic-version: 2023-06-01\r\n"
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The streamed answer, split where the second TLS read begins.
inline std::pair<std::string, std::string> llmResponseParts() {
  std::string first =
      sseEvent("message_start", R"({"type":"message_start","message":{"id":"msg_v1","type":"message","role":"assistant","model":"claude-test-1","content":[],"usage":{"input_tokens":31,"output_tokens":1}}})") +
      sseEvent("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
      sseEvent("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me look."}})");
  std::string second =
      sseEvent("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      sseEvent("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_v1","name":"list_dir","input":{}}})") +
      sseEvent("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\":\"/tmp\"}"}})") +
      sseEvent("content_block_stop", R"({"type":"content_block_stop","index":1})") +
      sseEvent("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":17}})") +
      sseEvent("message_stop", R"({"type":"message_stop"})");
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " +
                           std::to_string(first.size() + second.size()) + "\r\n\r\n";
  return {head + first, second};
}

inline std::string writeLlmSession(const std::string& path) {
  TestSessionWriter t(path, 4);
  if (!t.error().empty()) return t.error();
  SessionWriter& sw = t.writer();
  auto ev = [&](uint64_t ms, uint32_t pid, const char* comm) { return t.ev(ms, pid, comm); };
  auto exec = [&](uint64_t ms, uint32_t pid, uint32_t ppid, const char* comm, const char* path,
                  std::initializer_list<const char*> argv) { t.exec(ms, pid, ppid, comm, path, argv); };
  auto tls = [&](uint64_t ms, uint64_t conn, bool write, const std::string& bytes, uint64_t offset) {
    auto t = ev(ms, 100, "python3").initTls();
    t.setDirection(write ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
    t.setConn(conn);
    t.setData(data(bytes));
    t.setLength(bytes.size());
    t.setOffset(offset);
    t.setFunc(write ? "SSL_write" : "SSL_read");
    t.setFd(5);
  };
  exec(1, 100, 1, "python3", "/usr/bin/python3", {"python3", "agent.py"});
  tls(10, 9, true, llmRequest(kLlmRequestBody), 0);
  const auto [first, second] = llmResponseParts();
  tls(20, 9, false, first, 0);
  tls(35, 9, false, second, first.size());
  ev(40, 100, "python3").initFork().setChildPid(101);
  exec(41, 101, 100, "ls", "/bin/ls", {"ls", "/tmp"});
  ev(45, 101, "ls").initExit().setExitCode(0);
  {
    auto op = ev(50, 100, "python3").initFileOpen();
    op.setPath(data("/tmp/notes.txt"));
    op.setFlags(01 | 0100);   // O_WRONLY | O_CREAT
    op.setRet(4);
  }
  // The second call: its chunked stream stops after the first event.
  tls(70, 10, true, llmRequest(kLlmRequestBody), 0);
  const std::string part = sseEvent("message_start", R"({"type":"message_start","message":{"id":"msg_v2","model":"claude-test-1","usage":{"input_tokens":40}}})");
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", part.size());
  tls(80, 10, false, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        std::string(size) + part + "\r\n", 0);
  ev(90, 100, "python3").initExit().setExitCode(0);
  SessionFooterInfo footer;
  footer.exitCode = 0;
  const Status s = sw.close(footer);
  return s.ok() ? std::string() : s.message();
}

// Sequence numbers in that session.
constexpr uint64_t kLlmSeqRequest = 1;     // the first call's TLS write
constexpr uint64_t kLlmSeqLsExec = 5;      // ls /tmp

}  // namespace aa::view::test
