// Random event streams for store tests: every kind, binary paths and payloads,
// occasionally large payloads. Deterministic for a seed. Sessions are written with the
// shared tests/support/session_builder.h.
#pragma once

#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "store/kind.h"
#include "store/session_files.h"
#include "store/session_writer.h"
#include "tests/support/session_builder.h"

namespace aa::test {

inline capnp::Data::Reader bytes(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

class RandomEvents {
 public:
  explicit RandomEvents(uint32_t seed, uint64_t startNs = 1'000'000'000) : rng_(seed), t_(startNs) {}

  std::string blob(size_t maxLen) {
    std::string s(std::uniform_int_distribution<size_t>(0, maxLen)(rng_), '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  // Fills one random event (seq already set by the writer).
  void fill(schema::Event::Builder e, size_t largePayload = 0) {
    t_ += pick(5000);
    e.setTNs(t_);
    e.setPid(100 + pick(8));
    e.setTid(e.getPid() + pick(3));
    e.setComm(bytes("comm" + std::to_string(pick(4))));
    // One kind in kKindCount: a switch over Kind without a default, so a new kind
    // warns here (-Wswitch) and fails RandomEvents.CoverEveryKind until it has a case.
    const Kind kind = static_cast<Kind>(pick(kKindCount));
    switch (kind) {
      case Kind::kExec: {
        auto x = e.initExec();
        x.setPath(bytes("/usr/bin/" + blob(12)));
        auto argv = x.initArgv(pick(5));
        for (size_t i = 0; i < argv.size(); ++i) argv.set(i, bytes(blob(20)));
        x.setArgvTruncated(pick(2));
        x.setCwd(bytes("/home/" + blob(8)));
        x.setUid(pick(2000));
        x.setGid(pick(2000));
        x.setPpid(99);
        if (pick(2)) x.setFilename(bytes("/opt/" + blob(8)));
        break;
      }
      case Kind::kFork: e.initFork().setChildPid(100 + pick(8)); break;
      case Kind::kExit: { auto x = e.initExit(); x.setExitCode(pick(256)); x.setSignal(pick(2) ? 9 : 0); break; }
      case Kind::kFileOpen: { auto x = e.initFileOpen(); x.setPath(bytes("/tmp/" + blob(30))); x.setFlags(pick(1 << 20)); x.setMode(0644); x.setRet(int(pick(100)) - 10); break; }
      case Kind::kFileClose: { auto x = e.initFileClose(); x.setPath(bytes("/tmp/f" + std::to_string(pick(10)))); x.setFd(pick(64)); x.setBytesRead(pick(1 << 20)); x.setBytesWritten(pick(1 << 20)); x.setReads(pick(10)); x.setWrites(pick(10)); x.setReason(schema::CloseReason(pick(5))); break; }
      case Kind::kFileRead: { auto x = e.initFileRead(); x.setPath(bytes("/r" + blob(5))); x.setFd(3); x.setRet(pick(4096)); break; }
      case Kind::kFileWrite: { auto x = e.initFileWrite(); x.setPath(bytes("/w" + blob(5))); x.setFd(4); x.setRet(-int(pick(30))); break; }
      case Kind::kFileRename: { auto x = e.initFileRename(); x.setOldPath(bytes("/a" + blob(9))); x.setNewPath(bytes("/b" + blob(9))); x.setFlags(pick(4)); x.setRet(0); break; }
      case Kind::kFileUnlink: { auto x = e.initFileUnlink(); x.setPath(bytes("/u" + blob(9))); x.setRet(-2); break; }
      case Kind::kFileMkdir: { auto x = e.initFileMkdir(); x.setPath(bytes("/d" + blob(9))); x.setMode(0755); x.setRet(0); break; }
      case Kind::kFileRmdir: { auto x = e.initFileRmdir(); x.setPath(bytes("/d" + blob(9))); x.setRet(0); break; }
      case Kind::kFileTruncate: { auto x = e.initFileTruncate(); x.setPath(bytes("/t")); x.setFd(-1); x.setLength(pick(99999)); x.setRet(0); break; }
      case Kind::kFileChmod: { auto x = e.initFileChmod(); x.setPath(bytes("/c")); x.setFd(5); x.setMode(0600); x.setRet(0); break; }
      case Kind::kNetConnect: { auto x = e.initNetConnect(); x.setFd(7); x.setFamily(2); x.setAddr(bytes(std::string("\x7f\0\0\x01", 4))); x.setPort(8443); x.setRet(0); break; }
      case Kind::kTlsWrite: case Kind::kTlsRead: {
        auto x = e.initTls();
        x.setDirection(pick(2) ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
        x.setConn(pick(3));
        x.setOffset(pick(1 << 20));
        std::string payload = largePayload && pick(50) == 0 ? std::string(largePayload, 'x') + blob(100)
                                                            : blob(300);
        x.setData(bytes(payload));
        x.setLength(payload.size());
        x.setTruncated(pick(2));
        x.setLib(bytes("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        x.setFd(7);
        x.setFunc(pick(2) ? "SSL_write_ex" : "SSL_read");
        break;
      }
      case Kind::kNetSend: case Kind::kNetRecv: {
        auto x = e.initTls();
        x.setDirection(kind == Kind::kNetSend ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
        x.setPlain(true);
        x.setConn(3 + pick(2));
        x.setOffset(pick(1 << 20));
        std::string payload = blob(200);
        x.setData(bytes(payload));
        x.setLength(payload.size());
        x.setTruncated(pick(2));
        x.setFd(8);
        x.setFunc(kind == Kind::kNetSend ? "writev" : "recvfrom");
        break;
      }
      case Kind::kLost: { auto x = e.initLost(); x.setCount(pick(1000)); x.setProbe("sys_exit"); break; }
      case Kind::kFileSymlink: { auto x = e.initSymlink(); x.setTarget(bytes(blob(10))); x.setPath(bytes("/l")); x.setRet(0); break; }
      case Kind::kChdir: { auto x = e.initChdir(); x.setPath(bytes("/")); x.setRet(0); break; }
      case Kind::kFileLink: { auto x = e.initLink(); x.setOldPath(bytes("/o" + blob(6))); x.setNewPath(bytes("/n" + blob(6))); x.setFlags(pick(2) * 0x400); x.setRet(0); break; }
      case Kind::kFileChown: {
        auto x = e.initFileChown();
        x.setPath(bytes("/h" + blob(6)));
        x.setFd(pick(2) ? -1 : 6);
        x.setUid(int64_t(pick(3)) - 1);   // -1: unchanged
        x.setGid(int64_t(pick(3)) - 1);
        x.setFlags(pick(2) * 0x100);      // AT_SYMLINK_NOFOLLOW
        x.setRet(-int(pick(2)));
        break;
      }
      case Kind::kCount: break;
    }
    if (pick(16) == 0) e.setPathTruncated(true);
  }

 private:
  std::mt19937 rng_;
  uint64_t t_;
};

// Writes n random events to path; returns each event's text form, in seq order.
inline std::vector<std::string> writeRandomSession(const std::string& path, size_t n, uint32_t seed,
                                                   WriterOptions opt = {}, size_t largePayload = 0,
                                                   bool close = true) {
  test_support::SessionOptions o;
  o.command = {"agent", std::string("arg\xff\0x", 6)};
  o.target = "test";
  o.startMonoNs = 1'000'000'000;
  o.startWallNs = 0;
  o.writer = opt;
  test_support::SessionBuilder w(path, o);
  if (!w.status().ok()) throw std::runtime_error(w.status().message());
  RandomEvents gen(seed);
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) {
    auto e = w.writer().append();
    gen.fill(e, largePayload);
    texts.push_back(kj::str(e.asReader().toString()).cStr());
  }
  if (close) {
    SessionFooterInfo f;
    f.lost = {{"sys_exit", 3}};
    f.probes = {{"SSL_write@/usr/bin/node", "uprobe", true, ""}};
    f.exitCode = 0;
    Status s = w.close(f);
    if (!s.ok()) throw std::runtime_error(s.message());
  }
  return texts;
}

// The temporary sessions a test program named, removed with the index beside each when
// the program exits (by the process that named them: not by a death test's child).
class TempSessions {
 public:
  ~TempSessions() {
    if (::getpid() != owner_) return;
    for (const std::string& p : paths_)
      for (const std::string& f : sessionFiles(p)) ::unlink(f.c_str());
  }
  void add(const std::string& p) { paths_.push_back(p); }

 private:
  pid_t owner_ = ::getpid();
  std::vector<std::string> paths_;
};

inline std::string tempPath(const std::string& name) {
  static TempSessions sessions;
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string base = dir ? dir : "/tmp";
  std::string path = base + "/aa_store_test_" + std::to_string(::getpid()) + "_" + name;
  sessions.add(path);
  return path;
}

}  // namespace aa::test
