/* The per-architecture syscall ABI as the sys_enter/sys_exit probes see it: syscall
 * numbers (bpf/syscalls.h) and where the saved user registers keep the syscall number
 * and arguments. The other BPF sources name no register and no number of their own
 * (the unit test tests/recorder/bpf_arch_guard.sh fails if one appears).
 *
 *   AA_SC_ARGn(regs)      argument n (0-4) by direct load: a tp_btf BTF pointer, or a
 *                         copy of the registers in a map value
 *   AA_SC_NR(regs)        the syscall number, by direct load
 *   AA_SC_NR_CORE(regs)   the same through a probe read (an untyped raw_tp pointer)
 *   aa_sc_regs            the register block type: its size is what a copy takes
 *   aa_uprobe_args_7_10() a function's 7th to 10th integer arguments at its entry
 *                         (uprobes; libbpf's PT_REGS_PARMn stop before)
 *
 * Arguments are read at sys_exit too, once the result is known: the entry code saves
 * the user registers and the syscall does not change the saved arguments.
 *
 * vmlinux.h comes from the build host's kernel (x86-64 on ours), so another
 * architecture's pt_regs cannot come from it: its layout is a local CO-RE flavour
 * (pt_regs___aa_<arch>, preserve_access_index) that libbpf relocates against the
 * running kernel's BTF at load time, and that compiles against any vmlinux.h.
 * Kernel style. */
#ifndef AA_ARCH_BPF_H
#define AA_ARCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "syscalls.h"

#if defined(__TARGET_ARCH_x86)

/* x86-64: arguments in di, si, dx, r10, r8, r9; the number in orig_ax (ax is the
 * result at sys_exit). The layout is vmlinux.h's own, so x86-64 objects build on
 * x86-64 hosts (bpf/CMakeLists.txt cross-compiles arm64 only). */
typedef struct pt_regs aa_sc_regs;

#define AA_SC_ARG0(regs) ((regs)->di)
#define AA_SC_ARG1(regs) ((regs)->si)
#define AA_SC_ARG2(regs) ((regs)->dx)
#define AA_SC_ARG3(regs) ((regs)->r10)
#define AA_SC_ARG4(regs) ((regs)->r8)
#define AA_SC_NR(regs) ((regs)->orig_ax)
#define AA_SC_NR_CORE(regs) BPF_CORE_READ(regs, orig_ax)

/* SysV: six arguments in registers, the rest on the stack above the return address. */
static __always_inline int aa_uprobe_args_7_10(struct pt_regs *ctx, __u64 a[4])
{
	return bpf_probe_read_user(a, 4 * sizeof(__u64), (const void *)(PT_REGS_SP(ctx) + 8));
}

#elif defined(__TARGET_ARCH_arm64)

/* arm64 (arch/arm64/include/asm/ptrace.h): the user registers x0-x30, sp, pc, pstate
 * (struct user_pt_regs, in an anonymous union that CO-RE looks through), then
 * orig_x0 and syscallno. Arguments are in x0-x5, the number in syscallno; x0 is
 * overwritten with the result, so the first argument is taken from orig_x0 (saved by
 * el0_svc_common before sys_enter fires), at entry and exit alike. Only the fields up
 * to syscallno are declared: a copy (raw_tp) takes that prefix, whose layout is the
 * user ABI plus two fields unchanged since arm64 was merged. */
struct pt_regs___aa_arm64 {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
	__u64 orig_x0;
	__s32 syscallno;
	__u32 pad;
} __attribute__((preserve_access_index));

typedef struct pt_regs___aa_arm64 aa_sc_regs;

#define AA_ARM64_REGS(regs) ((const struct pt_regs___aa_arm64 *)(regs))
#define AA_SC_ARG0(regs) (AA_ARM64_REGS(regs)->orig_x0)
#define AA_SC_ARG1(regs) (AA_ARM64_REGS(regs)->regs[1])
#define AA_SC_ARG2(regs) (AA_ARM64_REGS(regs)->regs[2])
#define AA_SC_ARG3(regs) (AA_ARM64_REGS(regs)->regs[3])
#define AA_SC_ARG4(regs) (AA_ARM64_REGS(regs)->regs[4])
#define AA_SC_NR(regs) ((long)AA_ARM64_REGS(regs)->syscallno)
#define AA_SC_NR_CORE(regs) ((long)BPF_CORE_READ(AA_ARM64_REGS(regs), syscallno))

/* libbpf's PT_REGS_PARMn/RC/SP for arm64 cast to struct user_pt_regs, which an
 * x86-64 vmlinux.h does not have. The local flavour has the same leading fields
 * (regs[], sp, pc), and a uprobe's context is the kernel's pt_regs, so the
 * relocated offsets are the ones the verifier allows for the context. */
#undef __PT_REGS_CAST
#define __PT_REGS_CAST(x) AA_ARM64_REGS(x)

/* AAPCS64: eight arguments in x0-x7, the rest on the stack from sp at entry. */
static __always_inline int aa_uprobe_args_7_10(struct pt_regs *ctx, __u64 a[4])
{
	a[0] = AA_ARM64_REGS(ctx)->regs[6];
	a[1] = AA_ARM64_REGS(ctx)->regs[7];
	return bpf_probe_read_user(&a[2], 2 * sizeof(__u64), (const void *)PT_REGS_SP(ctx));
}

#else
#error "bpf/arch.bpf.h: no syscall register layout for this target"
#endif

#endif /* AA_ARCH_BPF_H */
