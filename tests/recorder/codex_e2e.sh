#!/usr/bin/env bash
# End to end, as root: each pinned Codex CLI (fixtures/agents/install.sh; rustls over
# aws-lc, static-pie and stripped) runs `codex exec` under aa-record against the loopback
# mock of the OpenAI Responses API in fixtures/apis/server.js (HTTPS with a test CA,
# HTTP/1.1: it offers no ALPN h2; the answer streams as SSE), inside a network namespace
# with only loopback. Asserts from the session: the request to POST /v1/responses in
# tls.write (from the discovered EVP_AEAD_CTX_seal), the SSE answer in tls.read (from
# EVP_AEAD_CTX_open, with the socket fd), both directions in one connection with gapless
# offsets, no TLS handshake bytes in the streams, the exchange in `aa-session http` and
# both calls in `aa-session llm --json` (provider, model, prompt, answer; the first asks
# for a tool, the second carries its output back).
#
# usage: codex_e2e.sh AA_RECORD AA_SESSION [CODEX_EXECUTABLE...]
# Exit 77 (skip) without root, unshare, node, openssl or an installed Codex.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }

record=${1:?usage: $0 AA_RECORD AA_SESSION [CODEX...]}
session=${2:?usage: $0 AA_RECORD AA_SESSION [CODEX...]}
shift 2
record=$(realpath "$record")
session=$(realpath "$session")
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF uprobes)"
for tool in unshare ip python3 openssl node; do
  command -v "$tool" >/dev/null || skip "needs $tool"
done
npmdir=${AA_NPM_DIR:-/work/npm-cache-dir}

if [ -z "${AA_E2E_IN_NETNS:-}" ]; then
  # the mock's WebSocket package (pinned as in fixtures/apis/record.sh), before the
  # network goes away
  if [ ! -d "$npmdir/node_modules/ws" ]; then
    mkdir -p "$npmdir"
    (cd "$npmdir" && npm install --no-audit --no-fund --ignore-scripts ws@8.23.0) >/dev/null ||
      skip "cannot install ws@8.23.0 for the mock into $npmdir"
  fi
  # Codex tries other hosts at start: only loopback exists in here
  AA_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$record" "$session" "$@"
fi
ip link set lo up

