#include "store/synth/synth.h"

#include <fcntl.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>

#include "store/net_addr.h"

namespace aa {
namespace {

// splitmix64: tiny, fast, and its output is fixed by the seed on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ^ 0x6a09e667f3bcc909ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) * n >> 32); }
  uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }
  bool chance(uint32_t perMille) { return below(1000) < perMille; }

 private:
  uint64_t s_;
};

capnp::Data::Reader bytes(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

// kLlmLocal: an OpenAI-compatible model server on this machine (Ollama), over plain
// HTTP: its bytes are net.send / net.recv events, not TLS.
enum class Net { kNone, kLlmAnthropic, kLlmLocal, kDownload };

struct Program {
  std::string_view exe;
  std::string_view comm;
  std::vector<std::string_view> argv;
  Net net;
  uint32_t minActions, maxActions;   // how long a run of it lasts
  bool spawns;                        // may start children of its own
  std::string_view tlsLib;
};

const std::vector<Program>& programs() {
  static const std::vector<Program> kPrograms = {
      {"/usr/bin/python3.11", "python3", {"python3", "agent.py", "--task", "fix-failing-tests"},
       Net::kLlmAnthropic, 0, 0, true, "/usr/lib/x86_64-linux-gnu/libssl.so.3"},
      {"/usr/bin/bash", "bash", {"bash", "-c", "python -m pytest -q tests/"}, Net::kNone, 20, 120,
       true, ""},
      {"/usr/bin/python3.11", "python", {"python", "-m", "pytest", "-q", "tests/"}, Net::kNone, 80,
       600, false, ""},
      {"/usr/bin/git", "git", {"git", "status", "--porcelain"}, Net::kNone, 10, 60, false, ""},
      {"/usr/bin/git", "git", {"git", "diff", "--stat", "HEAD"}, Net::kNone, 10, 80, false, ""},
      {"/usr/bin/rg", "rg", {"rg", "-n", "def test_", "tests"}, Net::kNone, 20, 150, false, ""},
      {"/usr/bin/cat", "cat", {"cat", "src/app/config.json"}, Net::kNone, 3, 8, false, ""},
      {"/usr/bin/sed", "sed", {"sed", "-i", "s/retries = 3/retries = 5/", "src/app/client.py"},
       Net::kNone, 5, 15, false, ""},
      {"/usr/bin/curl", "curl", {"curl", "-sSLO", "https://github.com/astral-sh/ruff/releases/latest"},
       Net::kDownload, 20, 80, false, "/usr/lib/x86_64-linux-gnu/libssl.so.3"},
      {"/usr/bin/python3.11", "pip", {"pip", "install", "requests==2.31.0"}, Net::kDownload, 60,
       300, false, "/usr/lib/x86_64-linux-gnu/libssl.so.3"},
      {"/usr/bin/node", "node", {"node", "tools/summarize.js", "--model", "qwen2.5-coder:7b"},
       Net::kLlmLocal, 40, 200, false, ""},
  };
  return kPrograms;
}

struct OpenFile {
  int32_t fd;
  uint32_t path;
  bool writing;
  uint64_t bytesRead = 0, bytesWritten = 0;
  uint32_t reads = 0, writes = 0;
};

struct Conn {
  uint64_t id;
  int32_t fd;
  uint32_t host;
  uint64_t outOff = 0, inOff = 0;
  int state = 0;            // 0: connect next, 1: request next, 2: response chunks
  uint32_t chunksLeft = 0;
  bool binary = false;
};

struct Proc {
  uint32_t pid, ppid;
  uint32_t prog;
  std::vector<uint32_t> tids;
  std::vector<OpenFile> open;
  uint32_t actionsLeft;     // 0 for the root: it outlives the session
  std::vector<Conn> conns;
  uint32_t cwd;
};

struct Host {
  std::string_view name;
  std::array<uint8_t, 4> ip;
};

constexpr std::array<Host, 5> kHosts = {{
    {"api.anthropic.com", {160, 79, 104, 10}},
    {"127.0.0.1:11434", {127, 0, 0, 1}},   // kLlmLocal's server
    {"github.com", {140, 82, 121, 4}},
    {"files.pythonhosted.org", {151, 101, 0, 223}},
    {"pypi.org", {151, 101, 64, 223}},
}};

constexpr std::array<std::string_view, 40> kWords = {
    "the", "test", "fails", "because", "retry", "count", "is", "read", "from", "config",
    "before", "the", "client", "starts", "so", "I", "will", "update", "src/app/client.py",
    "and", "run", "pytest", "again", "```python", "def", "connect(self):", "return", "None",
    "assert", "status", "==", "200", "timeout", "error", "fixed", "file", "line", "42", "ok",
    "\u2713"};

constexpr std::array<std::string_view, 4> kLostProbes = {
    "sys_exit", "ssl_read_ret", "sched_process_exec", "sys_enter_openat"};

}  // namespace

