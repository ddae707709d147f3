#include "recorder/tls_discovery.h"

#include <elf.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include "recorder/code_scan.h"
#include "recorder/eh_frame.h"

namespace aa {

const std::array<const char*, kHookCount> kTlsHookNames = {
    "SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex", "SSL_free", "SSL_new",
    "EVP_AEAD_CTX_seal", "EVP_AEAD_CTX_open", "EVP_AEAD_CTX_init", "EVP_AEAD_CTX_init_with_direction"};

namespace {

// include/openssl/err.h and ssl.h (BoringSSL): values are ABI and do not change.
constexpr uint32_t kErrLibSsl = 16;
constexpr uint32_t kShouldNotHaveBeenCalled = 66;  // ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED
constexpr uint32_t kBadLength = 111;               // SSL_R_BAD_LENGTH
constexpr uint32_t kNullSslCtx = 185;              // SSL_R_NULL_SSL_CTX
constexpr uint32_t kProtocolIsShutdown = 194;      // SSL_R_PROTOCOL_IS_SHUTDOWN
constexpr uint32_t kHandshakeFailure = 215;        // SSL_R_SSL_HANDSHAKE_FAILURE
constexpr uint32_t kUninitialized = 226;           // SSL_R_UNINITIALIZED

std::string hex(uint64_t v) {
  char b[32];
  snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

bool containsString(const ElfImage& image, std::string_view needle) {
  for (const auto& s : image.sections()) {
    if (!(s.flags & SHF_ALLOC) || (s.flags & (SHF_EXECINSTR | SHF_WRITE)) || s.type != SHT_PROGBITS)
      continue;
    auto b = image.sectionBytes(s);
    if (memmem(b.data(), b.size(), needle.data(), needle.size())) return true;
  }
  return false;
}

std::string reasonsText(const std::set<uint32_t>& r) {
  std::string out;
  for (uint32_t v : r) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

// The error-reporting call sites of `library` (0: the library argument was not
// decoded) whose file argument is one of `files`, grouped by the function they are in.
struct SitesByFunction {
  std::map<uint64_t, std::set<uint32_t>> reasons;  // function start -> reasons reported
  std::map<uint64_t, std::string> how;             // function start -> how it was found
  size_t sites = 0;
  size_t unplaced = 0;                             // sites in no known function
};

SitesByFunction errorSitesByFunction(const ElfImage& image, const FunctionTable& fdes,
                                     const std::vector<uint64_t>& files, uint32_t library) {
  SitesByFunction out;
  for (const ErrorSite& s : findErrorSites(image, files)) {
    if (s.library != 0 && s.library != library) continue;
    ++out.sites;
    auto start = functionStartOf(image, fdes, s.addr);
    if (!start) {
      ++out.unplaced;
      continue;
    }
    out.reasons[start->addr].insert(s.reason);
    out.how[start->addr] = start->how;
  }
  return out;
}

}  // namespace

StatusOr<std::optional<TlsHookSet>> discoverBoringSsl(const ElfImage& image) {
  const std::vector<uint64_t> files = findStringsEndingWith(image, "ssl/ssl_lib.cc");
  if (files.empty()) return std::optional<TlsHookSet>();
  const std::string what = "BoringSSL in " + image.path();
  if (!image.isX86_64()) return Status::error(what + ": discovery supports x86-64 code only");

  const FunctionTable fdes = functionTable(image);
  auto [reasons, how, sites, unplaced] = errorSitesByFunction(image, fdes, files, kErrLibSsl);
  if (reasons.empty())
    return Status::error(what + ": no error-reporting call sites of ssl_lib.cc found (" +
                         std::to_string(sites) + " sites, " + std::to_string(unplaced) +
                         " outside a known function)");

  auto has = [&](uint64_t f, uint32_t r) {
    auto it = reasons.find(f);
    return it != reasons.end() && it->second.count(r) > 0;
  };
  auto unique = [&](auto pred, const char* name, uint64_t* out) -> Status {
    std::vector<uint64_t> c;
    for (auto& [f, r] : reasons)
      if (pred(f)) c.push_back(f);
    if (c.size() == 1) {
      *out = c[0];
      return {};
    }
    std::string list;
    for (uint64_t f : c) list += " " + hex(f);
    return Status::error(what + ": " + std::to_string(c.size()) + " candidates for " + name +
                         (list.empty() ? "" : " (" + list.substr(1) + ")"));
  };

  uint64_t write = 0, impl = 0, sslNew = 0;
  AA_RETURN_IF_ERROR(unique(
      [&](uint64_t f) {
        return has(f, kUninitialized) && has(f, kHandshakeFailure) &&
               (has(f, kBadLength) || has(f, kProtocolIsShutdown));
      },
      "SSL_write", &write));
  bool implInlined = false;
  Status implStatus = unique(
      [&](uint64_t f) {
        return f != write && has(f, kUninitialized) && has(f, kHandshakeFailure) &&
               !has(f, kBadLength) && !has(f, kProtocolIsShutdown) &&
               !has(f, kShouldNotHaveBeenCalled);
      },
      "ssl_read_impl", &impl);
  if (!implStatus.ok()) {
    // ssl_read_impl inlined into SSL_peek/SSL_read: that function reports all three
    AA_RETURN_IF_ERROR(unique(
        [&](uint64_t f) {
          return f != write && has(f, kUninitialized) && has(f, kHandshakeFailure) &&
                 has(f, kShouldNotHaveBeenCalled) && !has(f, kBadLength) &&
                 !has(f, kProtocolIsShutdown);
        },
        "SSL_read (ssl_read_impl inlined)", &impl));
    implInlined = true;
  }
  const bool haveNew = unique([&](uint64_t f) { return has(f, kNullSslCtx); }, "SSL_new", &sslNew).ok();

  uint64_t read = impl;
  if (!implInlined) {
    // ssl_read_impl is static: its callers are ssl_lib.cc functions, which report
    // errors too, so only their code is searched (all code if that finds none).
    std::vector<FunctionRange> near;
    for (auto& [f, r] : reasons) {
      if (!near.empty() && f <= near.back().end) near.back().end = f + 0x4000;
      else near.push_back({f, f + 0x4000});
    }
    std::vector<uint64_t> t{impl};
    std::vector<DirectCall> implCalls;
    for (const auto& range : near) {
      DirectCallScan scan;
      scan.within = range;
      for (auto& c : findDirectCalls(image, t, scan)) implCalls.push_back(c);
    }
    auto candidates = [&]() {
      std::set<uint64_t> cands;
      for (const DirectCall& c : implCalls) {
        auto start = functionStartOf(image, fdes, c.site);
        if (!start || start->addr == impl) continue;
        // a caller without error sites of its own (SSL_peek before 2019) counts too
        auto it = reasons.find(start->addr);
        const std::set<uint32_t> none;
        const auto& r = it == reasons.end() ? none : it->second;
        if (std::all_of(r.begin(), r.end(), [](uint32_t v) { return v == kShouldNotHaveBeenCalled; })) {
          cands.insert(start->addr);
          how.try_emplace(start->addr, start->how);
        }
      }
      return cands;
    };
    std::set<uint64_t> cands = candidates();
    if (cands.empty()) {
      implCalls = findDirectCalls(image, t, DirectCallScan{});
      cands = candidates();
    }
    if (cands.size() != 1)
      return Status::error(what + ": " + std::to_string(cands.size()) +
                           " candidates for SSL_read among the callers of ssl_read_impl at " +
                           hex(impl));
    read = *cands.begin();
  }

  // Each hooked function must be called directly from somewhere: a function start
  // and not a block inside one. The search stops at the first caller of each.
  std::vector<uint64_t> hooked{write, read};
  if (haveNew) hooked.push_back(sslNew);
  DirectCallScan verify;
  verify.withJumps = true;
  verify.firstOfEach = true;
  const std::vector<DirectCall> calls = findDirectCalls(image, hooked, verify);
  auto firstCaller = [&](uint64_t target) -> uint64_t {
    for (const auto& c : calls)
      if (c.target == target) return c.site;
    return 0;
  };
  auto callers = [&](uint64_t target) {
    size_t n = 0;
    for (const auto& c : calls) n += c.target == target;
    return n;
  };

  TlsHookSet out;
  out.stack = "BoringSSL";
  out.source = "discovered";
  std::string evidence;
  auto place = [&](size_t hook, uint64_t f) -> Status {
    const size_t n = callers(f);
    if (n == 0)
      return Status::error(what + ": " + kTlsHookNames[hook] + " candidate at " + hex(f) +
                           " is not the target of any direct call: not a verified function start");
    if (how[f] != "eh_frame" && !hasPrologue(image, f))
      return Status::error(what + ": " + kTlsHookNames[hook] + " candidate at " + hex(f) +
                           " does not start with a prologue");
    auto off = image.offsetOf(f);
    if (!off) return Status::error(what + ": " + hex(f) + " is not backed by the file");
    out.offsets[hook] = *off;
    evidence += std::string(evidence.empty() ? "" : "; ") + kTlsHookNames[hook] + "@" + hex(f) +
                " reasons {" + reasonsText(reasons[f]) + "} " + how[f] + ", " +
                "called from " + hex(firstCaller(f));
    return {};
  };
  AA_RETURN_IF_ERROR(place(kHookWrite, write));
  AA_RETURN_IF_ERROR(place(kHookRead, read));
  if (haveNew) {
    // optional: without it, connections are told apart by SSL* address only
    Status s = place(kHookNew, sslNew);
    if (!s.ok()) out.offsets[kHookNew].reset();
  }
  out.evidence = std::to_string(sites) + " ssl_lib.cc error sites in " +
                 std::to_string(reasons.size()) + " functions; " + evidence;
  return std::optional<TlsHookSet>(std::move(out));
}

// ---- aws-lc (rustls over aws-lc-rs: Codex) ----

namespace {
// include/openssl/err.h and cipher.h (aws-lc, as BoringSSL): ABI values.
constexpr uint32_t kErrLibCipher = 30;
constexpr uint32_t kBadDecrypt = 101;         // CIPHER_R_BAD_DECRYPT
constexpr uint32_t kBufferTooSmall = 103;     // CIPHER_R_BUFFER_TOO_SMALL
constexpr uint32_t kOutputAliasesInput = 115; // CIPHER_R_OUTPUT_ALIASES_INPUT
constexpr uint32_t kNoDirectionSet = 120;     // CIPHER_R_NO_DIRECTION_SET
}  // namespace

StatusOr<std::optional<TlsHookSet>> discoverAwsLcAead(const ElfImage& image) {
  const std::vector<uint64_t> files = findStringsEndingWith(image, "crypto/fipsmodule/cipher/aead.c");
  if (files.empty()) return std::optional<TlsHookSet>();
  const std::string what = "aws-lc in " + image.path();
  if (!image.isX86_64()) return Status::error(what + ": discovery supports x86-64 code only");

  const FunctionTable fdes = functionTable(image);
  auto [reasons, how, sites, unplaced] = errorSitesByFunction(image, fdes, files, kErrLibCipher);
  auto listOf = [&](const std::vector<uint64_t>& c) {
    std::string list;
    for (uint64_t f : c) list += " " + hex(f);
    return list.empty() ? std::string() : " (" + list.substr(1) + ")";
  };
  // EVP_AEAD_CTX_open: the one function reporting BAD_DECRYPT and BUFFER_TOO_SMALL
  std::vector<uint64_t> opens, seals, inits;
  for (auto& [f, r] : reasons) {
    if (r.size() == 1 && r.count(kNoDirectionSet)) inits.push_back(f);
    if (r.count(kBadDecrypt) && r.count(kBufferTooSmall)) opens.push_back(f);
    if (r.size() == 1 && r.count(kOutputAliasesInput)) seals.push_back(f);
  }
  if (opens.size() != 1)
    return Status::error(what + ": " + std::to_string(opens.size()) +
                         " candidates for EVP_AEAD_CTX_open (reasons 101 and 103)" + listOf(opens) + ", " +
                         std::to_string(sites) + " aead.c error sites");
  // EVP_AEAD_CTX_seal and EVP_AEAD_CTX_seal_scatter report only OUTPUT_ALIASES_INPUT;
  // seal is the one calling the other, or, where seal_scatter was inlined into it (both
  // copies then stand alone), the first: aead.c defines seal before seal_scatter and
  // compilers emit a file's functions in order.
  if (seals.empty() || seals.size() > 2)
    return Status::error(what + ": " + std::to_string(seals.size()) +
                         " candidates for EVP_AEAD_CTX_seal (reason 115 only)" + listOf(seals));
  uint64_t seal = seals[0];
  std::string sealHow = seals.size() == 1 ? "the only 115-only function" : "first of two 115-only functions";
  if (seals.size() == 2) {
    DirectCallScan scan;
    scan.withJumps = true;
    scan.throughGot = true;
    for (int k = 0; k < 2; ++k) {
      const uint64_t callee = seals[1 - k];
      auto range = fdes.containing(seals[k]);
      scan.within = FunctionRange{seals[k], range ? range->end : seals[k] + 0x400};
      std::vector<uint64_t> t{callee};
      if (!findDirectCalls(image, t, scan).empty()) {
        seal = seals[k];
        sealHow = "calls seal_scatter at " + hex(callee);
        break;
      }
    }
  }

  DirectCallScan verify;
  verify.withJumps = true;
  verify.firstOfEach = true;
  verify.throughGot = true;
  std::vector<uint64_t> hooked{seal, opens[0]};
  const std::vector<DirectCall> calls = findDirectCalls(image, hooked, verify);
  TlsHookSet out;
  out.stack = "aws-lc";
  out.source = "discovered";
  std::string evidence;
  auto place = [&](size_t hook, uint64_t f, const std::string& rule) -> Status {
    const DirectCall* caller = nullptr;
    for (const auto& c : calls)
      if (c.target == f && !caller) caller = &c;
    if (!caller)
      return Status::error(what + ": " + kTlsHookNames[hook] + " candidate at " + hex(f) +
                           " is not the target of any call: not a verified function start");
    if (how[f] != "eh_frame" && !hasPrologue(image, f))
      return Status::error(what + ": " + kTlsHookNames[hook] + " candidate at " + hex(f) +
                           " does not start with a prologue");
    auto off = image.offsetOf(f);
    if (!off) return Status::error(what + ": " + hex(f) + " is not backed by the file");
    out.offsets[hook] = *off;
    evidence += std::string(evidence.empty() ? "" : "; ") + kTlsHookNames[hook] + "@" + hex(f) + " reasons {" +
                reasonsText(reasons[f]) + "} " + how[f] + ", " + rule + ", called from " + hex(caller->site) +
                (caller->viaGot ? " via .got" : "");
    return {};
  };
  AA_RETURN_IF_ERROR(place(kHookAeadSeal, seal, sealHow));
  AA_RETURN_IF_ERROR(place(kHookAeadOpen, opens[0], "reports 101 and 103"));
  // optional: without them a context address reused by a later connection is told
  // apart only by its socket. Their callers (connection setup) lie far from aead.c, so
  // an .eh_frame start is required instead of a caller search over the whole code.
  if (inits.size() <= 2) {
    for (size_t k = 0; k < inits.size(); ++k) {
      const size_t hook = k == 0 ? kHookAeadInit : kHookAeadInit2;
      auto off = image.offsetOf(inits[k]);
      if (how[inits[k]] != "eh_frame" || !off) continue;
      out.offsets[hook] = *off;
      evidence += std::string("; ") + kTlsHookNames[hook] + "@" + hex(inits[k]) + " reasons {" +
                  reasonsText(reasons[inits[k]]) + "} eh_frame, reports 120 only";
    }
  }
  out.evidence = std::to_string(sites) + " aead.c error sites in " + std::to_string(reasons.size()) +
                 " functions; " + evidence;
  return std::optional<TlsHookSet>(std::move(out));
}

// ---- cache ----

std::string DiscoveryCache::defaultDir() {
  if (const char* d = getenv("AA_RECORD_CACHE_DIR"); d && *d) return d;
  if (::geteuid() == 0) {
    if (const char* su = getenv("SUDO_UID"); su && *su) {
      if (const passwd* pw = ::getpwuid(static_cast<uid_t>(strtoul(su, nullptr, 10))))
        return std::string(pw->pw_dir) + "/.cache/aa-record";
    }
  }
  if (const char* x = getenv("XDG_CACHE_HOME"); x && *x == '/') return std::string(x) + "/aa-record";
  if (const char* h = getenv("HOME"); h && *h) return std::string(h) + "/.cache/aa-record";
  if (const passwd* pw = ::getpwuid(::geteuid())) return std::string(pw->pw_dir) + "/.cache/aa-record";
  return "";
}

namespace {
constexpr const char* kCacheMagic = "aa-record tls-discovery 2";
// Bytes of code checked per hooked function, from its start (clipped at the end of the
// file): the instructions the uprobe replaces and the function's first instructions
// beyond them, all of it for the functions hooked so far.
constexpr uint64_t kCodeWindow = 4096;

std::string hexOf(const unsigned char* bytes, unsigned len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string sha256Hex(std::initializer_list<std::span<const uint8_t>> parts) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  for (auto p : parts) ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";  // never matches: the entry is not used, nor written
  return hexOf(md, len);
}

// The file's layout: its size, ELF header, program headers and section headers. Any
// relinked build differs here (a section's size or offset moves).
std::string layoutDigest(const ElfImage& image) {
  const auto b = image.bytes();
  uint8_t size[8];
  const uint64_t n = b.size();
  memcpy(size, &n, 8);
  std::span<const uint8_t> ehdr, phdrs, shdrs;
  if (b.size() >= sizeof(Elf64_Ehdr)) {
    Elf64_Ehdr eh;
    memcpy(&eh, b.data(), sizeof(eh));
    ehdr = b.first(sizeof(eh));
    auto table = [&](uint64_t off, uint64_t count, uint64_t entsize) -> std::span<const uint8_t> {
      const uint64_t len = count * entsize;
      if (off > b.size() || len > b.size() - off) return {};
      return b.subspan(off, len);
    };
    phdrs = table(eh.e_phoff, eh.e_phnum, eh.e_phentsize);
    shdrs = table(eh.e_shoff, eh.e_shnum, eh.e_shentsize);
  }
  return sha256Hex({std::span<const uint8_t>(size, 8), ehdr, phdrs, shdrs});
}

std::string codeDigest(const ElfImage& image, uint64_t off) {
  const auto b = image.bytes();
  if (off >= b.size()) return "";
  return sha256Hex({b.subspan(off, std::min<uint64_t>(kCodeWindow, b.size() - off))});
}

// The entry's name: the build-id, or for a file without one (Codex) its layout digest.
std::string cacheKey(const ElfImage& image) {
  const std::string& id = image.identity().buildId;
  return id.empty() ? "layout-" + layoutDigest(image).substr(0, 40) : id;
}

// Under sudo, files in the invoking user's cache belong to that user.
// A cache entry, read as the directory's owner: a regular file (not a FIFO that would
// block, not a symlink), of a sane size.
std::optional<std::string> readEntry(const std::string& path) {
  constexpr off_t kMaxEntry = 1 << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= kMaxEntry) {
    text.resize(static_cast<size_t>(st.st_size));
    if (::pread(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) text.clear();
  }
  ::close(fd);
  if (text.empty()) return std::nullopt;
  return text;
}
}  // namespace

DiscoveryCache::DiscoveryCache(std::string dir, std::string keyPath) : dir_(std::move(dir)) {
  if (keyPath.empty()) {
    // the invoker's environment (sudo -E) names a key, never a place for root to create one
    if (const char* k = getenv("AA_RECORD_CACHE_KEY"); k && *k) {
      keyPath = k;
      mayCreateKey_ = false;
    }
  }
  keyPath_ = keyPath.empty() ? kDefaultKeyPath : std::move(keyPath);
  // as root under sudo: the invoking user's (their home, or the directory their
  // environment named)
  auto owner = resolveCredentials("");
  if (owner.ok()) {
    owner_ = *owner;
  } else {
    unusable_ = "TLS discovery cache not used: " + owner.status().message();
    dir_.clear();
  }
}

namespace {
constexpr size_t kKeyBytes = 32;

// A key only root can have written and can read: a regular file (not followed through
// a symlink), owned by uid 0, no access for group or others, kKeyBytes long.
StatusOr<std::string> readKey(const std::string& path, bool* missing = nullptr) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (missing) *missing = err == ENOENT;
    return Status::error(path + ": " + std::strerror(err));
  }
  struct stat st {};
  std::string key(kKeyBytes, '\0');
  const bool statOk = ::fstat(fd, &st) == 0;
  const ssize_t n = statOk ? ::read(fd, key.data(), key.size()) : -1;
  ::close(fd);
  if (!statOk || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0)
    return Status::error(path + ": not a root-owned regular file of mode 0600");
  if (n != static_cast<ssize_t>(kKeyBytes) || st.st_size != static_cast<off_t>(kKeyBytes))
    return Status::error(path + ": not a " + std::to_string(kKeyBytes) + "-byte key");
  return key;
}

StatusOr<std::string> makeKey(const std::string& path) {
  const std::string parent = path.substr(0, path.rfind('/'));
  if (!parent.empty() && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::error(parent + ": " + std::strerror(errno));
  std::string key(kKeyBytes, '\0');
  if (::getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size()))
    return Status::error(std::string("getrandom: ") + std::strerror(errno));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::error(path + ": write failed");
  }
  return readKey(path);  // the same checks as any later use
}

std::string hmacHex(const std::string& key, const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(text.data()), text.size(), md, &len))
    return "";
  return hexOf(md, len);
}
}  // namespace

