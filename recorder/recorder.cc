#include "recorder/recorder.h"

#include <dirent.h>
#include <fcntl.h>
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
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "recorder/core_probes.h"
#include "recorder/decoder.h"
#include "recorder/launcher.h"
#include "store/kind.h"
#include "store/private_file.h"
#include "store/session_reader.h"
#include "store/session_writer.h"
#include "recorder/tls_capture.h"
#include "recorder/tls_discovery.h"

namespace aa {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr uint64_t kCommandGraceNs = 2000000000ull;

uint64_t monoNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void fail(const std::string& message) { fprintf(stderr, "aa-record: %s\n", message.c_str()); }

// One owned fd.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

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
// unless --force; a FIFO, device, directory or symlink is refused untouched. A file
// this recorder created is removed again if the recording never starts.
class Output {
 public:
  Output(const std::string& path, const Credentials& creds) : path_(path), creds_(creds) {}
  ~Output() {
    if (fd_ < 0) return;
    // Not started: remove what we made, if the name still is our file.
    ActAsUser as(creds_);
    struct stat mine{}, there{};
    if (created_ && fstat(fd_, &mine) == 0 && lstat(path_.c_str(), &there) == 0 &&
        mine.st_dev == there.st_dev && mine.st_ino == there.st_ino && mine.st_size == 0)
      unlink(path_.c_str());
    close(fd_);
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
    created_ = access(path_.c_str(), F_OK) != 0 && errno == ENOENT;
    PrivateFileError why;
    auto fd = createPrivateFile(path_, po, &why);
    if (!fd.ok()) {
      if (why == PrivateFileError::kExists)
        return Status::error(path_ + ": already exists; --force replaces it (or give -o another name)");
      return fd.status();
    }
    fd_ = *fd;
    return {};
  }
  // The descriptor, now owned by the caller (the SessionWriter).
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  std::string path_;
  const Credentials& creds_;
  int fd_ = -1;
  bool created_ = false;
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
  Decoder* decoder = nullptr;
  SessionWriter* writer = nullptr;
  TlsCapture* tls = nullptr;
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

int onRecord(void* ctx, void* data, size_t size) {
  auto* c = static_cast<DrainContext*>(ctx);
  if (!(c->tls && c->tls->decode(data, size, *c->writer)))
    c->decoder->decode(data, size);
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
  header.recorderVersion = kVersion;
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
  header.redaction = options.redact;   // command lines always; TLS payloads when captured
  return header;
}

// TLS capture is best effort: without it the recording goes on, and the header says
// why it is missing.
std::unique_ptr<TlsCapture> startTls(const RecorderOptions& options, const CoreProbes& core,
                                     SessionHeaderInfo& header) {
  TlsOptions tlsOptions;
  tlsOptions.maxBytesPerConn = options.maxTlsBytes;
  tlsOptions.redact = options.redact;
  tlsOptions.rules = options.redactRules;
  auto created = TlsCapture::create(core.tracedPidsFd(), core.eventsFd(), tlsOptions);
  if (!created.ok()) {
    fprintf(stderr, "aa-record: warning: TLS capture off: %s\n", created.status().message().c_str());
    header.probes.push_back({"tls", "uprobe", false, created.status().message()});
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
  auto probes = CoreProbes::create(config);
  if (!probes.ok()) {
    fail(probes.status().message());
    return 1;
  }
  std::vector<ProbeStatusInfo> report = (*probes)->report();
  TlsOptions tlsOptions;
  auto tls = TlsCapture::create((*probes)->tracedPidsFd(), (*probes)->eventsFd(), tlsOptions);
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

int runRecorder(const RecorderOptions& options) {
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
  if (!options.command.empty()) {
    std::string why;
    if (int code = checkCommand(options.command[0], &why)) {
      fail(why);
      return code;
    }
  }
  Output output(options.output, *creds);
  if (Status s = output.open(options.force); !s.ok()) {
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
  Fd sigFd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

  ProbeConfig config;
  config.selfTgid = uint32_t(getpid());
  config.traceAll = options.all;
  config.ioCalls = options.ioCalls;
  config.ringBytes = options.ringBytes;
  auto probes = CoreProbes::create(config);
  if (!probes.ok()) {
    fail(probes.status().message());
    return 1;
  }
  CoreProbes& core = **probes;

  SessionHeaderInfo header = makeHeader(options, core);
  std::unique_ptr<TlsCapture> tls = startTls(options, core, header);
  // The command's own executable is examined (TLS discovery included) before it starts.
  if (tls && !options.command.empty()) {
    if (auto exe = findExecutable(options.command[0])) tls->prepare(*exe);
  }

  std::unique_ptr<HeldChild> child;
  if (!options.command.empty()) {
    auto spawned = HeldChild::spawn(options.command, *creds);
    if (!spawned.ok()) {
      fail(spawned.status().message());
      return 1;
    }
    child = std::move(*spawned);
  }

  WriterHolder held;
  held.creds = &*creds;
  {
    WriterOptions wo;
    wo.fd = output.release();
    wo.fileMode = 0600;
    if (geteuid() == 0 && creds->change) {
      wo.ownerUid = int(creds->uid);
      wo.ownerGid = int(creds->gid);
    }
    ActAsUser as(*creds);
    auto created = SessionWriter::create(options.output, header, wo);
    if (!created.ok()) {
      fail(created.status().message());
      return 1;
    }
    held.writer = std::move(*created);
  }
  SessionWriter& writer = *held.writer;

  Decoder decoder(writer);
  DrainContext drain;
  drain.decoder = &decoder;
  drain.writer = &writer;
  drain.tls = tls.get();
  if (options.redact)
    decoder.redactArgv = [&](std::vector<std::string>& argv) { redactArgv(argv, options.redactRules); };
  if (tls) {
    decoder.onExec = [&](uint32_t pid, const std::string& path) { tls->onExec(pid, path); };
    decoder.onExit = [&](uint32_t pid) { tls->onExit(pid); };
    decoder.onConnect = [&](uint32_t pid, uint16_t family, std::span<const uint8_t> addr,
                            uint16_t port, int64_t ret) { tls->onConnect(pid, family, addr, port, ret); };
  }
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring(
      ring_buffer__new(core.eventsFd(), onRecord, &drain, nullptr));
  if (!ring) {
    fail(std::string("ring buffer: ") + strerror(errno));
    return 1;
  }

  Fd pidFd;
  uint32_t rootPid = 0;
  if (child) {
    rootPid = uint32_t(child->pid());
    if (Status s = core.trace(rootPid); !s.ok()) {
      fail(s.message());
      return 1;
    }
    if (Status s = child->release(); !s.ok()) {
      fail(s.message());
      return 1;
    }
    // Found by checkCommand, yet the exec can still fail (a race, a bad interpreter,
    // the user's permissions): then nothing of the command was recorded, and a session
    // of the recorder's own set-up would mislead.
    int code = 0;
    if (std::string why = child->waitExec(&code); !why.empty()) {
      fail(why);
      ActAsUser as(*creds);
      (void)writer.close();
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
    rootPid = options.pid;
    pidFd.reset(int(syscall(SYS_pidfd_open, pid_t(rootPid), 0)));
    if (pidFd.get() < 0) {
      fail("--pid " + std::to_string(rootPid) + ": " + strerror(errno));
      return 1;
    }
    if (Status s = core.trace(rootPid); !s.ok()) {
      fail(s.message());
      return 1;
    }
    if (tls) tls->onExec(rootPid);
  }

  Fd epollFd(epoll_create1(EPOLL_CLOEXEC));
  Fd timerFd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  {
    itimerspec its{};
    its.it_interval.tv_nsec = long(options.flushMs) * 1000000L;
    its.it_value = its.it_interval;
    timerfd_settime(timerFd.get(), 0, &its, nullptr);
  }
  auto watch = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(epollFd.get(), EPOLL_CTL_ADD, fd, &ev);
  };
  enum : uint64_t { kRing, kSignal, kTimer, kPid };
  watch(ring_buffer__epoll_fd(ring.get()), kRing);
  watch(sigFd.get(), kSignal);
  watch(timerFd.get(), kTimer);
  if (pidFd.get() >= 0) watch(pidFd.get(), kPid);

  const uint64_t startNs = monoNow();
  uint64_t lastPollNs = startNs;
  StatusLine status(isatty(2) && !options.quiet, startNs);
  LossTracker loss;
  auto pollLoss = [&]() {
    auto counts = core.lostCounts();
    if (tls)
      for (auto& c : tls->lostCounts()) counts.push_back({"tls:" + c.probe, c.count});
    loss.update(counts, decoder, monoNow());
  };

  drain.sigFd = sigFd.get();
  drain.childPid = child ? child->pid() : -1;
  bool stopping = false;
  uint64_t stopAskedNs = 0;
  bool targetGone = false;          // the --pid target exited
  bool following = false;           // the target is gone, descendants are not
  uint64_t lastLiveCheckNs = 0;
  uint32_t live = 0;
  while (!stopping) {
    epoll_event evs[8];
    int n = epoll_wait(epollFd.get(), evs, 8, 1000);
    if (n < 0 && errno != EINTR) {
      fail(std::string("epoll_wait: ") + strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      switch (evs[i].data.u64) {
        case kRing:
          ring_buffer__consume(ring.get());
          break;
        case kSignal:
          readSignals(drain);
          break;
        case kTimer: {
          uint64_t ticks;
          while (read(timerFd.get(), &ticks, sizeof(ticks)) == sizeof(ticks)) {
          }
          ring_buffer__consume(ring.get());
          uint64_t now = monoNow();
          if (now - lastPollNs >= 1000000000ull) {
            pollLoss();
            status.update(now, writer, loss.total());
            lastPollNs = now;
          }
          (void)writer.flush();   // an error is reported once, at the end
          if (!writer.error().ok()) drain.stopSignals = 2;
          if (options.durationSec > 0 && double(now - startNs) / 1e9 >= options.durationSec)
            stopping = true;
          break;
        }
        case kPid:
          targetGone = true;
          epoll_ctl(epollFd.get(), EPOLL_CTL_DEL, pidFd.get(), nullptr);
          break;
      }
    }
    // The target's end: its exit record is in the ring by now (the kernel emits it
    // before notifying the parent). By default the recording goes on while any traced
    // descendant runs (daemons, background jobs), as strace -f does; checked every
    // 100 ms in the kernel's traced_pids. A terminal's SIGINT reaches the command too:
    // give it a moment to exit so that its end is recorded.
    const uint64_t now = monoNow();
    const bool targetDone = drain.childStatus.has_value() || targetGone;
    if (targetDone && !options.all) {
      if (options.stopWithCommand) {
        stopping = true;
      } else if (now - lastLiveCheckNs >= 100000000ull) {
        lastLiveCheckNs = now;
        live = liveTraced(core.tracedPidsFd());
        if (live == 0) {
          stopping = true;
        } else if (!following) {
          following = true;
          if (!options.quiet) {
            status.clear();
            fprintf(stderr,
                    "aa-record: the command exited; recording its %u remaining process%s until "
                    "they exit (Ctrl-C or --duration stops)\n",
                    live, live == 1 ? "" : "es");
          }
        }
      }
    }
    if (!writer.error().ok()) drain.stopSignals = 2;   // a full disk: stop at once
    if (drain.stopSignals > 0 && stopAskedNs == 0) stopAskedNs = now;
    if (drain.stopSignals >= 2) stopping = true;
    // After Ctrl-C, the command's exit (or the grace) ends the recording even while
    // descendants still run.
    if (stopAskedNs && (!child || targetDone || now - stopAskedNs > kCommandGraceNs)) stopping = true;
  }
  // A write error (a full disk) leaves the traced tree running unrecorded unless asked
  // otherwise: --on-write-error=kill ends it, so nothing it does goes unseen.
  const bool writeFailed = !writer.error().ok();
  uint32_t killed = 0;
  if (writeFailed && options.killOnWriteError && !options.all) killed = killTraced(core.tracedPidsFd());
  // Say what the recording misses: processes of the tree still running at the stop.
  const uint32_t runningAtStop = options.all ? 0 : liveTraced(core.tracedPidsFd());

  const bool immediate = drain.stopSignals >= 2;
  if (!immediate) ring_buffer__consume(ring.get());
  pollLoss();
  status.clear();

  int exitStatus = 0;
  int footerExit = -1;
  if (drain.childStatus) {
    int st = *drain.childStatus;
    footerExit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    exitStatus = footerExit;
  }
  SessionFooterInfo footer;
  footer.cleanStop = !immediate;
  footer.lost = loss.totals();
  footer.exitCode = footerExit;
  footer.runningAtStop = runningAtStop;
  // The header was written before the recording began; the footer's report also has
  // the TLS hooks attached since (an executable like node, a dlopened libssl).
  footer.probes = core.report();
  std::vector<std::string> blind;
  if (tls) {
    for (auto& p : tls->probeReport()) footer.probes.push_back(p);
    // connections no TLS hook could see: in the session, and said at the stop
    blind = tls->blindSpots();
    for (const std::string& b : blind) footer.probes.push_back({"tls:not-decrypted", "none", false, b});
  } else {
    footer.probes.insert(footer.probes.end(), header.probes.begin() + ptrdiff_t(footer.probes.size()),
                         header.probes.end());
  }
  Status closed;
  {
    ActAsUser as(*creds);
    closed = writer.close(footer);
  }
  if (!closed.ok()) {
    // One message: what failed, what the file keeps, and what became of the command.
    const WriterStats& ws = writer.stats();
    std::string what = closed.message() + "; recording stopped: " + options.output + " keeps " +
                       std::to_string(ws.keptEvents) + " events in whole frames (" +
                       humanBytes(ws.keptBytes) + ", " +
                       (ws.footerAfterError ? "footer written" : "no room left for a footer") +
                       ", index removed: readers rebuild it)";
    if (killed) {
      what += "; killed " + std::to_string(killed) + " traced process" + (killed == 1 ? "" : "es") +
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
  if (decoder.stats().malformed)
    fprintf(stderr, "aa-record: warning: %" PRIu64 " malformed records skipped\n",
            decoder.stats().malformed);
  if (runningAtStop && !writeFailed)
    fprintf(stderr, "aa-record: stopped with %u traced process%s still running (not recorded from here on)\n",
            runningAtStop, runningAtStop == 1 ? "" : "es");
  for (const std::string& b : blind) fprintf(stderr, "aa-record: %s\n", b.c_str());
  if (!options.quiet) {
    ActAsUser as(*creds);   // reading back may write the index beside the session
    printSummary(options.output, monoNow() - startNs, loss);
  }
  return exitStatus;
}

}  // namespace aa