struct SynthGenerator::State {
  SynthOptions opt;
  Rng rng;
  Rng payloadRng;
  uint64_t t;
  uint64_t generated = 0;
  uint64_t remaining = 0;
  uint64_t tlsBytes = 0;
  uint32_t nextPid = 4242;
  uint64_t nextConn = 1;
  std::vector<Proc> procs;        // live processes; procs[0] is the root agent
  std::vector<std::string> paths;
  std::vector<std::string> cwds;
  std::vector<uint64_t> fileSizes;   // by path index
  size_t systemPaths = 0;         // paths[0, systemPaths) are read-only system files
  std::map<std::string, uint64_t> lost;
  std::string payload;            // reused buffer for TLS bytes
  const std::function<schema::Event::Builder()>* append = nullptr;
  bool rootStarted = false;

  explicit State(const SynthOptions& o)
      : opt(o), rng(o.seed), payloadRng(~o.seed), t(o.startMonoNs) {
    for (auto p : {"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
                   "/etc/ssl/certs/ca-certificates.crt", "/etc/ld.so.cache", "/dev/null",
                   "/dev/urandom", "/proc/self/status", "/proc/meminfo",
                   "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                   "/usr/lib/python3.11/os.py", "/usr/lib/python3.11/json/__init__.py",
                   "/usr/lib/python3.11/__pycache__/typing.cpython-311.pyc",
                   "/usr/lib/python3/dist-packages/requests/__init__.py",
                   "/usr/share/zoneinfo/UTC", "/home/agent/.gitconfig",
                   "/home/agent/.cache/pip/http/selfcheck.json"})
      paths.emplace_back(p);
    systemPaths = paths.size();
    // Sizes for the system files; project files get theirs below.
    static constexpr std::array<std::string_view, 6> kDirs = {
        "src/app", "src/app/util", "tests", "tests/fixtures", "docs", ".git/objects/3f"};
    static constexpr std::array<std::string_view, 12> kStems = {
        "client", "config", "server", "models", "retry", "cache",
        "test_client", "test_retry", "conftest", "README", "index", "pack"};
    static constexpr std::array<std::string_view, 5> kExts = {".py", ".json", ".md", ".txt",
                                                                ".pyc"};
    for (auto d : kDirs)
      for (auto s : kStems) {
        std::string p = "/home/agent/proj/";
        p += d;
        p += '/';
        p += s;
        p += kExts[(d.size() + s.size()) % kExts.size()];
        paths.push_back(std::move(p));
      }
    // Linux paths are bytes: keep one Latin-1 name so consumers meet non-UTF-8 data.
    paths.push_back("/home/agent/proj/data/caf\xe9-menu.txt");
    cwds = {"/home/agent/proj", "/home/agent/proj/tests", "/tmp"};
    // A size per file, fixed for the session: log-uniform between 64 B and 1 MiB.
    for (size_t i = 0; i < paths.size(); ++i)
      fileSizes.push_back(uint64_t(64) << rng.below(14) | rng.below(64));
    Proc root{nextPid, 1, 0, {nextPid, nextPid + 1, nextPid + 2}, {}, 0, {}, 0};
    nextPid += 3;
    procs.push_back(std::move(root));
  }

