// TLS discovery without root: ELF parsing, .eh_frame, the x86-64 code search and the
// BoringSSL rules, on synthetic images built here (each rule can be made to fail) and
// on the real Claude Code executables installed by fixtures/agents/install.sh (skipped,
// with the reason, when they are not installed).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/perf_event.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "recorder/code_scan.h"
#include "recorder/eh_frame.h"
#include "recorder/elf_image.h"
#include "recorder/tls_discovery.h"

namespace aa {
namespace {

// Where fixtures/agents/install.sh puts the pinned agents (its --print-dir): the
// tests/run-all.sh exports it as AA_AGENTS_DIR.
std::string agentsDir() {
  if (const char* env = getenv("AA_AGENTS_DIR"); env && *env) return env;
  if (access("/work/agents", F_OK) == 0) return "/work/agents";
  const char* cache = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  return (cache && *cache ? std::string(cache) : std::string(home ? home : "") + "/.cache") +
         "/aa-record/agents";
}

namespace fs = std::filesystem;

// ---- a minimal x86-64 ELF image: .rodata (strings) + .text (code) ----

constexpr uint32_t kSslLib = 16;
constexpr uint64_t kRodataOff = 0x1000, kTextOff = 0x2000;

enum class Style {
  NonPie,    // mov ecx, imm32 ; ERR_put_error(lib, 0, reason, file, line)
  Pie,       // lea rcx, [rip+d]
  FourArgs,  // mov edx, imm32 ; f(lib, reason, file, line)
};

class Code {
 public:
  Code(uint64_t textAddr, uint64_t fileAddr, Style style)
      : base_(textAddr), file_(fileAddr), style_(style) {}
  uint64_t here() const { return base_ + b_.size(); }
  // a new function: int3 padding to 16 bytes, then push rbp; mov rbp, rsp
  uint64_t function() {
    while (b_.size() % 16) b_.push_back(0xcc);
    const uint64_t at = here();
    bytes({0x55, 0x48, 0x89, 0xe5});
    return at;
  }
  void ret() { bytes({0x5d, 0xc3}); }
  void call(uint64_t target) {
    const int32_t rel = int32_t(int64_t(target) - int64_t(here() + 5));
    b_.push_back(0xe8);
    imm(uint32_t(rel));
  }
  // OPENSSL_PUT_ERROR(SSL, reason) as clang lays it out
  void error(uint32_t reason, uint64_t errFn) {
    if (style_ == Style::FourArgs) {
      b_.push_back(0xba);  // mov edx, file
      imm(uint32_t(file_));
      bytes({0xbf}); imm(kSslLib);        // mov edi, 16
      bytes({0xbe}); imm(reason);         // mov esi, reason
      bytes({0xb9}); imm(100);            // mov ecx, line
    } else {
      if (style_ == Style::Pie) {
        bytes({0x48, 0x8d, 0x0d});
        imm(uint32_t(int32_t(int64_t(file_) - int64_t(here() + 4))));
      } else {
        b_.push_back(0xb9);
        imm(uint32_t(file_));
      }
      bytes({0xbf}); imm(kSslLib);        // mov edi, 16
      bytes({0x31, 0xf6});                // xor esi, esi
      bytes({0xba}); imm(reason);         // mov edx, reason
      bytes({0x41, 0xb8}); imm(0x347);    // mov r8d, line
    }
    call(errFn);
  }
  const std::vector<uint8_t>& bytesOut() const { return b_; }

 private:
  void bytes(std::initializer_list<uint8_t> l) { b_.insert(b_.end(), l); }
  void imm(uint32_t v) {
    for (int i = 0; i < 4; ++i) b_.push_back(uint8_t(v >> (8 * i)));
  }
  uint64_t base_, file_;
  Style style_;
  std::vector<uint8_t> b_;
};

// Writes an ELF file: PT_LOAD R for .rodata at kRodataOff, PT_LOAD RX for .text at
// kTextOff, a build-id note, section headers. Non-PIE images load at 0x400000.
std::string elfFile(const std::vector<uint8_t>& rodata, const std::vector<uint8_t>& text,
                     bool pie, const std::string& buildIdHex) {
  const uint64_t base = pie ? 0 : 0x400000;
  std::string f(kTextOff + text.size(), '\0');
  std::memcpy(&f[kRodataOff], rodata.data(), rodata.size());
  std::memcpy(&f[kTextOff], text.data(), text.size());
  // build-id note right after the program headers
  std::vector<uint8_t> note;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) note.push_back(uint8_t(v >> (8 * i)));
  };
  put32(4);
  put32(uint32_t(buildIdHex.size() / 2));
  put32(NT_GNU_BUILD_ID);
  for (char c : std::string("GNU\0", 4)) note.push_back(uint8_t(c));
  for (size_t i = 0; i < buildIdHex.size(); i += 2)
    note.push_back(uint8_t(std::stoi(buildIdHex.substr(i, 2), nullptr, 16)));
  while (note.size() % 4) note.push_back(0);
  const uint64_t noteOff = 0x200;
  std::memcpy(&f[noteOff], note.data(), note.size());

