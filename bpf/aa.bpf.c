// SPDX-License-Identifier: GPL-2.0
/* aa-record core probes: process lifecycle (exec, fork, exit) and file/network syscalls
 * of the traced process tree, as bpf/events.h records in the `events` ring buffer.
 *
 * Scope: `traced_pids` holds the traced tgids (userspace seeds it; fork adds children,
 * exit removes them), or every process but the recorder when trace_all is set (the map
 * is then kept too, seeded with every process, for the TLS probes that scope by it).
 *
 * Hooks come in two variants each, tp_btf (preferred: typed arguments) and raw_tp
 * (older kernels, or tp_btf refused); userspace attaches one per hook. Syscalls are
 * seen through sys_enter/sys_exit: the saved user registers still hold the arguments
 * at sys_exit, so nearly everything is done there, once the result is known. Syscall
 * numbers and argument registers are per architecture, in bpf/arch.bpf.h (x86-64 and
 * arm64); the legacy path syscalls (open, rename, unlink, ...) are x86-64's alone and
 * their code compiles out elsewhere.
 *
 * Files: an open regular file is tracked per (struct file *, tgid) in `open_files`,
 * where reads and writes are summed in the kernel; a summary record leaves when the
 * process's last fd to it goes (close, dup2 over it, exec with O_CLOEXEC, exit). Keying
 * by struct file * makes bytes written through dup'd fds count for the opened file.
 *
 * TLS: the TLS capture's syscall work (bpf/tls_sys.bpf.h) runs in this object's
 * sys_enter/sys_exit pair, after the one early return for untraced tasks, once the
 * recorder has loaded the TLS object (tls_on): every syscall of the machine runs one
 * program pair.
 *
 * Plain HTTP: the plaintext of unencrypted TCP connections (bpf/plain_sys.bpf.h) is
 * taken here too, from the socket reads and writes of processes that connected a TCP
 * socket (AA_TRACED_PLAIN), once the recorder turns it on (plain_on).
 *
 * Loss: records are sized to their payload (built in a per-CPU scratch buffer, then
 * copied with bpf_ringbuf_output); every failed output/reserve increments
 * lost_counts[probe] (bpf/common.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "arch.bpf.h"
#include "common.bpf.h"
#include "compat.bpf.h"
#include "events.h"
#include "tls_sys.bpf.h"
#include "plain_sys.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings written by the recorder between open and load. */
const volatile __u32 self_tgid = 0;
const volatile bool trace_all = false;
const volatile bool io_calls = false;
/* Set by the recorder (it is in .bss, writable after load) once the TLS object that
 * reads tls_sys.bpf.h's maps is loaded: until then the TLS syscall work is skipped. */
volatile bool tls_on = false;
/* Set by the recorder (with tls_on: the TLS decoder reads its records) unless
 * --no-plain-http: TCP connects make candidates for plain-HTTP capture. */
volatile bool plain_on = false;

struct file_key {
	__u64 file;  /* struct file * */
	__u32 tgid;
	__u32 pad;
};

struct file_stats {
	__u64 bytes_read;
	__u64 bytes_written;
	__u32 reads;
	__u32 writes;
	/* Another fd of the process may refer to the file: it was dup'd, or adopted (an
	 * inherited table can hold several). Only then does a close scan the fd table. */
	__u32 shared;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct file_key);
	__type(value, struct file_stats);
} open_files SEC(".maps");

/* With trace_all, a tgid whose traced_pids entry cannot be made (the table is full)
 * is traced all the same; its open-file count is unknown, so this per-CPU stand-in
 * says "some" and exec and exit walk open_files for it. */
#define FILES_UNKNOWN 0x10000000	/* below AA_TRACED_PLAIN's bits, above any count */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} files_unknown SEC(".maps");

struct scratch_buf {
	char d[AA_REC_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

#define AT_REMOVEDIR 0x200
#define AA_AT_SYMLINK_NOFOLLOW 0x100
#define AA_RESOLVE_IN_ROOT 0x10	/* include/uapi/linux/openat2.h */
#define NO_BASE -1000
#define FD_IN_ROOT -3	/* put_path fd with a string: walk dirfd even for an absolute one */  /* put_path: a string never resolved (symlink targets) */

static __always_inline bool traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (trace_all)
		return true;
	return bpf_map_lookup_elem(&traced_pids, &tgid) != NULL;
}

/* The traced_pids entry of a traced tgid, or NULL when it is not traced. Its value is
 * 1 + the tgid's entries in open_files (bpf/common.bpf.h), so the syscall hooks find
 * "traced" and "how many files" in one lookup. With trace_all a tgid without an entry
 * gets one (or the FILES_UNKNOWN stand-in when the table is full). */
static __always_inline __u32 *traced_entry(__u32 tgid)
{
	__u32 *n, one = 1, zero = 0;

	if (tgid == self_tgid)
		return NULL;
	n = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (n || !trace_all)
		return n;
	bpf_map_update_elem(&traced_pids, &tgid, &one, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (n)
		return n;
	n = bpf_map_lookup_elem(&files_unknown, &zero);
	if (n)
		*n = FILES_UNKNOWN;
	return n;
}

/* Whether open_files may hold entries of the tgid (whose traced_pids value is n). */
static __always_inline bool has_files(__u32 *n)
{
	return n && AA_TRACED_COUNT(*n) > 1;
}

static __always_inline void output(void *buf, __u32 size, __u32 probe)
{
	if (size > AA_REC_MAX)
		size = AA_REC_MAX;
	if (bpf_ringbuf_output(&events, buf, size, wake_flags()))
		count_lost(probe);
}

static __always_inline struct scratch_buf *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* A path walk runs as a bpf_loop callback (an unrolled walk multiplies verifier states
 * by every mount crossing). Its state lives in a per-CPU map rather than on the stack:
 * values loaded from a map are unknown to the verifier, so every iteration looks the
 * same to it and the callback is verified once instead of once per possible offset. */
struct walk_state {
	__u64 dentry;   /* struct dentry * */
	__u64 vfsmnt;   /* struct vfsmount * */
	__u64 mnt;      /* struct mount * */
	__u64 root_dentry;  /* the walking task's fs->root: where its "/" is */
	__u64 root_vfsmnt;
	__u32 off;
	__u32 start;
	__u32 truncated;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_state);
} walks SEC(".maps");

static __always_inline struct walk_state *get_walk(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&walks, &zero);
}

