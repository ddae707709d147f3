#!/usr/bin/env bash
# The test command (README): installs missing Debian 12 packages, builds everything
# and runs every test with ctest. Tests that load BPF probes run for real as root and
# skip with a reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
BUILD_DIR=$build bash tests/setup.sh
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

# The reading side alone, configured as on a machine without libbpf, bpftool,
# clang-for-BPF or liburing (-DAA_RECORDER=OFF): configure must not look for them, and
# the store must build and pass without io_uring (its portable writer path). aa-view's
# sources do not change with this option, so they are not compiled a second time.
portable="$build-portable"
cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_RECORDER=OFF -DAA_BENCH=OFF
cmake --build "$portable" -j"$(nproc)" --target store_test aa-session
(cd "$portable" && ctest --output-on-failure -j"$(nproc)" --timeout 600 \
   -R '^(Format|Kind|RoundTrip|Writers|Damage|Hostile|DiskFull|Index|Portability)\.')

# The reader under libFuzzer for a bounded time (tests/fuzz/run_fuzz.sh: 10 s on the
# bytes as mutated, 10 s with every checksum fixed so mutations reach the decoders).
# Only the store is built, with clang and the sanitizers; skipped with a reason when
# clang or its libFuzzer runtime is missing.
fuzz="$build-fuzz"
if command -v clang++ >/dev/null; then
  CC=clang CXX=clang++ cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_FUZZ=ON \
    -DAA_RECORDER=OFF -DAA_VIEWER=OFF -DAA_BENCH=OFF
  if cmake --build "$fuzz" --target help | grep -q '\breader_fuzz\b'; then
    cmake --build "$fuzz" -j"$(nproc)" --target reader_fuzz aa-session
    (cd "$fuzz" && ctest --output-on-failure -L fuzz --timeout 300)
  else
    echo "fuzz: reader_fuzz not configured (the reason is in the configure output above); skipped"
  fi
else
  echo "fuzz: clang++ not installed; reader fuzzing skipped"
fi
