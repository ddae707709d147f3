#include "viewer/models/event_format.h"

#include <QJsonDocument>
#include <QStringConverter>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/linux_abi.h"
#include "store/render/event_summary.h"
#include "viewer/models/activity.h"

namespace aa::view {

QByteArray toBytes(capnp::Data::Reader d) {
  return QByteArray(reinterpret_cast<const char*>(d.begin()), qsizetype(d.size()));
}

namespace {

QString decodeText(const QByteArray& b) {
  QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
  QString s = utf8(b);
  if (!utf8.hasError()) return s;
  return QString::fromLatin1(b);
}

QString esc(const QString& s) { return s.toHtmlEscaped(); }

QString row(const QString& k, const QString& v) {
  return QStringLiteral("<tr><td style='color:#666;padding-right:12px'>%1</td><td>%2</td></tr>")
      .arg(esc(k), v);
}

bool containsLower(const QByteArray& hay, const QByteArray& needleLower) {
  if (needleLower.isEmpty()) return true;
  const qsizetype n = needleLower.size();
  for (qsizetype i = 0; i + n <= hay.size(); ++i) {
    qsizetype j = 0;
    while (j < n) {
      char c = hay[i + j];
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (c != needleLower[j]) break;
      ++j;
    }
    if (j == n) return true;
  }
  return false;
}

bool bytesMatch(std::string_view d, const QByteArray& needleLower) {
  // No copy: the payload can be large and search runs over every event.
  return containsLower(QByteArray::fromRawData(d.data(), qsizetype(d.size())), needleLower);
}

bool dataMatches(capnp::Data::Reader d, const QByteArray& needleLower) {
  return bytesMatch(asView(d), needleLower);
}

bool isPrintable(const QByteArray& b) {
  if (b.isEmpty()) return true;
  int bad = 0;
  for (unsigned char c : b)
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') ++bad;
  return bad * 100 <= b.size();   // tolerate a stray control byte, not binary
}

}  // namespace

QString displayText(capnp::Data::Reader d) { return decodeText(toBytes(d)); }

QString errnoText(int64_t ret) {
  // Linux's numbers as recorded, named from store/linux_abi.h (not the host's errno.h).
  return QString::fromStdString(resultText(ret));
}

QString openFlagsText(uint32_t flags) {
  return QString::fromStdString(linux_abi::openFlagsName(flags));
}

QString eventSummary(schema::Event::Reader e) {
  // A table cell shows control bytes (a binary payload's first line) as '·'.
  QString s = decodeText(QByteArray::fromStdString(aa::eventSummary(e)));
  for (QChar& c : s)
    if (c.unicode() < 0x20) c = QChar(0x00B7);
  return s;
}

int64_t eventBytes(schema::Event::Reader e) {
  const EventInfo info = describe(e);
  return info.bytes ? int64_t(*info.bytes) : -1;
}

QString eventResult(schema::Event::Reader e) {
  const EventInfo info = describe(e);
  if (info.kind == Kind::kFileOpen && info.ret && *info.ret >= 0)
    return QStringLiteral("fd %1").arg(*info.ret);
  if (info.ret) return errnoText(*info.ret);
  if (info.kind == Kind::kExit) return QString::number(e.getExit().getExitCode());
  return QString();
}

bool eventMatchesText(schema::Event::Reader e, const QByteArray& n) {
  if (dataMatches(e.getComm(), n)) return true;
  // Every byte string of the event: paths, argv, the address, the payload, the library.
  const EventInfo info = describe(e);
  for (const Field& f : info.fields()) {
    if (f.alias) continue;
    switch (f.type) {
      case Field::Type::kBytes: case Field::Type::kText: case Field::Type::kAddr:
      case Field::Type::kPayload:
        if (bytesMatch(f.bytes, n)) return true;
        break;
      case Field::Type::kBytesList:
        for (auto a : f.list)
          if (dataMatches(a, n)) return true;
        break;
      case Field::Type::kUnsigned: case Field::Type::kSigned: case Field::Type::kBool: break;
    }
  }
  return false;
}

QString hexDump(const QByteArray& data, int maxBytes) {
  QString out;
  const int n = std::min<int>(int(data.size()), maxBytes);
  for (int off = 0; off < n; off += 16) {
    QString hex, ascii;
    for (int i = 0; i < 16; ++i) {
      if (off + i < n) {
        const auto c = uint8_t(data[off + i]);
        hex += QStringLiteral("%1 ").arg(c, 2, 16, QLatin1Char('0'));
        ascii += (c >= 0x20 && c < 0x7f) ? QChar(c) : QChar('.');
      } else {
        hex += QStringLiteral("   ");
      }
      if (i == 7) hex += QLatin1Char(' ');
    }
    out += QStringLiteral("%1  %2 %3\n").arg(off, 8, 16, QLatin1Char('0')).arg(hex, ascii);
  }
  if (data.size() > n) out += QStringLiteral("… %1 more bytes\n").arg(data.size() - n);
  return out;
}

QString prettyJson(const QByteArray& data, bool* ok) {
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(data.trimmed(), &err);
  *ok = err.error == QJsonParseError::NoError && !doc.isNull();
  return *ok ? QString::fromUtf8(doc.toJson(QJsonDocument::Indented)) : QString();
}

namespace {

bool looksLikeHttpStart(const QByteArray& d) {
  static const char* starts[] = {"GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "HEAD ",
                                 "OPTIONS ", "CONNECT ", "HTTP/1.", "HTTP/2"};
  for (const char* s : starts)
    if (d.startsWith(s)) return true;
  return false;
}

// Bodies sent with Transfer-Encoding: chunked carry hex sizes between chunks; drop them
// when the whole body is well-formed chunks, so the JSON inside can be pretty-printed.
QByteArray dechunk(const QByteArray& body, bool* ok) {
  QByteArray out;
  qsizetype pos = 0;
  *ok = false;
  while (pos < body.size()) {
    const qsizetype eol = body.indexOf("\r\n", pos);
    if (eol < 0) return body;
    bool hexOk = false;
    const qsizetype size = body.mid(pos, eol - pos).split(';').first().trimmed().toLongLong(&hexOk, 16);
    if (!hexOk) return body;
    pos = eol + 2;
    if (size == 0) {
      *ok = true;
      return out;
    }
    if (pos + size > body.size()) {
      out += body.mid(pos);   // the rest arrives in the next TLS record
      *ok = true;
      return out;
    }
    out += body.mid(pos, size);
    pos += size + 2;
  }
  *ok = true;
  return out;
}

}  // namespace

Payload formatPayload(const QByteArray& data) {
  Payload p;
  if (data.isEmpty()) return p;
  QByteArray body = data;
  if (looksLikeHttpStart(data)) {
    const qsizetype end = data.indexOf("\r\n\r\n");
    const QByteArray head = end >= 0 ? data.left(end) : data;
    body = end >= 0 ? data.mid(end + 4) : QByteArray();
    const qsizetype firstEol = head.indexOf("\r\n");
    p.form = Payload::Form::Http;
    p.startLine = decodeText(firstEol >= 0 ? head.left(firstEol) : head);
    p.headers = firstEol >= 0 ? decodeText(head.mid(firstEol + 2)).replace(QStringLiteral("\r\n"), QStringLiteral("\n"))
                              : QString();
    if (p.headers.contains(QStringLiteral("chunked"), Qt::CaseInsensitive)) {
      bool ok = false;
      const QByteArray plain = dechunk(body, &ok);
      if (ok) body = plain;
    }
  }
  if (!body.isEmpty()) {
    bool json = false;
    const QString pretty = prettyJson(body, &json);
    if (json) {
      p.body = pretty;
      p.bodyIsJson = true;
      if (p.form == Payload::Form::Empty) p.form = Payload::Form::Json;
    } else if (isPrintable(body)) {
      p.body = decodeText(body);
      if (p.form == Payload::Form::Empty) p.form = Payload::Form::Text;
    } else {
      p.body = hexDump(body);
      if (p.form == Payload::Form::Empty) p.form = Payload::Form::Binary;
    }
  }
  return p;
}

namespace {

// The details row of one catalog field, or "" for a field shown apart (argv, payload).
QString fieldRow(schema::Event::Reader e, const EventInfo& info, const Field& f) {
  QString label = QString::fromUtf8(f.name.data(), qsizetype(f.name.size()));
  label.replace(QLatin1Char('_'), QLatin1Char(' '));
  const QString bytes = decodeText(QByteArray(f.bytes.data(), qsizetype(f.bytes.size())));
  using T = Field::Type;
  switch (f.type) {
    case T::kBytes:
      if (f.role != PathRole::kNone && f.role != PathRole::kLibrary) {
        QString shown = bytes;
        if (e.getPathTruncated() && !f.bytes.empty() && f.bytes[0] != '/') shown = QStringLiteral("…/") + shown;
        return row(label, QStringLiteral("<b>%1</b>").arg(esc(shown)));
      }
      return row(label, esc(bytes));
    case T::kText: return row(label, esc(bytes));
    case T::kAddr: return row(QStringLiteral("peer"), esc(eventSummary(e)));
    case T::kBool: return row(label, f.b ? QStringLiteral("yes") : QStringLiteral("no"));
    case T::kUnsigned:
      switch (f.meaning) {
        case NumberMeaning::kOpenFlags: return row(label, esc(openFlagsText(uint32_t(f.u))));
        case NumberMeaning::kMode: return row(label, QStringLiteral("0%1").arg(f.u, 0, 8));
        case NumberMeaning::kFlags: return row(label, QStringLiteral("0x%1").arg(f.u, 0, 16));
        case NumberMeaning::kFamily: {
          const auto name = linux_abi::familyName(uint16_t(f.u));
          return row(label, QStringLiteral("%1 %2").arg(f.u).arg(QLatin1String(name.data(), qsizetype(name.size()))));
        }
        default: break;
      }
      if (f.name == "conn" && (kStreamKinds & bit(info.kind)))
        return row(QStringLiteral("connection"),
                   QStringLiteral("%1 — <a href='aa:conn/%1'>show whole stream</a>").arg(f.u));
      return row(label, QString::number(f.u));
    case T::kSigned:
      if (f.meaning == NumberMeaning::kResult) return row(QStringLiteral("result"), esc(eventResult(e)));
      if (f.meaning == NumberMeaning::kSignal && f.i != 0) {
        const auto name = linux_abi::signalName(int(f.i));
        return row(label, QStringLiteral("%1 %2").arg(f.i).arg(QLatin1String(name.data(), qsizetype(name.size()))));
      }
      return row(label, QString::number(f.i));
    case T::kBytesList: case T::kPayload: break;
  }
  return QString();
}

QString argvHtml(const Field& argv, bool truncated) {
  QString rows;
  int i = 0;
  for (auto a : argv.list)
    rows += QStringLiteral("<tr><td style='color:#666'>[%1]</td><td><code>%2</code></td></tr>")
                .arg(i++).arg(esc(displayText(a)));
  return QStringLiteral("<p><b>argv</b>%1</p><table>%2</table>")
      .arg(truncated ? QStringLiteral(" (truncated)") : QString(), rows);
}

QString payloadHtml(std::string_view data) {
  QString extra;
  const Payload p = formatPayload(QByteArray(data.data(), qsizetype(data.size())));
  if (p.form == Payload::Form::Http) {
    extra += QStringLiteral("<p><b>HTTP</b></p><pre style='background:#eef3fb'>%1\n%2</pre>")
                 .arg(esc(p.startLine), esc(p.headers));
  }
  if (!p.body.isEmpty()) {
    const char* label = p.bodyIsJson ? "JSON body" : p.form == Payload::Form::Binary ? "binary (hex)" : "body";
    extra += QStringLiteral("<p><b>%1</b></p><pre style='background:#f6f6f6'>%2</pre>")
                 .arg(QLatin1String(label), esc(p.body));
  }
  return extra;
}

}  // namespace

QString eventDetailsHtml(schema::Event::Reader e, const QString& when, const QString& process) {
  const EventInfo info = describe(e);
  const Activity act = activityOf(e);
  const std::string_view kind = kindName(info.kind);
  QString h;
  h += QStringLiteral("<h3 style='margin:0'><span style='color:%1'>■</span> %2</h3>")
           .arg(activityColor(act).name(), esc(QString::fromUtf8(kind.data(), qsizetype(kind.size()))));
  h += QStringLiteral("<table>");
  h += row(QStringLiteral("time"), esc(when));
  h += row(QStringLiteral("process"), esc(process));
  h += row(QStringLiteral("thread"), QStringLiteral("%1 (%2)").arg(e.getTid()).arg(esc(displayText(e.getComm()))));
  h += row(QStringLiteral("seq"), QString::number(e.getSeq()));
  if (e.getPathTruncated())
    h += row(QStringLiteral("path truncated"),
             QStringLiteral("the kernel's walk up the directory tree was cut at its bound; "
                            "the directories above the part shown are unknown"));
  // The catalog's fields in its order; argv and the TLS payload get their own blocks.
  QString extra;
  const Field* truncatedArgv = info.find("argv_truncated");
  for (const Field& f : info.fields()) {
    if (f.alias) continue;
    if (f.type == Field::Type::kBytesList) {
      extra += argvHtml(f, truncatedArgv && truncatedArgv->b);
    } else if (f.type == Field::Type::kPayload) {
      const Field* len = info.find("len");
      const Field* cut = info.find("truncated");
      h += row(QStringLiteral("bytes"), QStringLiteral("%1 captured of %2%3")
                                            .arg(f.bytes.size()).arg(len ? len->u : 0)
                                            .arg(cut && cut->b ? QStringLiteral(" (truncated)") : QString()));
      extra += payloadHtml(f.bytes);
    } else {
      h += fieldRow(e, info, f);
    }
  }
  h += QStringLiteral("</table>") + extra;
  return h;
}

}  // namespace aa::view
