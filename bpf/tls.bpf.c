// SPDX-License-Identifier: GPL-2.0
/* OpenSSL plaintext capture: uprobes at entry and return of SSL_write, SSL_write_ex,
 * SSL_read and SSL_read_ex, plus two syscall hooks that serve them:
 *  - sys_enter learns the socket fd of a connection from the read/write/send/recv
 *    syscall a thread makes while inside an SSL_* call (struct offsets inside SSL
 *    change between OpenSSL versions; the syscall does not);
 *  - sys_exit reports executable file mappings (mmap/mprotect with PROT_EXEC) of traced
 *    processes, so the recorder finds libraries loaded after exec (Python dlopens
 *    libssl).
 *
 * The recorder core owns `traced_pids` and `events`; recorder/tls_capture.cc reuses
 * them (bpf_map__reuse_fd) before load, so this object sees the same traced tree.
 * The uprobes are attached per library or executable by the recorder, with a bpf
 * cookie naming the library and the function (AA_TLS_COOKIE). SSL_free is hooked too:
 * it ends a connection, so a reused SSL* address does not merge two connections; where
 * it cannot be found (BoringSSL discovered without symbols, recorder/tls_discovery.h)
 * SSL_new's return does the same. BoringSSL's SSL_write/SSL_read have OpenSSL's
 * signatures, so the same programs serve them at discovered offsets.
 *
 * rustls over aws-lc (Codex) has no SSL-level API: aws-lc's EVP_AEAD_CTX_seal (entry)
 * and EVP_AEAD_CTX_open (return) are hooked instead, one TLS record per call; only
 * application data is sent, the TLS 1.3 inner content type stripped. The record's
 * `ssl` is the AEAD context; the socket fd comes from the thread's last recv (open) or
 * its next socket write after the seal (an AA_REC_TLS_FD record), and the recorder
 * joins the contexts of both directions into one connection (recorder/aead_join.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

#define PROT_EXEC 0x4

/* Shared with bpf/aa.bpf.c (replaced by the core's maps before load). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);
} traced_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

/* An SSL_* call in progress on a thread: what the return probe needs. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr;		/* SSL_*_ex: size_t *written / *readbytes */
	__u64 start_ns;
	__u64 len;		/* bytes asked for */
	__s32 fd;		/* learned by sys_enter, -1 until then */
	__u32 pad;
	__u64 ad;		/* EVP_AEAD_CTX_open: the additional data (the record header) */
	__u64 ad_len;
};

/* LRU: a call whose return probe never runs (the thread died inside it) must not
 * leave an entry that fills the map for good. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* pid_tgid of the calling thread */
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* The last socket fd seen per SSL*: a call served from OpenSSL's buffer makes no
 * syscall, but its connection's fd is known from an earlier one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, __s32);
} ssl_fds SEC(".maps");

/* Where the socket I/O happens outside the SSL_* call (Bun/uSockets: BoringSSL over
 * memory BIOs, the event loop calls recv before SSL_read and send after SSL_write):
 * the last fd a traced thread used with send/recv, and an SSL* whose write has not
 * been seen on a socket yet. They fill ssl_fds when no syscall ran inside the call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* pid_tgid */
	__type(value, __s32);
} thread_sock_fd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* pid_tgid */
	__type(value, __u64);	/* SSL* */
} write_pending SEC(".maps");

/* An AEAD write context (aws-lc under rustls) whose socket is not known yet: rustls
 * seals records into a buffer that the thread writes (writev, send) right after. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* pid_tgid */
	__type(value, __u64);	/* EVP_AEAD_CTX* */
} aead_write_pending SEC(".maps");

/* Files (kernel dev, inode) the recorder has examined: their mappings are not
 * reported again. Filled by recorder/tls_capture.cc. */
struct file_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct file_key);
	__type(value, __u8);
} tls_seen_files SEC(".maps");

/* Failed ring-buffer writes, per enum aa_tls_loss_slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AA_TLS_LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} tls_lost SEC(".maps");

/* A record is built here and copied into the ring buffer by bpf_ringbuf_output:
 * bpf_ringbuf_reserve needs a constant size, and records are sized to their payload. */
struct tls_scratch {
	__u8 bytes[sizeof(struct aa_rec_tls_data) + AA_TLS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tls_scratch);
} tls_scratch SEC(".maps");

