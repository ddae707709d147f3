// TLS plaintext capture, for real (root): curl (SSL_write/SSL_read in libssl), Python
// (SSL_write_ex/SSL_read_ex) and Node (OpenSSL inside /usr/bin/node) talk to the
// loopback server fixtures/server/server.js; the session's tls events must hold the request and
// the response, whole, at contiguous offsets, with secrets redacted.
//
// Two ways to record, same assertions:
//  - Direct: TlsCapture with maps of the test's own, a real SessionWriter, and a child
//    put in the traced set before it execs (tests this part alone);
//  - AaRecord: the aa-record executable (when it is built), end to end.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "recorder/tls_capture.h"
#include "store/session_reader.h"
#include "store/session_writer.h"
#include "tests/support/test_server.h"
#ifdef AA_HAVE_TRAFFIC
#include "store/traffic/traffic.h"
#endif

namespace aa {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = AA_SOURCE_DIR;
const std::string kClientPy = kSourceDir + "/fixtures/tls/client.py";
const std::string kClientJs = kSourceDir + "/fixtures/tls/client.js";
const std::string kSecret = "Bearer sk-test-0123456789";

std::string python() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

bool haveExe(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The loopback HTTPS server (fixtures/server/server.js), stopped by closing its stdin.
using LoopbackServer = test_support::TestServer;

struct TlsEv {
  uint32_t pid = 0;
  std::string func, lib, data;
  bool read = false, truncated = false;
  uint64_t conn = 0, offset = 0, length = 0;
  int32_t fd = -1;
};

StatusOr<std::vector<TlsEv>> readTls(const std::string& path) {
  std::vector<TlsEv> out;
  AA_ASSIGN_OR_RETURN(auto reader, SessionReader::open(path));
  EventQuery q;
  q.kinds = bit(Kind::kTlsWrite) | bit(Kind::kTlsRead);
  Status st = reader->forEach(q, [&](schema::Event::Reader e) {
    if (!e.isTls()) return true;
    auto t = e.getTls();
    TlsEv v;
    v.pid = e.getPid();
    v.func = t.getFunc();
    v.lib.assign(reinterpret_cast<const char*>(t.getLib().begin()), t.getLib().size());
    v.data.assign(reinterpret_cast<const char*>(t.getData().begin()), t.getData().size());
    v.read = t.getDirection() == schema::TlsDirection::READ;
    v.truncated = t.getTruncated();
    v.conn = t.getConn();
    v.offset = t.getOffset();
    v.length = t.getLength();
    v.fd = t.getFd();
    out.push_back(std::move(v));
    return true;
  });
  AA_RETURN_IF_ERROR(st);
  return out;
}

// One direction of one connection, reassembled by offset.
struct StreamText {
  std::string bytes;
  bool contiguous = true;
  std::vector<std::string> funcs, libs;
  int32_t fd = -1;
  bool truncated = false;
};

std::map<std::pair<uint64_t, bool>, StreamText> streams(const std::vector<TlsEv>& evs) {
  std::map<std::pair<uint64_t, bool>, std::map<uint64_t, const TlsEv*>> parts;
  for (const auto& e : evs) parts[{e.conn, e.read}][e.offset] = &e;
  std::map<std::pair<uint64_t, bool>, StreamText> out;
  for (const auto& [key, byOffset] : parts) {
    StreamText& s = out[key];
    for (const auto& [offset, e] : byOffset) {
      if (offset != s.bytes.size()) s.contiguous = false;
      s.bytes += e->data;
      s.funcs.push_back(e->func);
      s.libs.push_back(e->lib);
      if (e->fd >= 0) s.fd = e->fd;
      s.truncated = s.truncated || e->truncated;
    }
  }
  return out;
}

struct Captured {
  std::string writes, reads;  // all streams of the kind, concatenated
  std::map<std::pair<uint64_t, bool>, StreamText> byStream;
  std::vector<TlsEv> events;
};

Captured summarize(std::vector<TlsEv> evs) {
  Captured c;
  c.byStream = streams(evs);
  for (const auto& [key, s] : c.byStream) (key.second ? c.reads : c.writes) += s.bytes;
  c.events = std::move(evs);
  return c;
}

enum class Mode { kDirect, kAaRecord };

struct RunResult {
  bool ran = false;
  std::string skip;       // why it could not run (not a failure of the code under test)
  int exitStatus = -1;
  std::string session;
  std::string log;        // the recorder's stderr (aa-record only)
};

// Records `argv` with TlsCapture alone: the traced_pids hash and the ring buffer are
// made here, the child enters the traced set before it execs.
// How the direct recording drains: a normal ring read while the command runs, or a
// small ring read only after it exited (to force losses).
struct DirectConfig {
  uint32_t ringBytes = 32 << 20;
  bool drainWhileRunning = true;
};

RunResult recordDirect(const std::vector<std::string>& argv, const TlsOptions& options,
                       const std::string& session, const DirectConfig& config = {},
                       std::vector<LostCountInfo>* lost = nullptr) {
  RunResult r;
  int pids = bpf_map_create(BPF_MAP_TYPE_HASH, "traced_pids", 4, 4, 1024, nullptr);
  int rb = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, config.ringBytes, nullptr);
  if (pids < 0 || rb < 0) {
    r.skip = std::string("cannot create BPF maps: ") + std::strerror(errno);
    return r;
  }
  auto capture = TlsCapture::create(pids, rb, options);
  if (!capture.ok()) {
    r.skip = capture.status().message();
    return r;
  }
  SessionHeaderInfo header;
  header.target = "command";
  header.redaction = options.redact;
  auto writer = SessionWriter::create(session, header);
  if (!writer.ok()) {
    r.skip = writer.status().message();
    return r;
  }
  struct Ctx {
    TlsCapture* cap;
    SessionWriter* w;
  } ctx{capture->get(), writer->get()};
  ring_buffer* ring = ring_buffer__new(
      rb,
      [](void* p, void* data, size_t size) {
        auto* c = static_cast<Ctx*>(p);
        c->cap->decode(data, size, *c->w);
        return 0;
      },
      &ctx, nullptr);

  int go[2];
  EXPECT_EQ(::pipe2(go, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    char b;
    ::close(go[1]);
    if (::read(go[0], &b, 1) != 1) ::_exit(126);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);  // the clients print bodies; stderr stays for diagnostics
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  uint32_t key = child, one = 1;
  bpf_map_update_elem(pids, &key, &one, BPF_ANY);
  ::close(go[0]);
  if (::write(go[1], "g", 1) != 1) ADD_FAILURE() << "cannot release the child";
  ::close(go[1]);
  int status = 0;
  bool execScanned = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    if (config.drainWhileRunning) {
      ring_buffer__poll(ring, 10);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!execScanned) {
      // what the recorder core does on the exec record
      capture->get()->onExec(child);
      execScanned = true;
    }
    if (::waitpid(child, &status, WNOHANG) == child) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      ADD_FAILURE() << "child timed out";
      break;
    }
  }
  ring_buffer__consume(ring);
  ring_buffer__free(ring);
  SessionFooterInfo footer;
  footer.lost = capture->get()->lostCounts();
  if (lost) *lost = footer.lost;
  footer.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  EXPECT_TRUE((*writer)->close(footer).ok());
  capture.value().reset();
  ::close(pids);
  ::close(rb);
  r.ran = true;
  r.exitStatus = footer.exitCode;
  r.session = session;
  return r;
}

