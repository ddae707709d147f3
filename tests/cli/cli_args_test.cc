#include "store/cli/cli_args.h"

#include <gtest/gtest.h>

namespace aa {
namespace {

TEST(ParseTime, PlainNsAndUnits) {
  EXPECT_EQ(*parseTimeNs("0"), 0u);
  EXPECT_EQ(*parseTimeNs("1500"), 1500u);
  EXPECT_EQ(*parseTimeNs("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(*parseTimeNs("10ns"), 10u);
  EXPECT_EQ(*parseTimeNs("30us"), 30'000u);
  EXPECT_EQ(*parseTimeNs("200ms"), 200'000'000u);
  EXPECT_EQ(*parseTimeNs("1.5s"), 1'500'000'000u);
  EXPECT_EQ(*parseTimeNs("2m"), 120'000'000'000u);
  EXPECT_EQ(*parseTimeNs("1h"), 3'600'000'000'000u);
  EXPECT_EQ(*parseTimeNs(".5s"), 500'000'000u);
}

TEST(ParseTime, Rejects) {
  for (const char* bad : {"", "-1", "+1", "1.2.3s", "s", "1 s", "1sec", "abc", "1e3",
                          "18446744073709551616", "99999999999h", "."})
    EXPECT_FALSE(parseTimeNs(bad).ok()) << bad;
}

TEST(ParseArgs, OptionsValuesAndPositionals) {
  const char* argv[] = {"events", "--kind", "exec", "--kind=file.open", "--json", "f.aas",
                        "--", "--odd-name"};
  auto r = parseArgs(8, const_cast<char**>(argv), 1,
                     {{"--kind", true}, {"--json", false}, {"-o", true, "--output"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->values["--kind"], (std::vector<std::string>{"exec", "file.open"}));
  EXPECT_TRUE(r->has("--json"));
  EXPECT_EQ(r->positional, (std::vector<std::string>{"f.aas", "--odd-name"}));
}

TEST(ParseArgs, Errors) {
  const char* a1[] = {"x", "--nope"};
  EXPECT_FALSE(parseArgs(2, const_cast<char**>(a1), 1, {}).ok());
  const char* a2[] = {"x", "--kind"};
  auto r = parseArgs(2, const_cast<char**>(a2), 1, {{"--kind", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs a value"), std::string::npos);
  const char* a3[] = {"x", "--json=1"};
  EXPECT_FALSE(parseArgs(2, const_cast<char**>(a3), 1, {{"--json", false}}).ok());
}

TEST(QueryArgs, KindsPidsAndRange) {
  ParsedArgs a;
  a.values["--kind"] = {"exec,tls", "lost"};
  a.values["--pid"] = {"7,8"};
  a.values["--from"] = {"1ms"};
  a.values["--to"] = {"2s"};
  auto q = queryFromArgs(a);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->kinds, bit(Kind::kExec) | bit(Kind::kTlsWrite) | bit(Kind::kTlsRead) |
                          bit(Kind::kLost));
  ParsedArgs n;
  n.values["--kind"] = {"net"};
  auto qn = queryFromArgs(n);
  ASSERT_TRUE(qn.ok()) << qn.status().message();
  EXPECT_EQ(qn->kinds, bit(Kind::kNetConnect) | bit(Kind::kNetSend) | bit(Kind::kNetRecv));
  EXPECT_EQ(q->pids, (std::vector<uint32_t>{7, 8}));
  EXPECT_EQ(*q->fromNs, 1'000'000u);
  EXPECT_EQ(*q->toNs, 2'000'000'000u);
  ParsedArgs f;
  f.values["--kind"] = {"file"};
  auto qf = queryFromArgs(f);
  ASSERT_TRUE(qf.ok());
  EXPECT_TRUE(qf->kinds & bit(Kind::kFileRename));
  EXPECT_FALSE(qf->kinds & bit(Kind::kExec));
  ParsedArgs bad;
  bad.values["--pid"] = {"12x"};
  EXPECT_FALSE(queryFromArgs(bad).ok());
}

}  // namespace
}  // namespace aa