/* Wake the recorder only when this much data waits (set by the recorder to an eighth of
 * the ring, as the core does): a wakeup per record would put the recorder on a CPU for
 * every SSL call, and its timer drains the rest every few ms anyway. */
const volatile __u64 wakeup_bytes = 1;

static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&tls_lost, &slot);

	if (n)
		*n += 1;
}

static __always_inline int call_enter(void *ssl, const void *buf, __u64 num, void *len_ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tls_call c = {};

	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	c.ssl = (__u64)ssl;
	c.buf = (__u64)buf;
	c.len_ptr = (__u64)len_ptr;
	c.len = num;
	c.start_ns = bpf_ktime_get_ns();
	c.fd = -1;
	bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY);
	return 0;
}

/* void SSL_free(SSL *ssl): the SSL* may be reused by the next connection */
static __always_inline int ssl_free(void *ssl)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ssl_key key = {};
	struct aa_rec_tls_free *rec;

	if (!ssl || !bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	key.ssl = (__u64)ssl;
	key.tgid = tgid;
	bpf_map_delete_elem(&ssl_fds, &key);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(AA_TLS_LOSS_FREE);
		return 0;
	}
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.pid = tgid;
	rec->hdr.tid = (__u32)id;
	rec->hdr.type = AA_REC_TLS_FREE;
	rec->hdr.flags = 0;
	rec->hdr.size = sizeof(*rec);
	bpf_get_current_comm(rec->hdr.comm, sizeof(rec->hdr.comm));
	rec->ssl = (__u64)ssl;
	bpf_ringbuf_submit(rec, wake_flags());
	return 0;
}

static __always_inline int aead_seal(struct pt_regs *ctx);
static __always_inline int aead_open_enter(struct pt_regs *ctx);

/* SSL_free(ssl), SSL_write/SSL_read(ssl, buf, int num) and
 * SSL_write_ex/SSL_read_ex(ssl, buf, size_t num, size_t *moved): the cookie says which. */
static __always_inline int entry(struct pt_regs *ctx)
{
	__u32 func = bpf_get_attach_cookie(ctx) & 0xff;
	void *ssl = (void *)PT_REGS_PARM1(ctx);
	const void *buf = (const void *)PT_REGS_PARM2(ctx);
	int num;

	if (func == AA_TLS_FUNC_FREE || func == AA_TLS_AEAD_INIT)
		return ssl_free(ssl);
	if (func == AA_TLS_FUNC_NEW)
		return 0;	/* return probe only */
	if (func == AA_TLS_AEAD_SEAL)
		return aead_seal(ctx);
	if (func == AA_TLS_AEAD_OPEN)
		return aead_open_enter(ctx);
	if (func == AA_TLS_SSL_WRITE_EX || func == AA_TLS_SSL_READ_EX)
		return call_enter(ssl, buf, PT_REGS_PARM3(ctx), (void *)PT_REGS_PARM4(ctx));
	num = (int)PT_REGS_PARM3(ctx);
	return call_enter(ssl, buf, num < 0 ? 0 : (__u64)num, NULL);
}

/* Two copies of each program: one attached per function with a classic uprobe, one
 * loaded as BPF_TRACE_UPROBE_MULTI (Linux 6.6) where the kernel has it; one multi link
 * hooks every function of a library and detaches with a single RCU grace period. The
 * recorder loads only the pair it can use. */
SEC("uprobe")
int tls_entry(struct pt_regs *ctx)
{
	return entry(ctx);
}

SEC("uprobe")
int tls_entry_multi(struct pt_regs *ctx)
{
	return entry(ctx);
}

struct emit_ctx {
	struct tls_call *call;
	__u64 n;		/* bytes moved by the call */
	__u64 cookie;
	__u64 pid_tgid;
	__u32 slot;
	__s32 fd;
	char comm[AA_COMM_LEN];
};

