#!/bin/bash
# Recorder overhead on a plain-HTTP loop: many small requests (GET /hello, keep-alive,
# write(2) and read(2) on one TCP connection) from bench/recorder/plain_loop_client.c
# to the loopback test server's plain listener (fixtures/server/server.js --plain-port),
# the client untraced, under aa-record (plain-HTTP capture on: every request and reply
# is a net.send / net.recv event) and under aa-record --no-plain-http (the connect is
# recorded, the bytes are not). Prints a Markdown table (docs/PERFORMANCE.md,
# "## Recorder: plain-HTTP loop").
#
# usage: sudo bench/recorder/plain_loop.sh [BUILD_DIR]      (default: build)
#   env N=5000    requests on the one keep-alive connection
#       REPS=5    every configuration runs REPS times, interleaved; medians shown
#       BPF_STATS=1   also the recorder's own BPF time (kernel.bpf_stats_enabled=1, as
#                     bench/recorder/bpf_stats.sh): per configuration, REPS runs of the
#                     loop, each program's ns per run and the BPF ns per request
#
# Only the client is traced; the server (node, untraced) shares the machine's CPUs.
# Time and CPU per request are the client's own clock around its loop (connect and
# recorder start-up excluded); CPU is user + system, where the BPF programs run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench=plain_loop.sh
source "$here/common.sh"
bench_build "${1:-}"
[ "$(id -u)" = 0 ] || { echo "plain_loop.sh: needs root (BPF)" >&2; exit 1; }
for t in cc node openssl; do
  command -v "$t" >/dev/null || { echo "plain_loop.sh: $t not found (Debian: build-essential nodejs openssl)" >&2; exit 1; }
done

N=${N:-5000}
REPS=${REPS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-plainbench.XXXXXX")
srv=""
cleanup() {
  set +e  # the killed server's status (143) must not end the cleanup early
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

client=$build/plain_loop_client
if [ ! -x "$client" ] || [ "$here/plain_loop_client.c" -nt "$client" ]; then
  cc -O2 -g -Wall -Wextra -o "$client" "$here/plain_loop_client.c" 2>"$tmp/cc" || {
    echo "plain_loop.sh: building plain_loop_client failed:" >&2
    cat "$tmp/cc" >&2
    exit 1
  }
fi

mkdir -p "$tmp/cert"
node "$root/fixtures/server/server.js" --cert-dir "$tmp/cert" --plain-port 0 >"$tmp/port" 2>"$tmp/server.err" &
srv=$!
for _ in $(seq 100); do
  [ -s "$tmp/port" ] && break
  kill -0 "$srv" 2>/dev/null || { echo "plain_loop.sh: server failed: $(tail -1 "$tmp/server.err")" >&2; exit 1; }
  sleep 0.1
done
read -r _ _ _ port <"$tmp/port" || true
[ -n "${port:-}" ] || { echo "plain_loop.sh: server did not report its plain port in 10 s" >&2; exit 1; }

# run_one TRACER: appends "tracer|wall_s|cpu_s|ops|events|lost|plain_events" to $tmp/results
run_one() {
  local tr=$1 out=$tmp/out rep events=- lost=- plain=-
  rm -f "$out" "$out-index" "$tmp/err"
  case $tr in
    untraced) "$client" "$port" "$N" 2>"$tmp/err" ;;
    "aa-record") "$record" -q -o "$out" -- "$client" "$port" "$N" 2>"$tmp/err" >/dev/null ;;
    "aa-record --no-plain-http")
      "$record" -q --no-plain-http -o "$out" -- "$client" "$port" "$N" 2>"$tmp/err" >/dev/null ;;
  esac
  rep=$(grep wall_s "$tmp/err") || {
    echo "plain_loop.sh: $tr failed: $(tail -1 "$tmp/err")" >&2
    return 1
  }
  if [ "$tr" != untraced ]; then
    local info
    info=$("$session" info "$out")
    events=$(sed -n 's/^events: *\([0-9]*\).*/\1/p' <<<"$info")
    lost=$(sed -n 's/^lost events: *\([0-9]*\).*/\1/p' <<<"$info")
    # the captured calls: one event per write and per read (a reply fits a chunk)
    plain=$("$session" events --kind net.send,net.recv "$out" | grep -c 'net\.send\|net\.recv' || true)
  fi
  echo "$tr|$(field wall_s "$rep")|$(field cpu_s "$rep")|$(field ops "$rep")|$events|$lost|$plain" >>"$tmp/results"
}