exes=("$@")
if ((${#exes[@]} == 0)); then
  agents=$("$src/fixtures/agents/install.sh" --print-dir)
  shopt -s nullglob
  exes=("$agents"/@openai+codex@*/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex)
  shopt -u nullglob
fi
((${#exes[@]})) || skip "Codex not installed: run fixtures/agents/install.sh"

failures=0
for exe in "${exes[@]}"; do
  tmp=$(mktemp -d /tmp/aa-codex-e2e.XXXXXX)
  mkdir -p "$tmp/certs" "$tmp/work" "$tmp/home/codex"
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mock_anthropic as m; m.make_ca_and_leaf(sys.argv[2])' \
    "$src/fixtures/agents" "$tmp/certs"
  cp "$tmp/certs/leaf.pem" "$tmp/certs/cert.pem"
  cp "$tmp/certs/leaf.key" "$tmp/certs/key.pem"
  # serves until its stdin closes
  mkfifo "$tmp/stdin"
  NODE_PATH="$npmdir/node_modules" node "$src/fixtures/apis/server.js" "$tmp/certs" < "$tmp/stdin" \
    > "$tmp/ports" 2> "$tmp/mock.err" &
  mock=$!
  exec 7> "$tmp/stdin"
  for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
  read -r h1 _ < "$tmp/ports" || { echo "FAIL: mock did not start: $(cat "$tmp/mock.err")"; exit 1; }
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
  # "tool" makes the mock's first answer a call of Codex's first tool; Codex sends the
  # result back in a second request (on a connection of its own: it closes each after
  # response.completed)
  prompt="please use a tool for run $RANDOM$RANDOM"
  set +e
  (
    cd "$tmp/work"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp/home" \
      CODEX_HOME="$tmp/home/codex" MOCK_API_KEY=sk-mock-e2e-key SSL_CERT_FILE="$tmp/certs/ca.pem" \
      AA_RECORD_CACHE_DIR="$tmp/cache" \
      timeout 180 "$record" -q -o "$tmp/run.aas" -- "$exe" exec --skip-git-repo-check \
      --dangerously-bypass-approvals-and-sandbox "$prompt" < /dev/null > "$tmp/codex.out" 2> "$tmp/codex.err"
  )
  rc=$?
  set -e
  exec 7>&-
  wait "$mock" 2>/dev/null || true

  "$session" events --json "$tmp/run.aas" > "$tmp/events.json"
  "$session" http "$tmp/run.aas" > "$tmp/http.txt"
  "$session" llm --json "$tmp/run.aas" > "$tmp/llm.json"
  if python3 - "$exe" "$prompt" "$tmp" "$rc" <<'PY'
import base64, json, sys
exe, prompt, tmp, rc = sys.argv[1:5]
answer = f"echo: {prompt}"
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)
events = [json.loads(l) for l in open(f"{tmp}/events.json")]
calls = [json.loads(l) for l in open(f"{tmp}/llm.json")]
check(rc == "0", f"aa-record/codex exited {rc}: {open(tmp + '/codex.err').read()[-400:]}")
check(answer in open(f"{tmp}/codex.out").read(), "codex printed the mock's answer")
writes = [e for e in events if e["kind"] == "tls.write"]
reads = [e for e in events if e["kind"] == "tls.read"]
check(writes and all(e.get("lib") == exe and e.get("func") == "EVP_AEAD_CTX_seal" for e in writes),
      "tls.write events come from the discovered EVP_AEAD_CTX_seal in the executable")
check(reads and all(e.get("lib") == exe and e.get("func") == "EVP_AEAD_CTX_open" for e in reads),
      "tls.read events come from the discovered EVP_AEAD_CTX_open")
check(all(e.get("fd", -1) >= 0 for e in reads) and reads, "tls.read events carry the socket fd")
def streams(kind):
    by = {}
    for e in events:
        if e["kind"] == kind:
            data = base64.b64decode(e["data_b64"]) if "data_b64" in e else e["data"].encode()
            by.setdefault(e["conn"], []).append((e["offset"], data))
    out = {}
    for conn, parts in by.items():
        parts.sort()
        buf = b""
        for off, data in parts:
            check(off == len(buf), f"conn {conn} {kind}: no gap or overlap at offset {len(buf)}")
            buf += data
        out[conn] = buf
    return out
ws, rs = streams("tls.write"), streams("tls.read")
posts = [c for c, s in ws.items() if s.startswith(b"POST /v1/responses HTTP/1.1\r\n")]
check(posts, "a write stream starts with the request line (no handshake bytes, no inner content type)")
check(any(prompt.encode() in ws[c] for c in posts), "the prompt is in the request's tls.write stream")
for c in posts:
    check(c in rs and rs[c].startswith(b"HTTP/1.1 200 OK\r\n"), f"conn {c}: the answer is read on the same connection")
    check(c in rs and b"event: response.completed" in rs[c], f"conn {c}: the SSE stream is read through response.completed")
    check(b"\x17" not in ws[c][-1:] and b"\x16\x03" not in ws[c], f"conn {c}: no record framing in the plaintext")
check(all(b"sk-mock-e2e-key" not in s for s in ws.values()) and any(b"authorization: ****" in s for s in ws.values()),
      "the API key is redacted in place (redaction is on by default)")
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
    check([t.get("name") for t in first.get("tool_calls") or []] == ["exec_command"],
          f"the first call asks for Codex's exec_command tool (got {first.get('tool_calls')})")
    check("call_fx" in json.dumps(second.get("request")), "the second request carries the tool's output")
    check(not second.get("tool_calls"), "the second answer is text only")
nw = sum(len(s) for s in ws.values())
nr = sum(len(s) for s in rs.values())
print(f"  {len(writes)} tls.write ({nw} bytes), {len(reads)} tls.read ({nr} bytes), {len(calls)} LLM calls")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
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
