#!/bin/bash
# Recorder overhead, side by side in one run: each workload untraced, under the floor
# (aa_bench_floor: an empty tp_btf sys_enter/sys_exit pair with one tgid hash lookup,
# bench/recorder/floor.bpf.c), aa-record (default: summaries per open file), bpftrace
# (one printf per syscall of the workload), strace -f and perf trace. Prints Markdown
# tables (docs/PERFORMANCE.md, "## Recorder").
#
# usage: sudo bench/recorder/run.sh [BUILD_DIR]        (default: build)
#   env N_FILE=100000  iterations of the file loop (open, read, pwrite, close: 4 ops)
#       N_EXEC=200     fork+exec+wait of /bin/true in the exec storm
#       DIV=20         strace, perf and bpftrace run N_FILE/DIV iterations of the file loop
#       REPS=5         every configuration runs REPS times, interleaved round by round;
#                      medians shown
#       WORKLOADS="fileloop others exec"   which to run:
#         fileloop  the file loop, traced
#         others    the same file loop NOT traced, while each tracer traces a `sleep`
#                   elsewhere on the machine: what tracing costs everyone else
#         exec      the exec storm, traced
#         burst     two file loops at once (one per CPU) under aa-record --io=calls
#                   (a record per syscall), default ring: the highest event rate
#                   this machine produces; events, loss, and the CPU per event of
#                   aa-record's draining thread and of its writing thread ("aa-write")
#       IO_CALLS=1         also aa-record --io=calls
#
# Slowdown = time per op under the tracer / untraced, from the workload's own clock
# around its loop (tracer start-up excluded): wall time, and the workload's CPU time
# (user + system, where BPF programs run). "vs floor" is aa-record's CPU slowdown minus
# the floor's. Recorder CPU is aa-record's own user+system time for the whole run,
# start-up included (/usr/bin/time of aa-record minus the workload's CPU).
set -euo pipefail

build=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
record=$build/aa-record
session=$build/aa-session
work=$build/aa_bench_workload
floor=$build/aa_bench_floor
for t in "$record" "$session" "$work" "$floor"; do
  [ -x "$t" ] || { echo "run.sh: $t missing: build aa-record aa-session aa_bench_workload aa_bench_floor" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (BPF)" >&2; exit 1; }
for t in strace perf bpftrace /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "run.sh: $t not found (Debian: strace linux-perf bpftrace time)" >&2; exit 1; }
done

bench=run.sh
source "$(dirname "$0")/common.sh"
bench_tracefs "$@"

N_FILE=${N_FILE:-100000}
N_EXEC=${N_EXEC:-200}
DIV=${DIV:-20}
REPS=${REPS:-5}
WORKLOADS=${WORKLOADS:-fileloop others exec burst}
IO_CALLS=${IO_CALLS:-0}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-bench.XXXXXX")
bg=""
cleanup() {
  set +e
  [ -n "$bg" ] && kill "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/files" "$tmp/other"


tracers=(untraced floor "aa-record")
[ "$IO_CALLS" = 1 ] && tracers+=("aa-record --io=calls")
tracers+=(bpftrace strace perf)

# The bpftrace script: every syscall exit of the workload's tree, one printf each, and
# its process lifecycle. Traced by pid, so it only fits runs that start the workload.
bt_script='
tracepoint:raw_syscalls:sys_exit /pid == cpid/ { printf("%d %d\n", args->id, args->ret); }
tracepoint:sched:sched_process_exec { printf("exec %d %s\n", pid, str(args->filename)); }
tracepoint:sched:sched_process_exit { printf("exit %d\n", pid); }'

# traced TRACER CMD...: runs CMD under TRACER; sets rep (the workload's report line),
# events, lost, rcpu (tracer CPU besides the workload's, aa-record only)
traced() {
  local tr=$1 out=$tmp/s.aas
  shift
  events=- lost=- rcpu=-
  rm -f "$out" "$out-index" "$tmp/err"
  case $tr in
    untraced) "$@" 2>"$tmp/err" >/dev/null ;;
    floor) "$floor" -- "$@" 2>"$tmp/err" >/dev/null ;;
    aa-record*)
      local io=summary
      [ "$tr" = "aa-record --io=calls" ] && io=calls
      /usr/bin/time -f "time %U %S" -o "$tmp/time" "$record" -q "--io=$io" -o "$out" -- "$@" \
        2>"$tmp/err" >/dev/null ;;
    strace) strace -f -o /dev/null "$@" 2>"$tmp/err" >/dev/null ;;
    perf) perf trace -o /dev/null -- "$@" 2>"$tmp/err" >/dev/null ;;
    bpftrace) bpftrace -o /dev/null -e "$bt_script" -c "$*" 2>"$tmp/err" >/dev/null ;;
  esac
  rep=$(grep wall_s "$tmp/err") || {
    echo "run.sh: $* under $tr failed: $(tail -1 "$tmp/err")" >&2
    return 1
  }
  case $tr in
    aa-record*)
      local info
      info=$("$session" info "$out")
      events=$(sed -n 's/^events: *\([0-9]*\).*/\1/p' <<<"$info")
      lost=$(sed -n 's/^lost events: *\([0-9]*\).*/\1/p' <<<"$info")
      rcpu=$(calc "$(awk '/^time/ {print $2 + $3}' "$tmp/time") - $(field cpu_s "$rep")")
      ;;
  esac
}

