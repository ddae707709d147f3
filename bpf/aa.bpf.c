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
 * seen through sys_enter/sys_exit: on x86-64 the saved user registers still hold the
 * arguments at sys_exit, so nearly everything is done there, once the result is known.
 *
 * Files: an open regular file is tracked per (struct file *, tgid) in `open_files`,
 * where reads and writes are summed in the kernel; a summary record leaves when the
 * process's last fd to it goes (close, dup2 over it, exec with O_CLOEXEC, exit). Keying
 * by struct file * makes bytes written through dup'd fds count for the opened file.
 *
 * Loss: records are sized to their payload (built in a per-CPU scratch buffer, then
 * copied with bpf_ringbuf_output); every failed output/reserve increments
 * lost_counts[probe].
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "compat.bpf.h"
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings written by the recorder between open and load. */
const volatile __u32 self_tgid = 0;
const volatile bool trace_all = false;
const volatile bool io_calls = false;
/* Wake the recorder only once this much is waiting (it also drains on a timer):
 * a wakeup per record costs the traced process a context switch per syscall. */
const volatile __u64 wakeup_bytes = 1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);    /* tgid */
	__type(value, __u32);  /* unused (1) */
} traced_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);  /* resized by the recorder before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AA_PROBE_COUNT);
	__type(key, __u32);    /* enum aa_probe */
	__type(value, __u64);  /* failed ring-buffer reserves, cumulative */
} lost_counts SEC(".maps");

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

/* Entries of open_files per tgid, so exec and exit skip the map walk when zero. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} tgid_files SEC(".maps");

struct scratch_buf {
	char d[AA_REC_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

/* x86-64 syscall numbers (stable ABI). */
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_dup 32
#define NR_dup2 33
#define NR_sendfile 40
#define NR_connect 42
#define NR_truncate 76
#define NR_ftruncate 77
#define NR_fcntl 72
#define NR_chdir 80
#define NR_fchdir 81
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_chmod 90
#define NR_fchmod 91
#define NR_openat 257
#define NR_mkdirat 258
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_dup3 292
#define NR_preadv 295
#define NR_pwritev 296
#define NR_renameat2 316
#define NR_preadv2 327
#define NR_pwritev2 328
#define NR_copy_file_range 326
#define NR_splice 275
#define NR_close_range 436
#define NR_openat2 437
#define NR_fchmodat2 452

#define AT_REMOVEDIR 0x200
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