static long walk_step(__u32 i, void *arg)
{
	struct scratch_buf *s = get_scratch();
	struct walk_state *w = get_walk();
	struct dentry *dentry, *mnt_root, *parent;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	const unsigned char *name;
	__u32 off;
	long n;

	if (!s || !w)
		return 1;
	dentry = (struct dentry *)w->dentry;
	vfsmnt = (struct vfsmount *)w->vfsmnt;
	mnt = (struct mount *)w->mnt;
	off = w->off;
	/* The process's own root (chroot, container): paths are named as it sees them,
	 * like d_path(). A path outside that root goes on to the global root, as there. */
	if (w->dentry == w->root_dentry && w->vfsmnt == w->root_vfsmnt) {
		w->truncated = 0;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		/* the global root, or a filesystem root that is not its mount's root
		 * (a detached tree): done */
		if (dentry != mnt_root || mnt == up) {
			w->truncated = 0;
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		w->vfsmnt = (__u64)aa_vfsmount(up);
		return 0;
	}
	if (off - w->start > AA_WALK_MAX - 256 || off > AA_REC_MAX - 256)
		return 1;
	name = BPF_CORE_READ(dentry, d_name.name);
	n = bpf_probe_read_kernel_str(s->d + off, 256, name);
	if (n <= 0)
		return 1;
	w->off = off + n;
	w->dentry = (__u64)parent;
	return 0;
}

/* Writes the path (dentry, vfsmnt) into the scratch buffer at off as leaf-first,
 * NUL-terminated components (see events.h). Returns the bytes written, | 0x10000 when
 * cut short. */
static __always_inline __u32 walk_path(char *buf, __u32 off, struct dentry *dentry,
				       struct vfsmount *vfsmnt)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct walk_state *w = get_walk();

	if (!w)
		return 0x10000;
	w->root_dentry = (__u64)BPF_CORE_READ(task, fs, root.dentry);
	w->root_vfsmnt = (__u64)BPF_CORE_READ(task, fs, root.mnt);
	w->dentry = (__u64)dentry;
	w->vfsmnt = (__u64)vfsmnt;
	w->mnt = (__u64)aa_real_mount(vfsmnt);
	w->off = off;
	w->start = off;
	w->truncated = 1;
	bpf_loop(AA_WALK_DEPTH, walk_step, NULL, 0);
	return ((w->off - w->start) & 0xffff) | (w->truncated << 16);
}