  bool room() const { return remaining > 0; }

  schema::Event::Builder begin(const Proc& p, uint32_t tid) {
    // Inter-event gaps of 1-20 us, with a rare long think time (an LLM round trip).
    t += rng.chance(2) ? rng.range(5'000'000, 400'000'000) : rng.range(1'000, 20'000);
    auto e = (*append)();
    e.setTNs(t);
    e.setPid(p.pid);
    e.setTid(tid);
    e.setComm(bytes(programs()[p.prog].comm));
    --remaining;
    ++generated;
    return e;
  }

  uint32_t anyTid(const Proc& p) { return p.tids[rng.below(p.tids.size())]; }

  int32_t lowestFreeFd(const Proc& p) {
    for (int32_t fd = 3;; ++fd) {
      bool used = std::any_of(p.open.begin(), p.open.end(), [&](auto& f) { return f.fd == fd; }) ||
                  std::any_of(p.conns.begin(), p.conns.end(), [&](auto& c) { return c.fd == fd; });
      if (!used) return fd;
    }
  }

  uint32_t pickPath(bool forWrite) {
    if (forWrite || rng.chance(600)) return systemPaths + rng.below(paths.size() - systemPaths);
    return rng.below(systemPaths);
  }

  void fileOpen(Proc& p) {
    if (p.open.size() >= 12) return fileClose(p, schema::CloseReason::EXPLICIT);
    bool writing = rng.chance(200);
    uint32_t path = pickPath(writing);
    auto e = begin(p, anyTid(p));
    auto o = e.initFileOpen();
    o.setPath(bytes(paths[path]));
    o.setFlags(writing ? (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDONLY | O_CLOEXEC));
    o.setMode(writing ? 0644 : 0);
    // Interpreters probe many paths that do not exist (module search, config lookup).
    if (!writing && rng.chance(120)) {
      o.setRet(-ENOENT);
      return;
    }
    int32_t fd = lowestFreeFd(p);
    o.setRet(fd);
    p.open.push_back({fd, path, writing});
  }

  void fileClose(Proc& p, schema::CloseReason reason) {
    if (p.open.empty()) return fileOpen(p);
    size_t i = rng.below(p.open.size());
    OpenFile f = p.open[i];
    p.open.erase(p.open.begin() + i);
    // Calls not recorded one by one still count in the close summary. Programs mostly
    // read a file whole (so the same file gives the same totals), sometimes only its head.
    if (f.writing) {
      uint64_t n = rng.chance(700) ? fileSizes[f.path] : rng.range(0, 64 * 1024);
      f.bytesWritten += n;
      f.writes += uint32_t(n / 4096 + 1);
    } else if (f.bytesRead == 0) {
      uint64_t n = rng.chance(800) ? fileSizes[f.path] : std::min<uint64_t>(fileSizes[f.path], 4096);
      f.bytesRead = n;
      f.reads = uint32_t(n / 4096 + 2);   // the last read returns 0 at end of file
    }
    auto e = begin(p, anyTid(p));
    auto c = e.initFileClose();
    c.setPath(bytes(paths[f.path]));
    c.setFd(f.fd);
    c.setBytesRead(f.bytesRead);
    c.setBytesWritten(f.bytesWritten);
    c.setReads(f.reads);
    c.setWrites(f.writes);
    c.setReason(reason);
  }

