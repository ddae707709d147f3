#include "viewer/models/event_format.h"

#include <QJsonDocument>
#include <QStringConverter>
#include <cerrno>
#include <cstring>
#include <fcntl.h>

#include "store/kind.h"
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

bool dataMatches(capnp::Data::Reader d, const QByteArray& needleLower) {
  // No copy: the payload can be large and search runs over every event.
  return containsLower(QByteArray::fromRawData(reinterpret_cast<const char*>(d.begin()),
                                               qsizetype(d.size())),
                       needleLower);
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
  if (ret >= 0) return QString::number(ret);
  const char* name = nullptr;
  switch (-ret) {
    case ENOENT: name = "ENOENT"; break;
    case EACCES: name = "EACCES"; break;
    case EPERM: name = "EPERM"; break;
    case EEXIST: name = "EEXIST"; break;
    case ENOTDIR: name = "ENOTDIR"; break;
    case EISDIR: name = "EISDIR"; break;
    case EBADF: name = "EBADF"; break;
    case EINTR: name = "EINTR"; break;
    case EAGAIN: name = "EAGAIN"; break;
    case EINPROGRESS: name = "EINPROGRESS"; break;
    case ECONNREFUSED: name = "ECONNREFUSED"; break;
    case ENOTEMPTY: name = "ENOTEMPTY"; break;
    case EROFS: name = "EROFS"; break;
    case ENOSPC: name = "ENOSPC"; break;
    default: break;
  }
  return name ? QStringLiteral("%1 (%2)").arg(ret).arg(QLatin1String(name))
              : QString::number(ret);
}

QString openFlagsText(uint32_t flags) {
  QStringList parts;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: parts << QStringLiteral("O_RDONLY"); break;
    case O_WRONLY: parts << QStringLiteral("O_WRONLY"); break;
    case O_RDWR: parts << QStringLiteral("O_RDWR"); break;
    default: break;
  }
  struct F { uint32_t bit; const char* name; };
  static const F names[] = {{O_CREAT, "O_CREAT"},   {O_EXCL, "O_EXCL"},
                            {O_TRUNC, "O_TRUNC"},   {O_APPEND, "O_APPEND"},
                            {O_NONBLOCK, "O_NONBLOCK"}, {O_DIRECTORY, "O_DIRECTORY"},
                            {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"},
                            {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"}};
  for (const F& f : names)
    if (flags & f.bit) parts << QLatin1String(f.name);
  return parts.join(QLatin1Char('|'));
}

// A path as shown: one whose kernel walk was cut is relative (the directories above
// it are unknown) and is shown as "…/tail", never as if it were absolute.
QString pathText(schema::Event::Reader e, capnp::Data::Reader d) {
  QString t = displayText(d);
  if (e.getPathTruncated() && d.size() > 0 && d[0] != '/') t = QStringLiteral("…/") + t;
  return t;
}

QString eventSummary(schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::EXEC: {
      const auto x = e.getExec();
      QStringList argv;
      for (auto a : x.getArgv()) argv << displayText(a);
      return argv.isEmpty() ? displayText(x.getPath()) : argv.join(QLatin1Char(' '));
    }
    case W::FORK: return QStringLiteral("child pid %1").arg(e.getFork().getChildPid());
    case W::EXIT: {
      const auto x = e.getExit();
      return x.getSignal() ? QStringLiteral("killed by signal %1").arg(x.getSignal())
                           : QStringLiteral("exit code %1").arg(x.getExitCode());
    }
    case W::FILE_OPEN: return pathText(e, e.getFileOpen().getPath());
    case W::FILE_CLOSE: return pathText(e, e.getFileClose().getPath());
    case W::FILE_READ: return pathText(e, e.getFileRead().getPath());
    case W::FILE_WRITE: return pathText(e, e.getFileWrite().getPath());
    case W::FILE_RENAME:
      return pathText(e, e.getFileRename().getOldPath()) + QStringLiteral(" → ") +
             pathText(e, e.getFileRename().getNewPath());
    case W::FILE_UNLINK: return pathText(e, e.getFileUnlink().getPath());
    case W::FILE_MKDIR: return pathText(e, e.getFileMkdir().getPath());
    case W::FILE_RMDIR: return pathText(e, e.getFileRmdir().getPath());
    case W::FILE_TRUNCATE: return pathText(e, e.getFileTruncate().getPath());
    case W::FILE_CHMOD: return pathText(e, e.getFileChmod().getPath());
    case W::NET_CONNECT: {
      const auto c = e.getNetConnect();
      const QByteArray a = toBytes(c.getAddr());
      if (c.getFamily() == 2 && a.size() == 4)
        return QStringLiteral("%1.%2.%3.%4:%5")
            .arg(uint8_t(a[0])).arg(uint8_t(a[1])).arg(uint8_t(a[2])).arg(uint8_t(a[3]))
            .arg(c.getPort());
      if (c.getFamily() == 10 && a.size() == 16) {
        QStringList g;
        for (int i = 0; i < 16; i += 2)
          g << QString::number((uint8_t(a[i]) << 8) | uint8_t(a[i + 1]), 16);
        return QStringLiteral("[%1]:%2").arg(g.join(QLatin1Char(':'))).arg(c.getPort());
      }
      if (c.getFamily() == 1) return QStringLiteral("unix:") + decodeText(a);
      return QStringLiteral("family %1").arg(c.getFamily());
    }
    case W::TLS: {
      const auto t = e.getTls();
      QByteArray data = toBytes(t.getData()).left(120);
      const qsizetype nl = data.indexOf('\n');
      if (nl >= 0) data.truncate(nl);
      QString first = isPrintable(data) ? decodeText(data).trimmed() : QStringLiteral("(binary)");
      return QStringLiteral("conn %1: %2").arg(t.getConn()).arg(first);
    }
    case W::LOST: {
      const auto l = e.getLost();
      return QStringLiteral("%1 events lost (%2)")
          .arg(l.getCount()).arg(QString::fromUtf8(l.getProbe().cStr()));
    }
    case W::SYMLINK:
      return pathText(e, e.getSymlink().getPath()) + QStringLiteral(" → ") +
             displayText(e.getSymlink().getTarget());
    case W::CHDIR: return pathText(e, e.getChdir().getPath());
    case W::LINK:
      return pathText(e, e.getLink().getNewPath()) + QStringLiteral(" ⇒ ") +
             pathText(e, e.getLink().getOldPath());
  }
  return QString();
}

int64_t eventBytes(schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::FILE_CLOSE: {
      const auto c = e.getFileClose();
      return int64_t(c.getBytesRead() + c.getBytesWritten());
    }
    case W::FILE_READ: return std::max<int64_t>(0, e.getFileRead().getRet());
    case W::FILE_WRITE: return std::max<int64_t>(0, e.getFileWrite().getRet());
    case W::TLS: return int64_t(e.getTls().getData().size());
    default: return -1;
  }
}

