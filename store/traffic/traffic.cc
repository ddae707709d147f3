#include "store/traffic/traffic.h"

#include <unistd.h>

#include <algorithm>

#include "store/kind.h"
#include "store/sqlite.h"

namespace aa::traffic {

namespace {

// ---- binary codec: LEB128 varints, length-prefixed strings --------------------------

class Enc {
 public:
  void u(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void i(int64_t v) { u((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void s(std::string_view v) {
    u(v.size());
    out_.append(v);
  }
  void b(bool v) { u(v ? 1 : 0); }
  void opt(const std::optional<int64_t>& v) {
    b(v.has_value());
    if (v) i(*v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Dec {
 public:
  explicit Dec(std::string_view d) : d_(d) {}
  bool ok() const { return ok_; }
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= d_.size()) return fail();
      uint8_t c = static_cast<uint8_t>(d_[p_++]);
      v |= static_cast<uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    return fail();
  }
  int64_t i() {
    uint64_t z = u();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  std::string s() {
    uint64_t n = u();
    if (!ok_ || n > d_.size() - p_) {
      fail();
      return {};
    }
    std::string v(d_.substr(p_, n));
    p_ += n;
    return v;
  }
  bool b() { return u() != 0; }
  std::optional<int64_t> opt() {
    if (!b()) return std::nullopt;
    return i();
  }
  // A count of items each at least one byte long: bounded by what is left.
  uint64_t count() {
    uint64_t n = u();
    if (n > d_.size() - p_) {
      fail();
      return 0;
    }
    return n;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    p_ = d_.size();
    return 0;
  }
  std::string_view d_;
  size_t p_ = 0;
  bool ok_ = true;
};

constexpr uint64_t kCodecMagic = 0x7472'6166'0002ull;   // "traf" + codec version 2

void encMessage(Enc& e, const HttpMessage& m) {
  e.b(m.isRequest);
  e.s(m.method);
  e.s(m.target);
  e.i(m.status);
  e.s(m.reason);
  e.s(m.version);
  e.u(m.headers.size());
  for (const auto& h : m.headers) {
    e.s(h.name);
    e.s(h.value);
  }
  e.s(m.body);
  e.u(m.wireBodyBytes);
  e.b(m.chunked);
  e.s(m.contentEncoding);
  e.b(m.decoded);
  e.u(m.bodyMarks.size());
  for (const auto& bm : m.bodyMarks) {
    e.u(bm.bodySize);
    e.u(bm.tNs);
  }
  e.u(m.startOffset);
  e.u(m.endOffset);
  e.u(m.tStartNs);
  e.u(m.tHeadersNs);
  e.u(m.tEndNs);
  e.u(m.pid);
  e.s(m.comm);
  e.b(m.complete);
  e.s(m.problem);
}

void decMessage(Dec& d, HttpMessage& m) {
  m.isRequest = d.b();
  m.method = d.s();
  m.target = d.s();
  m.status = static_cast<int>(d.i());
  m.reason = d.s();
  m.version = d.s();
  uint64_t nh = d.count();
  for (uint64_t k = 0; k < nh && d.ok(); ++k) {
    HttpHeader h;
    h.name = d.s();
    h.value = d.s();
    m.headers.push_back(std::move(h));
  }
  m.body = d.s();
  m.wireBodyBytes = d.u();
  m.chunked = d.b();
  m.contentEncoding = d.s();
  m.decoded = d.b();
  uint64_t nm = d.count();
  for (uint64_t k = 0; k < nm && d.ok(); ++k) {
    BodyMark bm;
    bm.bodySize = d.u();
    bm.tNs = d.u();
    m.bodyMarks.push_back(bm);
  }
  m.startOffset = d.u();
  m.endOffset = d.u();
  m.tStartNs = d.u();
  m.tHeadersNs = d.u();
  m.tEndNs = d.u();
  m.pid = static_cast<uint32_t>(d.u());
  m.comm = d.s();
  m.complete = d.b();
  m.problem = d.s();
}

// ---- the cache in NAME.aas-index -----------------------------------------------------

const char* kCacheSchema =
    "CREATE TABLE IF NOT EXISTS traffic_meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS traffic_exchanges("
    "  idx INTEGER PRIMARY KEY, conn INTEGER, stream_id INTEGER, pid INTEGER,"
    "  t_start_ns INTEGER, t_end_ns INTEGER, method TEXT, host TEXT, path TEXT,"
    "  status INTEGER, complete INTEGER, data BLOB);"
    "CREATE TABLE IF NOT EXISTS traffic_llm_calls("
    "  idx INTEGER PRIMARY KEY, exchange_idx INTEGER, provider TEXT, model TEXT,"
    "  pid INTEGER, t_start_ns INTEGER, t_end_ns INTEGER, incomplete INTEGER, data BLOB);";

void encStats(Enc& e, const TrafficStats& s) {
  for (uint64_t v : {s.records, s.streams, s.capturedBytes, s.gaps, s.gapBytes, s.duplicateBytes,
                     s.conflictBytes, s.unparsedBytes, s.messages, s.incompleteMessages,
                     s.exchanges, s.llmCalls}) {
    e.u(v);
  }
}

void decStats(Dec& d, TrafficStats& s) {
  for (uint64_t* v : {&s.records, &s.streams, &s.capturedBytes, &s.gaps, &s.gapBytes,
                      &s.duplicateBytes, &s.conflictBytes, &s.unparsedBytes, &s.messages,
                      &s.incompleteMessages, &s.exchanges, &s.llmCalls}) {
    *v = d.u();
  }
}

}  // namespace

std::string encodeExchange(const HttpExchange& x) {
  Enc e;
  e.u(kCodecMagic);
  e.u(x.conn);
  e.s(x.protocol);
  e.u(x.streamId);
  e.u(x.pid);
  e.s(x.comm);
  e.i(x.fd);
  e.b(x.serverSide);
  e.b(x.request.has_value());
  if (x.request) encMessage(e, *x.request);
  e.b(x.response.has_value());
  if (x.response) encMessage(e, *x.response);
  e.u(x.websocket.size());
  for (const auto& m : x.websocket) {
    e.b(m.fromClient);
    e.u(m.opcode);
    e.s(m.data);
    e.u(m.wireBytes);
    e.b(m.compressed);
    e.u(m.frames);
    e.u(m.startOffset);
    e.u(m.tStartNs);
    e.u(m.tEndNs);
    e.u(m.pid);
    e.s(m.comm);
    e.b(m.complete);
    e.s(m.problem);
  }
  return e.take();
}

bool decodeExchange(std::string_view data, HttpExchange& x) {
  Dec d(data);
  if (d.u() != kCodecMagic) return false;
  x = HttpExchange();
  x.conn = d.u();
  x.protocol = d.s();
  x.streamId = static_cast<uint32_t>(d.u());
  x.pid = static_cast<uint32_t>(d.u());
  x.comm = d.s();
  x.fd = static_cast<int32_t>(d.i());
  x.serverSide = d.b();
  if (d.b()) decMessage(d, x.request.emplace());
  if (d.b()) decMessage(d, x.response.emplace());
  uint64_t nw = d.count();
  for (uint64_t k = 0; k < nw && d.ok(); ++k) {
    WsMessage m;
    m.fromClient = d.b();
    m.opcode = static_cast<uint8_t>(d.u());
    m.data = d.s();
    m.wireBytes = d.u();
    m.compressed = d.b();
    m.frames = static_cast<uint32_t>(d.u());
    m.startOffset = d.u();
    m.tStartNs = d.u();
    m.tEndNs = d.u();
    m.pid = static_cast<uint32_t>(d.u());
    m.comm = d.s();
    m.complete = d.b();
    m.problem = d.s();
    x.websocket.push_back(std::move(m));
  }
  return d.ok();
}

std::string encodeCall(const LlmCall& c) {
  Enc e;
  e.u(kCodecMagic);
  e.u(c.exchange);
  for (const std::string* s : {&c.provider, &c.api, &c.model, &c.responseModel, &c.host, &c.path,
                               &c.requestMessages, &c.system, &c.tools, &c.responseId,
                               &c.responseText, &c.thinking, &c.stopReason, &c.error, &c.problem,
                               &c.comm, &c.transport}) {
    e.s(*s);
  }
  e.b(c.stream);
  e.opt(c.maxTokens);
  e.u(c.toolCalls.size());
  for (const auto& t : c.toolCalls) {
    e.s(t.id);
    e.s(t.name);
    e.s(t.arguments);
  }
  for (const auto* v : {&c.usage.inputTokens, &c.usage.outputTokens, &c.usage.totalTokens,
                        &c.usage.cacheReadTokens, &c.usage.cacheCreationTokens}) {
    e.opt(*v);
  }
  e.i(c.status);
  e.b(c.incomplete);
  for (uint64_t v : {c.tStartNs, c.tFirstByteNs, c.tFirstTokenNs, c.tEndNs, uint64_t(c.pid), c.conn,
                     c.requestBytes, c.responseBytes}) {
    e.u(v);
  }
  return e.take();
}

bool decodeCall(std::string_view data, LlmCall& c) {
  Dec d(data);
  if (d.u() != kCodecMagic) return false;
  c = LlmCall();
  c.exchange = d.u();
  for (std::string* s : {&c.provider, &c.api, &c.model, &c.responseModel, &c.host, &c.path,
                         &c.requestMessages, &c.system, &c.tools, &c.responseId, &c.responseText,
                         &c.thinking, &c.stopReason, &c.error, &c.problem, &c.comm, &c.transport}) {
    *s = d.s();
  }
  c.stream = d.b();
  c.maxTokens = d.opt();
  uint64_t n = d.count();
  for (uint64_t k = 0; k < n && d.ok(); ++k) {
    LlmToolCall t;
    t.id = d.s();
    t.name = d.s();
    t.arguments = d.s();
    c.toolCalls.push_back(std::move(t));
  }
  for (auto* v : {&c.usage.inputTokens, &c.usage.outputTokens, &c.usage.totalTokens,
                  &c.usage.cacheReadTokens, &c.usage.cacheCreationTokens}) {
    *v = d.opt();
  }
  c.status = static_cast<int>(d.i());
  c.incomplete = d.b();
  uint64_t pid = 0;
  for (uint64_t* v : {&c.tStartNs, &c.tFirstByteNs, &c.tFirstTokenNs, &c.tEndNs, &pid, &c.conn,
                      &c.requestBytes, &c.responseBytes}) {
    *v = d.u();
  }
  c.pid = static_cast<uint32_t>(pid);
  return d.ok();
}

TlsRecord tlsRecordOf(schema::Event::Reader e) {
  TlsRecord r;
  auto t = e.getTls();
  r.dir = t.getDirection() == schema::TlsDirection::WRITE ? Direction::kWrite : Direction::kRead;
  r.conn = t.getConn();
  r.offset = t.getOffset();
  auto data = t.getData();
  r.data.assign(reinterpret_cast<const char*>(data.begin()), data.size());
  r.length = t.getLength();
  r.truncated = t.getTruncated();
  r.fd = t.getFd();
  r.tNs = e.getTNs();
  r.pid = e.getPid();
  r.tid = e.getTid();
  auto comm = e.getComm();
  r.comm.assign(reinterpret_cast<const char*>(comm.begin()), comm.size());
  r.seq = e.getSeq();
  return r;
}

Traffic analyzeRecords(std::vector<TlsRecord> records) {
  Traffic t;
  t.stats.records = records.size();
  StreamAssembler a;
  for (auto& r : records) a.add(std::move(r));
  std::vector<ByteStream> streams = a.finish();
  t.stats.streams = streams.size();
  for (const auto& s : streams) {
    t.stats.capturedBytes += s.capturedBytes;
    t.stats.gaps += s.gaps.size();
    for (const auto& g : s.gaps) t.stats.gapBytes += g.size;
    t.stats.duplicateBytes += s.duplicateBytes;
    t.stats.conflictBytes += s.conflictBytes;
  }
  HttpParseStats hs;
  t.exchanges = parseExchanges(streams, &hs);
  t.stats.unparsedBytes = hs.unparsedBytes;
  t.stats.messages = hs.messages;
  t.stats.incompleteMessages = hs.incompleteMessages;
  t.calls = recognizeLlmCalls(t.exchanges);
  t.stats.exchanges = t.exchanges.size();
  t.stats.llmCalls = t.calls.size();
  return t;
}

std::string trafficCacheKey(const SessionReader& reader) {
  return reader.header().sessionId + "/" + std::to_string(reader.eventCount()) + "/" +
         std::to_string(reader.fileSize()) + "/v" + std::to_string(kTrafficCacheVersion);
}

bool loadTrafficCache(const std::string& indexPath, const std::string& key, Traffic& out) {
  if (::access(indexPath.c_str(), R_OK) != 0) return false;
  auto db = sql::Db::open(indexPath, true);
  if (!db.ok()) return false;
  sql::Stmt meta(db.value(), "SELECT value FROM traffic_meta WHERE key='key'");
  if (!meta.ok() || meta.step() != SQLITE_ROW || meta.blob(0) != key) return false;
  sql::Stmt stats(db.value(), "SELECT value FROM traffic_meta WHERE key='stats'");
  if (!stats.ok() || stats.step() != SQLITE_ROW) return false;
  Traffic t;
  {
    std::string blob = stats.blob(0);
    Dec d(blob);
    decStats(d, t.stats);
    if (!d.ok()) return false;
  }
  sql::Stmt xs(db.value(), "SELECT data FROM traffic_exchanges ORDER BY idx");
  if (!xs.ok()) return false;
  while (xs.step() == SQLITE_ROW) {
    HttpExchange x;
    if (!decodeExchange(xs.blob(0), x)) return false;
    t.exchanges.push_back(std::move(x));
  }
  sql::Stmt cs(db.value(), "SELECT data FROM traffic_llm_calls ORDER BY idx");
  if (!cs.ok()) return false;
  while (cs.step() == SQLITE_ROW) {
    LlmCall c;
    if (!decodeCall(cs.blob(0), c) || c.exchange >= t.exchanges.size()) return false;
    t.calls.push_back(std::move(c));
  }
  if (t.exchanges.size() != t.stats.exchanges || t.calls.size() != t.stats.llmCalls) return false;
  t.fromCache = true;
  out = std::move(t);
  return true;
}

Status storeTrafficCache(const std::string& indexPath, const std::string& key, const Traffic& t) {
  auto db = sql::Db::open(indexPath, false);
  if (!db.ok()) return db.status();
  sql::Db& d = db.value();
  // A derived cache needs no durability: a torn write is a miss on the next open.
  AA_RETURN_IF_ERROR(d.exec("PRAGMA synchronous=OFF"));
  AA_RETURN_IF_ERROR(d.exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    std::string msg = indexPath + ": " + what + ": " + d.error();
    (void)d.exec("ROLLBACK");   // the failure above is the one to report
    return Status::error(msg);
  };
  // Recreated, not emptied: tables left by another cache version may have other columns.
  if (!d.exec("DROP TABLE IF EXISTS traffic_meta; DROP TABLE IF EXISTS traffic_exchanges;"
              "DROP TABLE IF EXISTS traffic_llm_calls;").ok() ||
      !d.exec(kCacheSchema).ok()) {
    return fail("recreating traffic tables");
  }
  sql::Stmt ins(d, "INSERT INTO traffic_exchanges VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return fail("preparing insert");
  for (size_t i = 0; i < t.exchanges.size(); ++i) {
    const HttpExchange& x = t.exchanges[i];
    ins.bind(1, static_cast<int64_t>(i))
        .bind(2, static_cast<int64_t>(x.conn))
        .bind(3, static_cast<int64_t>(x.streamId))
        .bind(4, static_cast<int64_t>(x.pid))
        .bind(5, static_cast<int64_t>(x.tStartNs()))
        .bind(6, static_cast<int64_t>(x.tEndNs()))
        .bindText(7, x.method())
        .bindText(8, x.host())
        .bindText(9, x.path())
        .bind(10, static_cast<int64_t>(x.status()))
        .bind(11, static_cast<int64_t>(x.complete()))
        .bind(12, encodeExchange(x));
    if (!ins.run()) return fail("writing exchange");
  }
  sql::Stmt insc(d, "INSERT INTO traffic_llm_calls VALUES(?,?,?,?,?,?,?,?,?)");
  if (!insc.ok()) return fail("preparing insert");
  for (size_t i = 0; i < t.calls.size(); ++i) {
    const LlmCall& c = t.calls[i];
    insc.bind(1, static_cast<int64_t>(i))
        .bind(2, static_cast<int64_t>(c.exchange))
        .bindText(3, c.provider)
        .bindText(4, c.model)
        .bind(5, static_cast<int64_t>(c.pid))
        .bind(6, static_cast<int64_t>(c.tStartNs))
        .bind(7, static_cast<int64_t>(c.tEndNs))
        .bind(8, static_cast<int64_t>(c.incomplete))
        .bind(9, encodeCall(c));
    if (!insc.run()) return fail("writing call");
  }
  Enc se;
  encStats(se, t.stats);
  sql::Stmt m(d, "INSERT INTO traffic_meta VALUES(?,?)");
  if (!m.ok()) return fail("preparing meta");
  // The key goes in last, in the same transaction: a cache is valid only when whole.
  if (!m.bindText(1, "stats").bind(2, se.take()).run()) return fail("writing meta");
  m.reset();
  if (!m.bindText(1, "key").bind(2, key).run()) return fail("writing meta");
  if (!d.exec("COMMIT").ok()) return fail("commit");
  return {};
}

StatusOr<Traffic> loadTraffic(const SessionReader& reader, TrafficOptions options) {
  const std::string indexPath = aa::indexPath(reader.path());
  std::string key = trafficCacheKey(reader);
  if (options.useCache) {
    Traffic cached;
    if (loadTrafficCache(indexPath, key, cached)) return cached;
  }
  std::vector<TlsRecord> records;
  EventQuery q;
  q.kinds = bit(Kind::kTlsWrite) | bit(Kind::kTlsRead);
  Status s = reader.forEach(q, [&](schema::Event::Reader e) {
    records.push_back(tlsRecordOf(e));
    return true;
  });
  if (!s.ok()) return s;
  Traffic t = analyzeRecords(std::move(records));
  // Only beside an index the reader keeps on disk: never create one next to a
  // read-only fixture, and a failed write is not an error (the result is still right).
  // A session without a footer may still be growing (its writer holds the index): its
  // key would be stale at once, and a long cache transaction could stall the writer.
  if (options.writeCache && reader.footer().has_value() &&
      ::access(indexPath.c_str(), W_OK) == 0) {
    (void)storeTrafficCache(indexPath, key, t);
  }
  return t;
}

}  // namespace aa::traffic
