// Plain-HTTP capture, for real (root, aa-record end to end): the bytes of unencrypted TCP
// connections whose first write is HTTP are taken from the socket's own reads and writes
// (bpf/plain_sys.bpf.h) and stored as tls events with plain = true, no lib, func = the
// syscall. Clients: a raw Python client whose every byte is known (sendmsg, writev,
// recvmsg, readv, send, recv; a writev of more iovecs than are walked), curl (keep-alive:
// a GET and a streamed POST on one connection), Python's urllib, Node's fetch, and bash
// /dev/tcp (HTTP, and not). The server is fixtures/server/server.js --plain-port.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "store/session_reader.h"
#include "tests/support/test_server.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = AA_SOURCE_DIR;
const std::string kClient = kSourceDir + "/tests/recorder/plain_client.py";
const std::string kSecret = "Bearer sk-test-0123456789";

bool haveExe(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string text(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

struct TlsEv {
  uint32_t pid = 0;
  std::string comm, func, lib, data;
  bool read = false, truncated = false, plain = false;
  uint64_t conn = 0, offset = 0, length = 0;
  int32_t fd = -1;
};

struct Connect {
  uint32_t pid = 0;
  int32_t fd = -1;
  uint16_t port = 0;
};

struct Session {
  std::vector<TlsEv> tls;
  std::vector<Connect> connects;
  std::string log;  // aa-record's stderr (the blind-spot lines)
  std::string path;  // the session file
  int exitStatus = -1;

  std::set<uint64_t> plainConns() const {
    std::set<uint64_t> out;
    for (const auto& e : tls)
      if (e.plain) out.insert(e.conn);
    return out;
  }
  std::vector<const TlsEv*> of(uint64_t conn, bool read) const {
    std::vector<const TlsEv*> out;
    for (const auto& e : tls)
      if (e.conn == conn && e.read == read) out.push_back(&e);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    return out;
  }
  // One direction of a connection, reassembled; nullopt when its offsets leave a gap.
  std::optional<std::string> stream(uint64_t conn, bool read) const {
    std::string s;
    for (const TlsEv* e : of(conn, read)) {
      if (e->offset != s.size()) return std::nullopt;
      s += e->data;
    }
    return s;
  }
  // The contiguous bytes of one direction from offset 0, up to the first gap.
  std::string prefix(uint64_t conn, bool read) const {
    std::string s;
    for (const TlsEv* e : of(conn, read)) {
      if (e->offset != s.size()) break;
      s += e->data;
    }
    return s;
  }
  // The plain connection whose write stream begins with `start` (0: none).
  uint64_t connStartingWith(const std::string& start) const {
    for (uint64_t c : plainConns())
      if (prefix(c, false).rfind(start, 0) == 0) return c;
    return 0;
  }
};

StatusOr<Session> readSession(const std::string& path) {
  Session out;
  AA_ASSIGN_OR_RETURN(auto reader, SessionReader::open(path));
  // every kind: the plain events' kind is the catalog's business, the tls group is ours
  Status st = reader->forEach(EventQuery{}, [&](schema::Event::Reader e) {
    if (e.isNetConnect()) {
      auto c = e.getNetConnect();
      out.connects.push_back({e.getPid(), c.getFd(), c.getPort()});
    }
    if (!e.isTls()) return true;
    auto t = e.getTls();
    TlsEv v;
    v.pid = e.getPid();
    v.comm = text(e.getComm());
    v.func = t.getFunc();
    v.lib = text(t.getLib());
    v.data = text(t.getData());
    v.read = t.getDirection() == schema::TlsDirection::READ;
    v.truncated = t.getTruncated();
    v.plain = t.getPlain();
    v.conn = t.getConn();
    v.offset = t.getOffset();
    v.length = t.getLength();
    v.fd = t.getFd();
    out.tls.push_back(std::move(v));
    return true;
  });
  AA_RETURN_IF_ERROR(st);
  return out;
}

// `value` of every `name:` header line (any case) replaced by as many '*': what the
// recorder's redactor does to a secret header (recorder/redact.h).
std::string maskHeader(std::string s, const std::string& name) {
  size_t at = 0;
  while (at < s.size()) {
    size_t eol = s.find("\r\n", at);
    if (eol == std::string::npos) break;
    if (eol == at) {  // end of a header block: skip to the next message start we know
      at = eol + 2;
      continue;
    }
    std::string line = s.substr(at, eol - at);
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind(name + ":", 0) == 0) {
      size_t v = name.size() + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      for (size_t i = at + v; i < eol; ++i) s[i] = '*';
    }
    at = eol + 2;
  }
  return s;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `aa-session ARGS...` run on a session: its stdout.
std::string aaSession(const std::vector<std::string>& args) {
  std::string cmd = AA_SESSION_PATH;
  for (const auto& a : args) cmd += " '" + a + "'";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

class PlainCaptureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) {
      skip_ = "needs root: loads BPF programs";
      return;
    }
    if (!haveExe("/usr/bin/openssl")) {
      skip_ = "needs the openssl CLI (the test server's certificate)";
      return;
    }
    server_ = new test_support::TestServer();
    if (Status st = server_->start(kSourceDir, {"--plain-port", "0", "--answers", "llm"}); !st.ok()) {
      skip_ = "loopback server: " + st.message();
    } else if (server_->plainPort().empty()) {
      skip_ = "loopback server printed no plain port";
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    dir_ = fs::temp_directory_path() / ("aa-plain-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // aa-record OPTIONS -- ARGV; the session read back.
  Session record(const std::vector<std::string>& argv, const std::vector<std::string>& options = {}) {
    const std::string session = (dir_ / ("s" + std::to_string(n_++) + ".aas")).string();
    const std::string log = session + ".log";
    std::vector<std::string> cmd = {AA_RECORD_PATH, "-o", session};
    cmd.insert(cmd.end(), options.begin(), options.end());
    cmd.push_back("--");
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    const pid_t child = ::fork();
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(null, 1);
      ::dup2(err, 2);
      std::vector<char*> args;
      for (auto& a : cmd) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    auto s = readSession(session);
    EXPECT_TRUE(s.ok()) << s.status().message();
    Session out = s.ok() ? std::move(*s) : Session{};
    out.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out.log = readFile(log);
    out.path = session;
    EXPECT_EQ(out.exitStatus, 0) << "recorded command failed: " << argv[0] << "\n" << out.log;
    return out;
  }

  static test_support::TestServer* server_;
  static std::string skip_;
  fs::path dir_;
  int n_ = 0;
};

test_support::TestServer* PlainCaptureTest::server_ = nullptr;
std::string PlainCaptureTest::skip_;

// What the raw client's OUT.json says of one connection (fd, sent, received), read with
// python3 itself: the file is latin-1 text in JSON.
std::map<std::string, std::string> clientConn(const std::string& json, const std::string& name) {
  std::map<std::string, std::string> out;
  const std::string dump = json + ".dump";
  const std::string cmd = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))[sys.argv[2]]\n"
                          "for k in (\"fd\",\"sent\",\"received\",\"captured\"):\n"
                          " open(sys.argv[3]+\".\"+k,\"wb\").write(str(d.get(k,\"\")).encode(\"latin-1\"))' " +
                          json + " " + name + " " + dump;
  if (std::system(cmd.c_str()) != 0) return out;
  for (const char* k : {"fd", "sent", "received", "captured"}) out[k] = readFile(dump + "." + k);
  return out;
}

TEST_F(PlainCaptureTest, RawClientEveryByteInPlace) {
  const std::string json = (dir_ / "client.json").string();
  // --no-redact: the bytes as they went (redaction is checked below)
  Session s = record({"python3", kClient, server_->plainPort(), json}, {"--no-redact"});
  auto a = clientConn(json, "a"), b = clientConn(json, "b"), c = clientConn(json, "c");
  ASSERT_FALSE(a["sent"].empty()) << "the client wrote no OUT.json: " << s.log;

  const uint64_t ca = s.connStartingWith("POST /echo-size"), cb = s.connStartingWith("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
                 cc = s.connStartingWith("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Part-00");
  ASSERT_NE(ca, 0u);
  ASSERT_NE(cb, 0u);
  ASSERT_NE(cc, 0u);
  EXPECT_EQ(s.plainConns().size(), 3u) << "one conn per connection";
  EXPECT_NE(ca, cb);
  EXPECT_NE(cb, cc);

  EXPECT_EQ(s.stream(ca, false).value_or("<gap>"), a["sent"]);
  EXPECT_EQ(s.stream(ca, true).value_or("<gap>"), a["received"]);
  EXPECT_EQ(s.stream(cb, false).value_or("<gap>"), b["sent"]);
  EXPECT_EQ(s.stream(cb, true).value_or("<gap>"), b["received"]);
  EXPECT_EQ(s.stream(cc, true).value_or("<gap>"), c["received"]);

  // writev of 20 buffers: 16 walked, the rest said to be missing (an empty truncated
  // event where the missing bytes begin), the call's length whole
  auto cw = s.of(cc, false);
  ASSERT_GE(cw.size(), 2u);
  std::string walked;
  for (const TlsEv* e : cw)
    if (!e->truncated) walked += e->data;
  EXPECT_EQ(walked, c["captured"]);
  EXPECT_TRUE(cw.back()->truncated);
  EXPECT_TRUE(cw.back()->data.empty());
  EXPECT_EQ(cw.back()->offset, c["captured"].size());
  EXPECT_EQ(cw.back()->length, c["sent"].size());

  const std::map<uint64_t, std::pair<std::set<std::string>, std::set<std::string>>> funcs = {
      {ca, {{"sendmsg", "writev"}, {"recvmsg", "readv"}}},
      {cb, {{"sendto"}, {"recvfrom"}}},
      {cc, {{"writev"}, {"recvfrom"}}}};
  const std::map<uint64_t, std::string> fds = {{ca, a["fd"]}, {cb, b["fd"]}, {cc, c["fd"]}};
  size_t chunks = 0;
  for (const auto& e : s.tls) {
    ASSERT_TRUE(e.plain) << "only plain connections in this run";
    EXPECT_TRUE(e.lib.empty());
    EXPECT_EQ(std::to_string(e.fd), fds.at(e.conn));
    const auto& [w, r] = funcs.at(e.conn);
    EXPECT_TRUE((e.read ? r : w).count(e.func)) << e.func;
    EXPECT_LE(e.data.size(), 16384u);
    if (e.conn == ca && e.read && e.func == "readv") ++chunks;
  }
  EXPECT_GE(chunks, 3u) << "40000 bytes came in chunks";
  // every connection's fd is the one its connect named
  for (const auto& [conn, fd] : fds) {
    bool found = false;
    for (const auto& k : s.connects) found |= std::to_string(k.fd) == fd && std::to_string(k.port) == server_->plainPort();
    EXPECT_TRUE(found) << "no net.connect of fd " << fd;
  }
}

TEST_F(PlainCaptureTest, AuthorizationRedactedLikeTls) {
  const std::string json = (dir_ / "client.json").string();
  Session s = record({"python3", kClient, server_->plainPort(), json});
  auto a = clientConn(json, "a");
  const uint64_t ca = s.connStartingWith("POST /echo-size");
  ASSERT_NE(ca, 0u);
  const std::string w = s.stream(ca, false).value_or("<gap>");
  EXPECT_EQ(w.find(kSecret), std::string::npos);
  EXPECT_NE(w.find("Authorization: " + std::string(kSecret.size(), '*') + "\r\n"), std::string::npos) << w;
  EXPECT_EQ(w, maskHeader(a["sent"], "authorization"));
  // the server's cookie, as in a TLS response
  const std::string r = s.stream(ca, true).value_or("<gap>");
  EXPECT_EQ(r.find("server-secret-cookie"), std::string::npos);
  EXPECT_EQ(r, maskHeader(a["received"], "set-cookie"));
}

TEST_F(PlainCaptureTest, MaxTlsBytesLimitsPlainConnectionsToo) {
  const std::string json = (dir_ / "client.json").string();
  Session s = record({"python3", kClient, server_->plainPort(), json}, {"--no-redact", "--max-tls-bytes=100"});
  auto a = clientConn(json, "a");
  const uint64_t ca = s.connStartingWith("POST /echo-size");
  ASSERT_NE(ca, 0u);
  for (bool read : {false, true}) {
    std::string kept;
    bool truncated = false;
    for (const TlsEv* e : s.of(ca, read)) {
      kept += e->data;
      truncated |= e->truncated;
    }
    const std::string& whole = read ? a["received"] : a["sent"];
    EXPECT_EQ(kept, whole.substr(0, 100)) << (read ? "read" : "write");
    EXPECT_TRUE(truncated) << "what was not kept is said";
  }
}

TEST_F(PlainCaptureTest, CurlKeepAliveGetThenStreamedPost) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  const std::string body =
      R"({"model":"claude-mock","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  Session s = record({"/usr/bin/curl", "-sS", "-o", "/dev/null", server_->plainUrl("/hello"), "--next", "-sS", "-o",
                      "/dev/null", "-H", "content-type: application/json", "-H", "anthropic-version: 2023-06-01",
                      "-H", "Authorization: " + kSecret, "--data", body, server_->plainUrl("/v1/messages")});
  ASSERT_EQ(s.plainConns().size(), 1u) << "both requests on one connection";
  const uint64_t c = *s.plainConns().begin();
  const std::string w = s.stream(c, false).value_or("<gap>"), r = s.stream(c, true).value_or("<gap>");
  EXPECT_EQ(w.rfind("GET /hello HTTP/1.1\r\n", 0), 0u) << w;
  const size_t post = w.find("POST /v1/messages HTTP/1.1\r\n");
  ASSERT_NE(post, std::string::npos) << w;
  EXPECT_EQ(w.substr(w.size() - body.size()), body) << "the POST body, byte for byte";
  EXPECT_EQ(w.find(kSecret), std::string::npos);
  EXPECT_NE(r.find("hello from the loopback server\n"), std::string::npos);
  EXPECT_NE(r.find("text/event-stream"), std::string::npos) << r;
  EXPECT_NE(r.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("event: message_stop"), std::string::npos) << r;
  // the reading side: both exchanges, and the streamed Messages call with its answer
  const std::string http = aaSession({"http", s.path});
  EXPECT_NE(http.find("GET 127.0.0.1:" + server_->plainPort() + "/hello -> 200"), std::string::npos) << http;
  EXPECT_NE(http.find("POST 127.0.0.1:" + server_->plainPort() + "/v1/messages -> 200"), std::string::npos) << http;
  const std::string llm = aaSession({"llm", s.path});
  EXPECT_NE(llm.find("anthropic claude-mock stream -> 200"), std::string::npos) << llm;
  EXPECT_NE(llm.find("\"echo: hi\""), std::string::npos) << llm;
  int32_t fd = -1;
  for (const auto& k : s.connects)
    if (std::to_string(k.port) == server_->plainPort()) fd = k.fd;
  for (const auto& e : s.tls) {
    EXPECT_TRUE(e.plain);
    EXPECT_EQ(e.fd, fd);
    EXPECT_EQ(e.comm, "curl");
  }
}

TEST_F(PlainCaptureTest, UrllibAndNodeFetch) {
  // two urllib requests, each on a connection of its own, closed before the next: the
  // same fd number again, a new conn
  const std::string py = "import urllib.request as u\n"
                         "for p in ('/hello', '/bytes/20000'):\n"
                         "    with u.urlopen('" + server_->plainUrl("") + "' + p) as r: r.read()\n";
  Session s = record({"python3", "-c", py});
  const uint64_t c1 = s.connStartingWith("GET /hello HTTP/1.1\r\n"), c2 = s.connStartingWith("GET /bytes/20000 HTTP/1.1\r\n");
  ASSERT_NE(c1, 0u);
  ASSERT_NE(c2, 0u);
  EXPECT_NE(c1, c2);
  EXPECT_EQ(s.plainConns().size(), 2u);
  EXPECT_EQ(s.of(c1, false).front()->fd, s.of(c2, false).front()->fd) << "the fd number was reused";
  EXPECT_NE(s.stream(c1, true).value_or("").find("hello from the loopback server\n"), std::string::npos);
  const std::string big = s.stream(c2, true).value_or("<gap>");
  EXPECT_GE(big.size(), 20000u);

  if (!haveExe("/usr/bin/node")) GTEST_SKIP() << "needs /usr/bin/node";
  const std::string js = "fetch('" + server_->plainUrl("/hello") +
                         "', {headers: {authorization: '" + kSecret + "'}}).then(r => r.text()).then(t => {"
                         " if (!t.startsWith('hello')) process.exit(3); })";
  Session n = record({"/usr/bin/node", "-e", js});
  const uint64_t cn = n.connStartingWith("GET /hello HTTP/1.1\r\n");
  ASSERT_NE(cn, 0u) << n.log;
  const std::string w = n.stream(cn, false).value_or("<gap>");
  EXPECT_EQ(w.find(kSecret), std::string::npos) << w;
  EXPECT_NE(n.stream(cn, true).value_or("").find("hello from the loopback server\n"), std::string::npos);
}

TEST_F(PlainCaptureTest, TlsStaysTlsAndOtherTcpIsABlindSpot) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  const std::string port = server_->plainPort();
  // bash writes "hello" on a TCP connection (not HTTP), then curl talks HTTPS and HTTP
  const std::string script = "exec 3<>/dev/tcp/127.0.0.1/" + port + "; printf hello >&3; exec 3>&-; "
                             "/usr/bin/curl -sS -o /dev/null --cacert " + server_->cert() + " " + server_->url("/hello") +
                             " && /usr/bin/curl -sS -o /dev/null " + server_->plainUrl("/hello");
  Session s = record({"/bin/bash", "-c", script});
  size_t tlsConns = 0;
  std::set<uint64_t> seen;
  for (const auto& e : s.tls) {
    EXPECT_NE(e.comm, "bash") << "bash's bytes are not HTTP: not captured";
    EXPECT_EQ(e.data.find("hello") == 0 && !e.read, false) << "\"hello\" was captured";
    if (!e.plain) {
      EXPECT_FALSE(e.lib.empty()) << "a TLS event names its library";
      if (seen.insert(e.conn).second) ++tlsConns;
    }
  }
  EXPECT_EQ(tlsConns, 1u) << "the HTTPS connection, through TLS";
  EXPECT_EQ(s.plainConns().size(), 1u) << "the plain one";
  EXPECT_EQ(s.plainConns().count(*seen.begin()), 0u) << "TLS and plain conns are apart";
  EXPECT_NE(s.log.find("(bash): 1 TCP connection to 127.0.0.1:" + port + " not decrypted"), std::string::npos) << s.log;

  // bash speaking HTTP itself (through fd 1: `>&3` dup2s the socket there, and `read`
  // takes a byte a call): captured, and so no blind spot
  const std::string http = "exec 3<>/dev/tcp/127.0.0.1/" + port +
                           "; printf 'GET /hello HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' >&3; "
                           "IFS= read -r status <&3; [[ $status == 'HTTP/1.1 200 OK'* ]]";
  Session h = record({"/bin/bash", "-c", http});
  const uint64_t c = h.connStartingWith("GET /hello HTTP/1.1\r\nHost: x\r\n");
  ASSERT_NE(c, 0u) << h.log;
  EXPECT_EQ(h.stream(c, true).value_or(""), "HTTP/1.1 200 OK\r\n");
  for (const TlsEv* e : h.of(c, false)) EXPECT_EQ(e->func, "write");
  for (const TlsEv* e : h.of(c, true)) EXPECT_EQ(e->func, "read");
  EXPECT_EQ(h.log.find("not decrypted"), std::string::npos) << h.log;
}

