#!/usr/bin/env bash
# Installs the Debian 12 packages aa-record needs (only the missing ones), then
# configures and builds into build/ (or $BUILD_DIR). Arguments: CMake targets to
# build (default: everything). Run as root, or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libcapnp-dev capnproto liburing-dev libsqlite3-dev libzstd-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libclang-rt-14-dev
  libnghttp2-dev libssl-dev libbrotli-dev
  curl openssl python3 nodejs zstd xvfb sudo
  # the peers and tools the benchmarks (bench/) measure against
  strace linux-perf bpftrace time
  # the fresh-root CI check (tests/fresh-root.sh) and network namespaces for agents
  debootstrap iproute2 util-linux
)
# npm installs the pinned agent CLIs and SDKs the tests record (fixtures/agents/install.sh,
# tests/replay/sdk_test.sh). Debian's npm package goes with Debian's nodejs; a node that
# brings its own npm (nodesource's conflicts with Debian's npm) is kept as it is.
command -v npm >/dev/null || packages+=(npm)
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
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
