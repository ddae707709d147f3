#!/usr/bin/env bash
# The mock LLM API (fixtures/apis/server.js) still answers the fixtures/apis sessions'
# requests as recorded (mock_server_answers.js): a change made for the agent tests
# (--shell-file, --save-dir) must not change what a re-recording of the fixtures gets.
# No root. usage: mock_server_answers.sh AA_SESSION; exit 77 (skip) without node or
# openssl, or when the mock's one package (ws@8.23.0, as fixtures/apis/record.sh pins it)
# is missing from $AA_NPM_DIR and cannot be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
session=$(realpath "${1:?usage: $0 AA_SESSION}")
npmdir=${AA_NPM_DIR:-/work/npm-cache-dir}
command -v node >/dev/null || { echo "SKIP: needs node"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
if [ ! -d "$npmdir/node_modules/ws" ]; then
  mkdir -p "$npmdir"
  (cd "$npmdir" && npm install --no-audit --no-fund --ignore-scripts ws@8.23.0) >/dev/null ||
    { echo "SKIP: cannot install ws@8.23.0 for the mock into $npmdir"; exit 77; }
fi
tmp=$(mktemp -d /tmp/aa-apis-server.XXXXXX)
trap 'exec 7>&- 2>/dev/null; rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
mkfifo "$tmp/stdin"
NODE_PATH="$npmdir/node_modules" node "$src/fixtures/apis/server.js" "$tmp" < "$tmp/stdin" > "$tmp/ports" 2> "$tmp/err" &
exec 7> "$tmp/stdin"
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
read -r h1 h2 < "$tmp/ports" || { echo "FAIL: server.js did not start: $(cat "$tmp/err")"; exit 1; }
for f in "$src"/fixtures/apis/*.aas; do
  cp "$f" "$tmp/s.aas"   # reading writes an index beside the session
  "$session" http --json "$tmp/s.aas" | sed "s|^|$(basename "$f" .aas)\t|"
  rm -f "$tmp/s.aas" "$tmp/s.aas-index"
done > "$tmp/exchanges"
node "$here/mock_server_answers.js" "$h1" "$h2" < "$tmp/exchanges"