StatusOr<std::string> DiscoveryCache::rootKey() const {
  if (!key_) {
    bool missing = false;
    auto k = readKey(keyPath_, &missing);
    if (!k.ok() && missing && mayCreateKey_) k = makeKey(keyPath_);
    if (!k.ok()) k = Status::error("TLS discovery cache not used as root: no MAC key: " + k.status().message());
    key_ = std::move(k);
  }
  return *key_;
}

std::string DiscoveryCache::entryPath(const ElfImage& image) const {
  return dir_.empty() ? "" : dir_ + "/tls-" + cacheKey(image);
}

std::optional<DiscoveryCache::Entry> DiscoveryCache::load(const ElfImage& image) const {
  if (dir_.empty()) return std::nullopt;
  std::optional<StatusOr<std::string>> key;  // as root: read as root, before acting as the owner
  if (::geteuid() == 0 && !(key = rootKey())->ok()) return std::nullopt;
  std::optional<std::string> read;
  {
    ActAsUser as(owner_);
    read = readEntry(entryPath(image));
  }
  if (!read) return std::nullopt;
  std::string text = std::move(*read);
  if (key) {
    // the last line is "mac HEX" over everything before it
    const size_t at = text.rfind("\nmac ");
    if (at == std::string::npos) return std::nullopt;
    std::string mac = text.substr(at + 5);
    while (!mac.empty() && mac.back() == '\n') mac.pop_back();
    text.resize(at + 1);
    const std::string want = hmacHex(**key, text);
    if (want.empty() || mac != want) return std::nullopt;
  }
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kCacheMagic) return std::nullopt;
  Entry e;
  TlsHookSet& h = e.hooks;
  bool keyOk = false, sizeOk = false, layoutOk = false;
  std::array<bool, kHookCount> codeOk{};
  const uint64_t size = image.bytes().size();
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "key") {
      std::string v;
      ls >> v;
      keyOk = v == cacheKey(image);
    } else if (key == "size") {
      uint64_t v = 0;
      ls >> v;
      sizeOk = v == size;
    } else if (key == "layout") {
      std::string v;
      ls >> v;
      layoutOk = !v.empty() && v == layoutDigest(image);
    } else if (key == "stack") {
      std::getline(ls >> std::ws, h.stack);
    } else if (key == "evidence") {
      std::getline(ls >> std::ws, h.evidence);
    } else if (key == "found") {
      std::getline(ls >> std::ws, e.found.emplace_back());
    } else if (key == "problem") {
      std::getline(ls >> std::ws, e.problems.emplace_back());
    } else if (key == "hook") {
      // hook NAME OFFSET SHA256-OF-THE-CODE-THERE
      std::string name, digest;
      uint64_t off = 0;
      if (!(ls >> name >> off >> digest)) return std::nullopt;
      auto it = std::find_if(kTlsHookNames.begin(), kTlsHookNames.end(),
                             [&](const char* n) { return name == n; });
      if (it == kTlsHookNames.end() || off == 0 || off >= size) return std::nullopt;
      const size_t f = it - kTlsHookNames.begin();
      h.offsets[f] = off;
      const std::string now = codeDigest(image, off);
      codeOk[f] = !now.empty() && digest == now;
    }
  }
  if (!keyOk || !sizeOk || !layoutOk || h.stack.empty() || !h.any()) return std::nullopt;
  for (size_t f = 0; f < kHookCount; ++f)
    if (h.offsets[f] && !codeOk[f]) return std::nullopt;
  h.source = "cached";
  return e;
}

