// CoreProbes: the recorder core's BPF object (bpf/aa.bpf.c) from feature probing to
// attached hooks: open -> configure rodata and map sizes -> load -> attach.
//
// Every hook exists in a tp_btf and a raw_tp variant. Feature probes (BTF, BPF
// tracing programs) pick the preferred variant; a load or attach the kernel refuses
// falls back to raw_tp, and report() says per hook which mode it got and why a better
// one failed. Owns the skeleton and its links; maps live as long as this object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/session_meta.h"
#include "store/status.h"

struct aa_bpf;     // bpf/aa.skel.h
struct bpf_link;   // libbpf

namespace aa {

struct ProbeConfig {
  uint32_t selfTgid = 0;          // the recorder: never traced, even with traceAll
  bool traceAll = false;          // every process, not only traced_pids
  bool ioCalls = false;           // a record per read/write call, besides the summaries
  uint64_t ringBytes = 32 << 20;  // ring buffer size; rounded up to a power of two pages
  bool attach = true;             // false: load only (probe report of a dry run)
};

class CoreProbes {
 public:
  // mapsReady, when given, is called once every map exists and before any program
  // loads (verifying them takes most of create()'s time): mapFd() answers from then
  // on, so another object can reuse the maps and load meanwhile, on another thread.
  static StatusOr<std::unique_ptr<CoreProbes>> create(
      const ProbeConfig& config, const std::function<void(CoreProbes&)>& mapsReady = {});
  ~CoreProbes();
  CoreProbes(const CoreProbes&) = delete;
  CoreProbes& operator=(const CoreProbes&) = delete;

  // Adds a process (tgid) to the traced set; its future children follow in the kernel.
  Status trace(uint32_t pid);
  int tracedPidsFd() const;
  int eventsFd() const;
  // The object's maps by name (the TLS object shares them), and one of them (-1: none).
  // They exist from mapsReady on and never change.
  const std::map<std::string, int, std::less<>>& mapFds() const { return mapFds_; }
  int mapFd(const char* name) const;
  // From now on the core's sys_enter/sys_exit pair also does the TLS capture's syscall
  // work (bpf/tls_sys.bpf.h), whose maps the TLS object now reads.
  void enableTlsSyscallWork();
  // From now on TCP connects of traced processes are candidates for plain-HTTP capture
  // (bpf/plain_sys.bpf.h), whose records the TLS capture decodes.
  void enablePlainCapture();
  uint64_t ringBytes() const;

  // Hooks and feature probes, one entry each (stored in the session header).
  const std::vector<ProbeStatusInfo>& report() const { return report_; }
  // Failed ring-buffer reserves per probe since load (cumulative), every probe listed.
  std::vector<LostCountInfo> lostCounts() const;

 private:
  CoreProbes() = default;
  Status makeMaps(aa_bpf* skel);
  aa_bpf* skel_ = nullptr;
  std::map<std::string, int, std::less<>> mapFds_;  // by map name; owned
  std::vector<bpf_link*> links_;
  std::vector<ProbeStatusInfo> report_;
  uint64_t ringBytes_ = 0;
};

// While alive, libbpf's messages on this thread are dropped: for a load whose refusal
// is expected (an optional program variant). Other threads keep theirs.
class QuietLibbpf {
 public:
  QuietLibbpf();
  ~QuietLibbpf();
  QuietLibbpf(const QuietLibbpf&) = delete;
  QuietLibbpf& operator=(const QuietLibbpf&) = delete;
};

// Preconditions checked before loading anything, each failing with one clear line:
// privileges (root, or CAP_BPF + CAP_PERFMON) and kernel BTF.
Status checkBpfPrerequisites();

}  // namespace aa
