#include "recorder/tls_capture.h"

#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/events.h"
#include "bpf/tls.skel.h"
#include "recorder/core_probes.h"  // QuietLibbpf
#include "recorder/aead_join.h"
#include "recorder/elf_image.h"
#include "recorder/fd.h"
#include "recorder/loss_slots.h"
#include "recorder/redact.h"
#include "recorder/tls_discovery.h"

namespace aa {
namespace {

// enum aa_tls_func order, then SSL_free (entry only), SSL_new (return only), aws-lc's
// EVP_AEAD_CTX_seal (entry only) and EVP_AEAD_CTX_open (entry and return)
// and EVP_AEAD_CTX_init/_init_with_direction (entry only)
static_assert(size_t(kHookFree) == size_t(AA_TLS_FUNC_COUNT) && size_t(kHookCount) == size_t(AA_TLS_FUNC_COUNT) + 6);
constexpr const std::array<const char*, kHookCount>& kFuncNames = kTlsHookNames;

uint32_t cookieFunc(size_t hook) {
  if (hook == kHookFree) return AA_TLS_FUNC_FREE;
  if (hook == kHookNew) return AA_TLS_FUNC_NEW;
  if (hook == kHookAeadSeal) return AA_TLS_AEAD_SEAL;
  if (hook == kHookAeadOpen) return AA_TLS_AEAD_OPEN;
  if (hook == kHookAeadInit || hook == kHookAeadInit2) return AA_TLS_AEAD_INIT;
  return uint32_t(hook);
}
bool hasEntry(size_t hook) { return hook != kHookNew; }
bool hasReturn(size_t hook) {
  return hook != kHookFree && hook != kHookAeadSeal && hook != kHookAeadInit && hook != kHookAeadInit2;
}
// A hook absent from a file's set that is not worth a "not found" line: discovery
// reports what it did not find as an error of its own.
bool silentWhenAbsent(size_t hook, const TlsHookSet& hooks) {
  if (hooks.stack == "aws-lc") return hook != kHookAeadSeal && hook != kHookAeadOpen;
  const bool bySymbols = hooks.source == "exported symbols";
  return hook == kHookNew || hook >= kHookAeadSeal || (!bySymbols && hook != kHookWrite && hook != kHookRead);
}
// lostCounts() names: the shared table's, without their "tls:" (the recorder adds it)
std::string_view tlsLossName(uint32_t slot) {
  return std::string_view(kLossSlotNames[AA_TLS_LOSS_BASE + slot]).substr(kTlsLossPrefix.size());
}

// BPF_TRACE_UPROBE_MULTI (Linux 6.6); not in the uapi headers libbpf 1.1 ships with.
constexpr auto kAttachUprobeMulti = static_cast<bpf_attach_type>(48);

bool isReadFunc(uint32_t func) { return func == AA_TLS_SSL_READ || func == AA_TLS_SSL_READ_EX; }

std::string errnoText(int err) { return std::strerror(err < 0 ? -err : err); }

struct FileId {
  uint64_t dev = 0;  // st_dev, userspace encoding
  uint64_t ino = 0;
  auto operator<=>(const FileId&) const = default;
};

// One executable mapping of /proc/PID/maps.
struct MappedFile {
  uint64_t ino = 0;
  std::string path;   // as the process sees it
  std::string range;  // "START-END": /proc/PID/map_files/START-END is the mapped file itself
};

std::vector<MappedFile> executableMappings(uint32_t pid) {
  std::vector<MappedFile> out;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  std::set<std::string> seen;
  while (std::getline(maps, line)) {
    // address perms offset dev inode path
    std::istringstream in(line);
    std::string addr, perms, offset, dev, path;
    uint64_t ino = 0;
    if (!(in >> addr >> perms >> offset >> dev >> ino)) continue;
    std::getline(in >> std::ws, path);
    if (perms.size() < 3 || perms[2] != 'x' || ino == 0 || path.empty() || path[0] != '/')
      continue;
    if (path.ends_with(" (deleted)")) continue;
    if (seen.insert(path).second) out.push_back({ino, path, addr});
  }
  return out;
}

struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

struct SkelDeleter {
  void operator()(tls_bpf* s) const { tls_bpf::destroy(s); }
};

struct ConnKey {
  uint32_t pid;
  uint64_t ssl;
  bool operator==(const ConnKey&) const = default;
};
struct ConnKeyHash {
  size_t operator()(const ConnKey& k) const {
    return std::hash<uint64_t>()(k.ssl ^ (uint64_t(k.pid) << 47) ^ k.pid);
  }
};

// One direction of a connection: where its bytes go in the stream.
struct Stream {
  uint64_t nextOffset = 0;     // offset after the last call seen
  uint64_t callStart = 0;      // stream offset of the current call's first byte
  uint64_t callId = 0;         // (call_id, tid) of the current call
  uint32_t callTid = 0;
  bool inCall = false;
  uint64_t markedCall = 0;     // last call reported as cut by --max-tls-bytes
  bool marked = false;
  uint64_t redactedUpTo = 0;   // stream offset the redactor has reached
  HttpRedactor redactor;
};

struct Conn {
  uint64_t id = 0;
  int32_t fd = -1;
  bool plainSeen = false;  // a plain connection counted out of its process's blind spots
  std::array<Stream, 2> streams;  // [0] write, [1] read
};

// What examine() concluded about one file.
struct FileVerdict {
  std::string path;                   // as the process sees it
  int lib = -1;                       // index into libs when hooked
  std::vector<std::string> found;     // TLS stacks seen in it
  std::vector<std::string> problems;  // why a stack seen is not hooked
};

// A traced process: what it maps and whom it connects to (for blind spots).
struct Proc {
  std::string exe, comm;
  std::set<FileId> files;                        // executable mappings examined
  std::map<std::string, uint32_t> peers;         // "addr:port" -> TCP connects, not plain
  std::unordered_map<int32_t, std::string> fdPeers;  // socket fd -> its last TCP connect's peer
  std::string lastPeer;                          // the peer of the last TCP connect
  uint32_t plainConns = 0;                       // connections captured as plain HTTP
};

// The syscall of a plain socket's record (enum aa_sock_call), as `func` names it.
constexpr std::array<const char*, AA_SOCK_CALL_COUNT> kSockCallNames = {
    "write", "writev", "sendto", "sendmsg", "read", "readv", "recvfrom", "recvmsg", "sendfile", "splice"};

struct Lib {
  std::string path;       // as seen by the process (or the system path at create())
  std::string openPath;   // the path the probes were attached through
  FileId id;
  TlsHookSet hooks;       // what was found, and how
  std::vector<LinkPtr> links;                  // classic uprobes
  std::vector<std::unique_ptr<Fd>> multiLinks;  // uprobe_multi link fds
  std::vector<ProbeStatusInfo> report;
};

// A device number in the kernel's own encoding (MKDEV: 20 bits of minor), as the BPF
// side reports it.
uint64_t kernelDevOf(dev_t dev) { return (uint64_t(major(dev)) << 20) | minor(dev); }

}  // namespace

class TlsCapture::Impl {
 public:
  TlsOptions options;
  std::unique_ptr<tls_bpf, SkelDeleter> skel;
  std::vector<LinkPtr> sysLinks;
  std::vector<ProbeStatusInfo> sysReport;
  std::vector<std::unique_ptr<Lib>> libs;   // index = cookie's library index
  std::set<FileId> examined;                // files looked at, OpenSSL or not
  std::map<FileId, uint32_t> unexamined;    // reported mapped, gone before examined: times
  std::map<FileId, FileVerdict> verdicts;   // what examine() concluded per file
  std::unordered_map<uint32_t, Proc> procs; // traced processes seen by scanProcess
  DiscoveryCache cache{DiscoveryCache::defaultDir()};
  std::unordered_map<ConnKey, Conn, ConnKeyHash> conns;
  uint64_t nextConnId = 1;
  AeadJoin aeadJoin;  // aws-lc AEAD contexts (rustls) -> connections (recorder/aead_join.h)
  void aeadFd(uint32_t pid, uint64_t ctx, int32_t fd);
  std::vector<uint8_t> scratch;

