// The real aa-session binary: exit codes, one-line errors, and output equal to the
// library functions behind it.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/render/event_json.h"
#include "store/session_reader.h"
#include "tests/cli/all_kinds_session.h"
#include "tests/cli/json_fields.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using testing::TempDir;

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class CliTest : public ::testing::Test {
 protected:
  CliRun run(const std::vector<std::string>& args) {
    std::string cmd = shellQuote(AA_SESSION_BIN);
    for (const auto& a : args) cmd += " " + shellQuote(a);
    cmd += " >" + shellQuote(dir_.file("stdout")) + " 2>" + shellQuote(dir_.file("stderr")) +
           " </dev/null";
    int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = testing::readFile(dir_.file("stdout"));
    r.err = testing::readFile(dir_.file("stderr"));
    return r;
  }

  // A failure: the given exit code, nothing but one line on stderr, starting with
  // "aa-session: " and naming `names`.
  void expectOneLineError(const CliRun& r, int code, const std::string& names,
                          const std::string& reason = "") {
    EXPECT_EQ(r.code, code) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.back(), '\n') << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_EQ(r.err.rfind("aa-session: " + names, 0), 0u) << r.err;
    if (!reason.empty()) {
      EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    }
  }

  std::string allKinds() {
    std::string p = dir_.file("all.aas");
    Status st = testing::writeAllKindsSession(p);
    EXPECT_TRUE(st.ok()) << st.message();
    return p;
  }

  std::string synth(uint64_t events, const std::string& name = "synth.aas") {
    std::string p = dir_.file(name);
    CliRun r = run({"synth", "--events", std::to_string(events), "--seed", "3", "-o", p});
    EXPECT_EQ(r.code, 0) << r.err;
    return p;
  }

  TempDir dir_;
};

