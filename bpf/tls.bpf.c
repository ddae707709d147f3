// SPDX-License-Identifier: GPL-2.0
/* OpenSSL plaintext capture: uprobes at entry and return of SSL_write, SSL_write_ex,
 * SSL_read and SSL_read_ex, served by syscall work (bpf/tls_sys.bpf.h: the socket fd
 * of a connection, executable mappings of libraries loaded later) that runs in the
 * recorder core's sys_enter/sys_exit pair.
 *
 * The recorder core owns the maps of bpf/common.bpf.h and bpf/tls_sys.bpf.h;
 * recorder/tls_capture.cc reuses them (bpf_map__reuse_fd) before load, so this object
 * sees the same traced tree, ring and TLS state as the core's syscall hooks.
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

#include "common.bpf.h"
#include "events.h"
#include "tls_sys.bpf.h"

char LICENSE[] SEC("license") = "GPL";

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

static __always_inline int call_enter(void *ssl, const void *buf, __u64 num, void *len_ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *traced;
	struct tls_call c = {};

	traced = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (!traced)
		return 0;
	mark_tls_user(traced);
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
		tls_count_lost(AA_TLS_LOSS_FREE);
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
		tls_count_lost(e->slot);
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

/* int EVP_AEAD_CTX_seal(ctx, out, *out_len, max_out_len, nonce, nonce_len, in, in_len,
 * ad, ad_len): the plaintext is read at entry (rustls seals in place). */
static __always_inline int aead_seal(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *traced;
	struct tls_call call = {};
	struct ssl_key key = {};
	__u64 a[4];	/* in, in_len, ad, ad_len */
	__s32 *known_fd;
	__u64 n;

	traced = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (!traced)
		return 0;
	mark_tls_user(traced);
	if (aa_uprobe_args_7_10(ctx, a))
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
	__u32 tgid = id >> 32, *traced;
	struct tls_call c = {};
	__u64 a[4];

	traced = bpf_map_lookup_elem(&traced_pids, &tgid);
	if (!traced)
		return 0;
	mark_tls_user(traced);
	if (aa_uprobe_args_7_10(ctx, a))
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

/* The syscall work (bpf/tls_sys.bpf.h) runs in the core's sys_enter/sys_exit pair when
 * the recorder core is loaded. These two programs are for a TlsCapture used alone (its
 * tests): the recorder does not attach them beside the core. */
SEC("raw_tp/sys_enter")
int tls_sys_enter_raw(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	long nr = (long)ctx->args[1];

	/* runs for every syscall of the machine: the free test first */
	__u32 *traced;

	if (!is_socket_io(nr) || !(traced = bpf_map_lookup_elem(&traced_pids, &tgid)) ||
	    !(*traced & AA_TRACED_TLS))
		return 0;
	tls_sys_enter((struct pt_regs *)ctx->args[0], nr, id);
	return 0;
}

static __always_inline int sys_exit_alone(struct pt_regs *regs, long nr, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if ((!is_mmap(nr) && !is_mprotect(nr)) || !bpf_map_lookup_elem(&traced_pids, &tgid))
		return 0;
	tls_sys_exit(regs, nr, ret);
	return 0;
}

SEC("raw_tp/sys_exit")
int tls_sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = AA_SC_NR_CORE(regs);

	return sys_exit_alone(regs, nr, (long)ctx->args[1]);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tls_sys_exit_btf, struct pt_regs *regs, long ret)
{
	return sys_exit_alone(regs, AA_SC_NR(regs), ret);
}
