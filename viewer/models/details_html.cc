#include "viewer/models/details_html.h"

#include "viewer/models/event_format.h"
#include "viewer/models/time_axis.h"
#include "viewer/models/tool_effects_view.h"
#include "viewer/models/traffic_view.h"

namespace aa::view {

QString llmCallDetailsHtml(const SessionDocument& doc, size_t call) {
  auto data = doc.traffic();
  if (!data || call >= data->traffic.calls.size()) return {};
  const traffic::Traffic& t = data->traffic;
  const traffic::LlmCall& c = t.calls[call];
  const uint64_t origin = doc.header().startMonoNs;
  return llmCallHtml(t, call, doc.actionsAfterCall(call), origin,
                     toolEffectsHtml(c, doc.toolEffects(call))) +
         connectionExchangesHtml(t, c.conn, long(c.exchange), origin);
}

std::optional<EventDetails> eventDetails(const SessionDocument& doc, uint64_t seq) {
  EventDetails d;
  uint64_t conn = 0, tNs = 0;
  bool tls = false, plain = false;
  const bool ok = doc.withEvent(seq, [&](schema::Event::Reader e) {
    d.ns = double(doc.relNs(e.getTNs()));
    d.process = doc.processIndex(e.getPid());
    const QString when = QStringLiteral("%1   (wall %2)")
                             .arg(formatSessionTime(d.ns, 1), formatWallClock(doc.wallOf(d.ns), 1));
    const QString process = d.process >= 0 ? QStringLiteral("%1 (pid %2) %3")
                                                 .arg(doc.processes()[size_t(d.process)].name)
                                                 .arg(e.getPid())
                                                 .arg(doc.commandLine(d.process))
                                           : QStringLiteral("pid %1").arg(e.getPid());
    d.html = eventDetailsHtml(e, when, process);
    if ((tls = e.isTls())) {
      conn = e.getTls().getConn();
      plain = e.getTls().getPlain();
      tNs = e.getTNs();
    }
  });
  if (!ok) return std::nullopt;
  // A stream event (TLS or a plain socket's) is part of an HTTP exchange: show the call it carried (the reason one
  // clicks a request to a model) and the connection's other exchanges. Outside
  // withEvent: the call's details read the document too.
  if (auto data = tls ? doc.traffic() : nullptr) {
    const traffic::Traffic& t = data->traffic;
    const long x = exchangeAt(t, conn, tNs);
    const QString list = connectionExchangesHtml(t, conn, x, doc.header().startMonoNs);
    if (x >= 0 && (d.call = int(callOfExchange(t, size_t(x)))) >= 0)
      d.html = llmCallDetailsHtml(doc, size_t(d.call)) +
               QStringLiteral("<hr><h4 style='margin:4px 0'>This %1 event</h4>")
                   .arg(plain ? QStringLiteral("plain-socket") : QStringLiteral("TLS")) +
               d.html;
    else
      d.html += list;
  }
  return d;
}

}  // namespace aa::view