tracers=(untraced "aa-record" "aa-record --no-plain-http")
: >"$tmp/results"
for r in $(seq "$REPS"); do
  for tr in "${tracers[@]}"; do run_one "$tr" || exit 1; done
  echo "plain_loop.sh: round $r of $REPS done" >&2
done

# bpf_stats_one OPTIONS...: the recorder's programs over one loop, read while still
# loaded (the traced command pauses after the loop); prints "sys_enter_ns sys_exit_ns
# bpf_ns_per_request"
bpf_stats_one() {
  rm -f "$tmp/done" "$tmp/s.aas"
  cat >"$tmp/run.sh" <<EOS
"$client" "$port" "$N" 2>"$tmp/rep"
: >"$tmp/done"
sleep 2
EOS
  "$record" -q "$@" -o "$tmp/s.aas" -- sh "$tmp/run.sh" 2>/dev/null &
  local pid=$!
  for _ in $(seq 600); do [ -e "$tmp/done" ] && break; sleep 0.05; done
  bpftool prog show -j >"$tmp/progs.json"
  cat /proc/"$pid"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u | tr '\n' ' ' >"$tmp/ids"
  wait "$pid" || true
  python3 - "$tmp/progs.json" "$N" "$(cat "$tmp/ids")" <<'EOP'
import json, sys
progs, n = json.load(open(sys.argv[1])), int(sys.argv[2])
mine = {int(x) for x in sys.argv[3].split()}
enter = exit_ = tot = 0
for p in progs:
    if p.get("id") not in mine or not p.get("run_cnt"):
        continue
    name, runs, ns = p.get("name", "?"), p["run_cnt"], p["run_time_ns"]
    tot += ns
    if "sys_enter" in name: enter = ns / runs
    if "sys_exit" in name: exit_ = ns / runs
print(f"{enter:.0f} {exit_:.0f} {tot / n:.0f}")
EOP
}

if [ "${BPF_STATS:-0}" = 1 ]; then
  command -v bpftool >/dev/null || { echo "plain_loop.sh: bpftool not found" >&2; exit 1; }
  old=$(sysctl -n kernel.bpf_stats_enabled)
  trap 'sysctl -qw kernel.bpf_stats_enabled="$old"; cleanup' EXIT
  sysctl -qw kernel.bpf_stats_enabled=1
  : >"$tmp/stats"
  for r in $(seq "$REPS"); do
    echo "aa-record|$(bpf_stats_one)" >>"$tmp/stats"
    echo "aa-record --no-plain-http|$(bpf_stats_one --no-plain-http)" >>"$tmp/stats"
  done
  echo
  echo "| recorder | sys_enter ns/run | sys_exit ns/run | BPF ns per request |"
  echo "| --- | ---: | ---: | ---: |"
  awk -F'|' '{ split($2, v, " "); k = $1; if (!(k in seen)) { seen[k] = 1; o[++n] = k }
               e[k] = e[k] (e[k] == "" ? "" : ", ") v[1]; x[k] = x[k] (x[k] == "" ? "" : ", ") v[2];
               b[k] = b[k] (b[k] == "" ? "" : ", ") v[3] }
       END { for (i = 1; i <= n; i++) printf "| %s | %s | %s | %s |\n", o[i], e[o[i]], x[o[i]], b[o[i]] }' "$tmp/stats"
  echo
fi

awk -F'|' '
  function med(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)]
  }
  {
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
    w[$1] = w[$1] " " $2 / $4 * 1e6; c[$1] = c[$1] " " $3 / $4 * 1e6
    if ($5 != "-") { ev[$1] = ev[$1] " " $5; pe[$1] = pe[$1] " " $7; if (!($1 in lost) || $6 + 0 > lost[$1] + 0) lost[$1] = $6 }
  }
  END {
    bw = med(w["untraced"]); bc = med(c["untraced"])
    print "| tracer | time/request | wall slowdown | CPU/request | CPU slowdown | CPU above untraced | events | send/recv events | lost |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      t = order[i]; mw = med(w[t]); mc = med(c[t])
      printf "| %s | %.1f µs | %.2f× | %.1f µs | %.2f× | %+.1f µs | %s | %s | %s |\n", t, mw, mw / bw, mc, mc / bc, mc - bc,
        (t in ev) ? med(ev[t]) : "-", (t in pe) ? med(pe[t]) : "-", (t in lost) ? lost[t] : "-"
    }
  }' "$tmp/results"
