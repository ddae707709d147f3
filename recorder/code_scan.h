// Searches in the x86-64 machine code of an ElfImage, for finding functions by what
// they do rather than by name or bytes of a given build:
//
//  - strings: addresses of the NUL-terminated strings in read-only data that end with
//    a given suffix (the __FILE__ names error-reporting call sites pass, e.g.
//    ".../ssl/ssl_lib.cc");
//  - error sites: calls of the form f(library, 0, reason, file, line), the expansion of
//    BoringSSL/aws-lc/OpenSSL's OPENSSL_PUT_ERROR / ERR_put_error, or f(library, reason,
//    file, line) (Bun's BoringSSL before 2026), whose file argument (rcx or rdx) is one
//    of those strings: the pointer is loaded with `lea r,[rip+d]` (position-independent
//    code) or `mov r32, imm32` (non-PIE, address < 4 GiB), and the integer arguments
//    with short mov/xor forms, all decoded around the load;
//  - direct calls: `call rel32` / `jmp rel32` whose target is in a given set;
//  - function starts: from .eh_frame where it covers the code, else the nearest
//    16-byte aligned address after int3 padding, confirmed by a prologue.
//
// Instruction decoding is limited to the few forms compilers emit for these sequences;
// a sequence it cannot read is skipped, never guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "recorder/eh_frame.h"
#include "recorder/elf_image.h"

namespace aa {

// Addresses of the strings "<anything>suffix\0" in allocated, non-executable sections;
// `suffix` must start after a '/' or at the string start (so "ssl_lib.cc" does not
// match "xssl_lib.cc").
std::vector<uint64_t> findStringsEndingWith(const ElfImage& image, std::string_view suffix);

struct ErrorSite {
  uint64_t addr = 0;      // the instruction loading the file pointer
  uint64_t file = 0;      // the string it loads
  uint32_t library = 0;   // 1st argument (edi) when seen in the sequence, else 0
  uint32_t reason = 0;    // the argument before the file
  uint32_t line = 0;      // the argument after the file when seen, else 0
  uint64_t call = 0;      // the call/jmp ending the sequence
};

// Error-reporting call sites passing one of `files` as 4th argument, with the reason
// (3rd argument) decoded. Sites whose reason could not be read are left out.
std::vector<ErrorSite> findErrorSites(const ElfImage& image, std::span<const uint64_t> files);

struct DirectCall {
  uint64_t site = 0;    // the call/jmp instruction
  uint64_t target = 0;
  bool tail = false;    // jmp rel32 (a tail call, or a jump within a function)
  bool viaGot = false;  // call/jmp qword [rip+d] through a .got slot holding the target
};

struct DirectCallScan {
  bool withJumps = false;    // count `jmp rel32` too (tail calls)
  bool firstOfEach = false;  // stop once every target has a caller (callers found so
                             // far are returned; code nearest the targets goes first)
  std::optional<FunctionRange> within;  // only call sites in this address range
  bool throughGot = false;   // also `call/jmp qword [rip+d]` whose .got slot holds a
                             // target in the file (Rust's no-PLT calls, unrelaxed)
};

// `call rel32` (and `jmp rel32` with withJumps; GOT-indirect forms with throughGot) instructions in executable segments
// whose target is in `targets` (any order), sorted by site.
std::vector<DirectCall> findDirectCalls(const ElfImage& image, std::span<const uint64_t> targets,
                                        const DirectCallScan& how);

struct FunctionStart {
  uint64_t addr = 0;
  std::string how;  // "eh_frame" or "int3 padding + prologue"
};

// The start of the function holding `addr`: the FDE covering it, else a padding
// boundary (16-byte aligned, preceded by int3) followed by a recognised prologue, at
// most `maxBack` bytes back. nullopt when neither is found.
std::optional<FunctionStart> functionStartOf(const ElfImage& image, const FunctionTable& fdes,
                                             uint64_t addr, uint64_t maxBack = 1 << 16);

// True when the bytes at vaddr are a usual x86-64 function prologue (endbr64, push of
// a callee-saved register, sub rsp).
bool hasPrologue(const ElfImage& image, uint64_t vaddr);
// True when vaddr is 16-byte aligned and preceded by int3 padding or a `ret`.
bool afterPadding(const ElfImage& image, uint64_t vaddr);

}  // namespace aa
