/* Syscall numbers of the architectures the BPF objects are built for: the only place
 * they are written. Plain C with no includes, so that a host compile can check every
 * table against the kernel's uapi headers (bpf/syscalls_check.c, built by default).
 *
 * NR_* names each syscall the probes have work for. The legacy path syscalls (open,
 * creat, rename, link, unlink, mkdir, rmdir, symlink, chmod, chown, lchown, dup2)
 * exist on x86-64
 * only: architectures on the generic table (include/uapi/asm-generic/unistd.h, arm64
 * among them) never had them, and AA_NR_LEGACY is 0 there, so the code that handles
 * them compiles out rather than compare against a made-up number (a user may pass any
 * number to syscall(2), and sys_enter sees it).
 *
 * Adding an architecture: one more table here, its argument registers in
 * bpf/arch.bpf.h, its target name in bpf/CMakeLists.txt. */
#ifndef AA_SYSCALLS_H
#define AA_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)

/* x86-64: arch/x86/entry/syscalls/syscall_64.tbl */
#define AA_NR_LEGACY 1
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_mmap 9
#define NR_mprotect 10
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_dup 32
#define NR_dup2 33
#define NR_sendfile 40
#define NR_connect 42
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
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
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_openat 257
#define NR_mkdirat 258
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchownat 260
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

#elif defined(__TARGET_ARCH_arm64)

/* arm64: the generic table, include/uapi/asm-generic/unistd.h, with
 * __ARCH_WANT_RENAMEAT (arch/arm64/include/uapi/asm/unistd.h) */
#define AA_NR_LEGACY 0
#define NR_dup 23
#define NR_dup3 24
#define NR_fcntl 25
#define NR_mkdirat 34
#define NR_unlinkat 35
#define NR_symlinkat 36
#define NR_linkat 37
#define NR_renameat 38
#define NR_truncate 45
#define NR_ftruncate 46
#define NR_chdir 49
#define NR_fchdir 50
#define NR_fchmod 52
#define NR_fchmodat 53
#define NR_fchownat 54
#define NR_fchown 55
#define NR_openat 56
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_pread64 67
#define NR_pwrite64 68
#define NR_preadv 69
#define NR_pwritev 70
#define NR_sendfile 71
#define NR_splice 76
#define NR_connect 203
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_mmap 222
#define NR_mprotect 226
#define NR_renameat2 276
#define NR_copy_file_range 285
#define NR_preadv2 286
#define NR_pwritev2 287
#define NR_close_range 436
#define NR_openat2 437
#define NR_fchmodat2 452

#else
#error "bpf/syscalls.h: no syscall table for this target; define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

/* Every number above is below this: sys_exit's bitmap of wanted syscalls has this
 * many bits (bpf/aa.bpf.c). */
#define AA_NR_BITMAP 512

#endif /* AA_SYSCALLS_H */