  void fileIo(Proc& p) {
    if (p.open.empty()) return fileOpen(p);
    OpenFile& f = p.open[rng.below(p.open.size())];
    auto e = begin(p, anyTid(p));
    int64_t n = rng.chance(100) ? 0 : rng.range(1, 4) * 1024;
    if (f.writing) {
      auto w = e.initFileWrite();
      w.setPath(bytes(paths[f.path]));
      w.setFd(f.fd);
      w.setRet(n);
      f.bytesWritten += n;
      ++f.writes;
    } else {
      auto r = e.initFileRead();
      r.setPath(bytes(paths[f.path]));
      r.setFd(f.fd);
      r.setRet(n);
      f.bytesRead += n;
      ++f.reads;
    }
  }

  void fileMeta(Proc& p) {
    uint32_t path = pickPath(true);
    std::string_view target = paths[path];
    auto e = begin(p, anyTid(p));
    switch (rng.below(9)) {
      case 0: {   // editors and pip write a temporary file, then rename it into place
        auto r = e.initFileRename();
        std::string tmp = std::string(target) + ".tmp" + std::to_string(rng.below(100));
        r.setOldPath(bytes(tmp));
        r.setNewPath(bytes(target));
        r.setRet(0);
        break;
      }
      case 1: {
        auto u = e.initFileUnlink();
        u.setPath(bytes(std::string(target) + ".orig"));
        u.setRet(rng.chance(300) ? -ENOENT : 0);
        break;
      }
      case 2: {
        auto m = e.initFileMkdir();
        std::string dir = "/home/agent/proj/build/obj" + std::to_string(rng.below(20));
        m.setPath(bytes(dir));
        m.setMode(0755);
        m.setRet(rng.chance(400) ? -EEXIST : 0);
        break;
      }
      case 3: {
        auto r = e.initFileRmdir();
        r.setPath(bytes("/tmp/pytest-of-agent/pytest-" + std::to_string(rng.below(50))));
        r.setRet(0);
        break;
      }
      case 4: {
        auto tr = e.initFileTruncate();
        tr.setPath(bytes(target));
        tr.setFd(-1);
        tr.setLength(rng.below(10000));
        tr.setRet(0);
        break;
      }
      case 5: {   // one draw for both kinds, so the stream after it is as before chown
        const uint32_t v = rng.below(1000);
        if (v < 100) {   // sudo'd installers hand files back to the user
          auto o = e.initFileChown();
          o.setPath(bytes(target));
          o.setFd(-1);
          o.setUid(1000);
          o.setGid(v < 50 ? -1 : 1000);
          o.setRet(0);
          break;
        }
        auto c = e.initFileChmod();
        c.setPath(bytes(target));
        c.setFd(-1);
        c.setMode(v < 550 ? 0755 : 0644);
        c.setRet(0);
        break;
      }
      case 6: {
        auto s = e.initSymlink();
        s.setTarget(bytes("../src/app"));
        s.setPath(bytes("/home/agent/proj/build/app-link"));
        s.setRet(rng.chance(500) ? -EEXIST : 0);
        break;
      }
      case 7: {   // git and package managers hard-link objects instead of copying
        auto l = e.initLink();
        l.setOldPath(bytes(target));
        l.setNewPath(bytes("/home/agent/proj/build/objects/" + std::to_string(rng.below(200))));
        l.setRet(rng.chance(100) ? -EEXIST : 0);
        break;
      }
      default: {
        p.cwd = rng.below(cwds.size());
        auto c = e.initChdir();
        c.setPath(bytes(cwds[p.cwd]));
        c.setRet(0);
      }
    }
  }

