#!/bin/sh
# The record -> serve -> re-record -> diff loop with the demo agent
# (fixtures/demo/replay-demo.sh), twice: the same agent gives no divergence and no
# difference; a changed prompt in the second run is named by both the mock's report
# and the diff. Needs root (aa-record); exits 77 (skipped) with the reason otherwise.
# usage: workflow_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
skip() { echo "SKIP: workflow_test: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (aa-record loads BPF probes)"
for t in unshare ip openssl curl python3 node; do
  command -v "$t" >/dev/null 2>&1 || skip "needs $t"
done
[ -x "$build/aa-record" ] || skip "aa-record not built (-DAA_RECORDER=OFF)"
work=$(mktemp -d "${TMPDIR:-/tmp}/aa-workflow.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "workflow_test: $*" >&2; exit 1; }

# 1. The same agent: the mock answers everything, the runs do the same.
BUILD_DIR=$build sh "$src/fixtures/demo/replay-demo.sh" "$work/same" >"$work/same.out" 2>&1 ||
  { cat "$work/same.out"; fail "a replay of the unchanged agent diverged or differs"; }
grep -q '^no differences' "$work/same.out" || { cat "$work/same.out"; fail "no 'no differences' line"; }
grep -q '3 of 3 recorded exchanges served, 0 divergences, 0 never requested' "$work/same.out" ||
  { cat "$work/same.out"; fail "the mock did not serve all 3 recorded exchanges"; }
# Both runs made the same calls, and the second one really went to the mock.
[ "$("$build/aa-session" llm "$work/same/b.aas" | wc -l)" -eq 2 ] || fail "expected 2 llm calls in b.aas"

# 2. A prompt change: the mock names the field, the diff shows it, both exit 1.
rc=0
AA_DEMO_TASK_B="Summarise the repo" BUILD_DIR=$build \
  sh "$src/fixtures/demo/replay-demo.sh" "$work/changed" >"$work/changed.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$work/changed.out"; fail "a changed prompt gave exit $rc, not 1"; }
grep -q 'differs from llm call 0 at messages\[0\].content: recorded "Summarise the workspace", received "Summarise the repo"' \
  "$work/changed.out" || { cat "$work/changed.out"; fail "the mock did not name the changed field"; }
grep -q '"field":"messages\[0\].content"' "$work/changed/serve-report.json" ||
  fail "the report does not name the field: $(cat "$work/changed/serve-report.json")"
grep -q '^~ llm call 0 / 0: messages\[0\].content: "Summarise the workspace" -> "Summarise the repo"' \
  "$work/changed.out" || { cat "$work/changed.out"; fail "the diff does not show the prompt change"; }
echo "workflow_test: ok"