TEST_F(CliTest, EventsJsonEqualsLibraryOutput) {
  std::string p = allKinds();
  CliRun r = run({"events", "--json", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto reader = SessionReader::open(p);
  ASSERT_TRUE(reader.ok());
  std::string want;
  ASSERT_TRUE((*reader)->forEach(EventQuery{}, [&](schema::Event::Reader e) {
    appendEventJson(want, e, (*reader)->relNs(e.getTNs()));
    want += '\n';
    return true;
  }).ok());
  EXPECT_EQ(r.out, want);
  size_t lines = 0;
  for (size_t pos = 0; (pos = r.out.find('\n', pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, size_t(testing::kAllKindsCount));
}

TEST_F(CliTest, EventsFilters) {
  std::string p = allKinds();
  CliRun r = run({"events", "--json", "--kind", "file.open,tls.read", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"kind\":\"file.open\""), std::string::npos);
  EXPECT_NE(r.out.find("\"kind\":\"tls.read\""), std::string::npos);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  // t_ns of event i is 1000 * (i + 1): 3us..5us holds events 2, 3, 4.
  r = run({"events", "--json", "--from", "3us", "--to", "5000", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  EXPECT_EQ(r.out.rfind("{\"seq\":2,", 0), 0u) << r.out;
  r = run({"events", "--json", "--pid", "101", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_NE(r.out.find("\"kind\":\"exit\""), std::string::npos);
  r = run({"events", "--kind", "tls", p});   // the family shorthand, as a table
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;   // header + 2
  EXPECT_NE(r.out.find("\\x00\\x01\\xff bin"), std::string::npos) << r.out;
  // file.chown in the table: chown(1)'s OWNER:GROUP, the unchanged group (-1) left empty
  r = run({"events", "--kind", "file.chown", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_NE(r.out.find("/tmp/a to 1000:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("1000:-1"), std::string::npos) << r.out;
}

TEST_F(CliTest, TableEscapesControlBytes) {
  std::string p = allKinds();
  CliRun r = run({"events", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("/tmp/out\\n\"q\"\\"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/tmp/\\xff\\xfe"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), testing::kAllKindsCount + 1);
}

TEST_F(CliTest, InfoOnGoodSession) {
  std::string p = allKinds();
  CliRun r = run({"info", p});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want : {"duration:", "command:     python3 agent.py", "events:      23",
                           "file.open      1", "lost events: 42 (sys_exit 42)",
                           "stop:        clean (exit code 0)", "damage:      none",
                           "tls:         2 connections", "plain:       1 connection, 27 B sent, 17 B received",
                           "(up to date)"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  std::filesystem::remove(p + "-index");
  r = run({"info", p});
  EXPECT_NE(r.out.find("(rebuilt from the log now)"), std::string::npos) << r.out;
}

TEST_F(CliTest, VerifyReindexExportOnGoodSession) {
  std::string p = synth(3000);
  CliRun r = run({"verify", p});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3000 events, clean stop"), std::string::npos) << r.out;
  std::filesystem::remove(p + "-index");
  r = run({"reindex", p});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(p + "-index"));
  std::string out = dir_.file("trace.json");
  r = run({"export", "--format", "chrome-trace", p, "-o", out});
  EXPECT_EQ(r.code, 0) << r.err;
  auto doc = aa::traffic::parseJson(testing::readFile(out));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_GT((*doc).get("traceEvents").items().size(), 3000u);
}

TEST_F(CliTest, DamagedFiles) {
  std::string good = synth(20000);
  std::string bytes = testing::readFile(good);
  auto reader = SessionReader::open(good);
  ASSERT_TRUE(reader.ok());
  const auto& frames = (*reader)->frames();
  ASSERT_GE(frames.size(), 3u);
  const FrameInfo& last = frames.back();

  // Cut inside the last event frame: whole frames before it stay readable.
  std::string trunc = dir_.file("trunc.aas");
  testing::writeFile(trunc, bytes.substr(0, last.offset + last.length / 2));
  CliRun r = run({"verify", trunc});
  expectOneLineError(r, 1, trunc + ": ", "offset " + std::to_string(last.offset));
  r = run({"events", "--json", trunc});
  expectOneLineError(r, 1, trunc + ": ", "offset");
  EXPECT_EQ(size_t(std::count(r.out.begin(), r.out.end(), '\n')), size_t(last.firstSeq));
  r = run({"info", trunc});
  // info describes what could be read, then exits 1 as --help says for a damaged file.
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(trunc), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("damage:      " + trunc + ": offset"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stop:        not clean"), std::string::npos) << r.out;
  r = run({"reindex", trunc});
  expectOneLineError(r, 1, trunc + ": ", "offset");
  r = run({"export", "--format", "chrome-trace", trunc, "-o", dir_.file("t.json")});
  expectOneLineError(r, 1, trunc + ": ", "offset");
  EXPECT_TRUE(aa::traffic::parseJson(testing::readFile(dir_.file("t.json"))).ok());

  // A flipped byte inside the second frame's payload.
  std::string flip = dir_.file("flip.aas");
  std::string flipped = bytes;
  flipped[frames[1].offset + frames[1].length / 2] ^= 0x40;
  testing::writeFile(flip, flipped);
  r = run({"verify", flip});
  expectOneLineError(r, 1, flip + ": ", "offset " + std::to_string(frames[1].offset));

  std::string empty = dir_.file("empty.aas");
  testing::writeFile(empty, "");
  std::string text = dir_.file("text.aas");
  testing::writeFile(text, "this is not a session file\n");
  std::string missing = dir_.file("missing.aas");
  for (const auto& bad : {empty, text, missing}) {
    for (const char* cmd : {"info", "verify", "reindex", "events", "replay"}) {
      SCOPED_TRACE(std::string(cmd) + " " + bad);
      r = run({cmd, bad});
      expectOneLineError(r, 1, bad + ": ");
      EXPECT_TRUE(r.out.empty()) << r.out;
    }
    r = run({"export", "--format", "chrome-trace", bad, "-o", dir_.file("x.json")});
    expectOneLineError(r, 1, bad + ": ");
    EXPECT_FALSE(std::filesystem::exists(dir_.file("x.json")));
  }
}

TEST_F(CliTest, UnwritableOutputs) {
  std::string p = allKinds();
  std::string out = dir_.file("no-such-dir/trace.json");
  CliRun r = run({"export", "--format", "chrome-trace", p, "-o", out});
  expectOneLineError(r, 1, out + ": ", "No such file or directory");
  std::string s = dir_.file("no-such-dir/s.aas");
  r = run({"synth", "--events", "10", "-o", s});
  expectOneLineError(r, 1, s + ": ");
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  std::string p = allKinds();
  const std::vector<std::vector<std::string>> cases = {
      {"events"},
      {"events", "--bogus", p},
      {"events", "--from", "soon", p},
      {"events", "--from", "2s", "--to", "1s", p},
      {"events", "--kind", "file.teleport", p},
      {"events", "--pid", "-3", p},
      {"info", p, p},
      {"export", "--format", "svg", p, "-o", dir_.file("o")},
      {"export", p},
      {"synth", "--events", "ten", "-o", dir_.file("s.aas")},
      {"synth", "--events", "10"},
      {"replay", "--speed", "-1", p},
  };
  for (const auto& args : cases) {
    CliRun r = run(args);
    SCOPED_TRACE(args[0] + " " + (args.size() > 1 ? args[1] : ""));
    expectOneLineError(r, 2, args[0] + ": ", "usage: aa-session " + args[0]);
  }
  CliRun r = run({"teleport"});
  expectOneLineError(r, 2, "unknown command");
  r = run({});
  expectOneLineError(r, 2, "missing command");
  r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("synth"), std::string::npos);
}

TEST_F(CliTest, ReplayPacedPrintsEveryEvent) {
  std::string p = allKinds();   // 20 us of recording: pacing at 1x stays tiny
  CliRun r = run({"replay", "--json", p});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), testing::kAllKindsCount);
  CliRun fast = run({"replay", "--speed", "0", "--json", p});
  EXPECT_EQ(fast.out, r.out);
}

TEST_F(CliTest, ReplayKeepsRecordedPace) {
  // Three events 150 ms apart: 300 ms at recorded speed, 30 ms at 10x.
  std::string p = dir_.file("paced.aas");
  {
    SessionHeaderInfo h;
    h.startMonoNs = testing::kStartMono;
    h.startWallNs = 1'700'000'000'000'000'000;
    auto w = SessionWriter::create(p, h);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 3; ++i) {
      auto e = (*w)->append();
      e.setTNs(testing::kStartMono + uint64_t(i) * 150'000'000);
      e.setPid(1);
      e.initExit().setExitCode(i);
    }
    ASSERT_TRUE((*w)->close().ok());
  }
  auto timed = [&](const std::vector<std::string>& args) {
    auto t0 = std::chrono::steady_clock::now();
    CliRun r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;   // header + 3
    return std::chrono::steady_clock::now() - t0;
  };
  auto recorded = timed({"replay", p});
  auto fast = timed({"replay", "--speed", "10", p});
  EXPECT_GE(recorded, std::chrono::milliseconds(290));
  EXPECT_GE(fast, std::chrono::milliseconds(29));
  // Process start-up is in both; pacing makes the difference (270 ms expected).
  EXPECT_GT(recorded - fast, std::chrono::milliseconds(150));
}

TEST_F(CliTest, SynthIsDeterministic) {
  std::string a = synth(5000, "a.aas"), b = synth(5000, "b.aas");
  CliRun ra = run({"events", "--json", a}), rb = run({"events", "--json", b});
  ASSERT_EQ(ra.code, 0);
  EXPECT_EQ(ra.out, rb.out);
  CliRun other = run({"synth", "--events", "5000", "--seed", "4", "-o", dir_.file("c.aas")});
  ASSERT_EQ(other.code, 0);
  EXPECT_NE(run({"events", "--json", dir_.file("c.aas")}).out, ra.out);
}

}  // namespace
}  // namespace aa
