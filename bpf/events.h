/* Raw ring-buffer records shared by the BPF programs (bpf/*.bpf.c) and the recorder's
 * decoder (recorder/). Plain C, fixed-size types only, no pointers. Raw records never
 * leave recorder/: the decoder turns them into schema events.
 *
 * Every record starts with struct aa_rec_header; `size` is the whole record's size in
 * bytes (records are sized to their payload, never to the worst case).
 */
#ifndef AA_BPF_EVENTS_H
#define AA_BPF_EVENTS_H

#ifdef __BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define AA_COMM_LEN 16

enum aa_rec_type {
	/* process and file records: bpf/aa.bpf.c (recorder core) */
	AA_REC_EXEC = 1,
	AA_REC_FORK = 2,
	AA_REC_EXIT = 3,
	/* 4..99: file and network records, defined below by the core */

	/* TLS records: bpf/tls.bpf.c (recorder/tls_capture.*) */
	AA_REC_TLS_DATA = 100,
	/* 101..149: more TLS records, defined in the TLS section below */

	/* loss reports */
	AA_REC_LOST = 200,
};

struct aa_rec_header {
	__u64 ts_ns;      /* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u32 pid;        /* tgid */
	__u32 tid;
	__u16 type;       /* enum aa_rec_type */
	__u16 flags;
	__u32 size;       /* whole record, header included */
	char comm[AA_COMM_LEN];
};

/* ---- core records (owned by bpf/aa.bpf.c) ---- */

/* ---- TLS records (owned by bpf/tls.bpf.c) ---- */

/* Payload bytes per AA_REC_TLS_DATA record at most: a larger SSL call becomes several
 * records (chunks) of the same call. A power of two (the BPF side masks with it). */
#define AA_TLS_CHUNK 16384
/* Chunks per SSL call at most (AA_TLS_CHUNK * this = 1 GiB); beyond, flagged truncated. */
#define AA_TLS_MAX_CHUNKS 65536

enum aa_tls_rec_type {
	/* AA_REC_TLS_DATA = 100 (above): struct aa_rec_tls_data */
	AA_REC_TLS_MMAP = 101,	/* struct aa_rec_tls_mmap */
};

enum aa_tls_func {
	AA_TLS_SSL_WRITE = 0,
	AA_TLS_SSL_WRITE_EX = 1,
	AA_TLS_SSL_READ = 2,
	AA_TLS_SSL_READ_EX = 3,
	AA_TLS_FUNC_COUNT = 4,
};

/* aa_rec_header.flags of AA_REC_TLS_DATA */
#define AA_TLS_F_FAULT 0x1	/* the user buffer could not be read: data_len is 0 */
#define AA_TLS_F_CUT   0x2	/* the call had more than AA_TLS_MAX_CHUNKS chunks */

/* Loss counters (per-CPU array `tls_lost`): failed ring-buffer writes per probe. */
enum aa_tls_loss_slot {
	AA_TLS_LOSS_SSL_WRITE = 0,	/* same order as enum aa_tls_func */
	AA_TLS_LOSS_SSL_WRITE_EX = 1,
	AA_TLS_LOSS_SSL_READ = 2,
	AA_TLS_LOSS_SSL_READ_EX = 3,
	AA_TLS_LOSS_MMAP = 4,
	AA_TLS_LOSS_SLOTS = 5,
};

/* The uprobe's bpf cookie: (library index << 8) | enum aa_tls_func. The library index
 * is the recorder's (recorder/tls_capture.cc), so a record names the file hooked. */
#define AA_TLS_COOKIE(lib, func) (((__u64)(lib) << 8) | (func))

/* One chunk of the plaintext moved by one SSL_* call (at the call's return).
 * Chunks of a call share call_id and call_len; chunk_off is data[0]'s offset in the
 * call. The recorder turns chunk_off into an offset within the connection. */
struct aa_rec_tls_data {
	struct aa_rec_header hdr;
	__u64 ssl;		/* the SSL* (an address in the process) */
	__u64 call_id;		/* unique per call (entry time, ns) */
	__u64 call_len;		/* bytes the call moved in total */
	__u64 chunk_off;	/* offset of data[0] within the call */
	__u64 cookie;		/* AA_TLS_COOKIE of the uprobe */
	__s32 fd;		/* socket fd from a syscall under this SSL*, -1 unknown */
	__u32 data_len;		/* bytes in data[], <= AA_TLS_CHUNK */
	__u8 data[];
};

/* A traced process mapped a file executable (mmap/mprotect with PROT_EXEC): a library
 * that may hold OpenSSL (Python dlopens libssl). The recorder rescans the process
 * unless it has examined this inode already. */
struct aa_rec_tls_mmap {
	struct aa_rec_header hdr;
	__u64 ino;		/* inode of the mapped file, 0 unknown */
	__u32 dev;		/* its superblock dev, kernel encoding (major << 20 | minor) */
	__u32 pad;
};

#endif /* AA_BPF_EVENTS_H */
