#!/usr/bin/env bash
# Per-call cost of the TLS hooks: the same keep-alive fetch() loop (tls_fetch_loop.js)
# under bun (BoringSSL linked in: hooks at discovered offsets) and node (OpenSSL: hooks
# by exported symbols), untraced and under aa-record, REPS rounds interleaved. Prints
# medians of the loop's own wall and CPU time (process-wide), the TLS calls hooked
# (tls events of the session: one per SSL_write/SSL_read call here, every payload is
# < 16 KiB), and the CPU added per hooked call.
#
# usage (root): bench/recorder/tls_bun_loop.sh BUILD_DIR      env: N=2000 REPS=5
set -euo pipefail
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
src=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000}
REPS=${REPS:-5}
agents=$("$src/fixtures/agents/install.sh" --print-dir)
bun=$(ls "$agents"/bun@*/node_modules/@oven/bun-linux-x64/bin/bun | head -1)
node=$(command -v node)
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
node "$src/fixtures/server/server.js" > "$tmp/port" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
read -r port _ < "$tmp/port"
url="https://127.0.0.1:$port/hello"
export NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_NO_WARNINGS=1

"$build/aa-record" --probe-report --tls-of "$bun" --tls-of "$node" | grep -v '^  how:' || true
for r in $(seq "$REPS"); do
  for rt in bun node; do
    exe=${!rt}
    line=$("$exe" "$src/bench/recorder/tls_fetch_loop.js" "$url" "$N")
    echo "$rt untraced $line" >> "$tmp/rows"
    line=$("$build/aa-record" -q -o "$tmp/$rt.aas" -- "$exe" "$src/bench/recorder/tls_fetch_loop.js" "$url" "$N")
    calls=$("$build/aa-session" info "$tmp/$rt.aas" | awk '$1 ~ /^tls\.(read|write)$/ {n += $2} END {print n}')
    echo "$rt aa-record $line calls=$calls" >> "$tmp/rows"
  done
done
cat "$tmp/rows"
python3 - "$tmp/rows" "$N" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    kv = dict(p.split("=") for p in parts[2:])
    rows.setdefault((parts[0], parts[1]), []).append(kv)
n = int(sys.argv[2])
print("| runtime | TLS stack, hooks | tracer | wall/request | CPU/request | hooked calls/request | CPU added per hooked call |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
for rt, stack in (("bun", "BoringSSL, discovered"), ("node", "OpenSSL, exported symbols")):
    base = statistics.median(float(r["cpu_s"]) for r in rows[(rt, "untraced")])
    for mode in ("untraced", "aa-record"):
        rs = rows[(rt, mode)]
        wall = statistics.median(float(r["wall_s"]) for r in rs) / n * 1e6
        cpu = statistics.median(float(r["cpu_s"]) for r in rs)
        calls = statistics.median(int(r.get("calls", 0)) for r in rs) if mode != "untraced" else 0
        per = f"{(cpu - base) / calls * 1e6:.1f} µs" if calls else "-"
        print(f"| {rt} | {stack} | {mode} | {wall:.1f} µs | {cpu / n * 1e6:.1f} µs | "
              f"{calls / n:.2f} | {per} |" if calls else
              f"| {rt} | {stack} | {mode} | {wall:.1f} µs | {cpu / n * 1e6:.1f} µs | - | - |")
PY