  void spawn(Proc& parent) {
    if (procs.size() >= 10) return fileOpen(parent);
    const auto& progs = programs();
    // Agents mostly run shells, tests, git and search tools; downloads are occasional.
    // Indexed like programs(): root, bash, pytest, git status, git diff, rg, cat, sed,
    // curl, pip, node.
    static constexpr std::array<uint32_t, 11> kWeights = {0, 20, 15, 15, 10, 15, 10, 8, 2, 2, 3};
    uint32_t pick = rng.below(100), prog = 1;   // the weights sum to 100
    while (pick >= kWeights[prog]) pick -= kWeights[prog++];
    nextPid += rng.range(1, 4);   // other processes on the host take pids too
    uint32_t pid = nextPid;
    {
      auto f = begin(parent, parent.tids[0]);
      f.initFork().setChildPid(pid);
    }
    Proc child{pid, parent.pid, prog, {pid}, {}, 0, {}, parent.cwd};
    const Program& pg = progs[prog];
    child.actionsLeft = rng.range(pg.minActions, pg.maxActions);
    if (pg.net != Net::kNone && rng.chance(300)) child.tids.push_back(pid + 1), ++nextPid;
    if (!room()) return procs.push_back(std::move(child));
    auto e = begin(child, pid);
    auto x = e.initExec();
    x.setPath(bytes(pg.exe));
    auto argv = x.initArgv(pg.argv.size());
    for (size_t i = 0; i < pg.argv.size(); ++i) argv.set(i, bytes(pg.argv[i]));
    x.setCwd(bytes(cwds[child.cwd]));
    x.setUid(1000);
    x.setGid(1000);
    x.setPpid(parent.pid);
    procs.push_back(std::move(child));
  }

  void exitProc(size_t i) {
    Proc& p = procs[i];
    while (!p.open.empty() && room()) fileClose(p, schema::CloseReason::EXIT);
    if (room()) {
      auto e = begin(p, p.tids[0]);
      auto x = e.initExit();
      bool failed = rng.chance(150);
      bool killed = !failed && rng.chance(20);
      x.setExitCode(killed ? 0 : failed ? 1 : 0);
      x.setSignal(killed ? 9 : 0);
    }
    procs.erase(procs.begin() + i);
  }

  void fillLlmRequest(const Conn& c, size_t bodyWords) {
    std::string body = "{\"model\":\"";
    body += c.host == 0 ? "claude-sonnet-4-5" : "qwen2.5-coder:7b";
    body += "\",\"max_tokens\":4096,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"";
    for (size_t i = 0; i < bodyWords; ++i) {
      if (i) body += ' ';
      body += kWords[rng.below(kWords.size())];
    }
    body += "\"}]}";
    payload = c.host == 0 ? "POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\n"
                            "anthropic-version: 2023-06-01\r\nx-api-key: [REDACTED]\r\n"
                          : "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:11434\r\n";
    payload += "content-type: application/json\r\ncontent-length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  void fillLlmChunk(const Conn& c, bool first) {
    payload.clear();
    if (first)
      payload = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                "transfer-encoding: chunked\r\n\r\n";
    uint32_t n = rng.range(1, 6);
    for (uint32_t k = 0; k < n; ++k) {
      payload += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\"";
      for (uint32_t w = rng.range(1, 8); w > 0; --w) {
        payload += kWords[rng.below(kWords.size())];
        payload += ' ';
      }
      payload += "\"}}\n\n";
    }
  }

  void fillBinaryChunk(bool first) {
    payload.clear();
    if (first)
      payload = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                "content-length: 1048576\r\n\r\n";
    size_t n = rng.range(4096, 16384);
    size_t start = payload.size();
    payload.resize(start + n);
    // Contents come from their own generator: without payloads the bytes are not made,
    // and the events stay the same either way.
    if (!opt.tlsPayloads) return;
    for (size_t i = start; i + 8 <= payload.size(); i += 8) {
      uint64_t v = payloadRng.next();
      std::memcpy(&payload[i], &v, 8);
    }
  }

