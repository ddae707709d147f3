#include "store/serve/replay_plan.h"

#include <strings.h>

#include <algorithm>
#include <limits>

#include "store/diff/session_diff.h"
#include "store/traffic/json.h"

namespace aa::serve {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const char* defaultReason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 529: return "Overloaded";
    default: return "";
  }
}

const diff::TempNames kShapeRuleOnly;

std::string norm(const std::string& s, const diff::TempNames* names) {
  return names ? names->normalise(s) : s;
}

}  // namespace

ReplayResponse replayResponseOf(const traffic::HttpExchange& x) {
  ReplayResponse r;
  const traffic::HttpMessage& resp = *x.response;
  r.status = resp.status;
  r.reason = resp.reason.empty() ? defaultReason(resp.status) : resp.reason;
  bool hasLength = false;
  for (const auto& h : resp.headers) {
    if (h.name.empty() || h.name[0] == ':') continue;   // HTTP/2 pseudo-headers
    if (iequals(h.name, "content-length")) {
      hasLength = true;
      continue;
    }
    if (iequals(h.name, "transfer-encoding") || iequals(h.name, "connection") ||
        iequals(h.name, "keep-alive") || iequals(h.name, "proxy-connection") ||
        iequals(h.name, "upgrade") || iequals(h.name, "te") || iequals(h.name, "trailer"))
      continue;
    // The body is kept decoded: it leaves as identity unless the coding was unknown.
    if (iequals(h.name, "content-encoding") && resp.decoded) continue;
    r.headers.push_back(h);
  }
  r.body = resp.body;
  r.chunked = resp.chunked || !hasLength || resp.contentType() == "text/event-stream";
  const uint64_t t0 = resp.tHeadersNs ? resp.tHeadersNs : resp.tStartNs;
  size_t prev = 0;
  for (const auto& m : resp.bodyMarks) {
    size_t end = std::min<uint64_t>(m.bodySize, r.body.size());
    if (end <= prev) continue;
    r.pieces.push_back({end, m.tNs > t0 ? m.tNs - t0 : 0});
    prev = end;
  }
  if (prev < r.body.size()) {
    uint64_t d = resp.tEndNs > t0 ? resp.tEndNs - t0 : 0;
    r.pieces.push_back({r.body.size(), d});
  }
  if (x.request && t0 > x.request->tEndNs) r.headersDelayNs = t0 - x.request->tEndNs;
  r.cut = !resp.complete;
  return r;
}

std::string conversationKey(const traffic::LlmCall& call, const diff::TempNames* names) {
  std::string first = call.requestMessages;
  if (auto j = traffic::parseJson(call.requestMessages); j.ok()) {
    if (j->isArray() && j->size() > 0) first = j->at(0).dump();
    else if (j->isString()) first = j->str();
  }
  return call.api + "\n" + norm(first, names);
}

const diff::TempNames* ReplayPlan::recordedNames() const {
  return options_.normaliseNames ? &options_.recordingNames : nullptr;
}

const diff::TempNames* ReplayPlan::receivedNames() const {
  return options_.normaliseNames ? &kShapeRuleOnly : nullptr;
}

ReplayPlan::ReplayPlan(const traffic::Traffic& traffic, PlanOptions options)
    : options_(options) {
  std::vector<bool> isCall(traffic.exchanges.size());
  for (size_t i = 0; i < traffic.calls.size(); ++i) {
    const auto& c = traffic.calls[i];
    if (c.exchange >= traffic.exchanges.size()) continue;
    const auto& x = traffic.exchanges[c.exchange];
    isCall[c.exchange] = true;
    if (x.serverSide || !x.request || !x.response) continue;
    Entry e;
    e.what = "llm call " + std::to_string(i);
    e.method = x.method();
    e.target = x.path();
    e.call = c;
    e.response = replayResponseOf(x);
    conversations_[conversationKey(c, recordedNames())].push_back(llm_.size());
    llm_.push_back(std::move(e));
  }
  for (size_t i = 0; i < traffic.exchanges.size(); ++i) {
    const auto& x = traffic.exchanges[i];
    if (isCall[i] || x.serverSide || !x.request || !x.response) continue;
    Entry e;
    e.what = "http exchange " + std::to_string(i);
    e.method = x.method();
    e.target = x.path();
    e.requestBody = x.request->body;
    e.response = replayResponseOf(x);
    other_.push_back(std::move(e));
  }
}

