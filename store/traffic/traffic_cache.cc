// The traffic cache's encoding: HttpExchange, LlmCall and a whole Traffic as Cap'n Proto
// messages of schema/traffic_cache.capnp (flat arrays), stored through the store's
// derived-cache API (store/derived_cache.h).
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>

#include "schema/traffic_cache.capnp.h"
#include "store/catch_fault.h"
#include "store/traffic/traffic.h"

namespace aa::traffic {
namespace {

namespace c = schema::cache;

capnp::Data::Reader data(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

std::string str(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

std::optional<int64_t> optionalOf(bool has, c::OptionalInt::Reader r) {
  if (!has) return std::nullopt;
  return r.getValue();
}

void fillMessage(c::HttpMessage::Builder b, const HttpMessage& m) {
  b.setIsRequest(m.isRequest);
  b.setMethod(data(m.method));
  b.setTarget(data(m.target));
  b.setStatus(m.status);
  b.setReason(data(m.reason));
  b.setVersion(data(m.version));
  auto hs = b.initHeaders(unsigned(m.headers.size()));
  for (unsigned i = 0; i < hs.size(); ++i) {
    hs[i].setName(data(m.headers[i].name));
    hs[i].setValue(data(m.headers[i].value));
  }
  b.setBody(data(m.body));
  b.setWireBodyBytes(m.wireBodyBytes);
  b.setChunked(m.chunked);
  b.setContentEncoding(data(m.contentEncoding));
  b.setDecoded(m.decoded);
  auto marks = b.initBodyMarks(unsigned(m.bodyMarks.size()));
  for (unsigned i = 0; i < marks.size(); ++i) {
    marks[i].setBodySize(m.bodyMarks[i].bodySize);
    marks[i].setTNs(m.bodyMarks[i].tNs);
  }
  b.setStartOffset(m.startOffset);
  b.setEndOffset(m.endOffset);
  b.setTStartNs(m.tStartNs);
  b.setTHeadersNs(m.tHeadersNs);
  b.setTEndNs(m.tEndNs);
  b.setPid(m.pid);
  b.setComm(data(m.comm));
  b.setComplete(m.complete);
  b.setProblem(data(m.problem));
}

HttpMessage readMessage(c::HttpMessage::Reader r) {
  HttpMessage m;
  m.isRequest = r.getIsRequest();
  m.method = str(r.getMethod());
  m.target = str(r.getTarget());
  m.status = r.getStatus();
  m.reason = str(r.getReason());
  m.version = str(r.getVersion());
  for (auto h : r.getHeaders()) m.headers.push_back({str(h.getName()), str(h.getValue())});
  m.body = str(r.getBody());
  m.wireBodyBytes = r.getWireBodyBytes();
  m.chunked = r.getChunked();
  m.contentEncoding = str(r.getContentEncoding());
  m.decoded = r.getDecoded();
  for (auto bm : r.getBodyMarks()) {
    BodyMark mark;
    mark.bodySize = bm.getBodySize();
    mark.tNs = bm.getTNs();
    m.bodyMarks.push_back(mark);
  }
  m.startOffset = r.getStartOffset();
  m.endOffset = r.getEndOffset();
  m.tStartNs = r.getTStartNs();
  m.tHeadersNs = r.getTHeadersNs();
  m.tEndNs = r.getTEndNs();
  m.pid = r.getPid();
  m.comm = str(r.getComm());
  m.complete = r.getComplete();
  m.problem = str(r.getProblem());
  return m;
}

void fillExchange(c::HttpExchange::Builder b, const HttpExchange& x) {
  b.setConn(x.conn);
  b.setProtocol(data(x.protocol));
  b.setStreamId(x.streamId);
  b.setPid(x.pid);
  b.setComm(data(x.comm));
  b.setFd(x.fd);
  b.setServerSide(x.serverSide);
  if (x.request) fillMessage(b.initRequest(), *x.request);
  if (x.response) fillMessage(b.initResponse(), *x.response);
  auto ws = b.initWebsocket(unsigned(x.websocket.size()));
  for (unsigned i = 0; i < ws.size(); ++i) {
    const WsMessage& m = x.websocket[i];
    auto w = ws[i];
    w.setFromClient(m.fromClient);
    w.setOpcode(m.opcode);
    w.setData(data(m.data));
    w.setWireBytes(m.wireBytes);
    w.setCompressed(m.compressed);
    w.setFrames(m.frames);
    w.setStartOffset(m.startOffset);
    w.setTStartNs(m.tStartNs);
    w.setTEndNs(m.tEndNs);
    w.setPid(m.pid);
    w.setComm(data(m.comm));
    w.setComplete(m.complete);
    w.setProblem(data(m.problem));
  }
}

HttpExchange readExchange(c::HttpExchange::Reader r) {
  HttpExchange x;
  x.conn = r.getConn();
  x.protocol = str(r.getProtocol());
  x.streamId = r.getStreamId();
  x.pid = r.getPid();
  x.comm = str(r.getComm());
  x.fd = r.getFd();
  x.serverSide = r.getServerSide();
  if (r.hasRequest()) x.request = readMessage(r.getRequest());
  if (r.hasResponse()) x.response = readMessage(r.getResponse());
  for (auto w : r.getWebsocket()) {
    WsMessage m;
    m.fromClient = w.getFromClient();
    m.opcode = w.getOpcode();
    m.data = str(w.getData());
    m.wireBytes = w.getWireBytes();
    m.compressed = w.getCompressed();
    m.frames = w.getFrames();
    m.startOffset = w.getStartOffset();
    m.tStartNs = w.getTStartNs();
    m.tEndNs = w.getTEndNs();
    m.pid = w.getPid();
    m.comm = str(w.getComm());
    m.complete = w.getComplete();
    m.problem = str(w.getProblem());
    x.websocket.push_back(std::move(m));
  }
  return x;
}

void fillCall(c::LlmCall::Builder b, const LlmCall& l) {
  b.setExchange(l.exchange);
  b.setProvider(data(l.provider));
  b.setApi(data(l.api));
  b.setModel(data(l.model));
  b.setResponseModel(data(l.responseModel));
  b.setHost(data(l.host));
  b.setPath(data(l.path));
  b.setTransport(data(l.transport));
  b.setStream(l.stream);
  b.setRequestMessages(data(l.requestMessages));
  b.setSystem(data(l.system));
  b.setTools(data(l.tools));
  if (l.maxTokens) b.initMaxTokens().setValue(*l.maxTokens);
  b.setResponseId(data(l.responseId));
  b.setResponseText(data(l.responseText));
  b.setThinking(data(l.thinking));
  auto tcs = b.initToolCalls(unsigned(l.toolCalls.size()));
  for (unsigned i = 0; i < tcs.size(); ++i) {
    tcs[i].setId(data(l.toolCalls[i].id));
    tcs[i].setName(data(l.toolCalls[i].name));
    tcs[i].setArguments(data(l.toolCalls[i].arguments));
  }
  b.setStopReason(data(l.stopReason));
  if (l.usage.inputTokens) b.initInputTokens().setValue(*l.usage.inputTokens);
  if (l.usage.outputTokens) b.initOutputTokens().setValue(*l.usage.outputTokens);
  if (l.usage.totalTokens) b.initTotalTokens().setValue(*l.usage.totalTokens);
  if (l.usage.cacheReadTokens) b.initCacheReadTokens().setValue(*l.usage.cacheReadTokens);
  if (l.usage.cacheCreationTokens) b.initCacheCreationTokens().setValue(*l.usage.cacheCreationTokens);
  b.setStatus(l.status);
  b.setError(data(l.error));
  b.setIncomplete(l.incomplete);
  b.setProblem(data(l.problem));
  b.setTStartNs(l.tStartNs);
  b.setTFirstByteNs(l.tFirstByteNs);
  b.setTFirstTokenNs(l.tFirstTokenNs);
  b.setTEndNs(l.tEndNs);
  b.setPid(l.pid);
  b.setComm(data(l.comm));
  b.setConn(l.conn);
  b.setRequestBytes(l.requestBytes);
  b.setResponseBytes(l.responseBytes);
}

LlmCall readCall(c::LlmCall::Reader r) {
  LlmCall l;
  l.exchange = r.getExchange();
  l.provider = str(r.getProvider());
  l.api = str(r.getApi());
  l.model = str(r.getModel());
  l.responseModel = str(r.getResponseModel());
  l.host = str(r.getHost());
  l.path = str(r.getPath());
  l.transport = str(r.getTransport());
  l.stream = r.getStream();
  l.requestMessages = str(r.getRequestMessages());
  l.system = str(r.getSystem());
  l.tools = str(r.getTools());
  l.maxTokens = optionalOf(r.hasMaxTokens(), r.getMaxTokens());
  l.responseId = str(r.getResponseId());
  l.responseText = str(r.getResponseText());
  l.thinking = str(r.getThinking());
  for (auto t : r.getToolCalls())
    l.toolCalls.push_back({str(t.getId()), str(t.getName()), str(t.getArguments())});
  l.stopReason = str(r.getStopReason());
  l.usage.inputTokens = optionalOf(r.hasInputTokens(), r.getInputTokens());
  l.usage.outputTokens = optionalOf(r.hasOutputTokens(), r.getOutputTokens());
  l.usage.totalTokens = optionalOf(r.hasTotalTokens(), r.getTotalTokens());
  l.usage.cacheReadTokens = optionalOf(r.hasCacheReadTokens(), r.getCacheReadTokens());
  l.usage.cacheCreationTokens = optionalOf(r.hasCacheCreationTokens(), r.getCacheCreationTokens());
  l.status = r.getStatus();
  l.error = str(r.getError());
  l.incomplete = r.getIncomplete();
  l.problem = str(r.getProblem());
  l.tStartNs = r.getTStartNs();
  l.tFirstByteNs = r.getTFirstByteNs();
  l.tFirstTokenNs = r.getTFirstTokenNs();
  l.tEndNs = r.getTEndNs();
  l.pid = r.getPid();
  l.comm = str(r.getComm());
  l.conn = r.getConn();
  l.requestBytes = r.getRequestBytes();
  l.responseBytes = r.getResponseBytes();
  return l;
}

std::string flatten(capnp::MessageBuilder& m) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(m);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Runs `read` over the message in `in`; false when it is not a whole, valid message.
template <typename Read>
bool readFlat(std::string_view in, Read read) {
  if (in.empty() || in.size() % sizeof(capnp::word) != 0) return false;
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(in.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), in.data(), in.size());
  capnp::ReaderOptions options;
  // A valid message is read once: twice its size bounds a hostile one's pointer loops.
  options.traversalLimitInWords = std::max<uint64_t>(words.size() * 2, 1024);
  // A malformed cache throws while it is read: it is then not used (the caller rebuilds
  // it from the log), so the fault's message is not needed.
  bool ok = false;
  Status st = catchFault("traffic cache", [&] {
    capnp::FlatArrayMessageReader reader(words, options);
    ok = read(reader);
  });
  return st.ok() && ok;
}

}  // namespace

std::string encodeExchange(const HttpExchange& x) {
  capnp::MallocMessageBuilder m;
  fillExchange(m.initRoot<c::HttpExchange>(), x);
  return flatten(m);
}

bool decodeExchange(std::string_view in, HttpExchange& x) {
  return readFlat(in, [&](capnp::MessageReader& r) {
    x = readExchange(r.getRoot<c::HttpExchange>());
    return true;
  });
}

std::string encodeCall(const LlmCall& l) {
  capnp::MallocMessageBuilder m;
  fillCall(m.initRoot<c::LlmCall>(), l);
  return flatten(m);
}

bool decodeCall(std::string_view in, LlmCall& l) {
  return readFlat(in, [&](capnp::MessageReader& r) {
    l = readCall(r.getRoot<c::LlmCall>());
    return true;
  });
}

std::string encodeTraffic(const Traffic& t) {
  capnp::MallocMessageBuilder m;
  auto root = m.initRoot<c::TrafficCache>();
  auto s = root.initStats();
  s.setRecords(t.stats.records);
  s.setStreams(t.stats.streams);
  s.setCapturedBytes(t.stats.capturedBytes);
  s.setGaps(t.stats.gaps);
  s.setGapBytes(t.stats.gapBytes);
  s.setDuplicateBytes(t.stats.duplicateBytes);
  s.setConflictBytes(t.stats.conflictBytes);
  s.setUnparsedBytes(t.stats.unparsedBytes);
  s.setMessages(t.stats.messages);
  s.setIncompleteMessages(t.stats.incompleteMessages);
  s.setExchanges(t.stats.exchanges);
  s.setLlmCalls(t.stats.llmCalls);
  auto xs = root.initExchanges(unsigned(t.exchanges.size()));
  for (unsigned i = 0; i < xs.size(); ++i) fillExchange(xs[i], t.exchanges[i]);
  auto cs = root.initCalls(unsigned(t.calls.size()));
  for (unsigned i = 0; i < cs.size(); ++i) fillCall(cs[i], t.calls[i]);
  return flatten(m);
}

bool decodeTraffic(std::string_view in, Traffic& out) {
  Traffic t;
  bool ok = readFlat(in, [&](capnp::MessageReader& r) {
    auto root = r.getRoot<c::TrafficCache>();
    auto s = root.getStats();
    t.stats.records = s.getRecords();
    t.stats.streams = s.getStreams();
    t.stats.capturedBytes = s.getCapturedBytes();
    t.stats.gaps = s.getGaps();
    t.stats.gapBytes = s.getGapBytes();
    t.stats.duplicateBytes = s.getDuplicateBytes();
    t.stats.conflictBytes = s.getConflictBytes();
    t.stats.unparsedBytes = s.getUnparsedBytes();
    t.stats.messages = s.getMessages();
    t.stats.incompleteMessages = s.getIncompleteMessages();
    t.stats.exchanges = s.getExchanges();
    t.stats.llmCalls = s.getLlmCalls();
    for (auto x : root.getExchanges()) t.exchanges.push_back(readExchange(x));
    for (auto l : root.getCalls()) {
      t.calls.push_back(readCall(l));
      if (t.calls.back().exchange >= t.exchanges.size()) return false;
    }
    return t.exchanges.size() == t.stats.exchanges && t.calls.size() == t.stats.llmCalls;
  });
  if (!ok) return false;
  out = std::move(t);
  return true;
}

}  // namespace aa::traffic
