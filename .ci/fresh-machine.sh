#!/bin/bash
# The fresh-machine check: the README's set-up commands in a pristine minimal Debian bookworm
# root, so a package missing from tools/install-deps.sh fails CI instead of hiding behind what
# this host happens to have installed.
#
#   .ci/fresh-machine.sh
#
# The root is `debootstrap --variant=minbase` from the host's own apt sources, made once and
# kept as a tarball in $KXL_FRESH_CACHE (default /var/cache/kxl-ci); every run unpacks it anew
# into a directory of its own, which is removed afterwards (a used root is never reused). It is
# entered with chroot inside new mount and PID namespaces (/dev, /proc, /sys bound; the host's
# network, for apt), so every mount and every process left inside ends with the check. Nothing
# of the host's /usr is visible inside. Downloaded .deb files are kept between runs in the
# cache (apt's archives and the test guest's packages): a download is not an installation, and
# every package must still be installed by the scripts.
#
# Inside, from a copy of the checkout (tracked files and new ones, as they are in the work tree):
#   1. examples/demo.sh boots the demo guest to its poweroff;
#   2. tools/install-deps.sh --tests, the build with the tests, the unit and golden tests, and
#      the fuzz targets' clang build (tests/fuzz/build.sh: clang and its libFuzzer runtime);
#   3. tests/host-programs.sh check: every program the end-to-end tests and kxl run is there.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${KXL_FRESH_CACHE:-/var/cache/kxl-ci}
SUITE=bookworm
TARBALL=$CACHE/$SUITE-minbase.tar

say() { printf 'fresh-machine: %s\n' "$*"; }
fail() { printf 'fresh-machine: FAILED: %s\n' "$*" >&2; exit 1; }
# No silent failure under set -e: name the command that failed.
trap 'printf "fresh-machine: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

[ "$(id -u)" = 0 ] || fail "run as root (it unpacks a root file system and enters it with chroot)"

# The host's Debian mirror, from its apt sources (deb822 first, then the one-line format).
host_mirror() {
    local m
    m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2; exit}')
    [ -n "$m" ] || m=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' \
                       /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
    [ -n "$m" ] || return 1
    echo "$m"
}

# Makes the cached minbase tarball, once. A failed debootstrap leaves no tarball behind.
make_tarball() {
    local mirror tmp t0=$SECONDS
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap on the host (to make the fresh root)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
            >/dev/null || { apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null; } || fail "cannot install debootstrap (apt-get install debootstrap)"
    fi
    mirror=$(host_mirror) || fail "no Debian mirror in the host's apt sources (/etc/apt/sources.list*)"
    mkdir -p "$CACHE"
    tmp=$(mktemp -d "$CACHE/.debootstrap.XXXXXX")
    say "making a minbase $SUITE root from $mirror (once; cached as $TARBALL)"
    if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
        tail -n 20 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        fail "debootstrap --variant=minbase $SUITE failed (its log is above)"
    fi
    rm -f "$tmp.log"
    # What debootstrap downloaded is not part of a fresh machine.
    find "$tmp"/var/cache/apt/archives "$tmp"/var/lib/apt/lists -type f -delete
    tar --numeric-owner -C "$tmp" -cf "$TARBALL.tmp" .
    rm -rf "$tmp"
    mv "$TARBALL.tmp" "$TARBALL"
    say "root made in $((SECONDS - t0)) s"
}

# Copies the host's apt sources and resolver into ROOT: the same mirror, suites and keys.
configure_root() {
    local root=$1 f
    rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
    [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && cp "$f" "$root/etc/apt/sources.list.d/"
    done
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    # the host's network comes with the host's trust: a registry reached over HTTPS through a
    # proxy of the host's is trusted as the host trusts it (npm ci of the web UI); the file is
    # network configuration, not a package, and only node is told of it (NODE_EXTRA_CA_CERTS)
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/kxl-host-ca.crt" 2>/dev/null ||
        : >"$root/etc/kxl-host-ca.crt"
    mkdir -p "$root/root/kxl" "$CACHE/apt-archives/partial" "$CACHE/guest-debs"
    git ls-files -z --cached --others --exclude-standard |
        tar --null -T - -cf - | tar -C "$root/root/kxl" -xf -
}

# The script run in the new namespaces: mounts, then the three steps inside the chroot.
inside_script() {
    cat <<'EOF'
set -euo pipefail
root=$1 cache=$2
# a mount point of its own, as / is on a machine (tests make / private in their namespaces)
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
mkdir -p "$root/var/cache/kxl/test-guest/debs"
mount --bind "$cache/guest-debs" "$root/var/cache/kxl/test-guest/debs"
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        NODE_EXTRA_CA_CERTS=/etc/kxl-host-ca.crt \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/kxl && $1"
}
step() { printf 'fresh-machine: [%s] %s\n' "$(date +%T)" "$*"; }

t=$SECONDS
step "1/3 examples/demo.sh (the README's first command)"
in_root './examples/demo.sh </dev/null' 2>&1 | tee "$root/root/demo.log"
grep -q 'KXL-POWEROFF' "$root/root/demo.log" ||
    { echo "fresh-machine: FAILED: the demo guest did not reach its poweroff (KXL-POWEROFF)"; exit 1; }
step "demo booted to its poweroff in $((SECONDS - t)) s"

t=$SECONDS
step "2/3 tools/install-deps.sh --tests, build with tests, unit and golden tests, fuzz targets"
in_root 'tools/install-deps.sh --tests && tools/build.sh --tests &&
    meson test -C build --print-errorlogs && tests/fuzz/build.sh'
step "tests passed in $((SECONDS - t)) s"

step "3/3 tests/host-programs.sh check"
in_root 'tests/host-programs.sh check'
EOF
}

t0=$SECONDS
[ -f "$TARBALL" ] || make_tarball
root=$(mktemp -d /var/tmp/kxl-fresh.XXXXXX)
# The namespaces are gone when the check ends, and their mounts with them; the root goes too.
trap 'rm -rf --one-file-system "$root"' EXIT
say "unpacking $TARBALL into $root"
tar --numeric-owner -C "$root" -xpf "$TARBALL"
configure_root "$root"
if ! unshare --mount --propagation private --pid --fork --kill-child \
        bash -c "$(inside_script)" inside "$root" "$CACHE"; then
    fail "a README command does not work on a fresh $SUITE machine (see above): \
a package missing from tools/install-deps.sh? ($((SECONDS - t0)) s)"
fi
say "passed: both README commands work on a fresh minbase $SUITE root ($((SECONDS - t0)) s)"
