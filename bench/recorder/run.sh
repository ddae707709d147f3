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
# around its loop (tracer startup excluded), as wall time and as the workload's CPU time
# (for the paced loop, 100k syscalls/s, wall time is fixed by the pacing: read CPU).
# Untraced and aa-record runs alternate; medians of REPS. Recorder CPU is aa-record's
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

echo "| workload | tracer | time/op | wall slowdown | CPU slowdown | events/s | lost | bytes/event | recorder CPU |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"

row() {  # workload tracer per_op_us wall_x cpu_x events_per_s lost bytes_per_event rec_cpu
  printf '| %s | %s | %s µs | %s× | %s× | %s | %s | %s | %s |\n' "$@"
}

bench_workload() {  # label paced(0/1) n-index args... (args[n-index] is N, divided for slow tracers)
  local label=$1 paced=$2 nidx=$3
  shift 3
  local args=("$@") n=${args[$nidx]}
  local modes=(summary calls)
  [ "$label" = "exec storm" ] && modes=(summary)

  # Untraced and traced runs alternate, so that load drifting on a shared machine
  # hits both alike; medians over REPS.
  local -A wall cpu evs lostm bpe rcpu
  local v r mode ops
  for r in $(seq "$REPS"); do
    v=$(run_plain "${args[@]}")
    ops=$(field ops "$v")
    wall[base,$r]=$(calc "$(field wall_s "$v") / $ops * 1e6" 3)
    cpu[base,$r]=$(calc "$(field cpu_s "$v") / $ops * 1e6" 3)
    for mode in "${modes[@]}"; do
      run_record "--io=$mode" -- "${args[@]}"
      ops=$(field ops "$rep")
      wall[$mode,$r]=$(calc "$(field wall_s "$rep") / $ops * 1e6" 3)
      cpu[$mode,$r]=$(calc "$(field cpu_s "$rep") / $ops * 1e6" 3)
      evs[$mode,$r]=$(calc "$events / $(field wall_s "$rep")" 0)
      lostm[$mode,$r]=$lost
      bpe[$mode,$r]=$(calc "$bytes / $events" 1)
      rcpu[$mode,$r]=$(calc "$total_cpu - $(field cpu_s "$rep")" 2)
    done
  done
  med() {  # med ARRAY-NAME KEY
    local -n arr=$1
    for r in $(seq "$REPS"); do echo "${arr[$2,$r]}"; done | median
  }
  local bw bc
  bw=$(med wall base)
  bc=$(med cpu base)
  # the time/op column shows wall time, or CPU time when paced
  local shown=$bw
  [ "$paced" = 1 ] && shown=$bc
  row "$label" untraced "$shown" 1.00 1.00 - - - -
  for mode in "${modes[@]}"; do
    local w c
    w=$(med wall "$mode")
    c=$(med cpu "$mode")
    local t=$w
    [ "$paced" = 1 ] && t=$c
    row "$label" "aa-record --io=$mode" "$t" "$(calc "$w / $bw")" "$(calc "$c / $bc")" \
      "$(med evs "$mode")" "$(for r in $(seq "$REPS"); do echo "${lostm[$mode,$r]}"; done | sort -n | tail -1)" \
      "$(med bpe "$mode")" "$(med rcpu "$mode") s"
  done

  local slow=("${args[@]}") tracer
  slow[$nidx]=$((n / DIV))
  for tracer in strace perf bpftrace; do
    v=$(one_tracer "$tracer" "${slow[@]}" || true)
    if [ -z "$v" ]; then
      row "$label" "$tracer" failed - - - - - -
      continue
    fi
    ops=$(field ops "$v")
    local w c t
    w=$(calc "$(field wall_s "$v") / $ops * 1e6" 3)
    c=$(calc "$(field cpu_s "$v") / $ops * 1e6" 3)
    t=$w
    [ "$paced" = 1 ] && t=$c
    row "$label" "$tracer" "$t" "$(calc "$w / $bw")" "$(calc "$c / $bc")" - - - -
  done
}

bench_workload "file loop, full speed" 0 2 fileloop "$tmp/files" "$N_FILE"
bench_workload "file loop, 100k syscalls/s" 1 2 fileloop "$tmp/files" "$N_FILE" 100000
bench_workload "exec storm" 0 1 spawn "$N_EXEC" /bin/true