RunResult recordAaRecord(const std::vector<std::string>& argv, const TlsOptions& options,
                         const std::string& session) {
  RunResult r;
#ifdef AA_RECORD_PATH
  std::vector<std::string> cmd = {AA_RECORD_PATH, "-o", session};
  if (!options.redact) cmd.push_back("--no-redact");
  if (options.maxBytesPerConn)
    cmd.push_back("--max-tls-bytes=" + std::to_string(options.maxBytesPerConn));
  cmd.push_back("--");
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  const std::string log = session + ".log";
  const pid_t child = ::fork();
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(null, 1);  // the clients print bodies
    ::dup2(err, 2);   // aa-record's summary, shown when the run fails
    std::vector<char*> args;
    for (const auto& a : cmd) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  r.ran = true;
  r.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.session = session;
  std::ifstream in(log);
  r.log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
#else
  r.skip = "aa-record is not built in this tree yet";
#endif
  return r;
}

class TlsCaptureTest : public ::testing::TestWithParam<Mode> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) {
      skipReason_ = "needs root: loads BPF programs and uprobes";
      return;
    }
    if (!haveExe("/usr/bin/openssl")) {
      skipReason_ = "needs the openssl CLI to make the test certificate";
      return;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (!skipReason_.empty()) GTEST_SKIP() << skipReason_;
    if (!server_) {  // started lazily: skipped tests cost nothing
      server_ = new LoopbackServer();
      if (Status st = server_->start(kSourceDir); !st.ok()) {
        skipReason_ = "loopback TLS server: " + st.message();
        GTEST_SKIP() << skipReason_;
      }
    }
    dir_ = fs::temp_directory_path() / ("aa-tls-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Records argv and returns its TLS events; skips when the recorder cannot run.
  std::optional<Captured> record(const std::vector<std::string>& argv, TlsOptions options = {}) {
    const std::string session = (dir_ / ("s" + std::to_string(n_++) + ".aas")).string();
    RunResult r = GetParam() == Mode::kDirect ? recordDirect(argv, options, session)
                                              : recordAaRecord(argv, options, session);
    if (!r.ran) {
      skip_ = r.skip;
      return std::nullopt;
    }
    EXPECT_EQ(r.exitStatus, 0) << "recorded command failed: " << argv[0] << "\n" << r.log;
    auto evs = readTls(r.session);
    EXPECT_TRUE(evs.ok()) << evs.status().message();
    return summarize(evs.ok() ? std::move(evs).value() : std::vector<TlsEv>{});
  }

  static LoopbackServer* server_;
  static std::string skipReason_;
  fs::path dir_;
  int n_ = 0;
  std::string skip_;
};

LoopbackServer* TlsCaptureTest::server_ = nullptr;
std::string TlsCaptureTest::skipReason_;

#define RECORD_OR_SKIP(var, ...)              \
  auto var##Opt = record(__VA_ARGS__);        \
  if (!var##Opt) GTEST_SKIP() << skip_;       \
  const Captured& var = *var##Opt

// Behaviour of TlsCapture alone is checked once, directly; end to end through
// aa-record only where the recorder's own wiring is involved.
class TlsCaptureDirectTest : public TlsCaptureTest {};
class TlsCaptureEndToEndTest : public TlsCaptureTest {};

void expectFuncs(const Captured& c, const std::string& write, const std::string& read) {
  for (const auto& e : c.events) EXPECT_EQ(e.func, e.read ? read : write);
}

TEST_P(TlsCaptureTest, CurlRequestAndResponse) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "--cacert", server_->cert(),
                     "-H", "Authorization: " + kSecret, server_->url("/hello")});
  EXPECT_NE(c.writes.find("GET /hello HTTP/1.1\r\n"), std::string::npos) << c.writes;
  EXPECT_NE(c.reads.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << c.reads;
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos);
  // redacted, same length
  EXPECT_EQ(c.writes.find("sk-test"), std::string::npos);
  EXPECT_NE(c.writes.find("Authorization: " + std::string(kSecret.size(), '*') + "\r\n"),
            std::string::npos);
  EXPECT_EQ(c.reads.find("server-secret-cookie"), std::string::npos);
  expectFuncs(c, "SSL_write", "SSL_read");
  for (const auto& [key, s] : c.byStream) {
    EXPECT_TRUE(s.contiguous);
    EXPECT_GE(s.fd, 0) << "socket fd not learned";
    for (const auto& lib : s.libs) EXPECT_NE(lib.find("libssl.so"), std::string::npos) << lib;
  }
  // one connection: both directions share its id
  ASSERT_EQ(c.byStream.size(), 2u);
  EXPECT_EQ(c.byStream.begin()->first.first, c.byStream.rbegin()->first.first);
}