static __always_inline void count_lost(__u32 probe)
{
	__u64 *n = bpf_map_lookup_elem(&lost_counts, &probe);

	if (n)
		__sync_fetch_and_add(n, 1);
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

static __always_inline __u64 wake_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
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

static long scan_chunk(__u32 i, void *arg)
{
	struct scan_ctx *c = arg;
	__u32 zero = 0, base = i * FD_CHUNK;
	struct fd_chunk *ch = bpf_map_lookup_elem(&fd_chunks, &zero);

	if (!ch)
		return 1;
	if (bpf_probe_read_kernel(ch, sizeof(*ch), (void *)(c->fds + base * sizeof(__u64))))
		return 1;
	for (int j = 0; j < FD_CHUNK; j++) {
		if (ch->f[j] == c->f && base + j != c->skip) {
			c->found = 1;
			return 1;
		}
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
	__u32 zero = 0, base = i * FD_CHUNK;
	struct fd_chunk *ch = bpf_map_lookup_elem(&fd_chunks, &zero);

	if (!ch)
		return 1;
	if (bpf_probe_read_kernel(ch, sizeof(*ch), (void *)(c->fds + base * sizeof(__u64))))
		return 1;
	for (int j = 0; j < FD_CHUNK; j++) {
		__u32 fd = base + j;

		if (ch->f[j] != c->f)
			continue;
		if (fd < c->first || fd > c->last) {
			c->outside = 1;
			return 1;
		}
		if (c->inside < 0)
			c->inside = fd;
	}
	return 0;
}

static __always_inline void files_count_add(__u32 tgid, int delta)
{
	__u32 *n = bpf_map_lookup_elem(&tgid_files, &tgid);

	if (n) {
		__sync_fetch_and_add(n, delta);
	} else if (delta > 0) {
		__u32 one = 1;

		bpf_map_update_elem(&tgid_files, &tgid, &one, BPF_NOEXIST);
	}
}

static __always_inline void track_file(struct file *f, __u32 tgid)
{
	struct file_key key = { .file = (__u64)f, .tgid = tgid };
	struct file_stats zero = {};

	/* An existing entry is a struct file freed without our seeing its close (it was
	 * closed by a path we do not hook) and reused: start over, keep the count. */
	if (bpf_map_update_elem(&open_files, &key, &zero, BPF_NOEXIST) == 0)
		files_count_add(tgid, 1);
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
static __always_inline void drop_fd(struct task_struct *task, __u32 tgid, int fd, __u32 reason)
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
		files_count_add(tgid, -1);
}

static __always_inline void on_close_range(struct pt_regs *regs, __u32 tgid);

static __always_inline int on_sys_enter(struct pt_regs *regs, long nr)
{
	struct task_struct *task;
	__u32 tgid;
	int oldfd, newfd;

	if (nr != NR_close && nr != NR_dup2 && nr != NR_dup3 && nr != NR_close_range)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(tgid))
		return 0;
	if (nr == NR_close_range) {
		on_close_range(regs, tgid);
		return 0;
	}
	task = bpf_get_current_task_btf();
	if (nr == NR_close) {
		drop_fd(task, tgid, (int)BPF_CORE_READ(regs, di), AA_CLOSE_EXPLICIT);
		return 0;
	}
	oldfd = (int)BPF_CORE_READ(regs, di);
	newfd = (int)BPF_CORE_READ(regs, si);
	/* dup2 onto itself, or from a bad fd, replaces nothing */
	if (oldfd == newfd || !aa_fd_file(task, oldfd) ||
	    aa_fd_file(task, oldfd) == aa_fd_file(task, newfd))
		return 0;
	drop_fd(task, tgid, newfd, AA_CLOSE_REPLACED);
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

static __always_inline void on_io(struct task_struct *task, __u32 tgid, int fd, long ret,
				  bool write)
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
		track_file(f, tgid);
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
	const void *uaddr = (const void *)BPF_CORE_READ(regs, si);
	int addrlen = (int)BPF_CORE_READ(regs, dx);
	struct scratch_buf *s = get_scratch();
	struct aa_rec_connect *r;
	__u16 family = 0;

	if (!s || !uaddr)
		return;
	r = (void *)s->d;
	if (bpf_probe_read_user(&family, sizeof(family), uaddr))
		return;
	r->ret = ret;
	r->fd = (int)BPF_CORE_READ(regs, di);
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

static __always_inline int on_sys_exit(struct pt_regs *regs, long ret, long nr)
{
	struct op_args a = { .dfd1 = AA_AT_FDCWD, .dfd2 = AA_AT_FDCWD, .fd = -1, .ret = ret };
	struct task_struct *task;
	struct file *opened = NULL;
	__u32 tgid;

	switch (nr) {
	case NR_read: case NR_pread64: case NR_readv: case NR_preadv: case NR_preadv2:
	case NR_write: case NR_pwrite64: case NR_writev: case NR_pwritev: case NR_pwritev2:
	case NR_open: case NR_openat: case NR_openat2: case NR_creat:
	case NR_rename: case NR_renameat: case NR_renameat2: case NR_link: case NR_linkat:
	case NR_unlink: case NR_unlinkat: case NR_mkdir: case NR_mkdirat: case NR_rmdir:
	case NR_truncate: case NR_ftruncate: case NR_chmod: case NR_fchmod:
	case NR_fchmodat: case NR_fchmodat2: case NR_symlink: case NR_symlinkat:
	case NR_connect: case NR_chdir: case NR_fchdir:
	case NR_sendfile: case NR_copy_file_range: case NR_splice:
	case NR_dup: case NR_dup2: case NR_dup3: case NR_fcntl:
		break;
	default:
		return 0;
	}
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(tgid))
		return 0;
	task = bpf_get_current_task_btf();

	switch (nr) {
	case NR_read: case NR_pread64: case NR_readv: case NR_preadv: case NR_preadv2:
		on_io(task, tgid, (int)BPF_CORE_READ(regs, di), ret, false);
		return 0;
	case NR_write: case NR_pwrite64: case NR_writev: case NR_pwritev: case NR_pwritev2:
		on_io(task, tgid, (int)BPF_CORE_READ(regs, di), ret, true);
		return 0;
	case NR_sendfile:	/* (out_fd, in_fd, ...) */
		on_io(task, tgid, (int)BPF_CORE_READ(regs, si), ret, false);
		on_io(task, tgid, (int)BPF_CORE_READ(regs, di), ret, true);
		return 0;
	case NR_copy_file_range:	/* (fd_in, off_in, fd_out, ...): cat and cp use it */
	case NR_splice:		/* (fd_in, off_in, fd_out, ...): one side is a pipe */
		on_io(task, tgid, (int)BPF_CORE_READ(regs, di), ret, false);
		on_io(task, tgid, (int)BPF_CORE_READ(regs, dx), ret, true);
		return 0;
	case NR_fcntl: {
		long cmd = BPF_CORE_READ(regs, si);

		if (cmd != 0 && cmd != 1030)  /* F_DUPFD, F_DUPFD_CLOEXEC */
			return 0;
	}
		/* fallthrough */
	case NR_dup: case NR_dup2: case NR_dup3:
		if (ret >= 0)
			mark_shared(task, tgid, (int)ret);
		return 0;
	case NR_connect:
		on_connect(regs, ret);
		return 0;
	case NR_open:
		a.op = AA_OP_OPEN;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.flags = BPF_CORE_READ(regs, si);
		a.mode = BPF_CORE_READ(regs, dx);
		break;
	case NR_creat:
		a.op = AA_OP_OPEN;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.flags = 01 | 0100 | 01000;  /* O_WRONLY | O_CREAT | O_TRUNC, as creat(2) */
		a.mode = BPF_CORE_READ(regs, si);
		break;
	case NR_openat:
		a.op = AA_OP_OPEN;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.flags = BPF_CORE_READ(regs, dx);
		a.mode = BPF_CORE_READ(regs, r10);
		break;
	case NR_openat2: {
		struct open_how how = {};

		a.op = AA_OP_OPEN;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		bpf_probe_read_user(&how, sizeof(how), (void *)BPF_CORE_READ(regs, dx));
		a.flags = how.flags;
		a.mode = how.mode;
		/* RESOLVE_IN_ROOT: the string is resolved with dirfd as its root, so "/x"
		 * names dirfd's x. Once opened, the file itself says where it is; a failed
		 * open keeps the string with dirfd walked as its root (AA_F_IN_ROOT). */
		if (how.resolve & AA_RESOLVE_IN_ROOT) {
			if (ret >= 0) {
				a.p1 = NULL;
				a.fd = (int)ret;
			} else {
				a.fd = FD_IN_ROOT;
				a.in_root = 1;
			}
		}
		break;
	}
	case NR_rename:
		a.op = AA_OP_RENAME;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.p2 = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_renameat: case NR_renameat2:
		a.op = AA_OP_RENAME;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.dfd2 = (int)BPF_CORE_READ(regs, dx);
		a.p2 = (const char *)BPF_CORE_READ(regs, r10);
		if (nr == NR_renameat2)
			a.flags = BPF_CORE_READ(regs, r8);
		break;
	case NR_link:
		a.op = AA_OP_LINK;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.p2 = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_linkat:	/* AT_EMPTY_PATH: empty oldpath, the olddirfd's file is walked */
		a.op = AA_OP_LINK;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.dfd2 = (int)BPF_CORE_READ(regs, dx);
		a.p2 = (const char *)BPF_CORE_READ(regs, r10);
		a.flags = BPF_CORE_READ(regs, r8);
		break;
	case NR_unlink:
		a.op = AA_OP_UNLINK;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		break;
	case NR_unlinkat:
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.flags = BPF_CORE_READ(regs, dx);
		a.op = (a.flags & AT_REMOVEDIR) ? AA_OP_RMDIR : AA_OP_UNLINK;
		break;
	case NR_mkdir:
		a.op = AA_OP_MKDIR;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.mode = BPF_CORE_READ(regs, si);
		break;
	case NR_mkdirat:
		a.op = AA_OP_MKDIR;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.mode = BPF_CORE_READ(regs, dx);
		break;
	case NR_rmdir:
		a.op = AA_OP_RMDIR;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		break;
	case NR_truncate:
		a.op = AA_OP_TRUNCATE;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.arg = BPF_CORE_READ(regs, si);
		break;
	case NR_ftruncate:
		a.op = AA_OP_TRUNCATE;
		a.fd = (int)BPF_CORE_READ(regs, di);
		a.arg = BPF_CORE_READ(regs, si);
		break;
	case NR_chmod:
		a.op = AA_OP_CHMOD;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.mode = BPF_CORE_READ(regs, si);
		break;
	case NR_fchmod:
		a.op = AA_OP_CHMOD;
		a.fd = (int)BPF_CORE_READ(regs, di);
		a.mode = BPF_CORE_READ(regs, si);
		break;
	case NR_fchmodat: case NR_fchmodat2:
		a.op = AA_OP_CHMOD;
		a.dfd1 = (int)BPF_CORE_READ(regs, di);
		a.p1 = (const char *)BPF_CORE_READ(regs, si);
		a.mode = BPF_CORE_READ(regs, dx);
		break;
	case NR_symlink:
		a.op = AA_OP_SYMLINK;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.dfd1 = NO_BASE;  /* the target is stored as passed, never resolved */
		a.p2 = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_symlinkat:
		a.op = AA_OP_SYMLINK;
		a.p1 = (const char *)BPF_CORE_READ(regs, di);
		a.dfd1 = NO_BASE;
		a.dfd2 = (int)BPF_CORE_READ(regs, si);
		a.p2 = (const char *)BPF_CORE_READ(regs, dx);
		break;
	case NR_chdir:
		a.op = AA_OP_CHDIR;
		if (ret == 0)
			a.fd = -2;  /* success: report the new cwd, walked */
		else
			a.p1 = (const char *)BPF_CORE_READ(regs, di);
		break;
	case NR_fchdir:
		if (ret != 0)
			return 0;
		a.op = AA_OP_CHDIR;
		a.fd = -2;
		break;
	default:
		return 0;
	}

	if (a.op == AA_OP_OPEN && ret >= 0) {
		opened = aa_fd_file(task, (int)ret);
		/* only regular files: not directories, pipes, sockets, devices */
		if (!opened || !aa_is_regular(opened))
			return 0;
		track_file(opened, tgid);
	}
	/* an fd names the path only for ftruncate, fchmod and an open walked from the file
	 * it opened (RESOLVE_IN_ROOT) */
	if (a.fd >= 0 && a.op != AA_OP_TRUNCATE && a.op != AA_OP_CHMOD && a.p1)
		a.fd = -1;
	if (a.fd == -2) {
		/* new cwd: reported as a base with an empty string */
		struct scratch_buf *s = get_scratch();
		struct aa_rec_file_op *r;
		__u32 w;

		if (!s)
			return 0;
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
		return 0;
	}
	emit_file_op(&a, opened);
	return 0;
}

/* ---- process lifecycle ---- */

struct close_all_ctx {
	struct task_struct *task;
	__u32 tgid;
	__u32 reason;
	__u32 probe;
};

static long close_matching(struct bpf_map *map, struct file_key *key, struct file_stats *st,
			   struct close_all_ctx *c)
{
	if (key->tgid != c->tgid)
		return 0;
	if (c->reason == AA_CLOSE_EXEC &&
	    other_fd_refers(c->task, (struct file *)key->file, -1))
		return 0;
	emit_close(key, st, -1, c->reason, c->probe);
	bpf_map_delete_elem(map, key);
	files_count_add(c->tgid, -1);
	return 0;
}

static __always_inline void close_files_of(struct task_struct *task, __u32 tgid, __u32 reason,
					   __u32 probe)
{
	struct close_all_ctx c = { .task = task, .tgid = tgid, .reason = reason, .probe = probe };
	__u32 *n = bpf_map_lookup_elem(&tgid_files, &tgid);

	if (!n || *n == 0)
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
	unsigned int flags = BPF_CORE_READ(regs, dx);
	__u32 *n = bpf_map_lookup_elem(&tgid_files, &tgid);

	if (!n || *n == 0 || (flags & (1 << 2)))  /* CLOSE_RANGE_CLOEXEC closes nothing */
		return;
	c.first = BPF_CORE_READ(regs, di);
	c.last = BPF_CORE_READ(regs, si);
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

		bpf_map_update_elem(&traced_pids, &tgid, &one, BPF_ANY);
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
	r->pad[0] = r->pad[1] = 0;

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

	/* files whose fds were close-on-exec are gone from the table by now (the task
	 * pointer of a raw_tp is not a trusted one; current is the same task) */
	close_files_of(bpf_get_current_task_btf(), tgid, AA_CLOSE_EXEC, AA_PROBE_EXEC);
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

	if (!traced(tgid) || !aa_group_dead(task))
		return 0;
	close_files_of(task, tgid, AA_CLOSE_EXIT, AA_PROBE_EXIT);
	bpf_map_delete_elem(&tgid_files, &tgid);
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
	return on_sys_exit(regs, ret, BPF_CORE_READ(regs, orig_ax));
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

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, ret, BPF_CORE_READ(regs, orig_ax));
}
