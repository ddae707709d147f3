// LLM calls and HTTP exchanges (store/traffic) as the viewer shows them: spans on the
// process lanes, and the details pane's HTML for a call's conversation, a connection's
// exchanges and one exchange. Pure functions over the traffic library's results.
#pragma once

#include <QColor>
#include <QString>
#include <memory>
#include <vector>

#include "store/traffic/actions.h"
#include "store/traffic/traffic.h"

namespace aa::view {

// LLM spans are drawn in this color (a strip under the lane's bands and a light wash
// over the lane), apart from every activity color.
QColor llmColor();

struct LlmSpan {
  int call = -1;          // index into Traffic::calls
  int process = -1;       // SessionDocument process index, -1 when the pid is unknown
  double fromNs = 0;      // session time
  double toNs = 0;
  bool incomplete = false;
};

// What the document derives from the traffic once it is loaded.
struct TrafficData {
  traffic::Traffic traffic;
  std::vector<LlmSpan> spans;   // by start time
  QString error;                // loading failed or was skipped; "" when loaded
};

// "anthropic claude-x · 1200→85 tokens · 2.31 s" and the problems, for tooltips.
QString llmCallTooltip(const traffic::LlmCall& call);
// The call's exchange: conversation (system, messages as sent, answer, tool calls with
// pretty JSON arguments), stop reason, usage, timing, status/errors, incomplete marker,
// then `afterAnswer` (HTML: what each tool call led to, tool_effects_view.h), then what
// the agent did next (each action links to "aa:event/<seq>").
// `originNs` is the session's start (CLOCK_MONOTONIC) so times print as session time.
QString llmCallHtml(const traffic::Traffic& t, size_t call,
                    const std::vector<traffic::AgentAction>& next, uint64_t originNs,
                    const QString& afterAnswer = {});
// The exchanges of one connection, each linking to "aa:exchange/<index>"; an LLM call's
// row also links to "aa:call/<index>". `current` (or -1) is highlighted.
QString connectionExchangesHtml(const traffic::Traffic& t, uint64_t conn, long current,
                                uint64_t originNs);
// One exchange: request and response start lines, headers and bodies (JSON pretty).
QString exchangeHtml(const traffic::Traffic& t, size_t exchange, uint64_t originNs);

// The exchange on `conn` whose time range holds tNs (nearest one when none does); -1
// when the connection has none.
long exchangeAt(const traffic::Traffic& t, uint64_t conn, uint64_t tNs);
// The call carried by exchange `x`, -1 when it is not an LLM call.
long callOfExchange(const traffic::Traffic& t, size_t x);

}  // namespace aa::view