TEST_P(TlsCaptureDirectTest, ClassicUprobesWithoutMulti) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  TlsOptions options;
  options.uprobeMulti = false;  // the path kernels before 6.6 take
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "--cacert", server_->cert(),
                     "-H", "Connection: close", server_->url("/hello"), server_->url("/hello")},
                 options);
  EXPECT_NE(c.writes.find("GET /hello HTTP/1.1\r\n"), std::string::npos) << c.writes;
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos);
  std::set<uint64_t> conns;  // SSL_free is hooked on this path too
  for (const auto& e : c.events) conns.insert(e.conn);
  EXPECT_EQ(conns.size(), 2u);
  expectFuncs(c, "SSL_write", "SSL_read");
}

TEST_P(TlsCaptureTest, PythonUsesExFunctions) {
  RECORD_OR_SKIP(c, {python(), kClientPy, server_->port(), server_->cert(), "--header",
                     "X-Api-Key: " + kSecret});
  EXPECT_NE(c.writes.find("GET /hello HTTP/1.1\r\n"), std::string::npos) << c.writes;
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos) << c.reads;
  EXPECT_EQ(c.writes.find("sk-test"), std::string::npos);
  expectFuncs(c, "SSL_write_ex", "SSL_read_ex");
  for (const auto& [key, s] : c.byStream) EXPECT_GE(s.fd, 0);
}

