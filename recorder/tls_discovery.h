// TLS discovery: where to put the TLS uprobes in one executable or library. Maps from
// an ELF file to the file offsets of the functions the BPF side hooks (bpf/tls.bpf.c)
// and to a description of every TLS stack seen in it, hookable or not.
//
//  - OpenSSL (and anything exporting its API): SSL_write/_ex, SSL_read/_ex, SSL_free
//    from .dynsym/.symtab ("exported symbols").
//  - BoringSSL linked in without symbols (Bun, so Claude Code): found from facts that
//    survive releases ("discovered"), never from prologue bytes of one build:
//      the __FILE__ string ".../ssl/ssl_lib.cc" that OPENSSL_PUT_ERROR passes to
//      ERR_put_error(ERR_LIB_SSL, 0, reason, file, line), the reason codes at each call
//      site (include/openssl/ssl.h; stable, they are ABI), and the call graph:
//        SSL_write     the one function reporting SSL_R_UNINITIALIZED and
//                      SSL_R_SSL_HANDSHAKE_FAILURE and SSL_R_BAD_LENGTH (or, before
//                      2024, SSL_R_PROTOCOL_IS_SHUTDOWN);
//        ssl_read_impl the one other function reporting UNINITIALIZED and
//                      HANDSHAKE_FAILURE and none of BAD_LENGTH, PROTOCOL_IS_SHUTDOWN,
//                      ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED;
//        SSL_read      the caller of ssl_read_impl reporting nothing from ssl_lib.cc but
//                      ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED (SSL_peek inlined into it, or
//                      SSL_peek itself when it is not: same bytes either way);
//        SSL_new       the one function reporting SSL_R_NULL_SSL_CTX; hooked at return,
//                      its result ends any earlier connection at that address (what
//                      SSL_free does for OpenSSL: SSL_free itself reports no error).
//    Each function start is checked (an .eh_frame FDE, or int3 padding + prologue) and
//    must be the target of a direct call.
//  - aws-lc under rustls (Codex), where no SSL-level API exists: EVP_AEAD_CTX_seal/open
//    (and _init) found from crypto/fipsmodule/cipher/aead.c's error sites, see
//    discoverAwsLcAead below.
//  - Stacks seen but not hookable yet (GnuTLS, NSS, Go crypto/tls, a stripped static
//    OpenSSL) are named, so a recording says what it could not decrypt.
//
// Results of discovery are cached in the invoking user's cache directory
// (DiscoveryCache), checked against the file's bytes at each use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recorder/elf_image.h"
#include "recorder/launcher.h"
#include "store/status.h"

