# Sourced by the real-agent end-to-end tests (claude_code_e2e.sh, gemini_cli_e2e.sh)
#
#   E2E_TOOLS="unshare ip ..." . "$here/agent_e2e_common.sh" "$@"
#
# Takes AA_RECORD and AA_SESSION off the front (as $record and $session, absolute) and
# leaves the rest in the array $e2e_args; exits 77 (skip) with the reason without root
# or a tool in $E2E_TOOLS; then re-runs the calling script in a network namespace with
# only loopback, up (every agent tries other hosts at start).
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
  AA_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$record" "$session" "${e2e_args[@]}"
fi
ip link set lo up