TEST_F(PlainCaptureTest, H2cPrefaceIsHttp) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  // the server speaks HTTP/1.1 only and answers 400: what matters is the client's side
  Session s = record({"/bin/sh", "-c", "/usr/bin/curl -s --max-time 5 --http2-prior-knowledge -o /dev/null " +
                                           server_->plainUrl("/hello") + "; true"});
  const uint64_t c = s.connStartingWith(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  ASSERT_NE(c, 0u) << "the h2c preface starts a plain connection";
  EXPECT_GT(s.stream(c, false).value_or("").size(), 24u) << "the SETTINGS and HEADERS frames after it";
  EXPECT_EQ(s.stream(c, true).value_or("").rfind("HTTP/1.1 400", 0), 0u);
}

// What the capture is for: a client of a local Ollama (plain HTTP, an NDJSON stream),
// read back as an LLM call. The `apis` answers serve Ollama's API.
TEST_F(PlainCaptureTest, OllamaChatIsAnLlmCall) {
  test_support::TestServer ollama;
  if (Status st = ollama.start(kSourceDir, {"--plain-port", "0"}); !st.ok()) GTEST_SKIP() << st.message();
  const std::string py = "import urllib.request as u, json\n"
                         "r = u.Request('" + ollama.plainUrl("/api/chat") + "', data=json.dumps({'model': 'llama3.2', "
                         "'messages': [{'role': 'user', 'content': 'hi'}]}).encode(), "
                         "headers={'content-type': 'application/json'})\n"
                         "with u.urlopen(r) as resp: resp.read()\n";
  Session s = record({"python3", "-c", py});
  ASSERT_EQ(s.plainConns().size(), 1u);
  const std::string llm = aaSession({"llm", s.path});
  EXPECT_NE(llm.find("python3 ollama llama3.2 stream -> 200"), std::string::npos) << llm;
  EXPECT_NE(llm.find("\"echo: hi\""), std::string::npos) << llm;
}

