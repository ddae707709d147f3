#!/bin/bash
# Recorder overhead on a TLS loop: many small HTTPS requests (GET /hello, keep-alive)
# from bench/recorder/tls_loop_client.c to the loopback test server fixtures/server/server.js,
# the client untraced, under aa-record, strace -f, perf trace and bpftrace, the last
# two with the same probes as aa-record's TLS capture (uprobes on SSL_write/SSL_read in
# libssl) plus every syscall. Prints a Markdown table (docs/PERFORMANCE.md,
# "## Recorder: TLS loop").
#
# usage: sudo bench/recorder/tls_loop.sh [BUILD_DIR]      (default: build)
#   env N_TLS=3000   requests on one keep-alive connection
#       N_HS=1000    requests, a new connection (TCP + TLS 1.3 handshake) every 10
#       REPS=5       every configuration runs REPS times, interleaved; medians shown
#       WORKLOADS="keepalive handshake"   which of the two to run
#       IO_CALLS=1   also aa-record --io=calls
#
# Besides the tracers, two references: "floor" (aa_bench_floor: the empty syscall hook
# pair with one tgid lookup, bench/recorder/floor.bpf.c) and "uprobes" (bpftrace
# uprobes on the same SSL functions aa-record hooks, counting hits and nothing else:
# on these VMs a uprobe hit costs ~8 µs by itself). aa-record's cost above both is what
# its own programs add.
#
# Only the client is traced; the server (Python, untraced) shares the machine's CPUs.
# Slowdown = time per request traced / untraced, from the client's own clock around
# its loop (tracer startup and the first handshake excluded): wall time, and the
# client's CPU time (user + system, where BPF programs and uprobes run). Every tracer
# writes its recording to a file, as aa-record does, so events, bytes per event and
# loss can be compared: events are aa-record's count, and output lines for the others
# (one per syscall or probe hit). Tracer CPU is /usr/bin/time of the tracer (which
# includes the client it waited for) minus the client's CPU in its loop, so it includes
# probe loading (and bpftrace's compiling); perf trace does not reap its workload, so
# for perf it is time's figure as is.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench=tls_loop.sh
source "$here/common.sh"
bench_build "${1:-}"
[ "$(id -u)" = 0 ] || { echo "tls_loop.sh: needs root (BPF, uprobes)" >&2; exit 1; }
for t in cc node openssl strace perf bpftrace /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "tls_loop.sh: $t not found (Debian: build-essential nodejs openssl strace linux-perf bpftrace time)" >&2; exit 1; }
done

bench_tracefs "$@"
floor=$build/aa_bench_floor
[ -x "$floor" ] || { echo "tls_loop.sh: $floor missing: build aa_bench_floor" >&2; exit 1; }

