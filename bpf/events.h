/* Raw ring-buffer records shared by the BPF programs (bpf/NAME.bpf.c) and the recorder's
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
	AA_REC_FILE_OP = 4,   /* struct aa_rec_file_op: path-based and fd-based operations */
	AA_REC_CLOSE = 5,     /* struct aa_rec_close: an open file's summary */
	AA_REC_IO = 6,        /* struct aa_rec_io: one read/write call (--io=calls) */
	AA_REC_ADOPT = 7,     /* struct aa_rec_adopt: a file the process got without open() */
	AA_REC_CONNECT = 8,   /* struct aa_rec_connect */

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

/* Loss counters: one per-CPU array, `lost_counts` (bpf/common.bpf.h), shared by both
 * objects. Slots 0 .. AA_PROBE_COUNT-1 are the core's (enum aa_probe), then
 * AA_TLS_LOSS_BASE + enum aa_tls_loss_slot the TLS capture's; AA_LOSS_SLOTS in all.
 * A slot counts ring-buffer writes that failed in that probe (or a full table). */
#define AA_TLS_LOSS_BASE ((int)AA_PROBE_COUNT)
#define AA_LOSS_SLOTS (AA_TLS_LOSS_BASE + (int)AA_TLS_LOSS_SLOTS)

/* Probes of bpf/aa.bpf.c: their slots of `lost_counts`. */
enum aa_probe {
	AA_PROBE_EXEC = 0,
	AA_PROBE_FORK = 1,
	AA_PROBE_EXIT = 2,
	AA_PROBE_SYS_ENTER = 3,
	AA_PROBE_SYS_EXIT = 4,
	/* not ring-buffer reserves but the same kind of loss: a table was full */
	AA_LOSS_OPEN_FILES_FULL = 5,   /* an open file not tracked: no close summary */
	AA_LOSS_TRACED_PIDS_FULL = 6,  /* a child not traced */
	AA_PROBE_COUNT = 7,
};

/* Bounds. A "walked" path is a kernel path (struct path) written as its components
 * from the leaf up to the root, each NUL-terminated: "c\0b\0a\0" is /a/b/c, an empty
 * walk is "/". The decoder reverses it. */
#define AA_PATH_MAX 4096       /* user path strings, NUL included */
#define AA_WALK_MAX 4096       /* bytes of one walked path */
#define AA_WALK_DEPTH 64       /* components of one walked path */
#define AA_ARGV_MAX 4096       /* argv bytes captured at exec */
#define AA_REC_MAX 32768       /* no record is larger */

/* aa_rec_header.flags */
#define AA_F_TRUNCATED (1 << 0)       /* argv was cut at AA_ARGV_MAX */
#define AA_F_PATH_TRUNCATED (1 << 1)  /* the first walked path was cut at its bound */
#define AA_F_PATH2_TRUNCATED (1 << 2) /* the second walked path was cut at its bound */
#define AA_F_IN_ROOT (1 << 3)         /* path1 is resolved with base1 as its root (openat2
                                       * RESOLVE_IN_ROOT): "/x" names base1's x */

/* exec: data = walked executable path, walked cwd, argv (NUL-separated, as in
 * /proc/PID/cmdline), then the file name given to execve (bprm->filename, NUL
 * included: "./s.sh" where the executable walked is the script's interpreter).
 * AA_F_TRUNCATED: argv longer than AA_ARGV_MAX; AA_F_PATH_TRUNCATED: the executable's
 * walk was cut; AA_F_PATH2_TRUNCATED: the cwd's. */
struct aa_rec_exec {
	struct aa_rec_header h;
	__u32 uid;
	__u32 gid;
	__u32 ppid;
	__u16 path_len;
	__u16 cwd_len;
	__u16 argv_len;
	__u16 filename_len;
	/* the executable's identity (the kernel's s_dev encoding, as aa_seen_file): what
	 * the recorder checks a file at the path against before it examines it */
	__u32 exe_dev;
	__u64 exe_ino;
	char data[];
};

