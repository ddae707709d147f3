/* Plain-HTTP capture: the stream bytes of unencrypted TCP connections, taken from the
 * socket's own reads and writes in the recorder core's sys_exit (bpf/aa.bpf.c), as
 * AA_REC_TLS_DATA records with the AA_TLS_SOCK_* funcs (bpf/events.h), which the
 * recorder's TLS decoder turns into `tls` events marked plain.
 *
 *  - A TCP socket (AF_INET/AF_INET6, SOCK_STREAM, as the kernel's socket says, not the
 *    caller's sockaddr) that a traced process connect()s (0 or -EINPROGRESS) becomes a
 *    candidate: one entry in `plain_socks`, and the process's AA_TRACED_PLAIN bit is set,
 *    so that only then do its reads and writes come here.
 *  - The candidate's first write decides: an HTTP/1.x request line (a method and a
 *    space) or the h2c preface confirms it, and from then on every write and read of it
 *    is captured, that first write included; anything else (a TLS ClientHello begins
 *    0x16 0x03) removes the entry. Reads before that are not captured.
 *  - An entry is keyed by the socket's struct file, not its fd: a dup of it (bash's
 *    `>&3` writes through fd 1) is the same connection. It holds the socket inode's
 *    number, so a struct file freed unseen (close_range, exec) and reused at the same
 *    address is not taken for it. When close, dup2 or dup3 drops the process's last fd
 *    to it (sys_enter) the entry goes, and a confirmed one's end is reported
 *    (AA_REC_TLS_FREE of its connection) so the recorder forgets it; a process's exit
 *    removes its entries.
 *
 * User memory (buffers, iovec arrays, msghdr) is read with bpf_probe_read_user only,
 * never followed as a kernel pointer; at most AA_PLAIN_MAX_IOV iovecs of a call are
 * walked, and bytes past them are reported (AA_TLS_F_IOV_CUT), not dropped silently.
 * Kernel style. */
#ifndef AA_PLAIN_SYS_BPF_H
#define AA_PLAIN_SYS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "arch.bpf.h"
#include "common.bpf.h"
#include "compat.bpf.h"
#include "events.h"
#include "tls_sys.bpf.h"

#define AA_EINPROGRESS 115	/* the same on x86-64 and the generic table */
#define AA_SOCK_STREAM 1
#define AA_MSG_PEEK 2		/* a peek reads bytes a later read returns again */

enum plain_state {
	PLAIN_CANDIDATE = 1,	/* connected, nothing written yet */
	PLAIN_HTTP = 2,		/* its first write was HTTP: captured */
};

/* A syscall as the entry points at the end take it: its number, result and first four
 * arguments (read from the saved user registers by the core). */
struct plain_sys_args {
	__s64 nr;
	__s64 ret;
	__u64 arg[4];
};

struct plain_key {
	__u64 file;	/* struct file * of the socket */
	__u32 tgid;
	__u32 pad;
};

struct plain_sock {
	__u64 ino;	/* the socket inode's number (sockfs numbers them in turn) */
	__u64 conn;	/* AA_PLAIN_CONN_BIT | connect time (ns): the record's `ssl` */
	__u32 state;	/* enum plain_state */
	__u32 pad;
};

/* LRU: an entry whose close was not seen (close_range, a process killed before its exit
 * was seen) must not fill the map for good. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct plain_key);
	__type(value, struct plain_sock);
} plain_socks SEC(".maps");

/* A chunk is gathered in a per-CPU buffer (from one buffer or several iovecs) and
 * copied into the ring sized to its payload. The buffer has twice a chunk's room, so
 * that the verifier sees a copy of at most a chunk at an offset below a chunk stay
 * inside; a per-CPU value is at most 32 KiB, hence a chunk of half the TLS one. */
#define PLAIN_CHUNK (AA_TLS_CHUNK / 2)

