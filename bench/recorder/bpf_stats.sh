#!/bin/bash
# Where aa-record's BPF time goes: run count and run time of each of its BPF programs
# (those the recorder process holds; other tracers on the machine are left out) while
# aa-record records the file loop (kernel.bpf_stats_enabled=1 for the run), then the
# per-syscall figures. Prints one line per program: name, runs, ns per run, total ms.
#
# usage: sudo bench/recorder/bpf_stats.sh [BUILD_DIR] [-- RECORDER_OPTIONS...]
#   env N_FILE=100000   iterations of the file loop (4 syscalls each)
#       RECORD=PATH     the aa-record binary (default BUILD_DIR/aa-record)
#       FLOOR=1         measure aa_bench_floor instead of aa-record
#       OTHERS=1        the recorder (or floor) traces a `sleep` and the file loop runs
#                       outside its tree: what its programs cost processes not traced
set -euo pipefail
build=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
shift || true
[ "${1:-}" = -- ] && shift
record=${RECORD:-$build/aa-record}
work=$build/aa_bench_workload
N_FILE=${N_FILE:-100000}
[ "$(id -u)" = 0 ] || { echo "bpf_stats.sh: needs root" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "bpf_stats.sh: bpftool not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-bpfstats.XXXXXX")
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files"
# The loop, then a pause in which the programs (still loaded) are read.
cat >"$tmp/run.sh" <<EOS
"$work" fileloop "$tmp/files" "$N_FILE" 2>"$tmp/rep"
: >"$tmp/done"
sleep 3
EOS
cat >"$tmp/sleeper.sh" <<EOS
: >"$tmp/ready"
exec sleep 600
EOS
traced_cmd=(sh "$tmp/run.sh")
[ "${OTHERS:-0}" = 1 ] && traced_cmd=(sh "$tmp/sleeper.sh")
sysctl -qw kernel.bpf_stats_enabled=1
if [ "${FLOOR:-0}" = 1 ]; then
  "$build/aa_bench_floor" -- "${traced_cmd[@]}" 2>/dev/null &
else
  "$record" -q "$@" -o "$tmp/s.aas" -- "${traced_cmd[@]}" 2>/dev/null &
fi
pid=$!
if [ "${OTHERS:-0}" = 1 ]; then
  for _ in $(seq 600); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
  sleep 0.5
  sh "$tmp/run.sh" &
  loop=$!
fi
for _ in $(seq 600); do [ -e "$tmp/done" ] && break; sleep 0.05; done
bpftool prog show -j >"$tmp/progs.json"
# the programs this run loaded: the prog fds the recorder (or loader) holds
cat /proc/"$pid"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u | tr '\n' ' ' >"$tmp/ids"
if [ "${OTHERS:-0}" = 1 ]; then
  wait "$loop" || true
  pkill -P "$pid" -x sleep || true
fi
wait "$pid" || true
python3 - "$tmp/progs.json" "$N_FILE" "$(cat "$tmp/rep")" "$(cat "$tmp/ids")" <<'EOP'
import json, sys
progs = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
mine = {int(x) for x in sys.argv[4].split()}
print(f"# {sys.argv[3]}")
print(f"{'program':28} {'runs':>10} {'ns/run':>8} {'total ms':>9} {'ns per loop op':>15}")
tot = 0
for p in progs:
    if "run_cnt" not in p or not p.get("run_cnt"):
        continue
    # only the programs this run loaded: other recorders on the machine have their own
    if p.get("id") not in mine:
        continue
    name = p.get("name", "?")
    if not any(k in name for k in ("sys_", "btf_", "raw_", "tls_", "floor_")):
        continue
    runs, ns = p["run_cnt"], p["run_time_ns"]
    tot += ns
    print(f"{name:28} {runs:>10} {ns / runs:>8.0f} {ns / 1e6:>9.1f} {ns / (4 * n):>15.0f}")
print(f"{'all':28} {'':>10} {'':>8} {tot / 1e6:>9.1f} {tot / (4 * n):>15.0f}")
EOP
