// A small agent run built with SessionWriter, with knobs for what a regression would
// change: the file it writes, an extra exec, the tool call and the answer of its last
// LLM call. Everything that always differs between two real runs (pids, times, the
// mktemp suffix of its workspace, response and tool-call ids) differs between any two
// runs built here too, so equal knobs must give no difference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/session_builder.h"

namespace aa::testing {

struct AgentRunKnobs {
  std::string draft = "todo: summarise\n";         // written to WORK/notes/draft.txt
  bool extraExec = false;                           // also runs "git status"
  std::string toolCommand = "ls -l";                // call 0's tool call argument
  std::string finishSummary = "2 entries";          // call 1's tool call argument
  std::string answer = "The workspace has 2 entries.";   // call 1's text
  std::string prompt = "Summarise the workspace";   // the user's message
  // What differs between any two runs anyway:
  uint32_t pidBase = 1000;
  uint64_t startMono = 7'000'000'000ull;
  std::string tmpSuffix = "Ab3dE9";                 // mktemp -d /tmp/agent.XXXXXX
  std::string idSalt = "a";                         // response / tool-call ids
};

inline std::string anthropicAnswer(const std::string& id, const std::string& text,
                                   const std::string& toolId, const std::string& tool,
                                   const std::string& inputJson) {
  std::string content = "[";
  if (!text.empty()) content += R"({"type":"text","text":")" + text + "\"}";
  if (!tool.empty()) {
    if (content.size() > 1) content += ',';
    content += R"({"type":"tool_use","id":")" + toolId + R"(","name":")" + tool +
               R"(","input":)" + inputJson + "}";
  }
  content += "]";
  return R"({"id":")" + id + R"(","type":"message","role":"assistant","model":"demo-model",)" +
         R"("content":)" + content + R"(,"stop_reason":"tool_use","usage":{"input_tokens":)" +
         std::to_string(10 + id.size()) + R"(,"output_tokens":5}})";
}

inline Status writeAgentRun(const std::string& path, const AgentRunKnobs& k) {
  test_support::SessionOptions o;
  o.command = {"sh", "agent.sh"};
  o.startMonoNs = k.startMono;
  o.startWallNs = 1'700'000'000'000'000'000 + int64_t(k.startMono);
  test_support::SessionBuilder b(path, o);
  if (!b.status().ok()) return b.status();
  uint64_t t = k.startMono;
  constexpr auto data = &test_support::bytes;
  auto next = [&](uint32_t pid, std::string_view comm) {
    t += 1'000'000 + (k.pidBase % 7) * 1000;   // times differ run to run
    return b.event(t, pid, comm);
  };
  const uint32_t agent = k.pidBase;
  uint32_t nextPid = agent + 1;
  const std::string work = "/tmp/agent." + k.tmpSuffix;
  auto exec = [&](uint32_t pid, std::vector<std::string> argv, int exitCode) {
    next(agent, "sh").initFork().setChildPid(pid);
    auto x = next(pid, argv[0]).initExec();
    x.setPath(data("/usr/bin/" + argv[0]));
    auto a = x.initArgv(argv.size());
    for (size_t i = 0; i < argv.size(); ++i) a.set(i, data(argv[i]));
    x.setCwd(data(work));
    x.setPpid(agent);
    auto e = next(pid, argv[0]).initExit();
    e.setExitCode(exitCode);
  };
  uint64_t outOff = 0, inOff = 0;
  const uint64_t conn = 0x5000 + k.pidBase;   // connection ids differ too
  auto tls = [&](bool write, const std::string& bytes) {
    auto x = next(agent, "sh").initTls();
    x.setDirection(write ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
    x.setConn(conn);
    uint64_t& off = write ? outOff : inOff;
    x.setOffset(off);
    off += bytes.size();
    x.setData(data(bytes));
    x.setLength(bytes.size());
    x.setLib(data("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
    x.setFd(5);
    x.setFunc(write ? "SSL_write" : "SSL_read");
  };
  auto call = [&](const std::string& body, const std::string& answer) {
    tls(true, "POST /v1/messages HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n"
              "anthropic-version: 2023-06-01\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    tls(false, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(answer.size()) + "\r\n\r\n" + answer);
  };

  {
    auto x = next(agent, "sh").initExec();
    x.setPath(data("/bin/sh"));
    auto a = x.initArgv(2);
    a.set(0, data("sh"));
    a.set(1, data("agent.sh"));
    x.setCwd(data("/home/u"));
  }
  exec(nextPid++, {"mktemp", "-d", "/tmp/agent.XXXXXX"}, 0);
  next(agent, "sh").initFileMkdir().setPath(data(work));
  {
    auto x = next(agent, "sh").initNetConnect();
    x.setFd(5);
    x.setFamily(2);
    const capnp::byte ip[4] = {10, 0, 0, 1};
    x.setAddr(capnp::Data::Reader(ip, 4));
    x.setPort(443);
    x.setRet(0);
  }
  const std::string tool0 = "toolu_" + k.idSalt + "01";
  const std::string req0 = R"({"model":"demo-model","max_tokens":64,"messages":[{"role":"user","content":")" +
                           k.prompt + R"("}],"tools":[{"name":"bash","input_schema":{"type":"object"}}]})";
  call(req0, anthropicAnswer("msg_" + k.idSalt + "1", "", tool0, "bash",
                             R"({"command":")" + k.toolCommand + "\"}"));
  exec(nextPid++, {"ls", "-l", work}, 0);
  if (k.extraExec) exec(nextPid++, {"git", "status"}, 128);
  {
    auto x = next(agent, "sh").initFileOpen();
    x.setPath(data(work + "/notes/draft.txt"));
    x.setFlags(01 | 0100 | 01000);   // O_WRONLY|O_CREAT|O_TRUNC
    x.setRet(4);
  }
  {
    auto x = next(agent, "sh").initFileClose();
    x.setPath(data(work + "/notes/draft.txt"));
    x.setFd(4);
    x.setBytesWritten(k.draft.size());
    x.setWrites(1);
    x.setReason(schema::CloseReason::EXPLICIT);
  }
  {
    auto x = next(agent, "sh").initFileRename();
    x.setOldPath(data(work + "/notes/draft.txt"));
    x.setNewPath(data(work + "/notes/result.txt"));
  }
  const std::string req1 =
      R"({"model":"demo-model","max_tokens":64,"messages":[{"role":"user","content":")" + k.prompt +
      R"("},{"role":"assistant","content":[{"type":"tool_use","id":")" + tool0 +
      R"(","name":"bash","input":{"command":")" + k.toolCommand +
      R"("}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":")" + tool0 +
      R"(","content":"2 entries"}]}],"tools":[{"name":"bash","input_schema":{"type":"object"}}]})";
  call(req1, anthropicAnswer("msg_" + k.idSalt + "2", k.answer, "toolu_" + k.idSalt + "02",
                             "finish", R"({"summary":")" + k.finishSummary + "\"}"));
  exec(nextPid++, {"rm", "-r", work}, 0);
  next(agent, "sh").initFileRmdir().setPath(data(work));
  next(agent, "sh").initExit().setExitCode(0);
  SessionFooterInfo f;
  f.exitCode = 0;
  return b.close(f);
}

}  // namespace aa::testing