/* Steps of one call's walk at most: each chunk takes one, each iovec up to two more
 * (its start, its end inside a chunk); the last one reports what is left (1 GiB). */
#define PLAIN_STEPS (2 * AA_TLS_MAX_CHUNKS + 2 * AA_PLAIN_MAX_IOV + 1)

/* One captured call: where its bytes are and how far the walk got. */
struct plain_emit {
	__u64 conn;
	__u64 call_id;
	__u64 n;		/* bytes the syscall moved */
	__u64 done;		/* bytes emitted so far: the offset of the chunk being gathered */
	__u64 filled;		/* bytes gathered into that chunk */
	__u64 iov;		/* user address of the iovec array; 0: one buffer */
	__u64 iovcnt;
	__u64 base;		/* the current buffer: next byte, bytes left in it */
	__u64 left;
	__u64 cookie;
	__u64 pid_tgid;
	__u32 idx;		/* next iovec */
	__u32 slot;
	__s32 fd;
	__u32 pad;
	char comm[AA_COMM_LEN];
};

/* The walk's state lives in the map value too, not on the stack: the verifier tracks
 * stack contents exactly and would check the loop's callback once per value the walk's
 * offsets take (past its million-instruction budget); map contents are plain scalars. */
struct plain_scratch {
	struct plain_emit e;
	__u8 bytes[sizeof(struct aa_rec_tls_data) + 2 * PLAIN_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct plain_scratch);
} plain_scratch SEC(".maps");

/* struct msghdr as user space lays it out (64-bit): only what leads to the data. */
struct aa_user_msghdr {
	__u64 name;
	__u32 namelen;
	__u32 pad;
	__u64 iov;
	__u64 iovlen;
};

struct aa_iovec {
	__u64 base;
	__u64 len;
};

/* The syscalls whose bytes are captured (socket I/O, as tls_sys.bpf.h's is_socket_io):
 * their aa_sock_call, or -1. */
static __always_inline int plain_call(long nr)
{
	switch (nr) {
	case NR_write: return AA_SOCK_WRITE;
	case NR_writev: return AA_SOCK_WRITEV;
	case NR_sendto: return AA_SOCK_SENDTO;
	case NR_sendmsg: return AA_SOCK_SENDMSG;
	case NR_read: return AA_SOCK_READ;
	case NR_readv: return AA_SOCK_READV;
	case NR_recvfrom: return AA_SOCK_RECVFROM;
	case NR_recvmsg: return AA_SOCK_RECVMSG;
	default: return -1;
	}
}

/* The socket behind `f` is TCP over IPv4 or IPv6, by the kernel's own socket. */
static __always_inline bool plain_is_tcp(struct file *f)
{
	struct socket *sock;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	short type;
	__u16 family;

	if ((mode & AA_S_IFMT) != AA_S_IFSOCK)
		return false;
	sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return false;
	type = BPF_CORE_READ(sock, type);
	family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	return type == AA_SOCK_STREAM && (family == AA_AF_INET || family == AA_AF_INET6);
}

/* connect(fd, ...) of a traced process returned `ret`: a TCP socket that connected (or
 * is connecting) is a new candidate, whatever the fd was before. */
static __always_inline void plain_connect(struct task_struct *task, __u32 tgid, __u32 *traced,
					  int fd, long ret)
{
	struct plain_key key = { .tgid = tgid };
	struct plain_sock s = {};
	struct file *f;

	if (ret != 0 && ret != -AA_EINPROGRESS)
		return;
	f = aa_fd_file(task, fd);
	if (!f || !plain_is_tcp(f))
		return;
	key.file = (__u64)f;
	s.ino = BPF_CORE_READ(f, f_inode, i_ino);
	s.conn = AA_PLAIN_CONN_BIT | (bpf_ktime_get_ns() & (AA_PLAIN_CONN_BIT - 1));
	s.state = PLAIN_CANDIDATE;
	bpf_map_update_elem(&plain_socks, &key, &s, BPF_ANY);
	mark_plain_user(traced);
}