  const std::string shstr = std::string("\0.rodata\0.text\0.note.gnu.build-id\0.shstrtab\0", 45);
  const uint64_t shstrOff = f.size();
  f += shstr;
  while (f.size() % 8) f.push_back('\0');
  const uint64_t shOff = f.size();
  std::vector<Elf64_Shdr> sh(5);
  sh[1] = {1, SHT_PROGBITS, SHF_ALLOC | SHF_MERGE | SHF_STRINGS, base + kRodataOff, kRodataOff, rodata.size(), 0, 0, 1, 1};
  sh[2] = {9, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, base + kTextOff, kTextOff, text.size(), 0, 0, 16, 0};
  sh[3] = {15, SHT_NOTE, SHF_ALLOC, base + noteOff, noteOff, note.size(), 0, 0, 4, 0};
  sh[4] = {34, SHT_STRTAB, 0, 0, shstrOff, shstr.size(), 0, 0, 1, 0};
  f.append(reinterpret_cast<const char*>(sh.data()), sh.size() * sizeof(Elf64_Shdr));

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = pie ? ET_DYN : ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_shoff = shOff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = uint16_t(sh.size());
  eh.e_shstrndx = 4;
  std::memcpy(&f[0], &eh, sizeof(eh));
  Elf64_Phdr ph[2] = {
      {PT_LOAD, PF_R, 0, base, base, kTextOff, kTextOff, 0x1000},
      {PT_LOAD, PF_R | PF_X, kTextOff, base + kTextOff, base + kTextOff, text.size(), text.size(), 0x1000}};
  std::memcpy(&f[sizeof(eh)], ph, sizeof(ph));
  return f;
}

// What a synthetic BoringSSL image holds, and where.
struct Synthetic {
  std::string bytes;
  uint64_t write = 0, read = 0, impl = 0, sslNew = 0;  // virtual addresses
  uint64_t base = 0;
};

struct Shape {
  Style style = Style::NonPie;
  bool peekInlined = true;   // SSL_read holds SSL_peek (reports 66, calls ssl_read_impl)
  bool secondWrite = false;  // a second function with SSL_write's reasons
  bool callWrite = true;     // something calls SSL_write directly
  bool oldWrite = false;     // SSL_write of 2018-2023: PROTOCOL_IS_SHUTDOWN, no BAD_LENGTH
};

Synthetic synthetic(const Shape& shape) {
  Synthetic s;
  const bool pie = shape.style == Style::Pie;
  s.base = pie ? 0 : 0x400000;
  std::vector<uint8_t> rodata;
  const std::string other = "../../vendor/boringssl/ssl/ssl_buffer.cc";
  rodata.insert(rodata.end(), other.begin(), other.end());
  rodata.push_back(0);
  const uint64_t file = s.base + kRodataOff + rodata.size();
  const std::string lib = "../../vendor/boringssl/ssl/ssl_lib.cc";
  rodata.insert(rodata.end(), lib.begin(), lib.end());
  rodata.push_back(0);

  Code c(s.base + kTextOff, file, shape.style);
  const uint64_t errFn = c.function();  // ERR_put_error
  c.ret();
  s.impl = c.function();  // ssl_read_impl
  c.error(226, errFn);
  c.error(215, errFn);
  c.ret();
  s.write = c.function();  // SSL_write
  c.error(66, errFn);
  c.error(226, errFn);
  c.error(shape.oldWrite ? 194 : 111, errFn);
  c.error(215, errFn);
  c.ret();
  if (shape.secondWrite) {
    c.function();
    c.error(226, errFn);
    c.error(215, errFn);
    c.error(111, errFn);
    c.ret();
  }
  uint64_t peek = 0;
  if (shape.peekInlined) {
    s.read = c.function();  // SSL_read with SSL_peek inlined
    c.error(66, errFn);
    c.call(s.impl);
    c.ret();
  } else {
    peek = c.function();  // SSL_peek of before 2019: no error of its own
    c.call(s.impl);
    c.ret();
    s.read = peek;
  }
  const uint64_t shutdown = c.function();  // SSL_shutdown: also calls ssl_read_impl
  c.error(226, errFn);
  c.error(291, errFn);
  c.call(s.impl);
  c.ret();
  (void)shutdown;
  s.sslNew = c.function();  // SSL_new
  c.error(185, errFn);
  c.ret();
  c.function();  // the application: calls the API
  if (shape.callWrite) c.call(s.write);
  c.call(s.read);
  c.call(s.sslNew);
  c.ret();
  s.bytes = elfFile(rodata, c.bytesOut(), pie, "0123456789abcdef0123456789abcdef01234567");
  return s;
}

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aa-tls-discovery-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path dir_;
};

uint64_t fileOffset(const Synthetic& s, uint64_t vaddr) { return vaddr - s.base; }

TEST_F(DiscoveryTest, FindsBoringSslFunctionsInEachCodeStyle) {
  for (Style style : {Style::NonPie, Style::Pie, Style::FourArgs}) {
    Shape shape;
    shape.style = style;
    const Synthetic s = synthetic(shape);
    auto img = ElfImage::open(write("bssl", s.bytes));
    ASSERT_TRUE(img.ok()) << img.status().message();
    ASSERT_TRUE(img->isElf());
    auto found = discoverBoringSsl(*img);
    ASSERT_TRUE(found.ok()) << found.status().message();
    ASSERT_TRUE(found->has_value());
    const TlsHookSet& h = **found;
    EXPECT_EQ(h.stack, "BoringSSL");
    EXPECT_EQ(h.source, "discovered");
    EXPECT_EQ(h.offsets[kHookWrite], fileOffset(s, s.write)) << int(style);
    EXPECT_EQ(h.offsets[kHookRead], fileOffset(s, s.read)) << int(style);
    EXPECT_EQ(h.offsets[kHookNew], fileOffset(s, s.sslNew)) << int(style);
    EXPECT_FALSE(h.offsets[kHookWriteEx]);
    EXPECT_FALSE(h.offsets[kHookFree]);
  }
}

