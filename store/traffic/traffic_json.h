// Text and JSON renderings of exchanges and calls: what `aa-session http|llm` prints,
// shared with tests (golden output) and anything else that exports them.
//
// Times are ns since the session start (`originNs` is the session's monotonic start,
// as SessionReader::relNs uses), like the `t_ns` of `aa-session events --json`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/traffic/http.h"
#include "store/traffic/llm.h"

namespace aa::traffic {

struct RenderOptions {
  uint64_t originNs = 0;
  size_t maxBodyBytes = 1 << 20;   // bodies longer than this are cut (and say so)
};

// One JSON object (no newline): conn, protocol, pid, comm, method, host, path, status,
// times, sizes, completeness, and request/response with headers and bodies. A body that
// is not UTF-8 has "body_utf8": false, each invalid byte as U+FFFD in "body" (the one
// rule of store/render/json_string.h) and the exact bytes in "body_b64".
std::string exchangeJson(const HttpExchange& x, size_t index, const RenderOptions& o = {});
// One line: "+1.234567s conn 3 pid 42 POST api.test/v1/messages -> 200 (12 B / 3.4 KiB, 812 ms)".
std::string exchangeLine(const HttpExchange& x, size_t index, const RenderOptions& o = {});

// One JSON object: provider, api, model, request (the messages as sent, as JSON),
// system, tools, response_text, tool_calls, stop_reason, usage, stream, status, error,
// incomplete, problem, t_start_ns, t_first_token_ns, t_end_ns, latency/ttft, pid, comm.
std::string callJson(const LlmCall& c, size_t index, const RenderOptions& o = {});
std::string callLine(const LlmCall& c, size_t index, const RenderOptions& o = {});

// Chrome trace-event objects (comma-separated, no enclosing brackets; "" when none),
// for an exporter to splice into its "traceEvents" array: one complete slice ("X") per
// LLM call (category "llm", name "PROVIDER MODEL", on pid/tid = the call's pid, args:
// status, tokens, ttft_ms, stop_reason, tool calls, excerpts, incomplete) and, with
// `withHttp`, one per other HTTP exchange (category "http", name "METHOD HOST PATH").
// `ts`/`dur` are microseconds since `o.originNs`, with ns precision.
std::string chromeTraceEvents(const std::vector<HttpExchange>& exchanges,
                              const std::vector<LlmCall>& calls, bool withHttp,
                              const RenderOptions& o = {});

}  // namespace aa::traffic
