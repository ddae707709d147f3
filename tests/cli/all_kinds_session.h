// A small session with one event of every kind, at known values, including the awkward
// ones: non-UTF-8 paths and argv, control characters, binary TLS payloads, 64-bit ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tests/support/session_builder.h"

namespace aa::testing {

constexpr uint64_t kStartMono = 5'000'000'000ull;
constexpr int kAllKindsCount = 23;
constexpr uint64_t kBigConn = UINT64_MAX;

inline capnp::Data::Reader dataOf(std::string_view s) { return test_support::bytes(s); }

// Event i happens at kStartMono + 1000 * (i + 1) ns, so t_ns = 1000 * (i + 1).
inline Status writeAllKindsSession(const std::string& path, uint32_t batchEvents = 4) {
  test_support::SessionOptions o;
  o.startMonoNs = kStartMono;
  o.batchEvents = batchEvents;
  test_support::SessionBuilder b(path, o);
  if (!b.status().ok()) return b.status();
  int i = 0;
  auto next = [&](uint32_t pid, std::string_view comm) {
    ++i;
    return b.event(kStartMono + 1000 * i, pid, comm, pid + (i == 16 ? 1 : 0));   // tls.read: a second thread
  };
  {
    auto x = next(100, "agent").initExec();
    x.setPath(dataOf("/usr/bin/python3"));
    auto argv = x.initArgv(3);
    argv.set(0, dataOf("python3"));
    argv.set(1, dataOf("a b.py"));
    argv.set(2, dataOf("caf\xe9"));
    x.setCwd(dataOf("/home/u"));
    x.setUid(1000);
    x.setGid(1001);
    x.setPpid(1);
  }
  next(100, "agent").initFork().setChildPid(101);
  {
    auto x = next(101, "child").initExit();
    x.setExitCode(3);
    x.setSignal(0);
  }
  {
    auto x = next(100, "agent").initFileOpen();
    x.setPath(dataOf("/etc/hosts"));
    x.setFlags(0x80000);
    x.setRet(3);
  }
  {
    auto x = next(100, "agent").initFileClose();
    x.setPath(dataOf("/etc/hosts"));
    x.setFd(3);
    x.setBytesRead(120);
    x.setReads(2);
    x.setReason(schema::CloseReason::EXPLICIT);
  }
  {
    auto x = next(100, "agent").initFileRead();
    x.setPath(dataOf("/etc/hosts"));
    x.setFd(3);
    x.setRet(120);
  }
  {
    auto x = next(100, "agent").initFileWrite();
    x.setPath(dataOf("/tmp/out\n\"q\"\\"));
    x.setFd(4);
    x.setRet(7);
  }
  {
    auto x = next(100, "agent").initFileRename();
    x.setOldPath(dataOf("/tmp/a.tmp"));
    x.setNewPath(dataOf("/tmp/a"));
    x.setRet(0);
  }
  {
    auto x = next(100, "agent").initFileUnlink();
    x.setPath(dataOf("/tmp/\xff\xfe"));
    x.setRet(-2);
  }
  {
    auto x = next(100, "agent").initFileMkdir();
    x.setPath(dataOf("/tmp/d"));
    x.setMode(0755);
  }
  next(100, "agent").initFileRmdir().setPath(dataOf("/tmp/d"));
  {
    auto x = next(100, "agent").initFileTruncate();
    x.setPath(dataOf("/tmp/a"));
    x.setFd(-1);
    x.setLength(10);
  }
  {
    auto x = next(100, "agent").initFileChmod();
    x.setPath(dataOf("/tmp/a"));
    x.setFd(-1);
    x.setMode(0755);
  }
  {
    auto x = next(100, "agent").initNetConnect();
    x.setFd(5);
    x.setFamily(2);   // AF_INET as Linux numbers it
    const capnp::byte ip[4] = {1, 2, 3, 4};
    x.setAddr(capnp::Data::Reader(ip, 4));
    x.setPort(443);
    x.setRet(-115);
  }
  {
    auto x = next(100, "agent").initTls();
    x.setDirection(schema::TlsDirection::WRITE);
    x.setConn(7);
    x.setData(dataOf("GET / HTTP/1.1\r\n\r\n"));
    x.setLength(18);
    x.setLib(dataOf("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
    x.setFd(5);
    x.setFunc("SSL_write");
  }
  {
    auto x = next(100, "agent").initTls();
    x.setDirection(schema::TlsDirection::READ);
    x.setConn(kBigConn);
    x.setOffset(4096);
    x.setData(dataOf(std::string_view("\x00\x01\xff bin", 7)));
    x.setLength(100);
    x.setTruncated(true);
    x.setLib(dataOf("/usr/bin/node"));
    x.setFd(-1);
    x.setFunc("SSL_read");
  }
  {
    auto x = next(0, "").initLost();
    x.setCount(42);
    x.setProbe("sys_exit");
  }
  {
    auto x = next(100, "agent").initSymlink();
    x.setTarget(dataOf("../x"));
    x.setPath(dataOf("/tmp/l"));
  }
  next(100, "agent").initChdir().setPath(dataOf("/tmp"));
  {
    auto x = next(100, "agent").initLink();
    x.setOldPath(dataOf("/tmp/a"));
    x.setNewPath(dataOf("/tmp/b"));
    x.setFlags(0x400);
  }
  {
    auto x = next(100, "agent").initFileChown();
    x.setPath(dataOf("/tmp/a"));
    x.setFd(-1);
    x.setUid(1000);
    x.setGid(-1);
    x.setFlags(0x100);
  }
  {   // a plain-HTTP connection's bytes, from its socket's own calls
    auto x = next(100, "agent").initTls();
    x.setDirection(schema::TlsDirection::WRITE);
    x.setPlain(true);
    x.setConn(8);
    x.setData(dataOf("POST /api/chat HTTP/1.1\r\n\r\n"));
    x.setLength(27);
    x.setFd(6);
    x.setFunc("sendto");
  }
  {
    auto x = next(100, "agent").initTls();
    x.setDirection(schema::TlsDirection::READ);
    x.setPlain(true);
    x.setConn(8);
    x.setData(dataOf("HTTP/1.1 200 OK\r\n"));
    x.setLength(17);
    x.setFd(6);
    x.setFunc("recvfrom");
  }
  SessionFooterInfo f;
  f.exitCode = 0;
  f.lost = {{"sys_exit", 42}};
  return b.close(f);
}

}  // namespace aa::testing
