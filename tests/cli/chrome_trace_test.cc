#include "store/cli/chrome_trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "tests/cli/all_kinds_session.h"
#include "tests/cli/json_fields.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using testing::TempDir;

testing::Json exportTrace(const std::string& session, const std::string& out) {
  auto r = SessionReader::open(session);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::FILE* f = std::fopen(out.c_str(), "w");
  auto st = writeChromeTrace(**r, f);
  std::fclose(f);
  EXPECT_TRUE(st.ok()) << st.status().message();
  auto doc = aa::traffic::parseJson(testing::readFile(out));
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  return doc.ok() ? *doc : testing::Json{};
}

TEST(ChromeTrace, AllKindsSession) {
  TempDir dir;
  ASSERT_TRUE(testing::writeAllKindsSession(dir.file("a.aas")).ok());
  auto doc = exportTrace(dir.file("a.aas"), dir.file("a.json"));
  const auto& events = doc.get("traceEvents");
  ASSERT_EQ(events.type(), testing::Json::Type::kArray);
  std::map<std::string, int> phases;
  std::set<std::string> processNames, instantNames;
  const testing::Json* open = nullptr;
  std::map<std::string, int> asyncIds;
  bool sawConn7 = false;
  for (const auto& e : events.items()) {
    ASSERT_TRUE(e.find("ph") && e.find("pid")) << "every trace event has ph and pid";
    const std::string& ph = e.get("ph").str();
    ++phases[ph];
    if (ph == "M" && e.get("name").str() == "process_name") processNames.insert(e.get("args").get("name").str());
    if (ph == "i") {
      instantNames.insert(e.get("name").str());
      ASSERT_TRUE(e.find("ts") && e.find("tid") && e.get("args").find("seq"));
      if (e.get("name").str() == "file.open") open = &e;
    }
    if (ph == "b") ++asyncIds[e.get("cat").str() + e.get("id").str()];
    if (ph == "e") --asyncIds[e.get("cat").str() + e.get("id").str()];
    if (ph == "b" && e.get("cat").str() == "tls" && e.get("args").get("conn").str() == "7") {
      EXPECT_EQ(e.get("args").get("bytes_out").str(), "18");
      sawConn7 = true;
    }
  }
  EXPECT_EQ(phases["i"], testing::kAllKindsCount);
  EXPECT_GE(phases["X"], 1);                  // the process lifetime slice
  EXPECT_EQ(phases["b"], 4);                  // /etc/hosts opened, 2 TLS and 1 plain connections ...
  EXPECT_EQ(phases["e"], 4);                  // ... closed / ended
  for (auto& [id, balance] : asyncIds) EXPECT_EQ(balance, 0) << id;
  EXPECT_TRUE(sawConn7);
  EXPECT_TRUE(processNames.count("agent 100: /usr/bin/python3")) << *processNames.begin();
  EXPECT_EQ(instantNames.size(), size_t(testing::kAllKindsCount));
  ASSERT_NE(open, nullptr);
  EXPECT_EQ((*open).get("args").get("path").str(), "/etc/hosts");
  EXPECT_EQ((*open).get("args").get("fd").str(), "3");
  EXPECT_EQ((*open).get("ts").str(), "4.000");   // 4000 ns after start, in us
  EXPECT_EQ(doc.get("otherData").get("command").str(), "python3 agent.py");
}

TEST(ChromeTrace, LlmCallsOfARealRecordingAreSlices) {
  TempDir dir;
  std::filesystem::copy_file(std::string(AA_SOURCE_DIR) + "/fixtures/llm/agent.aas",
                             dir.file("agent.aas"));
  auto doc = exportTrace(dir.file("agent.aas"), dir.file("agent.json"));
  int llm = 0;
  for (const auto& e : doc.get("traceEvents").items()) {
    if (e.get("cat").str() != "llm") continue;
    ++llm;
    EXPECT_EQ(e.get("ph").str(), "X");
    EXPECT_TRUE(e.find("dur") && e.find("ts") && e.find("pid"));
  }
  // fixtures/llm/agent.sh makes 14 calls (aa-session llm lists them).
  EXPECT_EQ(llm, 14);
}

}  // namespace
}  // namespace aa
