// Turning events into text for the table, tooltips and the details pane, and the TLS
// payload presentation (HTTP headers apart from the body, JSON pretty-printed, hex for
// binary). Pure functions: no widgets, no reader.
#pragma once

#include <QByteArray>
#include <QString>

#include "schema/events.capnp.h"

namespace aa::view {

QByteArray toBytes(capnp::Data::Reader d);
// Bytes as text for display: UTF-8 when valid, Latin-1 otherwise (paths need not be UTF-8).
QString displayText(capnp::Data::Reader d);

// The main path or a short summary: "/etc/hosts", "python3 agent.py", "conn 3 → 412 B".
QString eventSummary(schema::Event::Reader e);
// Bytes moved by the event, -1 when not applicable.
int64_t eventBytes(schema::Event::Reader e);
// "0", "fd 5", "-2 (ENOENT)", "" when the event has no result.
QString eventResult(schema::Event::Reader e);
QString openFlagsText(uint32_t flags);
QString errnoText(int64_t ret);

// Case-insensitive (ASCII) search of `needle` in the event's paths, argv, comm and payload.
bool eventMatchesText(schema::Event::Reader e, const QByteArray& needleLower);

struct Payload {
  enum class Form { Empty, Http, Json, Text, Binary };
  Form form = Form::Empty;
  QString startLine;   // HTTP request or status line
  QString headers;     // HTTP header lines
  QString body;        // text body (pretty JSON when it parses) or hex dump
  bool bodyIsJson = false;
};
Payload formatPayload(const QByteArray& data);
QString hexDump(const QByteArray& data, int maxBytes = 64 * 1024);
QString prettyJson(const QByteArray& data, bool* ok);

// The details pane's HTML for an event; `when` is the formatted session/wall time line.
// A TLS event links to "aa:conn/<id>" for its whole connection.
QString eventDetailsHtml(schema::Event::Reader e, const QString& when, const QString& process);

}  // namespace aa::view
