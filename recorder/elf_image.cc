#include "recorder/elf_image.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aa {
namespace {

std::string errnoText(int err) { return std::strerror(err); }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace

StatusOr<ElfImage> ElfImage::open(const std::string& path) {
  // O_NONBLOCK: a FIFO put where a library was must not block the recorder (it is
  // then refused below, as anything but a regular file is)
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": " + errnoText(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::error(path + ": " + errnoText(err));
  }
  ElfImage img;
  img.path_ = path;
  img.identity_.size = static_cast<uint64_t>(st.st_size);
  img.identity_.mtimeNs = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  img.identity_.dev = st.st_dev;
  img.identity_.ino = st.st_ino;
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    ::close(fd);
    return img;
  }
  // MAP_SHARED, not MAP_PRIVATE (FileMapping maps shared): while any uprobe is
  // registered on this inode (another recording, bpftrace), the kernel writes its int3
  // into every new private mapping of the file that could be executable (uprobe_mmap; a
  // PROT_READ mapping qualifies on an exec mount), so discovery would read 0xcc where a
  // function starts and fail to find it. A shared mapping is left alone and reads the
  // page cache as it is. Read-only fd: the mapping cannot write the file.
  AA_ASSIGN_OR_RETURN(img.map_, FileMapping::map(fd, uint64_t(st.st_size), path));
  img.data_ = img.map_.data();
  img.size_ = size_t(img.map_.size());
  img.parse();
  return img;
}

ElfImage::ElfImage(ElfImage&& o) noexcept { *this = std::move(o); }

ElfImage& ElfImage::operator=(ElfImage&& o) noexcept {
  if (this == &o) return *this;
  path_ = std::move(o.path_);
  map_ = std::move(o.map_);
  data_ = o.data_;
  size_ = o.size_;
  elf_ = o.elf_;
  machine_ = o.machine_;
  identity_ = std::move(o.identity_);
  sections_ = std::move(o.sections_);
  segments_ = std::move(o.segments_);
  o.data_ = nullptr;
  o.size_ = 0;
  o.elf_ = false;
  return *this;
}

ElfImage::~ElfImage() = default;

void ElfImage::parse() {
  if (size_ < sizeof(Elf64_Ehdr) || std::memcmp(data_, ELFMAG, SELFMAG) != 0) return;
  if (data_[EI_CLASS] != ELFCLASS64 || data_[EI_DATA] != ELFDATA2LSB) return;
  const auto eh = load<Elf64_Ehdr>(data_);
  machine_ = eh.e_machine;

  if (eh.e_phentsize == sizeof(Elf64_Phdr) &&
      inRange(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr))) {
    for (uint32_t i = 0; i < eh.e_phnum; ++i) {
      const auto ph = load<Elf64_Phdr>(data_ + eh.e_phoff + i * sizeof(Elf64_Phdr));
      if (ph.p_type != PT_LOAD || !inRange(ph.p_offset, ph.p_filesz)) continue;
      segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_flags});
    }
  }
  if (eh.e_shentsize == sizeof(Elf64_Shdr) &&
      inRange(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr)) && eh.e_shstrndx < eh.e_shnum) {
    const auto strs = load<Elf64_Shdr>(data_ + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr));
    const bool namesOk = inRange(strs.sh_offset, strs.sh_size);
    for (uint32_t i = 0; i < eh.e_shnum; ++i) {
      const auto sh = load<Elf64_Shdr>(data_ + eh.e_shoff + i * sizeof(Elf64_Shdr));
      Section s;
      if (namesOk && sh.sh_name < strs.sh_size) {
        const char* n = reinterpret_cast<const char*>(data_ + strs.sh_offset + sh.sh_name);
        s.name.assign(n, strnlen(n, strs.sh_size - sh.sh_name));
      }
      s.type = sh.sh_type;
      s.flags = sh.sh_flags;
      s.addr = sh.sh_addr;
      s.offset = sh.sh_offset;
      s.size = (sh.sh_type == SHT_NOBITS || !inRange(sh.sh_offset, sh.sh_size)) ? 0 : sh.sh_size;
      s.link = sh.sh_link;
      sections_.push_back(std::move(s));
    }
  }
  elf_ = true;

  // GNU build-id: the NT_GNU_BUILD_ID note of any SHT_NOTE section
  for (const Section& s : sections_) {
    if (s.type != SHT_NOTE) continue;
    auto b = sectionBytes(s);
    size_t at = 0;
    while (at + sizeof(Elf64_Nhdr) <= b.size()) {
      const auto nh = load<Elf64_Nhdr>(b.data() + at);
      const size_t name = at + sizeof(Elf64_Nhdr);
      const size_t desc = name + ((uint64_t(nh.n_namesz) + 3) & ~uint64_t(3));
      const size_t next = desc + ((uint64_t(nh.n_descsz) + 3) & ~uint64_t(3));
      if (desc > b.size() || nh.n_descsz > b.size() - desc) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          std::memcmp(b.data() + name, "GNU", 4) == 0 && identity_.buildId.empty()) {
        static const char* kHex = "0123456789abcdef";
        for (uint32_t k = 0; k < nh.n_descsz; ++k) {
          identity_.buildId += kHex[b[desc + k] >> 4];
          identity_.buildId += kHex[b[desc + k] & 15];
        }
      }
      at = next;
    }
  }
}

