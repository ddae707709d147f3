#!/bin/sh
# aa-session http|llm over the recorded fixture: line counts, valid JSON, the cache,
# filters, and one-line errors with the documented exit codes.
# usage: cli_test.sh AA_SESSION FIXTURE
set -eu
bin=$1 fixture=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/aa-traffic-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "cli_test: $*" >&2; exit 1; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3   # a version-manager shim costs seconds a start

cp "$fixture" "$work/s.aas"
"$bin" llm --json "$work/s.aas" >"$work/llm.jsonl" 2>"$work/err" || fail "llm --json failed: $(cat "$work/err")"
[ "$(wc -l <"$work/llm.jsonl")" -eq 14 ] || fail "expected 14 calls, got $(wc -l <"$work/llm.jsonl")"
"$py" - "$work/llm.jsonl" <<'PY' || fail "llm --json output is not what the contract says"
import json, sys
need = {"provider", "model", "request", "response_text", "tool_calls", "usage", "stream",
        "status", "t_start_ns", "t_end_ns", "pid", "comm"}
calls = [json.loads(l) for l in open(sys.argv[1])]
for c in calls:
    missing = need - c.keys()
    assert not missing, missing
    assert c["t_start_ns"] <= c["t_end_ns"]
assert calls[0]["response_text"] == "echo: Please use a tool to read the file"
assert calls[0]["tool_calls"][0]["input"] == {"path": "/tmp/fixture.txt"}
assert calls[6]["incomplete"] is True
PY
"$bin" http "$work/s.aas" >"$work/http.txt" || fail "http failed"
[ "$(wc -l <"$work/http.txt")" -eq 14 ] || fail "expected 14 exchanges"
grep -q "INCOMPLETE" "$work/http.txt" || fail "the cut stream is not marked"
"$bin" http --json --max-body 10 "$work/s.aas" | "$py" -c '
import json, sys
for l in sys.stdin:
    x = json.loads(l)
    assert len(x["response"]["body"]) <= 10
' || fail "http --json --max-body"
# The second run reads the cache in the index.
"$bin" llm --stats "$work/s.aas" 2>"$work/stats" >/dev/null
grep -q "\[cached\]" "$work/stats" || fail "second run did not use the cache: $(cat "$work/stats")"
pid=$("$py" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["pid"])' "$work/llm.jsonl")
[ "$("$bin" llm --pid "$pid" "$work/s.aas" | wc -l)" -eq 9 ] || fail "--pid filter"

# Errors: one line, exit 1 for a bad file, 2 for bad usage.
set +e
"$bin" llm "$work/missing.aas" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] || fail "missing file: rc $rc, $(cat "$work/err")"
printf 'not a session at all' >"$work/bad.aas"
"$bin" http "$work/bad.aas" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] || fail "bad file: rc $rc, $(cat "$work/err")"
"$bin" llm --pid x "$work/s.aas" 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] || fail "bad --pid: rc $rc, $(cat "$work/err")"
"$bin" http 2>"$work/err"; rc=$?
[ $rc -eq 2 ] || fail "no FILE: rc $rc"
echo "cli_test: ok"