# beside TRACER: starts TRACER tracing `sleep` (not the workload) and waits until its
# probes are attached; bg is its pid. The file loop then runs outside its tree.
beside() {
  local tr=$1 ready=$tmp/ready
  rm -f "$ready" "$tmp/bg.aas" "$tmp/bg.aas-index"
  bg=""
  printf ': >%q; exec sleep 600\n' "$ready" >"$tmp/sleeper.sh"
  local cmd=(/bin/sh "$tmp/sleeper.sh")
  case $tr in
    untraced) return 0 ;;
    floor) "$floor" -- "${cmd[@]}" 2>/dev/null & ;;
    aa-record) "$record" -q -o "$tmp/bg.aas" -- "${cmd[@]}" 2>/dev/null & ;;
    strace) strace -f -o /dev/null "${cmd[@]}" 2>/dev/null & ;;
    perf) perf trace -o /dev/null -- "${cmd[@]}" 2>/dev/null & ;;
    bpftrace) bpftrace -o /dev/null -e "$bt_script" -c "${cmd[*]}" 2>/dev/null & ;;
  esac
  bg=$!
  for _ in $(seq 300); do
    [ -e "$ready" ] && { sleep 0.5; return 0; }  # let the tracer finish starting
    kill -0 "$bg" 2>/dev/null || { echo "run.sh: $tr beside the workload failed to start" >&2; return 1; }
    sleep 0.05
  done
  echo "run.sh: $tr did not start its command in 15 s" >&2
  return 1
}

unbeside() {
  [ -n "$bg" ] || return 0
  pkill -P "$bg" -x sleep 2>/dev/null || true     # the sleep under this tracer only
  for _ in $(seq 200); do
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.05
  done
  kill "$bg" 2>/dev/null || true
  wait "$bg" 2>/dev/null || true
  bg=""
}

# one_round WORKLOAD: appends "workload|tracer|wall_s|cpu_s|ops|events|lost|rcpu" lines
one_round() {
  local wl=$1 tr args
  for tr in "${tracers[@]}"; do
    case $wl in
      fileloop)
        args=(fileloop "$tmp/files" "$N_FILE")
        case $tr in strace | perf | bpftrace) args[2]=$((N_FILE / DIV)) ;; esac
        traced "$tr" "$work" "${args[@]}" || return 1
        ;;
      exec)
        traced "$tr" "$work" spawn "$N_EXEC" /bin/true || return 1
        ;;
      others)
        [ "$tr" = "aa-record --io=calls" ] && continue
        beside "$tr" || return 1
        traced untraced "$work" fileloop "$tmp/other" "$N_FILE" || { unbeside; return 1; }
        unbeside
        ;;
    esac
    echo "$wl|$tr|$(field wall_s "$rep")|$(field cpu_s "$rep")|$(field ops "$rep")|$events|$lost|$rcpu" \
      >>"$tmp/results"
  done
}

# thread_cpu PID NAME: CPU seconds (user + system) of PID's thread called NAME
thread_cpu() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { awk '{ printf "%.2f", ($14 + $15) / 100 }' "$t/stat"; return; }
  done
  echo 0
}

# burst_round: two file loops at once under aa-record --io=calls; appends
# "burst|wall_s|events|lost|drain_thread_cpu_s|writer_thread_cpu_s" to $tmp/burst. The
# threads' CPU is taken from /proc between the loops' start and end (start-up excluded).
burst_round() {
  local out=$tmp/b.aas
  rm -f "$out" "$out-index" "$tmp/b.start" "$tmp/b.done"
  mkdir -p "$tmp/b1" "$tmp/b2"
  printf ': >"%s"\n"%s" fileloop "%s" %s 2>"%s" & "%s" fileloop "%s" %s 2>"%s" & wait\n: >"%s"\nsleep 1\n' \
    "$tmp/b.start" "$work" "$tmp/b1" "$N_FILE" "$tmp/b1.rep" "$work" "$tmp/b2" "$N_FILE" "$tmp/b2.rep" \
    "$tmp/b.done" >"$tmp/burst.sh"
  "$record" -q --io=calls -o "$out" -- /bin/sh "$tmp/burst.sh" 2>"$tmp/err" >/dev/null &
  local rec=$! d0 w0 d1 w1
  until [ -e "$tmp/b.start" ]; do sleep 0.01; done
  d0=$(thread_cpu "$rec" aa-record); w0=$(thread_cpu "$rec" aa-write)
  until [ -e "$tmp/b.done" ]; do sleep 0.01; done
  sleep 0.5  # the last records drained and written
  d1=$(thread_cpu "$rec" aa-record); w1=$(thread_cpu "$rec" aa-write)
  wait "$rec" || { echo "run.sh: burst failed: $(tail -1 "$tmp/err")" >&2; return 1; }
  local info wa wb
  info=$("$session" info "$out")
  wa=$(field wall_s "$(cat "$tmp/b1.rep")"); wb=$(field wall_s "$(cat "$tmp/b2.rep")")
  echo "burst|$(awk -v a="$wa" -v b="$wb" 'BEGIN { print (a > b ? a : b) }')|$(sed -n 's/^events: *\([0-9]*\).*/\1/p' <<<"$info")|$(sed -n 's/^lost events: *\([0-9]*\).*/\1/p' <<<"$info")|$(calc "$d1 - $d0")|$(calc "$w1 - $w0")" >>"$tmp/burst"
}

