#include "store/cli/chrome_trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "tests/cli/all_kinds_session.h"
#include "tests/cli/json_lite.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using testing::TempDir;

jsonlite::Value exportTrace(const std::string& session, const std::string& out) {
  auto r = SessionReader::open(session);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::FILE* f = std::fopen(out.c_str(), "w");
  auto st = writeChromeTrace(**r, f);
  std::fclose(f);
  EXPECT_TRUE(st.ok()) << st.status().message();
  std::string err;
  auto doc = jsonlite::parse(testing::readFile(out), &err);
  EXPECT_TRUE(doc) << err;
  return doc ? *doc : jsonlite::Value{};
}

TEST(ChromeTrace, AllKindsSession) {
  TempDir dir;
  ASSERT_TRUE(testing::writeAllKindsSession(dir.file("a.aas")).ok());
  auto doc = exportTrace(dir.file("a.aas"), dir.file("a.json"));
  const auto& events = doc["traceEvents"];
  ASSERT_EQ(events.type, jsonlite::Value::kArray);
  std::map<std::string, int> phases;
  std::set<std::string> processNames, instantNames;
  const jsonlite::Value* open = nullptr;
  std::map<std::string, int> asyncIds;
  bool sawConn7 = false;
  for (const auto& e : events.items) {
    ASSERT_TRUE(e.has("ph") && e.has("pid")) << "every trace event has ph and pid";
    const std::string& ph = e["ph"].text;
    ++phases[ph];
    if (ph == "M" && e["name"].text == "process_name") processNames.insert(e["args"]["name"].text);
    if (ph == "i") {
      instantNames.insert(e["name"].text);
      ASSERT_TRUE(e.has("ts") && e.has("tid") && e["args"].has("seq"));
      if (e["name"].text == "file.open") open = &e;
    }
    if (ph == "b") ++asyncIds[e["cat"].text + e["id"].text];
    if (ph == "e") --asyncIds[e["cat"].text + e["id"].text];
    if (ph == "b" && e["cat"].text == "tls" && e["args"]["conn"].text == "7") {
      EXPECT_EQ(e["args"]["bytes_out"].text, "18");
      sawConn7 = true;
    }
  }
  EXPECT_EQ(phases["i"], testing::kAllKindsCount);
  EXPECT_GE(phases["X"], 1);                  // the process lifetime slice
  EXPECT_EQ(phases["b"], 3);                  // /etc/hosts opened, 2 TLS connections ...
  EXPECT_EQ(phases["e"], 3);                  // ... closed / ended
  for (auto& [id, balance] : asyncIds) EXPECT_EQ(balance, 0) << id;
  EXPECT_TRUE(sawConn7);
  EXPECT_TRUE(processNames.count("agent 100: /usr/bin/python3")) << *processNames.begin();
  EXPECT_EQ(instantNames.size(), size_t(testing::kAllKindsCount));
  ASSERT_NE(open, nullptr);
  EXPECT_EQ((*open)["args"]["path"].text, "/etc/hosts");
  EXPECT_EQ((*open)["args"]["fd"].text, "3");
  EXPECT_EQ((*open)["ts"].text, "4.000");   // 4000 ns after start, in us
  EXPECT_EQ(doc["otherData"]["command"].text, "python3 agent.py");
}

TEST(ChromeTrace, LlmCallsOfARealRecordingAreSlices) {
  TempDir dir;
  std::filesystem::copy_file(std::string(AA_SOURCE_DIR) + "/fixtures/llm/agent.aas",
                             dir.file("agent.aas"));
  auto doc = exportTrace(dir.file("agent.aas"), dir.file("agent.json"));
  int llm = 0;
  for (const auto& e : doc["traceEvents"].items) {
    if (e["cat"].text != "llm") continue;
    ++llm;
    EXPECT_EQ(e["ph"].text, "X");
    EXPECT_TRUE(e.has("dur") && e.has("ts") && e.has("pid"));
  }
  // fixtures/llm/agent.sh makes 14 calls (aa-session llm lists them).
  EXPECT_EQ(llm, 14);
}

}  // namespace
}  // namespace aa