std::optional<Divergence> ReplayPlan::compareCall(const traffic::LlmCall& rec,
                                                  const traffic::LlmCall& got) const {
  auto differs = [&](const std::string& field, const std::string& a,
                     const std::string& b, bool json) -> std::optional<Divergence> {
    std::string na = norm(a, recordedNames()), nb = norm(b, receivedNames());
    if (na == nb) return std::nullopt;
    Divergence d;
    if (json) {
      auto jd = diff::firstJsonTextDifference(na, nb, field);
      if (!jd) return std::nullopt;
      d.field = jd->path;
      d.recordedValue = jd->a;
      d.receivedValue = jd->b;
    } else {
      d.field = field;
      d.recordedValue = a;
      d.receivedValue = b;
    }
    return d;
  };
  if (rec.api != got.api) return differs("api", rec.api, got.api, false);
  if (auto d = differs("model", rec.model, got.model, false)) return d;
  if (auto d = differs("system", rec.system, got.system, true)) return d;
  if (auto d = differs("tools", rec.tools, got.tools, true)) return d;
  if (auto d = differs(rec.api == "responses" ? "input" : "messages", rec.requestMessages,
                       got.requestMessages, true))
    return d;
  if (rec.stream != got.stream)
    return differs("stream", rec.stream ? "true" : "false", got.stream ? "true" : "false", false);
  return std::nullopt;
}

MatchResult ReplayPlan::divergent(Divergence d, const std::string& api) {
  MatchResult r;
  std::string rv = d.recordedValue.empty() ? "(absent)" : d.recordedValue;
  std::string gv = d.receivedValue.empty() ? "(absent)" : d.receivedValue;
  if (d.recorded.empty()) {
    d.message = "request " + std::to_string(d.request) + " (" + d.method + " " + d.target +
                "): no recorded " + (api.empty() ? "exchange" : "call") + " is left to answer it";
  } else {
    d.message = "request " + std::to_string(d.request) + " (" + d.method + " " + d.target +
                ") differs from " + d.recorded + " at " + d.field + ": recorded " + rv +
                ", received " + gv;
  }
  std::string msg = "aa-session serve: " + d.message;
  // Gemini (generateContent / streamGenerateContent): Google's error shape, whether or
  // not store/traffic recognises the call.
  const bool gemini = api == "gemini" || d.target.find(":generateContent") != std::string::npos ||
                      d.target.find(":streamGenerateContent") != std::string::npos;
  if (gemini) {
    r.errorStatus = 400;
    r.errorContentType = "application/json";
    r.errorBody = R"({"error":{"code":400,"message":)";
    traffic::appendJsonString(r.errorBody, msg);
    r.errorBody += R"(,"status":"INVALID_ARGUMENT"}})";
  } else if (api == "messages") {
    r.errorStatus = 400;
    r.errorContentType = "application/json";
    r.errorBody = R"({"type":"error","error":{"type":"invalid_request_error","message":)";
    traffic::appendJsonString(r.errorBody, msg);
    r.errorBody += "}}";
  } else if (!api.empty()) {
    r.errorStatus = 400;
    r.errorContentType = "application/json";
    r.errorBody = R"({"error":{"message":)";
    traffic::appendJsonString(r.errorBody, msg);
    r.errorBody += R"(,"type":"invalid_request_error","param":null,"code":"aa_replay_divergence"}})";
  } else {
    r.errorStatus = 404;
    r.errorContentType = "text/plain";
    r.errorBody = msg + "\n";
  }
  divergences_.push_back(d);
  r.divergence = std::move(d);
  return r;
}

