#!/bin/bash
# Installs what building, testing and running kxl need on Debian bookworm,
# with apt-get, only where something is missing (a second run does nothing).
#   tools/install-deps.sh [--tests]
set -euo pipefail

pkgs=(gcc libc6-dev meson ninja-build pkg-config libjson-c-dev libnl-3-dev libnl-route-3-dev
      libnftables-dev libext2fs-dev zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libmd-dev
      qemu-system-x86 qemu-utils iproute2 dnsmasq-base debootstrap e2fsprogs util-linux)
if [ "${1:-}" = "--tests" ]; then
    pkgs+=(libcmocka-dev python3 e2fsprogs util-linux cpio kmod groff-base man-db
           iputils-ping nftables procps fdisk xorriso isolinux syslinux-common openssh-client)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "kxl: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || echo "kxl: apt-get update reported errors; trying the install anyway" >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# QEMU runs as this user once it has opened its images, /dev/kvm and sockets (kxl_qemu_user);
# a package would create it in its postinst.
if ! getent passwd kxl-qemu >/dev/null; then
    echo "kxl: creating the system user kxl-qemu (QEMU drops to it after set-up)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "kxl QEMU processes" kxl-qemu
fi