TEST_F(DiscoveryTest, OlderBoringSslShapes) {
  Shape shape;
  shape.oldWrite = true;      // PROTOCOL_IS_SHUTDOWN instead of BAD_LENGTH
  shape.peekInlined = false;  // SSL_peek without an error site of its own
  const Synthetic s = synthetic(shape);
  auto img = ElfImage::open(write("old", s.bytes));
  ASSERT_TRUE(img.ok());
  auto found = discoverBoringSsl(*img);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((**found).offsets[kHookWrite], fileOffset(s, s.write));
  EXPECT_EQ((**found).offsets[kHookRead], fileOffset(s, s.read));
}

TEST_F(DiscoveryTest, AmbiguityIsAnErrorNamingTheFunction) {
  Shape shape;
  shape.secondWrite = true;
  auto img = ElfImage::open(write("two", synthetic(shape).bytes));
  ASSERT_TRUE(img.ok());
  auto found = discoverBoringSsl(*img);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.status().message().find("2 candidates for SSL_write"), std::string::npos)
      << found.status().message();
}

TEST_F(DiscoveryTest, AnUncalledCandidateIsNotAcceptedAsAFunctionStart) {
  Shape shape;
  shape.callWrite = false;
  auto img = ElfImage::open(write("uncalled", synthetic(shape).bytes));
  ASSERT_TRUE(img.ok());
  auto found = discoverBoringSsl(*img);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.status().message().find("not the target of any direct call"), std::string::npos)
      << found.status().message();
}

// A uprobe registered on the file (another recording, bpftrace) puts its int3 into every
// new private mapping of it that could execute, PROT_READ ones included: discovery of a
// Claude Code that another aa-record was hooking found "0 candidates for SSL_read". The
// image must read the bytes of the file, whatever uprobes are on it. Root: the uprobe is
// registered through perf_event_open's uprobe PMU (no BPF program needed).
TEST_F(DiscoveryTest, UprobesOnTheFileDoNotChangeWhatDiscoveryReads) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (registers uprobes with perf_event_open)";
  std::ifstream typeFile("/sys/bus/event_source/devices/uprobe/type");
  int pmu = -1;
  if (!(typeFile >> pmu)) GTEST_SKIP() << "no uprobe PMU (/sys/bus/event_source/devices/uprobe/type)";
  Shape shape;
  const Synthetic s = synthetic(shape);
  const std::string path = write("hooked", s.bytes);
  std::vector<int> fds;
  for (uint64_t f : {s.write, s.read, s.sslNew}) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = static_cast<uint32_t>(pmu);
    attr.config1 = reinterpret_cast<uint64_t>(path.c_str());  // uprobe_path
    attr.config2 = fileOffset(s, f);                           // probe_offset
    const int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
    ASSERT_GE(fd, 0) << "perf_event_open uprobe at " << attr.config2 << ": " << strerror(errno);
    fds.push_back(fd);
  }
  // the hazard is real on this kernel: a private read-only mapping sees the int3
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    void* p = ::mmap(nullptr, s.bytes.size(), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    ASSERT_NE(p, MAP_FAILED);
    const uint8_t seen = static_cast<const uint8_t*>(p)[fileOffset(s, s.read)];
    ::munmap(p, s.bytes.size());
    if (seen != 0xcc) printf("note: this kernel leaves private mappings alone (saw 0x%02x)\n", seen);
    else printf("a MAP_PRIVATE mapping sees 0xcc at the hooked SSL_read\n");
  }
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_EQ(img->bytes()[fileOffset(s, s.read)], uint8_t(s.bytes[fileOffset(s, s.read)]));
  auto found = discoverBoringSsl(*img);
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((**found).offsets[kHookWrite], fileOffset(s, s.write));
  EXPECT_EQ((**found).offsets[kHookRead], fileOffset(s, s.read));
  EXPECT_EQ((**found).offsets[kHookNew], fileOffset(s, s.sslNew));
}

TEST_F(DiscoveryTest, NoBoringSslIsNotAnError) {
  auto img = ElfImage::open("/bin/sh");
  if (!img.ok()) GTEST_SKIP() << "needs /bin/sh";
  auto found = discoverBoringSsl(*img);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TEST_F(DiscoveryTest, ErrorSitesDecodeReasonLibraryAndLine) {
  const Synthetic s = synthetic(Shape{});
  auto img = ElfImage::open(write("sites", s.bytes));
  ASSERT_TRUE(img.ok());
  auto files = findStringsEndingWith(*img, "ssl/ssl_lib.cc");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(findStringsEndingWith(*img, "sl/ssl_lib.cc").empty());  // not at a path part
  auto sites = findErrorSites(*img, files);
  ASSERT_EQ(sites.size(), 10u);  // impl 2, write 4, read 1, shutdown 2, new 1
  for (const ErrorSite& e : sites) {
    EXPECT_EQ(e.library, kSslLib);
    EXPECT_EQ(e.line, 0x347u);
  }
  EXPECT_EQ(sites[0].reason, 226u);
  EXPECT_EQ(sites[1].reason, 215u);
}

TEST_F(DiscoveryTest, FunctionStartNeedsPaddingAndPrologue) {
  const Synthetic s = synthetic(Shape{});
  auto img = ElfImage::open(write("starts", s.bytes));
  ASSERT_TRUE(img.ok());
  FunctionTable none;
  auto st = functionStartOf(*img, none, s.write + 9);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->addr, s.write);
  EXPECT_EQ(st->how, "int3 padding + prologue");
  EXPECT_TRUE(hasPrologue(*img, s.write));
  EXPECT_TRUE(afterPadding(*img, s.write));
  EXPECT_FALSE(afterPadding(*img, s.write + 4));
  // an FDE covering the address wins
  FunctionTable fde;
  fde.ranges.push_back({s.write + 4, s.write + 64});
  st = functionStartOf(*img, fde, s.write + 9);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->addr, s.write + 4);
  EXPECT_EQ(st->how, "eh_frame");
}

