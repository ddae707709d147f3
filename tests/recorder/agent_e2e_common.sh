# Sourced by the real-agent end-to-end tests (claude_code_e2e.sh, gemini_cli_e2e.sh,
# codex_e2e.sh)
#
#   E2E_TOOLS="unshare ip ..." . "$here/agent_e2e_common.sh" "$@"
#
# Takes AA_RECORD and AA_SESSION off the front (as $record and $session, absolute) and
# leaves the rest in the array $e2e_args; exits 77 (skip) with the reason without root
# or a tool in $E2E_TOOLS; installs the mock's one npm package (ws, pinned as in
# fixtures/apis/record.sh) into $AA_NPM_DIR when missing, then re-runs the calling script
# in a network namespace with only loopback, up (every agent tries other hosts at start).
#
# The mock LLM API of every agent test is fixtures/server/server.js (start_mock below).
src=$(cd "$here/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }

record=${1:?usage: $0 AA_RECORD AA_SESSION [AGENT...]}
session=${2:?usage: $0 AA_RECORD AA_SESSION [AGENT...]}
shift 2
e2e_args=("$@")
record=$(realpath "$record")
session=$(realpath "$session")
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF uprobes)"
for tool in ${E2E_TOOLS:-unshare ip python3 openssl} node; do
  command -v "$tool" >/dev/null || skip "needs $tool"
done
npmdir=${AA_NPM_DIR:-/work/npm-cache-dir}
if [ -z "${AA_E2E_IN_NETNS:-}" ]; then
  if [ ! -d "$npmdir/node_modules/ws" ]; then
    mkdir -p "$npmdir"
    (cd "$npmdir" && npm install --no-audit --no-fund --ignore-scripts ws@8.23.0) >/dev/null ||
      skip "cannot install ws@8.23.0 for the mock into $npmdir"
  fi
  AA_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$record" "$session" "${e2e_args[@]}"
fi
ip link set lo up

# agents_under_test NAME PATTERN: the agents named on the command line ($e2e_args), else
# the pinned ones fixtures/agents/install.sh installed (PATTERN, below its directory),
# into the array $agents_found; skips when there are none.
agents_under_test() {
  local name=$1 pattern=$2
  agents_found=("${e2e_args[@]}")
  if ((${#agents_found[@]} == 0)); then
    local dir
    dir=$("$src/fixtures/agents/install.sh" --print-dir)
    shopt -s nullglob
    # shellcheck disable=SC2206  # the pattern is to be expanded
    agents_found=($dir/$pattern)
    shopt -u nullglob
  fi
  ((${#agents_found[@]})) || skip "$name not installed: run fixtures/agents/install.sh"
}

# The test CA and a 127.0.0.1 leaf it signed, made with the openssl CLI into DIR:
# ca.pem (what the agent is told to trust), cert.pem and key.pem (the server's).
make_test_ca() {
  local d=$1 q=(-nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
  openssl req -x509 "${q[@]}" -days 2 -subj "/CN=aa-record test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -new "${q[@]}" -subj /CN=127.0.0.1 -keyout "$d/key.pem" -out "$d/leaf.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    > "$d/leaf.ext"
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/leaf.ext" -out "$d/cert.pem" 2>/dev/null
}

# start_mock DIR FILE: a test CA in DIR/certs (ca.pem is what the agent trusts), then
# fixtures/server/server.js answering with a call of the agent's shell tool that writes
# FILE, keeping the wire bytes in DIR/wire; it serves until stop_mock closes its stdin.
# Sets $mock (pid), $h1 (its HTTPS port, HTTP/1.1), $plain (its plain-HTTP port) and $ca.
start_mock() {
  local d=$1 file=$2
  mkdir -p "$d/certs" "$d/wire"
  make_test_ca "$d/certs"
  ca="$d/certs/ca.pem"
  mkfifo "$d/mock.stdin"
  NODE_PATH="$npmdir/node_modules" node "$src/fixtures/server/server.js" --cert-dir "$d/certs" --until-stdin-eof \
    --plain-port 0 --shell-file "$file" --save-dir "$d/wire" < "$d/mock.stdin" > "$d/ports" 2> "$d/mock.err" &
  mock=$!
  exec 7> "$d/mock.stdin"
  for _ in $(seq 100); do [ -s "$d/ports" ] && break; sleep 0.1; done
  read -r h1 _ _ plain < "$d/ports" || { echo "FAIL: mock did not start: $(cat "$d/mock.err")"; exit 1; }
}
stop_mock() {
  exec 7>&-
  wait "$mock" 2>/dev/null || true
}

# record_claude_code DIR EXE BASE_URL PROMPT [VAR=VALUE...]: Claude Code EXE run with
# PROMPT under aa-record in DIR/work (a clean environment, HOME=DIR/home, the API at
# BASE_URL, plus the VARs), the mock stopped after it, and the session exported to
# DIR/events.json and DIR/llm.json. Sets $rc (aa-record's status); the agent's output is
# DIR/claude.out and DIR/claude.err.
record_claude_code() {
  local d=$1 exe=$2 url=$3 prompt=$4
  shift 4
  set +e
  (
    cd "$d/work"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$d/home" \
      IS_SANDBOX=1 ANTHROPIC_BASE_URL="$url" ANTHROPIC_API_KEY=sk-ant-e2e-key \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 "$@" \
      timeout 180 "$record" -q -o "$d/run.aas" -- "$exe" -p "$prompt" --dangerously-skip-permissions \
      > "$d/claude.out" 2> "$d/claude.err"
  )
  rc=$?
  set -e
  stop_mock
  "$session" events --json "$d/run.aas" > "$d/events.json"
  "$session" llm --json "$d/run.aas" > "$d/llm.json"
}
