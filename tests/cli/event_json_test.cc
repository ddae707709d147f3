// The JSON Lines contract of `aa-session events --json`, field by field, for every kind.
#include "store/render/event_json.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "store/session_reader.h"
#include "tests/cli/all_kinds_session.h"
#include "tests/cli/json_lite.h"
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
      std::string err;
      auto v = jsonlite::parse(line, &err);
      ASSERT_TRUE(v) << err << ": " << line;
      ASSERT_EQ(v->type, jsonlite::Value::kObject) << line;
      lines_.push_back(line);
      objs_.push_back(std::move(*v));
    }
    ASSERT_EQ(objs_.size(), size_t(testing::kAllKindsCount));
  }

  // Checks the common fields of event i and that its keys are exactly `kindKeys` after
  // them, in order.
  const jsonlite::Value& event(size_t i, std::string_view kind, const Keys& kindKeys) {
    const auto& o = objs_.at(i);
    Keys want = {"seq", "t_ns", "pid", "tid", "comm", "kind"};
    if (o.has("comm_b64")) want.insert(want.begin() + 5, "comm_b64");
    want.insert(want.end(), kindKeys.begin(), kindKeys.end());
    EXPECT_EQ(o.keys(), want) << lines_[i];
    EXPECT_EQ(o["seq"].u64(), i) << lines_[i];
    EXPECT_EQ(o["t_ns"].u64(), 1000 * (i + 1)) << lines_[i];
    EXPECT_EQ(o["kind"].text, kind) << lines_[i];
    return o;
  }

  TempDir dir_;
  std::string path_;
  std::vector<std::string> lines_;
  std::vector<jsonlite::Value> objs_;
};

TEST_F(EventJsonTest, Exec) {
  const auto& o = event(0, "exec", {"path", "argv", "argv_b64", "cwd", "argv_truncated", "uid",
                                    "gid", "ppid"});
  EXPECT_EQ(o["pid"].u64(), 100u);
  EXPECT_EQ(o["tid"].u64(), 100u);
  EXPECT_EQ(o["comm"].text, "agent");
  EXPECT_EQ(o["path"].text, "/usr/bin/python3");
  ASSERT_EQ(o["argv"].type, jsonlite::Value::kArray);
  ASSERT_EQ(o["argv"].items.size(), 3u);
  EXPECT_EQ(o["argv"].items[0].text, "python3");
  EXPECT_EQ(o["argv"].items[1].text, "a b.py");
  // Latin-1 "café": shown with U+FFFD, exact bytes in argv_b64.
  EXPECT_EQ(o["argv"].items[2].text, "caf\xEF\xBF\xBD");
  ASSERT_EQ(o["argv_b64"].items.size(), 3u);
  EXPECT_EQ(o["argv_b64"].items[0].text, "cHl0aG9uMw==");
  EXPECT_EQ(o["argv_b64"].items[2].text, "Y2Fm6Q==");
  EXPECT_EQ(o["cwd"].text, "/home/u");
  EXPECT_EQ(o["argv_truncated"].type, jsonlite::Value::kBool);
  EXPECT_FALSE(o["argv_truncated"].boolean);
  EXPECT_EQ(o["uid"].u64(), 1000u);
  EXPECT_EQ(o["gid"].u64(), 1001u);
  EXPECT_EQ(o["ppid"].u64(), 1u);
}

TEST_F(EventJsonTest, ForkAndExit) {
  EXPECT_EQ(event(1, "fork", {"child_pid"})["child_pid"].u64(), 101u);
  const auto& x = event(2, "exit", {"exit_code", "signal"});
  EXPECT_EQ(x["pid"].u64(), 101u);
  EXPECT_EQ(x["comm"].text, "child");
  EXPECT_EQ(x["exit_code"].i64(), 3);
  EXPECT_EQ(x["signal"].i64(), 0);
}