  bool multi = false;                       // uprobe_multi programs loaded
  bool btfExit = false;                     // sys_exit hook through tp_btf (else raw_tp)

  Status load(const SharedMapFds& sharedMapFds, bool ownSyscallHooks);
  int linkMulti(bpf_program* prog, const std::string& path, const std::vector<uint64_t>& offsets,
                const std::vector<uint64_t>& cookies, bool retprobe);
  bool attachMulti(Lib& lib, uint64_t index);
  void attachSyscallHooks();
  void scanProcess(uint32_t pid);
  std::optional<FileId> examine(const std::string& displayPath, const std::string& openPath);
  std::optional<FileId> examineExecuted(uint32_t pid, const ExecutedImage& image);
  void markSeen(uint64_t kernelDev, uint64_t ino, uint8_t what = AA_SEEN_EXAMINED);
  void decodeData(const aa_rec_tls_data& rec, const uint8_t* data, SessionWriter& writer);
  Conn& conn(uint32_t pid, uint64_t ssl);
  void plainConnection(uint32_t pid, int32_t fd);
};

Status TlsCapture::Impl::load(const SharedMapFds& sharedMapFds, bool ownSyscallHooks) {
  auto sharedMap = [&sharedMapFds](const char* name) {
    auto it = sharedMapFds.find(name);
    return it == sharedMapFds.end() ? -1 : it->second;
  };
  // The best the kernel takes: uprobe_multi (Linux 6.6) with tp_btf (5.5), tp_btf
  // alone, raw_tp alone. A refused variant is opened and loaded again without it.
  struct Variant {
    bool multi, btf;
  };
  for (Variant v : {Variant{true, true}, Variant{false, true}, Variant{false, false}}) {
    const bool tryMulti = v.multi;
    // Beside the core only the uprobe variant matters (tp_btf or raw_tp was for the
    // syscall hooks of a TlsCapture alone): its last try is classic uprobes.
    const bool last = ownSyscallHooks ? !v.btf : !v.multi;
    if (tryMulti && !options.uprobeMulti) continue;
    if (!ownSyscallHooks && !v.btf) continue;  // tp_btf only mattered for the syscall hooks
    skel.reset(tls_bpf::open());
    if (!skel) return Status::error("TLS probes: open BPF object: " + errnoText(errno));
    // Every map another object owns (bpf/common.bpf.h; bpf/tls_sys.bpf.h when the
    // core's syscall hooks do the TLS syscall work) is that object's map.
    bpf_map* m = nullptr;
    bpf_object__for_each_map(m, skel->obj) {
      const char* name = bpf_map__name(m);
      if (!name || name[0] == '.') continue;  // .rodata, .bss: this object's settings
      const int fd = sharedMap(name);
      if (fd < 0) continue;
      if (int err = bpf_map__reuse_fd(m, fd))
        return Status::error(std::string("TLS probes: reuse map ") + name + ": " + errnoText(err));
    }
    if (const int ringFd = sharedMap("events"); ringFd >= 0) {
      bpf_map_info ring{};
      uint32_t ringInfoLen = sizeof(ring);
      if (bpf_obj_get_info_by_fd(ringFd, &ring, &ringInfoLen) == 0 && ring.max_entries >= 8)
        skel->rodata->wakeup_bytes = ring.max_entries / 8;
    }
    for (bpf_program* p : {skel->progs.tls_entry_multi, skel->progs.tls_return_multi}) {
      if (tryMulti) {
        bpf_program__set_expected_attach_type(p, kAttachUprobeMulti);
      } else {
        bpf_program__set_autoload(p, false);
      }
    }
    bpf_program__set_autoload(skel->progs.tls_sys_enter_raw, ownSyscallHooks);
    bpf_program__set_autoload(skel->progs.tls_sys_exit_raw, ownSyscallHooks && !v.btf);
    bpf_program__set_autoload(skel->progs.tls_sys_exit_btf, ownSyscallHooks && v.btf);
    int err;
    if (last) {
      err = tls_bpf::load(skel.get());
    } else {
      QuietLibbpf quiet;  // a refusal is expected on older kernels
      err = tls_bpf::load(skel.get());
    }
    if (!err) {
      multi = tryMulti;
      btfExit = v.btf;
      return {};
    }
    if (last) return Status::error("TLS probes: load BPF object: " + errnoText(err));
  }
  return {};
}

// One BPF_TRACE_UPROBE_MULTI link: every offset of `path` with its cookie. libbpf 1.1
// has no call for it, so the attribute is laid out here (include/uapi/linux/bpf.h,
// link_create.uprobe_multi, Linux 6.6).
int TlsCapture::Impl::linkMulti(bpf_program* prog, const std::string& path,
                                const std::vector<uint64_t>& offsets,
                                const std::vector<uint64_t>& cookies, bool retprobe) {
  struct {
    uint32_t progFd, targetFd, attachType, flags;
    uint64_t path, offsets, refCtrOffsets, cookies;
    uint32_t cnt, multiFlags, pid, pad;
  } attr{};
  static_assert(sizeof(attr) <= sizeof(union bpf_attr));
  union bpf_attr raw;
  std::memset(&raw, 0, sizeof(raw));
  attr.progFd = bpf_program__fd(prog);
  attr.attachType = kAttachUprobeMulti;
  attr.path = reinterpret_cast<uint64_t>(path.c_str());
  attr.offsets = reinterpret_cast<uint64_t>(offsets.data());
  attr.cookies = reinterpret_cast<uint64_t>(cookies.data());
  attr.cnt = static_cast<uint32_t>(offsets.size());
  attr.multiFlags = retprobe ? 1 /* BPF_F_UPROBE_MULTI_RETURN */ : 0;
  std::memcpy(&raw, &attr, sizeof(attr));
  const int fd = static_cast<int>(::syscall(__NR_bpf, BPF_LINK_CREATE, &raw, sizeof(raw)));
  return fd < 0 ? -errno : fd;
}

void TlsCapture::Impl::attachSyscallHooks() {
  const std::tuple<bpf_program*, const char*, const char*> hooks[] = {
      {skel->progs.tls_sys_enter_raw, "tls:sys_enter", "raw_tp"},
      {btfExit ? skel->progs.tls_sys_exit_btf : skel->progs.tls_sys_exit_raw, "tls:sys_exit",
       btfExit ? "tp_btf" : "raw_tp"}};
  for (auto [prog, name, mode] : hooks) {
    ProbeStatusInfo info{name, mode, false, ""};
    bpf_link* l = bpf_program__attach(prog);
    if (!l) {
      info.error = errnoText(errno);
    } else {
      info.ok = true;
      sysLinks.emplace_back(l);
    }
    sysReport.push_back(info);
  }
}

void TlsCapture::Impl::markSeen(uint64_t kernelDev, uint64_t ino, uint8_t what) {
  aa_seen_file key{ino, static_cast<uint32_t>(kernelDev), 0};
  bpf_map__update_elem(skel->maps.tls_seen_files, &key, sizeof(key), &what, sizeof(what), BPF_ANY);
}

// Hooks every function of one file with two uprobe_multi links (entries, returns).
// False when the kernel refused them: the caller falls back to classic uprobes.
bool TlsCapture::Impl::attachMulti(Lib& lib, uint64_t index) {
  const auto& offs = lib.hooks.offsets;
  std::vector<uint64_t> offsets[2], cookies[2];
  for (size_t f = 0; f < kHookCount; ++f) {
    if (!offs[f]) continue;
    const uint64_t cookie = AA_TLS_COOKIE(index, cookieFunc(f));
    for (int ret = 0; ret < 2; ++ret) {
      if (!(ret ? hasReturn(f) : hasEntry(f))) continue;
      offsets[ret].push_back(*offs[f]);
      cookies[ret].push_back(cookie);
    }
  }
  std::vector<std::unique_ptr<Fd>> fds;
  for (int ret = 0; ret < 2; ++ret) {
    if (offsets[ret].empty()) continue;
    const int fd = linkMulti(ret ? skel->progs.tls_return_multi : skel->progs.tls_entry_multi,
                             lib.openPath, offsets[ret], cookies[ret], ret == 1);
    if (fd < 0) return false;
    fds.push_back(std::make_unique<Fd>(fd));
  }
  for (auto& fd : fds) lib.multiLinks.push_back(std::move(fd));
  const bool bySymbols = lib.hooks.source == "exported symbols";
  for (size_t f = 0; f < kHookCount; ++f) {
    // SSL_new is only ever a stand-in for SSL_free; discovery looks for what the stack
    // calls (BoringSSL's SSL_write/SSL_read), so a function it did not look for is no
    // failure
    if (!offs[f] && silentWhenAbsent(f, lib.hooks)) continue;
    ProbeStatusInfo info{std::string(kFuncNames[f]) + "@" + lib.path, "uprobe_multi", false, ""};
    info.ok = offs[f].has_value();
    if (!info.ok) info.error = bySymbols ? "symbol not defined" : "not found";
    lib.report.push_back(info);
  }
  return true;
}

// Looks at one file; when it holds a TLS stack we can hook (OpenSSL's API by symbols,
// BoringSSL by discovery), attaches entry and return probes to each function, once per
// file (uprobes bind to the inode: every process mapping it is hooked).
std::optional<FileId> TlsCapture::Impl::examine(const std::string& displayPath,
                                                const std::string& openPath) {
  struct stat st {};
  if (::stat(openPath.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileId id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  if (!examined.insert(id).second) return id;
  unexamined.erase(id);
  // the mmap hook stops reporting this file
  const uint64_t kernelDev = kernelDevOf(st.st_dev);
  markSeen(kernelDev, st.st_ino);

  FileVerdict& verdict = verdicts[id];
  verdict.path = displayPath;
  auto scan = scanTls(openPath, &cache);
  if (!scan.ok()) {
    sysReport.push_back({"tls:" + displayPath, "uprobe", false, scan.status().message()});
    verdict.problems.push_back(scan.status().message());
    return id;
  }
  verdict.found = scan->found;
  verdict.problems = scan->problems;
  for (const std::string& p : scan->problems) sysReport.push_back({"tls:" + displayPath, "none", false, p});
  if (!scan->hooks || !scan->hooks->any()) return id;

  auto lib = std::make_unique<Lib>();
  lib->path = displayPath;
  lib->openPath = openPath;
  lib->id = id;
  lib->hooks = std::move(*scan->hooks);
  const uint64_t index = libs.size();
  verdict.lib = int(index);
  markSeen(kernelDev, st.st_ino, AA_SEEN_HOOKED);
  // one line per hooked file saying how its offsets were found
  char ms[32];
  snprintf(ms, sizeof(ms), "%.0f ms", scan->millis);
  lib->report.push_back({"tls:" + lib->hooks.stack + "@" + displayPath, lib->hooks.source, true,
                         lib->hooks.source == "exported symbols" ? "" : std::string(ms)});
  if (multi && attachMulti(*lib, index)) {
    libs.push_back(std::move(lib));
    return id;
  }
  const bool bySymbols = lib->hooks.source == "exported symbols";
  for (size_t f = 0; f < kHookCount; ++f) {
    const auto& off = lib->hooks.offsets[f];
    if (!off && silentWhenAbsent(f, lib->hooks)) continue;
    ProbeStatusInfo info{std::string(kFuncNames[f]) + "@" + displayPath, "uprobe", false, ""};
    if (!off) {
      info.error = bySymbols ? "symbol not defined" : "not found";
      lib->report.push_back(info);
      continue;
    }
    const uint64_t cookie = AA_TLS_COOKIE(index, cookieFunc(f));
    std::string error;
    for (bool retprobe : {false, true}) {
      if (!(retprobe ? hasReturn(f) : hasEntry(f))) continue;
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = retprobe);
      bpf_link* l = bpf_program__attach_uprobe_opts(retprobe ? skel->progs.tls_return : skel->progs.tls_entry,
                                                    -1, openPath.c_str(), *off, &opts);
      if (!l) {
        error = std::string(retprobe ? "uretprobe: " : "uprobe: ") + errnoText(errno);
        break;
      }
      lib->links.emplace_back(l);
    }
    info.ok = error.empty();
    info.mode = hasEntry(f) && hasReturn(f) ? "uprobe+uretprobe" : hasEntry(f) ? "uprobe" : "uretprobe";
    info.error = error;
    lib->report.push_back(info);
  }
  libs.push_back(std::move(lib));
  return id;
}

// The file at an exec'd image's path, once its process is gone: the process (or any
// other the agent runs) may have put something else there since, so the path is opened
// O_PATH (a device or FIFO put in its place is not opened) and examined, through the fd,
// only if it is the very file that ran.
std::optional<FileId> TlsCapture::Impl::examineExecuted(uint32_t pid, const ExecutedImage& image) {
  if (image.ino == 0) return std::nullopt;
  Fd fd(::open(image.path.c_str(), O_PATH | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return std::nullopt;
  if (!S_ISREG(st.st_mode) || kernelDevOf(st.st_dev) != image.kernelDev || st.st_ino != image.ino) {
    sysReport.push_back({"tls:" + image.path, "none", false,
                         "not examined: the file at this path is no longer the one pid " +
                             std::to_string(pid) + " executed"});
    return std::nullopt;
  }
  return examine(image.path, "/proc/self/fd/" + std::to_string(fd.get()));
}

void TlsCapture::Impl::scanProcess(uint32_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  Proc& p = procs[pid];
  char exe[4096];
  const ssize_t n = ::readlink((proc + "/exe").c_str(), exe, sizeof(exe) - 1);
  if (n > 0) p.exe.assign(exe, size_t(n));
  std::ifstream comm(proc + "/comm");
  std::string name;
  if (std::getline(comm, name) && !name.empty()) p.comm = name;
  // through map_files, not the path: the process may have replaced the file at its
  // path since it mapped it (by a symlink, a FIFO, another library)
  // path since it mapped it (by a symlink, a FIFO, another library). map_files needs
  // CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; without them, the path in its root.
  for (const MappedFile& m : executableMappings(pid)) {
    std::string open = proc + "/map_files/" + m.range;
    if (::access(open.c_str(), R_OK) != 0) open = proc + "/root" + m.path;
    if (auto id = examine(m.path, open)) p.files.insert(*id);
  }
}

Conn& TlsCapture::Impl::conn(uint32_t pid, uint64_t ssl) {
  auto [it, added] = conns.try_emplace(ConnKey{pid, ssl});
  if (added) it->second.id = nextConnId++;
  return it->second;
}

void TlsCapture::Impl::decodeData(const aa_rec_tls_data& rec, const uint8_t* data,
                                  SessionWriter& writer) {
  const uint32_t func = rec.cookie & 0xff;
  const uint64_t libIndex = rec.cookie >> 8;
  const bool aead = func == AA_TLS_AEAD_SEAL || func == AA_TLS_AEAD_OPEN;
  // plain socket: the upper bits are the syscall (enum aa_sock_call), not a library
  const bool plain = func == AA_TLS_SOCK_WRITE || func == AA_TLS_SOCK_READ;
  if (func >= AA_TLS_FUNC_COUNT && !aead && !plain) return;
  if (plain && libIndex >= AA_SOCK_CALL_COUNT) return;
  const bool read = aead ? func == AA_TLS_AEAD_OPEN : plain ? func == AA_TLS_SOCK_READ : isReadFunc(func);
  Conn& c = conn(rec.hdr.pid, aead ? aeadJoin.key(rec.hdr.pid, rec.ssl, rec.fd, read ? AeadJoin::kRead : AeadJoin::kWrite)
                                   : rec.ssl);
  if (rec.fd >= 0) c.fd = rec.fd;
  if (plain && !c.plainSeen) {
    // its plaintext is captured: this connection is no blind spot
    c.plainSeen = true;
    plainConnection(rec.hdr.pid, rec.fd);
  }
  Stream& s = c.streams[read ? 1 : 0];

  // Chunks of one call share (call_id, tid); the first one seen places the call.
  if (!s.inCall || s.callId != rec.call_id || s.callTid != rec.hdr.tid) {
    s.inCall = true;
    s.callId = rec.call_id;
    s.callTid = rec.hdr.tid;
    s.callStart = s.nextOffset;
    s.nextOffset += rec.call_len;
  }
  const uint64_t offset = s.callStart + rec.chunk_off;
  uint64_t keep = rec.data_len;
  bool truncated = (rec.hdr.flags & (AA_TLS_F_FAULT | AA_TLS_F_CUT | AA_TLS_F_IOV_CUT | AA_TLS_F_UNSEEN)) != 0;
  if (options.maxBytesPerConn) {
    const uint64_t room = offset < options.maxBytesPerConn ? options.maxBytesPerConn - offset : 0;
    if (keep > room) {
      keep = room;
      truncated = true;
    }
    // past the limit: one empty event per call records that bytes went uncaptured
    if (keep == 0 && rec.data_len > 0) {
      if (s.marked && s.markedCall == s.callId) return;
      s.marked = true;
      s.markedCall = s.callId;
    }
  }

  const uint8_t* bytes = data;
  if (options.redact && keep > 0) {
    scratch.assign(data, data + keep);
    // a gap in the stream (a lost chunk, a fault) desynchronises the header parser
    s.redactor.useRules(&options.rules);
    if (offset != s.redactedUpTo) s.redactor.reset();
    s.redactor.process(scratch.data(), scratch.size());
    s.redactedUpTo = offset + keep;
    bytes = scratch.data();
  }

  auto e = writer.append();
  e.setTNs(rec.hdr.ts_ns);
  e.setPid(rec.hdr.pid);
  e.setTid(rec.hdr.tid);
  e.setComm(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(rec.hdr.comm),
                                strnlen(rec.hdr.comm, AA_COMM_LEN)));
  auto t = e.initTls();
  t.setDirection(read ? schema::TlsDirection::READ : schema::TlsDirection::WRITE);
  t.setConn(c.id);
  t.setOffset(offset);
  t.setData(capnp::Data::Reader(bytes, keep));
  t.setLength(rec.call_len);
  t.setTruncated(truncated);
  if (!plain && libIndex < libs.size()) {
    const std::string& p = libs[libIndex]->path;
    t.setLib(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(p.data()), p.size()));
  }
  t.setFd(c.fd);
  t.setFunc(plain ? kSockCallNames[libIndex]
                  : aead ? kFuncNames[read ? kHookAeadOpen : kHookAeadSeal] : kFuncNames[func]);
  t.setPlain(plain);
}

// A connection of `pid` on socket `fd` is captured plain: the peer its connect was
// counted under is not a blind spot.
void TlsCapture::Impl::plainConnection(uint32_t pid, int32_t fd) {
  auto p = procs.find(pid);
  if (p == procs.end()) return;
  ++p->second.plainConns;
  // the fd of its first captured call, which is the connect's unless the socket was
  // dup'd (bash's `>&3` writes through fd 1): then the connect just before it
  std::string peer = p->second.lastPeer;
  if (auto it = p->second.fdPeers.find(fd); it != p->second.fdPeers.end()) {
    peer = it->second;
    p->second.fdPeers.erase(it);
  }
  if (auto n = p->second.peers.find(peer); n != p->second.peers.end() && --n->second == 0)
    p->second.peers.erase(n);
}

// The socket of a write context, learned after its first records: its connection's
// later events carry it.
void TlsCapture::Impl::aeadFd(uint32_t pid, uint64_t ctx, int32_t fd) {
  const uint64_t key = aeadJoin.writeFd(pid, ctx, fd);
  if (!key) return;
  if (auto c = conns.find(ConnKey{pid, key}); c != conns.end()) c->second.fd = fd;
}

TlsCapture::TlsCapture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TlsCapture::~TlsCapture() {
  if (!impl_) return;
  // Links go before the object that owns their programs. Detaching a uprobe waits for
  // an RCU grace period (~50 ms here), so they are detached concurrently: a dozen
  // uprobes per library would otherwise add a second to the recorder's exit.
  std::vector<LinkPtr> links = std::move(impl_->sysLinks);
  std::vector<std::unique_ptr<Fd>> fds;
  for (auto& lib : impl_->libs) {
    for (auto& l : lib->links) links.push_back(std::move(l));
    for (auto& f : lib->multiLinks) fds.push_back(std::move(f));
  }
  std::vector<std::thread> detach;
  for (auto& l : links) detach.emplace_back([&l] { l.reset(); });
  for (auto& f : fds) detach.emplace_back([&f] { f.reset(); });
  for (auto& t : detach) t.join();
}

StatusOr<std::unique_ptr<TlsCapture>> TlsCapture::create(int tracedPidsMapFd, int ringBufMapFd,
                                                         const TlsOptions& options) {
  return create(SharedMapFds{{"traced_pids", tracedPidsMapFd}, {"events", ringBufMapFd}},
                /*ownSyscallHooks=*/true, options);
}

StatusOr<std::unique_ptr<TlsCapture>> TlsCapture::create(const SharedMapFds& sharedMapFds,
                                                         const TlsOptions& options) {
  return create(sharedMapFds, /*ownSyscallHooks=*/false, options);
}

StatusOr<std::unique_ptr<TlsCapture>> TlsCapture::create(const SharedMapFds& sharedMapFds,
                                                         bool ownSyscallHooks,
                                                         const TlsOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  AA_RETURN_IF_ERROR(impl->load(sharedMapFds, ownSyscallHooks));
  if (ownSyscallHooks) impl->attachSyscallHooks();
  // beside the core, whose sys_exit takes plain sockets' bytes (on unless --no-plain-http;
  // the session's options say which)
  if (!ownSyscallHooks && options.plainHttp)
    impl->sysReport.push_back({"tls:plain-http", "sys_exit", true, ""});
  // The system OpenSSL is hooked before anything runs: a process that dlopens it
  // (Python) may call SSL_* before its mmap report reaches us.
  glob_t g{};
  for (const char* pattern : {"/usr/lib/*/libssl.so*", "/lib/*/libssl.so*", "/usr/lib64/libssl.so*",
                              "/usr/lib/libssl.so*", "/usr/local/lib/libssl.so*"}) {
    if (::glob(pattern, 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        // the file's own name, not the libssl.so symlink the glob met first
        std::unique_ptr<char, decltype(&free)> real(::realpath(g.gl_pathv[i], nullptr), &free);
        const std::string path = real ? real.get() : g.gl_pathv[i];
        impl->examine(path, path);
      }
    }
    globfree(&g);
  }
  return std::unique_ptr<TlsCapture>(new TlsCapture(std::move(impl)));
}

void TlsCapture::onExec(uint32_t pid, const ExecutedImage& image) {
  impl_->scanProcess(pid);
  Proc& p = impl_->procs[pid];
  const std::string& path = image.path;
  if (!path.empty()) {
    // a short-lived process may be gone before /proc/PID was read
    if (p.exe.empty()) p.exe = path;
    if (p.comm.empty()) p.comm = path.substr(path.rfind('/') + 1, 15);
    // the image itself, when its mappings could not be read (so that its next run is
    // hooked from its first call)
    if (p.files.empty())
      if (auto id = impl_->examineExecuted(pid, image)) p.files.insert(*id);
  }
}

void TlsCapture::prepare(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> real(::realpath(path.c_str(), nullptr), &free);
  if (real) impl_->examine(real.get(), real.get());
}

void TlsCapture::onConnect(uint32_t pid, int32_t fd, uint16_t family, std::span<const uint8_t> addr,
                           uint16_t port, int64_t ret) {
  // a refused or failed connect moved no bytes; EINPROGRESS is a non-blocking start
  if (ret != 0 && ret != -EINPROGRESS) return;
  char text[INET6_ADDRSTRLEN] = "?";
  if (family == AF_INET && addr.size() == 4) {
    inet_ntop(AF_INET, addr.data(), text, sizeof(text));
  } else if (family == AF_INET6 && addr.size() == 16) {
    inet_ntop(AF_INET6, addr.data(), text, sizeof(text));
  } else {
    return;  // not TCP/IP (AF_UNIX, AF_NETLINK, ...)
  }
  if (port == 0 || port == 53) return;  // UDP "connects" of resolvers, not TLS
  const std::string peer = family == AF_INET6 ? "[" + std::string(text) + "]:" + std::to_string(port)
                                              : std::string(text) + ":" + std::to_string(port);
  auto& p = impl_->procs[pid];
  if (p.exe.empty()) impl_->scanProcess(pid);  // adopted or not exec'd since the start
  ++impl_->procs[pid].peers[peer];
  impl_->procs[pid].fdPeers[fd] = peer;
  impl_->procs[pid].lastPeer = peer;
}

std::vector<std::string> TlsCapture::blindSpots() const {
  std::vector<std::string> out;
  std::vector<uint32_t> pids;
  for (const auto& [pid, p] : impl_->procs)
    if (!p.peers.empty()) pids.push_back(pid);
  std::sort(pids.begin(), pids.end());
  for (uint32_t pid : pids) {
    const Proc& p = impl_->procs.at(pid);
    bool hooked = false;
    std::vector<std::string> problems;
    for (const FileId& f : p.files) {
      auto v = impl_->verdicts.find(f);
      if (v == impl_->verdicts.end()) continue;
      hooked |= v->second.lib >= 0;
      for (const auto& pr : v->second.problems) problems.push_back(pr);
    }
    if (hooked) continue;
    uint32_t n = 0;
    std::string peers;
    for (const auto& [peer, count] : p.peers) {
      n += count;
      peers += (peers.empty() ? "" : ", ") + peer;
    }
    std::string line = "pid " + std::to_string(pid) + " (" + p.comm + "): " + std::to_string(n) +
                       (n == 1 ? " TCP connection to " : " TCP connections to ") + peers +
                       " not decrypted: ";
    if (problems.empty()) {
      line += "no supported TLS library found in " + (p.exe.empty() ? std::string("its files") : p.exe);
    } else {
      std::string joined;
      for (const auto& pr : problems) joined += (joined.empty() ? "" : "; ") + pr;
      line += joined;
    }
    out.push_back(line);
  }
  return out;
}

void TlsCapture::onExit(uint32_t pid) {
  std::erase_if(impl_->conns, [pid](const auto& kv) { return kv.first.pid == pid; });
  impl_->aeadJoin.forgetProcess(pid);
}

bool TlsCapture::decode(const void* rec, size_t size, SessionWriter& writer) {
  if (size < sizeof(aa_rec_header)) return false;
  aa_rec_header hdr;
  std::memcpy(&hdr, rec, sizeof(hdr));
  if (hdr.type < 100 || hdr.type >= 200) return false;
  const auto* bytes = static_cast<const uint8_t*>(rec);
  if (hdr.type == AA_REC_TLS_DATA) {
    aa_rec_tls_data d;
    if (size < sizeof(d)) return true;
    std::memcpy(&d, rec, sizeof(d));
    if (d.data_len > size - sizeof(d) || d.data_len > AA_TLS_CHUNK) return true;
    impl_->decodeData(d, bytes + sizeof(d), writer);
  } else if (hdr.type == AA_REC_TLS_MMAP) {
    aa_rec_tls_mmap m;
    if (size < sizeof(m)) return true;
    std::memcpy(&m, rec, sizeof(m));
    const FileId id{static_cast<uint64_t>(makedev(m.dev >> 20, m.dev & 0xfffff)), m.ino};
    // examine() marks every file it looked at in tls_seen_files: the kernel reports
    // later mappings of it only when it is hooked (which processes use it)
    if (impl_->verdicts.count(id)) {
      impl_->procs[m.hdr.pid].files.insert(id);
    } else {
      impl_->scanProcess(m.hdr.pid);
      // still not examined: the process exited or unmapped it before its maps were
      // read, and the next process that maps the file reports it again
      if (!impl_->verdicts.count(id)) ++impl_->unexamined[id];
    }
  } else if (hdr.type == AA_REC_TLS_FREE) {
    aa_rec_tls_free f;
    if (size < sizeof(f)) return true;
    std::memcpy(&f, rec, sizeof(f));
    impl_->conns.erase(ConnKey{f.hdr.pid, f.ssl});
    impl_->aeadJoin.reset(f.hdr.pid, f.ssl);  // an AEAD context begins
  } else if (hdr.type == AA_REC_TLS_FD) {
    aa_rec_tls_fd f;
    if (size < sizeof(f)) return true;
    std::memcpy(&f, rec, sizeof(f));
    impl_->aeadFd(f.hdr.pid, f.ssl, f.fd);
  }
  return true;
}

StatusOr<std::array<uint64_t, 5>> tlsSymbolOffsets(const std::string& path) {
  auto image = ElfImage::open(path);
  if (!image.ok()) return image.status();
  static constexpr std::string_view kNames[] = {"SSL_write", "SSL_write_ex", "SSL_read",
                                                "SSL_read_ex", "SSL_free"};
  auto offs = image->functionOffsets(kNames);
  std::array<uint64_t, 5> out{};
  for (size_t f = 0; f < out.size(); ++f) out[f] = offs[f].value_or(0);
  return out;
}

std::vector<ProbeStatusInfo> TlsCapture::probeReport() const {
  std::vector<ProbeStatusInfo> out = impl_->sysReport;
  for (const auto& lib : impl_->libs) out.insert(out.end(), lib->report.begin(), lib->report.end());
  for (const auto& [id, times] : impl_->unexamined)
    out.push_back({"tls:file " + std::to_string(major(id.dev)) + ":" + std::to_string(minor(id.dev)) +
                       " inode " + std::to_string(id.ino),
                   "none", false,
                   "not examined: " + std::to_string(times) +
                       (times == 1 ? " process mapped it executable and was gone"
                                   : " processes mapped it executable and were gone") +
                       " before it could be read"});
  return out;
}

std::vector<LostCountInfo> TlsCapture::lostCounts() const {
  std::vector<LostCountInfo> out;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return out;
  std::vector<uint64_t> perCpu(cpus);
  for (uint32_t slot = 0; slot < AA_TLS_LOSS_SLOTS; ++slot) {
    const uint32_t key = AA_TLS_LOSS_BASE + slot;  // the TLS part of the shared loss table
    if (bpf_map__lookup_elem(impl_->skel->maps.lost_counts, &key, sizeof(key), perCpu.data(),
                             perCpu.size() * sizeof(uint64_t), 0) != 0)
      continue;
    uint64_t total = 0;
    for (uint64_t n : perCpu) total += n;
    if (total) out.push_back({std::string(tlsLossName(slot)), total});
  }
  return out;
}

}  // namespace aa
