#!/bin/bash
# Recorder overhead: each workload untraced, under aa-record, strace -f, perf trace and
# a bpftrace script printing every syscall exit of the workload. Prints a Markdown
# table (the figures in docs/PERFORMANCE.md, "## Recorder").
#
# usage: sudo bench/recorder/run.sh [BUILD_DIR]        (default: build)
#   env N_FILE=100000  iterations of the file loop (4 syscalls each)
#       N_EXEC=300     fork+exec+wait of /bin/true in the exec storm
#       DIV=20         the slow tracers (strace, perf, bpftrace) run N/DIV iterations
#       REPS=3         untraced and aa-record runs are repeated; the median is kept
#
# Slowdown = time per operation traced / untraced, from the workload's own clock
# around its loop (tracer startup excluded). For the paced loop (100k syscalls/s, so
# wall time is fixed) slowdown compares CPU time instead. Recorder CPU is aa-record's
# own user+system time including its start (probe loading), i.e. /usr/bin/time of
# aa-record minus the workload's CPU.
set -euo pipefail

build=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
record=$build/aa-record
session=$build/aa-session
work=$build/aa_bench_workload
[ -x "$work" ] || work=$build/aa_test_workload
for t in "$record" "$session" "$work"; do
  [ -x "$t" ] || { echo "run.sh: $t missing: build aa-record aa-session aa_bench_workload" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (BPF)" >&2; exit 1; }

N_FILE=${N_FILE:-100000}
N_EXEC=${N_EXEC:-300}
DIV=${DIV:-20}
REPS=${REPS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files"

# field NAME LINE: the value of NAME=... in a "wall_s=.. cpu_s=.. ops=.." line
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# run_plain ARGS...: the workload's report line
run_plain() { "$work" "$@" 2>&1 >/dev/null | grep wall_s; }

# run_record OPTS -- ARGS...: sets rep (report line), total_cpu, events, lost, bytes
run_record() {
  local opts=() out=$tmp/s.aas
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  rm -f "$out" "$out-index"
  /usr/bin/time -f "time %U %S" -o "$tmp/time" "$record" -q "${opts[@]}" -o "$out" -- "$work" "$@" \
    2>"$tmp/err" >/dev/null
  rep=$(grep wall_s "$tmp/err")
  total_cpu=$(awk '/^time/ {print $2 + $3}' "$tmp/time")
  local info
  info=$("$session" info "$out")
  events=$(sed -n 's/^events: *\([0-9]*\).*/\1/p' <<<"$info")
  lost=$(sed -n 's/^lost events: *\([0-9]*\).*/\1/p' <<<"$info")
  bytes=$(stat -c %s "$out")
}

# one_tracer NAME CMD...: report line of the workload under a slow tracer
one_tracer() {
  local name=$1
  shift
  case $name in
    strace) strace -f -o /dev/null "$work" "$@" 2>&1 >/dev/null | grep wall_s ;;
    perf) perf trace -o /dev/null -- "$work" "$@" 2>&1 >/dev/null | grep wall_s ;;
    bpftrace)
      # every syscall exit of the workload, plus the process lifecycle of everyone
      bpftrace -o /dev/null -e '
        tracepoint:raw_syscalls:sys_exit /pid == cpid/ { printf("%d %d\n", args->id, args->ret); }
        tracepoint:sched:sched_process_exec { printf("exec %d %s\n", pid, str(args->filename)); }
        tracepoint:sched:sched_process_exit { printf("exit %d\n", pid); }' \
        -c "$work $*" 2>&1 | grep wall_s ;;
  esac
}

echo "| workload | tracer | time/op | slowdown | events/s | lost | bytes/event | recorder CPU |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"

row() {  # workload tracer per_op_us slowdown events_per_s lost bytes_per_event rec_cpu
  printf '| %s | %s | %s µs | %s× | %s | %s | %s | %s |\n' "$@"
}

bench_workload() {  # label paced(0/1) n-index args... (args[n-index] is N, divided for slow tracers)
  local label=$1 paced=$2 nidx=$3
  shift 3
  local args=("$@") n=${args[$nidx]}
  local metric=wall_s
  [ "$paced" = 1 ] && metric=cpu_s

  local base_vals=() v
  for _ in $(seq "$REPS"); do
    v=$(run_plain "${args[@]}")
    base_vals+=("$(calc "$(field $metric "$v") / $(field ops "$v") * 1e6" 3)")
  done
  local base
  base=$(printf '%s\n' "${base_vals[@]}" | median)
  row "$label" untraced "$base" 1.00 - - - -

  local mode
  for mode in summary calls; do
    [ "$label" = "exec storm" ] && [ "$mode" = calls ] && continue
    local per=() ev_s=() lost_v=() bpe=() rcpu=()
    for _ in $(seq "$REPS"); do
      run_record "--io=$mode" -- "${args[@]}"
      local ops wall cpu
      ops=$(field ops "$rep"); wall=$(field wall_s "$rep"); cpu=$(field cpu_s "$rep")
      per+=("$(calc "$(field $metric "$rep") / $ops * 1e6" 3)")
      ev_s+=("$(calc "$events / $wall" 0)")
      lost_v+=("$lost")
      bpe+=("$(calc "$bytes / $events" 1)")
      rcpu+=("$(calc "$total_cpu - $cpu" 2)")
    done
    local p
    p=$(printf '%s\n' "${per[@]}" | median)
    row "$label" "aa-record --io=$mode" "$p" "$(calc "$p / $base")" \
      "$(printf '%s\n' "${ev_s[@]}" | median)" "$(printf '%s\n' "${lost_v[@]}" | sort -n | tail -1)" \
      "$(printf '%s\n' "${bpe[@]}" | median)" "$(printf '%s\n' "${rcpu[@]}" | median) s"
  done

  local slow=("${args[@]}") tracer
  slow[$nidx]=$((n / DIV))
  for tracer in strace perf bpftrace; do
    v=$(one_tracer "$tracer" "${slow[@]}" || true)
    if [ -z "$v" ]; then
      row "$label" "$tracer" failed - - - - -
      continue
    fi
    local p
    p=$(calc "$(field $metric "$v") / $(field ops "$v") * 1e6" 3)
    row "$label" "$tracer" "$p" "$(calc "$p / $base")" - - - -
  done
}

bench_workload "file loop, full speed" 0 2 fileloop "$tmp/files" "$N_FILE"
bench_workload "file loop, 100k syscalls/s" 1 2 fileloop "$tmp/files" "$N_FILE" 100000
bench_workload "exec storm" 0 1 spawn "$N_EXEC" /bin/true
