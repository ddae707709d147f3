/* What both BPF objects (aa.bpf.c, tls.bpf.c) share: the traced set, the ring buffer,
 * the loss counters, and the helpers that write to them. The recorder core's object
 * owns the maps; recorder/tls_capture.cc reuses them in the TLS object before load
 * (bpf_map__reuse_fd), so both see one traced tree, one ring and one loss table.
 * Kernel style. */
#ifndef AA_COMMON_BPF_H
#define AA_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "events.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);    /* tgid */
	/* 1 + the tgid's entries in aa.bpf.c's open_files (1 when added: user space, fork
	 * and exec add with NOEXIST or for a new tgid, so a count is never reset), and
	 * AA_TRACED_TLS, AA_TRACED_PLAIN */
	__type(value, __u32);
} traced_pids SEC(".maps");

/* Set in a traced_pids value by the process's first hooked TLS call: only then does
 * the TLS capture's syscall work run for its reads and writes (a process that never
 * calls TLS, like the file loop of bench/recorder, pays nothing for it). */
#define AA_TRACED_TLS 0x80000000u
/* Set by the process's first TCP connect while plain-socket capture is on
 * (bpf/plain_sys.bpf.h): only then are its reads and writes looked at. Two bits, any of
 * them meaning "set", because the mark is an add as well (below): two first connects
 * racing on two threads add it twice and leave 0x40000000, still set; it would take four
 * racing within the same instant to carry into AA_TRACED_TLS. */
#define AA_TRACED_PLAIN_ONE 0x20000000u
#define AA_TRACED_PLAIN 0x60000000u
#define AA_TRACED_COUNT(v) ((v) & ~(AA_TRACED_TLS | AA_TRACED_PLAIN))

/* A hooked TLS call of a traced process: mark it (tls.bpf.c's uprobes). The bit is
 * added, not or'ed: the ISA the objects are built for has a 32-bit atomic add and no
 * 32-bit or, and the count below never carries into it. Two first calls racing add it
 * twice, which clears it again; the next call sets it. */
static __always_inline void mark_tls_user(__u32 *traced)
{
	if (!(*traced & AA_TRACED_TLS))
		__sync_fetch_and_add(traced, AA_TRACED_TLS);
}

static __always_inline void mark_plain_user(__u32 *traced)
{
	if (!(*traced & AA_TRACED_PLAIN))
		__sync_fetch_and_add(traced, AA_TRACED_PLAIN_ONE);
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);  /* resized by the recorder before load */
} events SEC(".maps");

/* Failed ring-buffer writes (and full tables) per slot, cumulative; events.h says
 * which slot is whose. Per-CPU: a loss burst does not bounce a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AA_LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost_counts SEC(".maps");

/* Wake the recorder only once this much is waiting (set by the recorder to an eighth
 * of the ring; it also drains on a timer): a wakeup per record would cost the traced
 * process a context switch per syscall. */
const volatile __u64 wakeup_bytes = 1;

static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&lost_counts, &slot);

	if (n)
		*n += 1;
}

static __always_inline void fill_header(struct aa_rec_header *h, __u16 type, __u32 size)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->ts_ns = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->type = type;
	h->flags = 0;
	h->size = size;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif /* AA_COMMON_BPF_H */
