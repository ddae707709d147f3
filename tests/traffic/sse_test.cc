#include "store/traffic/sse.h"

#include <gtest/gtest.h>

namespace aa::traffic {
namespace {

TEST(Sse, SplitsEventsWithAllLineEndings) {
  std::string body = "event: a\ndata: 1\n\n: comment\r\nevent: b\r\ndata: x\r\ndata:y\r\n\r\n"
                     "id: 7\rdata: cr\r\rretry: 10\ndata: last\n\n";
  auto ev = splitSse(body);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].event, "a");
  EXPECT_EQ(ev[0].data, "1");
  EXPECT_EQ(ev[0].endPos, 18u);
  EXPECT_EQ(ev[1].event, "b");
  EXPECT_EQ(ev[1].data, "x\ny");
  EXPECT_EQ(ev[2].id, "7");
  EXPECT_EQ(ev[2].data, "cr");
  EXPECT_EQ(ev[3].data, "last");
  EXPECT_EQ(ev[3].endPos, body.size());
  for (const auto& e : ev) EXPECT_TRUE(e.complete);
}

TEST(Sse, CutEventIsMarkedIncomplete) {
  auto ev = splitSse("data: {\"a\":1}\n\ndata: {\"b\"");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(ev[0].complete);
  EXPECT_FALSE(ev[1].complete);
  EXPECT_EQ(ev[1].data, "{\"b\"");
  auto ev2 = splitSse("data: whole line\n");   // line ended, blank line missing
  ASSERT_EQ(ev2.size(), 1u);
  EXPECT_FALSE(ev2[0].complete);
}

TEST(Sse, EventsWithoutDataAreNotDispatched) {
  auto ev = splitSse("event: ping\n\n\n\ndata:\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");
}

}  // namespace
}  // namespace aa::traffic