struct aa_rec_fork {
	struct aa_rec_header h;
	__u32 child;        /* tgid of the new process */
	__u32 pad;
};

struct aa_rec_exit {
	struct aa_rec_header h;
	__s32 code;         /* wait status as in waitpid(): (code << 8) | signal */
	__u32 pad;
};

enum aa_file_opcode {
	AA_OP_OPEN = 1,     /* path1; flags, mode; ret = fd; file set when a regular file */
	AA_OP_RENAME = 2,   /* path1 -> path2; flags */
	AA_OP_UNLINK = 3,
	AA_OP_MKDIR = 4,    /* mode */
	AA_OP_RMDIR = 5,
	AA_OP_TRUNCATE = 6, /* arg = length; fd >= 0: ftruncate, path in base1 */
	AA_OP_CHMOD = 7,    /* mode; fd >= 0: fchmod, path in base1 */
	AA_OP_SYMLINK = 8,  /* path1 = link target as passed, path2 = new link */
	AA_OP_CHDIR = 9,    /* success: base1 = new cwd, path1 empty */
	AA_OP_LINK = 10,    /* path1 (existing) -> path2 (new name); linkat flags */
	AA_OP_CHOWN = 11,   /* mode = uid, arg = gid as passed (u32, -1 unchanged); flags =
			     * fchownat flags (lchown: AT_SYMLINK_NOFOLLOW); fd >= 0: fchown */
};

/* A file operation. Each of the two paths is a user string (pathN, NUL included, or
 * empty) plus a base (baseN, walked): the directory a relative user string is relative
 * to (the cwd or the dirfd), or for fd-based operations the file itself. Absolute user
 * strings come without base. data = path1, base1, path2, base2 (lengths below).
 * AA_F_PATH_TRUNCATED: base1's walk was cut; AA_F_PATH2_TRUNCATED: base2's. */
struct aa_rec_file_op {
	struct aa_rec_header h;
	__s64 ret;          /* result: fd or 0, or -errno */
	__u64 file;         /* struct file * opened (AA_OP_OPEN of a regular file), else 0 */
	__s64 arg;          /* AA_OP_TRUNCATE: length */
	__u32 flags;        /* open flags, renameat2 flags */
	__u32 mode;
	__s32 fd;           /* fd argument of fd-based operations, else -1 */
	__u16 op;           /* enum aa_file_opcode */
	__u16 path1_len;
	__u16 base1_len;
	__u16 path2_len;
	__u16 base2_len;
	__u16 pad;
	char data[];
};

enum aa_close_reason {
	AA_CLOSE_EXPLICIT = 0,   /* same values as schema CloseReason */
	AA_CLOSE_EXIT = 1,
	AA_CLOSE_EXEC = 2,
	AA_CLOSE_REPLACED = 3,
};

/* An open file's I/O summary, when the process's last fd referring to it goes away.
 * The path is the one the decoder learned from the AA_OP_OPEN or AA_REC_ADOPT record
 * of the same (pid, file). */
struct aa_rec_close {
	struct aa_rec_header h;
	__u64 file;
	__u64 bytes_read;
	__u64 bytes_written;
	__u32 reads;
	__u32 writes;
	__s32 fd;           /* -1 when closed by exit or exec */
	__u32 reason;       /* enum aa_close_reason */
};

/* One read or write call on a tracked regular file (only with --io=calls). */
struct aa_rec_io {
	struct aa_rec_header h;
	__u64 file;
	__s64 ret;          /* bytes moved, or -errno */
	__s32 fd;
	__u32 write;        /* 1: a write-family call, 0: read-family */
};

/* The process read or wrote a regular file it did not open itself (inherited across
 * fork, or opened before recording began); from now on it is tracked like an opened
 * one. data = walked path of the file. */