static __always_inline __u32 walk_file(char *buf, __u32 off, struct file *f)
{
	return walk_path(buf, off, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

/* A user path argument: the string at off, then (when relative) the walked directory
 * it is relative to: the cwd, or the file at dirfd. fd >= 0 and no string: the walked
 * file at fd. Returns string length | base length << 16 | truncated << 32. */
static __noinline __u64 put_path(char *buf, __u32 off, const char *upath, int dirfd, int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 plen = 0, blen = 0;
	__u32 w;

	if (upath) {
		long n;

		if (off > AA_REC_MAX - AA_PATH_MAX)
			return 0;
		n = bpf_probe_read_user_str(buf + off, AA_PATH_MAX, upath);
		if (n <= 0)
			return 0;
		plen = n;
		if (dirfd == NO_BASE || (buf[off & (AA_REC_MAX - 1)] == '/' && fd != FD_IN_ROOT))
			return plen;
		off += plen;
		if (dirfd == AA_AT_FDCWD) {
			w = walk_path(buf, off, BPF_CORE_READ(task, fs, pwd.dentry),
				      BPF_CORE_READ(task, fs, pwd.mnt));
		} else {
			struct file *f = aa_fd_file(task, dirfd);

			if (!f)
				return plen;
			w = walk_file(buf, off, f);
		}
	} else {
		struct file *f = aa_fd_file(task, fd);

		if (!f)
			return 0;
		w = walk_file(buf, off, f);
	}
	blen = w & 0xffff;
	return plen | (blen << 16) | ((__u64)(w >> 16) << 32);
}

/* Does any fd of `task` other than `skip` refer to `f`? The fd array is copied 64
 * pointers at a time (one helper call per chunk, max_fds is always a multiple of 64)
 * and compared in BPF: a probe-read per fd made close() of a tracked file cost
 * microseconds. */
#define FD_CHUNK 64

struct fd_chunk {
	__u64 f[FD_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fd_chunk);
} fd_chunks SEC(".maps");

struct scan_ctx {
	__u64 fds;   /* struct file ** */
	__u64 f;
	__u32 skip;
	__u32 found;
};

/* Bit j set: slot j of the chunk holds `f`. Branch-free (the compares are arithmetic,
 * kept from being folded back into branches by barrier_var): the verifier walks the
 * 64 slots once instead of forking a state at each, and the CPU does not mispredict. */
static __always_inline __u64 chunk_matches(struct fd_chunk *ch, __u64 f)
{
	__u64 mask = 0;

	for (int j = 0; j < FD_CHUNK; j++) {
		__u64 x = ch->f[j] ^ f, nz;

		barrier_var(x);
		nz = x | (0 - x);	/* top bit set iff x != 0 */
		barrier_var(nz);
		mask |= ((nz >> 63) ^ 1) << j;
	}
	return mask;
}

/* Bits [lo, hi) of a 64-bit mask, lo <= hi <= 64. */
static __always_inline __u64 bit_range(__u32 lo, __u32 hi)
{
	__u64 upto_hi = hi >= 64 ? ~0ULL : (1ULL << hi) - 1;
	__u64 upto_lo = lo >= 64 ? ~0ULL : (1ULL << lo) - 1;

	return upto_hi & ~upto_lo;
}

/* Index of the lowest set bit of a non-zero mask. */
static __always_inline __u32 lowest_bit(__u64 m)
{
	__u32 n = 0;

	m &= 0 - m;
	if (m & 0xffffffff00000000ULL) n += 32;
	if (m & 0xffff0000ffff0000ULL) n += 16;
	if (m & 0xff00ff00ff00ff00ULL) n += 8;
	if (m & 0xf0f0f0f0f0f0f0f0ULL) n += 4;
	if (m & 0xccccccccccccccccULL) n += 2;
	if (m & 0xaaaaaaaaaaaaaaaaULL) n += 1;
	return n;
}

static long scan_chunk(__u32 i, void *arg)
{
	struct scan_ctx *c = arg;
	__u32 zero = 0, base = i * FD_CHUNK;
	struct fd_chunk *ch = bpf_map_lookup_elem(&fd_chunks, &zero);
	__u64 m;

	if (!ch)
		return 1;
	if (bpf_probe_read_kernel(ch, sizeof(*ch), (void *)(c->fds + base * sizeof(__u64))))
		return 1;
	m = chunk_matches(ch, c->f);
	if (c->skip - base < FD_CHUNK)
		m &= ~(1ULL << ((c->skip - base) & (FD_CHUNK - 1)));
	if (m) {
		c->found = 1;
		return 1;
	}
	return 0;
}

static __always_inline bool other_fd_refers(struct task_struct *task, struct file *f, int skip)
{
	struct files_struct *files = task->files;
	struct scan_ctx c = { .f = (__u64)f, .skip = (__u32)skip, .found = 0 };
	struct fdtable *fdt;
	__u32 max;

	if (!files)
		return false;
	fdt = files->fdt;
	if (!fdt)
		return false;
	c.fds = (__u64)fdt->fd;
	max = fdt->max_fds;
	if (max > (1 << 20))
		max = 1 << 20;
	bpf_loop(max / FD_CHUNK, scan_chunk, &c, 0);
	return c.found;
}

/* For close_range(first, last): the lowest fd in the range referring to `f`, or -1,
 * and whether an fd outside the range keeps the file open. */
struct range_scan_ctx {
	__u64 fds;
	__u64 f;
	__u32 first;
	__u32 last;
	__s32 inside;
	__u32 outside;
};

static long range_scan_chunk(__u32 i, void *arg)
{
	struct range_scan_ctx *c = arg;
	__u32 zero = 0, base = i * FD_CHUNK, lo, hi;
	struct fd_chunk *ch = bpf_map_lookup_elem(&fd_chunks, &zero);
	__u64 m, in;

	if (!ch)
		return 1;
	if (bpf_probe_read_kernel(ch, sizeof(*ch), (void *)(c->fds + base * sizeof(__u64))))
		return 1;
	m = chunk_matches(ch, c->f);
	if (!m)
		return 0;
	/* the slots of this chunk inside [first, last] */
	lo = c->first > base ? c->first - base : 0;
	hi = c->last >= base + FD_CHUNK - 1 ? FD_CHUNK : (c->last >= base ? c->last - base + 1 : 0);
	if (lo > FD_CHUNK)
		lo = FD_CHUNK;
	if (hi < lo)
		hi = lo;
	in = bit_range(lo, hi);
	if (m & ~in) {
		c->outside = 1;
		return 1;
	}
	if (c->inside < 0)
		c->inside = base + lowest_bit(m);
	return 0;
}

static __always_inline void files_count_add(__u32 tgid, int delta)
{
	__u32 *n = bpf_map_lookup_elem(&traced_pids, &tgid);

	if (n)
		__sync_fetch_and_add(n, delta);
}

/* `count` is the tgid's traced_pids entry (traced_entry()). */
static __always_inline void track_file(struct file *f, __u32 tgid, __u32 *count)
{
	struct file_key key = { .file = (__u64)f, .tgid = tgid };
	struct file_stats zero = {};

	/* An existing entry is a struct file freed without our seeing its close (it was
	 * closed by a path we do not hook) and reused: start over, keep the count. */
	if (bpf_map_update_elem(&open_files, &key, &zero, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(count, 1);
	else if (bpf_map_update_elem(&open_files, &key, &zero, BPF_EXIST) != 0)
		count_lost(AA_LOSS_OPEN_FILES_FULL);
}

static __always_inline void emit_close(struct file_key *key, struct file_stats *st, int fd,
				       __u32 reason, __u32 probe)
{
	struct aa_rec_close *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_lost(probe);
		return;
	}
	fill_header(&r->h, AA_REC_CLOSE, sizeof(*r));
	r->file = key->file;
	r->bytes_read = st->bytes_read;
	r->bytes_written = st->bytes_written;
	r->reads = st->reads;
	r->writes = st->writes;
	r->fd = fd;
	r->reason = reason;
	bpf_ringbuf_submit(r, wake_flags());
}

/* close(fd) or dup2(.., fd) is about to drop `fd`: summarize its file if that was the
 * process's last fd to it. */
static __always_inline void drop_fd(struct task_struct *task, __u32 tgid, __u32 *count, int fd,
				    __u32 reason)
{
	struct file *f = aa_fd_file(task, fd);
	struct file_key key = { .file = (__u64)f, .tgid = tgid };
	struct file_stats *st;

	if (!f)
		return;
	st = bpf_map_lookup_elem(&open_files, &key);
	if (!st)
		return;
	if (st->shared && other_fd_refers(task, f, fd))
		return;
	emit_close(&key, st, fd, reason, AA_PROBE_SYS_ENTER);
	if (bpf_map_delete_elem(&open_files, &key) == 0)
		__sync_fetch_and_add(count, -1);
}

static __always_inline void on_close_range(struct pt_regs *regs, __u32 tgid);

/* The syscalls that drop an fd (dup2 is x86-64's alone, bpf/syscalls.h: elsewhere
 * dup3 does its work). The negation is spelled out, not !is_fd_drop(): clang then
 * builds the x86-64 program instruction for instruction as before the arch tables. */
#if AA_NR_LEGACY
#define is_fd_drop(nr) ((nr) == NR_close || (nr) == NR_dup2 || (nr) == NR_dup3 ||            \
			(nr) == NR_close_range)
#define not_fd_drop(nr) ((nr) != NR_close && (nr) != NR_dup2 && (nr) != NR_dup3 &&           \
			 (nr) != NR_close_range)
#else
#define is_fd_drop(nr) ((nr) == NR_close || (nr) == NR_dup3 || (nr) == NR_close_range)
#define not_fd_drop(nr) ((nr) != NR_close && (nr) != NR_dup3 && (nr) != NR_close_range)
#endif

/* The syscalls sys_enter has work for (the core's fd-dropping calls; the TLS
 * capture's socket I/O): a few compares, cheaper than the traced-set lookup that
 * follows, so a syscall nobody needs costs every process less than the floor's one
 * lookup. */
static __always_inline bool sys_enter_wanted(long nr)
{
	return is_fd_drop(nr) || (tls_on && is_socket_io(nr));
}

/* Every syscall of the machine enters here: a syscall without work, then an untraced
 * task, return first. */
static __always_inline int on_sys_enter(struct pt_regs *regs, long nr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct task_struct *task;
	int oldfd, newfd;
	__u32 *count, reason;

	if (!sys_enter_wanted(nr) || !(count = traced_entry(tgid)))
		return 0;
	/* The TLS capture's syscalls and the core's are disjoint: each path ends on its own
	 * (the verifier then checks the core's path once, not once per way out of the
	 * TLS code). */
	if (tls_on && is_socket_io(nr)) {
		if (*count & AA_TRACED_TLS)
			tls_sys_enter(regs, nr, id);
		return 0;
	}
	/* a plain socket's connection ends with its last fd (close_range: the inode check
	 * at the file's next use) */
	if (plain_on && (*count & AA_TRACED_PLAIN) && nr != NR_close_range) {
		if (nr == NR_close)
			aa_plain_drop((int)AA_SC_ARG0(regs));
		else if ((int)AA_SC_ARG0(regs) != (int)AA_SC_ARG1(regs))
			aa_plain_drop((int)AA_SC_ARG1(regs));
	}
	/* the rest drops fds: nothing to do for a process without tracked files */
	if (not_fd_drop(nr) || !has_files(count))
		return 0;
	if (nr == NR_close_range) {
		on_close_range(regs, tgid);
		return 0;
	}
	task = bpf_get_current_task_btf();
	if (nr == NR_close) {
		newfd = (int)AA_SC_ARG0(regs);
		reason = AA_CLOSE_EXPLICIT;
	} else {
		oldfd = (int)AA_SC_ARG0(regs);
		newfd = (int)AA_SC_ARG1(regs);
		/* dup2 onto itself, or from a bad fd, replaces nothing */
		if (oldfd == newfd || !aa_fd_file(task, oldfd) ||
		    aa_fd_file(task, oldfd) == aa_fd_file(task, newfd))
			return 0;
		reason = AA_CLOSE_REPLACED;
	}
	/* one call site: the verifier checks drop_fd's fd-table scan once */
	drop_fd(task, tgid, count, newfd, reason);
	return 0;
}

/* A new fd (from dup*, fcntl F_DUPFD*) refers to a tracked file: it has two now. */
static __always_inline void mark_shared(struct task_struct *task, __u32 tgid, int fd)
{
	struct file_key key = { .file = (__u64)aa_fd_file(task, fd), .tgid = tgid };
	struct file_stats *st;

	if (!key.file)
		return;
	st = bpf_map_lookup_elem(&open_files, &key);
	if (st)
		st->shared = 1;
}

static __always_inline void on_io(struct task_struct *task, __u32 tgid, __u32 *count, int fd,
				  long ret, bool write)
{
	struct file *f = aa_fd_file(task, fd);
	struct file_key key = { .file = (__u64)f, .tgid = tgid };
	struct file_stats *st;

	if (!f)
		return;
	st = bpf_map_lookup_elem(&open_files, &key);
	if (!st) {
		struct scratch_buf *s;
		struct aa_rec_adopt *r;
		__u32 w;

		if (!aa_is_regular(f))
			return;
		track_file(f, tgid, count);
		st = bpf_map_lookup_elem(&open_files, &key);
		if (!st)
			return;
		st->shared = 1;
		s = get_scratch();
		if (!s)
			return;
		r = (void *)s->d;
		w = walk_file(s->d, sizeof(*r), f);
		r->file = (__u64)f;
		r->fd = fd;
		r->path_len = w & 0xffff;
		r->pad = 0;
		fill_header(&r->h, AA_REC_ADOPT, sizeof(*r) + r->path_len);
		if (w >> 16)
			r->h.flags |= AA_F_PATH_TRUNCATED;
		output(r, r->h.size, AA_PROBE_SYS_EXIT);
	}
	if (ret != 0) {
		if (write) {
			__sync_fetch_and_add(&st->writes, 1);
			if (ret > 0)
				__sync_fetch_and_add(&st->bytes_written, ret);
		} else {
			__sync_fetch_and_add(&st->reads, 1);
			if (ret > 0)
				__sync_fetch_and_add(&st->bytes_read, ret);
		}
	}
	if (io_calls) {
		struct aa_rec_io *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

		if (!r) {
			count_lost(AA_PROBE_SYS_EXIT);
			return;
		}
		fill_header(&r->h, AA_REC_IO, sizeof(*r));
		r->file = (__u64)f;
		r->ret = ret;
		r->fd = fd;
		r->write = write;
		bpf_ringbuf_submit(r, wake_flags());
	}
}

static __always_inline void on_connect(struct pt_regs *regs, long ret)
{
	const void *uaddr = (const void *)AA_SC_ARG1(regs);
	int addrlen = (int)AA_SC_ARG2(regs);
	struct scratch_buf *s = get_scratch();
	struct aa_rec_connect *r;
	__u16 family = 0;

	if (!s || !uaddr)
		return;
	r = (void *)s->d;
	if (bpf_probe_read_user(&family, sizeof(family), uaddr))
		return;
	r->ret = ret;
	r->fd = (int)AA_SC_ARG0(regs);
	r->family = family;
	r->port = 0;
	r->addr_len = 0;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
	if (family == AA_AF_INET) {
		struct sockaddr_in sin = {};

		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		r->port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(r->addr, &sin.sin_addr, 4);
		r->addr_len = 4;
	} else if (family == AA_AF_INET6) {
		struct sockaddr_in6 sin6 = {};

		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		r->port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(r->addr, &sin6.sin6_addr, 16);
		r->addr_len = 16;
	} else if (family == AA_AF_UNIX) {
		int n = addrlen - 2;

		if (n > 108)
			n = 108;
		if (n > 0 && bpf_probe_read_user(r->addr, n & 127, uaddr + 2) == 0)
			r->addr_len = n & 127;
	} else {
		return;  /* AF_NETLINK and friends are not network activity of interest */
	}
	fill_header(&r->h, AA_REC_CONNECT, sizeof(*r) + r->addr_len);
	output(r, r->h.size, AA_PROBE_SYS_EXIT);
}

struct op_args {
	const char *p1;
	const char *p2;
	__s64 ret;
	__s64 arg;
	__u32 flags;
	__u32 mode;
	int dfd1;
	int dfd2;
	int fd;
	__u16 op;
	__u16 in_root;	/* AA_F_IN_ROOT for path1 */
};

/* The arguments are gathered in a per-CPU map value, not on the stack: the verifier
 * tracks stack contents exactly, so each of the ~40 syscalls' constants (op, flags,
 * which dirfd) would make its own state at the join after file_op_args() and the tail
 * (tracking, two path copies, walks) would be verified once per syscall. Map contents
 * are unknown to it: the tail is verified once. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct op_args);
} op_scratch SEC(".maps");

static __always_inline void emit_file_op(struct op_args *a, struct file *opened)
{
	struct scratch_buf *s = get_scratch();
	struct aa_rec_file_op *r;
	__u32 off = sizeof(*r);
	__u64 p;

	if (!s)
		return;
	r = (void *)s->d;
	r->ret = a->ret;
	r->file = (__u64)opened;
	r->arg = a->arg;
	r->flags = a->flags;
	r->mode = a->mode;
	r->fd = a->fd;
	r->op = a->op;
	r->path2_len = r->base2_len = 0;
	r->pad = 0;
	fill_header(&r->h, AA_REC_FILE_OP, 0);
	if (a->in_root)
		r->h.flags |= AA_F_IN_ROOT;

	p = put_path(s->d, off, a->p1, a->dfd1, a->fd);
	r->path1_len = p & 0xffff;
	r->base1_len = (p >> 16) & 0xffff;
	if (p >> 32)
		r->h.flags |= AA_F_PATH_TRUNCATED;
	off += r->path1_len + r->base1_len;
	if (a->p2) {
		p = put_path(s->d, off, a->p2, a->dfd2, -1);
		r->path2_len = p & 0xffff;
		r->base2_len = (p >> 16) & 0xffff;
		if (p >> 32)
			r->h.flags |= AA_F_PATH2_TRUNCATED;
		off += r->path2_len + r->base2_len;
	}
	r->h.size = off;
	output(r, off, AA_PROBE_SYS_EXIT);
}

/* The syscalls that read or write through an fd, duplicate one, or connect: counted
 * into the open file's summary, marked shared, or reported. False: not one of them. */
static __always_inline bool on_fd_syscall(struct task_struct *task, __u32 tgid, __u32 *count,
					  struct pt_regs *regs, long nr, long ret)
{
	int in = -1, out = -1;	/* the fds read from and written to */

	switch (nr) {
	case NR_read: case NR_pread64: case NR_readv: case NR_preadv: case NR_preadv2:
		in = (int)AA_SC_ARG0(regs);
		break;
	case NR_write: case NR_pwrite64: case NR_writev: case NR_pwritev: case NR_pwritev2:
		out = (int)AA_SC_ARG0(regs);
		break;
	case NR_sendfile:	/* (out_fd, in_fd, ...) */
		in = (int)AA_SC_ARG1(regs);
		out = (int)AA_SC_ARG0(regs);
		break;
	case NR_copy_file_range:	/* (fd_in, off_in, fd_out, ...): cat and cp use it */
	case NR_splice:		/* (fd_in, off_in, fd_out, ...): one side is a pipe */
		in = (int)AA_SC_ARG0(regs);
		out = (int)AA_SC_ARG2(regs);
		break;
	case NR_fcntl: {
		long cmd = AA_SC_ARG1(regs);

		if (cmd != 0 && cmd != 1030)  /* F_DUPFD, F_DUPFD_CLOEXEC */
			return true;
	}
		/* fallthrough */
	case NR_dup: case NR_dup3:
#if AA_NR_LEGACY
	case NR_dup2:
#endif
		if (ret >= 0)
			mark_shared(task, tgid, (int)ret);
		return true;
	case NR_connect:
		on_connect(regs, ret);
		if (plain_on)
			aa_plain_connect((int)AA_SC_ARG0(regs), ret);
		return true;
	default:
		return false;
	}
	/* two call sites, not one per syscall: the verifier checks on_io (adoption walks,
	 * records) twice instead of seven times */
	if (in >= 0)
		on_io(task, tgid, count, in, ret, false);
	if (out >= 0)
		on_io(task, tgid, count, out, ret, true);
	return true;
}

/* The arguments of a path-based file operation (or an fd-based one that names a
 * file: ftruncate, fchmod, fchown, fchdir), from the saved user registers. False: the
 * syscall is none of them, or reports nothing (a failed fchdir). */
static __always_inline bool file_op_args(struct pt_regs *regs, long nr, long ret,
					 struct op_args *a)
{
	switch (nr) {
#if AA_NR_LEGACY
	/* the x86-64 forms without a dirfd (bpf/syscalls.h): AT_FDCWD */
	case NR_open:
		a->op = AA_OP_OPEN;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->flags = AA_SC_ARG1(regs);
		a->mode = AA_SC_ARG2(regs);
		break;
	case NR_creat:
		a->op = AA_OP_OPEN;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->flags = 01 | 0100 | 01000;  /* O_WRONLY | O_CREAT | O_TRUNC, as creat(2) */
		a->mode = AA_SC_ARG1(regs);
		break;
	case NR_rename:
		a->op = AA_OP_RENAME;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->p2 = (const char *)AA_SC_ARG1(regs);
		break;
	case NR_link:
		a->op = AA_OP_LINK;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->p2 = (const char *)AA_SC_ARG1(regs);
		break;
	case NR_unlink:
		a->op = AA_OP_UNLINK;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		break;
	case NR_mkdir:
		a->op = AA_OP_MKDIR;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->mode = AA_SC_ARG1(regs);
		break;
	case NR_rmdir:
		a->op = AA_OP_RMDIR;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		break;
	case NR_chmod:
		a->op = AA_OP_CHMOD;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->mode = AA_SC_ARG1(regs);
		break;
	case NR_chown: case NR_lchown:
		a->op = AA_OP_CHOWN;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->mode = AA_SC_ARG1(regs);
		a->arg = (__u32)AA_SC_ARG2(regs);
		if (nr == NR_lchown)
			a->flags = AA_AT_SYMLINK_NOFOLLOW;
		break;
	case NR_symlink:
		a->op = AA_OP_SYMLINK;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->dfd1 = NO_BASE;  /* the target is stored as passed, never resolved */
		a->p2 = (const char *)AA_SC_ARG1(regs);
		break;
#endif
	case NR_openat:
		a->op = AA_OP_OPEN;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->flags = AA_SC_ARG2(regs);
		a->mode = AA_SC_ARG3(regs);
		break;
	case NR_openat2: {
		struct open_how how = {};

		a->op = AA_OP_OPEN;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		bpf_probe_read_user(&how, sizeof(how), (void *)AA_SC_ARG2(regs));
		a->flags = how.flags;
		a->mode = how.mode;
		/* RESOLVE_IN_ROOT: the string is resolved with dirfd as its root, so "/x"
		 * names dirfd's x. Once opened, the file itself says where it is; a failed
		 * open keeps the string with dirfd walked as its root (AA_F_IN_ROOT). */
		if (how.resolve & AA_RESOLVE_IN_ROOT) {
			if (ret >= 0) {
				a->p1 = NULL;
				a->fd = (int)ret;
			} else {
				a->fd = FD_IN_ROOT;
				a->in_root = 1;
			}
		}
		break;
	}
	case NR_renameat: case NR_renameat2:
		a->op = AA_OP_RENAME;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->dfd2 = (int)AA_SC_ARG2(regs);
		a->p2 = (const char *)AA_SC_ARG3(regs);
		if (nr == NR_renameat2)
			a->flags = AA_SC_ARG4(regs);
		break;
	case NR_linkat:	/* AT_EMPTY_PATH: empty oldpath, the olddirfd's file is walked */
		a->op = AA_OP_LINK;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->dfd2 = (int)AA_SC_ARG2(regs);
		a->p2 = (const char *)AA_SC_ARG3(regs);
		a->flags = AA_SC_ARG4(regs);
		break;
	case NR_unlinkat:
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->flags = AA_SC_ARG2(regs);
		a->op = (a->flags & AT_REMOVEDIR) ? AA_OP_RMDIR : AA_OP_UNLINK;
		break;
	case NR_mkdirat:
		a->op = AA_OP_MKDIR;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->mode = AA_SC_ARG2(regs);
		break;
	case NR_truncate:
		a->op = AA_OP_TRUNCATE;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->arg = AA_SC_ARG1(regs);
		break;
	case NR_ftruncate:
		a->op = AA_OP_TRUNCATE;
		a->fd = (int)AA_SC_ARG0(regs);
		a->arg = AA_SC_ARG1(regs);
		break;
	case NR_fchmod:
		a->op = AA_OP_CHMOD;
		a->fd = (int)AA_SC_ARG0(regs);
		a->mode = AA_SC_ARG1(regs);
		break;
	case NR_fchmodat: case NR_fchmodat2:
		a->op = AA_OP_CHMOD;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->mode = AA_SC_ARG2(regs);
		break;
	case NR_fchown:
		a->op = AA_OP_CHOWN;
		a->fd = (int)AA_SC_ARG0(regs);
		a->mode = AA_SC_ARG1(regs);
		a->arg = (__u32)AA_SC_ARG2(regs);
		break;
	case NR_fchownat:	/* AT_EMPTY_PATH: empty path, the dirfd's file is walked */
		a->op = AA_OP_CHOWN;
		a->dfd1 = (int)AA_SC_ARG0(regs);
		a->p1 = (const char *)AA_SC_ARG1(regs);
		a->mode = AA_SC_ARG2(regs);
		a->arg = (__u32)AA_SC_ARG3(regs);
		a->flags = AA_SC_ARG4(regs);
		break;
	case NR_symlinkat:
		a->op = AA_OP_SYMLINK;
		a->p1 = (const char *)AA_SC_ARG0(regs);
		a->dfd1 = NO_BASE;  /* the target is stored as passed, never resolved */
		a->dfd2 = (int)AA_SC_ARG1(regs);
		a->p2 = (const char *)AA_SC_ARG2(regs);
		break;
	case NR_chdir:
		a->op = AA_OP_CHDIR;
		if (ret == 0)
			a->fd = -2;  /* success: report the new cwd, walked */
		else
			a->p1 = (const char *)AA_SC_ARG0(regs);
		break;
	case NR_fchdir:
		if (ret != 0)
			return false;
		a->op = AA_OP_CHDIR;
		a->fd = -2;
		break;
	default:
		return false;
	}
	return true;
}

/* chdir/fchdir succeeded: the new cwd, walked, as a base with an empty string. */
static __always_inline void emit_chdir(struct task_struct *task)
{
	struct scratch_buf *s = get_scratch();
	struct aa_rec_file_op *r;
	__u32 w;

	if (!s)
		return;
	r = (void *)s->d;
	__builtin_memset(r, 0, sizeof(*r));
	w = walk_path(s->d, sizeof(*r), BPF_CORE_READ(task, fs, pwd.dentry),
		      BPF_CORE_READ(task, fs, pwd.mnt));
	r->op = AA_OP_CHDIR;
	r->fd = -1;
	r->base1_len = w & 0xffff;
	fill_header(&r->h, AA_REC_FILE_OP, sizeof(*r) + r->base1_len);
	if (w >> 16)
		r->h.flags |= AA_F_PATH_TRUNCATED;
	output(r, r->h.size, AA_PROBE_SYS_EXIT);
}

/* The syscalls sys_exit has work for (the core's file, fd and connect calls) as a
 * bitmap in .rodata, so that every syscall of every process pays one load and a shift
 * for the test, not a search through ~45 numbers. Every number is below AA_NR_BITMAP
 * (bpf/syscalls.h). */
#define EXIT_NR_MAX AA_NR_BITMAP
_Static_assert(EXIT_NR_MAX % 64 == 0 && NR_fchmodat2 < EXIT_NR_MAX && NR_close_range < EXIT_NR_MAX &&
	       NR_openat2 < EXIT_NR_MAX, "a wanted syscall is outside the sys_exit bitmap");
#define NR_BIT(w, nr) ((((nr) >> 6) == (w)) ? (1ULL << ((nr) & 63)) : 0ULL)
#if AA_NR_LEGACY
#define EXIT_WORD_LEGACY(w)                                                                \
	(NR_BIT(w, NR_open) | NR_BIT(w, NR_creat) | NR_BIT(w, NR_rename) |                   \
	 NR_BIT(w, NR_link) | NR_BIT(w, NR_unlink) | NR_BIT(w, NR_mkdir) |                   \
	 NR_BIT(w, NR_rmdir) | NR_BIT(w, NR_chmod) | NR_BIT(w, NR_symlink) |                 \
	 NR_BIT(w, NR_chown) | NR_BIT(w, NR_lchown) | NR_BIT(w, NR_dup2))
#else
#define EXIT_WORD_LEGACY(w) 0ULL
#endif
#define EXIT_WORD(w)                                                                       \
	(NR_BIT(w, NR_read) | NR_BIT(w, NR_pread64) | NR_BIT(w, NR_readv) |                  \
	 NR_BIT(w, NR_preadv) | NR_BIT(w, NR_preadv2) | NR_BIT(w, NR_write) |                \
	 NR_BIT(w, NR_pwrite64) | NR_BIT(w, NR_writev) | NR_BIT(w, NR_pwritev) |             \
	 NR_BIT(w, NR_pwritev2) | NR_BIT(w, NR_openat) | NR_BIT(w, NR_openat2) |             \
	 NR_BIT(w, NR_renameat) | NR_BIT(w, NR_renameat2) | NR_BIT(w, NR_linkat) |           \
	 NR_BIT(w, NR_unlinkat) | NR_BIT(w, NR_mkdirat) | NR_BIT(w, NR_truncate) |           \
	 NR_BIT(w, NR_ftruncate) | NR_BIT(w, NR_fchmod) | NR_BIT(w, NR_fchmodat) |           \
	 NR_BIT(w, NR_fchmodat2) | NR_BIT(w, NR_symlinkat) | NR_BIT(w, NR_connect) |         \
	 NR_BIT(w, NR_chdir) | NR_BIT(w, NR_fchdir) | NR_BIT(w, NR_sendfile) |               \
	 NR_BIT(w, NR_copy_file_range) | NR_BIT(w, NR_splice) | NR_BIT(w, NR_dup) |          \
	 NR_BIT(w, NR_dup3) | NR_BIT(w, NR_fcntl) | NR_BIT(w, NR_fchown) |                  \
	 NR_BIT(w, NR_fchownat) | EXIT_WORD_LEGACY(w))

const volatile __u64 exit_wanted[EXIT_NR_MAX / 64] = {
	EXIT_WORD(0), EXIT_WORD(1), EXIT_WORD(2), EXIT_WORD(3),
	EXIT_WORD(4), EXIT_WORD(5), EXIT_WORD(6), EXIT_WORD(7),
};

/* The syscalls sys_exit has work for: the core's (the bitmap, read and write among
 * them), the TLS capture's executable mappings, the plain capture's send and recv. */
static __always_inline bool sys_exit_wanted(long nr)
{
	if ((unsigned long)nr < EXIT_NR_MAX &&
	    ((exit_wanted[(nr >> 6) & (EXIT_NR_MAX / 64 - 1)] >> (nr & 63)) & 1))
		return true;
	if (plain_on && (is_send(nr) || is_recv(nr)))
		return true;
	return tls_on && (is_mmap(nr) || is_mprotect(nr));
}

/* Every syscall of the machine returns here: a syscall without work, then an untraced
 * task, return first. The saved user registers still hold the arguments. */
static __always_inline int on_sys_exit(struct pt_regs *regs, long ret, long nr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct task_struct *task;
	struct file *opened = NULL;
	struct op_args *a;
	__u32 *count;

	if (!sys_exit_wanted(nr) || !(count = traced_entry(tgid)))
		return 0;
	if (tls_on && (is_mmap(nr) || is_mprotect(nr))) {  /* disjoint, as in sys_enter */
		tls_sys_exit(regs, nr, ret);
		return 0;
	}
	task = bpf_get_current_task_btf();
	/* a socket of the plain capture is no file of the core's; sendfile and splice
	 * move bytes of a file or pipe too, which the core still counts */
	if (plain_on && (*count & AA_TRACED_PLAIN)) {
		struct plain_sys_args pa = {
			.nr = nr, .ret = ret,
			.arg = { AA_SC_ARG0(regs), AA_SC_ARG1(regs), AA_SC_ARG2(regs), AA_SC_ARG3(regs) },
		};

		if (aa_plain_exit(&pa))
			return 0;
	}
	if (on_fd_syscall(task, tgid, count, regs, nr, ret))
		return 0;
	a = bpf_map_lookup_elem(&op_scratch, &zero);
	if (!a)
		return 0;
	__builtin_memset(a, 0, sizeof(*a));
	a->dfd1 = AA_AT_FDCWD;
	a->dfd2 = AA_AT_FDCWD;
	a->fd = -1;
	a->ret = ret;
	if (!file_op_args(regs, nr, ret, a))
		return 0;
	if (a->op == AA_OP_OPEN && ret >= 0) {
		opened = aa_fd_file(task, (int)ret);
		/* only regular files: not directories, pipes, sockets, devices */
		if (!opened || !aa_is_regular(opened))
			return 0;
		track_file(opened, tgid, count);
	}
	/* an fd names the path only for ftruncate, fchmod and an open walked from the file
	 * it opened (RESOLVE_IN_ROOT) */
	if (a->fd >= 0 && a->op != AA_OP_TRUNCATE && a->op != AA_OP_CHMOD && a->p1)
		a->fd = -1;
	if (a->fd == -2) {
		emit_chdir(task);
		return 0;
	}
	emit_file_op(a, opened);
	return 0;
}

/* ---- process lifecycle ---- */

struct close_all_ctx {
	__u32 tgid;
	__u32 reason;
	__u32 probe;
};

static long close_matching(struct bpf_map *map, struct file_key *key, struct file_stats *st,
			   struct close_all_ctx *c)
{
	if (key->tgid != c->tgid)
		return 0;
	/* exec and exit run in the task itself: current is it, and a trusted pointer (the
	 * raw_tp variants' task argument is not; a spilled one is not, either) */
	if (c->reason == AA_CLOSE_EXEC &&
	    other_fd_refers(bpf_get_current_task_btf(), (struct file *)key->file, -1))
		return 0;
	emit_close(key, st, -1, c->reason, c->probe);
	bpf_map_delete_elem(map, key);
	files_count_add(c->tgid, -1);
	return 0;
}

static __always_inline void close_files_of(__u32 tgid, __u32 reason, __u32 probe)
{
	struct close_all_ctx c = { .tgid = tgid, .reason = reason, .probe = probe };

	if (!has_files(traced_entry(tgid)))
		return;
	bpf_for_each_map_elem(&open_files, close_matching, &c, 0);
}

struct close_range_ctx {
	__u32 tgid;
	__u32 first;
	__u32 last;
};

static long close_in_range(struct bpf_map *map, struct file_key *key, struct file_stats *st,
			   struct close_range_ctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	struct range_scan_ctx r = { .f = key->file, .first = c->first, .last = c->last,
				    .inside = -1, .outside = 0 };
	struct fdtable *fdt;
	__u32 max;

	if (key->tgid != c->tgid || !files)
		return 0;
	fdt = files->fdt;
	if (!fdt)
		return 0;
	r.fds = (__u64)fdt->fd;
	max = fdt->max_fds;
	if (max > (1 << 20))
		max = 1 << 20;
	bpf_loop(max / FD_CHUNK, range_scan_chunk, &r, 0);
	if (r.inside < 0 || r.outside)
		return 0;
	emit_close(key, st, r.inside, AA_CLOSE_EXPLICIT, AA_PROBE_SYS_ENTER);
	bpf_map_delete_elem(map, key);
	files_count_add(c->tgid, -1);
	return 0;
}

/* close_range(2) (glibc's closefrom, Python's subprocess) closes many fds at once. */
static __always_inline void on_close_range(struct pt_regs *regs, __u32 tgid)
{
	struct close_range_ctx c = { .tgid = tgid };
	unsigned int flags = AA_SC_ARG2(regs);
	if (flags & (1 << 2))  /* CLOSE_RANGE_CLOEXEC closes nothing */
		return;
	c.first = AA_SC_ARG0(regs);
	c.last = AA_SC_ARG1(regs);
	bpf_for_each_map_elem(&open_files, close_in_range, &c, 0);
}

static __always_inline int on_exec(struct task_struct *task, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct scratch_buf *s;
	struct aa_rec_exec *r;
	unsigned long arg_start, arg_end, len;
	__u32 off, w;
	__u64 ugid, size;

	if (!traced(tgid))
		return 0;
	if (trace_all) {
		__u32 one = 1;

		/* NOEXIST: an entry's value counts the files the process keeps open */
		bpf_map_update_elem(&traced_pids, &tgid, &one, BPF_NOEXIST);
	}
	s = get_scratch();
	if (!s)
		return 0;
	r = (void *)s->d;
	fill_header(&r->h, AA_REC_EXEC, 0);
	ugid = bpf_get_current_uid_gid();
	r->uid = (__u32)ugid;
	r->gid = ugid >> 32;
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->filename_len = 0;
	r->exe_dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	r->exe_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);

	off = sizeof(*r);
	w = walk_file(s->d, off, BPF_CORE_READ(bprm, file));
	r->path_len = w & 0xffff;
	if (w >> 16)
		r->h.flags |= AA_F_PATH_TRUNCATED;
	off += r->path_len;
	w = walk_path(s->d, off, BPF_CORE_READ(task, fs, pwd.dentry),
		      BPF_CORE_READ(task, fs, pwd.mnt));
	r->cwd_len = w & 0xffff;
	if (w >> 16)
		r->h.flags |= AA_F_PATH2_TRUNCATED;
	off += r->cwd_len;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > AA_ARGV_MAX) {
		len = AA_ARGV_MAX;
		r->h.flags |= AA_F_TRUNCATED;
	}
	r->argv_len = 0;
	if (off <= AA_REC_MAX - AA_ARGV_MAX && len > 0 &&
	    bpf_probe_read_user(s->d + off, len, (void *)arg_start) == 0)
		r->argv_len = len;
	off += r->argv_len;
	/* the name execve was given: for a #! script the script, while bprm->file (walked
	 * above) is by now its interpreter */
	if (off <= AA_REC_MAX - AA_PATH_MAX) {
		long n = bpf_probe_read_kernel_str(s->d + off, AA_PATH_MAX,
						   BPF_CORE_READ(bprm, filename));

		if (n > 0 && n <= AA_PATH_MAX) {
			r->filename_len = n;
			off += n;
		}
	}
	/* one register holding the clamped size: the verifier loses the bound when the
	 * compiler compares a copy (output() clamps too, but on another register here) */
	size = off;
	if (size > AA_REC_MAX)
		size = AA_REC_MAX;
	barrier_var(size);
	r->h.size = size;
	if (bpf_ringbuf_output(&events, r, size, wake_flags()))
		count_lost(AA_PROBE_EXEC);

	/* files whose fds were close-on-exec are gone from the table by now */
	close_files_of(tgid, AA_CLOSE_EXEC, AA_PROBE_EXEC);
	return 0;
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct aa_rec_fork *r;

	if (ctgid == ptgid || !traced(ptgid))
		return 0;  /* a thread, or untraced */
	/* with trace_all too: the TLS probes scope by traced_pids alone */
	{
		__u32 one = 1;

		if (bpf_map_update_elem(&traced_pids, &ctgid, &one, BPF_ANY) != 0)
			count_lost(AA_LOSS_TRACED_PIDS_FULL);
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(AA_PROBE_FORK);
		return 0;
	}
	fill_header(&r->h, AA_REC_FORK, sizeof(*r));
	r->child = ctgid;
	r->pad = 0;
	bpf_ringbuf_submit(r, wake_flags());
	return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct aa_rec_exit *r;

	__u32 *marks;

	if (!traced(tgid) || !aa_group_dead(task))
		return 0;
	close_files_of(tgid, AA_CLOSE_EXIT, AA_PROBE_EXIT);
	marks = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (marks && (*marks & AA_TRACED_PLAIN))
		plain_forget(tgid);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(AA_PROBE_EXIT);
	} else {
		fill_header(&r->h, AA_REC_EXIT, sizeof(*r));
		r->code = aa_exit_status(task);
		r->pad = 0;
		bpf_ringbuf_submit(r, wake_flags());
	}
	bpf_map_delete_elem(&traced_pids, &tgid);
	return 0;
}

