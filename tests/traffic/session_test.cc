// Golden tests: sessions built with SessionWriter, read back through loadTraffic, the
// LLM calls and exchanges rendered as `aa-session llm|http --json` prints them and
// compared with tests/traffic/golden/*.jsonl (AA_UPDATE_GOLDEN=1 rewrites them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "store/session_reader.h"
#include "store/session_writer.h"
#include "store/sqlite.h"
#include "store/traffic/actions.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"
#include "store/traffic/traffic_json.h"
#include "tests/support/session_builder.h"
#include "tests/traffic/llm_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

constexpr uint64_t kStartMono = 5'000'000'000;

struct Planned {
  TlsRecord rec;
};

// Records for one direction of a connection, cut into pieces of `piece` bytes.
void plan(std::vector<TlsRecord>& out, uint64_t conn, Direction dir, const std::string& bytes,
          size_t piece, uint64_t t0, uint64_t step, uint32_t pid, const std::string& comm) {
  std::vector<size_t> sizes(bytes.size() / piece + 1, piece);
  for (auto& r : recordsOf(bytes, dir, sizes, conn, t0, step)) {
    r.pid = pid;
    r.tid = pid + 1;
    r.comm = comm;
    r.fd = static_cast<int32_t>(conn);
    out.push_back(std::move(r));
  }
}

std::string tempSession(const std::string& name) {
  std::string p = ::testing::TempDir() + "/traffic_" + name + "_" + std::to_string(getpid()) + ".aas";
  unlink(p.c_str());
  unlink((p + "-index").c_str());
  return p;
}

// Writes records (sorted by time, as a recorder would) plus an exec event and a file
// event that the traffic reader must ignore.
// Events other than TLS, written in time order among the records.
struct Extra {
  uint64_t tNs;
  std::function<void(schema::Event::Builder)> fill;
};

