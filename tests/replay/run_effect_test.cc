// What an event changed (store/diff/run_effect.h): which kinds change something, what
// counts as having done it, and the one-line summaries the tool-call effects show.
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "store/diff/run_effect.h"
#include "store/linux_abi.h"

namespace aa::diff {
namespace {

using C = RunEffect::Change;

capnp::Data::Reader data(const std::string& s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

// Every union member, zeroed but for its name bytes and a successful result.
TEST(RunEffect, WhichKindsChangeSomething) {
  const std::map<std::string, std::optional<C>> expected = {
      {"exec", C::kExec},          {"fork", std::nullopt},        {"exit", std::nullopt},
      {"fileOpen", std::nullopt},  // neither O_CREAT nor O_TRUNC: a plain open changes nothing
      {"fileClose", std::nullopt}, // wrote nothing
      {"fileRead", std::nullopt},  {"fileWrite", std::nullopt},   // 0 bytes
      {"fileRename", C::kRename},  {"fileUnlink", C::kDelete},    {"fileMkdir", C::kMakeDir},
      {"fileRmdir", C::kRemoveDir}, {"fileTruncate", C::kTruncate}, {"fileChmod", C::kChmod},
      {"netConnect", std::nullopt},  // no address
      {"tls", std::nullopt},       {"lost", std::nullopt},        {"symlink", C::kSymlink},
      {"chdir", std::nullopt},     {"link", C::kLink},            {"fileChown", C::kChown},
  };
  size_t seen = 0;
  for (auto member : capnp::Schema::from<schema::Event>().getUnionFields()) {
    const std::string name = member.getProto().getName().cStr();
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<schema::Event>();
    capnp::DynamicStruct::Builder dyn = root;
    dyn.clear(member);
    auto group = dyn.get(member).as<capnp::DynamicStruct>();
    for (auto f : group.getSchema().getFields())
      if (f.getType().isData()) group.set(f, data("/w/" + std::string(f.getProto().getName().cStr())));
    ASSERT_TRUE(expected.count(name)) << "a new kind: say here what it changes: " << name;
    auto fx = runEffectOf(describe(root.asReader()));
    EXPECT_EQ(fx.has_value(), expected.at(name).has_value()) << name;
    if (fx && expected.at(name)) {
      EXPECT_EQ(fx->change, *expected.at(name)) << name;
    }
    ++seen;
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(RunEffect, FailedCallsChangeNothing) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto rn = e.initFileRename();
  rn.setOldPath(data("/a"));
  rn.setNewPath(data("/b"));
  rn.setRet(-2);
  EXPECT_FALSE(runEffectOf(describe(e.asReader())));
  auto open = e.initFileOpen();
  open.setPath(data("/a"));
  open.setFlags(linux_abi::kO_CREAT);
  open.setRet(-13);
  EXPECT_FALSE(runEffectOf(describe(e.asReader())));
  auto w = e.initFileWrite();
  w.setPath(data("/a"));
  w.setRet(-28);
  EXPECT_FALSE(runEffectOf(describe(e.asReader())));
}

TEST(RunEffect, OpensSayWhatTheyMade) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto open = e.initFileOpen();
  open.setPath(data("/tmp/tmp.UQZUJT"));
  open.setFlags(linux_abi::kO_CREAT | linux_abi::kO_EXCL | 02);
  open.setRet(3);
  auto fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_TRUE(fx->created && fx->exclusive && !fx->truncated);
  EXPECT_EQ(fx->summary(), "create /tmp/tmp.UQZUJT");
  open.setFlags(linux_abi::kO_TRUNC | 01);
  fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_TRUE(fx->truncated && !fx->created);
  EXPECT_EQ(fx->summary(), "create/truncate /tmp/tmp.UQZUJT");
}

TEST(RunEffect, WritesCountBytesByCallOrAtClose) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto c = e.initFileClose();
  c.setPath(data("/a"));
  c.setBytesRead(100);
  c.setBytesWritten(12);
  auto fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_EQ(fx->change, C::kWrite);
  EXPECT_TRUE(fx->atClose);
  EXPECT_EQ(fx->bytes, 12u);
  EXPECT_EQ(fx->summary(), "write /a (12 bytes)");
  auto w = e.initFileWrite();
  w.setPath(data("/a"));
  w.setRet(7);
  fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_FALSE(fx->atClose);
  EXPECT_EQ(fx->bytes, 7u);
}

TEST(RunEffect, ConnectsUnderWayCountAndRefusedOnesDoNot) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto c = e.initNetConnect();
  const capnp::byte ip[4] = {127, 0, 0, 1};
  c.setFamily(2);
  c.setAddr(capnp::Data::Reader(ip, 4));
  c.setPort(8443);
  c.setRet(-int64_t(linux_abi::kEINPROGRESS));
  auto fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_EQ(fx->summary(), "connect 127.0.0.1:8443");
  c.setRet(-111);   // ECONNREFUSED
  EXPECT_FALSE(runEffectOf(describe(e.asReader())));
}

TEST(RunEffect, ExecsWithoutArgvNameTheExecutable) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto x = e.initExec();
  x.setPath(data("/usr/bin/true"));
  auto fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_EQ(fx->summary(), "exec /usr/bin/true");
  auto argv = x.initArgv(2);
  argv.set(0, data("ls"));
  argv.set(1, data("-l"));
  x.setArgvTruncated(true);
  fx = runEffectOf(describe(e.asReader()));
  ASSERT_TRUE(fx);
  EXPECT_EQ(fx->summary(), "exec ls -l");
  EXPECT_TRUE(fx->argvTruncated);
}

}  // namespace
}  // namespace aa::diff
