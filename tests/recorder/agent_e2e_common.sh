# Sourced by the real-agent end-to-end tests (claude_code_e2e.sh, gemini_cli_e2e.sh,
# codex_e2e.sh)
#
#   E2E_TOOLS="unshare ip ..." . "$here/agent_e2e_common.sh" "$@"
#
# Takes AA_RECORD and AA_SESSION off the front (as $record and $session, absolute) and
# leaves the rest in the array $e2e_args; exits 77 (skip) with the reason without root
# or a tool in $E2E_TOOLS; runs the caller's function e2e_prepare, if it defines one
# (what needs the network: an npm install), then re-runs the calling script in a network
# namespace with only loopback, up (every agent tries other hosts at start).
src=$(cd "$here/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }

record=${1:?usage: $0 AA_RECORD AA_SESSION [AGENT...]}
session=${2:?usage: $0 AA_RECORD AA_SESSION [AGENT...]}
shift 2
e2e_args=("$@")
record=$(realpath "$record")
session=$(realpath "$session")
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF uprobes)"
for tool in ${E2E_TOOLS:-unshare ip python3 openssl}; do
  command -v "$tool" >/dev/null || skip "needs $tool"
done
if [ -z "${AA_E2E_IN_NETNS:-}" ]; then
  if declare -F e2e_prepare >/dev/null; then e2e_prepare; fi
  AA_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$record" "$session" "${e2e_args[@]}"
fi
ip link set lo up

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