static long emit_chunk(__u32 i, void *arg)
{
	struct emit_ctx *e = arg;
	__u64 off = (__u64)i * AA_TLS_CHUNK;
	__u32 zero = 0;
	struct aa_rec_tls_data *rec;
	struct tls_scratch *s;
	__u64 len;
	__u16 flags = 0;

	if (off >= e->n && !(off == 0 && e->n == 0))
		return 1;
	s = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!s)
		return 1;
	rec = (struct aa_rec_tls_data *)s->bytes;
	len = e->n - off;
	if (len > AA_TLS_CHUNK)
		len = AA_TLS_CHUNK;
	/* keep the bound visible to the verifier after clang's rewrites */
	asm volatile("%[len] &= %[mask]" : [len] "+r"(len) : [mask] "i"(2 * AA_TLS_CHUNK - 1));
	if (len > AA_TLS_CHUNK)
		return 1;
	if (len && bpf_probe_read_user(rec->data, len, (const void *)(e->call->buf + off))) {
		len = 0;
		flags |= AA_TLS_F_FAULT;
	}
	if (i == AA_TLS_MAX_CHUNKS - 1 && off + len < e->n)
		flags |= AA_TLS_F_CUT;
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.pid = e->pid_tgid >> 32;
	rec->hdr.tid = (__u32)e->pid_tgid;
	rec->hdr.type = AA_REC_TLS_DATA;
	rec->hdr.flags = flags;
	rec->hdr.size = sizeof(*rec) + len;
	__builtin_memcpy(rec->hdr.comm, e->comm, AA_COMM_LEN);
	rec->ssl = e->call->ssl;
	rec->call_id = e->call->start_ns;
	rec->call_len = e->n;
	rec->chunk_off = off;
	rec->cookie = e->cookie;
	rec->fd = e->fd;
	rec->data_len = len;
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec) + len, wake_flags()))
		count_lost(e->slot);
	return e->n == 0 ? 1 : 0;
}

static __always_inline int is_read_func(__u32 func)
{
	return func == AA_TLS_SSL_READ || func == AA_TLS_SSL_READ_EX;
}

static __always_inline int call_exit(struct pt_regs *ctx, __u32 func)
{
	int ex = func == AA_TLS_SSL_WRITE_EX || func == AA_TLS_SSL_READ_EX;
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	struct tls_call call;
	struct emit_ctx e = {};
	struct ssl_key key = {};
	int ret = (int)PT_REGS_RC(ctx);
	__u64 n = 0;
	__s32 *known_fd;

	if (!c)
		return 0;
	call = *c;
	bpf_map_delete_elem(&tls_calls, &id);

	key.ssl = call.ssl;
	key.tgid = id >> 32;
	if (call.fd >= 0) {
		bpf_map_update_elem(&ssl_fds, &key, &call.fd, BPF_ANY);
	} else {
		known_fd = bpf_map_lookup_elem(&ssl_fds, &key);
		if (known_fd) {
			call.fd = *known_fd;
		} else if (is_read_func(func)) {
			/* the recv that brought these bytes came just before */
			known_fd = bpf_map_lookup_elem(&thread_sock_fd, &id);
			if (known_fd) {
				call.fd = *known_fd;
				bpf_map_update_elem(&ssl_fds, &key, &call.fd, BPF_ANY);
			}
		} else {
			/* the send of these bytes comes next: sys_enter fills ssl_fds */
			bpf_map_update_elem(&write_pending, &id, &call.ssl, BPF_ANY);
		}
	}

	if (ex) {
		/* 1 on success with the count behind the pointer, 0 on failure */
		if (ret != 1 || !call.len_ptr)
			return 0;
		if (bpf_probe_read_user(&n, sizeof(n), (const void *)call.len_ptr))
			return 0;
	} else {
		if (ret <= 0)
			return 0;
		n = (__u64)ret;
	}
	if (n > call.len)
		n = call.len;
	if (n == 0)
		return 0;

	e.call = &call;
	e.n = n;
	e.cookie = bpf_get_attach_cookie(ctx);
	e.pid_tgid = id;
	e.slot = e.cookie & 0xff;
	if (e.slot >= AA_TLS_FUNC_COUNT)
		e.slot = AA_TLS_SSL_WRITE;
	e.fd = call.fd;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_loop(AA_TLS_MAX_CHUNKS, emit_chunk, &e, 0);
	return 0;
}

/* ---- aws-lc AEAD (rustls): one TLS record per call ---- */

#define TLS_APPLICATION_DATA 0x17

/* How many bytes of a record's plaintext are application data, 0 for anything else
 * (handshake, alert, a record that cannot be read). The additional data says which
 * TLS: 5 bytes (the record header) in TLS 1.3, where the plaintext ends with the inner
 * content type and optional zero padding; 13 bytes in TLS 1.2 (seq, type, version,
 * length), whose type is ad[8] and whose plaintext is all data. */
