// Cause and effect (store/diff/tool_effects.h): an answer with two tool calls, then the
// agent's execs and file changes, attributed by command text, path, lineage and time.
#include <gtest/gtest.h>

#include "store/diff/tool_effects.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"
#include "tests/cli/test_dir.h"
#include "tests/replay/agent_run.h"

namespace aa {
namespace {

constexpr uint64_t kStart = 3'000'000'000ull;

Status writeTwoToolRun(const std::string& path) {
  SessionHeaderInfo h;
  h.command = {"agent"};
  h.startMonoNs = kStart;
  h.startWallNs = 1'700'000'000'000'000'000;
  auto w = SessionWriter::create(path, h, {});
  if (!w.ok()) return w.status();
  SessionWriter& writer = **w;
  uint64_t t = kStart;
  auto data = [](std::string_view s) {
    return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
  };
  auto next = [&](uint32_t pid) {
    auto e = writer.append();
    t += 1'000'000;
    e.setTNs(t);
    e.setPid(pid);
    e.setTid(pid);
    e.setComm(data("agent"));
    return e;
  };
  auto exec = [&](uint32_t parent, uint32_t pid, std::vector<std::string> argv) {
    next(parent).initFork().setChildPid(pid);
    auto x = next(pid).initExec();
    x.setPath(data("/usr/bin/" + argv[0]));
    auto a = x.initArgv(argv.size());
    for (size_t i = 0; i < argv.size(); ++i) a.set(i, data(argv[i]));
    x.setPpid(parent);
  };
  auto write = [&](uint32_t pid, const std::string& p, uint64_t bytes) {
    auto o = next(pid).initFileOpen();
    o.setPath(data(p));
    o.setFlags(01 | 0100 | 01000);
    o.setRet(4);
    auto c = next(pid).initFileClose();
    c.setPath(data(p));
    c.setFd(4);
    c.setBytesWritten(bytes);
  };
  uint64_t off[2] = {0, 0};
  auto tls = [&](bool out, const std::string& bytes) {
    auto x = next(10).initTls();
    x.setDirection(out ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
    x.setConn(1);
    x.setOffset(off[out]);
    off[out] += bytes.size();
    x.setData(data(bytes));
    x.setLength(bytes.size());
    x.setFunc(out ? "SSL_write" : "SSL_read");
  };
  auto call = [&](const std::string& body, const std::string& answer) {
    tls(true, "POST /v1/messages HTTP/1.1\r\nHost: api.test\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    tls(false, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(answer.size()) + "\r\n\r\n" + answer);
  };
  {
    auto x = next(10).initExec();
    x.setPath(data("/usr/bin/agent"));
  }
  const std::string req = R"({"model":"m","max_tokens":9,"messages":[{"role":"user","content":"go"}]})";
  call(req, R"({"type":"message","role":"assistant","content":[)"
            R"({"type":"tool_use","id":"t1","name":"bash","input":{"command":"ls -l /w | wc -l"}},)"
            R"({"type":"tool_use","id":"t2","name":"write_file","input":{"path":"/w/notes.txt","content":"x"}}],)"
            R"("stop_reason":"tool_use"})");
  exec(10, 20, {"true"});                                   // before anything matched: nobody's
  exec(10, 21, {"sh", "-c", "ls -l /w | wc -l"});           // command: the tool's exact string
  exec(21, 22, {"ls", "-l", "/w"});                         // command (in the tool string)
  exec(21, 23, {"wc", "-l"});                               // command (the tool string holds it)
  write(21, "/w/listing.txt", 10);                          // lineage: written by the sh
  write(10, "/w/notes.txt", 1);                             // path
  exec(10, 24, {"date"});                                   // time: after the write_file effects
  call(R"({"model":"m","max_tokens":9,"messages":[{"role":"user","content":"go"},{"role":"assistant","content":"x"}]})",
       R"({"type":"message","role":"assistant","content":[{"type":"text","text":"done"}],"stop_reason":"end_turn"})");
  exec(10, 25, {"rm", "/w/notes.txt"});                     // after the next call: not an effect
  return writer.close({});
}

TEST(ToolEffects, AttributesByCommandPathLineageAndTime) {
  testing::TempDir dir;
  ASSERT_TRUE(writeTwoToolRun(dir.file("s.aas")).ok());
  auto r = SessionReader::open(dir.file("s.aas"));
  ASSERT_TRUE(r.ok());
  auto t = traffic::loadTraffic(**r);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->calls.size(), 2u);
  auto fx = diff::toolCallEffects(**r, t->calls, 0);
  ASSERT_EQ(fx.size(), 2u);
  auto lines = [](const diff::ToolCallEffects& e) {
    std::string s;
    for (const auto& f : e.effects) s += f.by + ": " + f.summary + "\n";
    return s;
  };
  EXPECT_EQ(fx[0].name, "bash");
  EXPECT_EQ(lines(fx[0]),
            "command: exec sh -c ls -l /w | wc -l\n"
            "command: exec ls -l /w\n"
            "command: exec wc -l\n"
            "lineage: create/truncate /w/listing.txt\n"
            "lineage: write /w/listing.txt (10 bytes)\n");
  EXPECT_EQ(fx[1].name, "write_file");
  EXPECT_EQ(lines(fx[1]),
            "path: create/truncate /w/notes.txt\n"
            "path: write /w/notes.txt (1 bytes)\n"
            "time: exec date\n");
  // The answer without tool calls has no effects; the JSON names the seqs.
  EXPECT_TRUE(diff::toolCallEffects(**r, t->calls, 1).empty());
  std::string j = diff::toolEffectsJson(fx, **r);
  auto parsed = traffic::parseJson(j);
  ASSERT_TRUE(parsed.ok()) << j;
  EXPECT_EQ(parsed->at(0).get("seqs").size(), 5u);
  EXPECT_EQ(parsed->at(1).get("effects").at(2).get("by").str(), "time");
}

TEST(ToolEffects, OneToolCallTakesEverythingInItsWindow) {
  testing::TempDir dir;
  testing::AgentRunKnobs k;
  k.extraExec = true;
  ASSERT_TRUE(testing::writeAgentRun(dir.file("a.aas"), k).ok());
  auto r = SessionReader::open(dir.file("a.aas"));
  ASSERT_TRUE(r.ok());
  auto t = traffic::loadTraffic(**r);
  ASSERT_TRUE(t.ok());
  auto fx = diff::toolCallEffects(**r, t->calls, 0);
  ASSERT_EQ(fx.size(), 1u);
  std::string s;
  for (const auto& f : fx[0].effects) s += f.by + ": " + f.summary + "\n";
  EXPECT_EQ(s,
            "command: exec ls -l /tmp/agent.Ab3dE9\n"
            "time: exec git status\n"
            "time: create/truncate /tmp/agent.Ab3dE9/notes/draft.txt\n"
            "time: write /tmp/agent.Ab3dE9/notes/draft.txt (16 bytes)\n"
            "time: rename /tmp/agent.Ab3dE9/notes/draft.txt -> /tmp/agent.Ab3dE9/notes/result.txt\n");
}

}  // namespace
}  // namespace aa
