// aa-session serve: the matching of requests to recorded calls (ReplayPlan) over the
// recorded fixture fixtures/llm/agent.aas and over hand-made traffic, and the mock
// server itself on loopback, plain and TLS (a client verifying against the test CA).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "store/serve/mock_server.h"
#include "store/serve/replay_plan.h"
#include "store/serve/test_ca.h"
#include "store/traffic/json.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using serve::IncomingRequest;
using serve::ReplayPlan;

traffic::Traffic fixtureTraffic() {
  ReaderOptions ro;
  ro.useIndex = false;
  auto r = SessionReader::open(std::string(AA_SOURCE_DIR) + "/fixtures/llm/agent.aas", ro);
  EXPECT_TRUE(r.ok()) << r.status().message();
  traffic::TrafficOptions to;
  to.useCache = to.writeCache = false;
  auto t = traffic::loadTraffic(**r, to);
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

IncomingRequest requestOf(const traffic::HttpExchange& x) {
  IncomingRequest in;
  in.method = x.request->method;
  in.target = x.request->target;
  in.headers = x.request->headers;
  in.body = x.request->body;
  return in;
}

void replaceOnce(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

TEST(ServePlan, FixtureRequestsGetTheirRecordedAnswers) {
  auto t = fixtureTraffic();
  ASSERT_EQ(t.calls.size(), 14u);
  ReplayPlan plan(t);
  EXPECT_EQ(plan.llmCalls(), 14u);
  for (size_t i = 0; i < t.calls.size(); ++i) {
    const auto& x = t.exchanges[t.calls[i].exchange];
    auto m = plan.match(requestOf(x));
    ASSERT_TRUE(m.response) << i << ": " << (m.divergence ? m.divergence->message : "");
    EXPECT_EQ(m.what, "llm call " + std::to_string(i));
    EXPECT_EQ(m.response->body, x.response->body) << i;
    EXPECT_EQ(m.response->status, x.response->status) << i;
    size_t end = m.response->pieces.empty() ? 0 : m.response->pieces.back().end;
    EXPECT_EQ(end, x.response->body.size()) << i;
  }
  EXPECT_TRUE(plan.unserved().empty());
  EXPECT_TRUE(plan.divergences().empty());
  // A stream is sent again in the pieces it arrived in.
  const auto& stream0 = t.exchanges[t.calls[0].exchange];
  ASSERT_TRUE(t.calls[0].stream);
  auto r0 = serve::replayResponseOf(stream0);
  EXPECT_GT(r0.pieces.size(), 1u);
  EXPECT_TRUE(r0.chunked);
}

TEST(ServePlan, ChangedPromptIsADivergenceNamingTheField) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  auto in = requestOf(t.exchanges[t.calls[1].exchange]);   // "What is 2+2?"
  replaceOnce(in.body, "What is 2+2?", "What is 3+3?");
  auto m = plan.match(in);
  ASSERT_FALSE(m.response);
  ASSERT_TRUE(m.divergence);
  EXPECT_EQ(m.divergence->recorded, "llm call 1");   // the most similar call expected next
  EXPECT_EQ(m.divergence->field, "messages[0].content");
  EXPECT_EQ(m.divergence->receivedValue, "\"What is 3+3?\"");
  EXPECT_EQ(m.errorStatus, 400);
  auto body = traffic::parseJson(m.errorBody);   // Anthropic-shaped
  ASSERT_TRUE(body.ok()) << m.errorBody;
  EXPECT_EQ(body->get("type").str(), "error");
  EXPECT_EQ(body->get("error").get("type").str(), "invalid_request_error");
  EXPECT_NE(body->get("error").get("message").str().find("messages[0].content"), std::string::npos);
  ASSERT_EQ(plan.divergences().size(), 1u);
  EXPECT_EQ(plan.unserved().size(), 14u);
}

TEST(ServePlan, DivergenceInAConversationComparesWithItsNextCall) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  // Chat call 2 ("Hello chat") with another model: same conversation, field "model".
  auto in = requestOf(t.exchanges[t.calls[2].exchange]);
  replaceOnce(in.body, "\"gpt-fixture-1\"", "\"gpt-other\"");
  auto m = plan.match(in);
  ASSERT_TRUE(m.divergence);
  EXPECT_EQ(m.divergence->recorded, "llm call 2");
  EXPECT_EQ(m.divergence->field, "model");
  EXPECT_EQ(m.divergence->recordedValue, "gpt-fixture-1");
  EXPECT_EQ(m.divergence->receivedValue, "gpt-other");
  auto body = traffic::parseJson(m.errorBody);   // OpenAI-shaped
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->get("error").get("code").str(), "aa_replay_divergence");
}

