// One TLS connection as text, both directions in recording order: each chunk under a
// "──── → sent  T  N B at offset O  (SSL_write)" line, HTTP start line and headers
// apart, bodies pretty-printed (formatPayload). What the "show whole stream" dialog
// shows; a model function so it is tested without widgets.
#pragma once

#include <QString>
#include <cstdint>

namespace aa::view {

class SessionDocument;

// At most about `budgetBytes` of payload (then a "stream cut" line), so the dialog stays
// responsive on huge streams.
QString connectionStreamText(const SessionDocument& doc, uint64_t conn,
                             qsizetype budgetBytes = 8 << 20);

}  // namespace aa::view
