// ElfImage: a read-only, bounds-checked view of one 64-bit little-endian ELF file
// (executable or shared library), mapped whole. Maps from the file to what TLS
// discovery needs: sections by name, loadable segments (virtual address <-> file
// offset, which is the uprobe offset), the GNU build-id and defined function symbols.
//
// Nothing here trusts the file: every header, table and address is checked against the
// mapping, and a malformed file yields empty answers, never a read past the end. The
// mapping is a FileMapping (store/file_mapping.h): a file that shrinks while it is read
// reads as zeros past its new end instead of faulting, and is marked.
// Non-copyable (owns the mapping); movable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/file_mapping.h"
#include "store/status.h"

namespace aa {

class ElfImage {
 public:
  struct Section {
    std::string name;
    uint32_t type = 0;
    uint64_t flags = 0;
    uint64_t addr = 0;
    uint64_t offset = 0;
    uint64_t size = 0;  // bytes in the file (0 for SHT_NOBITS)
    uint32_t link = 0;  // sh_link: a symbol table's string table
  };
  struct Segment {  // PT_LOAD
    uint64_t vaddr = 0;
    uint64_t offset = 0;
    uint64_t fileSize = 0;
    uint32_t flags = 0;  // PF_X | PF_W | PF_R
  };
  // What identifies the file's contents for a cache: build-id plus size and mtime.
  struct Identity {
    std::string buildId;  // lowercase hex; empty when the file has none
    uint64_t size = 0;
    int64_t mtimeNs = 0;
    uint64_t dev = 0, ino = 0;
  };

  // Errors: the file cannot be opened or mapped. A file that is not a usable ELF
  // image opens fine with isElf() false (and every lookup empty).
  static StatusOr<ElfImage> open(const std::string& path);
  ElfImage(ElfImage&& other) noexcept;
  ElfImage& operator=(ElfImage&& other) noexcept;
  ElfImage(const ElfImage&) = delete;
  ElfImage& operator=(const ElfImage&) = delete;
  ~ElfImage();

  bool isElf() const { return elf_; }
  bool isX86_64() const { return machine_ == 62; /* EM_X86_64 */ }
  const std::string& path() const { return path_; }
  const Identity& identity() const { return identity_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const Section* section(std::string_view name) const;
  // True when the file shrank while it was read (another process truncated it): the
  // bytes past its new end read as zeros instead of faulting, and nothing found in
  // the image may be trusted. One fstat.
  bool changedWhileRead() const { return map_.shrank(); }

  // File bytes of a section (empty when it lies outside the file or is NOBITS).
  std::span<const uint8_t> sectionBytes(const Section& s) const;
  // Virtual address -> file offset through the PT_LOAD segments; nullopt when the
  // address is not backed by file bytes.
  std::optional<uint64_t> offsetOf(uint64_t vaddr) const;
  // True when vaddr lies in an executable PT_LOAD segment.
  bool isCode(uint64_t vaddr) const;

  // Defined function symbols of .dynsym (or .symtab when .dynsym defines none) whose
  // name is in `names`: one file offset per name, nullopt where not defined.
  std::vector<std::optional<uint64_t>> functionOffsets(
      std::span<const std::string_view> names) const;
  // Number of defined STT_FUNC symbols in .dynsym and .symtab (0: stripped).
  size_t functionSymbolCount() const;

 private:
  ElfImage() = default;
  void parse();
  bool inRange(uint64_t off, uint64_t len) const { return off <= size_ && len <= size_ - off; }

  std::string path_;
  FileMapping map_;  // holds the file open, so that changedWhileRead() can fstat it
  const uint8_t* data_ = nullptr;  // map_'s bytes (nullptr for a file not mapped)
  size_t size_ = 0;
  bool elf_ = false;
  uint16_t machine_ = 0;
  Identity identity_;
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
};

}  // namespace aa