/* The first n (<= 8) bytes of s as one number, byte i in bits 8i..8i+7: with a string
 * literal clang folds it to a constant. */
static __always_inline __u64 plain_word(const char *s, __u32 n)
{
	__u64 w = 0;
	__u32 i;

#pragma unroll
	for (i = 0; i < 8; i++)
		if (i < n)
			w |= (__u64)(__u8)s[i] << (8 * i);
	return w;
}

static __always_inline bool plain_starts(__u64 w, __u32 have, const char *p, __u32 n)
{
	const __u64 mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;

	return have >= n && (w & mask) == plain_word(p, n);
}

/* A first write's opening bytes (`have` of them in b, 16 at most, the rest zero) begin
 * an HTTP/1.x request line (a method and a space) or the HTTP/2 preface. Compared as
 * two numbers, not byte by byte: a few instructions for the verifier to walk. */
static __always_inline bool plain_is_http(const __u8 *b, __u32 have)
{
	__u64 w = 0, w2 = 0;
	__u32 i;

#pragma unroll
	for (i = 0; i < 8; i++) {
		w |= (__u64)b[i] << (8 * i);
		w2 |= (__u64)b[8 + i] << (8 * i);
	}
	return plain_starts(w, have, "GET ", 4) || plain_starts(w, have, "POST ", 5) ||
	       plain_starts(w, have, "PUT ", 4) || plain_starts(w, have, "PATCH ", 6) ||
	       plain_starts(w, have, "DELETE ", 7) || plain_starts(w, have, "HEAD ", 5) ||
	       plain_starts(w, have, "OPTIONS ", 8) ||
	       (plain_starts(w, have, "PRI * HT", 8) && plain_starts(w2, have - 8, "TP/2.0", 6));
}

/* Sends the chunk gathered (`len` bytes at rec->data), or an empty record flagged with
 * what was not captured. */
static __always_inline void plain_output(struct aa_rec_tls_data *rec, struct plain_emit *e,
					 __u64 len, __u16 flags)
{
	if (len > PLAIN_CHUNK)
		return;
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.pid = e->pid_tgid >> 32;
	rec->hdr.tid = (__u32)e->pid_tgid;
	rec->hdr.type = AA_REC_TLS_DATA;
	rec->hdr.flags = flags;
	rec->hdr.size = sizeof(*rec) + len;
	__builtin_memcpy(rec->hdr.comm, e->comm, AA_COMM_LEN);
	rec->ssl = e->conn;
	rec->call_id = e->call_id;
	rec->call_len = e->n;
	rec->chunk_off = e->done;
	rec->cookie = e->cookie;
	rec->fd = e->fd;
	rec->data_len = len;
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec) + len, wake_flags()))
		tls_count_lost(e->slot);
	e->done += len;
	e->filled = 0;
}

/* One step of the walk: the next iovec, or bytes of the current buffer gathered into
 * the chunk, which is sent once full or once the call's bytes are all in. */
