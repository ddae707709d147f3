// The names of the kernel's loss counters, as sessions store them: one table for the one
// per-CPU array both BPF objects count into (`lost_counts`, bpf/common.bpf.h; slot layout
// in bpf/events.h). The core's slots are named after their probe or full table, the TLS
// capture's after their probe with "tls:" before it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

extern "C" {
#include "bpf/events.h"
}

namespace aa {

inline constexpr std::array<const char*, AA_LOSS_SLOTS> kLossSlotNames = {
    // enum aa_probe
    "sched_process_exec", "sched_process_fork", "sched_process_exit", "sys_enter", "sys_exit",
    "open_files:full", "traced_pids:full",
    // AA_TLS_LOSS_BASE + enum aa_tls_loss_slot
    "tls:SSL_write", "tls:SSL_write_ex", "tls:SSL_read", "tls:SSL_read_ex", "tls:mmap",
    "tls:SSL_free", "tls:EVP_AEAD_CTX_seal", "tls:EVP_AEAD_CTX_open", "tls:aead-fd",
    "tls:plain-send", "tls:plain-recv", "tls:plain-close"};
static_assert(kLossSlotNames[AA_LOSS_SLOTS - 1] != nullptr, "a loss slot has no name");
static_assert(std::string_view(kLossSlotNames[AA_TLS_LOSS_BASE]) == "tls:SSL_write",
              "the core's names and enum aa_probe disagree");

inline constexpr std::string_view kTlsLossPrefix = "tls:";

}  // namespace aa
