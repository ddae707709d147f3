// aa-session diff: golden tests over runs built with SessionWriter (tests/replay/
// agent_run.h) and over real recordings in fixtures/, plus the pieces (name
// normalisation, JSON first differences, ignore patterns).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "store/diff/session_diff.h"
#include "tests/cli/test_dir.h"
#include "tests/replay/agent_run.h"

namespace aa {
namespace {

using testing::AgentRunKnobs;

diff::RunSummary summaryOf(const std::string& path, const diff::DiffOptions& o = {}) {
  ReaderOptions ro;
  ro.useIndex = false;   // fixtures stay untouched (no index, no traffic cache beside them)
  auto r = SessionReader::open(path, ro);
  EXPECT_TRUE(r.ok()) << r.status().message();
  auto s = diff::summarizeRun(**r, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

// Run B differs from run A by `change`, and by everything that always differs.
diff::SessionDiff diffWith(const std::function<void(AgentRunKnobs&)>& change,
                           const diff::DiffOptions& o = {}) {
  testing::TempDir dir;
  AgentRunKnobs a, b;
  b.pidBase = 4321;
  b.startMono = 90'000'000'000ull;
  b.tmpSuffix = "q7ZxP2";
  b.idSalt = "zz";
  change(b);
  EXPECT_TRUE(testing::writeAgentRun(dir.file("a.aas"), a).ok());
  EXPECT_TRUE(testing::writeAgentRun(dir.file("b.aas"), b).ok());
  return diff::diffRuns(summaryOf(dir.file("a.aas"), o), summaryOf(dir.file("b.aas"), o), o);
}

std::string describe(const diff::SessionDiff& d) { return diff::diffText(d); }

TEST(Diff, IdenticalRunsGiveNoDifference) {
  auto d = diffWith([](AgentRunKnobs&) {});
  EXPECT_TRUE(d.same()) << describe(d);
  EXPECT_EQ(d.execsA, 4u);   // sh agent.sh, mktemp, ls, rm
  EXPECT_EQ(d.callsA, 2u);
  EXPECT_EQ(d.filesA, 3u);   // the workspace, draft.txt, result.txt
  EXPECT_EQ(d.peersA, 1u);
}

TEST(Diff, ExactNamesShowTheTempSuffix) {
  diff::DiffOptions o;
  o.normaliseNames = false;
  auto d = diffWith([](AgentRunKnobs&) {}, o);
  EXPECT_FALSE(d.same());   // the mktemp suffix is all that differs
  for (const auto& x : d.differences) EXPECT_NE(x.area, "llm") << describe(d);
}

TEST(Diff, ChangedFileWriteIsReportedOnce) {
  auto d = diffWith([](AgentRunKnobs& k) { k.draft = "todo: summarise everything\n"; });
  ASSERT_EQ(d.differences.size(), 1u) << describe(d);
  const auto& x = d.differences[0];
  EXPECT_EQ(x.area, "file");
  EXPECT_EQ(x.change, "changed");
  EXPECT_EQ(x.subject, "/tmp/agent.XXXXXX/notes/draft.txt");
  EXPECT_EQ(x.a, "created, truncated, 16 bytes written, renamed to /tmp/agent.XXXXXX/notes/result.txt");
  EXPECT_EQ(x.b, "created, truncated, 27 bytes written, renamed to /tmp/agent.XXXXXX/notes/result.txt");
  EXPECT_EQ(x.seqsA.size(), 3u);   // open, close, rename
}

TEST(Diff, ExtraExecIsReportedOnce) {
  auto d = diffWith([](AgentRunKnobs& k) { k.extraExec = true; });
  ASSERT_EQ(d.differences.size(), 1u) << describe(d);
  const auto& x = d.differences[0];
  EXPECT_EQ(x.area, "exec");
  EXPECT_EQ(x.change, "added");
  EXPECT_EQ(x.subject, "git status");
  EXPECT_EQ(x.b, "exit 128");
  EXPECT_EQ(x.seqsB.size(), 1u);
  // It followed the bash tool call of llm call 0 (the only tool call then: by time).
  EXPECT_EQ(x.causeB, "llm call 0 tool 0 bash (time)");
  EXPECT_EQ(describe(d),
            "+ exec git status (exit 128)  <- llm call 0 tool 0 bash (time)\n"
            "1 differences: exec 1, file 0, peer 0, llm 0\n");
}

TEST(Diff, CauseCallOfGivesTheCallAndToolCallTheCauseNames) {
  testing::TempDir dir;
  AgentRunKnobs k;
  k.extraExec = true;
  ASSERT_TRUE(testing::writeAgentRun(dir.file("b.aas"), k).ok());
  const diff::RunSummary run = summaryOf(dir.file("b.aas"));
  uint64_t gitStatus = 0;
  for (const auto& e : run.execs)
    if (e.command == "git status") gitStatus = e.seq;
  ASSERT_NE(gitStatus, 0u);
  ASSERT_EQ(run.causes.count(gitStatus), 1u);
  EXPECT_EQ(run.causes.at(gitStatus), "llm call 0 tool 0 bash (time)");
  const auto call = diff::causeCallOf(run, {gitStatus});
  ASSERT_TRUE(call);
  EXPECT_EQ(*call, (std::pair<size_t, size_t>{0, 0}));
  EXPECT_EQ(run.causeCalls.size(), run.causes.size());
  EXPECT_FALSE(diff::causeCallOf(run, {}));
}

TEST(Diff, DifferentToolCallIsReportedOnce) {
  auto d = diffWith([](AgentRunKnobs& k) { k.finishSummary = "3 entries"; });
  ASSERT_EQ(d.differences.size(), 1u) << describe(d);
  const auto& x = d.differences[0];
  EXPECT_EQ(x.area, "llm");
  EXPECT_EQ(x.change, "changed");
  EXPECT_EQ(x.field, "tool_calls[0].arguments.summary");
  EXPECT_EQ(x.a, "\"2 entries\"");
  EXPECT_EQ(x.b, "\"3 entries\"");
  EXPECT_EQ(x.callA, 1u);
  EXPECT_EQ(x.callB, 1u);
}

TEST(Diff, ChangedAnswerIsReportedOnce) {
  auto d = diffWith([](AgentRunKnobs& k) { k.answer = "The workspace has 3 entries."; });
  ASSERT_EQ(d.differences.size(), 1u) << describe(d);
  EXPECT_EQ(d.differences[0].field, "answer");
  EXPECT_EQ(d.differences[0].b, "The workspace has 3 entries.");
  EXPECT_EQ(describe(d),
            "~ llm call 1 / 1: answer: The workspace has 2 entries. -> The workspace has 3 "
            "entries.\n1 differences: exec 0, file 0, peer 0, llm 1\n");
}

TEST(Diff, ChangedPromptNamesTheMessageField) {
  // A prompt change shows in both requests (the conversation carries it), and the tool
  // call the model was then asked about is the same.
  auto d = diffWith([](AgentRunKnobs& k) { k.prompt = "Summarise the repo"; });
  ASSERT_EQ(d.differences.size(), 2u) << describe(d);
  EXPECT_EQ(d.differences[0].field, "messages[0].content");
  EXPECT_EQ(d.differences[0].a, "\"Summarise the workspace\"");
  EXPECT_EQ(d.differences[0].b, "\"Summarise the repo\"");
  EXPECT_EQ(d.differences[1].field, "messages[0].content");
}

TEST(Diff, IgnorePatternsDropDifferences) {
  diff::DiffOptions o;
  o.ignore = {"exec:git *", "file:*/draft.txt", "llm:answer"};
  ASSERT_TRUE(diff::validateIgnores(o.ignore).ok());
  auto d = diffWith(
      [](AgentRunKnobs& k) {
        k.extraExec = true;
        k.draft = "x\n";
        k.answer = "other";
      },
      o);
  EXPECT_TRUE(d.same()) << describe(d);
}

TEST(Diff, BadIgnorePatternsAreRejected) {
  EXPECT_FALSE(diff::validateIgnores({"nocolon"}).ok());
  EXPECT_FALSE(diff::validateIgnores({"proc:ls"}).ok());
  EXPECT_FALSE(diff::validateIgnores({"exec:"}).ok());
  auto s = diff::validateIgnores({"llm:usage"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("answer"), std::string::npos) << s.message();
  EXPECT_TRUE(diff::validateIgnores({"llm:tool_*", "peer:*:53"}).ok());
}

TEST(Diff, JsonDifferencePaths) {
  auto d = diff::firstJsonTextDifference(R"({"a":[1,{"b":"x"}],"c":1})", R"({"a":[1,{"b":"y"}],"c":2})",
                                         "root");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "root.a[1].b");
  EXPECT_EQ(d->a, "\"x\"");
  EXPECT_EQ(d->b, "\"y\"");
  d = diff::firstJsonTextDifference("[1,2]", "[1,2,3]", "m");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "m[2]");
  EXPECT_EQ(d->a, "");
  EXPECT_EQ(d->b, "3");
  d = diff::firstJsonTextDifference(R"({"k":1})", R"({"k":1,"j":2})", "o");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "o.j");
  EXPECT_FALSE(diff::firstJsonTextDifference(R"({"a": 1})", R"({"a":1})", "o"));   // spelling
  d = diff::firstJsonTextDifference("not json", "not json either", "t");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "t");
}

TEST(Diff, NormaliseNames) {
  using diff::normaliseNames;
  EXPECT_EQ(normaliseNames("/tmp/aa-demo.Ab3dE9/workspace"), "/tmp/aa-demo.XXXXXX/workspace");
  EXPECT_EQ(normaliseNames("/tmp/tmp.k2J8aQ0pLm"), "/tmp/tmp.XXXXXX");
  EXPECT_EQ(normaliseNames("/tmp/tmpa1b_c9zq/x.py"), "/tmp/tmpXXXXXXXX/x.py");
  EXPECT_EQ(normaliseNames("/tmp/build-aZ9kQ2/out"), "/tmp/build-XXXXXX/out");
  EXPECT_EQ(normaliseNames("cat /proc/4242/status"), "cat /proc/PID/status");
  // Not random: left alone.
  EXPECT_EQ(normaliseNames("/usr/lib/libssl.so.3"), "/usr/lib/libssl.so.3");
  EXPECT_EQ(normaliseNames("api.anthropic.com"), "api.anthropic.com");
  EXPECT_EQ(normaliseNames("version 0.123456"), "version 0.123456");
  EXPECT_EQ(normaliseNames("/tmp/build-output/x"), "/tmp/build-output/x");
  EXPECT_EQ(normaliseNames("/tmp/tmpfilename"), "/tmp/tmpfilename");
  EXPECT_EQ(normaliseNames("/proc/self/status"), "/proc/self/status");
}

// A random tail of one kind of character (mktemp's "UQZUJT": 1% of its names) has no
// shape of its own; the mkdir that made it says what it is. CI's replay_workflow diffed
// 44 differences out of two identical runs for want of this.
TEST(Diff, TempNamesOfOneKindAreKnownByTheRunThatMadeThem) {
  for (const char* tail : {"UQZUJT", "kqzvbn", "Abcdef"}) {
    auto d = diffWith([&](AgentRunKnobs& b) { b.tmpSuffix = tail; });
    EXPECT_TRUE(d.same()) << tail << "\n" << describe(d);
  }
}

TEST(Diff, TempNamesLearnOnlyRandomLookingTails) {
  diff::TempNames names;
  names.learnMade("/tmp/aa-demo.UQZUJT");
  names.learnMade("/tmp/claude-abcdef/");     // Node's mkdtemp("claude-")
  names.learnMade("/tmp/tmpabcdefgh");        // Python's mkdtemp, no digit or '_'
  names.learnMade("/tmp/run.123456");         // digits alone: pids and times, not mktemp
  names.learnMade("/tmp/notes");              // no separator before it
  names.learnMade("/tmp/x.d");                // too short
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(names.normalise("rm -r /tmp/aa-demo.UQZUJT/workspace /tmp/claude-abcdef/x"),
            "rm -r /tmp/aa-demo.XXXXXX/workspace /tmp/claude-XXXXXX/x");
  EXPECT_EQ(names.normalise("/tmp/tmpabcdefgh/a.py"), "/tmp/tmpXXXXXXXX/a.py");
  EXPECT_EQ(names.normalise("/tmp/run.123456 /tmp/notes"), "/tmp/run.123456 /tmp/notes");
  // The shape rule still applies, and nothing is learned by it alone.
  EXPECT_EQ(names.normalise("/tmp/aa-demo.Ab3dE9"), "/tmp/aa-demo.XXXXXX");
  EXPECT_EQ(diff::normaliseNames("/tmp/aa-demo.UQZUJT"), "/tmp/aa-demo.UQZUJT");
}

// Real recordings: a session against itself is the same; two different scenarios are not.
TEST(Diff, FixturesAgainstThemselves) {
  for (const char* f : {"/fixtures/llm/agent.aas", "/fixtures/core/files.aas"}) {
    std::string p = std::string(AA_SOURCE_DIR) + f;
    diff::DiffOptions o;
    auto a = summaryOf(p, o), b = summaryOf(p, o);
    auto d = diff::diffRuns(a, b, o);
    EXPECT_TRUE(d.same()) << f << "\n" << describe(d);
  }
  auto d = diff::diffRuns(summaryOf(std::string(AA_SOURCE_DIR) + "/fixtures/core/files.aas"),
                          summaryOf(std::string(AA_SOURCE_DIR) + "/fixtures/core/exec-tree.aas"), {});
  EXPECT_FALSE(d.same());
}

TEST(Diff, FixtureLlmCallsAreFound) {
  auto s = summaryOf(std::string(AA_SOURCE_DIR) + "/fixtures/llm/agent.aas");
  EXPECT_EQ(s.calls.size(), 14u);
  EXPECT_FALSE(s.execs.empty());
}

}  // namespace
}  // namespace aa
