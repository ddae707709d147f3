// SPDX-License-Identifier: GPL-2.0
/* The floor of aa-record's design on a kernel without kprobes and fentry: an empty
 * tp_btf sys_enter/sys_exit pair doing one tgid hash lookup each, plus the fork and
 * exit hooks that keep the traced tree in that hash. Nothing is recorded. Loaded by
 * bench/recorder/floor.c for bench/recorder/run.sh, never by aa-record. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);
} traced_pids SEC(".maps");

/* Hits of the lookup, so the compiler keeps it and the loader can say it ran. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int lookup(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	__u64 *n;

	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	n = bpf_map_lookup_elem(&hits, &zero);
	if (n)
		*n += 1;
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id)
{
	return lookup();
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	return lookup();
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, one = 1;

	if (ptgid != ctgid && bpf_map_lookup_elem(&traced_pids, &ptgid))
		bpf_map_update_elem(&traced_pids, &ctgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (p->pid == p->tgid)
		bpf_map_delete_elem(&traced_pids, &tgid);
	return 0;
}
