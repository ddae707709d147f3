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

#endif /* AA_BPF_EVENTS_H */
