#include "store/cli/event_json.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdio>

#include "store/kind.h"

namespace aa {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not a valid one
// (overlong forms, surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
size_t utf8SeqLen(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;   // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;   // above U+10FFFF
    return 4;
  }
  return 0;
}

void appendU64(std::string& out, uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  out.append(buf, n);
}

void appendI64(std::string& out, int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, n);
}

void key(std::string& out, std::string_view k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void fieldU(std::string& out, std::string_view k, uint64_t v) {
  key(out, k);
  appendU64(out, v);
}

void fieldI(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  appendI64(out, v);
}

void fieldB(std::string& out, std::string_view k, bool v) {
  key(out, k);
  out += v ? "true" : "false";
}

void fieldText(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  appendJsonString(out, v);
}

// A byte string: NAME as a string, plus NAME_b64 with the exact bytes when not UTF-8.
void fieldBytes(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  appendJsonString(out, v);
  if (!isValidUtf8(v)) {
    out += ",\"";
    out += k;
    out += "_b64\":\"";
    out += base64Encode(v);
    out += '"';
  }
}

void fieldBytes(std::string& out, std::string_view k, capnp::Data::Reader v) {
  fieldBytes(out, k, asView(v));
}

std::string_view closeReasonName(schema::CloseReason r) {
  switch (r) {
    case schema::CloseReason::EXPLICIT: return "explicit";
    case schema::CloseReason::EXIT: return "exit";
    case schema::CloseReason::EXEC: return "exec";
    case schema::CloseReason::REPLACED: return "replaced";
    case schema::CloseReason::UNKNOWN: return "unknown";
  }
  return "unknown";
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8SeqLen(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto u = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8 | u(i + 2);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = u(i) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go: payloads can be large.
    size_t j = i;
    while (j < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++j;
    }
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8SeqLen(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    ++i;
  }
  out += '"';
}


void appendKindFieldsJson(std::string& out, schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::EXEC: {
      auto x = e.getExec();
      fieldBytes(out, "path", x.getPath());
      auto argv = x.getArgv();
      key(out, "argv");
      out += '[';
      bool allUtf8 = true;
      for (size_t i = 0; i < argv.size(); ++i) {
        if (i) out += ',';
        auto a = asView(argv[i]);
        appendJsonString(out, a);
        allUtf8 = allUtf8 && isValidUtf8(a);
      }
      out += ']';
      if (!allUtf8) {
        key(out, "argv_b64");
        out += '[';
        for (size_t i = 0; i < argv.size(); ++i) {
          if (i) out += ',';
          out += '"';
          out += base64Encode(asView(argv[i]));
          out += '"';
        }
        out += ']';
      }
      fieldBytes(out, "cwd", x.getCwd());
      fieldB(out, "argv_truncated", x.getArgvTruncated());
      fieldU(out, "uid", x.getUid());
      fieldU(out, "gid", x.getGid());
      fieldU(out, "ppid", x.getPpid());
      // Added after the first release: present when recorded, so older sessions (and
      // their golden files) read as before.
      if (x.hasFilename() && x.getFilename().size() > 0) fieldBytes(out, "filename", x.getFilename());
      break;
    }
    case W::FORK:
      fieldU(out, "child_pid", e.getFork().getChildPid());
      break;
    case W::EXIT:
      fieldI(out, "exit_code", e.getExit().getExitCode());
      fieldI(out, "signal", e.getExit().getSignal());
      break;
    case W::FILE_OPEN: {
      auto x = e.getFileOpen();
      fieldBytes(out, "path", x.getPath());
      fieldU(out, "flags", x.getFlags());
      fieldU(out, "mode", x.getMode());
      fieldI(out, "ret", x.getRet());
      fieldI(out, "fd", x.getRet() >= 0 ? x.getRet() : -1);
      break;
    }
    case W::FILE_CLOSE: {
      auto x = e.getFileClose();
      fieldBytes(out, "path", x.getPath());
      fieldI(out, "fd", x.getFd());
      fieldU(out, "bytes_read", x.getBytesRead());
      fieldU(out, "bytes_written", x.getBytesWritten());
      fieldU(out, "reads", x.getReads());
      fieldU(out, "writes", x.getWrites());
      fieldText(out, "reason", closeReasonName(x.getReason()));
      break;
    }
    case W::FILE_READ: {
      auto x = e.getFileRead();
      fieldBytes(out, "path", x.getPath());
      fieldI(out, "fd", x.getFd());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::FILE_WRITE: {
      auto x = e.getFileWrite();
      fieldBytes(out, "path", x.getPath());
      fieldI(out, "fd", x.getFd());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::FILE_RENAME: {
      auto x = e.getFileRename();
      fieldBytes(out, "path", x.getNewPath());
      fieldBytes(out, "old_path", x.getOldPath());
      fieldBytes(out, "new_path", x.getNewPath());
      fieldU(out, "flags", x.getFlags());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::FILE_UNLINK:
      fieldBytes(out, "path", e.getFileUnlink().getPath());
      fieldI(out, "ret", e.getFileUnlink().getRet());
      break;
    case W::FILE_MKDIR:
      fieldBytes(out, "path", e.getFileMkdir().getPath());
      fieldU(out, "mode", e.getFileMkdir().getMode());
      fieldI(out, "ret", e.getFileMkdir().getRet());
      break;
    case W::FILE_RMDIR:
      fieldBytes(out, "path", e.getFileRmdir().getPath());
      fieldI(out, "ret", e.getFileRmdir().getRet());
      break;
    case W::FILE_TRUNCATE: {
      auto x = e.getFileTruncate();
      fieldBytes(out, "path", x.getPath());
      fieldI(out, "fd", x.getFd());
      fieldI(out, "length", x.getLength());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::FILE_CHMOD: {
      auto x = e.getFileChmod();
      fieldBytes(out, "path", x.getPath());
      fieldI(out, "fd", x.getFd());
      fieldU(out, "mode", x.getMode());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::NET_CONNECT: {
      auto x = e.getNetConnect();
      auto addr = asView(x.getAddr());
      if (x.getFamily() == kRecordedAfUnix) {
        fieldBytes(out, "addr", formatAddr(x.getFamily(), addr));
      } else {
        fieldText(out, "addr", formatAddr(x.getFamily(), addr));
        if (x.getFamily() != kRecordedAfInet && x.getFamily() != kRecordedAfInet6 &&
            !addr.empty()) {
          key(out, "addr_b64");
          out += '"' + base64Encode(addr) + '"';
        }
      }
      fieldU(out, "port", x.getPort());
      fieldI(out, "fd", x.getFd());
      fieldU(out, "family", x.getFamily());
      fieldI(out, "ret", x.getRet());
      break;
    }
    case W::TLS: {
      auto x = e.getTls();
      fieldU(out, "conn", x.getConn());
      fieldU(out, "offset", x.getOffset());
      fieldU(out, "len", x.getLength());
      fieldB(out, "truncated", x.getTruncated());
      fieldBytes(out, "lib", x.getLib());
      fieldI(out, "fd", x.getFd());
      fieldText(out, "func", std::string_view(x.getFunc().cStr(), x.getFunc().size()));
      auto data = asView(x.getData());
      if (isValidUtf8(data)) {
        fieldText(out, "data", data);
      } else {
        key(out, "data_b64");
        out += '"';
        out += base64Encode(data);
        out += '"';
      }
      break;
    }
    case W::LOST:
      fieldU(out, "count", e.getLost().getCount());
      fieldText(out, "probe",
                std::string_view(e.getLost().getProbe().cStr(), e.getLost().getProbe().size()));
      break;
    case W::SYMLINK:
      fieldBytes(out, "path", e.getSymlink().getPath());
      fieldBytes(out, "target", e.getSymlink().getTarget());
      fieldI(out, "ret", e.getSymlink().getRet());
      break;
    case W::CHDIR:
      fieldBytes(out, "path", e.getChdir().getPath());
      fieldI(out, "ret", e.getChdir().getRet());
      break;
    case W::LINK: {
      auto x = e.getLink();
      fieldBytes(out, "path", x.getNewPath());
      fieldBytes(out, "old_path", x.getOldPath());
      fieldBytes(out, "new_path", x.getNewPath());
      fieldU(out, "flags", x.getFlags());
      fieldI(out, "ret", x.getRet());
      break;
    }
  }
}

void appendEventJson(std::string& out, schema::Event::Reader e, uint64_t tRelNs) {
  out += "{\"seq\":";
  appendU64(out, e.getSeq());
  fieldU(out, "t_ns", tRelNs);
  fieldU(out, "pid", e.getPid());
  fieldU(out, "tid", e.getTid());
  fieldBytes(out, "comm", e.getComm());
  fieldText(out, "kind", kindName(kindOf(e)));
  appendKindFieldsJson(out, e);
  // Only when set: a path of this event is a relative tail (the kernel walk was cut).
  if (e.getPathTruncated()) fieldB(out, "path_truncated", true);
  out += '}';
}

std::string eventJson(schema::Event::Reader e, uint64_t tRelNs) {
  std::string out;
  appendEventJson(out, e, tRelNs);
  return out;
}

}  // namespace aa
