#include "store/traffic/traffic.h"

#include <algorithm>

#include "store/derived_cache.h"
#include "store/kind.h"

namespace aa::traffic {

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

StatusOr<Traffic> loadTraffic(const SessionReader& reader, TrafficOptions options) {
  if (options.useCache) {
    if (auto cached = loadDerivedCache(reader, kTrafficCacheName, kTrafficCacheVersion)) {
      Traffic t;
      if (decodeTraffic(*cached, t)) {
        t.fromCache = true;
        return t;
      }
    }
  }
  std::vector<TlsRecord> records;
  EventQuery q;
  q.kinds = kStreamKinds;
  Status s = reader.forEach(q, [&](schema::Event::Reader e) {
    records.push_back(tlsRecordOf(e));
    return true;
  });
  if (!s.ok()) return s;
  Traffic t = analyzeRecords(std::move(records));
  // The store keeps it only beside an index on disk, of a session that ended: never next
  // to a read-only fixture, never while a writer may still grow the session. Not
  // storing it is no error: the result is still right.
  if (options.writeCache)
    (void)storeDerivedCache(reader, kTrafficCacheName, kTrafficCacheVersion, encodeTraffic(t));
  return t;
}

}  // namespace aa::traffic