TEST_F(DiscoveryTest, DirectCallsNearestFirstAndWithinARange) {
  const Synthetic s = synthetic(Shape{});
  auto img = ElfImage::open(write("calls", s.bytes));
  ASSERT_TRUE(img.ok());
  std::vector<uint64_t> t{s.impl};
  auto all = findDirectCalls(*img, t, DirectCallScan{});
  ASSERT_EQ(all.size(), 2u);  // SSL_read, SSL_shutdown
  DirectCallScan within;
  within.within = FunctionRange{s.read, s.read + 64};
  auto some = findDirectCalls(*img, t, within);
  ASSERT_EQ(some.size(), 1u);
  EXPECT_GT(some[0].site, s.read);
}

// ---- .eh_frame ----

TEST(EhFrameTest, ParsesCieAndFdesWithPcRelEncoding) {
  // CIE: version 1, "zR", code align 1, data align -8, RA 16, aug len 1, enc pcrel|sdata4
  std::vector<uint8_t> b;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
  };
  const std::vector<uint8_t> cieBody = {0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0, 0, 0};
  put32(uint32_t(cieBody.size()));
  b.insert(b.end(), cieBody.begin(), cieBody.end());
  const uint64_t sectionAddr = 0x10000;
  for (uint32_t fn : {0x20000u, 0x20100u}) {
    const size_t lenAt = b.size();
    put32(0);
    const size_t idAt = b.size();
    put32(uint32_t(idAt));  // back to the CIE at 0
    const uint64_t fieldAddr = sectionAddr + b.size();
    put32(uint32_t(int32_t(int64_t(fn) - int64_t(fieldAddr))));
    put32(0x80);  // range
    b.push_back(0);  // aug data length
    while ((b.size() - lenAt) % 4) b.push_back(0);
    const uint32_t len = uint32_t(b.size() - idAt);
    std::memcpy(&b[lenAt], &len, 4);
  }
  put32(0);
  FunctionTable t = parseEhFrame(b, sectionAddr);
  EXPECT_TRUE(t.complete);
  ASSERT_EQ(t.ranges.size(), 2u);
  EXPECT_EQ(t.ranges[0].start, 0x20000u);
  EXPECT_EQ(t.ranges[0].end, 0x20080u);
  EXPECT_TRUE(t.isStart(0x20100));
  EXPECT_FALSE(t.isStart(0x20104));
  EXPECT_EQ(t.containing(0x20140)->start, 0x20100u);
  EXPECT_FALSE(t.containing(0x20090));
  // a length running past the end stops the walk, keeping what was read
  b[b.size() - 4] = 0x40;
  b.insert(b.end(), 8, 0);
  t = parseEhFrame(b, sectionAddr);
  EXPECT_FALSE(t.complete);
  EXPECT_EQ(t.ranges.size(), 2u);
}

TEST(EhFrameTest, LibsslFunctionsAreFdeStarts) {
  const char* libssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
  auto img = ElfImage::open(libssl);
  if (!img.ok() || !img->isElf()) GTEST_SKIP() << "needs " << libssl;
  const FunctionTable t = functionTable(*img);
  EXPECT_GT(t.ranges.size(), 500u);
  static constexpr std::string_view names[] = {"SSL_write", "SSL_read", "SSL_free"};
  auto offs = img->functionOffsets(names);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(offs[i]) << names[i];
    // a shared library's offsets equal its addresses in the first segment
    EXPECT_TRUE(t.isStart(*offs[i])) << names[i] << " at " << *offs[i];
  }
}

// ---- ElfImage on damaged input ----

