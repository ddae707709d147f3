#!/bin/sh
# Seeds a corpus with small real sessions and fuzzes the reader for 10 seconds.
set -eu
fuzzer=$1 session=$2 corpus=$3
mkdir -p "$corpus"
for seed in 1 2 3; do
  out="$corpus/seed$seed.aas"
  [ -f "$out" ] || "$session" synth --events $((seed * 40)) --seed $seed -o "$out" >/dev/null
  rm -f "$out-index" "$out-index-wal" "$out-index-shm"
done
exec "$fuzzer" -max_total_time=10 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus"