// plain: the records as a plain socket's bytes (net.send / net.recv), not TLS.
void writeSession(const std::string& path, std::vector<TlsRecord> recs, int extraEvents = 0,
                  bool footer = true, std::vector<Extra> extras = {}, bool plain = false) {
  std::stable_sort(recs.begin(), recs.end(),
                   [](const TlsRecord& a, const TlsRecord& b) { return a.tNs < b.tNs; });
  test_support::SessionOptions o;
  o.startMonoNs = kStartMono;
  o.batchEvents = 16;   // many frames
  test_support::SessionBuilder b(path, o);
  ASSERT_TRUE(b.status().ok()) << b.status().message();
  auto& writer = b.writer();
  constexpr auto bytes = &test_support::bytes;
  b.event(kStartMono + 1, 42, "python3").initExec().setPath(bytes("/usr/bin/python3"));
  for (int i = 0; i < extraEvents; ++i)
    b.event(kStartMono + 2 + i, 42, "python3").initFileUnlink().setPath(bytes("/tmp/x"));
  size_t xi = 0;
  auto flushExtras = [&](uint64_t until) {
    for (; xi < extras.size() && extras[xi].tNs <= until; ++xi) {
      auto e = writer.append();
      e.setTNs(extras[xi].tNs);
      extras[xi].fill(e);
    }
  };
  for (const auto& r : recs) {
    flushExtras(r.tNs);
    auto e = b.event(r.tNs, r.pid, r.comm);
    e.setTid(r.tid);   // as recorded, 0 included
    auto t = e.initTls();
    t.setDirection(r.dir == Direction::kWrite ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
    t.setConn(r.conn);
    t.setOffset(r.offset);
    t.setData(bytes(r.data));
    t.setLength(r.length ? r.length : r.data.size());
    t.setTruncated(r.truncated);
    t.setFd(r.fd);
    t.setPlain(plain);
    if (plain) t.setFunc(r.dir == Direction::kWrite ? "writev" : "read");
    else t.setFunc(r.dir == Direction::kWrite ? "SSL_write" : "SSL_read");
  }
  flushExtras(UINT64_MAX);
  if (!footer) {
    b.abandon();   // ends the file like a crash: whole frames, no footer
    return;
  }
  Status s = b.close();
  ASSERT_TRUE(s.ok()) << s.message();
}

// The agent session of the golden files: keep-alive Anthropic (streamed, chunked, in
// 37-byte records) then OpenAI chat (gzip) on conn 10; a /responses stream cut mid-way
// on conn 11 by another process; a plain GET with a gap in its response on conn 12.
std::vector<TlsRecord> agentRecords() {
  std::vector<TlsRecord> r;
  const uint64_t ms = 1'000'000;
  uint64_t t = kStartMono + 10 * ms;
  std::string req1 = httpRequest("/v1/messages", kAnthropicRequest, "anthropic-version: 2023-06-01\r\n");
  std::string resp1 = httpResponse(anthropicStreamBody(), true, true);
  plan(r, 10, Direction::kWrite, req1, 4096, t, ms, 42, "python3");
  plan(r, 10, Direction::kRead, resp1, 37, t + 300 * ms, ms, 42, "python3");
  uint64_t t2 = t + 2000 * ms;
  std::string chatReq = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
  std::string gz = gzipOf(kChatPlainResponse);
  std::string resp2 = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                      "Content-Length: " + std::to_string(gz.size()) + "\r\n\r\n" + gz;
  auto w2 = recordsOf(httpRequest("/v1/chat/completions", chatReq), Direction::kWrite, {}, 10, t2);
  for (auto& x : w2) {
    x.offset += req1.size();
    x.pid = 42;
    x.comm = "python3";
    r.push_back(x);
  }
  auto r2 = recordsOf(resp2, Direction::kRead, {50, 50}, 10, t2 + 500 * ms, ms);
  for (auto& x : r2) {
    x.offset += resp1.size();
    x.pid = 42;
    x.comm = "python3";
    r.push_back(x);
  }
  // conn 11: /responses streamed, cut after the first text delta.
  std::string body3 = responsesStreamBody();
  std::string resp3 = httpResponse(body3, true);
  resp3.resize(resp3.size() - body3.size() + body3.find("jour"));
  plan(r, 11, Direction::kWrite, httpRequest("/v1/responses", kResponsesRequest), 1000, t + 50 * ms, ms, 77, "node");
  plan(r, 11, Direction::kRead, resp3, 64, t + 700 * ms, ms, 77, "node");
  // conn 12: GET with 10 response bytes never captured.
  std::string get = "GET /health HTTP/1.1\r\nHost: status.test\r\n\r\n";
  std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n0123456789abcdefghijABCDEFGHIJ";
  plan(r, 12, Direction::kWrite, get, 1000, t + 5 * ms, ms, 42, "python3");
  auto okRecs = recordsOf(ok, Direction::kRead, {ok.size() - 20, 10, 10}, 12, t + 9 * ms, ms);
  okRecs.erase(okRecs.begin() + 1);
  for (auto& x : okRecs) {
    x.pid = 42;
    x.comm = "python3";
    r.push_back(x);
  }
  return r;
}

std::string readFile(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void checkGolden(const std::string& name, const std::string& actual) {
  std::string path = std::string(AA_TRAFFIC_GOLDEN_DIR) + "/" + name;
  if (std::getenv("AA_UPDATE_GOLDEN")) {
    std::ofstream(path) << actual;
    return;
  }
  std::string expected = readFile(path);
  ASSERT_FALSE(expected.empty()) << path << " missing: run with AA_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, expected) << "golden " << path << " differs";
}

std::string renderCalls(const Traffic& t) {
  std::string out;
  RenderOptions o;
  o.originNs = kStartMono;
  for (size_t i = 0; i < t.calls.size(); ++i) out += callJson(t.calls[i], i, o) + "\n";
  return out;
}

std::string renderExchanges(const Traffic& t) {
  std::string out;
  RenderOptions o;
  o.originNs = kStartMono;
  for (size_t i = 0; i < t.exchanges.size(); ++i) out += exchangeLine(t.exchanges[i], i, o) + "\n";
  return out;
}

TEST(TrafficSession, AgentSessionGolden) {
  std::string path = tempSession("agent");
  writeSession(path, agentRecords());
  auto reader = SessionReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto t = loadTraffic(*reader.value());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_FALSE(t->fromCache);
  ASSERT_EQ(t->exchanges.size(), 4u);
  ASSERT_EQ(t->calls.size(), 3u);

  // Behaviour first, so a wrong golden cannot hide it.
  const LlmCall& a = t->calls[0];
  EXPECT_EQ(a.provider, "anthropic");
  EXPECT_EQ(a.responseText, "Hello, w\xC3\xB6rld");
  EXPECT_EQ(a.toolCalls.at(0).arguments, R"({"path": "/tmp/a.txt"})");
  EXPECT_EQ(a.usage.outputTokens, 42);
  EXPECT_FALSE(a.incomplete) << a.problem;
  EXPECT_EQ(a.pid, 42u);
  EXPECT_EQ(a.comm, "python3");
  EXPECT_EQ(a.tStartNs, kStartMono + 10'000'000);
  EXPECT_GT(a.tFirstTokenNs, a.tStartNs + 300'000'000);
  const LlmCall& r = t->calls[1];
  EXPECT_EQ(r.api, "responses");
  EXPECT_EQ(r.pid, 77u);
  EXPECT_TRUE(r.incomplete);
  EXPECT_EQ(r.responseText, "Bon");
  const LlmCall& c = t->calls[2];
  EXPECT_EQ(c.api, "chat.completions");
  EXPECT_EQ(c.responseText, "Paris is sunny.");
  EXPECT_FALSE(c.incomplete) << c.problem;
  const HttpExchange& get = t->exchanges[c.exchange == 3 ? 1 : 0];
  EXPECT_EQ(get.path(), "/health");
  EXPECT_FALSE(get.complete());
  EXPECT_EQ(t->stats.gaps, 1u);
  EXPECT_EQ(t->stats.gapBytes, 10u);

  std::string calls = renderCalls(*t);
  std::string lines = renderExchanges(*t);
  checkGolden("agent_llm.jsonl", calls);
  checkGolden("agent_http.txt", lines);
  // Every JSON line parses.
  std::istringstream in(calls);
  for (std::string line; std::getline(in, line);) EXPECT_TRUE(parseJson(line).ok()) << line;

  // Opened again: the same result, from the cache in the index.
  auto reader2 = SessionReader::open(path);
  ASSERT_TRUE(reader2.ok());
  auto t2 = loadTraffic(*reader2.value());
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(t2->fromCache);
  EXPECT_EQ(renderCalls(*t2), calls);
  EXPECT_EQ(renderExchanges(*t2), lines);
  RenderOptions o;
  for (size_t i = 0; i < t->exchanges.size(); ++i) {
    EXPECT_EQ(exchangeJson(t2->exchanges[i], i, o), exchangeJson(t->exchanges[i], i, o));
  }
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

// A plain-HTTP client (a local model server) gives the same exchanges and calls from its
// socket's bytes as a TLS client from its library's.
TEST(TrafficSession, PlainSocketStreamsReadLikeTlsOnes) {
  std::string tls = tempSession("tls"), plain = tempSession("plain");
  writeSession(tls, agentRecords());
  writeSession(plain, agentRecords(), 0, true, {}, /*plain=*/true);
  TrafficOptions noCache;
  noCache.useCache = noCache.writeCache = false;
  auto rt = SessionReader::open(tls, {});
  auto rp = SessionReader::open(plain, {});
  ASSERT_TRUE(rt.ok() && rp.ok());
  EXPECT_EQ((*rp)->kindTotals()[size_t(Kind::kTlsWrite)], 0u);
  EXPECT_GT((*rp)->kindTotals()[size_t(Kind::kNetSend)], 0u);
  EXPECT_GT((*rp)->kindTotals()[size_t(Kind::kNetRecv)], 0u);
  auto t = loadTraffic(**rt, noCache);
  auto p = loadTraffic(**rp, noCache);
  ASSERT_TRUE(t.ok() && p.ok());
  ASSERT_EQ(p->calls.size(), 3u);
  EXPECT_EQ(renderCalls(*p), renderCalls(*t));
  EXPECT_EQ(renderExchanges(*p), renderExchanges(*t));
  for (const auto& c : (*rp)->tlsConnections()) EXPECT_TRUE(c.plain) << c.conn;
  for (const auto& c : (*rt)->tlsConnections()) EXPECT_FALSE(c.plain) << c.conn;
  for (const auto& path : {tls, plain}) {
    unlink(path.c_str());
    unlink((path + "-index").c_str());
  }
}

TEST(TrafficSession, CacheIsRebuiltWhenTheSessionChanges) {
  std::string path = tempSession("rebuild");
  writeSession(path, agentRecords());
  {
    auto reader = SessionReader::open(path);
    ASSERT_TRUE(reader.ok());
    auto t = loadTraffic(*reader.value());
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->fromCache);
  }
  // Same path, different content (more events): the old cache must not be used.
  writeSession(path, agentRecords(), 5);
  auto reader = SessionReader::open(path);
  ASSERT_TRUE(reader.ok());
  auto t = loadTraffic(*reader.value());
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->fromCache);
  EXPECT_EQ(t->calls.size(), 3u);
  TrafficOptions noCache;
  noCache.useCache = false;
  auto t3 = loadTraffic(*reader.value(), noCache);
  ASSERT_TRUE(t3.ok());
  EXPECT_FALSE(t3->fromCache);
  auto t4 = loadTraffic(*reader.value());
  EXPECT_TRUE(t4->fromCache);
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(TrafficSession, SessionWithoutFooterIsParsedButNotCached) {
  std::string path = tempSession("nofooter");
  writeSession(path, agentRecords(), 0, false);
  for (int i = 0; i < 2; ++i) {
    auto reader = SessionReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_FALSE(reader.value()->footer().has_value());
    auto t = loadTraffic(*reader.value());
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->fromCache);
    EXPECT_EQ(t->calls.size(), 3u);
  }
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(TrafficSession, CacheTablesOfAnotherLayoutAreReplaced) {
  std::string path = tempSession("oldcache");
  writeSession(path, agentRecords());
  {
    auto db = sql::Db::open(path + "-index", false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db.value().exec("CREATE TABLE traffic_exchanges(a); CREATE TABLE traffic_meta(x, y, z);").ok());
  }
  for (bool cached : {false, true}) {
    auto reader = SessionReader::open(path);
    ASSERT_TRUE(reader.ok());
    auto t = loadTraffic(*reader.value());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->fromCache, cached);
    EXPECT_EQ(t->calls.size(), 3u);
  }
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(TrafficSession, SessionWithoutTlsHasNoTraffic) {
  std::string path = tempSession("empty");
  writeSession(path, {}, 3);
  auto reader = SessionReader::open(path);
  ASSERT_TRUE(reader.ok());
  auto t = loadTraffic(*reader.value());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->exchanges.empty());
  EXPECT_TRUE(t->calls.empty());
  EXPECT_EQ(t->stats.records, 0u);
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(TrafficSession, ChromeTraceSlicesParse) {
  Traffic t = analyzeRecords(agentRecords());
  RenderOptions o;
  o.originNs = kStartMono;
  std::string ev = chromeTraceEvents(t.exchanges, t.calls, true, o);
  auto doc = parseJson("[" + ev + "]");
  ASSERT_TRUE(doc.ok()) << ev;
  ASSERT_EQ(doc->size(), 4u);   // three calls and the GET
  const Json& first = doc->at(0);
  EXPECT_EQ(first.get("ph").str(), "X");
  EXPECT_EQ(first.get("cat").str(), "llm");
  EXPECT_EQ(first.get("name").str(), "anthropic claude-sonnet-4-5");
  EXPECT_EQ(first.get("ts").str(), "10000.000");
  EXPECT_EQ(first.get("dur").str(), "345000.000");
  EXPECT_EQ(first.get("args").get("output_tokens").asInt(), 42);
  EXPECT_EQ(doc->at(3).get("cat").str(), "http");
  EXPECT_EQ(doc->at(3).get("name").str(), "GET status.test/health");
  EXPECT_EQ(chromeTraceEvents({}, {}, true, o), "");
}

capnp::Data::Reader dataOf(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

TEST(TrafficSession, ActionsAfterACallFollowTheProcessTree) {
  static const std::string kPy = "python3", kLs = "ls", kLsPath = "/bin/ls", kArg = "-l",
                           kOut = "/work/out.txt", kOther = "/usr/bin/other";
  const uint64_t ms = 1'000'000, t = kStartMono + 10 * ms;
  auto proc = [](schema::Event::Builder e, uint32_t pid, const std::string& comm) {
    e.setPid(pid);
    e.setTid(pid);
    e.setComm(dataOf(comm));
  };
  std::vector<Extra> extras = {
      // After the Anthropic call (ends at t+345 ms): 42 forks 43, which runs ls and writes.
      {t + 400 * ms, [&](schema::Event::Builder e) { proc(e, 42, kPy); e.initFork().setChildPid(43); }},
      {t + 401 * ms, [&](schema::Event::Builder e) {
         proc(e, 43, kLs);
         auto x = e.initExec();
         x.setPath(dataOf(kLsPath));
         auto argv = x.initArgv(2);
         argv.set(0, dataOf(kLs));
         argv.set(1, dataOf(kArg));
         x.setPpid(42);
       }},
      {t + 402 * ms, [&](schema::Event::Builder e) {
         proc(e, 43, kLs);
         auto c = e.initFileClose();
         c.setPath(dataOf(kOut));
         c.setBytesWritten(12);
       }},
      // Not in the tree.
      {t + 403 * ms, [&](schema::Event::Builder e) { proc(e, 99, kOther); e.initExec().setPath(dataOf(kOther)); }},
      // After the tree's next call (chat, t+2000..2512 ms): shown for that one only.
      {t + 2600 * ms, [&](schema::Event::Builder e) {
         proc(e, 42, kPy);
         e.initFileUnlink().setPath(dataOf(kOut));
       }},
  };
  std::string path = tempSession("actions");
  writeSession(path, agentRecords(), 0, true, extras);
  auto reader = SessionReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto tr = loadTraffic(*reader.value());
  ASSERT_TRUE(tr.ok());
  ASSERT_EQ(tr->calls.size(), 3u);
  auto a = actionsAfterCall(*reader.value(), tr->calls, 0);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].summary, "exec /bin/ls -l");
  EXPECT_EQ(a[0].pid, 43u);
  EXPECT_EQ(a[1].summary, "write /work/out.txt (12 bytes)");
  EXPECT_EQ(a[1].kind, "file.close");
  auto last = actionsAfterCall(*reader.value(), tr->calls, 2);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].summary, "unlink /work/out.txt");
  EXPECT_EQ(actionsAfterCall(*reader.value(), tr->calls, 0, 1).size(), 1u);
  EXPECT_TRUE(actionsAfterCall(*reader.value(), tr->calls, 7).empty());
  unlink(path.c_str());
  unlink((path + "-index").c_str());
}

TEST(TrafficCodec, RoundTripsAndRejectsDamage) {
  auto recs = agentRecords();
  Traffic t = analyzeRecords(recs);
  for (const auto& x : t.exchanges) {
    std::string e = encodeExchange(x);
    HttpExchange back;
    ASSERT_TRUE(decodeExchange(e, back));
    EXPECT_EQ(encodeExchange(back), e);
    for (size_t cut : {size_t(0), size_t(1), e.size() / 2, e.size() - 1}) {
      HttpExchange bad;
      EXPECT_FALSE(decodeExchange(std::string_view(e).substr(0, cut), bad)) << cut;
    }
  }
  for (const auto& c : t.calls) {
    std::string e = encodeCall(c);
    LlmCall back;
    ASSERT_TRUE(decodeCall(e, back));
    EXPECT_EQ(encodeCall(back), e);
    LlmCall bad;
    EXPECT_FALSE(decodeCall(std::string_view(e).substr(0, e.size() - 1), bad));
  }
}

}  // namespace
}  // namespace aa::traffic
