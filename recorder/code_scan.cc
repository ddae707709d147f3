#include "recorder/code_scan.h"

#include <elf.h>

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace aa {
namespace {

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The file bytes at vaddr, up to `len` (fewer at the end of a segment).
std::span<const uint8_t> at(const ElfImage& image, uint64_t vaddr, size_t len) {
  for (const auto& g : image.segments()) {
    if (vaddr < g.vaddr || vaddr - g.vaddr >= g.fileSize) continue;
    const uint64_t rel = vaddr - g.vaddr;
    return image.bytes().subspan(g.offset + rel, std::min<uint64_t>(len, g.fileSize - rel));
  }
  return {};
}

// Register numbers as in the ModRM encoding: 0 eax, 1 ecx, 2 edx, 6 esi, 7 edi, 8 r8d;
// the SysV argument registers in order.
constexpr int kEcx = 1, kEdx = 2, kEdi = 7;
constexpr std::array<int, 6> kArgRegs = {7, 6, 2, 1, 8, 9};

struct Regs {
  std::array<std::optional<uint32_t>, 16> v;
};

// Decodes one instruction of the forms that set up an error call, at b[0..]. Returns
// its length (0: not one of them). Sets *reg/*imm for a constant load, *end for the
// call/jmp that ends the sequence.
size_t decodeOne(std::span<const uint8_t> b, int* reg, std::optional<uint32_t>* imm, bool* end) {
  *reg = -1;
  *end = false;
  imm->reset();
  if (b.size() >= 5 && b[0] >= 0xb8 && b[0] <= 0xbf) {  // mov r32, imm32
    *reg = b[0] - 0xb8;
    *imm = load32(&b[1]);
    return 5;
  }
  if (b.size() >= 6 && b[0] == 0x41 && b[1] >= 0xb8 && b[1] <= 0xbf) {  // mov r8d-r15d, imm32
    *reg = 8 + b[1] - 0xb8;
    *imm = load32(&b[2]);
    return 6;
  }
  auto xorSelf = [&](size_t i, int base) -> size_t {  // xor/sub r32, r32 (same register)
    if (b.size() < i + 2 || (b[i] != 0x31 && b[i] != 0x33 && b[i] != 0x29 && b[i] != 0x2b))
      return 0;
    const uint8_t m = b[i + 1];
    if ((m >> 6) != 3 || ((m >> 3) & 7) != (m & 7)) return 0;
    *reg = base + (m & 7);
    *imm = 0;
    return i + 2;
  };
  if (size_t n = xorSelf(0, 0)) return n;
  if (b.size() >= 3 && b[0] == 0x45)
    if (size_t n = xorSelf(1, 8)) return n;
  // lea r64, [rip + disp32]: another argument's pointer
  if (b.size() >= 7 && (b[0] == 0x48 || b[0] == 0x4c) && b[1] == 0x8d && (b[2] & 0xc7) == 0x05) {
    *reg = ((b[0] == 0x4c) ? 8 : 0) + ((b[2] >> 3) & 7);
    return 7;
  }
  if (b.size() >= 5 && (b[0] == 0xe8 || b[0] == 0xe9)) {
    *end = true;
    return 5;
  }
  return 0;
}

// The error call around a file-pointer load of `len` bytes at `site` into `fileReg`.
// The reason is the argument before the file, the library the first, the line the
// one after: ERR_put_error(lib, 0, reason, file, line) in BoringSSL, aws-lc and
// OpenSSL 1.1, (lib, reason, file, line) in some forks.
std::optional<ErrorSite> decodeSite(const ElfImage& image, uint64_t site, size_t len,
                                    uint64_t file, int fileReg) {
  constexpr int kMaxInsns = 8;
  Regs before, after;
  // backward: the instructions ending right before the load, nearest first
  uint64_t pos = site;
  for (int n = 0; n < kMaxInsns; ++n) {
    bool matched = false;
    for (size_t width : {6, 5, 3, 2, 7}) {
      if (pos < width) continue;
      auto b = at(image, pos - width, width);
      if (b.size() != width) continue;
      int reg;
      std::optional<uint32_t> imm;
      bool end;
      if (decodeOne(b, &reg, &imm, &end) != width || end) continue;
      if (reg >= 0 && !before.v[reg] && imm) before.v[reg] = imm;
      pos -= width;
      matched = true;
      break;
    }
    if (!matched) break;
  }
  // forward: up to the call
  pos = site + len;
  uint64_t call = 0;
  for (int n = 0; n < kMaxInsns && !call; ++n) {
    auto b = at(image, pos, 16);
    int reg;
    std::optional<uint32_t> imm;
    bool end;
    const size_t l = decodeOne(b, &reg, &imm, &end);
    if (!l) return std::nullopt;
    if (end) call = pos;
    if (reg >= 0) after.v[reg] = imm ? imm : std::optional<uint32_t>(0xffffffffu);
    pos += l;
  }
  if (!call) return std::nullopt;
  auto value = [&](int r) -> std::optional<uint32_t> {
    if (after.v[r]) {
      if (*after.v[r] == 0xffffffffu) return std::nullopt;
      return after.v[r];
    }
    return before.v[r];
  };
  const size_t k = std::find(kArgRegs.begin(), kArgRegs.end(), fileReg) - kArgRegs.begin();
  if (k < 2 || k + 1 >= kArgRegs.size()) return std::nullopt;
  auto reason = value(kArgRegs[k - 1]);
  if (!reason) return std::nullopt;
  if (k == 3)  // the unused argument of ERR_put_error(lib, 0, reason, file, line)
    if (auto unused = value(kArgRegs[1]); unused && *unused != 0) return std::nullopt;
  ErrorSite s;
  s.addr = site;
  s.file = file;
  s.reason = *reason;
  s.library = value(kEdi).value_or(0);
  s.line = value(kArgRegs[k + 1]).value_or(0);
  s.call = call;
  return s;
}

}  // namespace

std::vector<uint64_t> findStringsEndingWith(const ElfImage& image, std::string_view suffix) {
  std::vector<uint64_t> out;
  std::string needle(suffix);
  needle.push_back('\0');
  for (const auto& s : image.sections()) {
    // read-only data: where compilers put string literals
    if (!(s.flags & SHF_ALLOC) || (s.flags & (SHF_EXECINSTR | SHF_WRITE)) || s.type != SHT_PROGBITS)
      continue;
    auto b = image.sectionBytes(s);
    const uint8_t* p = b.data();
    const uint8_t* end = b.data() + b.size();
    while (p < end) {
      auto* hit = static_cast<const uint8_t*>(memmem(p, end - p, needle.data(), needle.size()));
      if (!hit) break;
      p = hit + 1;
      if (hit > b.data() && hit[-1] != '/' && hit[-1] != 0 && suffix.front() != '/') continue;
      const uint8_t* start = hit;
      while (start > b.data() && start[-1] != 0 && hit - start < 4096) --start;
      out.push_back(s.addr + uint64_t(start - b.data()));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<ErrorSite> findErrorSites(const ElfImage& image, std::span<const uint64_t> files) {
  std::vector<ErrorSite> out;
  if (files.empty()) return out;
  const uint64_t lo = *std::min_element(files.begin(), files.end());
  const uint64_t hi = *std::max_element(files.begin(), files.end());
  auto wanted = [&](uint64_t a) {
    return a >= lo && a <= hi && std::find(files.begin(), files.end(), a) != files.end();
  };
  for (const auto& g : image.segments()) {
    if (!(g.flags & PF_X) || g.fileSize < 8) continue;
    const uint8_t* base = image.bytes().data() + g.offset;
    const uint64_t n = g.fileSize - 7;
    // One pass for the loads of the file pointer into rdx or rcx:
    //   ba/b9 imm32          mov edx/ecx, imm32        (non-PIE, address < 4 GiB)
    //   48 8d 15/0d disp32   lea rdx/rcx, [rip+disp32] (PIE)
    auto check = [&](uint64_t i) {
      const uint8_t op = base[i];
      if (op == 0xb9 || op == 0xba) {
        const uint64_t a = load32(base + i + 1);
        if (wanted(a))
          if (auto s = decodeSite(image, g.vaddr + i, 5, a, op == 0xb9 ? kEcx : kEdx)) out.push_back(*s);
      } else if (op == 0x8d && i > 0 && base[i - 1] == 0x48 &&
                 (base[i + 1] == 0x0d || base[i + 1] == 0x15)) {
        const uint64_t insn = g.vaddr + i - 1;
        const uint64_t a = insn + 7 + int64_t(int32_t(load32(base + i + 2)));
        if (wanted(a))
          if (auto s = decodeSite(image, insn, 7, a, base[i + 1] == 0x0d ? kEcx : kEdx))
            out.push_back(*s);
      }
    };
    uint64_t i = 0;
#if defined(__SSE2__)
    // 16 bytes at a time: most blocks hold neither opcode byte
    const __m128i b9 = _mm_set1_epi8(static_cast<char>(0xb9));
    const __m128i ba = _mm_set1_epi8(static_cast<char>(0xba));
    const __m128i x8d = _mm_set1_epi8(static_cast<char>(0x8d));
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
      const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, b9), _mm_cmpeq_epi8(v, ba)),
                                       _mm_cmpeq_epi8(v, x8d));
      unsigned mask = unsigned(_mm_movemask_epi8(hit));
      while (mask) {
        check(i + unsigned(__builtin_ctz(mask)));
        mask &= mask - 1;
      }
    }
#endif
    for (; i < n; ++i) check(i);
  }
  std::sort(out.begin(), out.end(), [](const ErrorSite& a, const ErrorSite& b) { return a.addr < b.addr; });
  return out;
}

