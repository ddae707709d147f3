#!/usr/bin/env bash
# The test command (README): installs missing Debian 12 packages, builds everything
# and runs every test with ctest. Tests that load BPF probes run for real as root and
# skip with a reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
BUILD_DIR=$build bash tests/setup.sh
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

# The reading side alone (schema, store, aa-session, aa-view), as it builds on a
# machine without libbpf, bpftool, clang-for-BPF or liburing: a Linux-only call there
# breaks this build, not a user's laptop.
portable="$build-portable"
cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_RECORDER=OFF -DAA_BENCH=OFF
cmake --build "$portable" -j"$(nproc)"
(cd "$portable" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
