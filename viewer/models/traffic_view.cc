#include "viewer/models/traffic_view.h"

#include <QStringList>
#include <algorithm>

#include "store/render/units.h"
#include "store/traffic/conversation.h"
#include "viewer/models/event_format.h"
#include "viewer/models/time_axis.h"

namespace aa::view {

namespace {

QString fromStd(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
QString esc(const std::string& s) { return fromStd(s).toHtmlEscaped(); }

// Bodies can be megabytes; the pane stays responsive with the first 256 KiB of each.
constexpr qsizetype kMaxShown = 256 * 1024;

QString clip(QString s) {
  if (s.size() <= kMaxShown) return s;
  const qsizetype total = s.size();
  s.truncate(kMaxShown);
  return s + QStringLiteral("\n… (%1 more characters)").arg(total - kMaxShown);
}

// JSON text pretty-printed when it parses, else as is; in a <pre>.
QString preJson(const std::string& text) {
  bool ok = false;
  const QByteArray bytes(text.data(), qsizetype(text.size()));
  QString shown = prettyJson(bytes, &ok);
  if (!ok) shown = fromStd(text);
  return QStringLiteral("<pre style='margin:2px 0 6px 0; white-space:pre-wrap'>%1</pre>")
      .arg(clip(shown).toHtmlEscaped());
}

QString preText(const std::string& text) {
  return QStringLiteral("<pre style='margin:2px 0 6px 0; white-space:pre-wrap'>%1</pre>")
      .arg(clip(fromStd(text)).toHtmlEscaped());
}

QString ms(uint64_t ns) { return formatDuration(double(ns)); }

QString relTime(uint64_t monoNs, uint64_t originNs) {
  return formatSessionTime(double(monoNs > originNs ? monoNs - originNs : 0), 1e3);
}

QString bytesText(uint64_t n) { return QString::fromStdString(formatBytes(n)); }

QString roleColor(const std::string& role, bool fromResponse) {
  if (fromResponse || role == "assistant") return QStringLiteral("#1f2d5c");
  if (role == "system" || role == "developer") return QStringLiteral("#6c7a89");
  if (role == "tool") return QStringLiteral("#b9770e");
  return QStringLiteral("#1e8449");
}

QString messageHtml(const traffic::HttpMessage* m) {
  if (!m) return QStringLiteral("<p><i>not captured</i></p>");
  QString out = QStringLiteral("<pre style='margin:2px 0'>");
  QString start = m->isRequest ? fromStd(m->method + " " + m->target + " " + m->version)
                               : fromStd(m->version) + QStringLiteral(" %1 ").arg(m->status) + fromStd(m->reason);
  out += QStringLiteral("<b>%1</b>\n").arg(start.trimmed().toHtmlEscaped());
  for (const auto& h : m->headers) out += (fromStd(h.name) + QStringLiteral(": ") + fromStd(h.value)).toHtmlEscaped() + QLatin1Char('\n');
  out += QStringLiteral("</pre>");
  QStringList notes;
  notes << QStringLiteral("body %1").arg(bytesText(m->body.size()));
  if (m->chunked) notes << QStringLiteral("chunked");
  if (!m->contentEncoding.empty()) notes << QStringLiteral("%1%2").arg(esc(m->contentEncoding), m->decoded ? QStringLiteral(" (decoded)") : QString());
  if (!m->complete) notes << QStringLiteral("<span style='color:#c0392b'>incomplete</span>");
  if (!m->problem.empty()) notes << QStringLiteral("<span style='color:#c0392b'>%1</span>").arg(esc(m->problem));
  out += QStringLiteral("<p style='color:#555'>%1</p>").arg(notes.join(QStringLiteral(" · ")));
  if (!m->body.empty()) {
    const QByteArray body(m->body.data(), qsizetype(std::min<size_t>(m->body.size(), kMaxShown)));
    bool ok = false;
    QString pretty = prettyJson(body, &ok);
    if (ok) out += QStringLiteral("<pre style='white-space:pre-wrap'>%1</pre>").arg(pretty.toHtmlEscaped());
    else out += QStringLiteral("<pre style='white-space:pre-wrap'>%1</pre>").arg(formatPayload(body).body.toHtmlEscaped());
    if (m->body.size() > size_t(kMaxShown))
      out += QStringLiteral("<p style='color:#555'>… %1 more</p>").arg(bytesText(m->body.size() - kMaxShown));
  }
  return out;
}


}  // namespace

QColor llmColor() { return QColor(0x1f, 0x2d, 0x5c); }   // navy

QString llmCallTooltip(const traffic::LlmCall& c) {
  QStringList lines;
  lines << QStringLiteral("LLM call: %1 %2").arg(fromStd(c.provider), fromStd(c.model));
  QStringList tok;
  if (c.usage.inputTokens) tok << QStringLiteral("in %1").arg(*c.usage.inputTokens);
  if (c.usage.outputTokens) tok << QStringLiteral("out %1").arg(*c.usage.outputTokens);
  if (!tok.isEmpty()) lines << QStringLiteral("tokens: ") + tok.join(QStringLiteral(", "));
  QString timing = QStringLiteral("latency %1").arg(ms(c.latencyNs()));
  if (c.timeToFirstTokenNs()) timing += QStringLiteral(", first token %1").arg(ms(c.timeToFirstTokenNs()));
  lines << timing;
  if (c.status) lines << QStringLiteral("HTTP %1").arg(c.status);
  if (!c.toolCalls.empty()) {
    QStringList names;
    for (const auto& t : c.toolCalls) names << fromStd(t.name);
    lines << QStringLiteral("tools: ") + names.join(QStringLiteral(", "));
  }
  if (!c.error.empty()) lines << QStringLiteral("error: ") + fromStd(c.error);
  if (c.incomplete) lines << QStringLiteral("incomplete: ") + fromStd(c.problem);
  return lines.join(QLatin1Char('\n'));
}

QString llmCallHtml(const traffic::Traffic& t, size_t index,
                    const std::vector<traffic::AgentAction>& next, uint64_t originNs,
                    const QString& afterAnswer) {
  if (index >= t.calls.size()) return {};
  const traffic::LlmCall& c = t.calls[index];
  QString h;
  h += QStringLiteral("<h3 style='margin:0'><span style='color:%1'>■</span> LLM call %2: %3 %4</h3>")
           .arg(llmColor().name()).arg(index + 1).arg(esc(c.provider), esc(c.model));
  if (c.incomplete)
    h += QStringLiteral("<p style='color:#c0392b'><b>incomplete</b>: %1</p>").arg(esc(c.problem));
  QStringList facts;
  facts << QStringLiteral("<b>%1</b> %2 %3").arg(esc(c.api), c.stream ? QStringLiteral("(streamed)") : QString(),
                                                 esc(c.host + c.path));
  facts << QStringLiteral("pid %1 %2 · conn %3").arg(c.pid).arg(esc(c.comm)).arg(c.conn);
  facts << QStringLiteral("start %1 · latency <b>%2</b>%3")
               .arg(relTime(c.tStartNs, originNs), ms(c.latencyNs()),
                    c.timeToFirstTokenNs() ? QStringLiteral(" · first token %1").arg(ms(c.timeToFirstTokenNs())) : QString());
  QStringList usage;
  if (c.usage.inputTokens) usage << QStringLiteral("input %1").arg(*c.usage.inputTokens);
  if (c.usage.outputTokens) usage << QStringLiteral("output %1").arg(*c.usage.outputTokens);
  if (c.usage.totalTokens) usage << QStringLiteral("total %1").arg(*c.usage.totalTokens);
  if (c.usage.cacheReadTokens) usage << QStringLiteral("cache read %1").arg(*c.usage.cacheReadTokens);
  if (c.usage.cacheCreationTokens) usage << QStringLiteral("cache write %1").arg(*c.usage.cacheCreationTokens);
  facts << QStringLiteral("tokens: %1").arg(usage.isEmpty() ? QStringLiteral("not reported") : usage.join(QStringLiteral(", ")));
  facts << QStringLiteral("HTTP %1 · stop: <b>%2</b>%3 · %4 sent, %5 received")
               .arg(c.status ? QString::number(c.status) : QStringLiteral("—"))
               .arg(c.stopReason.empty() ? QStringLiteral("—") : esc(c.stopReason))
               .arg(c.maxTokens ? QStringLiteral(" · max_tokens %1").arg(*c.maxTokens) : QString())
               .arg(bytesText(c.requestBytes), bytesText(c.responseBytes));
  if (!c.error.empty()) facts << QStringLiteral("<span style='color:#c0392b'>error: %1</span>").arg(esc(c.error));
  h += QStringLiteral("<p style='margin:4px 0'>%1</p>").arg(facts.join(QStringLiteral("<br>")));
  h += QStringLiteral("<p style='margin:2px 0'><a href='aa:exchange/%1'>HTTP request and response</a></p>").arg(c.exchange);

  h += QStringLiteral("<h4 style='margin:8px 0 2px 0'>Conversation</h4>");
  bool answerHeader = false;
  for (const traffic::ConversationItem& item : traffic::conversationOf(c)) {
    if (item.fromResponse && !answerHeader) {
      h += QStringLiteral("<h4 style='margin:8px 0 2px 0; color:%1'>Answer</h4>").arg(llmColor().name());
      answerHeader = true;
    }
    QString label = esc(item.role.empty() ? std::string("?") : item.role);
    if (item.kind != traffic::ConversationItem::Kind::kText)
      label += QStringLiteral(" · ") + QString::fromLatin1(traffic::conversationKindName(item.kind));
    if (!item.name.empty()) label += QStringLiteral(" <b>%1</b>").arg(esc(item.name));
    if (!item.id.empty()) label += QStringLiteral(" <span style='color:#888'>%1</span>").arg(esc(item.id));
    h += QStringLiteral("<div style='margin:3px 0'><span style='color:%1; font-weight:bold'>%2</span>")
             .arg(roleColor(item.role, item.fromResponse), label);
    switch (item.kind) {
      case traffic::ConversationItem::Kind::kToolCall:
      case traffic::ConversationItem::Kind::kOther: h += preJson(item.text); break;
      default: h += preText(item.text); break;
    }
    h += QStringLiteral("</div>");
  }
  if (!answerHeader)
    h += QStringLiteral("<p style='color:#c0392b'>no answer captured</p>");
  h += afterAnswer;

  h += QStringLiteral("<h4 style='margin:8px 0 2px 0'>What the agent did next</h4>");
  if (next.empty()) {
    h += QStringLiteral("<p style='color:#555'>nothing recorded before its next call</p>");
  } else {
    h += QStringLiteral("<table cellspacing='0' cellpadding='1'>");
    for (const traffic::AgentAction& a : next)
      h += QStringLiteral("<tr><td style='color:#555'>+%1&nbsp;</td><td>%2&nbsp;</td><td><a href='aa:event/%3'>%4</a></td></tr>")
               .arg(ms(a.tNs > c.tEndNs ? a.tNs - c.tEndNs : 0), esc(a.kind))
               .arg(a.seq)
               .arg(esc(a.summary));
    h += QStringLiteral("</table>");
  }
  return h;
}

long exchangeAt(const traffic::Traffic& t, uint64_t conn, uint64_t tNs) {
  long best = -1;
  uint64_t bestDist = UINT64_MAX;
  for (size_t i = 0; i < t.exchanges.size(); ++i) {
    const auto& x = t.exchanges[i];
    if (x.conn != conn) continue;
    const uint64_t a = x.tStartNs(), b = std::max(x.tEndNs(), a);
    const uint64_t d = tNs < a ? a - tNs : tNs > b ? tNs - b : 0;
    if (d < bestDist) { bestDist = d; best = long(i); }
  }
  return best;
}

long callOfExchange(const traffic::Traffic& t, size_t x) {
  for (size_t i = 0; i < t.calls.size(); ++i)
    if (t.calls[i].exchange == x) return long(i);
  return -1;
}

QString connectionExchangesHtml(const traffic::Traffic& t, uint64_t conn, long current,
                                uint64_t originNs) {
  QString h = QStringLiteral("<h4 style='margin:8px 0 2px 0'>HTTP exchanges on connection %1</h4>").arg(conn);
  // One line each (the details pane is narrow): time, request, status, sizes, duration.
  int n = 0;
  for (size_t i = 0; i < t.exchanges.size(); ++i) {
    const auto& x = t.exchanges[i];
    if (x.conn != conn) continue;
    ++n;
    const long call = callOfExchange(t, i);
    const QString bg = long(i) == current ? QStringLiteral("background:#fdf2c4;") : QString();
    QString path = fromStd(x.path());
    if (path.size() > 60) path = path.left(57) + QStringLiteral("…");
    h += QStringLiteral("<p style='margin:1px 0; %1'>%2 <a href='aa:exchange/%3'>%4 %5</a> → <b>%6</b> · %7 sent, %8 received · %9")
             .arg(bg, relTime(x.tStartNs(), originNs))
             .arg(i)
             .arg(esc(x.method()), path.toHtmlEscaped())
             .arg(x.status() ? QString::number(x.status()) : QStringLiteral("—"))
             .arg(bytesText(x.request ? x.request->wireBodyBytes : 0),
                  bytesText(x.response ? x.response->wireBodyBytes : 0),
                  ms(x.tEndNs() > x.tStartNs() ? x.tEndNs() - x.tStartNs() : 0));
    h += QStringLiteral(" · %1%2%3</p>")
             .arg(esc(x.protocol),
                  x.complete() ? QString() : QStringLiteral(" · <span style='color:#c0392b'>incomplete</span>"),
                  call >= 0 ? QStringLiteral(" · <a href='aa:call/%1'>LLM call %2</a>").arg(call).arg(call + 1) : QString());
  }
  if (n == 0) h += QStringLiteral("<p style='color:#555'>no HTTP exchange recognised on this connection</p>");
  return h;
}

QString exchangeHtml(const traffic::Traffic& t, size_t index, uint64_t originNs) {
  if (index >= t.exchanges.size()) return {};
  const auto& x = t.exchanges[index];
  QString h = QStringLiteral("<h3 style='margin:0'>%1 %2%3</h3>").arg(esc(x.method()), esc(x.host()), esc(x.path()));
  h += QStringLiteral("<p>%1 · conn <a href='aa:conn/%2'>%2</a>%3 · pid %4 %5 · start %6 · %7%8</p>")
           .arg(esc(x.protocol)).arg(x.conn)
           .arg(x.streamId ? QStringLiteral(" stream %1").arg(x.streamId) : QString())
           .arg(x.pid).arg(esc(x.comm))
           .arg(relTime(x.tStartNs(), originNs), ms(x.tEndNs() > x.tStartNs() ? x.tEndNs() - x.tStartNs() : 0),
                x.complete() ? QString() : QStringLiteral(" · <span style='color:#c0392b'>incomplete</span>"));
  if (const long call = callOfExchange(t, index); call >= 0)
    h += QStringLiteral("<p><a href='aa:call/%1'>LLM call %2: conversation</a></p>").arg(call).arg(call + 1);
  h += QStringLiteral("<h4 style='margin:6px 0 2px 0'>Request</h4>") + messageHtml(x.request ? &*x.request : nullptr);
  h += QStringLiteral("<h4 style='margin:6px 0 2px 0'>Response</h4>") + messageHtml(x.response ? &*x.response : nullptr);
  return h;
}

}  // namespace aa::view