TEST(ElfImageTest, DamagedFilesGiveEmptyAnswers) {
  const std::string dir = fs::temp_directory_path() / ("aa-elfimage-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::mt19937 rng(7);
  const Synthetic s = synthetic(Shape{});
  for (int i = 0; i < 200; ++i) {
    std::string b = s.bytes;
    if (i % 2) b.resize(rng() % b.size());
    for (int k = 0; k < 16; ++k) b[rng() % b.size()] = char(rng());
    const std::string p = dir + "/f";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
    auto img = ElfImage::open(p);
    ASSERT_TRUE(img.ok());
    (void)functionTable(*img);
    auto d = discoverBoringSsl(*img);  // an error or nothing, never a crash
    (void)d;
  }
  std::ofstream(dir + "/text", std::ios::binary | std::ios::trunc) << "not an ELF file at all";
  auto img = ElfImage::open(dir + "/text");
  ASSERT_TRUE(img.ok());
  EXPECT_FALSE(img->isElf());
  EXPECT_FALSE(ElfImage::open(dir + "/missing").ok());
  fs::remove_all(dir);
}

TEST(ElfImageTest, BuildIdOfARealLibrary) {
  auto img = ElfImage::open("/usr/lib/x86_64-linux-gnu/libc.so.6");
  if (!img.ok() || !img->isElf()) GTEST_SKIP() << "needs libc.so.6";
  EXPECT_EQ(img->identity().buildId.size(), 40u);
}

// ---- cache ----

TEST_F(DiscoveryTest, CacheIsCheckedAgainstTheFilesBytesNotItsTimestamps) {
  const Synthetic syn = synthetic(Shape{});
  const std::string path = write("cached", syn.bytes);
  // created on store; as root, entries carry a MAC under this key (made on first use)
  DiscoveryCache cache((dir_ / "cache" / "sub").string(), (dir_ / "keys" / "key").string());
  auto first = scanTls(path, &cache);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->hooks);
  EXPECT_EQ(first->hooks->source, "discovered");
  auto second = scanTls(path, &cache);
  ASSERT_TRUE(second.ok() && second->hooks);
  EXPECT_EQ(second->hooks->source, "cached");
  EXPECT_EQ(second->hooks->offsets, first->hooks->offsets);
  EXPECT_EQ(second->found, first->found);

  // another mtime, same bytes: still the same file
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, 0), 0);
  auto touched = scanTls(path, &cache);
  ASSERT_TRUE(touched.ok() && touched->hooks);
  EXPECT_EQ(touched->hooks->source, "cached");

  // one byte changed in a hooked function, size, build-id and mtime kept: not trusted
  std::string patched = syn.bytes;
  patched[fileOffset(syn, syn.read) + 1] ^= 0x01;
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << patched; }
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, 0), 0);
  auto changed = scanTls(path, &cache);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(!changed->hooks || changed->hooks->source == "discovered");

  // the file replaced by another build with the same build-id (same name, other code
  // layout): its own offsets, never the entry's
  Shape other;
  other.style = Style::Pie;
  const Synthetic pie = synthetic(other);
  ASSERT_NE(fileOffset(pie, pie.read), fileOffset(syn, syn.read));
  const std::string tmp = write("replacement", pie.bytes);
  ASSERT_EQ(::rename(tmp.c_str(), path.c_str()), 0);
  auto replaced = scanTls(path, &cache);
  ASSERT_TRUE(replaced.ok() && replaced->hooks);
  EXPECT_EQ(replaced->hooks->source, "discovered");
  EXPECT_EQ(replaced->hooks->offsets[kHookRead], fileOffset(pie, pie.read));

  // a damaged entry is ignored
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  const std::string entry = cache.entryPath(*img);
  EXPECT_EQ(entry, cache.dir() + "/tls-" + img->identity().buildId);
  ASSERT_TRUE(fs::exists(entry));
  std::ofstream(entry, std::ios::trunc) << "aa-record tls-discovery 2\nhook SSL_write zz\n";
  EXPECT_FALSE(cache.load(*img));
}

std::string sha256Of(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    char b[3];
    snprintf(b, sizeof(b), "%02x", md[i]);
    out += b;
  }
  return out;
}

// The cache directory is the invoking user's, writable by their agent: as root only
// entries MACed under root's key count.
TEST_F(DiscoveryTest, AsRootOnlyEntriesWithRootsMacAreTrusted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (entries are MACed only when running as root)";
  const Synthetic syn = synthetic(Shape{});
  const std::string path = write("macd", syn.bytes);
  const std::string key = (dir_ / "k" / "key").string();
  DiscoveryCache cache((dir_ / "cache").string(), key);
  auto first = scanTls(path, &cache);
  ASSERT_TRUE(first.ok() && first->hooks);
  EXPECT_TRUE(first->problems.empty()) << first->problems[0];
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0) << "the key is made on first use";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  ASSERT_TRUE(cache.load(*img));
  const std::string entry = cache.entryPath(*img);
  std::string text;
  {
    std::ifstream in(entry);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const size_t mac = text.rfind("\nmac ");
  ASSERT_NE(mac, std::string::npos) << text;

  // what an unprivileged process can write: the entry without the MAC, and with
  // SSL_read moved into the middle of its first instruction, the digest recomputed
  const std::string unsignedText = text.substr(0, mac + 1);
  { std::ofstream(entry, std::ios::trunc) << unsignedText; }
  EXPECT_FALSE(cache.load(*img)) << "an entry without a MAC";
  const uint64_t readOff = fileOffset(syn, syn.read);
  const std::string was = "hook SSL_read " + std::to_string(readOff) + " ";
  const size_t at = unsignedText.find(was);
  ASSERT_NE(at, std::string::npos) << unsignedText;
  const uint64_t mid = readOff + 1;
  const std::string forged = unsignedText.substr(0, at) + "hook SSL_read " + std::to_string(mid) + " " +
                             sha256Of(syn.bytes.substr(mid, 4096)) + "\n" +
                             unsignedText.substr(unsignedText.find('\n', at) + 1);
  { std::ofstream(entry, std::ios::trunc) << forged << text.substr(mac + 1); }
  EXPECT_FALSE(cache.load(*img)) << "a forged entry with the old MAC";
  { std::ofstream(entry, std::ios::trunc) << forged; }
  EXPECT_FALSE(cache.load(*img)) << "a forged entry without a MAC";
  auto again = scanTls(path, &cache);
  ASSERT_TRUE(again.ok() && again->hooks);
  EXPECT_EQ(again->hooks->source, "discovered");
  EXPECT_EQ(again->hooks->offsets[kHookRead], readOff);

  // a key others can read is no key: nothing is cached, and the scan says why
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  DiscoveryCache loose((dir_ / "cache2").string(), key);
  auto open = scanTls(path, &loose);
  ASSERT_TRUE(open.ok() && open->hooks);
  ASSERT_FALSE(open->problems.empty());
  EXPECT_NE(open->problems.back().find("no MAC key"), std::string::npos) << open->problems.back();
  EXPECT_EQ(scanTls(path, &loose)->hooks->source, "discovered");

  // a key path from the environment (sudo -E passes the invoker's) is used, never made
  const std::string named = (dir_ / "named" / "key").string();
  setenv("AA_RECORD_CACHE_KEY", named.c_str(), 1);
  DiscoveryCache fromEnv((dir_ / "cache3").string());
  unsetenv("AA_RECORD_CACHE_KEY");
  auto envScan = scanTls(path, &fromEnv);
  ASSERT_TRUE(envScan.ok() && envScan->hooks);
  EXPECT_FALSE(fs::exists(named));
  EXPECT_FALSE(fs::exists(dir_ / "named"));
  ASSERT_FALSE(envScan->problems.empty());
  EXPECT_NE(envScan->problems.back().find("no MAC key"), std::string::npos) << envScan->problems.back();
}

