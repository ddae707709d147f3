/* bpf/syscalls.h against the kernel's own numbers: bpf/CMakeLists.txt compiles this
 * (syntax only, for the build host) once per table, with -D__TARGET_ARCH_<arch>, as
 * part of the default build, so a wrong number fails the build. The uapi headers are
 * the build host's linux-libc-dev: x86-64's table is <asm/unistd_64.h> (x86 hosts);
 * the generic table, arm64's, is <asm-generic/unistd.h> (every Linux host). */
#if defined(__TARGET_ARCH_x86)
#include <asm/unistd_64.h>
#elif defined(__TARGET_ARCH_arm64)
#define __ARCH_WANT_RENAMEAT	/* as arch/arm64/include/uapi/asm/unistd.h */
#include <asm-generic/unistd.h>
#endif

#include "syscalls.h"

#define SAME(name)                                                                         \
	_Static_assert(NR_##name == __NR_##name,                                           \
		       "bpf/syscalls.h: NR_" #name " is not the kernel's __NR_" #name)

SAME(read);
SAME(write);
SAME(close);
SAME(mmap);
SAME(mprotect);
SAME(pread64);
SAME(pwrite64);
SAME(readv);
SAME(writev);
SAME(dup);
SAME(dup3);
SAME(sendfile);
SAME(connect);
SAME(sendto);
SAME(recvfrom);
SAME(sendmsg);
SAME(recvmsg);
SAME(truncate);
SAME(ftruncate);
SAME(fcntl);
SAME(chdir);
SAME(fchdir);
SAME(fchmod);
SAME(fchown);
SAME(openat);
SAME(mkdirat);
SAME(unlinkat);
SAME(renameat);
SAME(linkat);
SAME(symlinkat);
SAME(fchmodat);
SAME(fchownat);
SAME(preadv);
SAME(pwritev);
SAME(renameat2);
SAME(preadv2);
SAME(pwritev2);
SAME(copy_file_range);
SAME(splice);
SAME(close_range);
SAME(openat2);
/* fchmodat2 is from 6.6 (Debian 12's headers are 6.1); numbers from 424 on are the
 * same on every architecture, so the one case is checked where headers have it */
#ifdef __NR_fchmodat2
SAME(fchmodat2);
#else
#pragma message("bpf/syscalls.h: NR_fchmodat2 not checked: the host's uapi headers predate Linux 6.6")
#endif

#if AA_NR_LEGACY
SAME(open);
SAME(creat);
SAME(rename);
SAME(link);
SAME(unlink);
SAME(mkdir);
SAME(rmdir);
SAME(symlink);
SAME(chmod);
SAME(chown);
SAME(lchown);
SAME(dup2);
#elif defined(__NR_open) || defined(__NR_creat) || defined(__NR_rename) ||                \
	defined(__NR_link) || defined(__NR_unlink) || defined(__NR_mkdir) ||              \
	defined(__NR_rmdir) || defined(__NR_symlink) || defined(__NR_chmod) ||            \
	defined(__NR_chown) || defined(__NR_lchown) || defined(__NR_dup2)
#error "bpf/syscalls.h: AA_NR_LEGACY is 0 but the kernel's table has the legacy path syscalls"
#endif

/* Every wanted number fits sys_exit's bitmap (bpf/aa.bpf.c asserts the same). */
_Static_assert(NR_fchmodat2 < AA_NR_BITMAP && NR_openat2 < AA_NR_BITMAP &&
		       NR_close_range < AA_NR_BITMAP,
	       "bpf/syscalls.h: a number is outside AA_NR_BITMAP");