Status DiscoveryCache::store(const ElfImage& image, const Entry& e) const {
  if (dir_.empty()) return Status::error("TLS discovery cache: " + unusable_);
  const std::string layout = layoutDigest(image);
  if (layout.empty()) return Status::error("TLS discovery cache: SHA-256 from libcrypto failed");
  std::ostringstream out;
  out << kCacheMagic << "\n"
      << "key " << cacheKey(image) << "\n"
      << "size " << image.bytes().size() << "\n"
      << "layout " << layout << "\n"
      << "stack " << e.hooks.stack << "\n"
      << "evidence " << e.hooks.evidence << "\n";
  for (const auto& f : e.found) out << "found " << f << "\n";
  for (const auto& p : e.problems) out << "problem " << p << "\n";
  for (size_t f = 0; f < kHookCount; ++f)
    if (e.hooks.offsets[f])
      out << "hook " << kTlsHookNames[f] << " " << *e.hooks.offsets[f] << " "
          << codeDigest(image, *e.hooks.offsets[f]) << "\n";
  std::string text = out.str();
  if (::geteuid() == 0) {
    auto key = rootKey();
    if (!key.ok()) return key.status();
    const std::string mac = hmacHex(*key, text);
    if (mac.empty()) return Status::error("TLS discovery cache: HMAC from libcrypto failed");
    text += "mac " + mac + "\n";
  }

  ActAsUser as(owner_);
  // the directory chain (~/.cache may not exist yet)
  for (size_t i = 1; i <= dir_.size(); ++i) {
    if (i < dir_.size() && dir_[i] != '/') continue;
    const std::string part = dir_.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return Status::error("TLS discovery cache " + part + ": " + std::strerror(errno));
  }
  const std::string path = entryPath(image);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error("TLS discovery cache " + tmp + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int why = written ? errno : err;
    ::unlink(tmp.c_str());
    return Status::error("TLS discovery cache " + (written ? path : tmp) + ": " + std::strerror(why));
  }
  return {};
}

