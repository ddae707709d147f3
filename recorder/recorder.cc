#include "recorder/recorder.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "recorder/core_probes.h"
#include "recorder/decoder.h"
#include "recorder/fd.h"
#include "recorder/launcher.h"
#include "recorder/loss_slots.h"
#include "recorder/record_queue.h"
#include "store/kind.h"
#include "store/private_file.h"
#include "store/session_reader.h"
#include "store/session_writer.h"
#include "store/version.h"
#include "recorder/tls_capture.h"
#include "recorder/tls_discovery.h"

namespace aa {
namespace {

constexpr uint64_t kCommandGraceNs = 2000000000ull;

uint64_t monoNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void fail(const std::string& message) { fprintf(stderr, "aa-record: %s\n", message.c_str()); }

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

std::string humanBytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30))
    snprintf(buf, sizeof(buf), "%.1f GiB", double(n) / double(1ull << 30));
  else if (n >= (1ull << 20))
    snprintf(buf, sizeof(buf), "%.1f MiB", double(n) / double(1ull << 20));
  else if (n >= 1024)
    snprintf(buf, sizeof(buf), "%.1f KiB", double(n) / 1024.0);
  else
    snprintf(buf, sizeof(buf), "%" PRIu64 " B", n);
  return buf;
}

// The session file, made before any probe is loaded (so a bad path costs nothing and
// says so in one line), as the user it is for (ActAsUser): O_NOFOLLOW, exclusive
// creation, owner and mode set on the descriptor, locked. An existing file is kept
// unless --force; a FIFO, device, directory or symlink is refused untouched. With
// --force the new session is made beside the old one and renamed over it only when
// the recording starts (commit), so a recording that never starts leaves the old
// session as it was, and readers holding the old one keep a whole file. A file this
// recorder created is removed again if the recording never starts.
class Output {
 public:
  Output(const std::string& path, const Credentials& creds) : path_(path), creds_(creds) {}
  ~Output() {
    if (!file_) return;
    ActAsUser as(creds_);
    // Not started: remove what we made, if the name still is our file. A replacement
    // never committed is removed by NewPrivateFile itself (the old session stays).
    struct stat mine{}, there{};
    const int fd = file_->fd();
    if (fd >= 0 && !file_->replacing() && fstat(fd, &mine) == 0 && lstat(path_.c_str(), &there) == 0 &&
        mine.st_dev == there.st_dev && mine.st_ino == there.st_ino && mine.st_size == 0)
      unlink(path_.c_str());
    file_.reset();
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  Status open(bool force) {
    PrivateFileOptions po;
    po.existing = force ? ExistingFile::kReplace : ExistingFile::kRefuse;
    po.mode = 0600;   // sessions can hold secrets
    po.lock = true;
    if (geteuid() == 0 && creds_.change) {
      po.ownerUid = int(creds_.uid);
      po.ownerGid = int(creds_.gid);
    }
    ActAsUser as(creds_);
    PrivateFileError why;
    auto file = NewPrivateFile::create(path_, po, &why);
    if (!file.ok()) {
      if (why == PrivateFileError::kExists)
        return Status::error(path_ + ": already exists; --force replaces it (or give -o another name)");
      return file.status();
    }
    file_.emplace(std::move(*file));
    return {};
  }
  // The recording starts: the new session takes the name (of the one it replaces).
  Status commit() {
    ActAsUser as(creds_);
    return file_->commit();
  }
  // The descriptor, now owned by the caller (the SessionWriter).
  int release() { return file_->release(); }

 private:
  std::string path_;
  const Credentials& creds_;
  std::optional<NewPrivateFile> file_;
};

// The writer is destroyed as the user too (its last index writes, the removal of the
// index's -wal and -shm), like every other file operation on the session.
struct WriterHolder {
  std::unique_ptr<SessionWriter> writer;
  const Credentials* creds = nullptr;
  ~WriterHolder() {
    if (!writer) return;
    ActAsUser as(*creds);
    writer.reset();
  }
};

// The session and its index files, which this recorder created.
void removeSession(const std::string& path) {
  for (const std::string& p : sessionFiles(path))
    unlink(p.c_str());
}

// Turns cumulative per-probe counters into `lost` events carrying the increase.
class LossTracker {
 public:
  void update(const std::vector<LostCountInfo>& cumulative, Decoder& decoder, uint64_t nowNs) {
    for (const auto& c : cumulative) {
      uint64_t& seen = seen_[c.probe];
      if (c.count > seen) {
        decoder.appendLost(nowNs, c.probe, c.count - seen);
        seen = c.count;
      }
    }
  }
  std::vector<LostCountInfo> totals() const {
    std::vector<LostCountInfo> out;
    for (const auto& [probe, n] : seen_)
      if (n > 0) out.push_back({probe, n});
    return out;
  }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& [probe, n] : seen_) t += n;
    return t;
  }

 private:
  std::map<std::string, uint64_t> seen_;
};

