#!/usr/bin/env bash
# End to end, as root: Claude Code (the newest pinned one, fixtures/agents/install.sh)
# talking to its API over plain HTTP (ANTHROPIC_BASE_URL=http://..., as through a local
# proxy such as LiteLLM or claude-code-router) under aa-record, inside a network
# namespace with only loopback, against the mock's plain listener (fixtures/server/
# server.js --plain-port: the Bash tool call, then the answer to its result). Asserts
# from the session: the bytes come from the socket itself (no TLS library, a syscall as
# func), every request body and response byte for byte in gapless streams, both LLM
# calls in `aa-session llm --json` with the Bash tool call, the tool's exec and file,
# and no "not decrypted" line at the stop.
#
# usage: claude_code_plain_e2e.sh AA_RECORD AA_SESSION [CLAUDE_EXECUTABLE...]
# Exit 77 (skip) without root, unshare, or an installed Claude Code.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_TOOLS="unshare ip python3 openssl" . "$here/agent_e2e_common.sh" "$@"

agents_under_test "Claude Code" "@anthropic-ai+claude-code@*/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
exe=${agents_found[${#agents_found[@]} - 1]}

tmp=$(mktemp -d /tmp/aa-claude-plain-e2e.XXXXXX)
mkdir -p "$tmp/work" "$tmp/home"
out="$tmp/work/out.txt"
start_mock "$tmp" "$out"
prompt="Please use a tool to write the file for run $RANDOM$RANDOM"
record_claude_code "$tmp" "$exe" "http://127.0.0.1:$plain" "$prompt"
if AA_CHECKS_DIR="$here" python3 - "$exe" "$prompt" "$out" "$tmp" "$rc" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["AA_CHECKS_DIR"])
from agent_checks import Run
exe, prompt, out, tmp, rc = sys.argv[1:6]
run = Run(tmp)
check = run.check
check(rc == "0", f"claude exited 0 (got {rc}): {open(f'{tmp}/claude.err').read()[-400:]}")
data = [e for e in run.events if e["kind"] in ("tls.write", "tls.read", "net.send", "net.recv")]
check(data, "stream events were recorded")
syscalls = {"write", "writev", "sendto", "sendmsg", "read", "readv", "recvfrom", "recvmsg"}
check(all(e.get("lib", "") == "" and e.get("func") in syscalls for e in data),
      "every stream event is taken from the socket: no library, a syscall as func "
      f"(got {sorted({(e.get('lib', ''), e.get('func')) for e in data})})")
check(all(e.get("fd", -1) >= 0 for e in data), "every stream event carries the socket fd")
check(any(prompt in (e.get("data") or "") for e in data if e["kind"] in ("tls.write", "net.send")) or
      any(prompt in s.decode("latin-1") for s in run.streams("tls.write").values()),
      "the prompt is in the written stream")
run.check_wire()
calls = run.calls
tool = [c for c in calls if c.get("tool_calls")]
final = [c for c in calls if not c.get("tool_calls") and "tool_result" in json.dumps(c.get("request"))]
check(len(tool) == 1, f"one LLM call with a tool call (got {len(tool)})")
check(len(final) == 1, f"one LLM call carrying the tool's result (got {len(final)})")
if tool:
    tc = tool[0]["tool_calls"][0]
    check(tc.get("name") == "Bash" and out in tc.get("input", {}).get("command", ""),
          f"the tool call is Bash writing the file (got {tc})")
run.check_tool_effects(out, "agent-wrote-this")
err = open(f"{tmp}/claude.err").read()
check("not decrypted" not in err, f"no blind spot reported for the plain connection: {err[-300:]}")
sys.exit(run.finish())
PY
then
  echo "ok: $exe over plain HTTP ($(wc -l < "$tmp/llm.json") LLM calls)"
  rm -rf "$tmp"
else
  echo "FAIL: $exe over plain HTTP (kept $tmp)"
  exit 1
fi