N_TLS=${N_TLS:-3000}
N_HS=${N_HS:-1000}
REPS=${REPS:-5}
WORKLOADS=${WORKLOADS:-keepalive handshake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-tlsbench.XXXXXX")
srv=""
probes_added=0
cleanup() {
  set +e  # the killed server's status (143) must not end the cleanup early
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  [ "$probes_added" = 1 ] && perf probe -q -d 'aabench_tls:*' 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# The client links the system libssl dynamically: that library is what the uprobes
# of every tracer attach to. Built here rather than by CMake so the project's build
# does not depend on libssl-dev.
client=$build/tls_loop_client
if [ ! -x "$client" ] || [ "$here/tls_loop_client.c" -nt "$client" ]; then
  cc -O2 -g -Wall -Wextra -o "$client" "$here/tls_loop_client.c" -lssl -lcrypto 2>"$tmp/cc" || {
    echo "tls_loop.sh: building tls_loop_client failed (needs libssl-dev):" >&2
    cat "$tmp/cc" >&2
    exit 1
  }
fi
libssl=$(ldd "$client" | sed -n 's/.*libssl\.so[^ ]* => \([^ ]*\).*/\1/p')
[ -n "$libssl" ] || { echo "tls_loop.sh: $client is not linked with libssl" >&2; exit 1; }
libssl=$(readlink -f "$libssl")

# The server's certificate goes into $tmp so a killed server leaves nothing behind.
mkdir -p "$tmp/cert"
node "$root/fixtures/server/server.js" --cert-dir "$tmp/cert" >"$tmp/port" 2>"$tmp/server.err" &
srv=$!
for _ in $(seq 100); do
  [ -s "$tmp/port" ] && break
  kill -0 "$srv" 2>/dev/null || { echo "tls_loop.sh: server failed: $(tail -1 "$tmp/server.err")" >&2; exit 1; }
  sleep 0.1
done
read -r port _ cafile <"$tmp/port" || { echo "tls_loop.sh: server did not report its port in 10 s" >&2; exit 1; }

# perf trace sees uprobes only as tracefs events: one group of our own, removed at exit.
# SSL_write's buffer is fetched as a string (perf probe cannot size it by the length
# argument); SSL_read's data is not fetched (a return probe cannot see the entry's
# arguments), only its length: perf does less work per call than the others.
perf probe -q -d 'aabench_tls:*' 2>/dev/null || true
perf probe -x "$libssl" -a 'aabench_tls:SSL_write=SSL_write buf=+0(%si):string num=%dx:s32' \
  -a 'aabench_tls:SSL_read=SSL_read' -a 'aabench_tls:SSL_read_ret=SSL_read%return ret=$retval:s32' \
  >/dev/null 2>"$tmp/perf-probe" || {
  echo "tls_loop.sh: perf probe on $libssl failed: $(grep -v '^ *$' "$tmp/perf-probe" | tail -1)" >&2
  exit 1
}
probes_added=1

# bpftrace: what aa-record's TLS capture does (written data at SSL_write's entry, read
# data at SSL_read's return from the buffer saved at entry, per thread; BPFTRACE_STRLEN
# caps a capture at 200 bytes, the replies here are ~190), plus every syscall exit of
# the client and the process lifecycle, as in run.sh.
cat >"$tmp/tls.bt" <<EOF
uprobe:$libssl:SSL_write /pid == cpid/ { printf("SSL_write %d %r\n", tid, buf(arg1, arg2)); }
uprobe:$libssl:SSL_read /pid == cpid/ { @rbuf[tid] = arg1; }
uretprobe:$libssl:SSL_read /pid == cpid/ {
  \$n = (int32)retval;
  if (\$n > 0) { printf("SSL_read %d %r\n", tid, buf(@rbuf[tid], \$n)); }
  delete(@rbuf[tid]);
}
tracepoint:raw_syscalls:sys_exit /pid == cpid/ { printf("%d %d\n", args->id, args->ret); }
tracepoint:sched:sched_process_exec { printf("exec %d %s\n", pid, str(args->filename)); }
tracepoint:sched:sched_process_exit { printf("exit %d\n", pid); }
EOF

# The uprobes alone: the functions aa-record hooks in this client (SSL_write and
# SSL_read, entry and return; SSL_free at entry), each doing nothing but a per-CPU count.
# What aa-record costs above this is the cost of its programs, not of the probes.
cat >"$tmp/uprobes.bt" <<EOF
uprobe:$libssl:SSL_write, uprobe:$libssl:SSL_read, uprobe:$libssl:SSL_free,
uretprobe:$libssl:SSL_write, uretprobe:$libssl:SSL_read /pid == cpid/ { @hits = count(); }
EOF


# run_one WORKLOAD TRACER N [PER_CONN]: appends one line to $tmp/results:
#   workload tracer wall_s cpu_s ops events lost bytes tracer_cpu
run_one() {
  local wl=$1 tr=$2
  shift 2
  local args=("$port" "$cafile" "$@") out=$tmp/out rep events=- lost=- bytes=- tcpu=-
  rm -f "$out" "$out-index" "$tmp/err"
  case $tr in
    untraced) "$client" "${args[@]}" 2>"$tmp/err" ;;
    floor) "$floor" -- "$client" "${args[@]}" 2>"$tmp/err" ;;
    uprobes)
      bpftrace -o /dev/null "$tmp/uprobes.bt" -c "$client ${args[*]}" 2>"$tmp/err" >/dev/null ;;
    aa-record*)
      /usr/bin/time -f "time %U %S" -o "$tmp/time" "$record" -q "--io=${tr#aa-record --io=}" \
        -o "$out" -- "$client" "${args[@]}" 2>"$tmp/err" >/dev/null ;;
    strace)
      /usr/bin/time -f "time %U %S" -o "$tmp/time" strace -f -o "$out" "$client" "${args[@]}" \
        2>"$tmp/err" ;;
    perf)
      /usr/bin/time -f "time %U %S" -o "$tmp/time" perf trace -o "$out" --syscalls \
        -e 'aabench_tls:*' -- "$client" "${args[@]}" 2>"$tmp/err" ;;
    bpftrace)
      BPFTRACE_STRLEN=200 /usr/bin/time -f "time %U %S" -o "$tmp/time" bpftrace -o "$out" \
        "$tmp/tls.bt" -c "$client ${args[*]}" 2>"$tmp/err" >/dev/null ;;
  esac
  rep=$(grep wall_s "$tmp/err") || {
    echo "tls_loop.sh: $wl under $tr failed: $(grep -v '^time' "$tmp/err" | tail -1)" >&2
    return 1
  }
  if [ "$tr" != untraced ] && [ "$tr" != floor ] && [ "$tr" != uprobes ]; then
    tcpu=$(awk '/^time/ {print $2 + $3}' "$tmp/time")
    # perf trace leaves its workload unreaped, so time's figure is perf's alone
    [ "$tr" = perf ] || tcpu=$(calc "$tcpu - $(field cpu_s "$rep")")
    bytes=$(stat -c %s "$out")
    case $tr in
      aa-record*)
        local info
        info=$("$session" info "$out")
        events=$(sed -n 's/^events: *\([0-9]*\).*/\1/p' <<<"$info")
        lost=$(sed -n 's/^lost events: *\([0-9]*\).*/\1/p' <<<"$info")
        ;;  # the session file only, as run.sh (the index is a rebuildable cache)
      strace) events=$(wc -l <"$out"); lost=0 ;;  # ptrace stops the tracee: nothing lost
      perf)
        events=$(grep -vc 'LOST' "$out" || true)
        lost=$(awk '/LOST [0-9]+ events/ { for (i = 1; i < NF; i++) if ($i == "LOST") s += $(i + 1) } END { print s + 0 }' "$out") ;;
      bpftrace)
        events=$(wc -l <"$out")
        lost=$(awk '/Lost [0-9]+ events/ { s += $2 } END { print s + 0 }' "$tmp/err" "$out") ;;
    esac
  fi
  echo "$wl|$tr|$(field wall_s "$rep")|$(field cpu_s "$rep")|$(field ops "$rep")|$events|$lost|$bytes|$tcpu" \
    >>"$tmp/results"
}