static long plain_step(__u32 i, void *arg)
{
	struct plain_emit *e;
	struct aa_rec_tls_data *rec;
	struct plain_scratch *s;
	struct aa_iovec v;
	__u32 zero = 0;
	__u16 flags;
	__u64 len, at;

	s = bpf_map_lookup_elem(&plain_scratch, &zero);
	if (!s)
		return 1;
	e = &s->e;
	rec = (struct aa_rec_tls_data *)s->bytes;
	if (e->done + e->filled >= e->n)
		return 1;
	if (i == PLAIN_STEPS - 1) {
		flags = AA_TLS_F_CUT;
		goto stop;
	}
	if (e->left == 0) {
		if (e->iov && e->idx < e->iovcnt && e->idx < AA_PLAIN_MAX_IOV) {
			if (bpf_probe_read_user(&v, sizeof(v),
						(const void *)(e->iov + (__u64)e->idx * sizeof(v)))) {
				flags = AA_TLS_F_FAULT;
				goto stop;
			}
			e->idx++;
			e->base = v.base;
			e->left = v.len;
			return 0;
		}
		/* buffers past AA_PLAIN_MAX_IOV (or past the count the call had) */
		flags = AA_TLS_F_IOV_CUT;
		goto stop;
	}
	len = e->n - e->done - e->filled;
	if (len > e->left)
		len = e->left;
	if (len > PLAIN_CHUNK - e->filled)
		len = PLAIN_CHUNK - e->filled;
	at = e->filled;
	/* keep the bounds visible to the verifier after clang's rewrites */
	asm volatile("%[at] &= %[mask]" : [at] "+r"(at) : [mask] "i"(PLAIN_CHUNK - 1));
	asm volatile("%[len] &= %[mask]" : [len] "+r"(len) : [mask] "i"(2 * PLAIN_CHUNK - 1));
	if (len > PLAIN_CHUNK || len == 0)
		return 1;
	if (bpf_probe_read_user(rec->data + at, len, (const void *)e->base)) {
		flags = AA_TLS_F_FAULT;
		goto stop;
	}
	e->filled += len;
	e->base += len;
	e->left -= len;
	if (e->filled >= PLAIN_CHUNK || e->done + e->filled >= e->n)
		plain_output(rec, e, e->filled, 0);
	return 0;

stop:
	/* what was gathered goes, then what was not captured is said: an empty record at
	 * its offset */
	if (e->filled)
		plain_output(rec, e, e->filled, 0);
	plain_output(rec, e, 0, flags);
	return 1;
}

/* The buffer a write/read-family call moved its bytes through: a single buffer (buf)
 * or an iovec array (iov, iovcnt). False when it cannot be read. */
static __always_inline bool plain_buffers(const struct plain_sys_args *a, int call,
					  struct plain_emit *e)
{
	struct aa_user_msghdr m;

	switch (call) {
	case AA_SOCK_WRITE: case AA_SOCK_READ: case AA_SOCK_SENDTO: case AA_SOCK_RECVFROM:
		e->base = a->arg[1];
		e->left = e->n;
		return true;
	case AA_SOCK_WRITEV: case AA_SOCK_READV:
		e->iov = a->arg[1];
		e->iovcnt = a->arg[2];
		return true;
	default:	/* sendmsg, recvmsg */
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)a->arg[1]))
			return false;
		e->iov = m.iov;
		e->iovcnt = m.iovlen;
		return true;
	}
}

/* The first bytes of a candidate's first write: the opening of its first non-empty
 * buffer (of the first four iovecs), up to 16 bytes. */
static __always_inline __u32 plain_head(struct plain_emit *e, __u8 *b)
{
	struct aa_iovec v = { .base = e->base, .len = e->left };
	__u32 i, have;

	if (e->iov) {
		v.len = 0;
#pragma unroll
		for (i = 0; i < 4; i++) {
			if (i >= e->iovcnt)
				break;
			if (bpf_probe_read_user(&v, sizeof(v), (const void *)(e->iov + i * sizeof(v))))
				return 0;
			if (v.len)
				break;
		}
	}
	have = v.len < 16 ? v.len : 16;
	if (have > e->n)
		have = e->n;
	if (have == 0 || have > 16 || bpf_probe_read_user(b, have & 31, (const void *)v.base))
		return 0;
	return have;
}

/* A read or write family syscall of a process that connected TCP sockets returned
 * `ret`. True when its fd is one of those sockets (the core has nothing to do with it). */
