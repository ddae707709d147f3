#!/usr/bin/env bash
# End to end, as root: each pinned Codex CLI (fixtures/agents/install.sh; rustls over
# aws-lc, static-pie and stripped) runs `codex exec` under aa-record against the loopback
# mock of the OpenAI Responses API in fixtures/server/server.js (HTTPS with a test CA,
# HTTP/1.1: it offers no ALPN h2; the answer streams as SSE), inside a network namespace
# with only loopback. The mock answers the first request with a call of Codex's shell
# tool (exec_command, {"cmd": ...}) writing a file in the work directory, the next with
# text. Asserts from the session: the request to POST /v1/responses in tls.write (from the
# discovered EVP_AEAD_CTX_seal), the SSE answer in tls.read (from EVP_AEAD_CTX_open, with
# the socket fd), both directions in one connection with gapless offsets, no TLS
# handshake bytes in the streams, every request body and response the mock saw byte for
# byte, the exchange in `aa-session http`, both calls in `aa-session llm --json`
# (provider, model, prompt, answer, the exec_command call; the second carries its
# output back), the tool's exec and the file's file.close with its bytes.
#
# usage: codex_e2e.sh AA_RECORD AA_SESSION [CODEX_EXECUTABLE...]
# Exit 77 (skip) without root, unshare, node, openssl or an installed Codex.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_TOOLS="unshare ip python3 openssl" . "$here/agent_e2e_common.sh" "$@"

agents_under_test Codex "@openai+codex@*/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
exes=("${agents_found[@]}")

failures=0
for exe in "${exes[@]}"; do
  tmp=$(mktemp -d /tmp/aa-codex-e2e.XXXXXX)
  mkdir -p "$tmp/work" "$tmp/home/codex"
  out="$tmp/work/out.txt"
  start_mock "$tmp" "$out"
  cat > "$tmp/home/codex/config.toml" <<EOF
model = "gpt-5-mock"
model_provider = "mock"
[model_providers.mock]
name = "mock"
base_url = "https://127.0.0.1:$h1/v1"
env_key = "MOCK_API_KEY"
wire_api = "responses"
[features]
plugins = false
EOF
  # "tool" makes the mock's first answer a call of Codex's shell tool; Codex sends the
  # result back in a second request (on a connection of its own: it closes each after
  # response.completed)
  prompt="please use a tool for run $RANDOM$RANDOM"
  set +e
  (
    cd "$tmp/work"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp/home" \
      CODEX_HOME="$tmp/home/codex" MOCK_API_KEY=sk-mock-e2e-key SSL_CERT_FILE="$ca" \
      AA_RECORD_CACHE_DIR="$tmp/cache" \
      timeout 180 "$record" -q -o "$tmp/run.aas" -- "$exe" exec --skip-git-repo-check \
      --dangerously-bypass-approvals-and-sandbox "$prompt" < /dev/null > "$tmp/codex.out" 2> "$tmp/codex.err"
  )
  rc=$?
  set -e
  stop_mock

  "$session" events --json "$tmp/run.aas" > "$tmp/events.json"
  "$session" http "$tmp/run.aas" > "$tmp/http.txt"
  "$session" llm --json "$tmp/run.aas" > "$tmp/llm.json"
  if AA_CHECKS_DIR="$here" python3 - "$exe" "$prompt" "$out" "$tmp" "$rc" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["AA_CHECKS_DIR"])
from agent_checks import Run
exe, prompt, out, tmp, rc = sys.argv[1:6]
answer = f"echo: {prompt}"
run = Run(tmp)
check, calls, writes, reads = run.check, run.calls, run.writes, run.reads
check(rc == "0", f"aa-record/codex exited {rc}: {open(tmp + '/codex.err').read()[-400:]}")
check(answer in open(f"{tmp}/codex.out").read(), "codex printed the mock's answer")
check(writes and all(e.get("lib") == exe and e.get("func") == "EVP_AEAD_CTX_seal" for e in writes),
      "tls.write events come from the discovered EVP_AEAD_CTX_seal in the executable")
check(reads and all(e.get("lib") == exe and e.get("func") == "EVP_AEAD_CTX_open" for e in reads),
      "tls.read events come from the discovered EVP_AEAD_CTX_open")
check(all(e.get("fd", -1) >= 0 for e in reads) and reads, "tls.read events carry the socket fd")
ws, rs = run.streams("tls.write"), run.streams("tls.read")
posts = [c for c, s in ws.items() if s.startswith(b"POST /v1/responses HTTP/1.1\r\n")]
check(posts, "a write stream starts with the request line (no handshake bytes, no inner content type)")
check(any(prompt.encode() in ws[c] for c in posts), "the prompt is in the request's tls.write stream")
for c in posts:
    check(c in rs and rs[c].startswith(b"HTTP/1.1 200 OK\r\n"), f"conn {c}: the answer is read on the same connection")
    check(c in rs and b"event: response.completed" in rs[c], f"conn {c}: the SSE stream is read through response.completed")
    check(b"\x17" not in ws[c][-1:] and b"\x16\x03" not in ws[c], f"conn {c}: no record framing in the plaintext")
check(all(b"sk-mock-e2e-key" not in s for s in ws.values()) and any(b"authorization: ****" in s for s in ws.values()),
      "the API key is redacted in place (redaction is on by default)")
run.check_wire()
http = open(f"{tmp}/http.txt").read()
check("POST" in http and "/v1/responses -> 200" in http, "aa-session http shows POST /v1/responses -> 200")
check(len(posts) == 2, f"two requests, each on its own connection (got {len(posts)})")
resp = [c for c in calls if c.get("api") == "responses"]
check(len(resp) == 2, f"aa-session llm shows both Responses calls (got {len(calls)} calls)")
for c in resp:
    check(c.get("provider") == "openai", "the provider is openai")
    check(c.get("model") == "gpt-5-mock", "the model is named")
    check(prompt in json.dumps(c.get("request")), "the prompt is in the LLM call's request")
    check(c.get("response_text") == answer, f"the answer is the call's response text (got {c.get('response_text')!r})")
    check(c.get("stop_reason") == "completed", "the call completed")
if len(resp) == 2:
    first, second = sorted(resp, key=lambda c: c["t_start_ns"])
    tcs = first.get("tool_calls") or []
    check([t.get("name") for t in tcs] == ["exec_command"],
          f"the first call asks for Codex's exec_command tool (got {first.get('tool_calls')})")
    if tcs:
        check(out in str((tcs[0].get("input") or {}).get("cmd", "")),
              f"the tool call's cmd writes the file (got {tcs[0].get('input')})")
    check("exec_command" in json.dumps(first.get("tools")), "the request declares exec_command")
    check("call_fx" in json.dumps(second.get("request")) and "Process exited with code 0" in json.dumps(second.get("request")),
          "the second request carries the tool's output (exit code 0)")
    check(not second.get("tool_calls"), "the second answer is text only")
run.check_tool_effects(out, "agent-wrote-this")
nw = sum(len(s) for s in ws.values())
nr = sum(len(s) for s in rs.values())
print(f"  {len(writes)} tls.write ({nw} bytes), {len(reads)} tls.read ({nr} bytes), {len(calls)} LLM calls")
sys.exit(run.finish())
PY
  then
    echo "ok: $exe"
    rm -rf "$tmp"
  else
    echo "FAIL: $exe (kept $tmp)"
    failures=$((failures + 1))
  fi
done
exit $((failures > 0))
