// Traffic of a session: its TLS records assembled into streams, parsed into HTTP
// exchanges, and recognised as LLM calls. The entry point for the CLI and the viewer.
//
//   auto t = aa::traffic::loadTraffic(reader);          // cached in NAME.aas-index
//   for (const auto& call : t->calls) { ... t->exchanges[call.exchange] ... }
//
// Derived results are cached in the session's SQLite index (tables traffic_*), keyed by
// the session id, the event count and the file size, and rebuilt when any differs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schema/events.capnp.h"
#include "store/session_reader.h"
#include "store/status.h"
#include "store/traffic/http.h"
#include "store/traffic/llm.h"
#include "store/traffic/stream_assembler.h"

namespace aa::traffic {

// Bump when parsing changes what is derived: cached results of older versions are
// rebuilt.
constexpr int kTrafficCacheVersion = 4;   // 4: Cap'n Proto (schema/traffic_cache.capnp)

struct TrafficStats {
  uint64_t records = 0;          // TLS events read
  uint64_t streams = 0;          // connection directions
  uint64_t capturedBytes = 0;
  uint64_t gaps = 0;             // holes in streams (a truncated tail counts as one)
  uint64_t gapBytes = 0;         // known-size holes only
  uint64_t duplicateBytes = 0;
  uint64_t conflictBytes = 0;
  uint64_t unparsedBytes = 0;    // stream bytes no HTTP message could be found in
  uint64_t messages = 0;
  uint64_t incompleteMessages = 0;
  uint64_t exchanges = 0;
  uint64_t llmCalls = 0;
};

struct Traffic {
  std::vector<HttpExchange> exchanges;   // sorted by start time
  std::vector<LlmCall> calls;            // in exchange order; call.exchange indexes above
  TrafficStats stats;
  bool fromCache = false;
};

// The record of a stream event (kStreamKinds: TLS plaintext, or a plain socket's bytes).
TlsRecord tlsRecordOf(schema::Event::Reader e);

// Pure analysis of records (any order); what loadTraffic does after reading.
Traffic analyzeRecords(std::vector<TlsRecord> records);

struct TrafficOptions {
  bool useCache = true;     // read results cached in NAME.aas-index when valid
  bool writeCache = true;   // store fresh results there (skipped silently when read-only)
};

// Reads every TLS event of the session and derives its traffic, or loads it from the
// cache. Fails only when the session cannot be read.
StatusOr<Traffic> loadTraffic(const SessionReader& reader, TrafficOptions options = {});

// The cache: a Cap'n Proto message of schema/traffic_cache.capnp, kept by the store
// (store/derived_cache.h) under this name, valid for this version and the session's
// current content. Decoding returns false for anything but a whole, valid message.
constexpr const char* kTrafficCacheName = "traffic";
std::string encodeTraffic(const Traffic& t);
bool decodeTraffic(std::string_view data, Traffic& t);
std::string encodeExchange(const HttpExchange& x);
bool decodeExchange(std::string_view data, HttpExchange& x);
std::string encodeCall(const LlmCall& c);
bool decodeCall(std::string_view data, LlmCall& c);

}  // namespace aa::traffic