TEST(ServePlan, StreamFlagMustMatch) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  auto in = requestOf(t.exchanges[t.calls[0].exchange]);
  auto j = traffic::parseJson(in.body);
  ASSERT_TRUE(j.ok() && j->get("stream").asBool());
  j->set("stream", traffic::Json::boolean(false));
  in.body = j->dump();
  auto m = plan.match(in);
  ASSERT_TRUE(m.divergence);
  EXPECT_EQ(m.divergence->field, "stream");
}

TEST(ServePlan, RepeatedRequestsAreAnsweredInRecordedOrder) {
  // An agent that retries: the same request twice, answered differently each time.
  const std::string req = R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}]})";
  traffic::Traffic t;
  for (const char* answer : {"first", "second"}) {
    traffic::HttpExchange x;
    traffic::HttpMessage q;
    q.method = "POST";
    q.target = "/v1/messages";
    q.body = req;
    q.complete = true;
    x.request = q;
    traffic::HttpMessage a;
    a.isRequest = false;
    a.status = 200;
    a.headers = {{"content-type", "application/json"}, {"content-length", "1"}};
    a.body = std::string(R"({"type":"message","role":"assistant","content":[{"type":"text","text":")") +
             answer + R"("}],"stop_reason":"end_turn"})";
    a.complete = true;
    x.response = a;
    t.exchanges.push_back(x);
  }
  t.calls = traffic::recognizeLlmCalls(t.exchanges);
  ASSERT_EQ(t.calls.size(), 2u);
  ReplayPlan plan(t);
  IncomingRequest in{"POST", "/v1/messages", {}, req};
  auto m1 = plan.match(in);
  auto m2 = plan.match(in);
  auto m3 = plan.match(in);
  ASSERT_TRUE(m1.response && m2.response);
  EXPECT_NE(m1.response->body.find("first"), std::string::npos);
  EXPECT_NE(m2.response->body.find("second"), std::string::npos);
  EXPECT_FALSE(m1.response->chunked);   // it had a Content-Length
  ASSERT_TRUE(m3.divergence);           // nothing left
  EXPECT_EQ(m3.divergence->recorded, "");
  EXPECT_NE(m3.divergence->message.find("no recorded call is left"), std::string::npos);
}

// One recorded chat completion whose prompt reads `path`, answered "ok".
traffic::Traffic chatReading(const std::string& path) {
  traffic::Traffic t;
  traffic::HttpExchange x;
  traffic::HttpMessage q;
  q.method = "POST";
  q.target = "/v1/chat/completions";
  q.body = R"({"model":"m","messages":[{"role":"user","content":"read )" + path + R"("}]})";
  q.complete = true;
  x.request = q;
  traffic::HttpMessage a;
  a.isRequest = false;
  a.status = 200;
  a.body = R"({"choices":[{"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})";
  a.complete = true;
  x.response = a;
  t.exchanges.push_back(x);
  t.calls = traffic::recognizeLlmCalls(t.exchanges);
  return t;
}

IncomingRequest chatRequestReading(const std::string& path) {
  return {"POST", "/v1/chat/completions", {},
          R"({"model":"m","messages":[{"role":"user","content":"read )" + path + R"("}]})"};
}

TEST(ServePlan, TempNamesAreNormalised) {
  const traffic::Traffic t = chatReading("/tmp/tmp.Ab3dE9xQ1z/a.txt");
  const IncomingRequest in = chatRequestReading("/tmp/tmp.Zq9kW2pLm0/a.txt");
  {
    ReplayPlan plan(t);
    EXPECT_TRUE(plan.match(in).response);
  }
  serve::PlanOptions exact;
  exact.normaliseNames = false;
  ReplayPlan plan(t, exact);
  auto m = plan.match(in);
  ASSERT_TRUE(m.divergence);
  EXPECT_EQ(m.divergence->field, "messages[0].content");
}