const ElfImage::Section* ElfImage::section(std::string_view name) const {
  for (const Section& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const uint8_t> ElfImage::sectionBytes(const Section& s) const {
  if (s.size == 0 || !inRange(s.offset, s.size)) return {};
  return {data_ + s.offset, s.size};
}

std::optional<uint64_t> ElfImage::offsetOf(uint64_t vaddr) const {
  for (const Segment& g : segments_)
    if (vaddr >= g.vaddr && vaddr - g.vaddr < g.fileSize) return g.offset + (vaddr - g.vaddr);
  return std::nullopt;
}

bool ElfImage::isCode(uint64_t vaddr) const {
  for (const Segment& g : segments_)
    if ((g.flags & PF_X) && vaddr >= g.vaddr && vaddr - g.vaddr < g.fileSize) return true;
  return false;
}

size_t ElfImage::functionSymbolCount() const {
  size_t n = 0;
  for (const Section& sh : sections_) {
    if ((sh.type != SHT_DYNSYM && sh.type != SHT_SYMTAB) || sh.size % sizeof(Elf64_Sym)) continue;
    auto b = sectionBytes(sh);
    for (size_t k = 0; k + sizeof(Elf64_Sym) <= b.size(); k += sizeof(Elf64_Sym)) {
      const auto s = load<Elf64_Sym>(b.data() + k);
      if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx != SHN_UNDEF && s.st_value) ++n;
    }
  }
  return n;
}

std::vector<std::optional<uint64_t>> ElfImage::functionOffsets(
    std::span<const std::string_view> names) const {
  std::vector<std::optional<uint64_t>> out(names.size());
  for (uint32_t type : {uint32_t(SHT_DYNSYM), uint32_t(SHT_SYMTAB)}) {
    bool any = false;
    for (const Section& sh : sections_) {
      if (sh.type != type || sh.size % sizeof(Elf64_Sym)) continue;
      if (sh.link >= sections_.size()) continue;
      auto strs = sectionBytes(sections_[sh.link]);
      auto b = sectionBytes(sh);
      for (size_t k = 0; k + sizeof(Elf64_Sym) <= b.size(); k += sizeof(Elf64_Sym)) {
        const auto s = load<Elf64_Sym>(b.data() + k);
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || s.st_value == 0 ||
            s.st_name >= strs.size())
          continue;
        const char* n = reinterpret_cast<const char*>(strs.data() + s.st_name);
        const std::string_view name(n, strnlen(n, strs.size() - s.st_name));
        for (size_t f = 0; f < names.size(); ++f) {
          if (name != names[f] || out[f]) continue;
          if (auto off = offsetOf(s.st_value)) {
            out[f] = *off;
            any = true;
          }
        }
      }
    }
    if (any) break;
  }
  return out;
}

}  // namespace aa
