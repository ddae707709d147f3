#include "recorder/decoder.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "recorder/paths.h"

extern "C" {
#include "bpf/events.h"
}

namespace aa {
namespace {

capnp::Data::Reader bytes(std::string_view s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

// A C string field of at most `max` bytes, up to its first NUL.
std::string_view cstr(const char* s, size_t max) {
  return std::string_view(s, strnlen(s, max));
}

// A user string as recorded: NUL included in its length when complete.
std::string_view userString(const uint8_t* p, size_t len) {
  return cstr(reinterpret_cast<const char*>(p), len);
}

std::string_view walked(const uint8_t* p, size_t len) {
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

// Linux's AF_UNIX; the record carries the kernel's number, not the host's.
constexpr uint16_t kAfUnix = 1;

template <typename T>
bool fits(size_t size) {
  return size >= sizeof(T);
}

}  // namespace

schema::Event::Builder Decoder::begin(const void* header) {
  aa_rec_header h;
  std::memcpy(&h, header, sizeof(h));
  auto ev = writer_.append();
  ev.setTNs(h.ts_ns);
  ev.setPid(h.pid);
  ev.setTid(h.tid);
  ev.setComm(bytes(cstr(h.comm, sizeof(h.comm))));
  return ev;
}

bool Decoder::decode(const void* data, size_t size) {
  if (size < sizeof(aa_rec_header)) {
    ++stats_.malformed;
    return true;
  }
  aa_rec_header h;
  std::memcpy(&h, data, sizeof(h));
  if (h.size > size) {
    ++stats_.malformed;
    return true;
  }
  const auto* p = static_cast<const uint8_t*>(data);
  size = h.size;
  switch (h.type) {
    case AA_REC_EXEC: decodeExec(p, size); break;
    case AA_REC_FORK: decodeFork(p, size); break;
    case AA_REC_EXIT: decodeExit(p, size); break;
    case AA_REC_FILE_OP: decodeFileOp(p, size); break;
    case AA_REC_CLOSE: decodeClose(p, size); break;
    case AA_REC_IO: decodeIo(p, size); break;
    case AA_REC_ADOPT: decodeAdopt(p, size); break;
    case AA_REC_CONNECT: decodeConnect(p, size); break;
    default:
      ++stats_.unknown;
      return false;
  }
  return true;
}

void Decoder::decodeExec(const uint8_t* p, size_t size) {
  aa_rec_exec r;
  if (!fits<aa_rec_exec>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  size_t need = sizeof(r) + size_t(r.path_len) + r.cwd_len + r.argv_len;
  if (need > size) return void(++stats_.malformed);
  if (need + r.filename_len > size) return void(++stats_.malformed);
  const uint8_t* d = p + sizeof(r);
  const bool cutPath = r.h.flags & AA_F_PATH_TRUNCATED, cutCwd = r.h.flags & AA_F_PATH2_TRUNCATED;
  std::string path = cutPath ? walkedTail(walked(d, r.path_len)) : walkedToPath(walked(d, r.path_len));
  std::string_view cwdWalk = walked(d + r.path_len, r.cwd_len);
  std::string cwd = cutCwd ? walkedTail(cwdWalk) : walkedToPath(cwdWalk);
  std::string_view args(reinterpret_cast<const char*>(d + r.path_len + r.cwd_len), r.argv_len);
  std::string_view filenameArg = userString(d + need - sizeof(r), r.filename_len);
  std::string filename = filenameArg.empty() ? std::string() : resolvePath(filenameArg, cwd);
  std::vector<std::string_view> argv;
  size_t i = 0;
  while (i < args.size()) {
    size_t end = args.find('\0', i);
    if (end == std::string_view::npos) end = args.size();
    argv.push_back(args.substr(i, end - i));
    i = end + 1;
  }

  auto ev = begin(p);
  auto ex = ev.initExec();
  ex.setPath(bytes(path));
  auto list = ex.initArgv(argv.size());
  if (redactArgv) {
    std::vector<std::string> copy(argv.begin(), argv.end());
    redactArgv(copy);
    for (size_t k = 0; k < copy.size(); ++k) list.set(k, bytes(copy[k]));
  } else {
    for (size_t k = 0; k < argv.size(); ++k) list.set(k, bytes(argv[k]));
  }
  ex.setArgvTruncated((r.h.flags & AA_F_TRUNCATED) != 0);
  ex.setCwd(bytes(cwd));
  ex.setUid(r.uid);
  ex.setGid(r.gid);
  ex.setPpid(r.ppid);
  ex.setFilename(bytes(filename));
  if (cutPath || cutCwd) ev.setPathTruncated(true);
  ++stats_.records;
  if (onExec) onExec(r.h.pid, ExecutedImage{path, r.exe_dev, r.exe_ino});
}

void Decoder::decodeFork(const uint8_t* p, size_t size) {
  aa_rec_fork r;
  if (!fits<aa_rec_fork>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  begin(p).initFork().setChildPid(r.child);
  ++stats_.records;
}

void Decoder::decodeExit(const uint8_t* p, size_t size) {
  aa_rec_exit r;
  if (!fits<aa_rec_exit>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  auto ex = begin(p).initExit();
  int sig = r.code & 0x7f;
  if (sig != 0) {
    ex.setSignal(sig);
    ex.setExitCode(0);
  } else {
    ex.setExitCode((r.code >> 8) & 0xff);
    ex.setSignal(0);
  }
  // The kernel summarized every open file of the process before its exit record.
  files_.erase(files_.lower_bound({r.h.pid, 0}), files_.lower_bound({r.h.pid + 1, 0}));
  ++stats_.records;
  if (onExit) onExit(r.h.pid);
}

void Decoder::decodeFileOp(const uint8_t* p, size_t size) {
  aa_rec_file_op r;
  if (!fits<aa_rec_file_op>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  size_t need = sizeof(r) + size_t(r.path1_len) + r.base1_len + r.path2_len + r.base2_len;
  if (need > size) return void(++stats_.malformed);
  if (r.op < AA_OP_OPEN || r.op > AA_OP_CHOWN) return void(++stats_.malformed);
  const uint8_t* d = p + sizeof(r);
  // A base whose walk was cut is only the tail nearest the file: kept relative, and
  // the event flagged, so that no plausible absolute path names a file it is not.
  const bool cut1 = r.h.flags & AA_F_PATH_TRUNCATED, cut2 = r.h.flags & AA_F_PATH2_TRUNCATED;
  auto base = [](std::string_view w, bool cut) { return cut ? walkedTail(w) : walkedToPath(w); };
  std::string_view user1 = userString(d, r.path1_len);
  std::string_view walked1 = walked(d + r.path1_len, r.base1_len);
  std::string base1 = r.base1_len ? base(walked1, cut1) : "";
  d += size_t(r.path1_len) + r.base1_len;
  std::string_view user2 = userString(d, r.path2_len);
  std::string base2 = r.base2_len ? base(walked(d + r.path2_len, r.base2_len), cut2) : "";
  // fd-based operations and chdir carry the file (or new cwd) itself as base1. An
  // empty walk is the root directory for chdir; a regular file never walks empty, so
  // there it means the fd was bad and the path is unknown.
  std::string path1 = r.path1_len ? resolvePath(user1, base1) : base1;
  if ((r.h.flags & AA_F_IN_ROOT) && r.path1_len && !base1.empty())
    path1 = resolvePath(user1.substr(std::min(user1.find_first_not_of('/'), user1.size())), base1);
  if (r.op == AA_OP_CHDIR && r.path1_len == 0) path1 = base(walked1, cut1);
  std::string path2 = resolvePath(user2, base2);

  auto ev = begin(p);
  if (cut1 || cut2) ev.setPathTruncated(true);
  switch (r.op) {
    case AA_OP_OPEN: {
      auto f = ev.initFileOpen();
      f.setPath(bytes(path1));
      f.setFlags(r.flags);
      // open(2) reads mode only with O_CREAT or O_TMPFILE; otherwise the register holds
      // whatever the caller left there.
      constexpr uint32_t kOCreat = 0100, kOTmpfile = 020200000;
      bool modeUsed = (r.flags & kOCreat) || (r.flags & kOTmpfile) == kOTmpfile;
      f.setMode(modeUsed ? r.mode : 0);
      f.setRet(r.ret);
      if (r.file != 0 && r.ret >= 0) files_[{r.h.pid, r.file}] = path1;
      break;
    }
    case AA_OP_RENAME: {
      auto f = ev.initFileRename();
      f.setOldPath(bytes(path1));
      f.setNewPath(bytes(path2));
      f.setFlags(r.flags);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_LINK: {
      auto f = ev.initLink();
      f.setOldPath(bytes(path1));
      f.setNewPath(bytes(path2));
      f.setFlags(r.flags);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_UNLINK: {
      auto f = ev.initFileUnlink();
      f.setPath(bytes(path1));
      f.setRet(r.ret);
      break;
    }
    case AA_OP_MKDIR: {
      auto f = ev.initFileMkdir();
      f.setPath(bytes(path1));
      f.setMode(r.mode);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_RMDIR: {
      auto f = ev.initFileRmdir();
      f.setPath(bytes(path1));
      f.setRet(r.ret);
      break;
    }
    case AA_OP_TRUNCATE: {
      auto f = ev.initFileTruncate();
      f.setPath(bytes(path1));
      f.setFd(r.fd);
      f.setLength(r.arg);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_CHMOD: {
      auto f = ev.initFileChmod();
      f.setPath(bytes(path1));
      f.setFd(r.fd);
      f.setMode(r.mode);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_CHOWN: {
      auto f = ev.initFileChown();
      f.setPath(bytes(path1));
      f.setFd(r.fd);
      // uid_t/gid_t as passed; (uid_t)-1 asks the kernel to leave it unchanged
      f.setUid(r.mode == UINT32_MAX ? -1 : int64_t{r.mode});
      const auto gid = static_cast<uint32_t>(r.arg);
      f.setGid(gid == UINT32_MAX ? -1 : int64_t{gid});
      f.setFlags(r.flags);
      f.setRet(r.ret);
      break;
    }
    case AA_OP_SYMLINK: {
      auto f = ev.initSymlink();
      f.setTarget(bytes(user1));
      f.setPath(bytes(path2));
      f.setRet(r.ret);
      break;
    }
    case AA_OP_CHDIR: {
      auto f = ev.initChdir();
      f.setPath(bytes(path1));
      f.setRet(r.ret);
      break;
    }
    default:
      break;  // excluded above
  }
  ++stats_.records;
}

std::string Decoder::pathOf(uint32_t pid, uint64_t file) const {
  auto it = files_.find({pid, file});
  return it == files_.end() ? std::string() : it->second;
}

void Decoder::decodeClose(const uint8_t* p, size_t size) {
  aa_rec_close r;
  if (!fits<aa_rec_close>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  auto ev = begin(p);
  std::string path = pathOf(r.h.pid, r.file);
  if (!path.empty() && path.front() != '/') ev.setPathTruncated(true);   // a walkedTail
  auto f = ev.initFileClose();
  f.setPath(bytes(path));
  f.setFd(r.fd);
  f.setBytesRead(r.bytes_read);
  f.setBytesWritten(r.bytes_written);
  f.setReads(r.reads);
  f.setWrites(r.writes);
  switch (r.reason) {
    case AA_CLOSE_EXPLICIT: f.setReason(schema::CloseReason::EXPLICIT); break;
    case AA_CLOSE_EXIT: f.setReason(schema::CloseReason::EXIT); break;
    case AA_CLOSE_EXEC: f.setReason(schema::CloseReason::EXEC); break;
    case AA_CLOSE_REPLACED: f.setReason(schema::CloseReason::REPLACED); break;
    default: f.setReason(schema::CloseReason::UNKNOWN); break;
  }
  files_.erase({r.h.pid, r.file});
  ++stats_.records;
}

void Decoder::decodeIo(const uint8_t* p, size_t size) {
  aa_rec_io r;
  if (!fits<aa_rec_io>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  auto ev = begin(p);
  std::string path = pathOf(r.h.pid, r.file);
  if (!path.empty() && path.front() != '/') ev.setPathTruncated(true);   // a walkedTail
  if (r.write) {
    auto f = ev.initFileWrite();
    f.setPath(bytes(path));
    f.setFd(r.fd);
    f.setRet(r.ret);
  } else {
    auto f = ev.initFileRead();
    f.setPath(bytes(path));
    f.setFd(r.fd);
    f.setRet(r.ret);
  }
  ++stats_.records;
}

void Decoder::decodeAdopt(const uint8_t* p, size_t size) {
  aa_rec_adopt r;
  if (!fits<aa_rec_adopt>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  if (sizeof(r) + size_t(r.path_len) > size) return void(++stats_.malformed);
  std::string_view w = walked(p + sizeof(r), r.path_len);
  files_[{r.h.pid, r.file}] = (r.h.flags & AA_F_PATH_TRUNCATED) ? walkedTail(w) : walkedToPath(w);
  ++stats_.records;
}

void Decoder::decodeConnect(const uint8_t* p, size_t size) {
  aa_rec_connect r;
  if (!fits<aa_rec_connect>(size)) return void(++stats_.malformed);
  std::memcpy(&r, p, sizeof(r));
  if (sizeof(r) + size_t(r.addr_len) > size) return void(++stats_.malformed);
  size_t addrLen = r.addr_len;
  // The kernel copies sockaddr_un up to the caller's addrlen, which may cover stack
  // bytes after the path's NUL. A path name ends at its NUL; an abstract name
  // (sun_path[0] == 0) is exactly addrlen bytes, NULs included, and keeps its
  // leading NUL so it stays distinguishable from a path.
  if (r.family == kAfUnix && addrLen > 0 && p[sizeof(r)] != 0)
    addrLen = strnlen(reinterpret_cast<const char*>(p + sizeof(r)), addrLen);
  auto f = begin(p).initNetConnect();
  f.setFd(r.fd);
  f.setFamily(r.family);
  f.setAddr(capnp::Data::Reader(p + sizeof(r), addrLen));
  f.setPort(r.port);
  f.setRet(r.ret);
  ++stats_.records;
  if (onConnect)
    onConnect(r.h.pid, r.fd, r.family, std::span<const uint8_t>(p + sizeof(r), addrLen), r.port, r.ret);
}

void Decoder::appendLost(uint64_t tNs, std::string_view probe, uint64_t count) {
  auto ev = writer_.append();
  ev.setTNs(tNs);
  auto l = ev.initLost();
  l.setCount(count);
  l.setProbe(capnp::Text::Reader(probe.data(), probe.size()));
}

}  // namespace aa
