#!/bin/sh
# aa-session diff / serve as commands: exit codes (0 same, 1 differs with --exit-code or
# failure, 2 usage), one-line errors, JSON that another parser reads, and a plain-HTTP
# serve of the fixture answered with curl (no root needed).
# usage: cli_test.sh AA_SESSION SOURCE_DIR
set -eu
bin=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/aa-replay-cli.XXXXXX")
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "replay cli_test: $*" >&2; exit 1; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
cp "$src/fixtures/llm/agent.aas" "$work/llm.aas"
cp "$src/fixtures/core/files.aas" "$work/files.aas"
cp "$src/fixtures/core/exec-tree.aas" "$work/exec.aas"
expect() {   # RC CMD...: runs CMD, checks its exit status
  want=$1; shift
  rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$* exited $rc, expected $want: $(cat "$work/err")"
}

expect 0 "$bin" diff --exit-code "$work/llm.aas" "$work/llm.aas"
grep -q '^no differences (.*14 llm calls)$' "$work/out" || fail "no 'no differences': $(cat "$work/out")"
expect 1 "$bin" diff --exit-code "$work/files.aas" "$work/exec.aas"
grep -q '^28 differences: exec 21, file 7, peer 0, llm 0$' "$work/out" || fail "summary: $(tail -1 "$work/out")"
expect 0 "$bin" diff "$work/files.aas" "$work/exec.aas"
expect 0 "$bin" diff --exit-code --ignore 'exec:*' --ignore 'file:*' "$work/files.aas" "$work/exec.aas"
expect 0 "$bin" diff --json "$work/files.aas" "$work/exec.aas"
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["same"] and len(d["differences"])==28; assert all(x["area"] in ("exec","file") for x in d["differences"])' "$work/out" ||
  fail "diff --json: $(head -c 300 "$work/out")"
expect 2 "$bin" diff --ignore 'bogus' "$work/files.aas" "$work/exec.aas"
grep -q "^aa-session: diff: bad --ignore 'bogus'" "$work/err" || fail "bad --ignore: $(cat "$work/err")"
expect 2 "$bin" diff "$work/files.aas"
expect 1 "$bin" diff "$work/files.aas" "$work/missing.aas"
grep -q "missing.aas" "$work/err" || fail "missing file not named: $(cat "$work/err")"

expect 1 "$bin" serve "$work/files.aas"
grep -q 'no recorded HTTP exchange' "$work/err" || fail "serve of a session without traffic: $(cat "$work/err")"
expect 2 "$bin" serve --port 70000 "$work/llm.aas"
expect 2 "$bin" serve --speed fast "$work/llm.aas"
expect 2 "$bin" serve --ca-dir "$work/ca" "$work/llm.aas"

# Plain HTTP: one recorded call answered, one diverging, the summary and the report.
"$bin" serve --env-file "$work/env" --report "$work/report.json" "$work/llm.aas" \
  >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
i=0
while [ ! -s "$work/env" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || fail "serve did not start: $(cat "$work/serve.err")"; sleep 0.1
done
grep -q '^export ANTHROPIC_BASE_URL=http://127.0.0.1:[0-9]*$' "$work/serve.out" || fail "env: $(cat "$work/serve.out")"
. "$work/env"
body='{"model":"claude-fixture-1","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Curl streams this"}]}'
curl -sS -N -H 'content-type: application/json' --data-binary "$body" "$ANTHROPIC_BASE_URL/v1/messages" \
  >"$work/answer" || fail "curl against the mock failed"
grep -q 'message_stop' "$work/answer" || fail "the recorded stream was not served: $(head -c 300 "$work/answer")"
code=$(curl -sS -o "$work/err.json" -w '%{http_code}' -H 'content-type: application/json' \
  --data-binary '{"model":"claude-fixture-1","messages":[{"role":"user","content":"unrecorded"}]}' \
  "$ANTHROPIC_BASE_URL/v1/messages")
[ "$code" = 400 ] || fail "a divergent request got $code, not 400"
"$py" -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["type"]=="error" and "messages[0].content" in e["error"]["message"], e' "$work/err.json" ||
  fail "the error is not Anthropic-shaped: $(cat "$work/err.json")"
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
serve_pid=
[ "$rc" -eq 1 ] || fail "serve exit $rc after a divergence, expected 1"
grep -q '2 requests, 1 of 14 recorded exchanges served, 1 divergences, 13 never requested' "$work/serve.err" ||
  fail "summary: $(cat "$work/serve.err")"
"$py" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["divergences"])==1 and r["divergences"][0]["field"]=="messages[0].content" and len(r["unserved"])==13, r' "$work/report.json" ||
  fail "report: $(cat "$work/report.json")"
echo "replay cli_test: ok"
