#!/bin/bash
# Installs what building, testing and running kxl need on Debian bookworm,
# with apt-get, only where something is missing (a second run does nothing).
#   tools/install-deps.sh [--tests]
# Without --tests: what the build and the demo need (the demo builds its guest with cpio and
# kmod). --tests adds the test framework, every program in tests/host-programs.txt, and clang
# with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev; llvm-14 for llvm-symbolizer)
# for the fuzz targets (tests/fuzz), Debian's nodejs and npm for the web UI (built when npm is
# there; its npm packages come from the npm registry) and chromium for its browser tests.
set -euo pipefail

pkgs=(gcc libc6-dev meson ninja-build pkg-config libjson-c-dev libnl-3-dev libnl-route-3-dev
      libnftables-dev libext2fs-dev zlib1g-dev liblzma-dev liblz4-dev libzstd-dev nettle-dev
      qemu-system-x86 qemu-utils iproute2 dnsmasq-base debootstrap e2fsprogs util-linux
      cpio kmod libwebsockets-dev libncurses-dev ovmf libpam0g-dev libssl-dev
      libcurl4-openssl-dev)
case ${1:-} in
""|--tests) [ $# -le 1 ] || { echo "usage: $0 [--tests]" >&2; exit 2; } ;;
-h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac
if [ "${1:-}" = "--tests" ]; then
    pkgs+=(libcmocka-dev python3 groff-base man-db iputils-ping nftables procps fdisk xorriso
           isolinux syslinux-common openssh-client openssh-server lvm2
           python3-yaml python3-jsonschema python3-websocket python3-prometheus-client openssl
           clang-14 libclang-rt-14-dev llvm-14
           nodejs npm ca-certificates chromium swtpm
           openvswitch-switch)
fi

missing=()
for p in "${pkgs[@]}"; do
    # NodeSource's nodejs package bundles npm and conflicts with Debian's: its npm will do
    [ "$p" = npm ] && command -v npm >/dev/null && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "kxl: installing ${#missing[@]} packages with apt-get: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    apt-get update -qq >"$log" 2>&1 ||
        echo "kxl: apt-get update reported errors; trying the install anyway" >&2
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        tail -n 25 "$log" >&2
        rm -f "$log"
        echo "kxl: apt-get install failed (the end of its output is above): check the apt" \
             "sources in /etc/apt and the network, then run $0 $* again" >&2
        exit 1
    fi
    rm -f "$log"
    echo "kxl: installed ${missing[*]}"
fi

# QEMU runs as this user once it has opened its images, /dev/kvm and sockets (kxl_qemu_user);
# a package would create it in its postinst.
if ! getent passwd kxl-qemu >/dev/null; then
    echo "kxl: creating the system user kxl-qemu (QEMU drops to it after set-up)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "kxl QEMU processes" kxl-qemu
fi