std::vector<DirectCall> findDirectCalls(const ElfImage& image, std::span<const uint64_t> targets,
                                        const DirectCallScan& how) {
  std::vector<uint64_t> sorted(targets.begin(), targets.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<DirectCall> out;
  if (sorted.empty()) return out;
  const uint64_t lo = sorted.front(), hi = sorted.back();

  // Work in chunks of code, nearest to the targets first: callers tend to sit near
  // their callees, so a scan that stops at the first caller of each ends early.
  struct Chunk {
    uint64_t vaddr;
    const uint8_t* bytes;
    uint64_t len;  // bytes whose 5-byte instruction fits in the segment
  };
  constexpr uint64_t kChunk = 1 << 20;
  std::vector<Chunk> chunks;
  for (const auto& g : image.segments()) {
    if (!(g.flags & PF_X) || g.fileSize < 5) continue;
    const uint8_t* base = image.bytes().data() + g.offset;
    for (uint64_t at = 0; at + 5 <= g.fileSize; at += kChunk) {
      const uint64_t from = g.vaddr + at;
      if (how.within && (from + kChunk <= how.within->start || from >= how.within->end)) continue;
      chunks.push_back({from, base + at, std::min(kChunk, g.fileSize - 4 - at)});
    }
  }
  auto distance = [&](const Chunk& c) -> uint64_t {
    if (c.vaddr + c.len <= lo) return lo - (c.vaddr + c.len);
    if (c.vaddr > hi) return c.vaddr - hi;
    return 0;
  };
  std::stable_sort(chunks.begin(), chunks.end(),
                   [&](const Chunk& a, const Chunk& b) { return distance(a) < distance(b); });

  // .got slots whose stored value (the link-time address, as a static-pie keeps it
  // for its RELATIVE relocation) is a target
  std::vector<std::pair<uint64_t, uint64_t>> slots;  // slot vaddr -> target
  if (how.throughGot) {
    if (const auto* got = image.section(".got")) {
      auto b = image.sectionBytes(*got);
      for (size_t k = 0; k + 8 <= b.size(); k += 8) {
        uint64_t v = 0;
        memcpy(&v, b.data() + k, 8);
        if (v < lo || v > hi || !std::binary_search(sorted.begin(), sorted.end(), v)) continue;
        slots.push_back({got->addr + k, v});
      }
    }
  }
  const uint64_t slotLo = slots.empty() ? 0 : slots.front().first;
  const uint64_t slotHi = slots.empty() ? 0 : slots.back().first;

  std::vector<bool> seen(sorted.size(), false);
  size_t unseen = sorted.size();
  for (const Chunk& c : chunks) {
    uint64_t from = 0, to = c.len;
    if (how.within) {
      if (how.within->start > c.vaddr) from = how.within->start - c.vaddr;
      if (how.within->end < c.vaddr + c.len) to = how.within->end - c.vaddr;
    }
    for (uint64_t i = from; i < to; ++i) {
      const uint8_t op = c.bytes[i];
      uint64_t target = 0;
      bool tail = op == 0xe9, viaGot = false;
      if (op == 0xe8 || (how.withJumps && op == 0xe9)) {
        target = c.vaddr + i + 5 + int64_t(int32_t(load32(c.bytes + i + 1)));
      } else if (op == 0xff && !slots.empty() && i + 6 <= c.len + 4 &&
                 (c.bytes[i + 1] == 0x15 || (how.withJumps && c.bytes[i + 1] == 0x25))) {
        const uint64_t slot = c.vaddr + i + 6 + int64_t(int32_t(load32(c.bytes + i + 2)));
        if (slot < slotLo || slot > slotHi) continue;
        auto s = std::lower_bound(slots.begin(), slots.end(), std::pair<uint64_t, uint64_t>{slot, 0});
        if (s == slots.end() || s->first != slot) continue;
        target = s->second;
        tail = c.bytes[i + 1] == 0x25;
        viaGot = true;
      } else {
        continue;
      }
      if (target < lo || target > hi) continue;
      auto it = std::lower_bound(sorted.begin(), sorted.end(), target);
      if (it == sorted.end() || *it != target) continue;
      out.push_back({c.vaddr + i, target, tail, viaGot});
      const size_t k = it - sorted.begin();
      if (!seen[k]) {
        seen[k] = true;
        --unseen;
      }
    }
    if (how.firstOfEach && unseen == 0) break;
  }
  std::sort(out.begin(), out.end(), [](const DirectCall& a, const DirectCall& b) { return a.site < b.site; });
  return out;
}

bool hasPrologue(const ElfImage& image, uint64_t vaddr) {
  auto b = at(image, vaddr, 4);
  if (b.size() < 4) return false;
  if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa) return true;  // endbr64
  if (b[0] == 0x55 || b[0] == 0x53) return true;                               // push rbp/rbx
  if (b[0] == 0x41 && b[1] >= 0x54 && b[1] <= 0x57) return true;               // push r12-r15
  if (b[0] == 0x48 && (b[1] == 0x83 || b[1] == 0x81) && b[2] == 0xec) return true;  // sub rsp
  return false;
}

bool afterPadding(const ElfImage& image, uint64_t vaddr) {
  if (vaddr % 16 != 0 || vaddr == 0) return false;
  auto b = at(image, vaddr - 1, 1);
  return b.size() == 1 && (b[0] == 0xcc || b[0] == 0xc3);
}

std::optional<FunctionStart> functionStartOf(const ElfImage& image, const FunctionTable& fdes,
                                             uint64_t addr, uint64_t maxBack) {
  if (auto r = fdes.containing(addr)) return FunctionStart{r->start, "eh_frame"};
  if (!image.isCode(addr)) return std::nullopt;
  for (uint64_t a = addr & ~uint64_t(15); a + maxBack >= addr && a > 0; a -= 16) {
    if (!image.isCode(a)) break;
    if (afterPadding(image, a) && hasPrologue(image, a))
      return FunctionStart{a, "int3 padding + prologue"};
  }
  return std::nullopt;
}

}  // namespace aa
