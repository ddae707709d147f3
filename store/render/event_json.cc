#include "store/render/event_json.h"

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/render/json_string.h"
#include "store/render/utf8.h"

namespace aa {
namespace {

void key(std::string& out, std::string_view k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void fieldU(std::string& out, std::string_view k, uint64_t v) {
  key(out, k);
  appendU64(out, v);
}

void fieldB(std::string& out, std::string_view k, bool v) {
  key(out, k);
  out += v ? "true" : "false";
}

void fieldText(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  appendJsonString(out, v);
}

void fieldB64(std::string& out, std::string_view k, std::string_view bytes) {
  out += ",\"";
  out += k;
  out += "_b64\":\"";
  out += base64Encode(bytes);
  out += '"';
}

// A byte string: NAME as a string, plus NAME_b64 with the exact bytes when not UTF-8.
void fieldBytes(std::string& out, std::string_view k, std::string_view v) {
  fieldText(out, k, v);
  if (!isValidUtf8(v)) fieldB64(out, k, v);
}

void fieldBytesList(std::string& out, std::string_view k, capnp::List<capnp::Data>::Reader list) {
  key(out, k);
  out += '[';
  bool allUtf8 = true;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    auto a = asView(list[i]);
    appendJsonString(out, a);
    allUtf8 = allUtf8 && isValidUtf8(a);
  }
  out += ']';
  if (allUtf8) return;
  out += ",\"";
  out += k;
  out += "_b64\":[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += base64Encode(asView(list[i]));
    out += '"';
  }
  out += ']';
}

// net.connect `addr`: the formatted address; a unix path is a byte string; the bytes of
// a family without a text form go to addr_b64.
void fieldAddr(std::string& out, const Field& f) {
  const auto family = static_cast<uint16_t>(f.u);
  if (family == kRecordedAfUnix) {
    fieldBytes(out, f.name, formatAddr(family, f.bytes));
    return;
  }
  fieldText(out, f.name, formatAddr(family, f.bytes));
  if (family != kRecordedAfInet && family != kRecordedAfInet6 && !f.bytes.empty())
    fieldB64(out, f.name, f.bytes);
}

}  // namespace

void appendFieldJson(std::string& out, const Field& f) {
  using T = Field::Type;
  switch (f.type) {
    case T::kUnsigned: fieldU(out, f.name, f.u); return;
    case T::kSigned: key(out, f.name); appendI64(out, f.i); return;
    case T::kBool: fieldB(out, f.name, f.b); return;
    case T::kBytes: fieldBytes(out, f.name, f.bytes); return;
    case T::kText: fieldText(out, f.name, f.bytes); return;
    case T::kBytesList: fieldBytesList(out, f.name, f.list); return;
    case T::kAddr: fieldAddr(out, f); return;
    case T::kPayload:
      // Exactly one of data / data_b64.
      if (isValidUtf8(f.bytes)) {
        fieldText(out, f.name, f.bytes);
      } else {
        key(out, std::string(f.name) + "_b64");
        out += '"';
        out += base64Encode(f.bytes);
        out += '"';
      }
      return;
  }
}

void appendKindFieldsJson(std::string& out, const EventInfo& info) {
  for (const Field& f : info.fields()) appendFieldJson(out, f);
}

void appendEventJson(std::string& out, schema::Event::Reader e, uint64_t tRelNs) {
  out += "{\"seq\":";
  appendU64(out, e.getSeq());
  fieldU(out, "t_ns", tRelNs);
  fieldU(out, "pid", e.getPid());
  fieldU(out, "tid", e.getTid());
  fieldBytes(out, "comm", asView(e.getComm()));
  const EventInfo info = describe(e);
  fieldText(out, "kind", kindName(info.kind));
  for (const Field& f : info.fields()) appendFieldJson(out, f);
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
