#!/usr/bin/env bash
# The test command (README): installs missing Debian 12 packages, builds everything
# and runs every test with ctest. Tests that load BPF probes run for real as root and
# skip with a reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
BUILD_DIR=$build bash tests/setup.sh
# The real agents the TLS tests record (pinned npm versions, outside the repository);
# without npm or the registry those tests skip and say why.
if command -v npm >/dev/null; then
  bash fixtures/agents/install.sh || echo "run-all: fixtures/agents/install.sh failed: agent tests will skip"
else
  echo "run-all: npm not found: the agent tests (claude_code_e2e, RealAgentsTest) will skip"
fi
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

# The reading side alone, configured as on a machine without libbpf, bpftool,
# clang-for-BPF or liburing (-DAA_RECORDER=OFF): configure must not look for them, and
# the store must build and pass without io_uring (its portable writer path). aa-view's
# sources do not change with this option, so they are not compiled a second time.
portable="$build-portable"
cmake -S . -B "$portable" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_RECORDER=OFF -DAA_BENCH=OFF
cmake --build "$portable" -j"$(nproc)" --target store_test aa-session
(cd "$portable" && ctest --output-on-failure -j"$(nproc)" --timeout 600 \
   -R '^(Format|Kind|RoundTrip|Writers|Damage|Index|Portability)\.')