// Node's OpenSSL is wherever this machine's node has it: inside the executable (a
// nodesource build exports SSL_*) or the system libssl (Debian 12's nodejs 18).
TEST_P(TlsCaptureTest, NodeWhereverItsOpenSslIs) {
  if (!haveExe("/usr/bin/node")) GTEST_SKIP() << "needs /usr/bin/node";
  auto own = tlsSymbolOffsets("/usr/bin/node");
  ASSERT_TRUE(own.ok()) << own.status().message();
  const bool inside = (*own)[0] != 0;
  RECORD_OR_SKIP(c, {"/usr/bin/node", kClientJs, server_->port(), server_->cert(), "--header",
                     "Cookie: token=" + kSecret});
  EXPECT_NE(c.writes.find("GET /hello HTTP/1.1\r\n"), std::string::npos) << c.writes;
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos) << c.reads;
  EXPECT_EQ(c.writes.find("sk-test"), std::string::npos);
  ASSERT_FALSE(c.events.empty());
  for (const auto& e : c.events) {
    const std::string file = fs::path(e.lib).filename().string();
    if (inside)
      EXPECT_EQ(file, "node") << e.lib;
    else
      EXPECT_EQ(file.rfind("libssl.so", 0), 0u) << e.lib;
    EXPECT_TRUE(e.func == "SSL_write" || e.func == "SSL_read" || e.func == "SSL_write_ex" ||
                e.func == "SSL_read_ex")
        << e.func;
  }
  // Node's OpenSSL works over memory BIOs: libuv writes and reads the socket outside the
  // SSL_* calls, with write(v)/read, and the socket is learned from those
  for (const auto& [key, s] : c.byStream) EXPECT_GE(s.fd, 0) << "socket fd not learned";
}

// OpenSSL linked into the executable (found through its .symtab), hooked there. Its
// hooks are attached once the exec is seen, so the client waits a moment before its
// first call (calls in the first moments of such a process can be missed: see
// docs/RECORDER.md, limits).
TEST_P(TlsCaptureTest, OpenSslInsideTheExecutable) {
  const std::string client = AA_TEST_TLS_STATIC;
  struct DelayFirstCall {
    DelayFirstCall() { ::setenv("TLS_LOOP_START_DELAY_MS", "300", 1); }
    ~DelayFirstCall() { ::unsetenv("TLS_LOOP_START_DELAY_MS"); }
  } delay;
  RECORD_OR_SKIP(c, {client, server_->port(), server_->cert(), "3"});
  EXPECT_NE(c.writes.find("GET /hello HTTP/1.1\r\n"), std::string::npos) << c.writes;
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos) << c.reads;
  ASSERT_FALSE(c.events.empty());
  for (const auto& e : c.events) EXPECT_EQ(e.lib, client);
  expectFuncs(c, "SSL_write", "SSL_read");
}

TEST_P(TlsCaptureTest, OneMebibyteRequestCapturedWhole) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  const std::string body = (dir_ / "body.bin").string();
  std::string content;
  content.reserve(1 << 20);
  for (uint32_t i = 0; content.size() < (1u << 20); ++i)
    content += "chunk " + std::to_string(i) + " of the one mebibyte body\n";
  content.resize(1 << 20);
  std::ofstream(body, std::ios::binary) << content;
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "--cacert", server_->cert(),
                     "--data-binary", "@" + body, server_->url("/echo-size")});
  EXPECT_NE(c.reads.find("received 1048576 bytes"), std::string::npos) << c.reads;
  ASSERT_EQ(c.byStream.size(), 2u);
  const StreamText& out = c.byStream.begin()->second;  // (conn, write)
  EXPECT_TRUE(out.contiguous);
  EXPECT_FALSE(out.truncated);
  const auto bodyAt = out.bytes.find("\r\n\r\n");
  ASSERT_NE(bodyAt, std::string::npos);
  EXPECT_EQ(out.bytes.size() - bodyAt - 4, content.size());
  EXPECT_TRUE(out.bytes.substr(bodyAt + 4) == content) << "body bytes differ";
  // large calls came in several chunks, each carrying the call's total length
  size_t bigChunks = 0;
  for (const auto& e : c.events)
    if (!e.read && e.length > e.data.size()) ++bigChunks;
  EXPECT_GT(bigChunks, 0u);
}

