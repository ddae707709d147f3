#!/usr/bin/env bash
# The one test server (fixtures/server/server.js) still answers the recorded fixtures'
# requests as they were answered when recorded (mock_server_answers.js), for each of its
# answer sets: a change made for one user (the agent tests' --shell-file and --save-dir,
# the TLS tests' endpoints) must not change what a re-recording of a fixture gets.
#   --answers apis   fixtures/apis/*.aas (fixtures/apis/record.sh)
#   --answers llm    fixtures/llm/agent.aas (fixtures/llm/record.sh), HTTP/1.1 and HTTP/2
#   --answers demo   fixtures/replay/a.aas (the demo agent against the server: its plan
#                    and its /bytes download)
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
  exec 7>&-
  wait "$pid" || { echo "FAIL: server.js --answers $set exited $?: $(cat "$tmp/err")"; rc=1; }
  rm -f "$tmp/stdin" "$tmp/ports"
}
answers apis "$src"/fixtures/apis/*.aas
answers llm "$src/fixtures/llm/agent.aas"
answers demo "$src/fixtures/replay/a.aas"
exit "$rc"