static __always_inline bool plain_sys_exit(struct task_struct *task,
					   const struct plain_sys_args *a, __u64 id)
{
	struct plain_key key = { .tgid = id >> 32 };
	int fd = (int)a->arg[0];
	long nr = a->nr, ret = a->ret;
	struct plain_scratch *scratch;
	struct file *f;
	struct plain_emit *e;
	struct plain_sock *s;
	__u32 zero = 0;
	__u8 head[16] = {};
	int call = plain_call(nr);
	bool write;
	__u32 have;

	if (call < 0)
		return false;
	f = aa_fd_file(task, fd);
	if (!f)
		return false;
	key.file = (__u64)f;
	s = bpf_map_lookup_elem(&plain_socks, &key);
	if (!s)
		return false;
	if (s->ino != BPF_CORE_READ(f, f_inode, i_ino)) {
		/* another file at a freed socket's address: that connection is gone */
		bpf_map_delete_elem(&plain_socks, &key);
		return false;
	}
	write = call < AA_SOCK_READ;
	if (ret <= 0 || (!write && s->state != PLAIN_HTTP))
		return true;
	if (call == AA_SOCK_RECVFROM && (a->arg[3] & AA_MSG_PEEK))
		return true;
	if (call == AA_SOCK_RECVMSG && (a->arg[2] & AA_MSG_PEEK))
		return true;
	scratch = bpf_map_lookup_elem(&plain_scratch, &zero);
	if (!scratch)
		return true;
	e = &scratch->e;
	__builtin_memset(e, 0, sizeof(*e));
	e->n = (__u64)ret;
	if (!plain_buffers(a, call, e))
		return true;
	if (s->state == PLAIN_CANDIDATE) {
		have = plain_head(e, head);
		if (!plain_is_http(head, have)) {
			/* TLS, or another protocol: nothing more is looked at */
			bpf_map_delete_elem(&plain_socks, &key);
			return true;
		}
		s->state = PLAIN_HTTP;
	}
	e->conn = s->conn;
	e->call_id = bpf_ktime_get_ns();
	e->cookie = AA_TLS_COOKIE(call, write ? AA_TLS_SOCK_WRITE : AA_TLS_SOCK_READ);
	e->pid_tgid = id;
	e->slot = write ? AA_TLS_LOSS_PLAIN_WRITE : AA_TLS_LOSS_PLAIN_READ;
	e->fd = fd;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_loop(PLAIN_STEPS, plain_step, NULL, 0);
	return true;
}

/* sendfile(out, in, ...) or splice(in, off, out, ...) returned `ret`: bytes a captured
 * socket sent or received without a user buffer are not captured, but said: one empty
 * record, AA_TLS_F_UNSEEN, whose call_len keeps the stream's offsets right. A candidate
 * whose first bytes go this way cannot be judged and is dropped. */
static __always_inline void plain_unseen(struct task_struct *task,
					 const struct plain_sys_args *a, __u64 id)
{
	struct plain_key key = { .tgid = id >> 32 };
	struct aa_rec_tls_data *rec;
	struct plain_sock *s;
	struct file *f;
	bool write = true;
	long nr = a->nr, ret = a->ret;
	int fd, call;

	if (ret <= 0)
		return;
	if (nr == NR_sendfile) {
		fd = (int)a->arg[0];
		call = AA_SOCK_SENDFILE;
	} else if (nr == NR_splice) {
		call = AA_SOCK_SPLICE;
		fd = (int)a->arg[2];	/* out, else in: one side is a pipe */
		f = aa_fd_file(task, fd);
		key.file = (__u64)f;
		if (!f || !bpf_map_lookup_elem(&plain_socks, &key)) {
			fd = (int)a->arg[0];
			write = false;
		}
	} else {
		return;
	}
	f = aa_fd_file(task, fd);
	if (!f)
		return;
	key.file = (__u64)f;
	s = bpf_map_lookup_elem(&plain_socks, &key);
	if (!s || s->ino != BPF_CORE_READ(f, f_inode, i_ino))
		return;
	if (s->state != PLAIN_HTTP) {
		if (write)
			bpf_map_delete_elem(&plain_socks, &key);
		return;
	}
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		tls_count_lost(write ? AA_TLS_LOSS_PLAIN_WRITE : AA_TLS_LOSS_PLAIN_READ);
		return;
	}
	fill_header(&rec->hdr, AA_REC_TLS_DATA, sizeof(*rec));
	rec->hdr.flags = AA_TLS_F_UNSEEN;
	rec->ssl = s->conn;
	rec->call_id = bpf_ktime_get_ns();
	rec->call_len = (__u64)ret;
	rec->chunk_off = 0;
	rec->cookie = AA_TLS_COOKIE(call, write ? AA_TLS_SOCK_WRITE : AA_TLS_SOCK_READ);
	rec->fd = fd;
	rec->data_len = 0;
	bpf_ringbuf_submit(rec, wake_flags());
}

