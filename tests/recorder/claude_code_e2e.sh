#!/usr/bin/env bash
# End to end, as root: each pinned Claude Code (fixtures/agents/install.sh) runs
# non-interactively under aa-record against the loopback mock LLM API
# (fixtures/server/server.js, TLS with a test CA: the prompt says "tool", so its first
# answer calls the Bash tool with a command writing a file, the next, which carries the
# tool_result, is text), inside a network namespace that has only loopback. Asserts
# from the session: the prompt in tls.write, the answer in tls.read (with the socket
# fd), every request body the mock received and every response it sent byte for byte
# in the gapless streams, both LLM calls in `aa-session llm --json` (model, prompt,
# answer, the Bash tool call), the tool's exec and the file's file.close with its
# bytes.
#
# usage: claude_code_e2e.sh AA_RECORD AA_SESSION [CLAUDE_EXECUTABLE...]
# Exit 77 (skip) without root, unshare, or an installed Claude Code.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_TOOLS="unshare ip python3 openssl" . "$here/agent_e2e_common.sh" "$@"

agents_under_test "Claude Code" "@anthropic-ai+claude-code@*/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
exes=("${agents_found[@]}")

failures=0
for exe in "${exes[@]}"; do
  tmp=$(mktemp -d /tmp/aa-claude-e2e.XXXXXX)
  mkdir -p "$tmp/work" "$tmp/home"
  out="$tmp/work/out.txt"
  start_mock "$tmp" "$out"
  prompt="Please use a tool to write the file for run $RANDOM$RANDOM"
  record_claude_code "$tmp" "$exe" "https://127.0.0.1:$h1" "$prompt" NODE_EXTRA_CA_CERTS="$ca"
  if AA_CHECKS_DIR="$here" python3 - "$exe" "$prompt" "$out" "$tmp" "$rc" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["AA_CHECKS_DIR"])
from agent_checks import Run
exe, prompt, out, tmp, rc = sys.argv[1:6]
run = Run(tmp)
check, events, calls = run.check, run.events, run.calls
writes, reads = run.writes, run.reads
check(rc == "0", f"aa-record/claude exited {rc}: {open(tmp + '/claude.err').read()[-400:]}")
printed = open(f"{tmp}/claude.out").read().strip()
check(printed.startswith("echo: ") and prompt in printed, f"claude printed the final answer (got {printed[-200:]!r})")
check(any(prompt in e.get("data", "") for e in writes), "the prompt is in a tls.write")
check(all(e.get("lib") == exe and e.get("func") == "SSL_write" for e in writes) and writes,
      "tls.write events come from the discovered SSL_write in the executable")
check(any("echo: " in e.get("data", "") for e in reads), "the answer is in a tls.read")
check(all(e.get("fd", -1) >= 0 for e in reads) and reads, "tls.read events carry the socket fd")
run.check_wire()
tool = [c for c in calls if c.get("tool_calls")]
final = [c for c in calls if not c.get("tool_calls") and "tool_result" in json.dumps(c.get("request"))]
check(len(tool) == 1, f"one LLM call with a tool call (got {len(tool)})")
check(len(final) == 1, f"one LLM call carrying the tool's result (got {len(final)})")
for c in tool + final:
    check(c.get("model", "").startswith("claude"), "the model is named")
    check(prompt in json.dumps(c.get("request")), "the prompt is in the LLM call's request")
    check(c.get("response_text", "").startswith("echo: ") and prompt in c.get("response_text", ""),
          f"the call's answer (got {c.get('response_text', '')[-120:]!r})")
if tool:
    tc = tool[0]["tool_calls"][0]
    check(tc.get("name") == "Bash" and out in tc.get("input", {}).get("command", ""),
          f"the tool call is Bash writing the file (got {tc})")
run.check_tool_effects(out, "agent-wrote-this")
sys.exit(run.finish())
PY
  then
    echo "ok: $exe ($(wc -l < "$tmp/llm.json") LLM calls, $(grep -c '"tls\.' "$tmp/events.json") TLS events)"
    rm -rf "$tmp"
  else
    echo "FAIL: $exe (kept $tmp)"
    failures=$((failures + 1))
  fi
done
# bun itself (BoringSSL linked in, as in every `bun build --compile` agent): with an
# empty discovery cache, the very first request, made ~10 ms after start, is captured,
# because aa-record examines the command's executable before starting it.
agents=$("$src/fixtures/agents/install.sh" --print-dir)
bun=$(ls "$agents"/bun@*/node_modules/@oven/bun-linux-x64/bin/bun 2>/dev/null | head -1 || true)
if [ -n "$bun" ] && ((${#e2e_args[@]} == 0)); then
  tmp=$(mktemp -d /tmp/aa-bun-e2e.XXXXXX)
  node "$src/fixtures/server/server.js" > "$tmp/port" 2> /dev/null &
  server=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  read -r port _ < "$tmp/port"
  AA_RECORD_CACHE_DIR="$tmp/cache" NODE_TLS_REJECT_UNAUTHORIZED=0 \
    "$record" -q -o "$tmp/bun.aas" -- "$bun" "$src/bench/recorder/tls_fetch_loop.js" "https://127.0.0.1:$port/hello" 0 > /dev/null
  kill "$server" 2>/dev/null || true
  "$session" events --kind tls.write --json "$tmp/bun.aas" > "$tmp/w.json"
  if grep -q 'GET /hello HTTP/1.1' "$tmp/w.json" && [ "$(wc -l < "$tmp/w.json")" -eq 1 ]; then
    echo "ok: $bun: the first request is captured with an empty discovery cache"
    rm -rf "$tmp"
  else
    echo "FAIL: $bun: first request not captured (kept $tmp)"
    failures=$((failures + 1))
  fi
fi
exit $((failures > 0))
