// Function ranges from an ELF file's .eh_frame: one per FDE (Frame Description Entry),
// the unwind records that survive `strip` because C++ exceptions and backtraces need
// them. Maps from the raw .eh_frame bytes (CIE/FDE records, DWARF pointer encodings) to
// sorted [start, end) virtual-address ranges.
//
// Coverage depends on the build: Rust and most C/C++ toolchains emit an FDE for every
// function, but an executable built without unwind tables for some of its objects
// (Bun: only ~2% of its code) has gaps. A malformed record ends the walk; what was
// read before it is kept and `complete` says the walk stopped early.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "recorder/elf_image.h"

namespace aa {

struct FunctionRange {
  uint64_t start = 0;  // virtual address of the function's first instruction
  uint64_t end = 0;    // one past its last byte
};

struct FunctionTable {
  std::vector<FunctionRange> ranges;  // sorted by start, non-empty ranges only
  bool complete = true;               // false: a malformed record stopped the walk
  // The range holding vaddr, if any FDE covers it.
  std::optional<FunctionRange> containing(uint64_t vaddr) const;
  bool isStart(uint64_t vaddr) const;
};

// Parses `bytes`, the contents of an .eh_frame section loaded at `sectionAddr`
// (pc-relative pointers are relative to it); `dataRelBase` serves datarel encodings.
FunctionTable parseEhFrame(std::span<const uint8_t> bytes, uint64_t sectionAddr,
                           uint64_t dataRelBase = 0);
// The .eh_frame of an image (empty table when it has none).
FunctionTable functionTable(const ElfImage& image);

}  // namespace aa