static __always_inline __u64 aead_app_len(__u64 buf, __u64 len, __u64 ad, __u64 ad_len)
{
	__u8 type = 0;
	int i;

	if (ad_len == 13) {
		if (bpf_probe_read_user(&type, 1, (const void *)(ad + 8)))
			return 0;
		return type == TLS_APPLICATION_DATA ? len : 0;
	}
	if (ad_len != 5)
		return 0;
	/* the last non-zero byte; padding longer than 32 bytes is not looked through */
	for (i = 0; i < 32; i++) {
		if (len == 0)
			return 0;
		if (bpf_probe_read_user(&type, 1, (const void *)(buf + len - 1)))
			return 0;
		len--;
		if (type)
			return type == TLS_APPLICATION_DATA ? len : 0;
	}
	return 0;
}

static __always_inline int aead_emit(struct tls_call *call, __u64 n, __u64 cookie, __u64 id, __u32 slot)
{
	struct emit_ctx e = {};

	e.call = call;
	e.n = n;
	e.cookie = cookie;
	e.pid_tgid = id;
	e.slot = slot;
	e.fd = call->fd;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_loop(AA_TLS_MAX_CHUNKS, emit_chunk, &e, 0);
	return 0;
}

/* x86-64 SysV: the 7th and later arguments are on the stack, above the return address. */
static __always_inline int stack_args(struct pt_regs *ctx, __u64 *a, __u32 size)
{
#if defined(__TARGET_ARCH_x86)
	return bpf_probe_read_user(a, size, (const void *)(PT_REGS_SP(ctx) + 8));
#else
	return -1;
#endif
}

/* int EVP_AEAD_CTX_seal(ctx, out, *out_len, max_out_len, nonce, nonce_len, in, in_len,
 * ad, ad_len): the plaintext is read at entry (rustls seals in place). */
static __always_inline int aead_seal(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tls_call call = {};
	struct ssl_key key = {};
	__u64 a[4];	/* in, in_len, ad, ad_len */
	__s32 *known_fd;
	__u64 n;

	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	if (stack_args(ctx, a, sizeof(a)))
		return 0;
	n = aead_app_len(a[0], a[1], a[2], a[3]);
	if (n == 0)
		return 0;
	call.ssl = PT_REGS_PARM1(ctx);
	call.buf = a[0];
	call.len = n;
	call.start_ns = bpf_ktime_get_ns();
	call.fd = -1;
	key.ssl = call.ssl;
	key.tgid = tgid;
	known_fd = bpf_map_lookup_elem(&ssl_fds, &key);
	if (known_fd)
		call.fd = *known_fd;
	else
		bpf_map_update_elem(&aead_write_pending, &id, &call.ssl, BPF_ANY);
	return aead_emit(&call, n, bpf_get_attach_cookie(ctx), id, AA_TLS_LOSS_AEAD_SEAL);
}

/* int EVP_AEAD_CTX_open(ctx, out, *out_len, max_out_len, nonce, nonce_len, in, in_len,
 * ad, ad_len): the plaintext is out[0, *out_len) at return. */
static __always_inline int aead_open_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tls_call c = {};
	__u64 a[4];

	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	if (stack_args(ctx, a, sizeof(a)))
		return 0;
	c.ssl = PT_REGS_PARM1(ctx);
	c.buf = PT_REGS_PARM2(ctx);
	c.len_ptr = PT_REGS_PARM3(ctx);
	c.len = PT_REGS_PARM4(ctx);
	c.ad = a[2];
	c.ad_len = a[3];
	c.start_ns = bpf_ktime_get_ns();
	c.fd = -1;
	bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY);
	return 0;
}

