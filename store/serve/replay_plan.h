// What `aa-session serve` answers: the recorded HTTP exchanges of a session, matched to
// the requests an agent sends when it is run again.
//
// LLM calls (store/traffic LlmCall) are grouped into conversations by API and first
// message. An incoming call is answered with the first not yet served recorded call of
// its conversation whose request is the same (model, system, tools, messages, stream;
// temp names normalised as `aa-session diff` does); when there is none, it is a
// divergence: the report names the recorded call it was compared with (the next one of
// its conversation; for a conversation never recorded, the most similar of the calls the
// conversations expect next), the first field that differs, and both values. Other exchanges (downloads, ...) are answered by method and target, in order.
//
// Thread-safe: connections of the mock server call match() concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/diff/session_diff.h"
#include "store/traffic/http.h"
#include "store/traffic/llm.h"
#include "store/traffic/traffic.h"

namespace aa::serve {

// A response as it is to be sent again: the body in the pieces it arrived in, each with
// its delay (ns after the response headers were captured).
struct ReplayResponse {
  int status = 200;
  std::string reason;
  std::vector<traffic::HttpHeader> headers;   // hop-by-hop and framing headers removed
  std::string body;                           // decoded (framing is the server's)
  bool chunked = false;                       // send with chunked transfer coding
  struct Piece {
    size_t end = 0;          // body[prev end, end)
    uint64_t delayNs = 0;    // after the headers
  };
  std::vector<Piece> pieces;
  uint64_t headersDelayNs = 0;   // after the request's last byte
  bool cut = false;              // the recording ends inside it: close after the bytes
};

struct IncomingRequest {
  std::string method, target;
  std::vector<traffic::HttpHeader> headers;
  std::string body;          // after transfer decoding (and gzip/deflate, when sent so)
};

struct Divergence {
  size_t request = 0;        // incoming requests are numbered from 0 in arrival order
  std::string method, target;
  std::string recorded;      // "llm call 3", "http exchange 5", "" when nothing was left
  std::string field;         // "model", "messages[2].content", "body", "" for none left
  std::string recordedValue, receivedValue;
  std::string message;       // one line for people
};

struct MatchResult {
  const ReplayResponse* response = nullptr;   // null: answer `error`
  std::string what;                           // "llm call 3" / "http exchange 5"
  std::optional<Divergence> divergence;
  // The error to answer with on divergence (API-shaped for LLM paths).
  int errorStatus = 0;
  std::string errorContentType, errorBody;
};

struct PlanOptions {
  bool normaliseNames = true;   // compare with temp names replaced (false: --exact)
  // The recording's own temp names (diff::tempNamesMadeBy), replaced in recorded requests.
  // The requests received have only the shape rule: the server cannot see what made them.
  diff::TempNames recordingNames;
};

class ReplayPlan {
 public:
  ReplayPlan(const traffic::Traffic& traffic, PlanOptions options = {});

  size_t llmCalls() const { return llm_.size(); }
  size_t otherExchanges() const { return other_.size(); }

  MatchResult match(const IncomingRequest& request);

  // Recorded entries never requested (as divergences, request = SIZE_MAX), and every
  // divergence seen so far, in arrival order.
  std::vector<Divergence> unserved() const;
  std::vector<Divergence> divergences() const;
  size_t served() const;
  size_t requests() const;

 private:
  struct Entry {
    std::string what;                 // "llm call N" / "http exchange N"
    std::string method, target;
    std::string requestBody;          // other exchanges
    traffic::LlmCall call;            // llm entries
    ReplayResponse response;
    bool served = false;
  };
  std::optional<Divergence> compareCall(const traffic::LlmCall& recorded,
                                        const traffic::LlmCall& received) const;
  MatchResult divergent(Divergence d, const std::string& api);
  // What is compared of a recorded text and of a received one (names normalised or not).
  const diff::TempNames* recordedNames() const;
  const diff::TempNames* receivedNames() const;

  PlanOptions options_;
  std::vector<Entry> llm_, other_;
  std::map<std::string, std::vector<size_t>> conversations_;   // key -> llm_ indexes
  mutable std::mutex mu_;
  size_t requests_ = 0;
  std::vector<Divergence> divergences_;
};

// The conversation key of a call: API and its first message (compact JSON), with temp
// names normalised by `names` (null: exact).
std::string conversationKey(const traffic::LlmCall& call, const diff::TempNames* names);

// The recorded response of an exchange, ready to send again.
ReplayResponse replayResponseOf(const traffic::HttpExchange& x);

}  // namespace aa::serve