TEST_F(DiscoveryTest, AFileWithoutBuildIdIsCachedByItsLayout) {
  Synthetic syn = synthetic(Shape{});
  // the note stays, but as another type: no GNU build-id (Codex has none)
  const uint32_t type = 0x1234;
  std::memcpy(&syn.bytes[0x200 + 8], &type, 4);
  const std::string path = write("nobuildid", syn.bytes);
  DiscoveryCache cache((dir_ / "cache").string(), (dir_ / "key").string());
  auto first = scanTls(path, &cache);
  ASSERT_TRUE(first.ok() && first->hooks);
  EXPECT_EQ(first->buildId, "");
  EXPECT_EQ(first->hooks->source, "discovered");
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  EXPECT_TRUE(fs::path(cache.entryPath(*img)).filename().string().starts_with("tls-layout-"));
  auto second = scanTls(path, &cache);
  ASSERT_TRUE(second.ok() && second->hooks);
  EXPECT_EQ(second->hooks->source, "cached");
  EXPECT_EQ(second->hooks->offsets, first->hooks->offsets);
  // one more byte at the end: another layout, another entry name; nothing cached for it
  { std::ofstream(path, std::ios::binary | std::ios::app) << '\0'; }
  auto grown = scanTls(path, &cache);
  ASSERT_TRUE(grown.ok() && grown->hooks);
  EXPECT_EQ(grown->hooks->source, "discovered");
}

// A traced process may truncate a library it mapped while discovery reads it: the
// read must not fault the recorder (SIGBUS), and nothing found may be used.
TEST_F(DiscoveryTest, AFileTruncatedWhileReadReadsZerosAndIsMarked) {
  const Synthetic syn = synthetic(Shape{});
  std::string bytes = syn.bytes;
  bytes.resize(std::max<size_t>(bytes.size(), 1 << 16), '\x90');
  const std::string path = write("shrinks", bytes);
  const std::string other = write("stays", bytes);
  auto img = ElfImage::open(path);
  auto untouched = ElfImage::open(other);
  ASSERT_TRUE(img.ok() && untouched.ok());
  EXPECT_FALSE(img->changedWhileRead());
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  const auto view = img->bytes();
  EXPECT_EQ(view[view.size() - 1], 0) << "past the new end: a page of zeros, not SIGBUS";
  EXPECT_EQ(view[0], 0);
  EXPECT_TRUE(img->changedWhileRead());
  EXPECT_EQ(untouched->bytes()[untouched->bytes().size() - 1], 0x90);
  EXPECT_FALSE(untouched->changedWhileRead());
  // a moved image keeps its mark; a new image of the same path starts clean
  ElfImage moved = std::move(*img);
  EXPECT_TRUE(moved.changedWhileRead());
  write("shrinks", bytes);
  auto again = scanTls(path, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->hooks);
}

// A cut inside the last page reads zeros without any fault: the size says it.
TEST_F(DiscoveryTest, AFileCutInsideItsLastPageIsMarkedToo) {
  const Synthetic syn = synthetic(Shape{});
  std::string bytes = syn.bytes;
  bytes.resize(std::max<size_t>(bytes.size(), 1 << 16), '\x90');
  const std::string path = write("tail", bytes);
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(::truncate(path.c_str(), off_t(bytes.size() - 8)), 0);
  EXPECT_EQ(img->bytes()[bytes.size() - 1], 0);
  EXPECT_TRUE(img->changedWhileRead());
}

// A cache entry is a regular file: a FIFO planted in its place would block a reader
// that opened it blindly.
TEST_F(DiscoveryTest, ACacheEntryThatIsNotARegularFileIsIgnored) {
  const Synthetic syn = synthetic(Shape{});
  const std::string path = write("fifo", syn.bytes);
  DiscoveryCache cache((dir_ / "cache").string(), (dir_ / "key").string());
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  fs::create_directories(dir_ / "cache");
  ASSERT_EQ(::mkfifo(cache.entryPath(*img).c_str(), 0600), 0);
  EXPECT_FALSE(cache.load(*img));
  auto scan = scanTls(path, &cache);
  ASSERT_TRUE(scan.ok() && scan->hooks);
  EXPECT_EQ(scan->hooks->source, "discovered");
  EXPECT_TRUE(fs::is_regular_file(cache.entryPath(*img))) << "the stored entry replaced the FIFO";
  EXPECT_EQ(scanTls(path, &cache)->hooks->source, "cached");
}