static __always_inline int aead_open_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	struct tls_call call;
	struct ssl_key key = {};
	__s32 *known_fd;
	__u64 n = 0;

	if (!c)
		return 0;
	call = *c;
	bpf_map_delete_elem(&tls_calls, &id);
	if ((int)PT_REGS_RC(ctx) != 1 || !call.len_ptr)
		return 0;
	if (bpf_probe_read_user(&n, sizeof(n), (const void *)call.len_ptr))
		return 0;
	if (n > call.len)
		n = call.len;
	n = aead_app_len(call.buf, n, call.ad, call.ad_len);
	if (n == 0)
		return 0;
	key.ssl = call.ssl;
	key.tgid = id >> 32;
	/* the recv that brought this record came before: the thread's last one */
	known_fd = bpf_map_lookup_elem(&thread_sock_fd, &id);
	if (known_fd) {
		call.fd = *known_fd;
		bpf_map_update_elem(&ssl_fds, &key, &call.fd, BPF_ANY);
	} else {
		known_fd = bpf_map_lookup_elem(&ssl_fds, &key);
		if (known_fd)
			call.fd = *known_fd;
	}
	return aead_emit(&call, n, bpf_get_attach_cookie(ctx), id, AA_TLS_LOSS_AEAD_OPEN);
}

static __always_inline int leave(struct pt_regs *ctx)
{
	__u32 func = bpf_get_attach_cookie(ctx) & 0xff;

	/* SSL *SSL_new(SSL_CTX *): the address returned is a new connection */
	if (func == AA_TLS_FUNC_NEW)
		return ssl_free((void *)PT_REGS_RC(ctx));
	if (func == AA_TLS_AEAD_OPEN)
		return aead_open_exit(ctx);
	return call_exit(ctx, func);
}

SEC("uretprobe")
int tls_return(struct pt_regs *ctx)
{
	return leave(ctx);
}

SEC("uretprobe")
int tls_return_multi(struct pt_regs *ctx)
{
	return leave(ctx);
}

/* Syscalls through which OpenSSL's socket BIO moves bytes; their first argument is
 * the fd. Numbers are per architecture. */
static __always_inline int is_socket_io(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 0 || nr == 1 || nr == 19 || nr == 20 || nr == 44 || nr == 45 ||
	       nr == 46 || nr == 47;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 63 || nr == 64 || nr == 65 || nr == 66 || nr == 206 || nr == 207 ||
	       nr == 211 || nr == 212;
#else
	return 0;
#endif
}

/* send/recv family: socket-only calls (read/write also serve files) */
static __always_inline int is_send(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 44 || nr == 46;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 206 || nr == 211;
#else
	return 0;
#endif
}

static __always_inline int is_recv(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 45 || nr == 47;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 207 || nr == 212;
#else
	return 0;
#endif
}

/* write, writev and the send family (rustls writes its records with writev) */
static __always_inline int nr_is_write(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 1 || nr == 20 || nr == 44 || nr == 46;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 64 || nr == 66 || nr == 206 || nr == 211;
#else
	return 0;
#endif
}

#define AA_S_IFMT 0170000
#define AA_S_IFSOCK 0140000

/* The current task's fd is a socket (write/writev also serve files). */
static __always_inline int is_socket_fd(__s32 fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;
	umode_t mode;

	if (fd < 0)
		return 0;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	max = BPF_CORE_READ(t, files, fdt, max_fds);
	if ((unsigned int)fd >= max)
		return 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	return (mode & AA_S_IFMT) == AA_S_IFSOCK;
}

static __always_inline void emit_fd(__u64 id, __u64 ssl, __s32 fd)
{
	struct aa_rec_tls_fd *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);

	if (!rec) {
		count_lost(AA_TLS_LOSS_FD);
		return;
	}
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.pid = id >> 32;
	rec->hdr.tid = (__u32)id;
	rec->hdr.type = AA_REC_TLS_FD;
	rec->hdr.flags = 0;
	rec->hdr.size = sizeof(*rec);
	bpf_get_current_comm(rec->hdr.comm, sizeof(rec->hdr.comm));
	rec->ssl = ssl;
	rec->fd = fd;
	rec->pad = 0;
	bpf_ringbuf_submit(rec, wake_flags());
}

