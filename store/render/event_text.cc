#include "store/render/event_text.h"

#include <cstdio>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/render/event_summary.h"
#include "store/render/strings.h"
#include "store/render/utf8.h"

namespace aa {
namespace {

void appendData(std::string& out, capnp::Data::Reader d, size_t maxBytes = SIZE_MAX) {
  appendPrintable(out, asView(d), maxBytes);
}

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

std::string eventDetails(schema::Event::Reader e) {
  const EventInfo info = describe(e);
  std::string out;
  appendPrintable(out, eventSummary(info, e.getPathTruncated()));
  // Then every field the summary did not show, as key=value.
  for (const Field& f : info.fields()) {
    if (f.headline || f.alias) continue;
    using T = Field::Type;
    switch (f.type) {
      case T::kUnsigned:
        switch (f.meaning) {
          case NumberMeaning::kOpenFlags:
          case NumberMeaning::kFlags: appendf(out, " %.*s=0x%llx", int(f.name.size()), f.name.data(), (unsigned long long)f.u); break;
          case NumberMeaning::kMode: appendf(out, " %.*s=0%llo", int(f.name.size()), f.name.data(), (unsigned long long)f.u); break;
          default: appendf(out, " %.*s=%llu", int(f.name.size()), f.name.data(), (unsigned long long)f.u); break;
        }
        break;
      case T::kSigned:
        if (f.meaning == NumberMeaning::kResult) {
          out += " ret=" + resultText(f.i);
        } else {
          appendf(out, " %.*s=%lld", int(f.name.size()), f.name.data(), (long long)f.i);
        }
        break;
      case T::kBool:
        if (f.b) appendf(out, " %.*s", int(f.name.size()), f.name.data());
        break;
      case T::kBytes:
      case T::kText:
        out += ' ';
        out += f.name;
        out += '=';
        appendPrintable(out, f.bytes, 256);
        break;
      case T::kBytesList: case T::kAddr: case T::kPayload: break;   // always headline
    }
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