struct aa_rec_adopt {
	struct aa_rec_header h;
	__u64 file;
	__s32 fd;
	__u16 path_len;
	__u16 pad;
	char data[];
};

/* connect(2). addr: 4 (AF_INET) or 16 (AF_INET6) bytes in network order, or the
 * AF_UNIX path (addr_len bytes, abstract names start with NUL). */
struct aa_rec_connect {
	struct aa_rec_header h;
	__s64 ret;
	__s32 fd;
	__u16 family;
	__u16 port;         /* host order */
	__u16 addr_len;
	__u16 pad[3];
	__u8 addr[];
};

/* ---- TLS records (owned by bpf/tls.bpf.c) ---- */

/* Payload bytes per AA_REC_TLS_DATA record at most: a larger SSL call becomes several
 * records (chunks) of the same call. A power of two (the BPF side masks with it). */
#define AA_TLS_CHUNK 16384
/* Chunks per SSL call at most (AA_TLS_CHUNK * this = 1 GiB); beyond, flagged truncated. */
#define AA_TLS_MAX_CHUNKS 65536

enum aa_tls_rec_type {
	/* AA_REC_TLS_DATA = 100 (above): struct aa_rec_tls_data */
	AA_REC_TLS_MMAP = 101,	/* struct aa_rec_tls_mmap */
	AA_REC_TLS_FREE = 102,	/* struct aa_rec_tls_free */
	AA_REC_TLS_FD = 103,	/* struct aa_rec_tls_fd */
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
#define AA_TLS_F_IOV_CUT 0x4	/* plain socket: bytes of the call past its first
				 * AA_PLAIN_MAX_IOV buffers were not captured; this
				 * record has no data and chunk_off is where they begin */
#define AA_TLS_F_UNSEEN 0x8	/* plain socket: bytes moved by sendfile or splice, which
				 * pass no user buffer: not captured; no data, call_len
				 * says how many */

/* TLS loss slots, at AA_TLS_LOSS_BASE + slot in `lost_counts`: failed ring-buffer
 * writes per probe. */
enum aa_tls_loss_slot {
	AA_TLS_LOSS_SSL_WRITE = 0,	/* same order as enum aa_tls_func */
	AA_TLS_LOSS_SSL_WRITE_EX = 1,
	AA_TLS_LOSS_SSL_READ = 2,
	AA_TLS_LOSS_SSL_READ_EX = 3,
	AA_TLS_LOSS_MMAP = 4,
	AA_TLS_LOSS_FREE = 5,
	AA_TLS_LOSS_AEAD_SEAL = 6,
	AA_TLS_LOSS_AEAD_OPEN = 7,
	AA_TLS_LOSS_FD = 8,
	AA_TLS_LOSS_PLAIN_WRITE = 9,	/* plain sockets (AA_TLS_SOCK_*), bpf/plain_sys.bpf.h */
	AA_TLS_LOSS_PLAIN_READ = 10,
	AA_TLS_LOSS_PLAIN_CLOSE = 11,
	AA_TLS_LOSS_SLOTS = 12,
};

/* SSL_free, hooked like the functions above (entry only): its cookie's function part. */
#define AA_TLS_FUNC_FREE 0xff
/* SSL_new, hooked at return only where SSL_free cannot be found (BoringSSL without
 * symbols): the SSL* it returns starts a new connection, reported as an
 * AA_REC_TLS_FREE of that address (whatever used it before has ended). */
#define AA_TLS_FUNC_NEW 0xfe
/* aws-lc's AEAD entry points (rustls over aws-lc-rs, recorder/tls_discovery.h): one TLS
 * record per call. AA_REC_TLS_DATA with these funcs carries a record's application data
 * (content type 0x17 only, the TLS 1.3 inner type byte and padding stripped); `ssl` is
 * the AEAD context, one per direction and key: the recorder joins them into connections
 * by socket fd. EVP_AEAD_CTX_init* (entry) starts a context: AA_REC_TLS_FREE of it. */
#define AA_TLS_AEAD_SEAL 0xfd	/* EVP_AEAD_CTX_seal, at entry: the plaintext `in` */
#define AA_TLS_AEAD_OPEN 0xfc	/* EVP_AEAD_CTX_open, at return: `out`, `*out_len` */
#define AA_TLS_AEAD_INIT 0xfb	/* EVP_AEAD_CTX_init(_with_direction), at entry */

/* Plain (unencrypted) TCP sockets: no uprobe, the bytes are the socket's own reads and
 * writes, taken by the core's sys_exit (bpf/plain_sys.bpf.h) on a connection whose first
 * write was an HTTP/1.x request line or the h2c preface. AA_REC_TLS_DATA with these funcs
 * has `ssl` = the connection (AA_PLAIN_CONN_BIT | the connect's time, unique per
 * connect), `fd` = the socket, and the cookie's upper bits (where the library index goes
 * for a uprobe) the syscall, enum aa_sock_call. A close of such a socket is an
 * AA_REC_TLS_FREE of its `ssl`. */
#define AA_TLS_SOCK_WRITE 0xfa	/* write, writev, sendto, sendmsg: at sys_exit */
#define AA_TLS_SOCK_READ 0xf9	/* read, readv, recvfrom, recvmsg: at sys_exit */
#define AA_PLAIN_CONN_BIT (1ULL << 62)	/* never set in an address (SSL*), nor in AEAD
					 * join keys (recorder/aead_join.h: bit 63) */
#define AA_PLAIN_MAX_IOV 16	/* iovecs of a writev/readv/sendmsg/recvmsg walked */

enum aa_sock_call {
	AA_SOCK_WRITE = 0,
	AA_SOCK_WRITEV = 1,
	AA_SOCK_SENDTO = 2,
	AA_SOCK_SENDMSG = 3,
	AA_SOCK_READ = 4,
	AA_SOCK_READV = 5,
	AA_SOCK_RECVFROM = 6,
	AA_SOCK_RECVMSG = 7,
	AA_SOCK_SENDFILE = 8,	/* AA_TLS_F_UNSEEN records only */
	AA_SOCK_SPLICE = 9,
	AA_SOCK_CALL_COUNT = 10,
};

/* The uprobe's bpf cookie: (library index << 8) | enum aa_tls_func. The library index
 * is the recorder's (recorder/tls_capture.cc), so a record names the file hooked. */
#define AA_TLS_COOKIE(lib, func) (((__u64)(lib) << 8) | (func))

/* Key of `tls_seen_files` (bpf/tls_sys.bpf.h): a file (superblock dev in the kernel's
 * encoding, inode) the recorder has examined for TLS. Written by
 * recorder/tls_capture.cc; the value says what is reported of its executable mappings:
 *   AA_SEEN_EXAMINED  nothing more (no TLS hooks in it)
 *   AA_SEEN_HOOKED    each one, without waking the recorder: which processes use a
 *                     hooked TLS library is what the blind-spot report needs, and a
 *                     re-read of /proc/PID/maps could come before the loader mapped it */
#define AA_SEEN_EXAMINED 1
#define AA_SEEN_HOOKED 2
struct aa_seen_file {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

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

/* SSL_free(ssl) in a traced process, or SSL_new returning ssl (AA_TLS_FUNC_NEW): the
 * connection at that address ends; a later SSL* at the same address is another
 * connection. */
struct aa_rec_tls_free {
	struct aa_rec_header hdr;
	__u64 ssl;
};

/* The socket fd of an AEAD write context learned after its records were sent (the
 * send/write of a socket the thread makes after EVP_AEAD_CTX_seal). */
struct aa_rec_tls_fd {
	struct aa_rec_header hdr;
	__u64 ssl;		/* the AEAD context */
	__s32 fd;
	__u32 pad;
};

#endif /* AA_BPF_EVENTS_H */
