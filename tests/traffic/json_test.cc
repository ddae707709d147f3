#include "store/traffic/json.h"

#include <gtest/gtest.h>

namespace aa::traffic {
namespace {

TEST(Json, ParsesNestedDocument) {
  auto j = parseJson(R"( {"a":[1,-2.5e3,true,false,null],"b":{"c":"d\n\u00e9\ud83d\ude00"}} )");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->get("a").size(), 5u);
  EXPECT_EQ(j->get("a").at(0).asInt(), 1);
  EXPECT_EQ(j->get("a").at(1).str(), "-2.5e3");
  EXPECT_FALSE(j->get("a").at(1).asInt());
  EXPECT_TRUE(j->get("a").at(2).asBool());
  EXPECT_TRUE(j->get("a").at(4).isNull());
  EXPECT_EQ(j->get("b").get("c").str(), "d\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_TRUE(j->get("missing").get("deeper").isNull());
}

TEST(Json, RoundTripsCompactly) {
  std::string text = R"({"model":"claude","n":12345678901234567890,"s":"q\"\\\t","e":[],"o":{}})";
  auto j = parseJson(text);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->dump(), text);
}

TEST(Json, RejectsMalformedWithOffset) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "tru", "[1] x",
                          "{\"a\":1,}", "\"\x01\"", "\"\\x\"", "-", "\"\\u12\""}) {
    auto j = parseJson(bad);
    ASSERT_FALSE(j.ok()) << bad;
    EXPECT_NE(j.status().message().find("offset"), std::string::npos) << bad;
  }
}

TEST(Json, DepthIsBounded) {
  std::string deep(100000, '[');
  auto j = parseJson(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("deep"), std::string::npos);
  std::string ok(150, '[');
  ok += std::string(150, ']');
  EXPECT_TRUE(parseJson(ok).ok());
}

// The one rule of every JSON output (store/render/json_string.h), so `llm --json` and
// `events --json` agree on the same bytes: an invalid byte is U+FFFD (it was \u00XX here,
// which read back as a Latin-1 character), controls are escaped, DEL passes.
TEST(Json, EscapesInvalidUtf8AndControls) {
  std::string out;
  appendJsonString(out, std::string("a\xff\x01\x7f\xC3\xA9", 6));
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\\u0001\x7f\xC3\xA9\"");
  EXPECT_TRUE(parseJson(out).ok());
  EXPECT_FALSE(isValidUtf8("\xC0\x80"));     // overlong
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80"));
}

// `llm --json` (traffic::Json) and `events --json` write the same bytes for the same
// string, invalid UTF-8 included.
TEST(Json, DumpAgreesWithTheEventsWriter) {
  const std::string bytes("caf\xe9 \xff\xfe\x01\"", 9);
  std::string events;
  aa::appendJsonString(events, bytes);
  EXPECT_EQ(Json::string(bytes).dump(), events);
  EXPECT_EQ(events, "\"caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\\u0001\\\"\"");
}

TEST(Json, LoneSurrogateBecomesReplacement) {
  auto j = parseJson(R"("\ud800x")");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->str(), "\xEF\xBF\xBDx");
}

TEST(Json, CopiesAreIndependent) {
  Json a = Json::array();
  a.push(Json::number(1));
  Json b = a;
  b.push(Json::number(2));
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 2u);
  Json o = Json::object();
  o.set("k", Json::string("v"));
  o.set("k", Json::string("w"));
  EXPECT_EQ(o.dump(), R"({"k":"w"})");
}

}  // namespace
}  // namespace aa::traffic
