#include "recorder/eh_frame.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace aa {
namespace {

// DWARF pointer encodings (DW_EH_PE_*): low nibble the format, high nibble the base.
constexpr uint8_t kOmit = 0xff;
constexpr uint8_t kPcRel = 0x10;
constexpr uint8_t kDataRel = 0x30;

class Reader {
 public:
  Reader(std::span<const uint8_t> b, size_t at, size_t end) : b_(b), at_(at), end_(end) {}
  bool ok() const { return ok_; }
  size_t at() const { return at_; }
  void seek(size_t at) {
    if (at > end_) ok_ = false;
    at_ = at;
  }
  template <typename T>
  T fixed() {
    T v{};
    if (!ok_ || end_ - at_ < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      const uint8_t byte = fixed<uint8_t>();
      if (!ok_) return 0;
      v |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t sleb() {
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t byte = 0;
    do {
      byte = fixed<uint8_t>();
      if (!ok_ || shift >= 64) {
        ok_ = false;
        return 0;
      }
      v |= int64_t(byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (shift < 64 && (byte & 0x40)) v |= -(int64_t(1) << shift);
    return v;
  }
  std::string_view cstr() {
    const size_t start = at_;
    while (ok_ && at_ < end_ && b_[at_] != 0) ++at_;
    if (at_ >= end_) {
      ok_ = false;
      return {};
    }
    ++at_;
    return {reinterpret_cast<const char*>(b_.data() + start), at_ - start - 1};
  }
  // A pointer in encoding `enc`; `fieldAddr` is the address of the field (pcrel base).
  uint64_t pointer(uint8_t enc, uint64_t fieldAddr, uint64_t dataRel, bool applyBase = true) {
    uint64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00: v = fixed<uint64_t>(); break;
      case 0x01: v = uleb(); break;
      case 0x02: v = fixed<uint16_t>(); break;
      case 0x03: v = fixed<uint32_t>(); break;
      case 0x04: v = fixed<uint64_t>(); break;
      case 0x09: v = uint64_t(sleb()); break;
      case 0x0a: v = uint64_t(int64_t(fixed<int16_t>())); break;
      case 0x0b: v = uint64_t(int64_t(fixed<int32_t>())); break;
      case 0x0c: v = uint64_t(fixed<int64_t>()); break;
      default: ok_ = false; return 0;
    }
    if (!applyBase) return v;
    switch (enc & 0x70) {
      case 0: break;
      case kPcRel: v += fieldAddr; break;
      case kDataRel: v += dataRel; break;
      default: ok_ = false; return 0;  // textrel/funcrel/aligned: not used on x86-64/arm64
    }
    return v;
  }

 private:
  std::span<const uint8_t> b_;
  size_t at_;
  size_t end_;
  bool ok_ = true;
};

struct Cie {
  uint8_t fdeEncoding = 0;  // absptr unless 'R' says otherwise
};

}  // namespace

std::optional<FunctionRange> FunctionTable::containing(uint64_t vaddr) const {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), vaddr,
                             [](uint64_t a, const FunctionRange& r) { return a < r.start; });
  if (it == ranges.begin()) return std::nullopt;
  --it;
  if (vaddr < it->end) return *it;
  return std::nullopt;
}

bool FunctionTable::isStart(uint64_t vaddr) const {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), vaddr,
                             [](const FunctionRange& r, uint64_t a) { return r.start < a; });
  return it != ranges.end() && it->start == vaddr;
}

FunctionTable parseEhFrame(std::span<const uint8_t> bytes, uint64_t sectionAddr,
                           uint64_t dataRelBase) {
  FunctionTable out;
  std::unordered_map<size_t, Cie> cies;  // by record offset
  size_t at = 0;
  while (at + 4 <= bytes.size()) {
    Reader r(bytes, at, bytes.size());
    uint64_t length = r.fixed<uint32_t>();
    if (length == 0) break;  // terminator
    if (length == 0xffffffff) length = r.fixed<uint64_t>();
    const size_t body = r.at();
    if (!r.ok() || length > bytes.size() - body) {
      out.complete = false;
      break;
    }
    const size_t end = body + length;
    Reader rec(bytes, body, end);
    const uint32_t id = rec.fixed<uint32_t>();
    if (id == 0) {
      Cie cie;
      const uint8_t version = rec.fixed<uint8_t>();
      const std::string_view aug = rec.cstr();
      if (aug.find("eh") != std::string_view::npos) rec.fixed<uint64_t>();
      rec.uleb();  // code alignment
      rec.sleb();  // data alignment
      if (version == 1) {
        rec.fixed<uint8_t>();
      } else {
        rec.uleb();
      }
      if (!aug.empty() && aug[0] == 'z') {
        const uint64_t augLen = rec.uleb();
        const size_t augEnd = rec.at() + augLen;
        for (char c : aug.substr(1)) {
          if (c == 'R') {
            cie.fdeEncoding = rec.fixed<uint8_t>();
          } else if (c == 'P') {
            const uint8_t enc = rec.fixed<uint8_t>();
            rec.pointer(enc & 0x7f, sectionAddr + rec.at(), dataRelBase);
          } else if (c == 'L') {
            rec.fixed<uint8_t>();
          } else if (c != 'S' && c != 'B' && c != 'G') {
            break;  // unknown letter: the rest is skipped through the length
          }
        }
        rec.seek(augEnd);
      }
      if (rec.ok()) cies[at] = cie;
    } else {
      // the CIE pointer counts back from this field
      const size_t idField = body;
      if (id <= idField) {
        auto c = cies.find(idField - id);
        if (c != cies.end() && c->second.fdeEncoding != kOmit) {
          const uint8_t enc = c->second.fdeEncoding;
          const uint64_t start = rec.pointer(enc, sectionAddr + rec.at(), dataRelBase);
          const uint64_t range = rec.pointer(enc & 0x0f, 0, 0, false);
          if (rec.ok() && range > 0 && start + range > start) out.ranges.push_back({start, start + range});
        }
      }
    }
    at = end;
  }
  std::sort(out.ranges.begin(), out.ranges.end(),
            [](const FunctionRange& a, const FunctionRange& b) { return a.start < b.start; });
  return out;
}

FunctionTable functionTable(const ElfImage& image) {
  const ElfImage::Section* eh = image.section(".eh_frame");
  if (!eh) return {};
  const ElfImage::Section* hdr = image.section(".eh_frame_hdr");
  return parseEhFrame(image.sectionBytes(*eh), eh->addr, hdr ? hdr->addr : 0);
}

}  // namespace aa
