#include "store/cli/event_text.h"

#include <cstdio>

#include "store/cli/event_json.h"
#include "store/kind.h"

namespace aa {
namespace {

void appendf(std::string& out, const char* fmt, auto... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min<size_t>(n, sizeof buf - 1));
}

void appendData(std::string& out, capnp::Data::Reader d, size_t maxBytes = SIZE_MAX) {
  appendPrintable(out, asView(d), maxBytes);
}

void appendRet(std::string& out, int64_t ret) { appendf(out, " ret=%lld", (long long)ret); }

}  // namespace

void appendPrintable(std::string& out, std::string_view s, size_t maxBytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t end = std::min(s.size(), maxBytes);
  for (size_t i = 0; i < end;) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      // Keep whole valid UTF-8 sequences; isValidUtf8 on the candidate decides.
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      if (n && i + n <= s.size() && isValidUtf8(s.substr(i, n))) {
        out.append(s.data() + i, n);
        i += n;
        continue;
      }
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    ++i;
  }
  if (end < s.size()) out += "...";
}

std::string formatDuration(uint64_t ns) {
  std::string out;
  if (ns >= 3600'000'000'000ull) {
    appendf(out, "%lluh%02llum%02llus", (unsigned long long)(ns / 3600'000'000'000ull),
            (unsigned long long)(ns / 60'000'000'000ull % 60),
            (unsigned long long)(ns / 1'000'000'000ull % 60));
  } else if (ns >= 60'000'000'000ull) {
    appendf(out, "%llum%06.3fs", (unsigned long long)(ns / 60'000'000'000ull),
            (ns % 60'000'000'000ull) / 1e9);
  } else if (ns >= 1'000'000'000ull) {
    appendf(out, "%.3fs", ns / 1e9);
  } else if (ns >= 1'000'000ull) {
    appendf(out, "%.3fms", ns / 1e6);
  } else if (ns >= 1'000ull) {
    appendf(out, "%.3fus", ns / 1e3);
  } else {
    appendf(out, "%lluns", (unsigned long long)ns);
  }
  return out;
}

std::string formatBytes(uint64_t bytes) {
  std::string out;
  if (bytes < 1024) {
    appendf(out, "%llu B", (unsigned long long)bytes);
    return out;
  }
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = bytes / 1024.0;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  appendf(out, "%.1f %s", v, kUnits[u]);
  return out;
}

std::string eventDetails(schema::Event::Reader e) {
  using W = schema::Event::Which;
  std::string out;
  switch (e.which()) {
    case W::EXEC: {
      auto x = e.getExec();
      appendData(out, x.getPath());
      if (x.hasFilename() && x.getFilename().size() > 0 && x.getFilename() != x.getPath()) {
        out += " (execve'd ";
        appendData(out, x.getFilename());
        out += ')';
      }
      auto argv = x.getArgv();
      for (size_t i = 1; i < argv.size(); ++i) {   // argv[0] mostly repeats the path
        out += ' ';
        appendData(out, argv[i], 256);
      }
      if (x.getArgvTruncated()) out += " ...";
      out += "  cwd=";
      appendData(out, x.getCwd());
      appendf(out, " uid=%u ppid=%u", x.getUid(), x.getPpid());
      break;
    }
    case W::FORK:
      appendf(out, "child=%u", e.getFork().getChildPid());
      break;
    case W::EXIT:
      if (e.getExit().getSignal() != 0)
        appendf(out, "signal=%d", e.getExit().getSignal());
      else
        appendf(out, "code=%d", e.getExit().getExitCode());
      break;
    case W::FILE_OPEN: {
      auto x = e.getFileOpen();
      appendData(out, x.getPath());
      appendf(out, " flags=0x%x", x.getFlags());
      if (x.getMode()) appendf(out, " mode=0%o", x.getMode());
      appendRet(out, x.getRet());
      break;
    }
    case W::FILE_CLOSE: {
      auto x = e.getFileClose();
      appendData(out, x.getPath());
      appendf(out, " fd=%d read=%llu/%u written=%llu/%u", x.getFd(),
              (unsigned long long)x.getBytesRead(), x.getReads(),
              (unsigned long long)x.getBytesWritten(), x.getWrites());
      break;
    }
    case W::FILE_READ:
      appendData(out, e.getFileRead().getPath());
      appendf(out, " fd=%d", e.getFileRead().getFd());
      appendRet(out, e.getFileRead().getRet());
      break;
    case W::FILE_WRITE:
      appendData(out, e.getFileWrite().getPath());
      appendf(out, " fd=%d", e.getFileWrite().getFd());
      appendRet(out, e.getFileWrite().getRet());
      break;
    case W::FILE_RENAME:
      appendData(out, e.getFileRename().getOldPath());
      out += " -> ";
      appendData(out, e.getFileRename().getNewPath());
      appendRet(out, e.getFileRename().getRet());
      break;
    case W::FILE_UNLINK:
      appendData(out, e.getFileUnlink().getPath());
      appendRet(out, e.getFileUnlink().getRet());
      break;
    case W::FILE_MKDIR:
      appendData(out, e.getFileMkdir().getPath());
      appendf(out, " mode=0%o", e.getFileMkdir().getMode());
      appendRet(out, e.getFileMkdir().getRet());
      break;
    case W::FILE_RMDIR:
      appendData(out, e.getFileRmdir().getPath());
      appendRet(out, e.getFileRmdir().getRet());
      break;
    case W::FILE_TRUNCATE:
      appendData(out, e.getFileTruncate().getPath());
      appendf(out, " length=%lld", (long long)e.getFileTruncate().getLength());
      appendRet(out, e.getFileTruncate().getRet());
      break;
    case W::FILE_CHMOD:
      appendData(out, e.getFileChmod().getPath());
      appendf(out, " mode=0%o", e.getFileChmod().getMode());
      appendRet(out, e.getFileChmod().getRet());
      break;
    case W::NET_CONNECT: {
      auto x = e.getNetConnect();
      auto addr = formatAddr(x.getFamily(), asView(x.getAddr()));
      if (x.getFamily() == kRecordedAfInet6)
        out += "[" + addr + "]";
      else
        appendPrintable(out, addr);
      if (x.getFamily() != kRecordedAfUnix) appendf(out, ":%u", x.getPort());
      appendf(out, " fd=%d", x.getFd());
      appendRet(out, x.getRet());
      break;
    }
    case W::TLS: {
      auto x = e.getTls();
      appendf(out, "conn=%llu off=%llu len=%llu%s ", (unsigned long long)x.getConn(),
              (unsigned long long)x.getOffset(), (unsigned long long)x.getLength(),
              x.getTruncated() ? " truncated" : "");
      out += '"';
      appendData(out, x.getData(), 120);
      out += '"';
      break;
    }
    case W::LOST:
      appendf(out, "%llu events lost by ", (unsigned long long)e.getLost().getCount());
      appendPrintable(out, std::string_view(e.getLost().getProbe().cStr()));
      break;
    case W::SYMLINK:
      appendData(out, e.getSymlink().getPath());
      out += " -> ";
      appendData(out, e.getSymlink().getTarget());
      appendRet(out, e.getSymlink().getRet());
      break;
    case W::CHDIR:
      appendData(out, e.getChdir().getPath());
      appendRet(out, e.getChdir().getRet());
      break;
    case W::LINK:
      appendData(out, e.getLink().getNewPath());
      out += " => ";
      appendData(out, e.getLink().getOldPath());
      appendRet(out, e.getLink().getRet());
      break;
  }
  // A relative path here is a tail whose top is unknown: say so next to it.
  if (e.getPathTruncated()) out += "  [path truncated: directories above it unknown]";
  return out;
}

std::string eventTableHeader() {
  std::string out;
  appendf(out, "%10s %15s %7s %7s %-16s %-13s %s\n", "SEQ", "TIME(s)", "PID", "TID", "COMM",
          "KIND", "DETAILS");
  return out;
}

void appendEventLine(std::string& out, schema::Event::Reader e, uint64_t tRelNs) {
  std::string comm;
  appendData(comm, e.getComm());
  appendf(out, "%10llu %5llu.%09llu %7u %7u %-16s %-13s ", (unsigned long long)e.getSeq(),
          (unsigned long long)(tRelNs / 1'000'000'000ull),
          (unsigned long long)(tRelNs % 1'000'000'000ull), e.getPid(), e.getTid(), comm.c_str(),
          std::string(kindName(kindOf(e))).c_str());
  out += eventDetails(e);
  out += '\n';
}

}  // namespace aa