static __always_inline bool other_fd_refers(struct task_struct *task, struct file *f, int skip);

/* fd is about to be closed or replaced (close, dup2/dup3 onto it): when it was the
 * process's last fd to a socket of ours, the connection ends, and the recorder hears of
 * it when it was being captured. */
static __always_inline void plain_drop(struct task_struct *task, __u32 tgid, int fd)
{
	struct file *f = aa_fd_file(task, fd);
	struct plain_key key = { .file = (__u64)f, .tgid = tgid };
	struct aa_rec_tls_free *rec;
	struct plain_sock *s;
	__u64 conn;
	bool http;

	if (!f)
		return;
	s = bpf_map_lookup_elem(&plain_socks, &key);
	if (!s || other_fd_refers(task, f, fd))
		return;
	conn = s->conn;
	http = s->state == PLAIN_HTTP;
	bpf_map_delete_elem(&plain_socks, &key);
	if (!http)
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		tls_count_lost(AA_TLS_LOSS_PLAIN_CLOSE);
		return;
	}
	fill_header(&rec->hdr, AA_REC_TLS_FREE, sizeof(*rec));
	rec->ssl = conn;
	bpf_ringbuf_submit(rec, wake_flags());
}

static long plain_forget_one(struct bpf_map *map, struct plain_key *key, struct plain_sock *s,
			     __u32 *tgid)
{
	if (key->tgid == *tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* A process that connected TCP sockets exited: its entries go (the recorder forgets
 * its connections at its exit record). */
static __always_inline void plain_forget(__u32 tgid)
{
	bpf_for_each_map_elem(&plain_socks, plain_forget_one, &tgid, 0);
}

/* The entry points of the core's sys_enter and sys_exit (bpf/aa.bpf.c). They are global
 * functions, neither static nor inlined, so the verifier checks each once, on its own,
 * and not again for every path through the core's two large programs that reaches it:
 * inlined, this file more than doubled the instructions the verifier walked there, and
 * aa-record's start-up grew by ~85 ms (docs/PERFORMANCE.md). A global function's
 * pointer argument may be NULL for all the verifier knows, hence the checks. */

/* A read or write family syscall, sendfile or splice of a process with the plain bits
 * returned: 1 when its fd is a socket of ours (nothing left for the core to do). */
__noinline int aa_plain_exit(const struct plain_sys_args *a)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();

	if (!a)
		return 0;
	if (a->nr == NR_sendfile || a->nr == NR_splice) {
		plain_unseen(task, a, id);	/* a file or pipe is on the other side */
		return 0;
	}
	return plain_sys_exit(task, a, id);
}

/* close(fd), or dup2/dup3 onto fd, is about to run. */
__noinline int aa_plain_drop(int fd)
{
	plain_drop(bpf_get_current_task_btf(), bpf_get_current_pid_tgid() >> 32, fd);
	return 0;
}

/* connect(fd, ...) returned ret. */
__noinline int aa_plain_connect(int fd, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *traced = bpf_map_lookup_elem(&traced_pids, &tgid);

	if (traced)
		plain_connect(bpf_get_current_task_btf(), tgid, traced, fd, ret);
	return 0;
}

#endif /* AA_PLAIN_SYS_BPF_H */