namespace aa {

// Hooked functions, in the order of enum aa_tls_func (bpf/events.h), then SSL_free
// (entry) and SSL_new (return).
enum TlsHookIndex : size_t {
  kHookWrite = 0,
  kHookWriteEx = 1,
  kHookRead = 2,
  kHookReadEx = 3,
  kHookFree = 4,
  kHookNew = 5,
  kHookAeadSeal = 6,  // EVP_AEAD_CTX_seal (entry): aws-lc under rustls
  kHookAeadOpen = 7,  // EVP_AEAD_CTX_open (entry and return)
  kHookAeadInit = 8,  // EVP_AEAD_CTX_init (entry): a context (re)starts at its address
  kHookAeadInit2 = 9, // EVP_AEAD_CTX_init_with_direction (entry): the same
  kHookCount = 10,
};
extern const std::array<const char*, kHookCount> kTlsHookNames;

struct TlsHookSet {
  std::string stack;   // "OpenSSL" (by symbols) or "BoringSSL"
  std::string source;  // "exported symbols", "discovered", "cached"
  std::array<std::optional<uint64_t>, kHookCount> offsets;  // file offsets
  std::string evidence;  // how the offsets were found (one line)
  bool any() const {     // a data function: SSL_free/SSL_new alone are no reason to hook
    for (size_t f = 0; f < kHookFree; ++f)
      if (offsets[f]) return true;
    return offsets[kHookAeadSeal] || offsets[kHookAeadOpen];
  }
};

struct TlsScan {
  std::optional<TlsHookSet> hooks;   // what will be hooked, if anything
  std::vector<std::string> found;    // every TLS stack seen, e.g. "BoringSSL", "aws-lc"
  std::vector<std::string> problems; // one line each: a stack seen but not hookable, why
  std::string buildId;
  double millis = 0;                 // time spent in scanTls (open + discovery)
};

// Stores and finds discovery results, never trusted across a different file: an entry
// `<dir>/tls-<key>` (key: the GNU build-id, or for a file without one a digest of its
// layout) is used only when the file's size and layout (SHA-256 of the ELF, program and
// section headers) and, at each hooked offset, the SHA-256 of the code there (4 KiB from
// the function start) are those the entry was made from. Timestamps, names and inode
// numbers are not trusted (an agent can set mtime, replace the file, or keep a writable
// mapping of it); the bytes are read from the file itself at each lookup. A damaged or
// foreign entry is ignored (and replaced).
//
// The directory belongs to the invoking user, whose agent can write it: as root, an
// entry is trusted only with a valid HMAC-SHA256 under a key only root can read (a
// root-owned mode 0600 file, made on first use), so an entry an unprivileged process
// wrote, with digests it computed for offsets it chose (a breakpoint in the middle of
// an instruction of a binary every user runs), is ignored and replaced.
class DiscoveryCache {
 public:
  struct Entry {
    TlsHookSet hooks;
    std::vector<std::string> found, problems;  // as TlsScan, reported again on a hit
  };
  // keyPath: the MAC key used when running as root (default kDefaultKeyPath, made
  // there on first use; or $AA_RECORD_CACHE_KEY, which must exist). It must be a
  // root-owned regular file of mode 0600, else it is not used and, as root, nothing is
  // cached.
  explicit DiscoveryCache(std::string dir, std::string keyPath = "");
  static constexpr const char* kDefaultKeyPath = "/var/lib/aa-record/tls-cache.key";
  // $AA_RECORD_CACHE_DIR, else the cache of the user who invoked aa-record (under sudo:
  // SUDO_UID's home; XDG_CACHE_HOME honoured for the current user) + "/aa-record".
  static std::string defaultDir();
  const std::string& dir() const { return dir_; }
  std::string entryPath(const ElfImage& image) const;
  std::optional<Entry> load(const ElfImage& image) const;
  // Errors are returned for the caller to report (a read-only home is no reason to
  // fail a recording).
  Status store(const ElfImage& image, const Entry& entry) const;

 private:
  // As root: the MAC key, read (or made) on first use; an error says why there is none.
  StatusOr<std::string> rootKey() const;

  std::string dir_;
  std::string unusable_ = "no cache directory (HOME unset)";  // why, when dir_ is empty
  // Whose directory it is: every path operation in it runs as that user (ActAsUser),
  // so an agent that replaced a part of it by a symlink gets root to open or write
  // nothing the user could not.
  Credentials owner_;
  std::string keyPath_;
  bool mayCreateKey_ = true;
  mutable std::optional<StatusOr<std::string>> key_;
};

// BoringSSL in an image without symbols: the rules above. Error: the image holds
// BoringSSL's ssl_lib.cc but a rule did not single out a function (the message says
// which). nullopt: no BoringSSL here.
StatusOr<std::optional<TlsHookSet>> discoverBoringSsl(const ElfImage& image);

// aws-lc's AEAD entry points in an image without symbols (rustls over aws-lc-rs:
// Codex), from crypto/fipsmodule/cipher/aead.c's OPENSSL_PUT_ERROR(CIPHER=30, reason)
// sites: EVP_AEAD_CTX_open is the one function reporting CIPHER_R_BAD_DECRYPT (101) and
// CIPHER_R_BUFFER_TOO_SMALL (103); EVP_AEAD_CTX_seal one of the (at most two) reporting
// only CIPHER_R_OUTPUT_ALIASES_INPUT (115): the one calling the other (seal_scatter), else
// the first in the file. EVP_AEAD_CTX_init and _init_with_direction (optional: they end
// a connection at a reused context address) are the (one or two) functions reporting
// only CIPHER_R_NO_DIRECTION_SET (120). Each must be called (directly, or through a .got slot: Rust
// calls without a PLT). nullopt: no aead.c here.
StatusOr<std::optional<TlsHookSet>> discoverAwsLcAead(const ElfImage& image);

// Everything above for one file. `cache` may be null (no caching). Errors: the file
// cannot be read.
StatusOr<TlsScan> scanTls(const std::string& path, const DiscoveryCache* cache);

}  // namespace aa
