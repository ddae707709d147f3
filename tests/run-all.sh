#!/usr/bin/env bash
# The test command (README): installs missing Debian 12 packages, configures, builds
# and runs every test with ctest. Run as root (or with sudo available) on Debian 12.
# Tests that load BPF probes run for real as root and skip with a reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libcapnp-dev capnproto liburing-dev libsqlite3-dev libzstd-dev
  qt6-base-dev qt6-charts-dev libgl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libclang-rt-14-dev
  libnghttp2-dev
  curl openssl python3 nodejs strace xvfb
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

# The reading side alone (schema, store, aa-session, aa-view), as it builds on a
# machine without libbpf, bpftool, clang-for-BPF or liburing: a Linux-only call there
# breaks this build, not a user's laptop.
portable="$build-portable"
cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_RECORDER=OFF -DAA_BENCH=OFF
cmake --build "$portable" -j"$(nproc)"
(cd "$portable" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