/* ---- hooks: tp_btf variants (preferred) ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_exit, struct task_struct *p)
{
	return on_exit(p);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, ret, AA_SC_NR(regs));
}

/* ---- hooks: raw_tp variants (no BTF-typed tracepoints) ---- */

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_exit, struct task_struct *p)
{
	return on_exit(p);
}

/* raw_tp: `regs` is an untyped pointer, which direct loads may not follow; the hooks
 * read the registers as plain loads (what tp_btf allows on its BTF pointer), so here
 * they read a copy. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, aa_sc_regs);
} regs_copy SEC(".maps");

static __always_inline struct pt_regs *copy_regs(struct pt_regs *regs)
{
	__u32 zero = 0;
	aa_sc_regs *c = bpf_map_lookup_elem(&regs_copy, &zero);

	if (c && bpf_probe_read_kernel(c, sizeof(*c), regs))
		return NULL;
	/* the register block as the hooks read it (bpf/arch.bpf.h): on x86-64 the same
	 * type, elsewhere the prefix of the kernel's pt_regs the accessors use */
	return (struct pt_regs *)c;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
	struct pt_regs *c;

	if (!sys_enter_wanted(id) || !(c = copy_regs(regs)))
		return 0;
	return on_sys_enter(c, id);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = AA_SC_NR_CORE(regs);
	struct pt_regs *c;

	if (!sys_exit_wanted(nr) || !(c = copy_regs(regs)))
		return 0;
	return on_sys_exit(c, ret, nr);
}
