#!/bin/sh
# aa-session llm/http/export over the sessions recorded from real clients
# (fixtures/apis/*.aas): every call comes out with model, messages, answer, tool calls
# and tokens; the WebSocket messages are in `http --json`; the chrome trace has a slice
# per call of every provider.
# usage: apis_cli_test.sh AA_SESSION FIXTURE_DIR
set -eu
bin=$1 dir=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/aa-apis-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "apis_cli_test: $*" >&2; exit 1; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

for name in genai gemini-cli openai anthropic h2 ws raw; do
  [ -f "$dir/$name.aas" ] || fail "$dir/$name.aas missing: run fixtures/apis/record.sh"
  cp "$dir/$name.aas" "$work/$name.aas"
  "$bin" llm --json "$work/$name.aas" >"$work/$name.llm.jsonl" 2>"$work/err" ||
    fail "llm --json $name failed: $(cat "$work/err")"
  "$bin" http --json "$work/$name.aas" >"$work/$name.http.jsonl" 2>"$work/err" ||
    fail "http --json $name failed: $(cat "$work/err")"
  "$bin" export --format chrome-trace "$work/$name.aas" -o "$work/$name.trace.json" 2>"$work/err" ||
    fail "export $name failed: $(cat "$work/err")"
done
"$py" - "$work" <<'PY' || fail "output is not what the contract says"
import json, os, sys
work = sys.argv[1]
want = {"genai": 3, "gemini-cli": 2, "openai": 5, "anthropic": 2, "h2": 5, "ws": 2, "raw": 8}
providers = set()
for name, n in want.items():
    calls = [json.loads(l) for l in open(os.path.join(work, name + ".llm.jsonl"))]
    assert len(calls) == n, (name, len(calls))
    for c in calls:
        assert c["model"] and c["request"] is not None, (name, c["index"])
        assert c["response_text"].startswith("echo: "), (name, c["response_text"])
        assert c["usage"]["input_tokens"] and c["usage"]["output_tokens"], (name, c["usage"])
        assert not c["incomplete"], (name, c["problem"])
        providers.add(c["provider"])
    assert any(t["input"] for c in calls for t in c["tool_calls"]) or name in ("h2",), name
    trace = json.load(open(os.path.join(work, name + ".trace.json")))
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    assert sum(1 for e in events if e.get("cat") == "llm") == n, name
assert providers == {"anthropic", "openai", "google", "ollama"}, providers
ws = [json.loads(l) for l in open(os.path.join(work, "ws.http.jsonl"))]
assert ws[0]["status"] == 101 and ws[0]["websocket"], ws[0].keys()
assert {m["from"] for m in ws[0]["websocket"]} == {"client", "server"}
assert any(m["compressed"] for m in ws[0]["websocket"])
PY
echo "apis_cli_test: ok"