QString eventResult(schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::FILE_OPEN: {
      const int64_t r = e.getFileOpen().getRet();
      return r >= 0 ? QStringLiteral("fd %1").arg(r) : errnoText(r);
    }
    case W::FILE_READ: return errnoText(e.getFileRead().getRet());
    case W::FILE_WRITE: return errnoText(e.getFileWrite().getRet());
    case W::FILE_RENAME: return errnoText(e.getFileRename().getRet());
    case W::FILE_UNLINK: return errnoText(e.getFileUnlink().getRet());
    case W::FILE_MKDIR: return errnoText(e.getFileMkdir().getRet());
    case W::FILE_RMDIR: return errnoText(e.getFileRmdir().getRet());
    case W::FILE_TRUNCATE: return errnoText(e.getFileTruncate().getRet());
    case W::FILE_CHMOD: return errnoText(e.getFileChmod().getRet());
    case W::NET_CONNECT: return errnoText(e.getNetConnect().getRet());
    case W::SYMLINK: return errnoText(e.getSymlink().getRet());
    case W::CHDIR: return errnoText(e.getChdir().getRet());
    case W::LINK: return errnoText(e.getLink().getRet());
    case W::EXIT: return QString::number(e.getExit().getExitCode());
    default: return QString();
  }
}

