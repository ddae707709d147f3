/* CO-RE shims for bpf/aa.bpf.c: every kernel difference the BPF side papers over is
 * here, each with the change it exists for. Kernel style. */
#ifndef AA_COMPAT_BPF_H
#define AA_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* Not in vmlinux.h (macros, not types). */
#define AA_S_IFMT 00170000
#define AA_S_IFREG 0100000
#define AA_S_IFSOCK 0140000
#define AA_AT_FDCWD -100
#define AA_AF_UNIX 1
#define AA_AF_INET 2
#define AA_AF_INET6 10

/* struct mount is private to fs/ but present in BTF; CO-RE finds `mnt` inside it on
 * every kernel (its offset moved when mnt_hash/mnt_rcu were reordered). */
static __always_inline struct mount *aa_real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline struct vfsmount *aa_vfsmount(struct mount *mnt)
{
	return (struct vfsmount *)((void *)mnt + bpf_core_field_offset(struct mount, mnt));
}

/* The file installed at `fd` in `task`'s table, or NULL. `task` must be a trusted BTF
 * pointer (bpf_get_current_task_btf()): the walk to the fd array uses direct loads,
 * which cost a fraction of a probe-read helper call; only the array slot (a pointer to
 * pointer, opaque to the verifier) is probe-read. files->fdt is RCU-managed and
 * tracing programs run under RCU, so a concurrent resize yields a stale, valid table. */
static __always_inline struct file *aa_fd_file(struct task_struct *task, int fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;

	if (!files || fd < 0)
		return NULL;
	fdt = files->fdt;
	if (!fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline bool aa_is_regular(struct file *f)
{
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);

	return (mode & AA_S_IFMT) == AA_S_IFREG;
}

/* Whether the exiting thread is the last of its thread group. The sched_process_exit
 * tracepoint gained a group_dead argument only in 6.16; signal->live has been
 * decremented before the tracepoint fires on every kernel with BPF ring buffers. */
static __always_inline bool aa_group_dead(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, live.counter) == 0;
}

/* The exit status in waitpid() format. A group exit (exit_group(2) or a fatal signal)
 * stores the status in signal->group_exit_code; a single exit(2) in task->exit_code. */
static __always_inline int aa_exit_status(struct task_struct *task)
{
	unsigned int flags = BPF_CORE_READ(task, signal, flags);

	/* SIGNAL_GROUP_EXIT = 0x4 since 2.6 */
	if (flags & 0x4)
		return BPF_CORE_READ(task, signal, group_exit_code);
	return BPF_CORE_READ(task, exit_code);
}

#endif /* AA_COMPAT_BPF_H */
