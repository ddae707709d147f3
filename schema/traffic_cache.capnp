# The HTTP exchanges and LLM calls store/traffic derives from a session's TLS records,
# as cached in the session's index file (store/derived_cache.h). A cache, not a
# contract: a reader that finds another version (kTrafficCacheVersion) derives again.
# Text as sent is Data: bodies and headers need not be UTF-8.

@0xd2c9e4ecd4a16cf6;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("aa::schema::cache");

struct HttpHeader {
  name @0 :Data;
  value @1 :Data;
}

struct BodyMark {
  bodySize @0 :UInt64;
  tNs @1 :UInt64;
}

struct HttpMessage {
  isRequest @0 :Bool;
  method @1 :Data;
  target @2 :Data;
  status @3 :Int32;
  reason @4 :Data;
  version @5 :Data;
  headers @6 :List(HttpHeader);
  body @7 :Data;
  wireBodyBytes @8 :UInt64;
  chunked @9 :Bool;
  contentEncoding @10 :Data;
  decoded @11 :Bool;
  bodyMarks @12 :List(BodyMark);
  startOffset @13 :UInt64;
  endOffset @14 :UInt64;
  tStartNs @15 :UInt64;
  tHeadersNs @16 :UInt64;
  tEndNs @17 :UInt64;
  pid @18 :UInt32;
  comm @19 :Data;
  complete @20 :Bool;
  problem @21 :Data;
}

struct WsMessage {
  fromClient @0 :Bool;
  opcode @1 :UInt8;
  data @2 :Data;
  wireBytes @3 :UInt64;
  compressed @4 :Bool;
  frames @5 :UInt32;
  startOffset @6 :UInt64;
  tStartNs @7 :UInt64;
  tEndNs @8 :UInt64;
  pid @9 :UInt32;
  comm @10 :Data;
  complete @11 :Bool;
  problem @12 :Data;
}

struct HttpExchange {
  conn @0 :UInt64;
  protocol @1 :Data;
  streamId @2 :UInt32;
  pid @3 :UInt32;
  comm @4 :Data;
  fd @5 :Int32;
  serverSide @6 :Bool;
  request @7 :HttpMessage;    # null: none seen
  response @8 :HttpMessage;   # null: none seen
  websocket @9 :List(WsMessage);
}

struct OptionalInt {          # a pointer to it: null when absent
  value @0 :Int64;
}

struct LlmToolCall {
  id @0 :Data;
  name @1 :Data;
  arguments @2 :Data;
}

struct LlmCall {
  exchange @0 :UInt64;
  provider @1 :Data;
  api @2 :Data;
  model @3 :Data;
  responseModel @4 :Data;
  host @5 :Data;
  path @6 :Data;
  transport @7 :Data;
  stream @8 :Bool;
  requestMessages @9 :Data;
  system @10 :Data;
  tools @11 :Data;
  maxTokens @12 :OptionalInt;
  responseId @13 :Data;
  responseText @14 :Data;
  thinking @15 :Data;
  toolCalls @16 :List(LlmToolCall);
  stopReason @17 :Data;
  inputTokens @18 :OptionalInt;
  outputTokens @19 :OptionalInt;
  totalTokens @20 :OptionalInt;
  cacheReadTokens @21 :OptionalInt;
  cacheCreationTokens @22 :OptionalInt;
  status @23 :Int32;
  error @24 :Data;
  incomplete @25 :Bool;
  problem @26 :Data;
  tStartNs @27 :UInt64;
  tFirstByteNs @28 :UInt64;
  tFirstTokenNs @29 :UInt64;
  tEndNs @30 :UInt64;
  pid @31 :UInt32;
  comm @32 :Data;
  conn @33 :UInt64;
  requestBytes @34 :UInt64;
  responseBytes @35 :UInt64;
}

struct TrafficStats {
  records @0 :UInt64;
  streams @1 :UInt64;
  capturedBytes @2 :UInt64;
  gaps @3 :UInt64;
  gapBytes @4 :UInt64;
  duplicateBytes @5 :UInt64;
  conflictBytes @6 :UInt64;
  unparsedBytes @7 :UInt64;
  messages @8 :UInt64;
  incompleteMessages @9 :UInt64;
  exchanges @10 :UInt64;
  llmCalls @11 :UInt64;
}

struct TrafficCache {
  stats @0 :TrafficStats;
  exchanges @1 :List(HttpExchange);
  calls @2 :List(LlmCall);
}