TEST_F(EventJsonTest, FileOpenCloseReadWrite) {
  const auto& o = event(3, "file.open", {"path", "flags", "mode", "ret", "fd"});
  EXPECT_EQ(o["path"].text, "/etc/hosts");
  EXPECT_EQ(o["flags"].u64(), 0x80000u);
  EXPECT_EQ(o["mode"].u64(), 0u);
  EXPECT_EQ(o["ret"].i64(), 3);
  EXPECT_EQ(o["fd"].i64(), 3);
  const auto& c = event(4, "file.close",
                        {"path", "fd", "bytes_read", "bytes_written", "reads", "writes", "reason"});
  EXPECT_EQ(c["path"].text, "/etc/hosts");
  EXPECT_EQ(c["fd"].i64(), 3);
  EXPECT_EQ(c["bytes_read"].u64(), 120u);
  EXPECT_EQ(c["bytes_written"].u64(), 0u);
  EXPECT_EQ(c["reads"].u64(), 2u);
  EXPECT_EQ(c["reason"].text, "explicit");
  const auto& r = event(5, "file.read", {"path", "fd", "ret"});
  EXPECT_EQ(r["fd"].i64(), 3);
  EXPECT_EQ(r["ret"].i64(), 120);
  const auto& w = event(6, "file.write", {"path", "fd", "ret"});
  EXPECT_EQ(w["path"].text, "/tmp/out\n\"q\"\\");   // escaped on the wire, exact when parsed
  EXPECT_EQ(w["fd"].i64(), 4);
  EXPECT_EQ(w["ret"].i64(), 7);
  EXPECT_NE(lines_[6].find(R"("/tmp/out\n\"q\"\\")"), std::string::npos) << lines_[6];
}

TEST_F(EventJsonTest, FileMetadataKinds) {
  const auto& rn = event(7, "file.rename", {"path", "old_path", "new_path", "flags", "ret"});
  EXPECT_EQ(rn["old_path"].text, "/tmp/a.tmp");
  EXPECT_EQ(rn["new_path"].text, "/tmp/a");
  EXPECT_EQ(rn["path"].text, "/tmp/a");
  const auto& u = event(8, "file.unlink", {"path", "path_b64", "ret"});
  EXPECT_EQ(u["path"].text, "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(u["path_b64"].text, "L3RtcC///g==");
  EXPECT_EQ(u["ret"].i64(), -2);
  const auto& m = event(9, "file.mkdir", {"path", "mode", "ret"});
  EXPECT_EQ(m["mode"].u64(), 0755u);
  EXPECT_EQ(event(10, "file.rmdir", {"path", "ret"})["path"].text, "/tmp/d");
  const auto& t = event(11, "file.truncate", {"path", "fd", "length", "ret"});
  EXPECT_EQ(t["fd"].i64(), -1);
  EXPECT_EQ(t["length"].i64(), 10);
  const auto& c = event(12, "file.chmod", {"path", "fd", "mode", "ret"});
  EXPECT_EQ(c["mode"].u64(), 0755u);
  const auto& s = event(17, "file.symlink", {"path", "target", "ret"});
  EXPECT_EQ(s["path"].text, "/tmp/l");
  EXPECT_EQ(s["target"].text, "../x");
  EXPECT_EQ(event(18, "chdir", {"path", "ret"})["path"].text, "/tmp");
  const auto& hard = event(19, "file.link", {"path", "old_path", "new_path", "flags", "ret"});
  EXPECT_EQ(hard["path"].text, "/tmp/b");
  EXPECT_EQ(hard["old_path"].text, "/tmp/a");
  EXPECT_EQ(hard["new_path"].text, "/tmp/b");
  EXPECT_EQ(hard["flags"].u64(), 0x400u);
  EXPECT_EQ(hard["ret"].i64(), 0);
  const auto& own = event(20, "file.chown", {"path", "fd", "uid", "gid", "flags", "ret"});
  EXPECT_EQ(own["path"].text, "/tmp/a");
  EXPECT_EQ(own["fd"].i64(), -1);
  EXPECT_EQ(own["uid"].i64(), 1000);
  EXPECT_EQ(own["gid"].i64(), -1);
  EXPECT_EQ(own["flags"].u64(), 0x100u);
  EXPECT_EQ(own["ret"].i64(), 0);
}

TEST_F(EventJsonTest, NetConnect) {
  const auto& n = event(13, "net.connect", {"addr", "port", "fd", "family", "ret"});
  EXPECT_EQ(n["addr"].text, "1.2.3.4");
  EXPECT_EQ(n["port"].u64(), 443u);
  EXPECT_EQ(n["fd"].i64(), 5);
  EXPECT_EQ(n["family"].u64(), 2u);
  EXPECT_EQ(n["ret"].i64(), -115);
}

TEST_F(EventJsonTest, TlsTextPayloadAsData) {
  const auto& t = event(14, "tls.write",
                        {"conn", "offset", "len", "truncated", "lib", "fd", "func", "data"});
  EXPECT_EQ(t["conn"].u64(), 7u);
  EXPECT_EQ(t["offset"].u64(), 0u);
  EXPECT_EQ(t["len"].u64(), 18u);
  EXPECT_FALSE(t["truncated"].boolean);
  EXPECT_EQ(t["lib"].text, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_EQ(t["func"].text, "SSL_write");
  EXPECT_EQ(t["data"].text, "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(EventJsonTest, TlsBinaryPayloadAsBase64AndFull64BitIds) {
  const auto& t = event(15, "tls.read",
                        {"conn", "offset", "len", "truncated", "lib", "fd", "func", "data_b64"});
  EXPECT_EQ(t["tid"].u64(), 101u);
  EXPECT_EQ(t["conn"].text, "18446744073709551615");   // never rounded through a double
  EXPECT_EQ(t["offset"].u64(), 4096u);
  EXPECT_EQ(t["len"].u64(), 100u);
  EXPECT_TRUE(t["truncated"].boolean);
  EXPECT_EQ(t["data_b64"].text, "AAH/IGJpbg==");
  EXPECT_EQ(t["fd"].i64(), -1);
}

TEST_F(EventJsonTest, Lost) {
  const auto& l = event(16, "lost", {"count", "probe"});
  EXPECT_EQ(l["pid"].u64(), 0u);
  EXPECT_EQ(l["comm"].text, "");
  EXPECT_EQ(l["count"].u64(), 42u);
  EXPECT_EQ(l["probe"].text, "sys_exit");
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
  EXPECT_TRUE(jsonlite::parse(out));
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
