#!/bin/bash
# Recorder memory over a long recording: aa-record on a paced file loop (open, read,
# pwrite, close: 2 events per iteration, so RATE=100000 syscalls/s is 50k events/s),
# with aa-record's resident set sampled every INTERVAL seconds. Prints the samples and a
# Markdown line with the RSS after the first minute, at the end, and the growth per hour
# extrapolated from them (the figure in docs/PERFORMANCE.md, "### Memory over time").
#
# usage: sudo bench/recorder/soak.sh [BUILD_DIR] [SECONDS]   (default: build, 3600)
#   env RATE=100000   syscalls/s of the workload (4 per iteration)
#       INTERVAL=10   seconds between samples
set -euo pipefail

build=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
secs=${2:-3600}
rate=${RATE:-100000}
interval=${INTERVAL:-10}
record=$build/aa-record
work=$build/aa_bench_workload
[ -x "$work" ] || work=$build/aa_test_workload
for t in "$record" "$work"; do
  [ -x "$t" ] || { echo "soak.sh: $t missing: build aa-record aa_bench_workload" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root (BPF)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-soak.XXXXXX")
trap 'kill $rec 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files"
iterations=$((rate / 4 * secs))

"$record" -q -o "$tmp/soak.aas" -- "$work" fileloop "$tmp/files" "$iterations" "$rate" \
  2>"$tmp/workload.err" &
rec=$!
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$rec/status" 2>/dev/null || echo 0; }
echo "# t_s rss_kib file_bytes"
t=0 first=""
while kill -0 $rec 2>/dev/null; do
  sleep "$interval"
  t=$((t + interval))
  r=$(rss)
  [ "$r" = 0 ] && break
  size=$(stat -c %s "$tmp/soak.aas" 2>/dev/null || echo 0)
  echo "$t $r $size"
  [ -z "$first" ] && [ "$t" -ge 60 ] && first=$r first_t=$t
  last=$r last_t=$t
done
wait $rec || { echo "soak.sh: aa-record failed:" >&2; cat "$tmp/workload.err" >&2; exit 1; }
events=$("$build/aa-session" info "$tmp/soak.aas" 2>/dev/null | awk '/^events:/ {print $2}' || true)
if [ -n "$first" ] && [ "$last_t" -gt "$first_t" ]; then
  growth=$(( (last - first) * 3600 / (last_t - first_t) ))
  echo
  echo "| duration | events | events/s | RSS at ${first_t} s | RSS at ${last_t} s | growth per hour (extrapolated) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| ${secs} s | ${events:-?} | $(( ${events:-0} / secs )) | $((first / 1024)) MiB | $((last / 1024)) MiB | $((growth / 1024)) MiB |"
fi