for wl in $WORKLOADS; do
  case $wl in
    keepalive | handshake) ;;
    *) echo "tls_loop.sh: unknown workload '$wl' (keepalive, handshake)" >&2; exit 2 ;;
  esac
done
tracers=(untraced floor uprobes "aa-record --io=summary" strace perf bpftrace)
[ "${IO_CALLS:-0}" = 1 ] && tracers+=("aa-record --io=calls")
: >"$tmp/results"
for r in $(seq "$REPS"); do
  for wl in $WORKLOADS; do
    for tr in "${tracers[@]}"; do
      case $wl in
        keepalive) run_one "keep-alive" "$tr" "$N_TLS" || exit 1 ;;
        handshake) run_one "new connection every 10" "$tr" "$N_HS" 10 || exit 1 ;;
        *) echo "tls_loop.sh: unknown workload '$wl' (keepalive, handshake)" >&2; exit 2 ;;
      esac
    done
  done
  echo "tls_loop.sh: round $r of $REPS done" >&2
done

# Medians per workload and tracer: of time per request (wall, CPU), events/s, bytes per
# event and tracer CPU; lost is the largest of the rounds.
awk -F'|' -v reps="$REPS" '
  function med(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)]
  }
  # aa-record adding nothing measurable (or less than the noise) has no finite ratio
  function ratio(s, a) { return a > 0 ? sprintf("%.1f×", s / a) : "n/a (aa-record within noise)" }
  function add(k, v) { col[k] = col[k] " " v }
  {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    if (!($1 in wseen)) { wseen[$1] = 1; wl[++nw] = $1 }
    add(k SUBSEP "w", $3 / $5 * 1e6); add(k SUBSEP "c", $4 / $5 * 1e6)
    if ($6 != "-") {
      add(k SUBSEP "e", $6 / $3); add(k SUBSEP "b", $8 / $6); add(k SUBSEP "t", $9)
      if (!(k in lost) || $7 + 0 > lost[k] + 0) lost[k] = $7
    }
  }
  END {
    print "| workload | tracer | time/request | wall slowdown | CPU/request | CPU slowdown | events/s | lost | bytes/event | tracer CPU |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      split(order[i], p, SUBSEP)
      b = p[1] SUBSEP "untraced"
      bw = med(col[b SUBSEP "w"]); bc = med(col[b SUBSEP "c"])
      w = med(col[order[i] SUBSEP "w"]); c = med(col[order[i] SUBSEP "c"])
      W[order[i]] = w; C[order[i]] = c
      if (p[2] == "untraced")
        printf "| %s | untraced | %.1f µs | 1.00× | %.1f µs | 1.00× | - | - | - | - |\n", p[1], w, c
      else if (!((order[i] SUBSEP "e") in col))
        printf "| %s | %s | %.1f µs | %.2f× | %.1f µs | %.2f× | - | - | - | - |\n", p[1], p[2], w, w / bw, c, c / bc
      else
        printf "| %s | %s | %.1f µs | %.2f× | %.1f µs | %.2f× | %.0f | %s | %.1f | %.2f s |\n", p[1], p[2], w, w / bw, c, c / bc,
          med(col[order[i] SUBSEP "e"]), lost[order[i]], med(col[order[i] SUBSEP "b"]), med(col[order[i] SUBSEP "t"])
    }
    # the target: strace -f slows the client down at least 10x more than aa-record
    print ""
    for (i = 1; i <= nw; i++) {
      u = wl[i] SUBSEP "untraced"; s = wl[i] SUBSEP "strace"
      for (m = 1; m <= 2; m++) {
        a = wl[i] SUBSEP (m == 1 ? "aa-record --io=summary" : "aa-record --io=calls")
        if (!(a in W) || !(s in W)) continue
        printf "%s, %s: time added per request, strace -f / aa-record: wall %s, CPU %s\n", wl[i], (m == 1 ? "summary" : "calls"),
          ratio(W[s] - W[u], W[a] - W[u]), ratio(C[s] - C[u], C[a] - C[u])
        up = wl[i] SUBSEP "uprobes"; fl = wl[i] SUBSEP "floor"
        if ((up in C) && (fl in C))
          printf "%s, %s: client CPU per request above untraced: uprobes alone %+.1f µs, floor %+.1f µs, aa-record %+.1f µs; aa-record above uprobes + floor: %+.1f µs\n",
            wl[i], (m == 1 ? "summary" : "calls"), C[up] - C[u], C[fl] - C[u], C[a] - C[u], C[a] - C[up] - (C[fl] - C[u])
      }
    }
  }' "$tmp/results"
echo
echo "raw rounds (workload|tracer|wall_s|cpu_s|ops|events|lost|bytes|tracer_cpu_s):"
cat "$tmp/results"