SEC("raw_tp/sys_enter")
int tls_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	__u64 id;
	__u32 tgid;
	__s32 fd;
	__u64 *ssl;
	struct tls_call *c;
	struct pt_regs *regs;
	struct ssl_key key = {};

	/* runs for every syscall of the machine: the free test first */
	if (!is_socket_io(nr))
		return 0;
	id = bpf_get_current_pid_tgid();
	regs = (struct pt_regs *)ctx->args[0];
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (c) {
		if (c->fd < 0)
			c->fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
		return 0;
	}
	/* rustls: the records just sealed go out in this thread's next socket write */
	ssl = bpf_map_lookup_elem(&aead_write_pending, &id);
	if (ssl && !is_recv(nr) && nr_is_write(nr)) {
		fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
		if (is_socket_fd(fd)) {
			key.ssl = *ssl;
			key.tgid = id >> 32;
			bpf_map_update_elem(&ssl_fds, &key, &fd, BPF_ANY);
			bpf_map_delete_elem(&aead_write_pending, &id);
			emit_fd(id, key.ssl, fd);
		}
	}
	/* outside an SSL_* call: learn where a memory-BIO stack does its I/O */
	if (!is_send(nr) && !is_recv(nr))
		return 0;
	tgid = id >> 32;
	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	bpf_map_update_elem(&thread_sock_fd, &id, &fd, BPF_ANY);
	if (is_send(nr)) {
		ssl = bpf_map_lookup_elem(&write_pending, &id);
		if (ssl) {
			key.ssl = *ssl;
			key.tgid = tgid;
			bpf_map_update_elem(&ssl_fds, &key, &fd, BPF_ANY);
			bpf_map_delete_elem(&write_pending, &id);
		}
	}
	return 0;
}

struct vma_out {
	__u64 ino;
	__u32 dev;
	__u32 has_file;
};

static long vma_file(struct task_struct *task, struct vm_area_struct *vma, void *arg)
{
	struct vma_out *out = arg;
	struct file *f = BPF_CORE_READ(vma, vm_file);

	if (!f)
		return 0;
	out->has_file = 1;
	out->ino = BPF_CORE_READ(f, f_inode, i_ino);
	out->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	return 0;
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#else
	return -1;
#endif
}

static __always_inline int is_mmap(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 9;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 222;
#else
	return 0;
#endif
}

static __always_inline int is_mprotect(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 10;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 226;
#else
	return 0;
#endif
}

/* An executable file mapping by a traced process: report it once per file. Runs for
 * every syscall exit of the machine, so the syscall number is tested first. */
static __always_inline int on_sys_exit(struct pt_regs *regs, long nr, long ret)
{
	__u64 id;
	__u32 tgid;
	struct vma_out out = {};
	struct file_key fk = {};
	struct aa_rec_tls_mmap *rec;
	__u64 addr;

	if (is_mmap(nr)) {
		if (ret < 0 && ret > -4096)
			return 0;
		addr = (__u64)ret;
	} else if (is_mprotect(nr)) {
		if (ret != 0)
			return 0;
		addr = PT_REGS_PARM1_CORE_SYSCALL(regs);
	} else {
		return 0;
	}
	if (!(PT_REGS_PARM3_CORE_SYSCALL(regs) & PROT_EXEC))
		return 0;
	id = bpf_get_current_pid_tgid();
	tgid = id >> 32;
	if (!bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	/* anonymous executable memory (JIT code) has no library to look at */
	bpf_find_vma(bpf_get_current_task_btf(), addr, vma_file, &out, 0);
	if (!out.has_file)
		return 0;
	fk.ino = out.ino;
	fk.dev = out.dev;
	if (bpf_map_lookup_elem(&tls_seen_files, &fk))
		return 0;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(AA_TLS_LOSS_MMAP);
		return 0;
	}
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.pid = tgid;
	rec->hdr.tid = (__u32)id;
	rec->hdr.type = AA_REC_TLS_MMAP;
	rec->hdr.flags = 0;
	rec->hdr.size = sizeof(*rec);
	bpf_get_current_comm(rec->hdr.comm, sizeof(rec->hdr.comm));
	rec->ino = out.ino;
	rec->dev = out.dev;
	rec->pad = 0;
	/* wake the recorder now: the sooner it attaches, the fewer SSL calls of a freshly
	 * loaded library run unhooked */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* The syscall number costs a helper call through raw_tp (an untyped pointer) and a
 * plain load through tp_btf (a BTF pointer, Linux 5.5); the recorder loads tp_btf where
 * it can. */
SEC("raw_tp/sys_exit")
int tls_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	return on_sys_exit(regs, syscall_nr(regs), (long)ctx->args[1]);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tls_sys_exit_btf, struct pt_regs *regs, long ret)
{
#if defined(__TARGET_ARCH_x86)
	return on_sys_exit(regs, regs->orig_ax, ret);
#elif defined(__TARGET_ARCH_arm64)
	return on_sys_exit(regs, regs->syscallno, ret);
#else
	return 0;
#endif
}
