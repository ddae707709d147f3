/* The TLS capture's state shared by its uprobes (bpf/tls.bpf.c) and its syscall work,
 * and that syscall work itself. The work runs inside the recorder core's one
 * sys_enter/sys_exit pair (bpf/aa.bpf.c), after the core's early return for untraced
 * tasks, so every syscall on the machine runs one program pair, not two; tls.bpf.c
 * keeps a pair of its own for a TlsCapture used without the core (its tests).
 *  - sys_enter learns the socket fd of a connection from the read/write/send/recv
 *    syscall a thread makes while inside an SSL_* call (struct offsets inside SSL
 *    change between OpenSSL versions; the syscall does not), or next to it (memory
 *    BIOs, rustls);
 *  - sys_exit reports executable file mappings (mmap/mprotect with PROT_EXEC) of traced
 *    processes, so the recorder finds libraries loaded after exec (Python dlopens
 *    libssl).
 * The core's object owns these maps; the TLS object reuses them. Kernel style. */
#ifndef AA_TLS_SYS_BPF_H
#define AA_TLS_SYS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "arch.bpf.h"
#include "common.bpf.h"
#include "compat.bpf.h"
#include "events.h"

#define AA_PROT_EXEC 0x4

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

/* Where the socket I/O happens outside the SSL_* call (memory BIOs: Bun's uSockets
 * calls recv before SSL_read and send after SSL_write, Node's libuv read and write):
 * the last socket a traced thread read or wrote, and an SSL* whose write has not been
 * seen on a socket yet. They fill ssl_fds when no syscall ran inside the call. */
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

/* Files the recorder has examined: their mappings are not reported again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct aa_seen_file);
	__type(value, __u8);
} tls_seen_files SEC(".maps");

static __always_inline void tls_count_lost(__u32 slot)
{
	count_lost(AA_TLS_LOSS_BASE + slot);
}

/* Syscalls through which OpenSSL's socket BIO moves bytes; their first argument is
 * the fd. Numbers are per architecture (bpf/syscalls.h). */
static __always_inline int is_socket_io(long nr)
{
	return nr == NR_read || nr == NR_write || nr == NR_readv || nr == NR_writev ||
	       nr == NR_sendto || nr == NR_recvfrom || nr == NR_sendmsg || nr == NR_recvmsg;
}

/* send/recv family: socket-only calls (read/write also serve files) */
static __always_inline int is_send(long nr)
{
	return nr == NR_sendto || nr == NR_sendmsg;
}

static __always_inline int is_recv(long nr)
{
	return nr == NR_recvfrom || nr == NR_recvmsg;
}

/* write, writev and the send family (rustls writes its records with writev) */
static __always_inline int nr_is_write(long nr)
{
	return nr == NR_write || nr == NR_writev || nr == NR_sendto || nr == NR_sendmsg;
}

static __always_inline int is_mmap(long nr)
{
	return nr == NR_mmap;
}

static __always_inline int is_mprotect(long nr)
{
	return nr == NR_mprotect;
}

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

static __always_inline void emit_fd(__u64 ssl, __s32 fd)
{
	struct aa_rec_tls_fd *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);

	if (!rec) {
		tls_count_lost(AA_TLS_LOSS_FD);
		return;
	}
	fill_header(&rec->hdr, AA_REC_TLS_FD, sizeof(*rec));
	rec->ssl = ssl;
	rec->fd = fd;
	rec->pad = 0;
	bpf_ringbuf_submit(rec, wake_flags());
}

/* A syscall of a traced thread (`id` = pid_tgid) enters: the TLS capture's part. */
static __always_inline void tls_sys_enter(struct pt_regs *regs, long nr, __u64 id)
{
	__s32 fd;
	__u64 *ssl;
	struct tls_call *c;
	struct ssl_key key = {};

	if (!is_socket_io(nr))
		return;
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (c) {
		if (c->fd < 0)
			c->fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
		return;
	}
	/* Outside an SSL_* call: a memory-BIO stack (Bun's uSockets, Node's libuv) or
	 * rustls does its socket I/O around the calls. read and write serve files too, so
	 * their fd must be a socket (this runs only for processes that made a TLS call). */
	fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (!is_send(nr) && !is_recv(nr) && !is_socket_fd(fd))
		return;
	/* the recv that brings an SSL_read's bytes comes just before it */
	bpf_map_update_elem(&thread_sock_fd, &id, &fd, BPF_ANY);
	if (!nr_is_write(nr))
		return;
	/* the bytes just encrypted go out in this thread's next socket write */
	key.tgid = id >> 32;
	ssl = bpf_map_lookup_elem(&aead_write_pending, &id);
	if (ssl) {
		key.ssl = *ssl;
		bpf_map_update_elem(&ssl_fds, &key, &fd, BPF_ANY);
		bpf_map_delete_elem(&aead_write_pending, &id);
		emit_fd(key.ssl, fd);
	}
	ssl = bpf_map_lookup_elem(&write_pending, &id);
	if (ssl) {
		key.ssl = *ssl;
		bpf_map_update_elem(&ssl_fds, &key, &fd, BPF_ANY);
		bpf_map_delete_elem(&write_pending, &id);
	}
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

/* A syscall of a traced thread returns: an executable file mapping is reported once
 * per file. */
static __always_inline void tls_sys_exit(struct pt_regs *regs, long nr, long ret)
{
	struct vma_out out = {};
	struct aa_seen_file fk = {};
	struct aa_rec_tls_mmap *rec;
	__u8 *seen;
	__u64 addr;

	if (is_mmap(nr)) {
		if (ret < 0 && ret > -4096)
			return;
		addr = (__u64)ret;
	} else if (is_mprotect(nr)) {
		if (ret != 0)
			return;
		addr = PT_REGS_PARM1_CORE_SYSCALL(regs);
	} else {
		return;
	}
	if (!(PT_REGS_PARM3_CORE_SYSCALL(regs) & AA_PROT_EXEC))
		return;
	/* anonymous executable memory (JIT code) has no library to look at */
	bpf_find_vma(bpf_get_current_task_btf(), addr, vma_file, &out, 0);
	if (!out.has_file)
		return;
	fk.ino = out.ino;
	fk.dev = out.dev;
	seen = bpf_map_lookup_elem(&tls_seen_files, &fk);
	if (seen && *seen != AA_SEEN_HOOKED)
		return;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		tls_count_lost(AA_TLS_LOSS_MMAP);
		return;
	}
	fill_header(&rec->hdr, AA_REC_TLS_MMAP, sizeof(*rec));
	rec->ino = out.ino;
	rec->dev = out.dev;
	rec->pad = 0;
	/* a new file: wake the recorder now (the sooner it attaches, the fewer SSL calls
	 * of a freshly loaded library run unhooked); a hooked one is only bookkeeping */
	bpf_ringbuf_submit(rec, seen ? wake_flags() : BPF_RB_FORCE_WAKEUP);
}

#endif /* AA_TLS_SYS_BPF_H */