struct DrainContext {
  RecordQueue* queue = nullptr;
  int sigFd = -1;
  pid_t childPid = -1;
  std::optional<int> childStatus;   // waitpid status once the command ended
  int stopSignals = 0;              // SIGINT/SIGTERM received
  uint64_t records = 0;
};

void readSignals(DrainContext& c) {
  signalfd_siginfo si;
  while (read(c.sigFd, &si, sizeof(si)) == sizeof(si)) {
    if (si.ssi_signo != SIGCHLD) {
      ++c.stopSignals;
      continue;
    }
    int st;
    if (c.childPid > 0 && !c.childStatus && waitpid(c.childPid, &st, WNOHANG) == c.childPid)
      c.childStatus = st;
  }
}

// The draining thread's ring-buffer callback: a copy into the queue, nothing more.
int onRecord(void* ctx, void* data, size_t size) {
  auto* c = static_cast<DrainContext*>(ctx);
  c->queue->add(RecordQueue::kRecord, data, uint32_t(size));
  // A full ring takes a while to drain: a second SIGINT must not wait for it.
  if (++c->records % 4096 == 0) {
    readSignals(*c);
    if (c->stopSignals >= 2) return -ECANCELED;
  }
  return 0;
}

void printSummary(const std::string& path, uint64_t elapsedNs, const LossTracker& loss) {
  auto reader = SessionReader::open(path);
  if (!reader.ok()) {
    fprintf(stderr, "aa-record: session written to %s, but reading it back failed: %s\n",
            path.c_str(), reader.status().message().c_str());
    return;
  }
  const SessionReader& r = **reader;
  fprintf(stderr, "aa-record: %" PRIu64 " events in %.1f s -> %s (%s)\n", r.eventCount(),
          double(elapsedNs) / 1e9, path.c_str(), humanBytes(r.fileSize()).c_str());
  auto totals = r.kindTotals();
  std::string kinds;
  for (int k = 0; k < kKindCount; ++k) {
    if (totals[k] == 0) continue;
    kinds += "  " + std::string(kindName(Kind(k))) + " " + std::to_string(totals[k]);
  }
  if (!kinds.empty()) fprintf(stderr, " %s\n", kinds.c_str());
  uint64_t tlsOut = 0, tlsIn = 0;
  auto conns = r.tlsConnections();
  for (const auto& c : conns) {
    tlsOut += c.bytesOut;
    tlsIn += c.bytesIn;
  }
  fprintf(stderr,
          "  processes %zu, files %zu, TLS connections %zu (%s sent, %s received), lost %" PRIu64
          "\n",
          r.processes().size(), r.files().size(), conns.size(), humanBytes(tlsOut).c_str(),
          humanBytes(tlsIn).c_str(), loss.total());
  fprintf(stderr, "  open it: aa-view %s   (or: aa-session info %s)\n", path.c_str(), path.c_str());
}

// Every process now running (tgids, from /proc).
std::vector<uint32_t> runningProcesses() {
  std::vector<uint32_t> pids;
  DIR* d = opendir("/proc");
  if (!d) return pids;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && pid > 0) pids.push_back(uint32_t(pid));
  }
  closedir(d);
  return pids;
}