// A body sent by sendfile passes no user buffer: not captured, but said (an empty
// truncated event of its length), so the stream's offsets stay right.
TEST_F(PlainCaptureTest, SendfileBytesAreSaidNotCaptured) {
  const std::string body = (dir_ / "body.bin").string();
  std::ofstream(body) << std::string(5000, 'x');
  const std::string py = "import socket, os\n"
                         "s = socket.create_connection(('127.0.0.1', " + server_->plainPort() + "))\n"
                         "s.send(b'POST /echo-size HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5000\\r\\n\\r\\n')\n"
                         "with open('" + body + "', 'rb') as f: assert os.sendfile(s.fileno(), f.fileno(), 0, 5000) == 5000\n"
                         "assert s.recv(1000).startswith(b'HTTP/1.1 200')\n";
  Session s = record({"python3", "-c", py});
  const uint64_t c = s.connStartingWith("POST /echo-size");
  ASSERT_NE(c, 0u);
  auto w = s.of(c, false);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1]->func, "sendfile");
  EXPECT_TRUE(w[1]->truncated);
  EXPECT_TRUE(w[1]->data.empty());
  EXPECT_EQ(w[1]->offset, w[0]->data.size());
  EXPECT_EQ(w[1]->length, 5000u);
  EXPECT_NE(s.prefix(c, true).find("received 5000 bytes"), std::string::npos);
}

TEST_F(PlainCaptureTest, NoPlainHttpCapturesNothingPlain) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  Session s = record({"/usr/bin/curl", "-sS", "-o", "/dev/null", server_->plainUrl("/hello")}, {"--no-plain-http"});
  EXPECT_TRUE(s.plainConns().empty());
  bool connected = false;
  for (const auto& k : s.connects) connected |= std::to_string(k.port) == server_->plainPort();
  EXPECT_TRUE(connected) << "the connect itself is still recorded";
}

}  // namespace
}  // namespace aa
