#!/usr/bin/env bash
# Fails when BPF code outside bpf/arch.bpf.h and bpf/syscalls.h reads a syscall register
# by name or tests the target architecture: such code would compile for arm64 against
# an x86-64 vmlinux.h and read the wrong register there (docs/ADDING_PROBES.md).
set -euo pipefail
bpf=${1:?usage: bpf_arch_guard.sh BPF_SOURCE_DIR}
regs='(di|si|dx|cx|ax|bx|bp|r8|r9|r10|r11|orig_ax|syscallno|orig_x0|regs\[[0-9]+\])'
mapfile -t files < <(find "$bpf" -maxdepth 1 \( -name '*.bpf.c' -o -name '*.bpf.h' \) \
                       ! -name arch.bpf.h | sort)
[ ${#files[@]} -ge 3 ] || { echo "bpf_arch_guard: no BPF sources found in $bpf" >&2; exit 1; }
hits=$(grep -nE -- "->${regs}\b|__TARGET_ARCH_|[^_]NR_[a-z0-9_]+ +[0-9]+|nr *[=!]= *[0-9]+" \
       "${files[@]}" || true)
if [ -n "$hits" ]; then
  echo "bpf_arch_guard: architecture-specific register or syscall number outside bpf/arch.bpf.h / bpf/syscalls.h:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "bpf_arch_guard: ${#files[@]} files clean: ${files[*]##*/}"
