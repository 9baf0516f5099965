#!/bin/bash
# Build kxl's test guest: a Debian cloud kernel plus a small busybox
# initramfs whose /init (tests/guest/init) prints console markers that the
# end-to-end tests watch for.  See tests/guest/README.md.
#
#   tests/guest/build.sh [--force] [OUTDIR]
#
# Outputs OUTDIR/vmlinuz and OUTDIR/initrd.img (and OUTDIR/manifest.txt).
# OUTDIR defaults to the cache directory,
#   ${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
# which also keeps the downloaded .deb files under debs/.
#
# Everything comes from Debian packages found through the host's own apt
# sources: `apt-get download` of the cloud kernel image and of
# busybox-static, unpacked with `dpkg-deb -x` (never installed on the host).
# Nothing is rebuilt when the outputs are newer than this script and the
# files that go into the initramfs (unless --force or KXL_GUEST_FORCE=1).
# The build happens in a temporary directory and the results are renamed into
# place at the end, so a failed build leaves the previous outputs untouched.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
FORCE=${KXL_GUEST_FORCE:-0}

# Files copied into the initramfs; a change to any of them forces a rebuild.
INPUTS=("$HERE/build.sh" "$HERE/init" "$HERE/kxl-shutdown" "$HERE/udhcpc.script")

# Modules wanted in the guest, in load order.  Whatever this kernel builds in
# or does not have at all is reported and skipped; dependencies are resolved
# from the kernel's own modules.dep.  Drivers come before virtio_pci so that
# every virtio device finds its driver when the bus is probed.
WANTED_MODULES=(
	# ACPI power button -> /dev/input/event* (QEMU's system_powerdown)
	button evdev
	# pvpanic: "-device pvpanic" (ISA, ACPI QEMU0001) and "-device pvpanic-pci"
	pvpanic pvpanic_mmio pvpanic_pci
	# SCSI upper layers, then the HBAs (virtio-scsi, IDE via PIIX, AHCI)
	sd_mod sr_mod cdrom virtio_scsi ata_piix ahci
	# ext4 for the data disk (usually built in)
	ext4
	# NICs other than virtio
	e1000 e1000e 8139cp 8139too vmxnet3
	# virtio devices, then the PCI transport
	virtio_blk virtio_net virtio_console virtio_balloon virtio_rng virtio_pci
)
# Modules copied into the initramfs but not loaded at boot: the kernel asks
# the guest's modprobe for them when they are needed (mounting a FAT or ISO
# file system), which saves their load time on every boot.
ONDEMAND_MODULES=(vfat isofs nls_cp437 nls_ascii nls_iso8859_1 nls_utf8)

log() { printf 'kxl-guest: %s\n' "$*"; }
die() { printf 'kxl-guest: error: %s\n' "$*" >&2; exit 1; }
# No silent failure under set -e: name the command that failed.
trap 'printf "kxl-guest: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

usage() { echo "usage: $0 [--force] [OUTDIR]"; }
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--force|-f) FORCE=1 ;;
	-h|--help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) [ -z "$OUT" ] || { usage >&2; exit 2; }; OUT=$1 ;;
	esac
	shift
done
OUT=${OUT:-$CACHE}

# --- up to date? (no apt, no network) ---------------------------------------
up_to_date() {
	local f
	for f in "$OUT/vmlinuz" "$OUT/initrd.img"; do
		[ -s "$f" ] || return 1
	done
	for f in "${INPUTS[@]}"; do
		[ "$OUT/initrd.img" -nt "$f" ] || return 1
	done
}
if [ "$FORCE" != 1 ] && up_to_date; then
	log "up to date: $OUT/vmlinuz $OUT/initrd.img"
	exit 0
fi

for f in "${INPUTS[@]}"; do
	[ -r "$f" ] || die "missing input file $f"
done