bool eventMatchesText(schema::Event::Reader e, const QByteArray& n) {
  using W = schema::Event::Which;
  if (dataMatches(e.getComm(), n)) return true;
  switch (e.which()) {
    case W::EXEC: {
      const auto x = e.getExec();
      if (dataMatches(x.getPath(), n) || dataMatches(x.getCwd(), n)) return true;
      for (auto a : x.getArgv())
        if (dataMatches(a, n)) return true;
      return false;
    }
    case W::FILE_OPEN: return dataMatches(e.getFileOpen().getPath(), n);
    case W::FILE_CLOSE: return dataMatches(e.getFileClose().getPath(), n);
    case W::FILE_READ: return dataMatches(e.getFileRead().getPath(), n);
    case W::FILE_WRITE: return dataMatches(e.getFileWrite().getPath(), n);
    case W::FILE_RENAME:
      return dataMatches(e.getFileRename().getOldPath(), n) ||
             dataMatches(e.getFileRename().getNewPath(), n);
    case W::FILE_UNLINK: return dataMatches(e.getFileUnlink().getPath(), n);
    case W::FILE_MKDIR: return dataMatches(e.getFileMkdir().getPath(), n);
    case W::FILE_RMDIR: return dataMatches(e.getFileRmdir().getPath(), n);
    case W::FILE_TRUNCATE: return dataMatches(e.getFileTruncate().getPath(), n);
    case W::FILE_CHMOD: return dataMatches(e.getFileChmod().getPath(), n);
    case W::TLS: return dataMatches(e.getTls().getData(), n);
    case W::NET_CONNECT: return dataMatches(e.getNetConnect().getAddr(), n);
    case W::SYMLINK:
      return dataMatches(e.getSymlink().getPath(), n) || dataMatches(e.getSymlink().getTarget(), n);
    case W::CHDIR: return dataMatches(e.getChdir().getPath(), n);
    case W::LINK:
      return dataMatches(e.getLink().getOldPath(), n) || dataMatches(e.getLink().getNewPath(), n);
    default: return false;
  }
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

QString eventDetailsHtml(schema::Event::Reader e, const QString& when, const QString& process) {
  using W = schema::Event::Which;
  const Kind kind = kindOf(e);
  const Activity act = activityOf(e);
  QString h;
  h += QStringLiteral("<h3 style='margin:0'><span style='color:%1'>■</span> %2</h3>")
           .arg(activityColor(act).name(), esc(QString::fromUtf8(kindName(kind).data(),
                                                               qsizetype(kindName(kind).size()))));
  h += QStringLiteral("<table>");
  h += row(QStringLiteral("time"), esc(when));
  h += row(QStringLiteral("process"), esc(process));
  h += row(QStringLiteral("thread"), QStringLiteral("%1 (%2)").arg(e.getTid()).arg(esc(displayText(e.getComm()))));
  h += row(QStringLiteral("seq"), QString::number(e.getSeq()));
  auto path = [&](const QString& k, capnp::Data::Reader d) { h += row(k, QStringLiteral("<b>%1</b>").arg(esc(pathText(e, d)))); };
  if (e.getPathTruncated())
    h += row(QStringLiteral("path truncated"),
             QStringLiteral("the kernel's walk up the directory tree was cut at its bound; "
                            "the directories above the part shown are unknown"));
  auto res = [&](int64_t r) { h += row(QStringLiteral("result"), esc(errnoText(r))); };
  QString extra;
  switch (e.which()) {
    case W::EXEC: {
      const auto x = e.getExec();
      path(QStringLiteral("path"), x.getPath());
      if (x.hasFilename() && x.getFilename() != x.getPath())
        path(QStringLiteral("execve'd file"), x.getFilename());
      h += row(QStringLiteral("cwd"), esc(pathText(e, x.getCwd())));
      h += row(QStringLiteral("uid/gid"), QStringLiteral("%1/%2").arg(x.getUid()).arg(x.getGid()));
      h += row(QStringLiteral("ppid"), QString::number(x.getPpid()));
      QString argv;
      int i = 0;
      for (auto a : x.getArgv())
        argv += QStringLiteral("<tr><td style='color:#666'>[%1]</td><td><code>%2</code></td></tr>")
                    .arg(i++).arg(esc(displayText(a)));
      extra = QStringLiteral("<p><b>argv</b>%1</p><table>%2</table>")
                  .arg(x.getArgvTruncated() ? QStringLiteral(" (truncated)") : QString(), argv);
      break;
    }
    case W::FORK: h += row(QStringLiteral("child"), QString::number(e.getFork().getChildPid())); break;
    case W::EXIT:
      h += row(QStringLiteral("exit code"), QString::number(e.getExit().getExitCode()));
      h += row(QStringLiteral("signal"), QString::number(e.getExit().getSignal()));
      break;
    case W::FILE_OPEN: {
      const auto x = e.getFileOpen();
      path(QStringLiteral("path"), x.getPath());
      h += row(QStringLiteral("flags"), esc(openFlagsText(x.getFlags())));
      h += row(QStringLiteral("mode"), QStringLiteral("0%1").arg(x.getMode(), 0, 8));
      h += row(QStringLiteral("result"), esc(eventResult(e)));
      break;
    }
    case W::FILE_CLOSE: {
      const auto x = e.getFileClose();
      path(QStringLiteral("path"), x.getPath());
      h += row(QStringLiteral("fd"), QString::number(x.getFd()));
      h += row(QStringLiteral("read"), QStringLiteral("%1 B in %2 calls").arg(x.getBytesRead()).arg(x.getReads()));
      h += row(QStringLiteral("written"), QStringLiteral("%1 B in %2 calls").arg(x.getBytesWritten()).arg(x.getWrites()));
      static const char* reasons[] = {"close()", "process exit", "exec (O_CLOEXEC)", "replaced by dup2", "unknown"};
      const int r = int(x.getReason());
      h += row(QStringLiteral("closed by"), QLatin1String(r >= 0 && r < 5 ? reasons[r] : "?"));
      break;
    }
    case W::FILE_READ:
      path(QStringLiteral("path"), e.getFileRead().getPath());
      h += row(QStringLiteral("fd"), QString::number(e.getFileRead().getFd()));
      res(e.getFileRead().getRet());
      break;
    case W::FILE_WRITE:
      path(QStringLiteral("path"), e.getFileWrite().getPath());
      h += row(QStringLiteral("fd"), QString::number(e.getFileWrite().getFd()));
      res(e.getFileWrite().getRet());
      break;
    case W::FILE_RENAME:
      path(QStringLiteral("from"), e.getFileRename().getOldPath());
      path(QStringLiteral("to"), e.getFileRename().getNewPath());
      h += row(QStringLiteral("flags"), QString::number(e.getFileRename().getFlags()));
      res(e.getFileRename().getRet());
      break;
    case W::FILE_UNLINK: path(QStringLiteral("path"), e.getFileUnlink().getPath()); res(e.getFileUnlink().getRet()); break;
    case W::FILE_MKDIR:
      path(QStringLiteral("path"), e.getFileMkdir().getPath());
      h += row(QStringLiteral("mode"), QStringLiteral("0%1").arg(e.getFileMkdir().getMode(), 0, 8));
      res(e.getFileMkdir().getRet());
      break;
    case W::FILE_RMDIR: path(QStringLiteral("path"), e.getFileRmdir().getPath()); res(e.getFileRmdir().getRet()); break;
    case W::FILE_TRUNCATE:
      path(QStringLiteral("path"), e.getFileTruncate().getPath());
      h += row(QStringLiteral("length"), QString::number(e.getFileTruncate().getLength()));
      res(e.getFileTruncate().getRet());
      break;
    case W::FILE_CHMOD:
      path(QStringLiteral("path"), e.getFileChmod().getPath());
      h += row(QStringLiteral("mode"), QStringLiteral("0%1").arg(e.getFileChmod().getMode(), 0, 8));
      res(e.getFileChmod().getRet());
      break;
    case W::NET_CONNECT:
      h += row(QStringLiteral("peer"), esc(eventSummary(e)));
      h += row(QStringLiteral("fd"), QString::number(e.getNetConnect().getFd()));
      res(e.getNetConnect().getRet());
      break;
    case W::TLS: {
      const auto t = e.getTls();
      const bool out = t.getDirection() == schema::TlsDirection::WRITE;
      h += row(QStringLiteral("direction"), out ? QStringLiteral("sent (SSL write)") : QStringLiteral("received (SSL read)"));
      h += row(QStringLiteral("connection"),
               QStringLiteral("%1 — <a href='aa:conn/%1'>show whole stream</a>").arg(t.getConn()));
      h += row(QStringLiteral("function"), esc(QString::fromUtf8(t.getFunc().cStr())));
      h += row(QStringLiteral("library"), esc(displayText(t.getLib())));
      h += row(QStringLiteral("fd"), QString::number(t.getFd()));
      h += row(QStringLiteral("offset"), QString::number(t.getOffset()));
      h += row(QStringLiteral("bytes"), QStringLiteral("%1 captured of %2%3")
                                            .arg(t.getData().size()).arg(t.getLength())
                                            .arg(t.getTruncated() ? QStringLiteral(" (truncated)") : QString()));
      const Payload p = formatPayload(toBytes(t.getData()));
      if (p.form == Payload::Form::Http) {
        extra += QStringLiteral("<p><b>HTTP</b></p><pre style='background:#eef3fb'>%1\n%2</pre>")
                     .arg(esc(p.startLine), esc(p.headers));
      }
      if (!p.body.isEmpty()) {
        const char* label = p.bodyIsJson ? "JSON body" : p.form == Payload::Form::Binary ? "binary (hex)" : "body";
        extra += QStringLiteral("<p><b>%1</b></p><pre style='background:#f6f6f6'>%2</pre>")
                     .arg(QLatin1String(label), esc(p.body));
      }
      break;
    }
    case W::LOST:
      h += row(QStringLiteral("lost"), QString::number(e.getLost().getCount()));
      h += row(QStringLiteral("probe"), esc(QString::fromUtf8(e.getLost().getProbe().cStr())));
      break;
    case W::SYMLINK:
      path(QStringLiteral("link"), e.getSymlink().getPath());
      path(QStringLiteral("target"), e.getSymlink().getTarget());
      res(e.getSymlink().getRet());
      break;
    case W::CHDIR: path(QStringLiteral("path"), e.getChdir().getPath()); res(e.getChdir().getRet()); break;
    case W::LINK:
      path(QStringLiteral("link"), e.getLink().getNewPath());
      path(QStringLiteral("to"), e.getLink().getOldPath());
      h += row(QStringLiteral("flags"), QString::number(e.getLink().getFlags()));
      res(e.getLink().getRet());
      break;
  }
  h += QStringLiteral("</table>") + extra;
  return h;
}

}  // namespace aa::view
