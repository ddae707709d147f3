// TlsCapture: TLS plaintext capture. Maps from uprobes on SSL_write, SSL_write_ex,
// SSL_read and SSL_read_ex (bpf/tls.bpf.c) to schema `tls` events. Where the functions
// are is decided per file by recorder/tls_discovery.h: OpenSSL's exported symbols,
// BoringSSL found without symbols (Bun, so Claude Code), cached by build-id, or aws-lc's
// AEAD seal/open under rustls (Codex), whose per-direction contexts are joined into
// connections by recorder/aead_join.h.
//
// It owns the TLS BPF object, which reuses the recorder core's maps (bpf/common.bpf.h:
// `traced_pids`, the `events` ring, `lost_counts`; bpf/tls_sys.bpf.h: the TLS state the
// core's sys_enter/sys_exit pair keeps), so scoping is the core's (by tgid, never by
// comm), every syscall runs one program pair, and TLS records arrive through the core's
// drain loop: the core hands every record it does not know to decode().
//
// Attachment: uprobes bind to an inode, so each distinct (dev, inode) holding OpenSSL is
// attached once, whichever process maps it. The system libssl is attached at create();
// onExec() scans a new image (its executable and /proc/PID/maps, container roots
// included); libraries mapped later (Python dlopens libssl) are found when the BPF side
// reports an executable mmap, which decode() turns into a rescan of that process.
//
// Plain HTTP: the core's sys_exit takes the bytes of unencrypted TCP connections whose
// first write is HTTP (bpf/plain_sys.bpf.h) as the same records with AA_TLS_SOCK_* funcs;
// they become `tls` events with plain = true, no lib, func = the syscall.
//
// Offsets: the kernel splits a call into chunks of at most AA_TLS_CHUNK bytes that
// carry their offset within the call; decode() keeps the running byte offset per
// (connection, direction) so the `offset` field is the offset within the stream.
//
// Not thread-safe: called from the drain thread only. Non-copyable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recorder/decoder.h"
#include "recorder/redact.h"
#include "store/session_meta.h"
#include "store/session_writer.h"
#include "store/status.h"

namespace aa {

struct TlsOptions {
  uint64_t maxBytesPerConn = 0;  // per connection and direction; 0 = unlimited
  bool redact = true;            // secrets replaced (recorder/redact.h)
  RedactRules rules;             // what is secret (the built-in list unless extended)
  bool uprobeMulti = true;       // one uprobe_multi link per library where the kernel has
                                 // them (Linux 6.6+); false: classic uprobes only
  bool plainHttp = true;         // the core captures plain-HTTP sockets (bpf/plain_sys.bpf.h)
                                 // and this decodes them; false: --no-plain-http
};

class TlsCapture {
 public:
  // The maps another object owns, by name (bpf/common.bpf.h, bpf/tls_sys.bpf.h); the
  // TLS object reuses these and makes the rest. The fds are only used during create().
  using SharedMapFds = std::map<std::string, int, std::less<>>;
  // Beside the recorder core: sharedMapFds are the core's (CoreProbes::mapFds(), or
  // dups of them: this may run on another thread while the core's programs load), and
  // the core's syscall hooks do the TLS syscall work once the caller calls
  // CoreProbes::enableTlsSyscallWork().
  static StatusOr<std::unique_ptr<TlsCapture>> create(const SharedMapFds& sharedMapFds,
                                                      const TlsOptions& options);
  // Alone (tests): tracedPidsMapFd is a `traced_pids` hash (__u32 tgid -> __u32),
  // ringBufMapFd an `events` ring buffer, both outliving this object; the TLS object
  // attaches syscall hooks of its own.
  static StatusOr<std::unique_ptr<TlsCapture>> create(int tracedPidsMapFd, int ringBufMapFd,
                                                      const TlsOptions& options);
  ~TlsCapture();
  TlsCapture(const TlsCapture&) = delete;
  TlsCapture& operator=(const TlsCapture&) = delete;

  // A traced process exec'd (or was adopted by --pid): find OpenSSL in it and attach.
  // `image`: the exec'd image as the exec event names it. When the process is gone
  // before /proc/PID is read, the file at its path is examined instead, but only if it
  // is still the file that ran (its identity is the image's).
  void onExec(uint32_t pid, const ExecutedImage& image = {});
  // Examines an executable before anything runs it (the command aa-record is about to
  // start): its TLS functions are hooked before its first call, even when discovery
  // takes longer than the program needs to get there.
  void prepare(const std::string& path);
  // A traced process exited: forget its connections (ids are never reused).
  void onExit(uint32_t pid);
  // A traced process connected a socket `fd` (the core's connect event; addr in network
  // order, 4 or 16 bytes): TCP peers are counted for blindSpots().
  void onConnect(uint32_t pid, int32_t fd, uint16_t family, std::span<const uint8_t> addr,
                 uint16_t port, int64_t ret);
  // One line per traced process that connected to TCP peers while no TLS hook covered
  // any file it maps, e.g. "pid 4242 (codex): 2 TCP connections to 127.0.0.1:8443 not
  // decrypted: aws-lc (rustls) is not supported yet". A connection whose plaintext was
  // taken from the socket itself (plain HTTP) is not counted.
  std::vector<std::string> blindSpots() const;
  // Decodes one ring-buffer record. Returns true if it was a TLS record
  // (aa_rec_header.type in [100, 200)), whether or not it produced events.
  bool decode(const void* rec, size_t size, SessionWriter& writer);

  // One entry per hook: every SSL_* uprobe per library (and the syscall hooks when alone).
  std::vector<ProbeStatusInfo> probeReport() const;
  // Cumulative failed ring-buffer reserves per probe (only probes with count > 0), named
  // "SSL_write", "SSL_read_ex", "mmap", ... (the caller adds its "tls:" prefix).
  std::vector<LostCountInfo> lostCounts() const;

  class Impl;

 private:
  static StatusOr<std::unique_ptr<TlsCapture>> create(const SharedMapFds& sharedMapFds,
                                                      bool ownSyscallHooks,
                                                      const TlsOptions& options);
  explicit TlsCapture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ELF lookup behind attachment (exposed for tests): file offsets, i.e. uprobe
// offsets, of SSL_write, SSL_write_ex, SSL_read, SSL_read_ex and SSL_free, in that order,
// 0 where the file defines no such function (not an ELF file: all 0). Reads .dynsym, or
// .symtab when .dynsym defines none. An error only when the file cannot be read.
StatusOr<std::array<uint64_t, 5>> tlsSymbolOffsets(const std::string& path);

}  // namespace aa
