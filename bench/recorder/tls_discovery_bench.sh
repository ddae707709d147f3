#!/usr/bin/env bash
# TLS discovery time per executable: `aa-record --probe-report --tls-of` (no root) with
# an empty cache (first sight: ELF + .eh_frame + code search), then again (from the
# cache: keyed by build-id or layout, checked against the code at each offset), REPS
# times each; a second run that did not come from the cache shows as "not cached"; prints the scan time aa-record reports (file open to
# verdict) and the process's CPU time. usage: tls_discovery_bench.sh BUILD_DIR [EXE...]
set -euo pipefail
build=$(realpath "${1:?usage: $0 BUILD_DIR [EXE...]}")
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-5}
exes=("$@")
if ((${#exes[@]} == 0)); then
  agents=$("$src/fixtures/agents/install.sh" --print-dir)
  shopt -s nullglob
  exes=("$agents"/@anthropic-ai+claude-code@*/node_modules/@anthropic-ai/claude-code-linux-x64/claude
        "$agents"/bun@*/node_modules/@oven/bun-linux-x64/bin/bun
        "$agents"/@openai+codex@*/node_modules/@openai/codex-linux-x64/vendor/*/bin/codex)
  shopt -u nullglob
fi
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
echo "| executable | size | first: scan ms (median, min-max) | first: CPU s | cached: scan ms | verdict |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for exe in "${exes[@]}"; do
  cat "$exe" > /dev/null  # page cache warm: the agent's own start reads it anyway
  first=() cpu=() cached=()
  for _ in $(seq "$REPS"); do
    rm -rf "${cache:?}"/*
    out=$( { /usr/bin/time -f "cpu=%U+%S" env AA_RECORD_CACHE_DIR="$cache" "$build/aa-record" --probe-report --tls-of "$exe"; } 2>&1 || true)
    first+=("$(grep -o '([0-9.]* ms' <<<"$out" | head -1 | tr -dc 0-9.)")
    cpu+=("$(grep -o 'cpu=[0-9.+]*' <<<"$out" | cut -d= -f2 | bc)")
    out2=$(AA_RECORD_CACHE_DIR="$cache" "$build/aa-record" --probe-report --tls-of "$exe" || true)
    if grep -q 'from the discovery cache' <<<"$(head -1 <<<"$out2")"; then
      cached+=("$(grep -o '([0-9.]* ms' <<<"$out2" | head -1 | tr -dc 0-9.)")
    fi
  done
  verdict=$(head -1 <<<"$out" | sed "s|^$exe: ||" | cut -c1-60)
  python3 - "$exe" "$(stat -c %s "$exe")" "${first[*]}" "${cpu[*]}" "${cached[*]}" "$verdict" <<'PY'
import statistics, sys
exe, size, first, cpu, cached, verdict = sys.argv[1:]
f = [float(x) for x in first.split() if x]
c = [float(x) for x in cpu.split() if x]
k = [float(x) for x in cached.split() if x]
name = exe.split("/node_modules/")[0].split("/")[-1]
fs = f"{statistics.median(f):.0f} ({min(f):.0f}-{max(f):.0f})" if f else "-"
ks = f"{statistics.median(k):.1f}" if k else "- (not cached)"
print(f"| {name} | {int(size) / 1e6:.0f} MB | {fs} | {statistics.median(c):.2f} | {ks} | {verdict} |")
PY
done
