# Sourced by the recorder benchmarks (run.sh, tls_loop.sh, plain_loop.sh). Set `bench`
# (the script's name, for messages) before sourcing.

# bpftrace's syscall tracepoints, perf trace and perf probe need tracefs, which these
# machines do not mount: the script re-runs itself in a private mount namespace of its
# own and mounts it there, for this run only. Call as: bench_tracefs "$@"
bench_tracefs() {
  if [ ! -d /sys/kernel/tracing/events ] && [ -z "${AA_BENCH_NS:-}" ]; then
    exec unshare -m --propagation private env AA_BENCH_NS=1 "$0" "$@"
  fi
  if [ ! -d /sys/kernel/tracing/events ]; then
    mount -t tracefs tracefs /sys/kernel/tracing ||
      { echo "$bench: cannot mount tracefs (bpftrace and perf need it)" >&2; exit 1; }
  fi
}

# bench_build [BUILD_DIR] (default: the checkout's build/): sets build, record and
# session to the build's aa-record and aa-session, or exits naming what is missing.
bench_build() {
  build=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
  [ -d "$build" ] || { echo "$bench: build directory $build not found" >&2; exit 1; }
  build=$(cd "$build" && pwd)
  record=$build/aa-record
  session=$build/aa-session
  for t in "$record" "$session"; do
    [ -x "$t" ] || { echo "$bench: $t missing: build aa-record aa-session" >&2; exit 1; }
  done
}

# field NAME TEXT: the number after NAME= in TEXT
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
# calc EXPR [DECIMALS]
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