TEST_P(TlsCaptureTest, MaxBytesPerConnectionTruncates) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  TlsOptions options;
  options.maxBytesPerConn = 1000;
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "--cacert", server_->cert(),
                     server_->url("/bytes/100000")}, options);
  bool sawTruncated = false;
  for (const auto& [key, s] : c.byStream) {
    EXPECT_LE(s.bytes.size(), 1000u);
    sawTruncated = sawTruncated || s.truncated;
  }
  EXPECT_TRUE(sawTruncated);
  ASSERT_EQ(c.byStream.size(), 2u);
  EXPECT_EQ(c.byStream.rbegin()->second.bytes.size(), 1000u);  // (conn, read)
}

TEST_P(TlsCaptureTest, NoRedactKeepsSecrets) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  TlsOptions options;
  options.redact = false;
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "--cacert", server_->cert(),
                     "-H", "Authorization: " + kSecret, server_->url("/hello")}, options);
  EXPECT_NE(c.writes.find("Authorization: " + kSecret + "\r\n"), std::string::npos) << c.writes;
}

TEST_P(TlsCaptureDirectTest, SequentialConnectionsGetDistinctIds) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  // the second SSL* is likely allocated at the first one's address: SSL_free separates them
  RECORD_OR_SKIP(c, {"/usr/bin/curl", "-sS", "-o", "/dev/null", "-o", "/dev/null", "--cacert",
                     server_->cert(), "-H", "Connection: close", server_->url("/hello"),
                     server_->url("/bytes/10")});
  std::set<uint64_t> conns;
  for (const auto& e : c.events) conns.insert(e.conn);
  EXPECT_EQ(conns.size(), 2u);
  for (const auto& [key, s] : c.byStream) {
    EXPECT_TRUE(s.contiguous);
    if (!key.second) {
      EXPECT_TRUE(s.bytes.starts_with("GET /")) << s.bytes;
    }
  }
}

TEST_P(TlsCaptureTest, LibraryLoadedAfterExecIsFound) {
  // Python dlopens libssl when `ssl` is imported; a private copy of the library is a
  // file the recorder has not hooked at start, found through the mmap report.
  const fs::path lib = dir_ / "lib";
  fs::create_directories(lib);
  for (const char* name : {"libssl.so.3", "libcrypto.so.3"}) {
    const fs::path sys = fs::path("/usr/lib/x86_64-linux-gnu") / name;
    if (!fs::exists(sys)) GTEST_SKIP() << "needs " << sys;
    fs::copy_file(sys, lib / name);
  }
  // The probes are attached asynchronously after the mmap report; the pause after
  // `import ssl` keeps this test about discovery, not about that (documented) race.
  const std::string run =
      "import ssl, sys, time, runpy; time.sleep(0.5); sys.argv = sys.argv[1:]; "
      "runpy.run_path(sys.argv[0], run_name='__main__')";
  RECORD_OR_SKIP(c, {"/usr/bin/env", "LD_LIBRARY_PATH=" + lib.string(), python(), "-c", run,
                     kClientPy, server_->port(), server_->cert()});
  ASSERT_FALSE(c.events.empty());
  for (const auto& e : c.events) EXPECT_EQ(e.lib, (lib / "libssl.so.3").string());
  EXPECT_NE(c.reads.find("hello from the loopback server\n"), std::string::npos) << c.reads;
}

