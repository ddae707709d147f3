// A small, fully known session for the viewer tests, written with SessionWriter:
// three processes (agent 100 → curl 200, agent 100 → ls 300), one event of every
// activity, a lost-event report, spread over 100 ms, in frames of 8 events so that
// queries cross frames. Filler events (reads by pid 100) can be added in bulk.
#pragma once

#include <QByteArray>
#include <QDir>
#include <QString>
#include <memory>
#include <string>

#include "tests/support/session_builder.h"

namespace aa::view::test {

constexpr uint64_t kStartMono = 5'000'000'000ull;
constexpr uint64_t kMs = 1'000'000ull;
constexpr int64_t kStartWall = 1'764'000'000'000'000'000ll;   // 2025-11-24

inline capnp::Data::Reader data(const char* s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s), strlen(s));
}
inline capnp::Data::Reader data(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

inline const char* kRequest =
    "POST /v1/messages HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
    "Content-Length: 27\r\n\r\n{\"model\":\"m\",\"max_tokens\":5}";
inline const char* kResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":\"msg_1\",\"content\":[\"hi\"]}";

struct SessionSpec {
  int fillerEvents = 0;         // extra file reads by pid 100 between 12 and 18 ms
  uint32_t batchEvents = 8;
  bool close = true;            // false: no footer (like a crash)
};

// Writes the session; returns "" or an error message.
// Opens a test session (fixed header, pwrite writer) and appends events with the
// common fields set. Shared by the sessions the viewer tests build.
class TestSessionWriter {
 public:
  TestSessionWriter(const std::string& path, uint32_t batchEvents)
      : b_(path, options(batchEvents)),
        error_(b_.status().ok() ? std::string() : b_.status().message()) {}
  const std::string& error() const { return error_; }
  SessionWriter& writer() { return b_.writer(); }
  // Ends the writer without a footer, as a crash would (whole frames only).
  void abandon() { b_.abandon(); }

  schema::Event::Builder ev(uint64_t ms, uint32_t pid, const char* comm) {
    return b_.event(kStartMono + ms * kMs, pid, comm);
  }
  void exec(uint64_t ms, uint32_t pid, uint32_t ppid, const char* comm, const char* path,
            std::initializer_list<const char*> argv) {
    auto x = ev(ms, pid, comm).initExec();
    x.setPath(data(path));
    auto a = x.initArgv(unsigned(argv.size()));
    unsigned i = 0;
    for (const char* s : argv) a.set(i++, data(s));
    x.setCwd(data("/home/agent"));
    x.setPpid(ppid);
  }

 private:
  static test_support::SessionOptions options(uint32_t batchEvents) {
    test_support::SessionOptions o;
    o.startMonoNs = kStartMono;
    o.startWallNs = kStartWall;
    o.batchEvents = batchEvents;
    o.useIoUring = false;
    return o;
  }

  test_support::SessionBuilder b_;
  std::string error_;
};

inline std::string writeTestSession(const std::string& path, const SessionSpec& spec = {}) {
  TestSessionWriter t(path, spec.batchEvents);
  if (!t.error().empty()) return t.error();
  SessionWriter& sw = t.writer();
  auto ev = [&](uint64_t ms, uint32_t pid, const char* comm) { return t.ev(ms, pid, comm); };
  auto exec = [&](uint64_t ms, uint32_t pid, uint32_t ppid, const char* comm, const char* path,
                  std::initializer_list<const char*> argv) { t.exec(ms, pid, ppid, comm, path, argv); };
  exec(1, 100, 1, "python3", "/usr/bin/python3", {"python3", "agent.py"});
  ev(2, 100, "python3").initFork().setChildPid(200);
  exec(3, 200, 100, "curl", "/usr/bin/curl", {"curl", "-s", "https://api.example.com"});
  {
    auto o = ev(10, 100, "python3").initFileOpen();
    o.setPath(data("/etc/hosts"));
    o.setFlags(0);
    o.setRet(3);
    auto c = ev(11, 100, "python3").initFileClose();
    c.setPath(data("/etc/hosts"));
    c.setFd(3);
    c.setBytesRead(512);
    c.setReads(1);
  }
  for (int i = 0; i < spec.fillerEvents; ++i) {
    auto e = sw.append();
    e.setTNs(kStartMono + 12 * kMs + uint64_t(i) * (6 * kMs) / uint64_t(std::max(1, spec.fillerEvents)));
    e.setPid(100);
    e.setTid(100);
    e.setComm(data("python3"));
    auto r = e.initFileRead();
    r.setPath(data(i % 2 ? "/data/a.bin" : "/data/b.bin"));
    r.setFd(4);
    r.setRet(4096);
  }
  {
    auto o = ev(20, 100, "python3").initFileOpen();
    o.setPath(data("/tmp/out.txt"));
    o.setFlags(01 | 0100);   // O_WRONLY | O_CREAT
    o.setRet(4);
    auto c = ev(22, 100, "python3").initFileClose();
    c.setPath(data("/tmp/out.txt"));
    c.setFd(4);
    c.setBytesWritten(1000);
    c.setWrites(2);
  }
  {
    auto c = ev(30, 200, "curl").initNetConnect();
    c.setFd(5);
    c.setFamily(2);
    const uint8_t addr[4] = {93, 184, 216, 34};
    c.setAddr(capnp::Data::Reader(addr, 4));
    c.setPort(443);
    auto t = ev(40, 200, "curl").initTls();
    t.setDirection(schema::TlsDirection::WRITE);
    t.setConn(7);
    t.setData(data(kRequest));
    t.setLength(strlen(kRequest));
    t.setFunc("SSL_write");
    t.setFd(5);
    auto r = ev(60, 200, "curl").initTls();
    r.setDirection(schema::TlsDirection::READ);
    r.setConn(7);
    r.setData(data(kResponse));
    r.setLength(strlen(kResponse));
    r.setFunc("SSL_read");
    r.setFd(5);
  }
  {
    auto r = ev(70, 100, "python3").initFileRename();
    r.setOldPath(data("/tmp/out.txt"));
    r.setNewPath(data("/tmp/final.txt"));
    ev(75, 100, "python3").initFileUnlink().setPath(data("/tmp/scratch"));
    auto l = ev(80, 0, "").initLost();
    l.setCount(5);
    l.setProbe("ringbuf");
  }
  ev(90, 200, "curl").initExit().setExitCode(0);
  ev(92, 100, "python3").initFork().setChildPid(300);
  exec(93, 300, 100, "ls", "/bin/ls", {"ls", "-l"});
  ev(95, 300, "ls").initExit().setExitCode(2);
  ev(100, 100, "python3").initExit().setExitCode(0);
  if (!spec.close) {
    auto f = sw.flush();
    if (!f.ok()) return f.message();
    t.abandon();   // destructor: whole frames, no footer
    return "";
  }
  SessionFooterInfo footer;
  footer.lost = {{"ringbuf", 5}};
  footer.exitCode = 0;
  const Status s = sw.close(footer);
  return s.ok() ? std::string() : s.message();
}

// Base events (without filler) in the test session.
constexpr int kBaseEvents = 18;

}  // namespace aa::view::test
