#include "viewer/models/connection_stream.h"

#include <QCoreApplication>

#include "store/kind.h"
#include "store/render/units.h"
#include "viewer/models/event_format.h"
#include "viewer/models/session_document.h"
#include "viewer/models/time_axis.h"

namespace aa::view {

QString connectionStreamText(const SessionDocument& doc, uint64_t conn, qsizetype budgetBytes) {
  QString out;
  EventQuery q;
  q.kinds = kStreamKinds;
  qsizetype budget = budgetBytes;
  (void)doc.forEach(q, [&](schema::Event::Reader e) {
    const auto t = e.getTls();
    if (t.getConn() != conn) return true;
    const bool sent = t.getDirection() == schema::TlsDirection::WRITE;
    out += QStringLiteral("──── %1 %2  %3 B at offset %4  (%5)\n")
               .arg(sent ? QStringLiteral("→ sent") : QStringLiteral("← received"),
                    formatSessionTime(double(doc.relNs(e.getTNs())), 1e3))
               .arg(t.getData().size()).arg(t.getOffset())
               .arg(QString::fromUtf8(t.getFunc().cStr()));
    const Payload p = formatPayload(toBytes(t.getData()));
    if (p.form == Payload::Form::Http) out += p.startLine + QLatin1Char('\n') + p.headers + QStringLiteral("\n\n");
    out += p.body;
    if (!out.endsWith(QLatin1Char('\n'))) out += QLatin1Char('\n');
    return (budget -= qsizetype(t.getData().size())) > 0;
  });
  if (budget <= 0)
    out += QCoreApplication::translate("aa::view", "\n… stream cut at %1\n")
               .arg(QString::fromStdString(formatBytes(uint64_t(budgetBytes))));
  return out;
}

}  // namespace aa::view
