#!/usr/bin/env bash
# Blind spots are never silent (root, loopback-only network namespace): a traced
# process that makes TCP connections while no TLS hook covers any file it maps is
# named at the stop and in the session; one whose TLS library is hooked is not.
#   bash /dev/tcp (no TLS library)  -> "no supported TLS library found in /usr/bin/bash"
#   bash /dev/tcp writing HTTP      -> not listed: its plaintext is captured (plain HTTP),
#                                      but listed again with --no-plain-http
#   curl (libssl, hooked)           -> not listed, in each of several runs
#   Codex, when installed           -> not listed: its aws-lc AEAD functions are hooked
#
# usage: tls_blind_spot_e2e.sh AA_RECORD AA_SESSION     (exit 77: skipped, reason printed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }
record=$(realpath "${1:?usage: $0 AA_RECORD AA_SESSION}")
session=$(realpath "${2:?usage: $0 AA_RECORD AA_SESSION}")
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF)"
for tool in unshare ip python3 curl; do command -v "$tool" >/dev/null || skip "needs $tool"; done
if [ -z "${AA_E2E_IN_NETNS:-}" ]; then
  AA_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi
ip link set lo up

tmp=$(mktemp -d /tmp/aa-blind.XXXXXX)
trap 'kill $listener 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()
' > "$tmp/port" &
listener=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
fail=0
expect() {  # FILE REGEX WHAT
  if grep -Eq "$2" "$1"; then echo "ok: $3"; else echo "FAIL: $3 (in $1:)"; cat "$1"; fail=1; fi
}
reject() {
  if grep -Eq "$2" "$1"; then echo "FAIL: $3"; cat "$1"; fail=1; else echo "ok: $3"; fi
}

"$record" -q -o "$tmp/bash.aas" -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; exec 4<>/dev/tcp/127.0.0.1/$port; true" \
  2> "$tmp/bash.err"
expect "$tmp/bash.err" "^aa-record: pid [0-9]+ \(bash\): 2 TCP connections to 127\.0\.0\.1:$port not decrypted: no supported TLS library found in /usr/bin/bash$" \
  "bash's two connections are named at the stop"
"$session" info "$tmp/bash.aas" > "$tmp/bash.info"
expect "$tmp/bash.info" "not decrypted: pid [0-9]+ \(bash\): 2 TCP connections to 127\.0\.0\.1:$port" \
  "and in the session (aa-session info)"

# a connection whose first write is an HTTP request is captured plain: no blind spot
req="exec 3<>/dev/tcp/127.0.0.1/$port; printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3 || true"
# the listener closes at once: bash may die of SIGPIPE, which is not what is checked
"$record" -q -o "$tmp/bash-http.aas" -- bash -c "$req" 2> "$tmp/bash-http.err" || true
reject "$tmp/bash-http.err" "not decrypted" "bash's plain-HTTP connection is not listed: its bytes were captured"
"$record" -q --no-plain-http -o "$tmp/bash-http-off.aas" -- bash -c "$req" 2> "$tmp/bash-http-off.err" || true
expect "$tmp/bash-http-off.err" "\(bash\): 1 TCP connection to 127\.0\.0\.1:$port not decrypted" \
  "with --no-plain-http it is listed again"

# several runs: whether curl's libssl was mapped before aa-record looked at its maps
# is a race, which the verdict must not depend on (the hooked library's mappings are
# reported one by one)
for run in 1 2 3 4 5; do
  "$record" -q -o "$tmp/curl$run.aas" -- curl -sk --max-time 5 "https://127.0.0.1:$port/" 2> "$tmp/curl.err" || true
  reject "$tmp/curl.err" "not decrypted" "curl's connection is not listed: its libssl is hooked (run $run)"
done

agents=$("$src/fixtures/agents/install.sh" --print-dir)
codex=$(ls "$agents"/@openai+codex@*/node_modules/@openai/codex-linux-x64/vendor/*/bin/codex 2>/dev/null | head -1 || true)
if [ -n "$codex" ]; then
  mkdir -p "$tmp/codex-home"
  printf '%s\n' 'model = "gpt-mock"' 'model_provider = "mock"' '[model_providers.mock]' 'name = "mock"' \
    "base_url = \"https://127.0.0.1:$port/v1\"" 'env_key = "MOCK_API_KEY"' 'wire_api = "responses"' \
    '[features]' 'plugins = false' > "$tmp/codex-home/config.toml"
  CODEX_HOME="$tmp/codex-home" MOCK_API_KEY=sk-test "$record" -q -o "$tmp/codex.aas" -- \
    timeout 8 "$codex" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "say hi" \
    > /dev/null 2> "$tmp/codex.err" || true
  reject "$tmp/codex.err" "\(codex\).*not decrypted" \
    "Codex's connections are not listed: its aws-lc (rustls) is hooked"
else
  echo "skip: Codex not installed (fixtures/agents/install.sh)"
fi
exit $fail