// The recording made /tmp/tmp.UQZUJTWXYZ (one kind of character: no shape of its own); a
// request naming it is recognised once the plan knows the recording's own temp names.
TEST(ServePlan, RecordingsOwnTempNamesAreNormalised) {
  const traffic::Traffic t = chatReading("/tmp/tmp.UQZUJTWXYZ/a.txt");
  const IncomingRequest in = chatRequestReading("/tmp/tmp.Zq9kW2pLm0/a.txt");
  {
    ReplayPlan plan(t);   // learned nothing: the recorded name stays as it is
    EXPECT_TRUE(plan.match(in).divergence);
  }
  serve::PlanOptions o;
  o.recordingNames.learnMade("/tmp/tmp.UQZUJTWXYZ");
  ReplayPlan plan(t, o);
  auto m = plan.match(in);
  EXPECT_TRUE(m.response);
  EXPECT_FALSE(m.divergence);
}

TEST(ServePlan, UnrecordedGeminiRequestGetsGooglesErrorShape) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  auto m = plan.match({"POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", {},
                       R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})"});
  ASSERT_TRUE(m.divergence);
  auto body = traffic::parseJson(m.errorBody);
  ASSERT_TRUE(body.ok()) << m.errorBody;
  EXPECT_EQ(body->get("error").get("status").str(), "INVALID_ARGUMENT");
  EXPECT_EQ(m.errorStatus, 400);
}

// --- the server on loopback ---

class Loopback {
 public:
  Loopback(ReplayPlan& plan, serve::ServerOptions o) {
    EXPECT_EQ(::pipe(stop_), 0);
    auto s = serve::MockServer::listen(plan, o, nullptr);
    EXPECT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    thread_ = std::thread([this] { EXPECT_TRUE(server_->run(stop_[0]).ok()); });
  }
  ~Loopback() {
    char b = 1;
    EXPECT_EQ(::write(stop_[1], &b, 1), 1);
    thread_.join();
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  uint16_t port() const { return server_->port(); }

 private:
  int stop_[2];
  std::unique_ptr<serve::MockServer> server_;
  std::thread thread_;
};

int connectTo(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

struct Reply {
  int status = 0;
  std::string headers, body;
  size_t chunks = 0;
};

// Reads one HTTP/1.1 response through `read` (Content-Length or chunked).
template <typename ReadFn>
Reply readReply(ReadFn read) {
  std::string buf;
  char tmp[16384];
  auto more = [&] {
    int n = read(tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, size_t(n));
    return true;
  };
  Reply r;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!more()) return r;
  r.headers = buf.substr(0, end);
  r.status = std::atoi(r.headers.c_str() + 9);
  size_t pos = end + 4;
  if (r.headers.find("Transfer-Encoding: chunked") != std::string::npos) {
    while (true) {
      size_t e;
      while ((e = buf.find("\r\n", pos)) == std::string::npos)
        if (!more()) return r;
      size_t n = std::strtoul(buf.c_str() + pos, nullptr, 16);
      pos = e + 2;
      if (n == 0) break;
      while (buf.size() < pos + n + 2)
        if (!more()) return r;
      r.body.append(buf, pos, n);
      ++r.chunks;
      pos += n + 2;
    }
  } else {
    size_t cl = r.headers.find("Content-Length: ");
    size_t n = cl == std::string::npos ? 0 : std::strtoul(r.headers.c_str() + cl + 16, nullptr, 10);
    while (buf.size() < pos + n)
      if (!more()) return r;
    r.body = buf.substr(pos, n);
  }
  return r;
}

std::string wireRequest(const traffic::HttpExchange& x, bool close = false) {
  std::string s = x.request->method + " " + x.request->target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/json\r\nContent-Length: " +
                  std::to_string(x.request->body.size()) + "\r\n";
  for (const auto& h : x.request->headers)
    if (h.name == "anthropic-version") s += h.name + ": " + h.value + "\r\n";
  return s + (close ? "Connection: close\r\n" : "") + "\r\n" + x.request->body;
}

TEST(ServeServer, PlainKeepAliveStreamsInRecordedPieces) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  Loopback server(plan, {});
  int fd = connectTo(server.port());
  auto rd = [&](char* b, size_t n) { return int(::recv(fd, b, n, 0)); };
  for (size_t i : {0u, 1u, 2u}) {   // one connection, three calls
    const auto& x = t.exchanges[t.calls[i].exchange];
    std::string req = wireRequest(x);
    ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
    Reply r = readReply(rd);
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, x.response->body) << i;
    if (t.calls[i].stream) {
      EXPECT_EQ(r.chunks, serve::replayResponseOf(x).pieces.size()) << i;
    }
  }
  ::close(fd);
  EXPECT_EQ(plan.served(), 3u);
}

