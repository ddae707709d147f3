#!/usr/bin/env bash
# The test command (README): installs missing Debian 12 packages, builds everything
# and runs every test with ctest. Tests that load BPF probes run for real as root and
# skip with a reason otherwise. Under CI (CI=true, as root, every package installed)
# nothing has a reason to skip: a skipped test fails the run, so that a missing tool
# or package cannot pass for green.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
no_skips=${AA_NO_SKIPS:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# ctest with its output kept, so that skipped tests can be counted afterwards.
run_ctest() {
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@") 2>&1 | tee -a "$log"
}

BUILD_DIR=$build bash tests/setup.sh
# The real agents the TLS tests record (pinned npm versions, outside the repository;
# tests/setup.sh installs npm). Under CI a failed install fails the run (through the
# agent tests' skips); elsewhere those tests skip and say why.
export AA_AGENTS_DIR=${AA_AGENTS_DIR:-$(bash fixtures/agents/install.sh --print-dir)}
bash fixtures/agents/install.sh || echo "run-all.sh: fixtures/agents/install.sh failed: the agent tests will skip"
run_ctest "$build"

# The reading side alone, configured as on a machine without libbpf, bpftool,
# clang-for-BPF or liburing (-DAA_RECORDER=OFF): configure must not look for them, and
# the store must build and pass without io_uring (its portable writer path), and the
# recorder's decoding library (recorder_decode) with its tests without the BPF toolchain.
# aa-view's sources do not change with this option, so they are not compiled a second time.
portable="$build-portable"
cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_RECORDER=OFF -DAA_BENCH=OFF
cmake --build "$portable" -j"$(nproc)" --target store_test aa-session recorder_unit_test redact_rules_test
run_ctest "$portable" -R '^(Format|Kind|EventCatalog|LinuxAbi|RoundTrip|Writers|Damage|Hostile|DiskFull|Index|Portability|DecoderTest|Paths|RecordQueue|Fd|Redact|RedactArgv|RedactH)\.'

# The reader under libFuzzer for a bounded time (tests/fuzz/run_fuzz.sh: 10 s on the
# bytes as mutated, 10 s with every checksum fixed so mutations reach the decoders).
# Only the store is built, with clang and the sanitizers (tests/setup.sh installs them).
fuzz="$build-fuzz"
CC=clang CXX=clang++ cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_FUZZ=ON \
  -DAA_RECORDER=OFF -DAA_VIEWER=OFF -DAA_BENCH=OFF
cmake --build "$fuzz" -j"$(nproc)" --target reader_fuzz aa-session
run_ctest "$fuzz" -L fuzz --timeout 300

if [ "$no_skips" = 1 ] && grep -q '(Skipped)' "$log"; then
  echo "run-all.sh: tests were skipped under CI, where everything they need is installed:" >&2
  grep '(Skipped)' "$log" >&2
  exit 1
fi