# --- host tools -------------------------------------------------------------
# dpkg-deb, apt-get, gzip, find and flock are part of every Debian system;
# cpio and kmod (depmod, modprobe) may be missing on a minimal one.
missing=()
command -v cpio >/dev/null || missing+=(cpio)
{ command -v depmod && command -v modprobe; } >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
{ command -v depmod && command -v modprobe; } >/dev/null 2>&1 || missing+=(kmod)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "need ${missing[*]} (run as root, or apt-get install ${missing[*]})"
	log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
		apt-get update >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
	fi
fi

mkdir -p "$CACHE/debs" "$OUT"
# One build at a time per cache (tests may start several in parallel).
exec 9>"$CACHE/.lock"
flock 9
# Another build may have finished while we waited.
if [ "$FORCE" != 1 ] && up_to_date; then
	log "up to date: $OUT/vmlinuz $OUT/initrd.img"
	exit 0
fi

TMP=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- resolve and download the packages ----------------------------------------
apt_updated=0
apt_update() {
	[ "$apt_updated" = 0 ] || return 0
	[ "$(id -u)" = 0 ] || return 0
	log "apt-get update"
	apt-get update >/dev/null || true
	apt_updated=1
}
# The versioned kernel package behind the linux-image-cloud-amd64 metapackage.
# Both print nothing when apt does not know the package (yet).
kernel_pkg() {
	{ apt-cache depends linux-image-cloud-amd64 2>/dev/null || true; } |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
candidate() {
	{ apt-cache policy "$1" 2>/dev/null || true; } |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}
# Print the cached .deb of package $1 at version $2 (any version if $2 empty).
cached_deb() {
	local f
	for f in "$CACHE/debs/$1"_*.deb; do
		[ -e "$f" ] || continue
		if [ -z "$2" ] || [ "$(dpkg-deb -f "$f" Version)" = "$2" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}
# fetch PKG: set DEB to the path of its .deb in the cache, downloading it
# if needed.
fetch() {
	local pkg=$1 ver f
	ver=$(candidate "$pkg")
	if [ -z "$ver" ]; then
		apt_update
		ver=$(candidate "$pkg")
	fi
	if [ -z "$ver" ]; then
		# No apt lists (offline?): fall back to whatever is cached.
		DEB=$(cached_deb "$pkg" "") || die "cannot resolve package $pkg (apt-get update?)"
		log "warning: $pkg not known to apt, using cached $(basename "$DEB")"
		return 0
	fi
	if DEB=$(cached_deb "$pkg" "$ver"); then
		log "cached: $(basename "$DEB")"
		return 0
	fi
	log "downloading $pkg $ver"
	mkdir -p "$TMP/dl"
	# apt-get download as root cannot drop to _apt in a root-owned directory;
	# say so up front rather than get a warning.
	(cd "$TMP/dl" && apt-get -q -o APT::Sandbox::User=root download "$pkg=$ver" >/dev/null) ||
		die "apt-get download $pkg=$ver failed"
	for f in "$TMP/dl/$pkg"_*.deb; do
		[ -e "$f" ] || die "apt-get download $pkg produced no .deb"
		# Drop older versions of the same package, then move into the cache.
		rm -f "$CACHE/debs/$pkg"_*.deb
		mv -f "$f" "$CACHE/debs/"
		DEB=$CACHE/debs/$(basename "$f")
		return 0
	done
}

kpkg=$(kernel_pkg)
if [ -z "$kpkg" ]; then
	apt_update
	kpkg=$(kernel_pkg)
fi
if [ -z "$kpkg" ]; then
	# Offline with a populated cache: reuse the cached kernel.
	kdeb=$(ls -t "$CACHE/debs"/linux-image-*.deb 2>/dev/null | head -n1) ||
		true
	[ -n "$kdeb" ] || die "cannot resolve linux-image-cloud-amd64 through apt-cache"
	kpkg=$(dpkg-deb -f "$kdeb" Package)
fi
log "kernel package: $kpkg (from linux-image-cloud-amd64)"
fetch "$kpkg"
kdeb=$DEB
fetch busybox-static
bdeb=$DEB

# --- unpack -----------------------------------------------------------------
log "unpacking $(basename "$kdeb")"
dpkg-deb -x "$kdeb" "$TMP/kernel"
log "unpacking $(basename "$bdeb")"
dpkg-deb -x "$bdeb" "$TMP/busybox"

KVER=
for d in "$TMP/kernel/lib/modules"/*/; do
	[ -d "$d" ] && KVER=$(basename "$d")
done
[ -n "$KVER" ] || die "no lib/modules/<version> in $(basename "$kdeb")"
[ -f "$TMP/kernel/boot/vmlinuz-$KVER" ] || die "no boot/vmlinuz-$KVER in $(basename "$kdeb")"
KCONFIG=$TMP/kernel/boot/config-$KVER
BUSYBOX=$TMP/busybox/bin/busybox
[ -x "$BUSYBOX" ] || die "no bin/busybox in $(basename "$bdeb")"
log "kernel $KVER, busybox $(dpkg-deb -f "$bdeb" Version)"

# The package ships no modules.dep (the postinst makes it): make one.
depmod -b "$TMP/kernel" "$KVER"

# --- resolve modules ---------------------------------------------------------
# `modprobe --show-depends` answers from that modules.dep / modules.builtin:
# "builtin NAME" or one "insmod PATH" per module, dependencies first.
# The kernel config is shown next to each answer for the record.
config_of() {
	local sym
	case $1 in
	button) sym=ACPI_BUTTON ;; evdev) sym=INPUT_EVDEV ;;
	sd_mod) sym=BLK_DEV_SD ;; sr_mod) sym=BLK_DEV_SR ;; cdrom) sym=CDROM ;;
	virtio_scsi) sym=SCSI_VIRTIO ;; ahci) sym=SATA_AHCI ;;
	ext4) sym=EXT4_FS ;; vfat) sym=VFAT_FS ;; isofs) sym=ISO9660_FS ;;
	virtio_rng) sym=HW_RANDOM_VIRTIO ;; nls_cp437) sym=NLS_CODEPAGE_437 ;;
	*) sym=$(echo "$1" | tr "[:lower:]" "[:upper:]") ;;
	esac
	[ -f "$KCONFIG" ] || { echo "?"; return; }
	grep -E "^(# )?CONFIG_${sym}[= ]" "$KCONFIG" | sed -e 's/^# //' -e 's/ is not set/=n/' | head -n1 |
		grep . || echo "CONFIG_$sym unset"
}
ROOT=$TMP/root
MODDIR=lib/modules/$KVER
mkdir -p "$ROOT/$MODDIR" "$ROOT/etc/kxl"
: >"$TMP/load"
builtin_list=() loaded_list=() ondemand_list=() absent_list=()
: >"$TMP/ondemand"
for m in "${WANTED_MODULES[@]}" -- "${ONDEMAND_MODULES[@]}"; do
	# After "--": copy only, do not list for loading at boot.
	if [ "$m" = -- ]; then
		list=$TMP/ondemand
		continue
	fi
	list=${list:-$TMP/load}
	if ! deps=$(modprobe -d "$TMP/kernel" -S "$KVER" --show-depends "$m" 2>/dev/null); then
		absent_list+=("$m")
		log "  module $m: not in this kernel ($(config_of "$m"))"
		continue
	fi
	case $deps in
	builtin*)
		builtin_list+=("$m")
		log "  module $m: built in ($(config_of "$m"))"
		continue ;;
	esac
	if [ "$list" = "$TMP/load" ]; then
		loaded_list+=("$m")
		log "  module $m: loaded at boot ($(config_of "$m"))"
	else
		ondemand_list+=("$m")
		log "  module $m: loaded on demand ($(config_of "$m"))"
	fi
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		rel=${path#"$TMP/kernel/"}
		grep -qxF "$rel" "$TMP/load" "$TMP/ondemand" && continue
		echo "$rel" >>"$list"
		mkdir -p "$ROOT/$(dirname "$rel")"
		cp "$path" "$ROOT/$rel"
	done <<<"$deps"
done
cp "$TMP/load" "$ROOT/etc/kxl/modules.load"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$TMP/kernel/$MODDIR/$f" ] && cp "$TMP/kernel/$MODDIR/$f" "$ROOT/$MODDIR/"
done
# modules.dep for the guest's own (busybox) modprobe.
depmod -b "$ROOT" "$KVER"
log "$(cat "$TMP/load" "$TMP/ondemand" | wc -l) module files copied, $(wc -l <"$TMP/load") loaded at boot"

# --- the initramfs tree ------------------------------------------------------
log "assembling the initramfs"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt/data,root,etc/udhcpc}
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
# One symlink per applet, at the path busybox would install it.
"$BUSYBOX" --list-full | while read -r app; do
	[ -e "$ROOT/$app" ] || [ -L "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
done
[ -L "$ROOT/bin/sh" ] || die "busybox has no sh applet"
install -m 0755 "$HERE/init" "$ROOT/init"
install -m 0755 "$HERE/kxl-shutdown" "$ROOT/sbin/kxl-shutdown"
install -m 0755 "$HERE/udhcpc.script" "$ROOT/etc/udhcpc/default.script"
# poweroff/reboot/halt go through the clean shutdown (and print the marker).
# This busybox prefers its own applets to files in PATH, so the console
# shell gets shell functions (in /etc/profile); these wrappers catch callers
# that use the full path.
for c in poweroff reboot halt; do
	rm -f "$ROOT/sbin/$c"
	printf '#!/bin/sh\nexec /sbin/kxl-shutdown %s "%s command"\n' "$c" "$c" >"$ROOT/sbin/$c"
	chmod 0755 "$ROOT/sbin/$c"
done
echo "$KVER" >"$ROOT/etc/kxl/kernel-version"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
cat >"$ROOT/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root TERM=${TERM:-vt100}
PS1='\h# '
cd /root 2>/dev/null
# Clean shutdown with a KXL-POWEROFF / KXL-REBOOT marker (see kxl-shutdown).
poweroff() { /sbin/kxl-shutdown poweroff "poweroff command"; }
reboot() { /sbin/kxl-shutdown reboot "reboot command"; }
halt() { /sbin/kxl-shutdown halt "halt command"; }
EOF
# The kernel opens /dev/console before /init runs (devtmpfs is not mounted
# yet), so the archive carries the node.  Without root there is no mknod:
# /init then reopens the console itself once devtmpfs is up.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || log "warning: cannot mknod dev/console (not root?)"

(cd "$ROOT" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 -n >"$TMP/initrd.img"
cp "$TMP/kernel/boot/vmlinuz-$KVER" "$TMP/vmlinuz"
{
	echo "kernel_package=$kpkg $(dpkg-deb -f "$kdeb" Version)"
	echo "kernel_version=$KVER"
	echo "busybox_package=busybox-static $(dpkg-deb -f "$bdeb" Version)"
	echo "modules_builtin=${builtin_list[*]}"
	echo "modules_loaded=${loaded_list[*]}"
	echo "modules_ondemand=${ondemand_list[*]}"
	echo "modules_absent=${absent_list[*]}"
	echo "vmlinuz_bytes=$(stat -c %s "$TMP/vmlinuz")"
	echo "initrd_bytes=$(stat -c %s "$TMP/initrd.img")"
} >"$TMP/manifest.txt"

# --- publish: each file appears whole or not at all ----------------------------
chmod 0644 "$TMP/vmlinuz" "$TMP/initrd.img" "$TMP/manifest.txt"
mv -f "$TMP/vmlinuz" "$OUT/vmlinuz"
mv -f "$TMP/manifest.txt" "$OUT/manifest.txt"
mv -f "$TMP/initrd.img" "$OUT/initrd.img"   # last: its mtime marks the build
log "built-in: ${builtin_list[*]:-none}"
log "loaded:   ${loaded_list[*]:-none}"
log "on demand: ${ondemand_list[*]:-none}"
log "absent:   ${absent_list[*]:-none}"
log "kernel: $OUT/vmlinuz ($(stat -c %s "$OUT/vmlinuz") bytes, $KVER)"
log "initrd: $OUT/initrd.img ($(stat -c %s "$OUT/initrd.img") bytes)"