// ---- one file ----

StatusOr<TlsScan> scanTls(const std::string& path, const DiscoveryCache* cache) {
  const auto t0 = std::chrono::steady_clock::now();
  auto opened = ElfImage::open(path);
  if (!opened.ok()) return opened.status();
  const ElfImage& image = *opened;
  TlsScan scan;
  auto finish = [&]() -> StatusOr<TlsScan> {
    if (image.changedWhileRead())
      return Status::error(path + ": the file shrank while it was examined (truncated by another process); its TLS is not hooked");
    scan.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return std::move(scan);
  };
  if (!image.isElf()) return finish();
  scan.buildId = image.identity().buildId;

  // 1. exported (or unstripped static) OpenSSL API
  static constexpr std::string_view kNames[] = {"SSL_write", "SSL_write_ex", "SSL_read",
                                                "SSL_read_ex", "SSL_free"};
  auto syms = image.functionOffsets(kNames);
  TlsHookSet bySyms;
  bySyms.stack = "OpenSSL";
  bySyms.source = "exported symbols";
  for (size_t f = 0; f < std::size(kNames); ++f) bySyms.offsets[f] = syms[f];
  if (bySyms.any()) {
    scan.found.push_back("OpenSSL API (symbols)");
    scan.hooks = std::move(bySyms);
    return finish();
  }

  const std::string base = path.substr(path.rfind('/') + 1);
  if (base.starts_with("libgnutls")) {
    scan.found.push_back("GnuTLS");
    scan.problems.push_back("GnuTLS is not supported yet");
    return finish();
  }
  if (base.starts_with("libnss3") || base.starts_with("libssl3.so")) {
    scan.found.push_back("NSS");
    scan.problems.push_back("NSS is not supported yet");
    return finish();
  }
  // Only code that can hold a TLS stack is searched further.
  bool exec = false;
  for (const auto& g : image.segments()) exec |= (g.flags & PF_X) != 0;
  if (!exec) return finish();

  // 2. the cache (by build-id or layout, checked against the code at each offset)
  // spares the search; else discovery
  if (cache) {
    if (auto cached = cache->load(image)) {
      scan.found = std::move(cached->found);
      scan.problems = std::move(cached->problems);
      scan.hooks = std::move(cached->hooks);
      return finish();
    }
  }
  // (discovery itself looks for ssl_lib.cc: an error means it is there)
  if (auto d = discoverBoringSsl(image); !d.ok()) {
    scan.found.push_back("BoringSSL");
    scan.problems.push_back(d.status().message());
  } else if (*d) {
    scan.found.push_back("BoringSSL");
    scan.hooks = std::move(**d);
  }
  // 3. aws-lc (rustls over aws-lc-rs) where no SSL-level API was found: its AEAD
  // entry points carry every TLS record
  if (containsString(image, "aws-lc/crypto/")) {
    scan.found.push_back(containsString(image, "rustls") ? "aws-lc (rustls)" : "aws-lc");
    if (scan.hooks) {
      // BoringSSL's SSL_* hooks see the plaintext already
    } else if (auto d = discoverAwsLcAead(image); !d.ok()) {
      scan.problems.push_back(d.status().message());
    } else if (*d) {
      scan.hooks = std::move(**d);
    } else {
      scan.problems.push_back("aws-lc: crypto/fipsmodule/cipher/aead.c not found, its AEAD functions cannot be hooked");
    }
  }
  // (a stripped OpenSSL next to hooked aws-lc, as in Codex, stays named: its
  // connections, if any, are not decrypted)
  if ((!scan.hooks || scan.hooks->stack == "aws-lc") && !findStringsEndingWith(image, "ssl/ssl_lib.c").empty()) {
    scan.found.push_back("OpenSSL (static, no symbols)");
    scan.problems.push_back("OpenSSL linked statically without symbols is not supported yet");
  }
  if (image.section(".gopclntab") || containsString(image, "crypto/tls.(*Conn).Write")) {
    scan.found.push_back("Go crypto/tls");
    scan.problems.push_back("Go crypto/tls is not supported yet");
  }
  // what was found is kept with the verdict, so a cached scan reports the same
  if (cache && scan.hooks && scan.hooks->source == "discovered" && !image.changedWhileRead()) {
    Status st = cache->store(image, DiscoveryCache::Entry{*scan.hooks, scan.found, scan.problems});
    if (!st.ok()) scan.problems.push_back(st.message());
  }
  return finish();
}

}  // namespace aa