  // One network event for process p: connect, request chunk or response chunk (TLS; plain
  // bytes for the local model server).
  void tls(Proc& p) {
    const Program& pg = programs()[p.prog];
    if (pg.net == Net::kNone) return fileOpen(p);
    if (p.conns.empty() || (p.conns.size() < 3 && rng.chance(20))) {
      uint32_t host = pg.net == Net::kLlmAnthropic ? 0
                      : pg.net == Net::kLlmLocal   ? 1
                                                   : 2 + rng.below(3);
      p.conns.push_back({nextConn++, lowestFreeFd(p), host});
    }
    Conn& c = p.conns[rng.below(p.conns.size())];
    uint32_t tid = p.tids.back();   // the networking thread when there is one
    if (c.state == 0) {
      auto e = begin(p, tid);
      auto n = e.initNetConnect();
      n.setFd(c.fd);
      n.setFamily(kRecordedAfInet);
      n.setAddr(capnp::Data::Reader(kHosts[c.host].ip.data(), 4));
      n.setPort(pg.net == Net::kLlmLocal ? 11434 : 443);
      n.setRet(p.prog == 0 || pg.comm == "node" ? -EINPROGRESS : 0);
      c.state = 1;
      return;
    }
    bool writing = c.state == 1;
    bool first = false;
    if (writing) {
      if (pg.net == Net::kDownload) {
        payload = "GET /packages/requests-2.31.0-py3-none-any.whl HTTP/1.1\r\nHost: ";
        payload += kHosts[c.host].name;
        payload += "\r\nuser-agent: pip/23.0.1\r\naccept: */*\r\n\r\n";
      } else {
        // Agents resend the whole conversation: now and then a request of tens of KiB.
        fillLlmRequest(c, rng.chance(50) ? rng.range(4000, 9000) : rng.range(40, 400));
      }
      c.binary = pg.net == Net::kDownload;
      c.state = 2;
      c.chunksLeft = c.binary ? rng.range(2, 12) : rng.range(3, 40);
      first = true;
    } else {
      first = c.chunksLeft > 0 && c.state == 2;
      c.state = 3;
      if (c.binary)
        fillBinaryChunk(first);
      else
        fillLlmChunk(c, first);
      if (--c.chunksLeft == 0) c.state = 1;
    }
    // A call larger than one record is split into records of at most 16 KiB that share
    // the call's length and carry their offset, as the recorder does.
    constexpr size_t kChunk = 16384;
    uint64_t& off = writing ? c.outOff : c.inOff;
    size_t total = payload.size();
    for (size_t pos = 0; pos < total && room(); pos += kChunk) {
      size_t n = std::min(kChunk, total - pos);
      auto e = begin(p, tid);
      auto x = e.initTls();
      x.setDirection(writing ? schema::TlsDirection::WRITE : schema::TlsDirection::READ);
      x.setConn(c.id);
      x.setOffset(off + pos);
      x.setLength(total);
      if (opt.tlsPayloads) {
        x.setData(bytes(std::string_view(payload).substr(pos, n)));
        tlsBytes += n;
      }
      x.setFd(c.fd);
      if (pg.net == Net::kLlmLocal) {   // libuv's socket calls
        x.setPlain(true);
        x.setFunc(writing ? "writev" : "read");
        continue;
      }
      x.setLib(bytes(pg.tlsLib));
      bool ex = pg.tlsLib.find("libssl") != std::string_view::npos && pg.comm != "curl";
      x.setFunc(writing ? (ex ? "SSL_write_ex" : "SSL_write") : (ex ? "SSL_read_ex" : "SSL_read"));
    }
    off += total;
  }

  void lostReport() {
    std::string_view probe = kLostProbes[rng.below(kLostProbes.size())];
    uint64_t count = rng.range(1, 64);
    lost[std::string(probe)] += count;
    t += 1000;
    auto e = (*append)();
    e.setTNs(t);
    auto l = e.initLost();
    l.setCount(count);
    l.setProbe(capnp::Text::Reader(probe.data(), probe.size()));
    --remaining;
    ++generated;
  }

  // The recording starts with the exec of the recorded command (aa-record -- CMD).
  void execRoot() {
    const Proc& root = procs[0];
    const Program& pg = programs()[root.prog];
    auto e = begin(root, root.pid);
    auto x = e.initExec();
    x.setPath(bytes(pg.exe));
    auto argv = x.initArgv(pg.argv.size());
    for (size_t i = 0; i < pg.argv.size(); ++i) argv.set(i, bytes(pg.argv[i]));
    x.setCwd(bytes(cwds[root.cwd]));
    x.setUid(1000);
    x.setGid(1000);
    x.setPpid(root.ppid);
    rootStarted = true;
  }

