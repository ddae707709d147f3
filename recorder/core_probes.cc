#include "recorder/core_probes.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <functional>

#include "bpf/aa.skel.h"
#include "recorder/loss_slots.h"

extern "C" {
#include "bpf/events.h"
}

namespace aa {

namespace {

// libbpf reports verifier and attach details only through its print callback (a
// process-wide setting). The last warning line explains a refusal; keep it, per thread
// (the TLS object loads on another thread while the core's loads).
std::string& lastLibbpfMessage() {
  thread_local std::string message;
  return message;
}

thread_local int quietDepth = 0;  // QuietLibbpf guards alive on this thread

int libbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (quietDepth > 0) return 0;
  if (getenv("AA_RECORD_LIBBPF_DEBUG")) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, format, copy);
    va_end(copy);
  }
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n > 0) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) lastLibbpfMessage() = s;
  }
  return 0;
}

std::string errText(int err) {
  if (err < 0) err = -err;
  std::string s = strerror(err);
  if (!lastLibbpfMessage().empty()) s += " (" + lastLibbpfMessage() + ")";
  return s;
}

struct Hook {
  const char* name;
  bpf_program* btf;
  bpf_program* raw;
};

std::vector<Hook> hooksOf(aa_bpf* s) {
  return {
      {"sched_process_exec", s->progs.btf_exec, s->progs.raw_exec},
      {"sched_process_fork", s->progs.btf_fork, s->progs.raw_fork},
      {"sched_process_exit", s->progs.btf_exit, s->progs.raw_exit},
      {"sys_enter", s->progs.btf_sys_enter, s->progs.raw_sys_enter},
      {"sys_exit", s->progs.btf_sys_exit, s->progs.raw_sys_exit},
  };
}

uint64_t roundRing(uint64_t bytes) {
  uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  uint64_t n = page;
  while (n < bytes && n < (uint64_t(1) << 31)) n <<= 1;
  return n;
}

bool pathExists(const char* p) {
  struct stat st;
  return stat(p, &st) == 0;
}

}  // namespace

QuietLibbpf::QuietLibbpf() {
  libbpf_set_print(libbpfPrint);
  ++quietDepth;
}

QuietLibbpf::~QuietLibbpf() { --quietDepth; }

Status checkBpfPrerequisites() {
  if (geteuid() != 0) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    bool capBpf = false, capPerfmon = false;
    if (syscall(SYS_capget, &hdr, data) == 0) {
      auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
      capBpf = has(39);      // CAP_BPF
      capPerfmon = has(38);  // CAP_PERFMON
    }
    if (!capBpf || !capPerfmon)
      return Status::error(
          "not root: loading eBPF probes needs root (or CAP_BPF and CAP_PERFMON); "
          "run with sudo");
  }
  if (!pathExists("/sys/kernel/btf/vmlinux"))
    return Status::error(
        "kernel BTF missing: /sys/kernel/btf/vmlinux not found (the kernel needs "
        "CONFIG_DEBUG_INFO_BTF=y for CO-RE probes)");
  return Status();
}

// The object's maps, made before its programs load, so that another object (the TLS
// capture) can reuse them while this one's programs are still being verified.
Status CoreProbes::makeMaps(aa_bpf* skel) {
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, skel->obj) {
    if (bpf_map__is_internal(m)) continue;  // .rodata, .bss: settings, made at load
    const char* name = bpf_map__name(m);
    auto it = mapFds_.find(name);
    if (it == mapFds_.end()) {
      LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(m));
      const int fd = bpf_map_create(bpf_map__type(m), name, bpf_map__key_size(m),
                                    bpf_map__value_size(m), bpf_map__max_entries(m), &opts);
      if (fd < 0)
        return Status::error(std::string("probe refused: cannot create BPF map ") + name + ": " +
                             errText(errno));
      it = mapFds_.emplace(name, fd).first;
    }
    if (int err = bpf_map__reuse_fd(m, it->second))
      return Status::error(std::string("probe refused: map ") + name + ": " + errText(err));
  }
  return Status();
}

