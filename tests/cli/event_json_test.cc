// The JSON Lines contract of `aa-session events --json`, field by field, for every kind.
#include "store/render/event_json.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "store/session_reader.h"
#include "tests/cli/all_kinds_session.h"
#include "tests/cli/json_fields.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using testing::TempDir;
using Keys = std::vector<std::string>;

std::vector<std::string> jsonLines(const SessionReader& r) {
  std::vector<std::string> out;
  Status st = r.forEach(EventQuery{}, [&](schema::Event::Reader e) {
    out.push_back(eventJson(e, r.relNs(e.getTNs())));
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

class EventJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("all.aas");
    Status st = testing::writeAllKindsSession(path_);
    ASSERT_TRUE(st.ok()) << st.message();
    auto r = SessionReader::open(path_);
    ASSERT_TRUE(r.ok()) << r.status().message();
    for (const auto& line : jsonLines(**r)) {
      auto v = aa::traffic::parseJson(line);
      ASSERT_TRUE(v.ok()) << v.status().message() << ": " << line;
      ASSERT_EQ(v->type(), testing::Json::Type::kObject) << line;
      lines_.push_back(line);
      objs_.push_back(std::move(*v));
    }
    ASSERT_EQ(objs_.size(), size_t(testing::kAllKindsCount));
  }

  // Checks the common fields of event i and that its keys are exactly `kindKeys` after
  // them, in order.
  const testing::Json& event(size_t i, std::string_view kind, const Keys& kindKeys) {
    const auto& o = objs_.at(i);
    Keys want = {"seq", "t_ns", "pid", "tid", "comm", "kind"};
    if (o.find("comm_b64")) want.insert(want.begin() + 5, "comm_b64");
    want.insert(want.end(), kindKeys.begin(), kindKeys.end());
    EXPECT_EQ(testing::memberNames(o), want) << lines_[i];
    EXPECT_EQ(testing::asU64(o.get("seq")), i) << lines_[i];
    EXPECT_EQ(testing::asU64(o.get("t_ns")), 1000 * (i + 1)) << lines_[i];
    EXPECT_EQ(o.get("kind").str(), kind) << lines_[i];
    return o;
  }

  TempDir dir_;
  std::string path_;
  std::vector<std::string> lines_;
  std::vector<testing::Json> objs_;
};

TEST_F(EventJsonTest, Exec) {
  const auto& o = event(0, "exec", {"path", "argv", "argv_b64", "cwd", "argv_truncated", "uid",
                                    "gid", "ppid"});
  EXPECT_EQ(testing::asU64(o.get("pid")), 100u);
  EXPECT_EQ(testing::asU64(o.get("tid")), 100u);
  EXPECT_EQ(o.get("comm").str(), "agent");
  EXPECT_EQ(o.get("path").str(), "/usr/bin/python3");
  ASSERT_EQ(o.get("argv").type(), testing::Json::Type::kArray);
  ASSERT_EQ(o.get("argv").items().size(), 3u);
  EXPECT_EQ(o.get("argv").items()[0].str(), "python3");
  EXPECT_EQ(o.get("argv").items()[1].str(), "a b.py");
  // Latin-1 "café": shown with U+FFFD, exact bytes in argv_b64.
  EXPECT_EQ(o.get("argv").items()[2].str(), "caf\xEF\xBF\xBD");
  ASSERT_EQ(o.get("argv_b64").items().size(), 3u);
  EXPECT_EQ(o.get("argv_b64").items()[0].str(), "cHl0aG9uMw==");
  EXPECT_EQ(o.get("argv_b64").items()[2].str(), "Y2Fm6Q==");
  EXPECT_EQ(o.get("cwd").str(), "/home/u");
  EXPECT_EQ(o.get("argv_truncated").type(), testing::Json::Type::kBool);
  EXPECT_FALSE(o.get("argv_truncated").asBool());
  EXPECT_EQ(testing::asU64(o.get("uid")), 1000u);
  EXPECT_EQ(testing::asU64(o.get("gid")), 1001u);
  EXPECT_EQ(testing::asU64(o.get("ppid")), 1u);
}

TEST_F(EventJsonTest, ForkAndExit) {
  EXPECT_EQ(testing::asU64(event(1, "fork", {"child_pid"}).get("child_pid")), 101u);
  const auto& x = event(2, "exit", {"exit_code", "signal"});
  EXPECT_EQ(testing::asU64(x.get("pid")), 101u);
  EXPECT_EQ(x.get("comm").str(), "child");
  EXPECT_EQ(x.get("exit_code").asInt(), 3);
  EXPECT_EQ(x.get("signal").asInt(), 0);
}

TEST_F(EventJsonTest, FileOpenCloseReadWrite) {
  const auto& o = event(3, "file.open", {"path", "flags", "mode", "ret", "fd"});
  EXPECT_EQ(o.get("path").str(), "/etc/hosts");
  EXPECT_EQ(testing::asU64(o.get("flags")), 0x80000u);
  EXPECT_EQ(testing::asU64(o.get("mode")), 0u);
  EXPECT_EQ(o.get("ret").asInt(), 3);
  EXPECT_EQ(o.get("fd").asInt(), 3);
  const auto& c = event(4, "file.close",
                        {"path", "fd", "bytes_read", "bytes_written", "reads", "writes", "reason"});
  EXPECT_EQ(c.get("path").str(), "/etc/hosts");
  EXPECT_EQ(c.get("fd").asInt(), 3);
  EXPECT_EQ(testing::asU64(c.get("bytes_read")), 120u);
  EXPECT_EQ(testing::asU64(c.get("bytes_written")), 0u);
  EXPECT_EQ(testing::asU64(c.get("reads")), 2u);
  EXPECT_EQ(c.get("reason").str(), "explicit");
  const auto& r = event(5, "file.read", {"path", "fd", "ret"});
  EXPECT_EQ(r.get("fd").asInt(), 3);
  EXPECT_EQ(r.get("ret").asInt(), 120);
  const auto& w = event(6, "file.write", {"path", "fd", "ret"});
  EXPECT_EQ(w.get("path").str(), "/tmp/out\n\"q\"\\");   // escaped on the wire, exact when parsed
  EXPECT_EQ(w.get("fd").asInt(), 4);
  EXPECT_EQ(w.get("ret").asInt(), 7);
  EXPECT_NE(lines_[6].find(R"("/tmp/out\n\"q\"\\")"), std::string::npos) << lines_[6];
}

TEST_F(EventJsonTest, FileMetadataKinds) {
  const auto& rn = event(7, "file.rename", {"path", "old_path", "new_path", "flags", "ret"});
  EXPECT_EQ(rn.get("old_path").str(), "/tmp/a.tmp");
  EXPECT_EQ(rn.get("new_path").str(), "/tmp/a");
  EXPECT_EQ(rn.get("path").str(), "/tmp/a");
  const auto& u = event(8, "file.unlink", {"path", "path_b64", "ret"});
  EXPECT_EQ(u.get("path").str(), "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(u.get("path_b64").str(), "L3RtcC///g==");
  EXPECT_EQ(u.get("ret").asInt(), -2);
  const auto& m = event(9, "file.mkdir", {"path", "mode", "ret"});
  EXPECT_EQ(testing::asU64(m.get("mode")), 0755u);
  EXPECT_EQ(event(10, "file.rmdir", {"path", "ret"}).get("path").str(), "/tmp/d");
  const auto& t = event(11, "file.truncate", {"path", "fd", "length", "ret"});
  EXPECT_EQ(t.get("fd").asInt(), -1);
  EXPECT_EQ(t.get("length").asInt(), 10);
  const auto& c = event(12, "file.chmod", {"path", "fd", "mode", "ret"});
  EXPECT_EQ(testing::asU64(c.get("mode")), 0755u);
  const auto& s = event(17, "file.symlink", {"path", "target", "ret"});
  EXPECT_EQ(s.get("path").str(), "/tmp/l");
  EXPECT_EQ(s.get("target").str(), "../x");
  EXPECT_EQ(event(18, "chdir", {"path", "ret"}).get("path").str(), "/tmp");
  const auto& hard = event(19, "file.link", {"path", "old_path", "new_path", "flags", "ret"});
  EXPECT_EQ(hard.get("path").str(), "/tmp/b");
  EXPECT_EQ(hard.get("old_path").str(), "/tmp/a");
  EXPECT_EQ(hard.get("new_path").str(), "/tmp/b");
  EXPECT_EQ(testing::asU64(hard.get("flags")), 0x400u);
  EXPECT_EQ(hard.get("ret").asInt(), 0);
  const auto& own = event(20, "file.chown", {"path", "fd", "uid", "gid", "flags", "ret"});
  EXPECT_EQ(own.get("path").str(), "/tmp/a");
  EXPECT_EQ(own.get("fd").asInt(), -1);
  EXPECT_EQ(own.get("uid").asInt(), 1000);
  EXPECT_EQ(own.get("gid").asInt(), -1);
  EXPECT_EQ(testing::asU64(own.get("flags")), 0x100u);
  EXPECT_EQ(own.get("ret").asInt(), 0);
}

TEST_F(EventJsonTest, NetConnect) {
  const auto& n = event(13, "net.connect", {"addr", "port", "fd", "family", "ret"});
  EXPECT_EQ(n.get("addr").str(), "1.2.3.4");
  EXPECT_EQ(testing::asU64(n.get("port")), 443u);
  EXPECT_EQ(n.get("fd").asInt(), 5);
  EXPECT_EQ(testing::asU64(n.get("family")), 2u);
  EXPECT_EQ(n.get("ret").asInt(), -115);
}

TEST_F(EventJsonTest, TlsTextPayloadAsData) {
  const auto& t = event(14, "tls.write",
                        {"conn", "offset", "len", "truncated", "lib", "fd", "func", "data"});
  EXPECT_EQ(testing::asU64(t.get("conn")), 7u);
  EXPECT_EQ(testing::asU64(t.get("offset")), 0u);
  EXPECT_EQ(testing::asU64(t.get("len")), 18u);
  EXPECT_FALSE(t.get("truncated").asBool());
  EXPECT_EQ(t.get("lib").str(), "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_EQ(t.get("func").str(), "SSL_write");
  EXPECT_EQ(t.get("data").str(), "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(EventJsonTest, TlsBinaryPayloadAsBase64AndFull64BitIds) {
  const auto& t = event(15, "tls.read",
                        {"conn", "offset", "len", "truncated", "lib", "fd", "func", "data_b64"});
  EXPECT_EQ(testing::asU64(t.get("tid")), 101u);
  EXPECT_EQ(t.get("conn").str(), "18446744073709551615");   // never rounded through a double
  EXPECT_EQ(testing::asU64(t.get("offset")), 4096u);
  EXPECT_EQ(testing::asU64(t.get("len")), 100u);
  EXPECT_TRUE(t.get("truncated").asBool());
  EXPECT_EQ(t.get("data_b64").str(), "AAH/IGJpbg==");
  EXPECT_EQ(t.get("fd").asInt(), -1);
}

// A plain socket's bytes: the TLS fields without lib, func the syscall.
TEST_F(EventJsonTest, NetSendAndRecv) {
  const auto& s = event(21, "net.send", {"conn", "offset", "len", "truncated", "fd", "func", "data"});
  EXPECT_EQ(testing::asU64(s.get("conn")), 8u);
  EXPECT_EQ(testing::asU64(s.get("len")), 27u);
  EXPECT_EQ(s.get("fd").asInt(), 6);
  EXPECT_EQ(s.get("func").str(), "sendto");
  EXPECT_EQ(s.get("data").str(), "POST /api/chat HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(s.find("lib"));
  const auto& r = event(22, "net.recv", {"conn", "offset", "len", "truncated", "fd", "func", "data"});
  EXPECT_EQ(r.get("func").str(), "recvfrom");
  EXPECT_EQ(r.get("data").str(), "HTTP/1.1 200 OK\r\n");
}

TEST_F(EventJsonTest, Lost) {
  const auto& l = event(16, "lost", {"count", "probe"});
  EXPECT_EQ(testing::asU64(l.get("pid")), 0u);
  EXPECT_EQ(l.get("comm").str(), "");
  EXPECT_EQ(testing::asU64(l.get("count")), 42u);
  EXPECT_EQ(l.get("probe").str(), "sys_exit");
}

TEST(JsonPieces, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));       // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));   // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE2\x9C"));           // cut sequence
  EXPECT_FALSE(isValidUtf8("\x80"));
}

TEST(JsonPieces, Base64) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

TEST(JsonPieces, StringEscapes) {
  std::string out;
  appendJsonString(out, std::string_view("a\"\\\n\x01\x7f\xff", 7));
  EXPECT_EQ(out, "\"a\\\"\\\\\\n\\u0001\x7f\xEF\xBF\xBD\"");
  EXPECT_TRUE(aa::traffic::parseJson(out).ok());
}

TEST(JsonPieces, SockAddr) {
  EXPECT_EQ(formatAddr(kRecordedAfInet, std::string_view("\x7f\0\0\x01", 4)), "127.0.0.1");
  std::string v6(16, '\0');
  v6[15] = 1;
  EXPECT_EQ(formatAddr(kRecordedAfInet6, v6), "::1");
  EXPECT_EQ(formatAddr(kRecordedAfUnix, "/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(formatAddr(kRecordedAfInet, "abc"), "");   // wrong length for the family
}

}  // namespace
}  // namespace aa