// Traced processes still running: entries of the kernel's traced_pids map (the exit
// hook removes a process when its last thread exits, lost records or not) whose
// process still exists. The map, not the event stream, so a full ring cannot make the
// recording stop early or hang.
uint32_t liveTraced(int tracedPidsFd) {
  uint32_t n = 0, key = 0, next = 0;
  bool first = true;
  while (bpf_map_get_next_key(tracedPidsFd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (kill(pid_t(next), 0) == 0 || errno == EPERM) ++n;
  }
  return n;
}

// SIGKILL to every traced process still running; returns how many were signalled.
uint32_t killTraced(int tracedPidsFd) {
  uint32_t n = 0, key = 0, next = 0;
  bool first = true;
  std::vector<uint32_t> pids;
  while (bpf_map_get_next_key(tracedPidsFd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    pids.push_back(next);
  }
  for (uint32_t pid : pids)
    if (pid != uint32_t(getpid()) && kill(pid_t(pid), SIGKILL) == 0) ++n;
  return n;
}

SessionHeaderInfo makeHeader(const RecorderOptions& options, const CoreProbes& core) {
  SessionHeaderInfo header;
  header.recorderVersion = AA_VERSION;
  header.probes = core.report();
  header.command = options.command;
  if (options.redact) {
    redactArgv(header.command, options.redactRules);
    header.redactRules = options.redactRules.describe();
  }
  header.target = options.all ? "all" : options.pid ? "pid:" + std::to_string(options.pid)
                                                    : "command";
  header.options = options.recorded;
  header.options.push_back("ring_bytes=" + std::to_string(core.ringBytes()));
  header.options.push_back(std::string("io=") + (options.ioCalls ? "calls" : "summary"));
  header.options.push_back("max_tls_bytes=" + std::to_string(options.maxTlsBytes));
  header.options.push_back(std::string("redact=") + (options.redact ? "on" : "off"));
  header.options.push_back(std::string("plain_http=") + (options.plainHttp ? "on" : "off"));
  header.redaction = options.redact;   // command lines always; TLS payloads when captured
  return header;
}

TlsOptions tlsOptionsOf(const RecorderOptions& options) {
  TlsOptions tlsOptions;
  tlsOptions.maxBytesPerConn = options.maxTlsBytes;
  tlsOptions.redact = options.redact;
  tlsOptions.rules = options.redactRules;
  tlsOptions.plainHttp = options.plainHttp;
  return tlsOptions;
}

// The core's probes, with the TLS capture's object loaded and its system libraries
// hooked on a second thread meanwhile: it starts once the core's maps exist (it shares
// them) and runs while the kernel verifies the core's programs, which is most of the
// start-up. On its own thread, it gets dups of the map fds: if the core fails, those
// stay valid until the thread is done.
struct Probes {
  StatusOr<std::unique_ptr<CoreProbes>> core = Status::error("not loaded");
  StatusOr<std::unique_ptr<TlsCapture>> tls = Status::error("not loaded");
};

Probes loadProbes(const ProbeConfig& config, const TlsOptions& tlsOptions) {
  Probes p;
  TlsCapture::SharedMapFds fds;
  std::thread tlsThread;
  p.core = CoreProbes::create(config, [&](CoreProbes& core) {
    for (const auto& [name, fd] : core.mapFds()) {
      const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (dup >= 0) fds.emplace(name, dup);
    }
    tlsThread = std::thread([&] { p.tls = TlsCapture::create(fds, tlsOptions); });
  });
  if (tlsThread.joinable()) tlsThread.join();
  for (const auto& [name, fd] : fds) ::close(fd);
  if (p.core.ok() && p.tls.ok()) {
    (*p.core)->enableTlsSyscallWork();
    // plain sockets' records are decoded by the TLS capture: without it, none are made
    if (tlsOptions.plainHttp) (*p.core)->enablePlainCapture();
  }
  return p;
}

// TLS capture is best effort: without it the recording goes on, and the header says
// why it is missing.
std::unique_ptr<TlsCapture> startTls(const RecorderOptions& options,
                                     StatusOr<std::unique_ptr<TlsCapture>> created,
                                     SessionHeaderInfo& header) {
  if (!created.ok()) {
    fprintf(stderr, "aa-record: warning: TLS capture off: %s\n", created.status().message().c_str());
    header.probes.push_back({"tls", "uprobe", false, created.status().message()});
    // plain sockets' records are the TLS decoder's: without it none are made
    for (auto& o : header.options)
      if (o == "plain_http=on") o = "plain_http=off (no TLS capture)";
    return nullptr;
  }
  for (auto& p : (*created)->probeReport()) header.probes.push_back(p);
  header.redaction = options.redact;
  return std::move(*created);
}

// The one-line status on a terminal: elapsed, events/s, events, lost, file size.
class StatusLine {
 public:
  StatusLine(bool enabled, uint64_t startNs) : enabled_(enabled), startNs_(startNs), lastNs_(startNs) {}
  void update(uint64_t nowNs, const SessionWriter& writer, uint64_t lost) {
    if (!enabled_) return;
    uint64_t events = writer.nextSeq();
    double secs = double(nowNs - lastNs_) / 1e9;
    fprintf(stderr,
            "\r\033[Kaa-record: %.0f s  %.0f events/s  %" PRIu64 " events  lost %" PRIu64 "  %s",
            double(nowNs - startNs_) / 1e9, secs > 0 ? double(events - lastEvents_) / secs : 0.0,
            events, lost, humanBytes(writer.stats().bytesWritten).c_str());
    lastEvents_ = events;
    lastNs_ = nowNs;
  }
  void clear() {
    if (enabled_) fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  uint64_t startNs_, lastNs_;
  uint64_t lastEvents_ = 0;
};

}  // namespace

namespace {

// argv[0] as execvp would find it (PATH search for a bare name).
std::optional<std::string> findExecutable(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t at = 0;
  while (at <= dirs.size()) {
    size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > at ? dirs.substr(at, end - at) : ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = end + 1;
  }
  return std::nullopt;
}

int printTlsOf(const std::vector<std::string>& paths) {
  const DiscoveryCache cache(DiscoveryCache::defaultDir());
  int rc = 0;
  for (const std::string& path : paths) {
    auto scan = scanTls(path, &cache);
    if (!scan.ok()) {
      printf("%s: cannot check: %s\n", path.c_str(), scan.status().message().c_str());
      rc = 1;
      continue;
    }
    const std::string buildId = scan->buildId.empty() ? "no build-id" : "build-id " + scan->buildId;
    if (scan->hooks) {
      const TlsHookSet& h = *scan->hooks;
      std::string funcs;
      for (size_t f = 0; f < kHookCount; ++f) {
        if (!h.offsets[f]) continue;
        char off[64];
        snprintf(off, sizeof(off), "%s@0x%llx%s", kTlsHookNames[f],
                 static_cast<unsigned long long>(*h.offsets[f]), f == kHookNew ? " (return)" : "");
        funcs += (funcs.empty() ? "" : ", ") + std::string(off);
      }
      const std::string how = h.source == "cached" ? "from the discovery cache"
                              : h.source == "discovered" ? "discovered" : "by " + h.source;
      printf("%s: %s: hooked, offsets %s (%.1f ms, %s): %s\n", path.c_str(), h.stack.c_str(),
             how.c_str(), scan->millis, buildId.c_str(), funcs.c_str());
      if (!h.evidence.empty()) printf("  how: %s\n", h.evidence.c_str());
    }
    for (const std::string& p : scan->problems)
      printf("%s: not hooked (%.1f ms): %s\n", path.c_str(), scan->millis, p.c_str());
    if (!scan->hooks) {
      if (scan->found.empty())
        printf("%s: no TLS stack found (%s); the libraries it loads are checked when it runs\n",
               path.c_str(), buildId.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

int printProbeReport(const RecorderOptions& options) {
  if (!options.tlsOf.empty()) return printTlsOf(options.tlsOf);
  if (Status s = checkBpfPrerequisites(); !s.ok()) {
    fail(s.message());
    return 1;
  }
  ProbeConfig config;
  config.selfTgid = uint32_t(getpid());
  config.ringBytes = 1 << 16;
  Probes loaded = loadProbes(config, TlsOptions{});
  auto& probes = loaded.core;
  if (!probes.ok()) {
    fail(probes.status().message());
    return 1;
  }
  std::vector<ProbeStatusInfo> report = (*probes)->report();
  auto& tls = loaded.tls;
  if (tls.ok()) {
    for (auto& p : (*tls)->probeReport()) report.push_back(p);
  } else {
    report.push_back({"tls", "uprobe", false, tls.status().message()});
  }
  bool allOk = true;
  for (const auto& p : report) {
    bool isFeature = p.name.rfind("feature:", 0) == 0;
    if (!p.ok && !isFeature) allOk = false;
    printf("%-40s %-8s %s%s%s\n", p.name.c_str(), p.mode.c_str(), p.ok ? "ok" : "FAILED",
           p.error.empty() ? "" : ": ", p.error.c_str());
  }
  return allOk ? 0 : 1;
}

namespace {

// One recording, from checking the options to the footer, as named steps over the
// resources they share. Members are declared in the order the resources are made, so
// they are released in reverse (the ring before the maps, the writer before the
// output's guard). A step that ends the run returns its exit status.
class Recording {
 public:
  explicit Recording(const RecorderOptions& options) : options_(options) {}
  ~Recording() {
    if (writerThread_.joinable()) {  // finish() did not run: nothing more is written
      queue_.drop();
      writerThread_.join();
    }
  }
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;

  std::optional<int> check();
  std::optional<int> open();
  std::optional<int> startTarget();
  void drainUntilStop();
  int finish();

 private:
  std::optional<int> openWriter();
  void pollLoss();
  void drainRing();
  void writeLoop();
  void tick();
  void onTimer(bool* stopping);
  bool targetEnded(uint64_t now, bool targetGone);
  SessionFooterInfo footer(bool immediate, uint32_t runningAtStop, std::vector<std::string>* blind);

  const RecorderOptions& options_;
  std::optional<Credentials> creds_;
  std::optional<Output> output_;
  Fd sigFd_;
  std::unique_ptr<CoreProbes> core_;
  SessionHeaderInfo header_;
  std::unique_ptr<TlsCapture> tls_;
  std::unique_ptr<HeldChild> child_;
  WriterHolder held_;
  std::unique_ptr<Decoder> decoder_;
  RecordQueue queue_;
  DrainContext drain_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
  std::thread writerThread_;          // writeLoop(): decode, batch, compress, write, index
  std::atomic<bool> writeError_{false};
  Fd pidFd_;
  Fd epollFd_, timerFd_;
  uint64_t startNs_ = 0, lastPollNs_ = 0, lastLiveCheckNs_ = 0;
  std::optional<StatusLine> status_;
  LossTracker loss_;
  bool following_ = false;          // the target is gone, descendants are not
  bool writeFailed_ = false;
  uint32_t killed_ = 0;
};

// The options, the privileges, the user to run as and the command: each failure is one
// line and an exit status.
std::optional<int> Recording::check() {
  const RecorderOptions& options = options_;
  int targets = (options.command.empty() ? 0 : 1) + (options.pid ? 1 : 0) + (options.all ? 1 : 0);
  if (targets != 1) {
    fail("give exactly one target: -- CMD ARGS..., --pid PID, or --all");
    return 2;
  }
  if (options.pid && kill(pid_t(options.pid), 0) != 0 && errno == ESRCH) {
    fail("--pid " + std::to_string(options.pid) + ": no such process");
    return 1;
  }
  if (Status s = checkBpfPrerequisites(); !s.ok()) {
    fail(s.message());
    return 1;
  }
  auto creds = resolveCredentials(options.user);
  if (!creds.ok()) {
    fail(creds.status().message());
    return 1;
  }
  creds_ = std::move(*creds);
  if (!options.command.empty()) {
    std::string why;
    if (int code = checkCommand(options.command[0], &why)) {
      fail(why);
      return code;
    }
  }
  return std::nullopt;
}

// The output file, the signals, the probes (core and TLS), the held command and the
// writer: everything that must exist before the command is released.
std::optional<int> Recording::open() {
  const RecorderOptions& options = options_;
  output_.emplace(options.output, *creds_);
  if (Status s = output_->open(options.force); !s.ok()) {
    fail(s.message());
    return 1;
  }

  // Signals arrive through a signalfd; blocked before the child is forked so that it
  // inherits the mask (it restores an empty one before exec).
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  sigFd_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

  ProbeConfig config;
  config.selfTgid = uint32_t(getpid());
  config.traceAll = options.all;
  config.ioCalls = options.ioCalls;
  config.ringBytes = options.ringBytes;
  Probes loaded = loadProbes(config, tlsOptionsOf(options));
  if (!loaded.core.ok()) {
    fail(loaded.core.status().message());
    return 1;
  }
  core_ = std::move(*loaded.core);

  header_ = makeHeader(options, *core_);
  tls_ = startTls(options, std::move(loaded.tls), header_);
  // The command's own executable is examined (TLS discovery included) before it starts.
  if (tls_ && !options.command.empty()) {
    if (auto exe = findExecutable(options.command[0])) tls_->prepare(*exe);
  }

  if (!options.command.empty()) {
    auto spawned = HeldChild::spawn(options.command, *creds_);
    if (!spawned.ok()) {
      fail(spawned.status().message());
      return 1;
    }
    child_ = std::move(*spawned);
  }
  return openWriter();
}

// The session writer, its decoder and the ring buffer that feeds them.
std::optional<int> Recording::openWriter() {
  const RecorderOptions& options = options_;
  held_.creds = &*creds_;
  {
    if (Status s = output_->commit(); !s.ok()) {
      fail(s.message());
      return 1;
    }
    WriterOptions wo;
    wo.fd = output_->release();
    wo.fileMode = 0600;
    if (geteuid() == 0 && creds_->change) {
      wo.ownerUid = int(creds_->uid);
      wo.ownerGid = int(creds_->gid);
    }
    ActAsUser as(*creds_);
    auto created = SessionWriter::create(options.output, header_, wo);
    if (!created.ok()) {
      fail(created.status().message());
      return 1;
    }
    held_.writer = std::move(*created);
  }
  SessionWriter& writer = *held_.writer;

  decoder_ = std::make_unique<Decoder>(writer);
  Decoder& decoder = *decoder_;
  TlsCapture* tls = tls_.get();
  drain_.queue = &queue_;
  if (options.redact)
    decoder.redactArgv = [this](std::vector<std::string>& argv) { redactArgv(argv, options_.redactRules); };
  if (tls) {
    decoder.onExec = [tls](uint32_t pid, const ExecutedImage& image) { tls->onExec(pid, image); };
    decoder.onExit = [tls](uint32_t pid) { tls->onExit(pid); };
    decoder.onConnect = [tls](uint32_t pid, int32_t fd, uint16_t family, std::span<const uint8_t> addr,
                              uint16_t port, int64_t ret) { tls->onConnect(pid, fd, family, addr, port, ret); };
  }
  ring_.reset(ring_buffer__new(core_->eventsFd(), onRecord, &drain_, nullptr));
  if (!ring_) {
    fail(std::string("ring buffer: ") + strerror(errno));
    return 1;
  }
  return std::nullopt;
}

// Puts the target in the traced set: the held command (released, its exec awaited),
// every running process (--all), or the --pid process.
std::optional<int> Recording::startTarget() {
  const RecorderOptions& options = options_;
  CoreProbes& core = *core_;
  TlsCapture* tls = tls_.get();
  if (child_) {
    const uint32_t rootPid = uint32_t(child_->pid());
    if (Status s = core.trace(rootPid); !s.ok()) {
      fail(s.message());
      return 1;
    }
    if (Status s = child_->release(); !s.ok()) {
      fail(s.message());
      return 1;
    }
    // Found by checkCommand, yet the exec can still fail (a race, a bad interpreter,
    // the user's permissions): then nothing of the command was recorded, and a session
    // of the recorder's own set-up would mislead.
    int code = 0;
    if (std::string why = child_->waitExec(&code); !why.empty()) {
      fail(why);
      ActAsUser as(*creds_);
      (void)held_.writer->close();
      removeSession(options.output);
      return code;
    }
  } else if (options.all) {
    // The core probes need no seeding with --all; the TLS probes scope by traced_pids.
    for (uint32_t pid : runningProcesses()) {
      if (pid == uint32_t(getpid())) continue;
      if (Status s = core.trace(pid); !s.ok()) break;  // full: counted by the kernel from here
      if (tls) tls->onExec(pid);
    }
  } else if (options.pid) {
    const uint32_t rootPid = options.pid;
    pidFd_.reset(int(syscall(SYS_pidfd_open, pid_t(rootPid), 0)));
    if (pidFd_.get() < 0) {
      fail("--pid " + std::to_string(rootPid) + ": " + strerror(errno));
      return 1;
    }
    if (Status s = core.trace(rootPid); !s.ok()) {
      fail(s.message());
      return 1;
    }
    if (tls) tls->onExec(rootPid);
  }
  return std::nullopt;
}

void Recording::pollLoss() {
  auto counts = core_->lostCounts();
  if (tls_)
    for (auto& c : tls_->lostCounts()) counts.push_back({std::string(kTlsLossPrefix) + c.probe, c.count});
  loss_.update(counts, *decoder_, monoNow());
}

// Draining thread: whatever the ring holds, into the queue.
void Recording::drainRing() {
  ring_buffer__consume(ring_.get());
  queue_.publish();
}

// Writing thread: the queue's records through the TLS capture (types 100-199) and the
// decoder into the writer, and the timer's ticks, in the order they were drained;
// returns at the end marker. Decoder, TLS capture and writer are this thread's alone
// until it returns.
void Recording::writeLoop() {
  for (;;) {
    std::deque<std::vector<uint8_t>> blocks = queue_.take();
    if (blocks.empty() && queue_.dropping()) return;
    bool ended = false;
    for (const std::vector<uint8_t>& b : blocks) {
      if (queue_.dropping()) return;  // a second Ctrl-C: stop at once
      forEachEntry(b, [&](RecordQueue::Kind kind, const uint8_t* data, uint32_t size) {
        switch (kind) {
          case RecordQueue::kRecord:
            if (!(tls_ && tls_->decode(data, size, *held_.writer))) decoder_->decode(data, size);
            return true;
          case RecordQueue::kTick:
            tick();
            return true;
          case RecordQueue::kEnd:
            ended = true;
            return false;
        }
        return true;
      });
      if (ended) return;
    }
  }
}

// Writing thread, at each timer tick: loss counters and status line every second, the
// batch out.
void Recording::tick() {
  SessionWriter& writer = *held_.writer;
  const uint64_t now = monoNow();
  if (now - lastPollNs_ >= 1000000000ull) {
    pollLoss();
    status_->update(now, writer, loss_.total());
    lastPollNs_ = now;
  }
  (void)writer.flush();   // an error is reported once, at the end
  if (!writer.error().ok()) writeError_ = true;
}

// Draining thread: the flush timer drains the ring and sends a tick after its records;
// --duration.
void Recording::onTimer(bool* stopping) {
  uint64_t ticks;
  while (read(timerFd_.get(), &ticks, sizeof(ticks)) == sizeof(ticks)) {
  }
  ring_buffer__consume(ring_.get());
  queue_.add(RecordQueue::kTick);
  queue_.publish();
  if (writeError_) drain_.stopSignals = 2;
  const uint64_t now = monoNow();
  if (options_.durationSec > 0 && double(now - startNs_) / 1e9 >= options_.durationSec)
    *stopping = true;
}

// The target's end: its exit record is in the ring by now (the kernel emits it before
// notifying the parent). By default the recording goes on while any traced descendant
// runs (daemons, background jobs), as strace -f does; checked every 100 ms in the
// kernel's traced_pids. True: stop now.
bool Recording::targetEnded(uint64_t now, bool targetGone) {
  const bool targetDone = drain_.childStatus.has_value() || targetGone;
  if (!targetDone || options_.all) return false;
  if (options_.stopWithCommand) return true;
  if (now - lastLiveCheckNs_ < 100000000ull) return false;
  lastLiveCheckNs_ = now;
  const uint32_t live = liveTraced(core_->tracedPidsFd());
  if (live == 0) return true;
  if (!following_) {
    following_ = true;
    if (!options_.quiet) {
      status_->clear();
      fprintf(stderr,
              "aa-record: the command exited; recording its %u remaining process%s until "
              "they exit (Ctrl-C or --duration stops)\n",
              live, live == 1 ? "" : "es");
    }
  }
  return false;
}

// The epoll loop: ring, signals, the flush timer and the --pid target's pidfd, until a
// stop (the tree's end, --duration, Ctrl-C, a write error).
void Recording::drainUntilStop() {
  const RecorderOptions& options = options_;
  epollFd_.reset(epoll_create1(EPOLL_CLOEXEC));
  timerFd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  {
    itimerspec its{};
    its.it_interval.tv_nsec = long(options.flushMs) * 1000000L;
    its.it_value = its.it_interval;
    timerfd_settime(timerFd_.get(), 0, &its, nullptr);
  }
  auto watch = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(epollFd_.get(), EPOLL_CTL_ADD, fd, &ev);
  };
  enum : uint64_t { kRing, kSignal, kTimer, kPid };
  watch(ring_buffer__epoll_fd(ring_.get()), kRing);
  watch(sigFd_.get(), kSignal);
  watch(timerFd_.get(), kTimer);
  if (pidFd_.get() >= 0) watch(pidFd_.get(), kPid);

  startNs_ = monoNow();
  lastPollNs_ = startNs_;
  status_.emplace(isatty(2) && !options.quiet, startNs_);
  writerThread_ = std::thread([this] { writeLoop(); });
  pthread_setname_np(writerThread_.native_handle(), "aa-write");  // for top -H, bench scripts

  drain_.sigFd = sigFd_.get();
  drain_.childPid = child_ ? child_->pid() : -1;
  bool stopping = false;
  uint64_t stopAskedNs = 0;
  bool targetGone = false;          // the --pid target exited
  while (!stopping) {
    epoll_event evs[8];
    int n = epoll_wait(epollFd_.get(), evs, 8, 1000);
    if (n < 0 && errno != EINTR) {
      fail(std::string("epoll_wait: ") + strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      switch (evs[i].data.u64) {
        case kRing:
          drainRing();
          break;
        case kSignal:
          readSignals(drain_);
          break;
        case kTimer:
          onTimer(&stopping);
          break;
        case kPid:
          targetGone = true;
          epoll_ctl(epollFd_.get(), EPOLL_CTL_DEL, pidFd_.get(), nullptr);
          break;
      }
    }
    // A terminal's SIGINT reaches the command too: give it a moment to exit so that its
    // end is recorded.
    const uint64_t now = monoNow();
    if (targetEnded(now, targetGone)) stopping = true;
    const bool targetDone = drain_.childStatus.has_value() || targetGone;
    if (writeError_) drain_.stopSignals = 2;   // a full disk: stop at once
    if (drain_.stopSignals > 0 && stopAskedNs == 0) stopAskedNs = now;
    if (drain_.stopSignals >= 2) stopping = true;
    // After Ctrl-C, the command's exit (or the grace) ends the recording even while
    // descendants still run.
    if (stopAskedNs && (!child_ || targetDone || now - stopAskedNs > kCommandGraceNs)) stopping = true;
  }
}

// What the footer says: clean or not, loss, the command's exit, what still runs, and
// the probe report at the stop (with the TLS hooks attached since the header).
SessionFooterInfo Recording::footer(bool immediate, uint32_t runningAtStop,
                                    std::vector<std::string>* blind) {
  SessionFooterInfo footer;
  footer.cleanStop = !immediate;
  footer.lost = loss_.totals();
  footer.exitCode = -1;
  if (drain_.childStatus) {
    int st = *drain_.childStatus;
    footer.exitCode = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  footer.runningAtStop = runningAtStop;
  // The header was written before the recording began; the footer's report also has
  // the TLS hooks attached since (an executable like node, a dlopened libssl).
  footer.probes = core_->report();
  if (tls_) {
    for (auto& p : tls_->probeReport()) footer.probes.push_back(p);
    // connections no TLS hook could see: in the session, and said at the stop
    *blind = tls_->blindSpots();
    for (const std::string& b : *blind) footer.probes.push_back({"tls:not-decrypted", "none", false, b});
  } else {
    footer.probes.insert(footer.probes.end(), header_.probes.begin() + ptrdiff_t(footer.probes.size()),
                         header_.probes.end());
  }
  return footer;
}

// The stop: the last records, the footer, the messages; the command's exit status.
int Recording::finish() {
  const RecorderOptions& options = options_;
  SessionWriter& writer = *held_.writer;
  // The last records (not after a second Ctrl-C: then what is queued is dropped too),
  // then the writing thread's end: from here on this thread has the writer again.
  const bool immediate = drain_.stopSignals >= 2;
  if (immediate) {
    queue_.drop();
  } else {
    ring_buffer__consume(ring_.get());
    queue_.add(RecordQueue::kEnd);
    queue_.publish();
  }
  if (writerThread_.joinable()) writerThread_.join();
  // A write error (a full disk) leaves the traced tree running unrecorded unless asked
  // otherwise: --on-write-error=kill ends it, so nothing it does goes unseen.
  writeFailed_ = !writer.error().ok();
  if (writeFailed_ && options.killOnWriteError && !options.all) killed_ = killTraced(core_->tracedPidsFd());
  // Say what the recording misses: processes of the tree still running at the stop.
  const uint32_t runningAtStop = options.all ? 0 : liveTraced(core_->tracedPidsFd());

  pollLoss();
  status_->clear();

  std::vector<std::string> blind;
  SessionFooterInfo footerInfo = footer(immediate, runningAtStop, &blind);
  const int exitStatus = footerInfo.exitCode < 0 ? 0 : footerInfo.exitCode;
  Status closed;
  {
    ActAsUser as(*creds_);
    closed = writer.close(footerInfo);
  }
  if (!closed.ok()) {
    // One message: what failed, what the file keeps, and what became of the command.
    const WriterStats& ws = writer.stats();
    std::string what = closed.message() + "; recording stopped: " + options.output + " keeps " +
                       std::to_string(ws.keptEvents) + " events in whole frames (" +
                       humanBytes(ws.keptBytes) + ", " +
                       (ws.footerAfterError ? "footer written" : "no room left for a footer") +
                       ", index removed: readers rebuild it)";
    if (killed_) {
      what += "; killed " + std::to_string(killed_) + " traced process" + (killed_ == 1 ? "" : "es") +
              " (--on-write-error=kill)";
    } else if (runningAtStop) {
      what += "; " + std::to_string(runningAtStop) + " traced process" +
              (runningAtStop == 1 ? " is" : "es are") +
              " still running, unrecorded (--on-write-error=kill would end them)";
    }
    fail(what);
    return 1;
  }
  if (!writer.stats().indexError.empty())
    fprintf(stderr, "aa-record: warning: index not written (%s); readers rebuild it from the log\n",
            writer.stats().indexError.c_str());
  if (decoder_->stats().malformed)
    fprintf(stderr, "aa-record: warning: %" PRIu64 " malformed records skipped\n",
            decoder_->stats().malformed);
  if (runningAtStop && !writeFailed_)
    fprintf(stderr, "aa-record: stopped with %u traced process%s still running (not recorded from here on)\n",
            runningAtStop, runningAtStop == 1 ? "" : "es");
  for (const std::string& b : blind) fprintf(stderr, "aa-record: %s\n", b.c_str());
  if (!options.quiet) {
    ActAsUser as(*creds_);   // reading back may write the index beside the session
    printSummary(options.output, monoNow() - startNs_, loss_);
  }
  return exitStatus;
}

}  // namespace

int runRecorder(const RecorderOptions& options) {
  Recording r(options);
  if (auto code = r.check()) return *code;
  if (auto code = r.open()) return *code;
  if (auto code = r.startTarget()) return *code;
  r.drainUntilStop();
  return r.finish();
}

}  // namespace aa
