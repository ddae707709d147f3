#!/usr/bin/env bash
# Runs the README's two commands, exactly as written, in a Debian 12 root bootstrapped
# for this run (debootstrap --variant=minbase bookworm), so that nothing installed by
# hand on this machine can help: a package missing from tests/setup.sh fails here.
#
#   bash tests/fresh-root.sh [COMMAND...]
#
# Default COMMAND: the README's first command (record the demo) and then its test
# command. Run as root. The root is made under $FRESH_ROOT_PARENT (default /var/tmp),
# gets a clone of this checkout's HEAD at /src, and is deleted afterwards, also when a
# step fails (FRESH_ROOT_KEEP=1 keeps it). Debian's packages come from the archive this
# machine's apt is configured for, and npm's from the registry as this machine reaches
# it: apt settings, resolver, extra trusted CAs and npm's global settings are copied in.
#
# /proc, /sys and /dev are bind-mounted inside a private mount namespace (BPF needs
# the kernel's BTF in /sys): the mounts vanish with the namespace, whatever happens,
# and the root is removed with --one-file-system only after checking nothing is
# mounted below it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh-root.sh: needs root (debootstrap, chroot, BPF)" >&2; exit 1; }

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

# The archive apt already uses for bookworm (deb822 .sources or one-line .list).
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; echo; } | awk '
    /^[[:space:]]*$/ { if (uri && suites ~ /(^| )bookworm( |$)/) { print uri; exit } uri = ""; suites = ""; next }
    tolower($1) == "uris:" { uri = $2 }
    tolower($1) == "suites:" { $1 = ""; suites = $0 " " }'
)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "fresh-root.sh: no bookworm archive in this machine's apt sources" >&2; exit 1; }

parent=${FRESH_ROOT_PARENT:-/var/tmp}
work=$(mktemp -d "$parent/aa-fresh-root.XXXXXX")
root=$work/root

cleanup() {
  local rc=$?
  if [ "${FRESH_ROOT_KEEP:-0}" = 1 ]; then
    echo "fresh-root.sh: kept $root"
  elif grep -q " $root[/ ]" /proc/self/mountinfo; then
    echo "fresh-root.sh: something is still mounted below $root; not deleting it" >&2
    rc=1
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

t0=$SECONDS
echo "fresh-root.sh: bootstrapping Debian 12 (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  echo "fresh-root.sh: debootstrap failed (log above)" >&2
  exit 1
}
echo "fresh-root.sh: bootstrapped in $((SECONDS - t0)) s"

# The same archive and apt settings as this machine (e.g. a snapshot archive whose
# Release files are past their Valid-Until), and name resolution.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
for f in /etc/apt/apt.conf.d/*; do
  grep -qs "Check-Valid-Until\|Check-Date\|Proxy" "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/hosts "$root/etc/hosts"
# The certificate authorities this machine trusts beyond Debian's (a proxy's, say), as
# the root's ca-certificates will take them in, and npm's global settings (its cafile):
# the npm registry is reached as this machine reaches it.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"

# The checkout as CI sees it: a clone of HEAD, nothing untracked.
git clone -q --no-hardlinks "$src" "$root/src"

# COMMAND in the root, from /src, with a clean environment (CI is passed on).
run_in_root() {
  unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
    root=$1; shift
    # The root a mount of its own, as on a machine: tests that make a mount namespace
    # of their own (unshare --mount) set / private, which needs / to be a mount point.
    mount --bind "$root" "$root"
    mount --rbind /proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" /bin/bash -c "cd /src && exec \"\$@\"" bash "$@"
  ' fresh-root "$root" "$@"
}

if [ $# -gt 0 ]; then
  run_in_root "$@"
else
  for command in "bash fixtures/demo/record-demo.sh demo.aas" "bash tests/run-all.sh"; do
    t=$SECONDS
    echo "fresh-root.sh: running the README's \`$command\`"
    run_in_root bash -c "$command"
    echo "fresh-root.sh: \`$command\` passed in $((SECONDS - t)) s"
  done
fi
echo "fresh-root.sh: passed in $((SECONDS - t0)) s"
