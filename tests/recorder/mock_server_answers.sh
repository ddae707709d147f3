#!/usr/bin/env bash
# The one test server (fixtures/server/server.js) still answers the recorded fixtures'
# requests as they were answered when recorded (mock_server_answers.js), for each of its
# answer sets: a change made for one user (the agent tests' --shell-file and --save-dir,
# the TLS tests' endpoints) must not change what a re-recording of a fixture gets.
#   --answers apis   fixtures/apis/*.aas (fixtures/apis/record.sh)
#   --answers llm    fixtures/llm/agent.aas (fixtures/llm/record.sh), HTTP/1.1 and HTTP/2
#   --answers demo   fixtures/replay/a.aas (the demo agent against the server: its plan
#                    and its /bytes download)
# and, with each set, the plain endpoints of the TLS tests on both ports; and that a
# bad command line gets one line and a non-zero exit.
# No root, no npm package (WebSocket exchanges are left out). usage: mock_server_answers.sh
# AA_SESSION; exit 77 (skip) without node or openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
session=$(realpath "${1:?usage: $0 AA_SESSION}")
command -v node >/dev/null || { echo "SKIP: needs node"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
tmp=$(mktemp -d /tmp/aa-test-server.XXXXXX)
trap 'exec 7>&- 2>/dev/null; rm -rf "$tmp"' EXIT
rc=0
# plain_endpoints H1PORT H2PORT CERT: the TLS tests' endpoints, on both ports, with the
# cookie the recorder must redact (tls_capture_test asserts them again, under root).
plain_endpoints() {
  local port want got
  command -v curl > /dev/null || { echo "plain endpoints: not checked (no curl)"; return; }
  for port in "$1" "$2"; do
    for want in "/hello|hello from the loopback server" "/bytes/40|0123456789abcdefghijklmnopqrstuvwxyz 012" \
                "/echo-size|received 5 bytes"; do
      local path=${want%%|*} body=${want#*|} data=()
      [ "$path" = /echo-size ] && data=(--data-binary 12345)
      got=$(curl -sS -i --cacert "$3" "${data[@]}" "https://127.0.0.1:$port$path" | tr -d '\r' | tr '\n' ' ')
      case "$got" in
        *"set-cookie: session=server-secret-cookie"*"$body"*) ;;
        *) echo "FAIL: plain endpoint $path on port $port: $got"; rc=1 ;;
      esac
    done
  done
}
# answers SET FIXTURE...: the server with --answers SET against the fixtures' exchanges
answers() {
  local set=$1 f
  shift
  mkfifo "$tmp/stdin"
  node "$src/fixtures/server/server.js" --cert-dir "$tmp" --answers "$set" --until-stdin-eof \
    < "$tmp/stdin" > "$tmp/ports" 2> "$tmp/err" &
  local pid=$!
  exec 7> "$tmp/stdin"
  for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
  read -r h1 h2 _ < "$tmp/ports" || { echo "FAIL: server.js did not start: $(cat "$tmp/err")"; exit 1; }
  for f in "$@"; do
    cp "$f" "$tmp/s.aas"   # reading writes an index beside the session
    "$session" http --json "$tmp/s.aas" | sed "s|^|$(basename "$f" .aas)\t|"
    rm -f "$tmp/s.aas" "$tmp/s.aas-index"
  done > "$tmp/exchanges"
  echo "--answers $set:"
  node "$here/mock_server_answers.js" "$h1" "$h2" < "$tmp/exchanges" || rc=1
  plain_endpoints "$h1" "$h2" "$tmp/cert.pem"
  exec 7>&-
  wait "$pid" || { echo "FAIL: server.js --answers $set exited $?: $(cat "$tmp/err")"; rc=1; }
  rm -f "$tmp/stdin" "$tmp/ports"
}
# One line and a non-zero exit for a bad command line.
for bad in "--port x" "--port 70000" "--answers nope" "--bogus" "--h2-port -1" "--cert-dir /dev/null/x" "--port"; do
  # --until-stdin-eof and no stdin: a command line wrongly accepted exits 0 at once
  # shellcheck disable=SC2086 # a word list
  if node "$src/fixtures/server/server.js" --until-stdin-eof $bad > /dev/null 2> "$tmp/bad.err" < /dev/null; then
    echo "FAIL: server.js $bad: exit 0"; rc=1
  elif [ "$(wc -l < "$tmp/bad.err")" -ne 1 ] || ! grep -q '^server.js: ' "$tmp/bad.err"; then
    echo "FAIL: server.js $bad: not one 'server.js: ...' line: $(cat "$tmp/bad.err")"; rc=1
  fi
done
answers apis "$src"/fixtures/apis/*.aas
answers llm "$src/fixtures/llm/agent.aas"
answers demo "$src/fixtures/replay/a.aas"
exit "$rc"
