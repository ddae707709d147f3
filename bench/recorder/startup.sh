#!/bin/bash
# aa-record's start-up and stop: `aa-record -q -o x.aas -- CMD` for a command that does
# nothing, REPS times; medians (and min-max) of
#   to exec: from just before aa-record starts to the command's first instruction (the
#            command is `date +%s.%N`, which prints the time it starts at),
#   total:   the whole `aa-record -q -o x.aas -- true`, clean stop, footer and index
#            included,
# and aa-record's CPU time (user + system) for the total.
#
# usage: sudo bench/recorder/startup.sh [BUILD_DIR]     env REPS=11, RECORD=aa-record binary
set -euo pipefail
build=$(cd "${1:-$(dirname "$0")/../../build}" && pwd)
record=${RECORD:-$build/aa-record}
REPS=${REPS:-11}
[ -x "$record" ] || { echo "startup.sh: $record missing: build aa-record" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "startup.sh: needs root (BPF)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-startup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
echo "startup.sh: $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
: >"$tmp/rows"
for _ in $(seq "$REPS"); do
  rm -f "$tmp/x.aas" "$tmp/x.aas-index"
  t0=$(now)
  "$record" -q -o "$tmp/x.aas" -- date +%s.%N >"$tmp/exec_at"
  rm -f "$tmp/x.aas" "$tmp/x.aas-index"
  t1=$(now)
  /usr/bin/time -f "%U %S" -o "$tmp/cpu" "$record" -q -o "$tmp/x.aas" -- true
  t2=$(now)
  [ -s "$tmp/x.aas-index" ] || { echo "startup.sh: no index written" >&2; exit 1; }
  echo "$(awk -v a="$t0" -v b="$(cat "$tmp/exec_at")" 'BEGIN { print b - a }') \
$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }') $(awk '{ print $1 + $2 }' "$tmp/cpu")" >>"$tmp/rows"
done
awk '
  function med(col,   n, i, j, t, a) {
    n = 0; for (i = 1; i <= NR; i++) a[++n] = v[i, col]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return sprintf("%.3f s (%.3f-%.3f)", a[int((n + 1) / 2)], a[1], a[n])
  }
  { v[NR, 1] = $1; v[NR, 2] = $2; v[NR, 3] = $3 }
  END {
    printf "to exec (start -> command runs): %s\n", med(1)
    printf "total (aa-record -q -o x.aas -- true): %s\n", med(2)
    printf "aa-record CPU (user+sys) for the total: %s\n", med(3)
  }' "$tmp/rows"
echo "startup.sh: done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