  void step() {
    if (!rootStarted) return execRoot();
    size_t i = rng.chance(450) ? 0 : rng.below(procs.size());
    Proc& p = procs[i];
    if (i != 0 && p.actionsLeft-- == 0) return exitProc(i);
    uint32_t r = rng.below(10000);
    if (r < 2700) return fileOpen(p);
    if (r < 5300) return fileClose(p, schema::CloseReason::EXPLICIT);
    if (r < 7000) return fileIo(p);
    if (r < 7400) return fileMeta(p);
    if (r < 7600) return programs()[p.prog].spawns ? spawn(p) : fileOpen(p);
    if (r < 9998) return tls(p);
    lostReport();
  }
};

SynthGenerator::SynthGenerator(const SynthOptions& options)
    : s_(std::make_unique<State>(options)) {}
SynthGenerator::~SynthGenerator() = default;

void SynthGenerator::generate(uint64_t count,
                              const std::function<schema::Event::Builder()>& append) {
  s_->append = &append;
  s_->remaining = count;
  while (s_->remaining > 0) s_->step();
  s_->append = nullptr;
}

uint64_t SynthGenerator::generated() const { return s_->generated; }
uint64_t SynthGenerator::lastTNs() const { return s_->t; }
uint64_t SynthGenerator::tlsPayloadBytes() const { return s_->tlsBytes; }

std::vector<LostCountInfo> SynthGenerator::lostTotals() const {
  std::vector<LostCountInfo> out;
  for (auto& [probe, count] : s_->lost) out.push_back({probe, count});
  return out;
}

SessionHeaderInfo SynthGenerator::header() const {
  SessionHeaderInfo h;
  h.command = {"aa-session", "synth", "--events", std::to_string(s_->opt.events), "--seed",
               std::to_string(s_->opt.seed)};
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  h.startWallNs = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  h.startMonoNs = s_->opt.startMonoNs;
  h.clockOffsetNs = h.startWallNs - int64_t(h.startMonoNs);
  h.recorderVersion = "aa-session synth";
  h.target = "synth";
  h.options = {"seed=" + std::to_string(s_->opt.seed),
               "events=" + std::to_string(s_->opt.events),
               std::string("tls_payloads=") + (s_->opt.tlsPayloads ? "1" : "0")};
  return h;
}

StatusOr<SynthResult> writeSynthSession(const std::string& path, const SynthOptions& options,
                                        WriterOptions writerOptions) {
  SynthGenerator gen(options);
  auto w = SessionWriter::create(path, gen.header(), writerOptions);
  if (!w.ok()) return w.status();
  SessionWriter& writer = **w;
  std::function<schema::Event::Builder()> append = [&] { return writer.append(); };
  // Generate in slices so a write error stops a long run early.
  constexpr uint64_t kSlice = 1 << 16;
  for (uint64_t done = 0; done < options.events;) {
    uint64_t n = std::min(kSlice, options.events - done);
    gen.generate(n, append);
    done += n;
    if (!writer.error().ok()) return writer.error();
  }
  SessionFooterInfo footer;
  footer.endMonoNs = gen.lastTNs();
  footer.endWallNs = writer.header().startWallNs + int64_t(gen.lastTNs() - options.startMonoNs);
  footer.cleanStop = true;
  footer.lost = gen.lostTotals();
  footer.exitCode = 0;
  AA_RETURN_IF_ERROR(writer.close(footer));
  SynthResult r;
  r.events = writer.stats().events;
  r.fileBytes = writer.stats().bytesWritten;
  r.tlsPayloadBytes = gen.tlsPayloadBytes();
  return r;
}

}  // namespace aa