StatusOr<std::unique_ptr<CoreProbes>> CoreProbes::create(const ProbeConfig& config,
                                                         const std::function<void(CoreProbes&)>& mapsReady) {
  libbpf_set_print(libbpfPrint);
  std::unique_ptr<CoreProbes> self(new CoreProbes());
  std::vector<ProbeStatusInfo> features;

  bool ringOk = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
  features.push_back({"feature:ringbuf", "probe", ringOk,
                      ringOk ? "" : "BPF ring buffer unsupported (kernel < 5.8)"});
  if (!ringOk) return Status::error("probe refused: the kernel has no BPF ring buffer (needs 5.8+)");
  bool btf = pathExists("/sys/kernel/btf/vmlinux");
  // tp_btf support is probed by loading the tp_btf variants themselves (a generic
  // BPF_PROG_TYPE_TRACING probe needs an attach target and says nothing useful).
  features.push_back({"feature:btf", "probe", btf, btf ? "" : "no /sys/kernel/btf/vmlinux"});
  bool kprobePmu = pathExists("/sys/bus/event_source/devices/kprobe");
  features.push_back({"feature:kprobe", "probe", kprobePmu,
                      kprobePmu ? "not needed: syscalls are hooked at sys_enter/sys_exit"
                                : "no kprobe PMU (CONFIG_KPROBES off)"});
  bool tracefs = pathExists("/sys/kernel/tracing/events") ||
                 pathExists("/sys/kernel/debug/tracing/events");
  features.push_back({"feature:tracefs", "probe", tracefs,
                      tracefs ? "" : "tracefs not mounted: classic tracepoints unavailable"});

  uint64_t ring = roundRing(config.ringBytes);
  std::string btfError;
  bool mapsAnnounced = false;
  // Attempt 0 prefers tp_btf; attempt 1 uses raw_tp for every hook.
  for (int attempt = btf ? 0 : 1; attempt < 2; ++attempt) {
    bool useBtf = attempt == 0;
    aa_bpf* skel = aa_bpf__open();
    if (!skel) return Status::error("probe refused: cannot open the BPF object: " + errText(errno));
    skel->rodata->self_tgid = config.selfTgid;
    skel->rodata->trace_all = config.traceAll;
    skel->rodata->io_calls = config.ioCalls;
    skel->rodata->wakeup_bytes = ring / 8;
    bpf_map__set_max_entries(skel->maps.events, uint32_t(ring));
    for (const Hook& h : hooksOf(skel)) {
      bpf_program__set_autoload(h.btf, useBtf);
      bpf_program__set_autoload(h.raw, !useBtf);
    }
    if (Status s = self->makeMaps(skel); !s.ok()) {
      aa_bpf__destroy(skel);
      return s;
    }
    if (mapsReady && !mapsAnnounced) {
      mapsReady(*self);
      mapsAnnounced = true;
    }
    lastLibbpfMessage().clear();
    int err = aa_bpf__load(skel);
    if (err) {
      std::string why = errText(err);
      aa_bpf__destroy(skel);
      if (useBtf) {
        btfError = "load: " + why;
        continue;
      }
      return Status::error("probe refused: loading the BPF programs failed: " + why);
    }
    std::vector<ProbeStatusInfo> hooks;
    std::vector<bpf_link*> links;
    bool failed = false;
    for (const Hook& h : hooksOf(skel)) {
      bpf_program* prog = useBtf ? h.btf : h.raw;
      lastLibbpfMessage().clear();
      bpf_link* link = config.attach ? bpf_program__attach(prog) : nullptr;
      if (config.attach && !link) {
        std::string why = errText(errno);
        hooks.push_back({h.name, useBtf ? "tp_btf" : "raw_tp", false, why});
        failed = true;
        continue;
      }
      if (link) links.push_back(link);
      ProbeStatusInfo st{h.name, useBtf ? "tp_btf" : "raw_tp", true, ""};
      if (!useBtf && !btfError.empty()) st.error = "tp_btf refused: " + btfError;
      hooks.push_back(st);
    }
    if (failed) {
      for (bpf_link* l : links) bpf_link__destroy(l);
      aa_bpf__destroy(skel);
      if (useBtf) {
        for (const auto& hs : hooks)
          if (!hs.ok) btfError = "attach " + hs.name + ": " + hs.error;
        continue;
      }
      for (const auto& hs : hooks)
        if (!hs.ok) return Status::error("probe refused: " + hs.name + " (raw_tp): " + hs.error);
    }
    self->skel_ = skel;
    for (bpf_link* l : links) self->links_.push_back(l);
    self->report_ = std::move(hooks);
    break;
  }
  for (auto& f : features) self->report_.push_back(std::move(f));
  self->ringBytes_ = ring;
  return self;
}

CoreProbes::~CoreProbes() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  if (skel_) aa_bpf__destroy(skel_);
  for (auto& [name, fd] : mapFds_) ::close(fd);
}

Status CoreProbes::trace(uint32_t pid) {
  // The value counts the process's tracked open files (bpf/common.bpf.h): an entry the
  // kernel made already (--all) is kept as it is.
  uint32_t one = 1;
  if (bpf_map_update_elem(tracedPidsFd(), &pid, &one, BPF_NOEXIST) != 0 && errno != EEXIST)
    return Status::error("traced_pids: cannot add pid " + std::to_string(pid) + ": " +
                         strerror(errno));
  return Status();
}

int CoreProbes::tracedPidsFd() const { return mapFd("traced_pids"); }
int CoreProbes::eventsFd() const { return mapFd("events"); }
uint64_t CoreProbes::ringBytes() const { return ringBytes_; }

int CoreProbes::mapFd(const char* name) const {
  auto it = mapFds_.find(name);
  return it == mapFds_.end() ? -1 : it->second;
}

void CoreProbes::enableTlsSyscallWork() { skel_->bss->tls_on = true; }

void CoreProbes::enablePlainCapture() { skel_->bss->plain_on = true; }

std::vector<LostCountInfo> CoreProbes::lostCounts() const {
  std::vector<LostCountInfo> out;
  const int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> perCpu(cpus > 0 ? cpus : 1);
  for (uint32_t i = 0; i < AA_PROBE_COUNT; ++i) {
    uint64_t n = 0;
    if (cpus > 0 && bpf_map__lookup_elem(skel_->maps.lost_counts, &i, sizeof(i), perCpu.data(),
                                         perCpu.size() * sizeof(uint64_t), 0) == 0)
      for (uint64_t c : perCpu) n += c;
    out.push_back({kLossSlotNames[i], n});
  }
  return out;
}

}  // namespace aa
