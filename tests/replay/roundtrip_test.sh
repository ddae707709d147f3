#!/bin/sh
# aa-session serve round trip over the recorded fixture fixtures/llm/agent.aas: its
# agent (Python: Anthropic, Chat Completions and Responses, streamed and not, gzip, a
# cut stream, a 429; curl; Node keep-alive) runs under aa-record against the mock, and
# the calls it makes and the answers it gets equal the recording's, call for call
# (`aa-session diff`, LLM area). The fixture's two HTTP/2 calls are not replayed (the
# mock speaks HTTP/1.1): they must be the only calls missing. Root only (exit 77
# otherwise). usage: roundtrip_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
skip() { echo "SKIP: roundtrip_test: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (aa-record loads BPF probes)"
for t in unshare ip curl python3; do command -v "$t" >/dev/null 2>&1 || skip "needs $t"; done
command -v node >/dev/null 2>&1 || skip "needs node (the fixture's Node calls)"
[ -x "$build/aa-record" ] || skip "aa-record not built (-DAA_RECORDER=OFF)"
if [ -z "${AA_ROUNDTRIP_NETNS:-}" ]; then
  exec unshare --net env AA_ROUNDTRIP_NETNS=1 sh "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d "${TMPDIR:-/tmp}/aa-roundtrip.XXXXXX")
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; [ -n "${AA_KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "roundtrip_test: $*" >&2; exit 1; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
cp "$src/fixtures/llm/agent.aas" "$work/fixture.aas"

"$build/aa-session" serve --tls --ca-dir "$work/ca" --env-file "$work/env" \
  --report "$work/report.json" "$work/fixture.aas" >/dev/null 2>"$work/serve.log" &
serve_pid=$!
i=0
while [ ! -s "$work/env" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || fail "serve did not start: $(cat "$work/serve.log")"; sleep 0.1
done
. "$work/env"
port=${ANTHROPIC_BASE_URL##*:}
"$build/aa-record" -q -o "$work/replayed.aas" -- sh "$src/fixtures/llm/agent.sh" "$port" "$SSL_CERT_FILE" \
  >"$work/agent.out" 2>&1 || { cat "$work/agent.out"; fail "the agent failed against the mock"; }
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
serve_pid=
grep -q '12 requests, 12 of 14 recorded exchanges served, 0 divergences, 2 never requested' "$work/serve.log" ||
  fail "unexpected serve summary: $(cat "$work/serve.log")"
[ "$rc" -eq 1 ] || fail "serve exit $rc with 2 calls never requested, expected 1"

"$build/aa-session" diff --json "$work/fixture.aas" "$work/replayed.aas" >"$work/diff.json" ||
  fail "diff failed"
"$py" - "$work/diff.json" <<'PY' || fail "the replayed calls differ from the recording: $(cat "$work/diff.json")"
import json, sys
d = json.load(open(sys.argv[1]))
llm = [x for x in d["differences"] if x["area"] == "llm"]
assert d["a"]["llm_calls"] == 14 and d["b"]["llm_calls"] == 12, (d["a"], d["b"])
assert [(x["change"], x["call_a"]) for x in llm] == [("removed", 12), ("removed", 13)], llm
PY
echo "roundtrip_test: ok (12 calls replayed: requests and answers equal the recording)"
