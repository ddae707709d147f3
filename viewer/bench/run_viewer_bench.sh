#!/bin/sh
# Viewer benchmark: synth sessions of 1M and 10M events (made once, kept in $TMPDIR),
# then timeline_bench (open, first paint, repaint after zoom/pan at full and 1% range)
# and aa-view --screenshot under /usr/bin/time -v (launch to first painted timeline,
# peak memory).
#   viewer/bench/run_viewer_bench.sh BUILD_DIR [EVENTS ...]
set -eu
build=${1:?usage: run_viewer_bench.sh BUILD_DIR [EVENTS ...]}
shift
[ $# -gt 0 ] || set -- 1000000 10000000
dir=${TMPDIR:-/tmp}
for n in "$@"; do
  f="$dir/aa-view-bench-$n.aas"
  [ -f "$f" ] || "$build/aa-session" synth --events "$n" --seed 1 -o "$f"
  echo "== $n events: $f"
  "$build/timeline_bench" "$f"
  AA_VIEW_TIMING=1 /usr/bin/time -v "$build/aa-view" --screenshot "$dir/aa-view-bench-$n.png" "$f" 2>&1 |
    grep -E 'timing|Maximum resident|Elapsed'
done