TEST_P(TlsCaptureDirectTest, RingBufferLossIsCountedExactly) {
  // One connection, SSL_write_ex calls of known sizes; every call becomes
  // ceil(size / 16 KiB) records, each either delivered or counted as lost. Direct only:
  // aa-record drains while the command runs, so how many are lost is not predictable.
  const std::string script = (dir_ / "writes.py").string();
  std::ofstream(script) << R"(import socket, ssl, sys
sizes = [100, 16384, 16385, 200000]
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b"POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % sum(sizes))
        for n in sizes:
            s.sendall(b"z" * n)
        s.recv(4096)
)";
  const std::string session = (dir_ / "loss.aas").string();
  std::vector<LostCountInfo> lost;
  DirectConfig config;
  config.ringBytes = 64 << 10;  // a few chunks fit, the rest cannot
  config.drainWhileRunning = false;
  RunResult r = recordDirect({python(), script, server_->port(), server_->cert()}, TlsOptions{},
                             session, config, &lost);
  if (!r.ran) GTEST_SKIP() << r.skip;
  ASSERT_EQ(r.exitStatus, 0);
  const auto evs = readTls(session);
  ASSERT_TRUE(evs.ok()) << evs.status().message();
  uint64_t writeRecords = 0;
  for (const auto& e : *evs)
    if (!e.read) ++writeRecords;
  uint64_t lostWrites = 0;
  for (const auto& l : lost)
    if (l.probe == "SSL_write_ex") lostWrites = l.count;
  const uint64_t expected = 1 /* request head */ + 1 + 1 + 2 + 13;
  EXPECT_GT(lostWrites, 0u);
  EXPECT_GT(writeRecords, 0u);
  EXPECT_EQ(writeRecords + lostWrites, expected)
      << writeRecords << " delivered, " << lostWrites << " lost";
}

#ifdef AA_HAVE_TRAFFIC
// HTTP/2 (curl --http2 to the test server's HTTP/2 port): HPACK-coded secrets masked in
// place, and the session still decodes (the traffic parser's HPACK state stays in step).
TEST_P(TlsCaptureEndToEndTest, Http2HeadersRedacted) {
  if (!haveExe("/usr/bin/curl")) GTEST_SKIP() << "needs /usr/bin/curl";
  auto c = record({"/usr/bin/curl", "-sS", "--http2", "-o", "/dev/null", "-o", "/dev/null",
                   "--cacert", server_->cert(), "-H", "x-api-key: SECRETKEY1", "-H",
                   "Authorization: " + kSecret, "-H", "x-other: visible-value",
                   server_->h2Url("/hello"), server_->h2Url("/bytes/10")});
  if (!c) GTEST_SKIP() << skip_;

  auto reader = SessionReader::open((dir_ / ("s" + std::to_string(n_ - 1) + ".aas")).string());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto traffic = traffic::loadTraffic(**reader);
  ASSERT_TRUE(traffic.ok()) << traffic.status().message();
  int requests = 0;
  for (const auto& x : traffic->exchanges) {
    if (x.protocol != "h2" || !x.request) continue;
    ++requests;
    const auto& rq = *x.request;
    ASSERT_NE(rq.header("x-api-key"), nullptr);
    EXPECT_EQ(rq.header("x-api-key")->size(), std::string("SECRETKEY1").size());
    EXPECT_EQ(rq.header("x-api-key")->find_first_not_of("*0<"), std::string::npos)
        << *rq.header("x-api-key");
    ASSERT_NE(rq.header("authorization"), nullptr);
    EXPECT_EQ(rq.header("authorization")->find("sk-test"), std::string::npos);
    EXPECT_EQ(rq.headerOr("x-other"), "visible-value");
    ASSERT_TRUE(x.response.has_value());
    EXPECT_EQ(x.response->status, 200);
    EXPECT_NE(x.response->header("set-cookie"), nullptr);
    EXPECT_EQ(x.response->headerOr("set-cookie").find("server-secret-cookie"), std::string::npos);
  }
  EXPECT_EQ(requests, 2);
}
#endif

std::string modeName(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::kDirect ? "Direct" : "AaRecord";
}
INSTANTIATE_TEST_SUITE_P(, TlsCaptureTest, ::testing::Values(Mode::kDirect, Mode::kAaRecord),
                         modeName);
INSTANTIATE_TEST_SUITE_P(, TlsCaptureDirectTest, ::testing::Values(Mode::kDirect), modeName);
INSTANTIATE_TEST_SUITE_P(, TlsCaptureEndToEndTest, ::testing::Values(Mode::kAaRecord), modeName);

}  // namespace
}  // namespace aa
