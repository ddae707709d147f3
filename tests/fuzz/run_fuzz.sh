#!/bin/sh
# Seeds a corpus with small real sessions and fuzzes the reader for 10 seconds as is,
# then 10 seconds with checksums fixed (AA_FUZZ_FIX_CRC=1: mutations reach the decoders).
set -eu
fuzzer=$1 session=$2 corpus=$3
mkdir -p "$corpus"
for seed in 1 2 3; do
  out="$corpus/seed$seed.aas"
  [ -f "$out" ] || "$session" synth --events $((seed * 40)) --seed $seed -o "$out" >/dev/null
  rm -f "$out-index" "$out-index-wal" "$out-index-shm"
done
for fix in 0 1; do
  AA_FUZZ_FIX_CRC=$fix "$fuzzer" -max_total_time=${AA_FUZZ_SECONDS:-10} -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus"
done