// Under sudo the cache is the invoking user's, in a directory their agent can change:
// root touches it only as that user.
TEST_F(DiscoveryTest, AsRootUnderSudoTheCacheIsWrittenAsTheInvokingUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (acts as another user)";
  constexpr uid_t kUser = 65534;
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const Synthetic syn = synthetic(Shape{});
  const std::string path = write("sudo", syn.bytes);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  const std::string key = (dir_ / "k" / "key").string();
  setenv("SUDO_UID", "65534", 1);
  setenv("SUDO_GID", "65534", 1);
  DiscoveryCache mine((dir_ / "home" / "cache").string(), key);
  fs::create_directories(dir_ / "home");
  ASSERT_EQ(::chown((dir_ / "home").c_str(), kUser, kUser), 0);
  // the agent made the cache directory a symlink to a directory only root may write
  fs::create_directories(dir_ / "rootonly");
  ASSERT_EQ(::chmod((dir_ / "rootonly").c_str(), 0700), 0);
  fs::create_symlink(dir_ / "rootonly", dir_ / "home" / "planted");
  DiscoveryCache planted((dir_ / "home" / "planted").string(), key);
  unsetenv("SUDO_UID");
  unsetenv("SUDO_GID");

  auto first = scanTls(path, &mine);
  ASSERT_TRUE(first.ok() && first->hooks);
  EXPECT_TRUE(first->problems.empty()) << first->problems[0];
  auto img = ElfImage::open(path);
  ASSERT_TRUE(img.ok());
  struct stat st {};
  ASSERT_EQ(::stat(mine.entryPath(*img).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUser) << "created by the user, not chowned afterwards";
  ASSERT_EQ(::stat(mine.dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUser);
  EXPECT_EQ(scanTls(path, &mine)->hooks->source, "cached");

  auto through = scanTls(path, &planted);
  ASSERT_TRUE(through.ok() && through->hooks);
  ASSERT_FALSE(through->problems.empty());
  EXPECT_NE(through->problems.back().find("Permission denied"), std::string::npos) << through->problems.back();
  EXPECT_TRUE(fs::is_empty(dir_ / "rootonly")) << "nothing written where only root may write";
}

TEST(DiscoveryCacheTest, DefaultDirIsTheInvokingUsersCache) {
  struct Env {  // restores one variable
    std::string name;
    std::optional<std::string> old;
    explicit Env(std::string n) : name(std::move(n)) {
      if (const char* v = getenv(name.c_str())) old = v;
    }
    ~Env() {
      if (old) setenv(name.c_str(), old->c_str(), 1);
      else unsetenv(name.c_str());
    }
  };
  Env a("AA_RECORD_CACHE_DIR"), b("SUDO_UID"), c("XDG_CACHE_HOME"), d("HOME");
  setenv("AA_RECORD_CACHE_DIR", "/tmp/explicit", 1);
  EXPECT_EQ(DiscoveryCache::defaultDir(), "/tmp/explicit");
  unsetenv("AA_RECORD_CACHE_DIR");
  unsetenv("SUDO_UID");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(DiscoveryCache::defaultDir(), "/home/someone/.cache/aa-record");
  setenv("XDG_CACHE_HOME", "/var/cache/someone", 1);
  EXPECT_EQ(DiscoveryCache::defaultDir(), "/var/cache/someone/aa-record");
  if (::geteuid() == 0) {
    // under sudo: the invoking user's home, not root's
    const passwd* pw = ::getpwuid(65534);
    if (pw) {
      setenv("SUDO_UID", "65534", 1);
      EXPECT_EQ(DiscoveryCache::defaultDir(), std::string(pw->pw_dir) + "/.cache/aa-record");
    }
  }
}

// ---- the real executables ----

std::vector<std::string> claudeExecutables() {
  const std::string dir = agentsDir();
  glob_t g{};
  std::vector<std::string> out;
  const std::string pattern =
      dir + "/@anthropic-ai+claude-code@*/node_modules/@anthropic-ai/claude-code-linux-x64/claude";
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

TEST(RealAgentsTest, ClaudeCodeBoringSslIsDiscoveredInEveryPinnedVersion) {
  const auto exes = claudeExecutables();
  if (exes.empty())
    GTEST_SKIP() << "Claude Code not installed: run fixtures/agents/install.sh (or set AA_AGENTS_DIR)";
  for (const std::string& exe : exes) {
    SCOPED_TRACE(exe);
    auto img = ElfImage::open(exe);
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(img->functionOffsets(std::array<std::string_view, 1>{"SSL_write"})[0], std::nullopt)
        << "exports SSL_write: not the case this test is for";
    const auto t0 = std::chrono::steady_clock::now();
    auto found = discoverBoringSsl(*img);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(found.ok()) << found.status().message();
    ASSERT_TRUE(found->has_value());
    const TlsHookSet& h = **found;
    printf("%s: discovered in %.0f ms: %s\n", exe.c_str(), ms, h.evidence.c_str());
    for (size_t f : {kHookWrite, kHookRead, kHookNew}) {
      ASSERT_TRUE(h.offsets[f]) << kTlsHookNames[f];
      // offsets are file offsets of function starts: int3 padding (or the ret of the function before) and a
      // frame-pointer prologue (Bun builds keep frame pointers)
      const auto bytes = img->bytes();
      const uint64_t o = *h.offsets[f];
      ASSERT_LT(o + 4, bytes.size());
      EXPECT_EQ(o % 16, 0u) << kTlsHookNames[f];
      EXPECT_TRUE(bytes[o - 1] == 0xcc || bytes[o - 1] == 0xc3) << kTlsHookNames[f];  // int3 or ret
      EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + o, bytes.begin() + o + 4),
                (std::vector<uint8_t>{0x55, 0x48, 0x89, 0xe5}))
          << kTlsHookNames[f];
    }
    EXPECT_NE(h.offsets[kHookWrite], h.offsets[kHookRead]);
    // discovery runs before the agent starts: it must not hold it up
    EXPECT_LT(ms, 3000) << "well above the 1 s target even for a loaded machine";
  }
}

std::vector<std::string> codexExecutables() {
  const std::string dir = agentsDir();
  glob_t g{};
  std::vector<std::string> out;
  const std::string pattern = dir +
      "/@openai+codex@*/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex";
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

TEST(RealAgentsTest, CodexAwsLcAeadIsDiscovered) {
  const auto exes = codexExecutables();
  if (exes.empty()) GTEST_SKIP() << "Codex not installed: run fixtures/agents/install.sh (or set AA_AGENTS_DIR)";
  for (const std::string& exe : exes) {
    SCOPED_TRACE(exe);
    auto img = ElfImage::open(exe);
    ASSERT_TRUE(img.ok());
    const auto t0 = std::chrono::steady_clock::now();
    auto found = discoverAwsLcAead(*img);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(found.ok()) << found.status().message();
    ASSERT_TRUE(found->has_value());
    const TlsHookSet& h = **found;
    printf("%s: discovered in %.0f ms: %s\n", exe.c_str(), ms, h.evidence.c_str());
    EXPECT_EQ(h.stack, "aws-lc");
    ASSERT_TRUE(h.offsets[kHookAeadSeal]);
    ASSERT_TRUE(h.offsets[kHookAeadOpen]);
    EXPECT_NE(h.offsets[kHookAeadSeal], h.offsets[kHookAeadOpen]);
    EXPECT_FALSE(h.offsets[kHookWrite] || h.offsets[kHookRead]) << "no SSL-level API in rustls";
    // both are .eh_frame function starts
    const FunctionTable fdes = functionTable(*img);
    for (size_t f : {kHookAeadSeal, kHookAeadOpen}) {
      const uint64_t off = *h.offsets[f];
      bool isStart = false;
      for (const auto& g : img->segments())
        if ((g.flags & PF_X) && off >= g.offset && off < g.offset + g.fileSize)
          isStart = fdes.isStart(off - g.offset + g.vaddr);
      EXPECT_TRUE(isStart) << kTlsHookNames[f];
    }
    if (exe.find("@openai+codex@0.171.0/") != std::string::npos) {
      // measured with counting uprobes on `codex exec` against the loopback mock: the
      // seal saw in_len 53 (Finished), 8967, 16385 x2 (the request) and 3 (an alert);
      // the open ran 18 times
      EXPECT_EQ(*h.offsets[kHookAeadSeal], 0x12628450u);
      EXPECT_EQ(*h.offsets[kHookAeadOpen], 0x12628690u);
      // the two reporting only NO_DIRECTION_SET; the second ran once per context
      // (handshake and traffic keys of each direction)
      EXPECT_EQ(h.offsets[kHookAeadInit], std::optional<uint64_t>(0x126282d0u));
      EXPECT_EQ(h.offsets[kHookAeadInit2], std::optional<uint64_t>(0x12628390u));
    }
    EXPECT_LT(ms, 3000) << "well above the 1 s target even for a loaded machine";
    // scanTls hooks it (no cache) and names the stack
    auto scan = scanTls(exe, nullptr);
    ASSERT_TRUE(scan.ok());
    ASSERT_TRUE(scan->hooks);
    EXPECT_EQ(scan->hooks->stack, "aws-lc");
    EXPECT_EQ(scan->hooks->offsets, h.offsets);
  }
}

// Cached lookups, for Claude Code (build-id) and every Codex (no build-id: keyed by its
// layout), are checked against the code at the offsets and stay under 50 ms.
TEST(RealAgentsTest, CachedLookupIsFast) {
  std::vector<std::string> exes = claudeExecutables();
  if (exes.size() > 1) exes.resize(1);
  for (const auto& c : codexExecutables()) exes.push_back(c);
  if (exes.empty())
    GTEST_SKIP() << "no agent installed: run fixtures/agents/install.sh (or set AA_AGENTS_DIR)";
  const std::string dir = fs::temp_directory_path() / ("aa-tls-cache-" + std::to_string(::getpid()));
  DiscoveryCache cache(dir, dir + "/key");
  for (const std::string& exe : exes) {
    SCOPED_TRACE(exe);
    auto first = scanTls(exe, &cache);
    ASSERT_TRUE(first.ok() && first->hooks);
    auto second = scanTls(exe, &cache);
    ASSERT_TRUE(second.ok() && second->hooks);
    EXPECT_EQ(second->hooks->source, "cached");
    EXPECT_EQ(second->hooks->offsets, first->hooks->offsets);
    EXPECT_EQ(second->problems, first->problems);
    printf("%s: first %.1f ms, cached %.1f ms\n", exe.c_str(), first->millis, second->millis);
    EXPECT_LT(second->millis, 50);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aa