echo "run.sh: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
load0=$(cut -d' ' -f1 /proc/loadavg)
: >"$tmp/results"
: >"$tmp/burst"
for r in $(seq "$REPS"); do
  for wl in $WORKLOADS; do
    if [ "$wl" = burst ]; then
      burst_round || exit 1
    else
      one_round "$wl" || exit 1
    fi
  done
  echo "run.sh: round $r of $REPS done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
load1=$(cut -d' ' -f1 /proc/loadavg)

awk -F'|' '
  function med(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)]
  }
  # the least of the rounds: other jobs only ever add time, so on a shared machine the
  # minimum is the steadier estimate of a cost
  function least(s,   a, n, i, m) {
    n = split(s, a, " "); m = a[1]
    for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
    return m
  }
  function add(k, v) { col[k] = col[k] " " v }
  BEGIN {
    name["fileloop"] = "file loop (traced)"
    name["others"] = "file loop NOT traced, tracer on another process"
    name["exec"] = "exec storm (traced)"
  }
  {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    add(k SUBSEP "w", $3 / $5 * 1e6); add(k SUBSEP "c", $4 / $5 * 1e6)
    if ($6 != "-") {
      add(k SUBSEP "e", $6 / $3); add(k SUBSEP "r", $8)
      if (!(k in lost) || $7 + 0 > lost[k] + 0) lost[k] = $7
    }
  }
  END {
    print "| workload | tracer | wall/op | CPU/op | wall slowdown | CPU slowdown | CPU slowdown, least of rounds | events/s | lost | recorder CPU |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      split(order[i], p, SUBSEP)
      b = p[1] SUBSEP "untraced"
      bw = med(col[b SUBSEP "w"]); bc = med(col[b SUBSEP "c"])
      w = med(col[order[i] SUBSEP "w"]); c = med(col[order[i] SUBSEP "c"])
      CS[order[i]] = c / bc; WS[order[i]] = w / bw
      ev = "-"; lo = "-"; rc = "-"
      if ((order[i] SUBSEP "e") in col) {
        ev = sprintf("%.0f", med(col[order[i] SUBSEP "e"])); lo = lost[order[i]]
        rc = sprintf("%.2f s", med(col[order[i] SUBSEP "r"]))
      }
      printf "| %s | %s | %.3f µs | %.3f µs | %.2f× | %.2f× | %.2f× | %s | %s | %s |\n", name[p[1]], p[2], w, c, w / bw, c / bc,
        least(col[order[i] SUBSEP "c"]) / least(col[b SUBSEP "c"]), ev, lo, rc
    }
    print ""
    for (i = 1; i <= n; i++) {
      split(order[i], p, SUBSEP)
      if (p[2] != "aa-record") continue
      f = p[1] SUBSEP "floor"
      printf "%s: aa-record %.2f× CPU (%.2f× wall), floor %.2f× CPU (%.2f× wall): %+.2f× CPU above the floor\n",
        name[p[1]], CS[order[i]], WS[order[i]], CS[f], WS[f], CS[order[i]] - CS[f]
    }
  }' "$tmp/results"
if [ -s "$tmp/burst" ]; then
  echo
  echo "| burst (2 file loops, --io=calls, default ring) | wall | events | lost | events/s | draining thread CPU per event | writing thread CPU per event (decode, batch, compress, write, index) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk -F'|' '{ printf "| round %d | %.3f s | %d | %d | %.0f | %.2f µs | %.2f µs |\n", NR, $2, $3, $4, $3 / $2, $5 / $3 * 1e6, $6 / $3 * 1e6 }' "$tmp/burst"
fi
echo
echo "load average (1 min) at start $load0, at end $load1"
echo "raw rounds (workload|tracer|wall_s|cpu_s|ops|events|lost|recorder_cpu_s):"
cat "$tmp/results"