TEST(ServeServer, UntilDoneStopsOnceEverythingWasServed) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  serve::ServerOptions o;
  o.untilDone = true;
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  auto s = serve::MockServer::listen(plan, o, nullptr);
  ASSERT_TRUE(s.ok());
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    EXPECT_TRUE((*s)->run(stop[0]).ok());
    returned = true;
  });
  for (size_t i = 0; i < t.calls.size(); ++i) {
    EXPECT_FALSE(returned) << "stopped before call " << i;
    int fd = connectTo((*s)->port());
    std::string req = wireRequest(t.exchanges[t.calls[i].exchange], true);
    ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
    Reply r = readReply([&](char* b, size_t n) { return int(::recv(fd, b, n, 0)); });
    EXPECT_NE(r.status, 0) << i;
    ::close(fd);
  }
  for (int i = 0; i < 500 && !returned; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(returned);
  if (!returned) {
    EXPECT_EQ(::write(stop[1], "x", 1), 1);
  }
  runner.join();
  ::close(stop[0]);
  ::close(stop[1]);
  EXPECT_EQ(plan.served(), t.calls.size());
}

TEST(ServeServer, DivergenceGetsAnApiError) {
  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  Loopback server(plan, {});
  traffic::HttpExchange x = t.exchanges[t.calls[1].exchange];
  replaceOnce(x.request->body, "What is 2+2?", "What is 5+5?");
  int fd = connectTo(server.port());
  std::string req = wireRequest(x, true);
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  Reply r = readReply([&](char* b, size_t n) { return int(::recv(fd, b, n, 0)); });
  ::close(fd);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("messages[0].content"), std::string::npos) << r.body;
  EXPECT_NE(r.headers.find("x-aa-replay: divergence"), std::string::npos);
  EXPECT_EQ(plan.divergences().size(), 1u);
}

TEST(ServeServer, SpeedOnePacesLikeTheRecording) {
  auto t = fixtureTraffic();
  const auto& x = t.exchanges[t.calls[0].exchange];   // a stream of ~44 ms
  auto rr = serve::replayResponseOf(x);
  ASSERT_FALSE(rr.pieces.empty());
  const uint64_t recordedNs = rr.headersDelayNs + rr.pieces.back().delayNs;
  ASSERT_GT(recordedNs, 10'000'000u);
  ReplayPlan plan(t);
  serve::ServerOptions o;
  o.speed = 1;
  Loopback server(plan, o);
  int fd = connectTo(server.port());
  std::string req = wireRequest(x, true);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  Reply r = readReply([&](char* b, size_t n) { return int(::recv(fd, b, n, 0)); });
  auto took = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  EXPECT_EQ(r.body, x.response->body);
  // Sleeps give a floor, never a ceiling (the machine may be slow).
  EXPECT_GE(uint64_t(std::chrono::nanoseconds(took).count()), recordedNs * 9 / 10);
}

TEST(ServeServer, TlsWithTheTestCa) {
  testing::TempDir dir;
  auto ca = serve::ensureTestCa(dir.file("ca"));
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  EXPECT_TRUE(ca->caCreated);
  EXPECT_EQ(std::filesystem::status(ca->caKey).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  auto again = serve::ensureTestCa(dir.file("ca"));   // the CA is kept, the leaf is new
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->caCreated);

  auto t = fixtureTraffic();
  ReplayPlan plan(t);
  serve::ServerOptions o;
  o.tls = true;
  o.certFile = again->serverCert;
  o.keyFile = again->serverKey;
  Loopback server(plan, o);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, ca->caCert.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
  int fd = connectTo(server.port());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn - 1);
  ASSERT_EQ(SSL_connect(ssl), 1) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_EQ(SSL_get_verify_result(ssl), X509_V_OK);
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(proto), len), "http/1.1");
  const auto& x = t.exchanges[t.calls[4].exchange];   // a Responses API stream
  std::string req = wireRequest(x, true);
  ASSERT_EQ(SSL_write(ssl, req.data(), int(req.size())), int(req.size()));
  Reply r = readReply([&](char* b, size_t n) { return SSL_read(ssl, b, int(n)); });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, x.response->body);
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace aa