MatchResult ReplayPlan::match(const IncomingRequest& in) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t n = requests_++;
  traffic::HttpExchange x;
  traffic::HttpMessage m;
  m.isRequest = true;
  m.method = in.method;
  m.target = in.target;
  m.headers = in.headers;
  m.body = in.body;
  m.wireBodyBytes = in.body.size();
  m.complete = true;
  x.request = std::move(m);
  Divergence d;
  d.request = n;
  d.method = in.method;
  d.target = in.target;

  if (auto call = traffic::recognizeLlmCall(x)) {
    const std::string key = conversationKey(*call, receivedNames());
    Entry* candidate = nullptr;
    if (auto it = conversations_.find(key); it != conversations_.end()) {
      for (size_t idx : it->second) {
        Entry& e = llm_[idx];
        if (e.served) continue;
        if (!compareCall(e.call, *call)) {
          e.served = true;
          MatchResult r;
          r.response = &e.response;
          r.what = e.what;
          return r;
        }
        if (!candidate) candidate = &e;
      }
    }
    // No conversation starts like this one: compare with the most similar of the calls
    // each conversation expects next (most of model, system, tools and messages equal;
    // the earliest on a tie), of the same API when there is one, else any unserved call.
    if (!candidate) {
      int best = -1;
      for (const auto& [k, list] : conversations_) {
        Entry* head = nullptr;
        for (size_t idx : list)
          if (!llm_[idx].served) {
            head = &llm_[idx];
            break;
          }
        if (!head || head->call.api != call->api) continue;
        auto same = [&](const std::string& recorded, const std::string& received) {
          return norm(recorded, recordedNames()) == norm(received, receivedNames());
        };
        int score = int(head->call.model == call->model) + int(same(head->call.system, call->system)) +
                    int(same(head->call.tools, call->tools)) +
                    int(same(head->call.requestMessages, call->requestMessages));
        if (score > best || (score == best && head < candidate)) {
          best = score;
          candidate = head;
        }
      }
    }
    for (auto& e : llm_)
      if (!candidate && !e.served) candidate = &e;
    if (candidate) {
      auto diffAt = compareCall(candidate->call, *call);
      if (!diffAt) {   // equal after all (keys differ only in spelling): serve it
        candidate->served = true;
        MatchResult r;
        r.response = &candidate->response;
        r.what = candidate->what;
        return r;
      }
      const Divergence& c = *diffAt;
      d.field = c.field;
      d.recordedValue = c.recordedValue;
      d.receivedValue = c.receivedValue;
      d.recorded = candidate->what;
    }
    return divergent(std::move(d), call->api);
  }

  Entry* candidate = nullptr;
  for (auto& e : other_) {
    if (e.served || e.method != in.method || e.target != in.target) continue;
    if (norm(e.requestBody, recordedNames()) == norm(in.body, receivedNames())) {
      e.served = true;
      MatchResult r;
      r.response = &e.response;
      r.what = e.what;
      return r;
    }
    if (!candidate) candidate = &e;
  }
  if (candidate) {
    d.recorded = candidate->what;
    d.field = "body";
    d.recordedValue = candidate->requestBody.substr(0, 240);
    d.receivedValue = in.body.substr(0, 240);
  }
  return divergent(std::move(d), "");
}

std::vector<Divergence> ReplayPlan::unserved() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Divergence> out;
  for (const auto* list : {&llm_, &other_})
    for (const auto& e : *list) {
      if (e.served) continue;
      Divergence d;
      d.request = std::numeric_limits<size_t>::max();
      d.method = e.method;
      d.target = e.target;
      d.recorded = e.what;
      d.message = e.what + " (" + e.method + " " + e.target + ") was never requested";
      out.push_back(std::move(d));
    }
  return out;
}

std::vector<Divergence> ReplayPlan::divergences() const {
  std::lock_guard<std::mutex> lock(mu_);
  return divergences_;
}

size_t ReplayPlan::served() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto* list : {&llm_, &other_})
    for (const auto& e : *list) n += e.served;
  return n;
}

size_t ReplayPlan::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace aa::serve
