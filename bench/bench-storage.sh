#!/bin/bash
# bench/bench-storage.sh - storage, kxl against its peers in the same run (not
# a test):
#  (1) making a guest's disk images: `kxl create-image --dir` against xen-tools'
#      `xen-create-image --dir` (Debian's xen-tools, debootstrap), each for the
#      host's dist and apt mirror, a first image (empty caches) and a second
#      one (another hostname, each tool's own cache warm), next to a plain
#      `debootstrap` with the variant and packages kxl's template uses (the
#      reference "time of debootstrap itself");
#  (2) sequential throughput inside the guest: the test guest with a raw
#      1 GiB data disk under kxl and under libvirt (`virsh create`, libvirt's
#      default disk settings), `dd` with O_DIRECT read and write in the guest
#      (kernel parameter kxl.ddtest, tests/guest/README.md); ROUNDS rounds,
#      interleaved in ABBA order, medians and the ratio kxl/libvirt.
# Targets (issue "storage"): first image <= debootstrap + 15 s; later images
# <= 10 s; throughput >= libvirt's (ratio >= 1.00).  bench/README.md says how
# each peer is run.
#
#   bench/bench-storage.sh [ROUNDS]    (as root; ROUNDS of (2), default 7)
#
# Environment: DIST (the host's VERSION_CODENAME), MIRROR (the first Debian
# archive in the host's apt sources that lists DIST), DD_MIB (MiB read, then
# written, per dd pass; default 512), DD_CACHE (cold: the image's pages are
# dropped from the host's page cache before each boot, the default; warm: they
# are all read into it, so the host's disk drops out of the figure), SKIP_IMAGES=1
# or SKIP_DISK=1 to run one part only, BENCH_KEEP_LOGS=DIR to keep the peers'
# logs in DIR.
# Installs with apt-get what it needs (xen-tools, debootstrap, libvirt),
# takes bench_lock, and leaves no image, mount, loop device, domain or daemon
# behind, also when it fails or is interrupted.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh disable=SC1091
. "$HERE/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/libvirt.sh disable=SC1091
. "$HERE/lib/libvirt.sh"

ROUNDS=${1:-7}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROUNDS]" >&2; exit 2; }
((EUID == 0)) || { echo "bench-storage: run as root" >&2; exit 2; }
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
DD_MIB=${DD_MIB:-512}
DISK_MIB=$((DD_MIB * 2))
DD_CACHE=${DD_CACHE:-cold}
[[ $DD_CACHE == cold || $DD_CACHE == warm ]] || { echo "bench-storage: DD_CACHE is cold or warm" >&2; exit 2; }
# one image recipe for both tools (their spellings differ)
SIZE_MIB=4096 SWAP_MIB=256 MEM_MIB=512 FS=ext4

WORK=$(mktemp -d /var/tmp/kxl-bench-storage.XXXXXX)
export KXL_ROOT=$WORK/kxl-root          # private: kxl's template cache starts empty
mkdir -p "$KXL_ROOT" "$WORK/logs" "$WORK/tmp"
XEN_HOSTS=(xenbench-a-$$ xenbench-b-$$)
KXL_HOSTS=(kxlbench-a-$$ kxlbench-b-$$)
XEN_LOGDIR=/var/log/xen-tools
XEN_LOGDIR_EXISTED=0
[[ -d $XEN_LOGDIR ]] && XEN_LOGDIR_EXISTED=1
CHILD=""          # the long-running command now running (its own process group)
LV_DOMS=()
FAILED=0
LOCKED=0

# --- nothing left behind -------------------------------------------------------
# Mounts and loop devices whose source or mount point is under $WORK (the
# peers mount in private mount namespaces, so there should never be any).
# shellcheck disable=SC2317  # (functions run from the EXIT trap)
our_mounts() { awk -v w="$WORK" 'index($2, w) == 1 || index($1, w) == 1 { print $2 }' /proc/self/mounts; }
# shellcheck disable=SC2317
our_loops() { losetup -a 2>/dev/null | awk -v w="$WORK" 'index($0, w) { sub(/:.*/, ""); print }'; }

# shellcheck disable=SC2317
cleanup() {
    local rc=$? d m l h
    trap - EXIT INT TERM HUP
    if [[ -n $CHILD ]]; then
        kill -TERM -- "-$CHILD" "$CHILD" 2>/dev/null || true
        for _ in $(seq 100); do bench_pid_alive "$CHILD" || break; sleep 0.1; done
        kill -KILL -- "-$CHILD" "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    if [[ -x $KXL ]]; then
        for d in $("$KXL" list 2>/dev/null | awk 'NR > 2 { print $1 }'); do
            "$KXL" destroy "$d" >/dev/null 2>&1 || true
        done
    fi
    # the libvirtd is ours only while we hold the lock (else another bench's)
    if ((LOCKED)); then
        for d in "${LV_DOMS[@]}"; do virsh_stop "$d" >/dev/null 2>&1 || true; done
        libvirt_stop >/dev/null 2>&1 || true
    fi
    for m in $(our_mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    for l in $(our_loops); do losetup -d "$l" 2>/dev/null || true; done
    if [[ -n ${BENCH_KEEP_LOGS:-} ]] && mkdir -p "$BENCH_KEEP_LOGS"; then
        cp -a "$WORK/logs/." "$BENCH_KEEP_LOGS/" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$WORK"
    # xen-create-image logs to /var/log/xen-tools/HOSTNAME.log whatever it is told
    for h in "${XEN_HOSTS[@]}"; do rm -f "$XEN_LOGDIR/$h.log" "$XEN_LOGDIR/$h".[0-9]*.log; done
    ((XEN_LOGDIR_EXISTED)) || rmdir "$XEN_LOGDIR" 2>/dev/null || true
    if [[ -n $(our_mounts) || -n $(our_loops) ]]; then
        echo "bench-storage: left behind: $(our_mounts) $(our_loops)" >&2; rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_logged LOG CMD...: CMD in a process group of its own (so an interrupt
# stops all of it), output to LOG, without blocking signals to this shell.
run_logged() {
    local log=$1 rc=0
    shift
    setsid "$@" </dev/null >"$log" 2>&1 &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}
median1() { if (($#)); then bench_median "$@" | awk '{ printf "%.1f\n", $1 }'; else echo n/a; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b <= 0) print "n/a"; else printf "%.2f\n", a / b }'; }
# meets VALUE OP LIMIT -> "met" / "NOT met"
meets() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    if (a == "" || a == "n/a") { print "n/a"; exit }
    ok = (op == "<=") ? (a <= b) : (a >= b); print ok ? "met" : "NOT met" }'; }
# paired_ratio "K1 K2 .." "L1 L2 ..": the geometric mean of Ki/Li over the
# rounds, a 95% bootstrap interval for it (fixed seed: the same figures give
# the same interval), and what the interval says.
paired_ratio() {
    python3 - "$1" "$2" <<'PY'
import math, random, sys
k = [float(x) for x in sys.argv[1].split()]
l = [float(x) for x in sys.argv[2].split()]
n = min(len(k), len(l))
if n < 2:
    print("n/a (fewer than 2 rounds)"); sys.exit()
logs = [math.log(k[i] / l[i]) for i in range(n)]
gm = lambda xs: math.exp(sum(xs) / len(xs))
rng = random.Random(1)
boot = sorted(gm([rng.choice(logs) for _ in logs]) for _ in range(10000))
lo, hi = boot[249], boot[9749]
verdict = "kxl faster" if lo > 1 else "kxl slower" if hi < 1 else "no difference the rounds can show"
print(f"{gm(logs):.2f} [{lo:.2f}, {hi:.2f}] over {n} rounds: {verdict}")
PY
}
show_fail() { echo "  $1 FAILED; last lines of $2:"; tail -n 25 "$2" | sed 's/^/    | /'; FAILED=1; }

# --- set-up -----------------------------------------------------------------------
apt_need() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    echo "bench-storage: installing ${missing[*]}" >&2
    local apt=(apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends)
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${missing[@]}" >&2 ||
        { apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
          DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${missing[@]}" >&2; }
}

# host_mirror DIST: the first Debian archive in the host's apt sources that
# lists DIST as a suite (one-line .list files and deb822 .sources files).
host_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        awk -v d="$1" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++
            if ($i ~ /^\[/ || $i ~ /\]$/) i++
            if ($(i + 1) == d) { print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        awk -v d="$1" 'BEGIN { RS = ""; FS = "\n" } {
            uri = ""; suites = ""; deb = 0
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
                if ($i ~ /^Suites:/) { suites = " " $i " "; sub(/^ Suites:/, "", suites) }
                if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
            }
            if (deb && uri != "" && suites ~ (" " d " ")) { print uri; exit } }' "$f"
    done
}

# The packages kxl's template gets (src/image/image_template.c), so that the
# reference debootstrap does the same work as kxl's first image.
kxl_include() {
    local base
    base=$(awk '/base_packages\[\] =/ { on = 1; next } on { s = s $0 } on && /;/ { exit }
        END { gsub(/"[ \t]*"/, "", s); gsub(/[ \t";]/, "", s); print s }' \
        "$TOP/src/image/image_template.c" 2>/dev/null) || true
    [[ $base == *systemd* ]] ||
        base=systemd-sysv,udev,kmod,initramfs-tools,openssh-server,ifupdown,isc-dhcp-client,iproute2,netbase,iputils-ping,procps,less
    echo "$base,linux-image-cloud-amd64"
}

bench_lock 3600 || { echo "bench-storage: another benchmark holds $BENCH_LOCK" >&2; exit 1; }
LOCKED=1
apt_need debootstrap e2fsprogs util-linux coreutils
apt_need xen-tools            # --no-install-recommends: no Xen hypervisor, no xl
libvirt_install >/dev/null    # libvirt-daemon-system, libvirt-clients, tini, hyperfine
"$TOP/tools/install-deps.sh" >/dev/null
"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null

# shellcheck disable=SC1091
DIST=${DIST:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[[ -n $DIST ]] || { echo "bench-storage: cannot tell the host's dist; set DIST" >&2; exit 1; }
MIRROR=${MIRROR:-$(host_mirror "$DIST" | head -n1)}
[[ -n $MIRROR ]] || { echo "bench-storage: no apt source lists $DIST; set MIRROR" >&2; exit 1; }
ARCH=$(dpkg --print-architecture)
INCLUDE=$(kxl_include)
echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), dist $DIST, arch $ARCH, mirror $MIRROR"
echo "   debootstrap $(dpkg-query -W -f='${Version}' debootstrap), xen-tools $(dpkg-query -W -f='${Version}' xen-tools), libvirt $(dpkg-query -W -f='${Version}' libvirt-daemon), QEMU $(dpkg-query -W -f='${Version}' qemu-system-x86)"
echo "   kxl $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')"

# --- (1) images -------------------------------------------------------------------
# timed LABEL LOG CMD...: wait for a quiet host, run CMD, set T (seconds) and
# BUSY (% of the host's CPUs busy meanwhile); 1 if CMD failed.
timed() {
    local label=$1 log=$2 t0 snap rc=0
    shift 2
    bench_wait_quiet 15 180 || echo "  (host still busy before $label; measuring anyway)"
    snap=$(bench_cpu_snapshot)
    t0=$(bench_now_us)
    run_logged "$log" "$@" || rc=$?
    T=$(bench_elapsed "$t0")
    BUSY=$(bench_cpu_busy_since "$snap")
    return "$rc"
}
report() { printf '  %-44s %8s s   (host CPUs %s%% busy meanwhile)\n' "$1" "$2" "$3"; }
image_du() { # DIR: "disk.img 4096 MiB apparent, 612 MiB allocated; swap.img ..."
    local f out=""
    for f in "$1"/*.img; do
        [[ -e $f ]] || continue
        out+="${out:+; }${f##*/} $(( $(stat -c %s "$f") / 1048576 )) MiB, $(( $(stat -c %b "$f") * $(stat -c %B "$f") / 1048576 )) MiB allocated"
    done
    echo "${out:-no images}"
    echo "      in disk.img: $(image_content "$1/disk.img")"
}
# image_content DISK: the kernel in /boot and the number of packages installed,
# read with debugfs (the image is not mounted)
image_content() {
    local k n
    k=$(debugfs -R "ls -p /boot" "$1" 2>/dev/null | awk -F/ '$6 ~ /^vmlinuz-/ { print substr($6, 9) }' |
        paste -sd, -) || true
    n=$(debugfs -R "cat /var/lib/dpkg/status" "$1" 2>/dev/null | grep -c '^Status: install ok installed') || true
    echo "kernel ${k:-none}, ${n:-?} packages installed"
}

bench_images() {
    local h i ref="" kx=("" "") xe=("" "") own=""
    echo "== (1) disk images for $DIST: ${SIZE_MIB} MiB $FS root, ${SWAP_MIB} MiB swap, sparse raw files, DHCP, generated root password"

    # xen-tools reads /etc/xen-tools/xen-tools.conf first, then --config (whose
    # values win over the command line): the same recipe, and nothing that
    # asks for Xen.  Its .deb cache is private (default /var/cache/apt/archives).
    cat >"$WORK/xen-tools.conf" <<EOF
# bench-storage.sh: xen-create-image's settings for this run
dist = $DIST
mirror = $MIRROR
arch = $ARCH
install-method = debootstrap
size = ${SIZE_MIB}M
swap = ${SWAP_MIB}M
memory = ${MEM_MIB}M
vcpus = 1
fs = $FS
image = sparse
dhcp = 1
pygrub = 1
genpass = 1
nohosts = 1
boot = 0
cache = yes
cachedir = $WORK/xen-debcache/
output = $WORK/xen-cfg
EOF
    mkdir -p "$WORK/xen-debcache" "$WORK/xen-cfg" "$WORK/xen-images" "$WORK/kxl-images" "$WORK/kxl-cfg"
    XEN_CMD=(xen-create-image --config="$WORK/xen-tools.conf" --dir="$WORK/xen-images"
        --output="$WORK/xen-cfg" --dist="$DIST" --mirror="$MIRROR" --arch="$ARCH"
        --install-method=debootstrap --size="${SIZE_MIB}M" --swap="${SWAP_MIB}M"
        --memory="${MEM_MIB}M" --vcpus=1 --fs="$FS" --image=sparse --dhcp --pygrub
        --genpass=1 --nohosts --noboot --cache=yes --cachedir="$WORK/xen-debcache/")
    KXL_CMD=("$KXL" create-image --dir="$WORK/kxl-images" --output="$WORK/kxl-cfg"
        --dist="$DIST" --mirror="$MIRROR" --arch="$ARCH" --size="${SIZE_MIB}mb"
        --swap="${SWAP_MIB}mb" --memory="${MEM_MIB}mb" --vcpus=1 --fs="$FS" --image=sparse
        --format=raw --dhcp --genpass)
    # xen-create-image runs in a private mount namespace: its loop mount, and
    # the /proc and /dev/pts it mounts in the guest, vanish with it even if it
    # is killed.  Its mount point (File::Temp) goes to /tmp, which there is a
    # private directory bound over /tmp (not TMPDIR: the hooks' chroots would
    # inherit a path that does not exist inside the guest).
    # shellcheck disable=SC2016
    XEN_NS=(unshare --mount --propagation private -- sh -c 'mount --bind "$1" /tmp && shift && exec "$@"' xen-ns "$WORK/tmp")
    REF_CMD=(debootstrap --variant=minbase --arch="$ARCH" --include="$INCLUDE" "$DIST"
        "$WORK/debootstrap" "$MIRROR")
    echo "  reference: unshare -m ${REF_CMD[*]}"
    echo "  kxl:       KXL_ROOT=<private, empty> ${KXL_CMD[*]/#$KXL/kxl} --hostname=H"
    echo "  xen-tools: unshare -m (private /tmp bound over /tmp) ${XEN_CMD[*]} --hostname=H"
    echo "  (xen-create-image runs debootstrap's default variant into the loop-mounted image, then"
    echo "   its hooks apt-get install openssh-server and, for --pygrub, linux-image-amd64 and grub-legacy;"
    echo "   kxl debootstraps minbase with the packages above once, into its template)"

    # a: debootstrap itself (in a private mount namespace, as kxl runs it:
    # the /proc it mounts in the target vanishes with it)
    if timed "debootstrap" "$WORK/logs/debootstrap.log" env DEBIAN_FRONTEND=noninteractive \
        unshare --mount --propagation private -- "${REF_CMD[@]}"; then
        ref=$T; report "debootstrap (reference)" "$T" "$BUSY"
    else
        show_fail "debootstrap" "$WORK/logs/debootstrap.log"
    fi
    rm -rf --one-file-system "$WORK/debootstrap"

    # interleaved: kxl first, xen-tools first, kxl second, xen-tools second
    for i in 0 1; do
        h=${KXL_HOSTS[$i]}
        if timed "kxl $i" "$WORK/logs/kxl-$i.log" "${KXL_CMD[@]}" --hostname="$h"; then
            kx[i]=$T
            report "kxl create-image, $([[ $i == 0 ]] && echo first || echo second) image" "$T" "$BUSY"
            echo "      $(image_du "$WORK/kxl-images/domains/$h")"
            if ((i == 0)); then
                # its summary: "Time : 68.7 s (66.0 s of them debootstrap)"
                own=$(sed -n 's/^Time *: *[0-9.]* s (\([0-9.]*\) s of them debootstrap).*/\1/p' \
                    "$WORK/logs/kxl-$i.log" | head -n1) || true
                [[ -n $own ]] || own=$(awk -F= '$1 == "seconds" { print $2 }' \
                    "$KXL_ROOT/var/lib/kxl/templates/$DIST-$ARCH/info" 2>/dev/null) || true
                echo "      (of which its own debootstrap, with the template's clean-up: ${own:-?} s)"
            fi
            if grep -q "Using the cached" "$WORK/logs/kxl-$i.log"; then
                echo "      (used the cached template)"
            fi
        else
            show_fail "kxl create-image ($h)" "$WORK/logs/kxl-$i.log"
        fi
        h=${XEN_HOSTS[$i]}
        if timed "xen $i" "$WORK/logs/xen-$i.log" "${XEN_NS[@]}" "${XEN_CMD[@]}" --hostname="$h"; then
            xe[i]=$T
            report "xen-create-image, $([[ $i == 0 ]] && echo first || echo second) image" "$T" "$BUSY"
            echo "      $(image_du "$WORK/xen-images/domains/$h")"
        else
            show_fail "xen-create-image ($h)" "$WORK/logs/xen-$i.log"
        fi
        cp "$XEN_LOGDIR/$h.log" "$WORK/logs/xen-$i.detail.log" 2>/dev/null || true
        # what went wrong inside it without failing it (apt's "E:" lines)
        if [[ -n ${xe[i]} ]] && grep -q '^E: ' "$WORK/logs/xen-$i.detail.log" 2>/dev/null; then
            grep '^E: ' "$WORK/logs/xen-$i.detail.log" | sort | uniq -c | sed 's/^ */      (its log: /; s/$/)/'
        fi
        # xen-create-image exits 0 on some failures: check it printed its summary
        if [[ -n ${xe[i]} ]] && ! grep -q "^Installation Summary" "$WORK/logs/xen-$i.log"; then
            show_fail "xen-create-image ($h) printed no summary:" "$WORK/logs/xen-$i.log"; xe[i]=""
        fi
    done
    echo "  xen-tools' .deb cache after both: $(find "$WORK/xen-debcache" -name '*.deb' | wc -l) packages"
    rm -rf --one-file-system "$WORK/xen-images" "$WORK/kxl-images"

    local over=n/a
    [[ -n $ref && -n ${kx[0]} ]] && over=$(awk -v a="${kx[0]}" -v b="$ref" 'BEGIN { printf "%.1f\n", a - b }')
    echo "  kxl first - debootstrap:  $over s (target <= 15 s: $(meets "$over" "<=" 15))"
    if [[ -n ${kx[0]} && -n $own ]]; then
        echo "  kxl first - its own debootstrap in the same run: $(awk -v a="${kx[0]}" -v b="$own" 'BEGIN { printf "%.1f\n", a - b }') s"
    fi
    echo "  kxl second image:         ${kx[1]:-n/a} s (target <= 10 s: $(meets "${kx[1]:-n/a}" "<=" 10))"
    echo "  ratio kxl/xen-create-image: first $(ratio "${kx[0]}" "${xe[0]}"), second $(ratio "${kx[1]}" "${xe[1]}")"
    echo "  ratio first image / debootstrap: kxl $(ratio "${kx[0]}" "$ref"), xen-create-image $(ratio "${xe[0]}" "$ref")"
}

# --- (2) throughput in the guest ------------------------------------------------
DD_CMDLINE="console=ttyS0 kxl.hostname=ddbench kxl.hb=0 kxl.ddtest=vda:$DD_MIB"
IMG=$WORK/disk/data.img

# Every guest starts from the same state of the host's page cache: cold, the
# image's pages written out and dropped; warm, all of them read in.
prepare_image() {
    sync "$IMG"
    if [[ $DD_CACHE == warm ]]; then cat "$IMG" >/dev/null
    else dd if="$IMG" iflag=nocache count=0 status=none; fi
}

# dd_result LOG -> "READ WRITE" (MiB/s) from the guest's KXL-DD line
dd_result() {
    grep -ao 'KXL-DD .*' "$1" | head -n1 | tr -d '\r' |
        awk '{ r = w = ""; for (i = 2; i <= NF; i++) { split($i, kv, "=")
            if (kv[1] == "read_mibs") r = kv[2]; if (kv[1] == "write_mibs") w = kv[2]
            if (kv[1] == "error") e = kv[2] }
            if (e != "" || r !~ /^[0-9.]+$/ || w !~ /^[0-9.]+$/) exit 1; print r, w }'
}

kxl_cfg() { # NAME: the guest's xl.cfg on stdout
    cat <<EOF
name = "$1"
memory = 256
vcpus = 1
kernel = "$GUEST/vmlinuz"
ramdisk = "$GUEST/initrd.img"
cmdline = "$DD_CMDLINE"
disk = [ '$IMG,raw,xvda,rw' ]
EOF
}

kxl_dd() { # NAME -> "READ WRITE"
    local cfg=$WORK/$1.cfg log=$KXL_ROOT/var/log/kxl/$1.console.log res
    kxl_cfg "$1" >"$cfg"
    rm -f "$log"
    "$KXL" create -q "$cfg" 2>"$WORK/logs/$1.create.log" ||
        { echo "kxl: create $1 failed: $(cat "$WORK/logs/$1.create.log")" >&2; return 1; }
    if ! bench_wait_marker "$log" "KXL-DD" 300; then
        echo "kxl: no KXL-DD from $1" >&2; "$KXL" destroy "$1" >/dev/null 2>&1 || true; return 1
    fi
    cp "$log" "$WORK/logs/$1.console.log"
    "$KXL" destroy "$1" >/dev/null
    res=$(dd_result "$WORK/logs/$1.console.log") ||
        { echo "kxl: $(grep -ao 'KXL-DD .*' "$WORK/logs/$1.console.log")" >&2; return 1; }
    echo "$res"
}

lv_xml() { # NAME LOG
    local xml disk
    xml=$(libvirt_domain_xml "$1" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$DD_CMDLINE" 256 1 "$2")
    # libvirt's defaults: no cache, io, discard or detect_zeroes attributes
    disk="<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$IMG'/><target dev='vda' bus='virtio'/></disk>"
    echo "${xml/"</devices>"/"$disk</devices>"}"
}

lv_dd() { # NAME -> "READ WRITE"; the first time, also QEMU's disk options
    local log=$WORK/logs/$1.console.log res pid
    rm -f "$log"
    LV_DOMS+=("$1")
    virsh_start "$1" "$(lv_xml "$1" "$log")" || { echo "libvirt: virsh create $1 failed" >&2; return 1; }
    if [[ ! -s $WORK/lv.qemu-args ]] && pid=$(libvirt_qemu_pid "$1"); then
        tr '\0' '\n' <"/proc/$pid/cmdline" >"$WORK/lv.qemu-args" || true
    fi
    if ! bench_wait_marker "$log" "KXL-DD" 300; then
        echo "libvirt: no KXL-DD from $1" >&2; virsh_stop "$1"; return 1
    fi
    virsh_stop "$1"
    res=$(dd_result "$log") || { echo "libvirt: $(grep -ao 'KXL-DD .*' "$log")" >&2; return 1; }
    echo "$res"
}

# the block options from an argv listing (one argument per line)
block_opts() {
    awk 'prev == "-drive" || prev == "-blockdev" { print "    " prev " " $0 }
        prev == "-device" && /virtio-blk/ { print "    -device " $0 }
        { prev = $0 }' "$1"
}

# disk_round PEER I: one dd run of kxl or lv (libvirt), appended to kr/kw or lr/lw
disk_round() {
    local peer=$1 r w snap label
    label=$([[ $peer == kxl ]] && echo "kxl    " || echo "libvirt")
    bench_wait_quiet 15 180 || true
    prepare_image
    snap=$(bench_cpu_snapshot)
    if { if [[ $peer == kxl ]]; then kxl_dd "kxldd$2"; else lv_dd "lvdd$2"; fi; } >"$WORK/res" &&
        read -r r w <"$WORK/res"; then
        if [[ $peer == kxl ]]; then kr+=("$r"); kw+=("$w"); rk[$2]="$r $w"
        else lr+=("$r"); lw+=("$w"); rl[$2]="$r $w"; fi
    else r=fail w=fail; FAILED=1; fi
    echo "  round $2: $label read $r MiB/s, write $w MiB/s (host CPUs $(bench_cpu_busy_since "$snap")% busy)"
}

bench_disk() {
    local i r w
    kr=() kw=() lr=() lw=() rk=() rl=()
    echo "== (2) sequential throughput in the guest: dd ${DD_MIB} MiB, bs=1M, O_DIRECT, on a raw ${DISK_MIB} MiB virtio disk, $DD_CACHE in the host's page cache, $ROUNDS rounds (TCG)"
    mkdir -p "$WORK/disk"
    # real data everywhere (no holes, nothing QEMU or the host could skip)
    dd if=/dev/urandom of="$IMG" bs=1M count="$DISK_MIB" conv=fsync status=none
    libvirt_start
    # kxl's QEMU command line for the same guest, without starting it
    kxl_cfg dryrun >"$WORK/dryrun.cfg"
    "$KXL" create -n "$WORK/dryrun.cfg" 2>/dev/null | tr ' ' '\n' >"$WORK/kxl.qemu-args" || true
    for ((i = 0; i < ROUNDS; i++)); do
        # ABBA order, so that whatever favours the first (or second) of a round favours both
        if ((i % 2 == 0)); then disk_round kxl "$i"; disk_round lv "$i"
        else disk_round lv "$i"; disk_round kxl "$i"; fi
    done
    local mkr mkw mlr mlw
    mkr=$(median1 "${kr[@]}"); mkw=$(median1 "${kw[@]}")
    mlr=$(median1 "${lr[@]}"); mlw=$(median1 "${lw[@]}")
    echo "  median: kxl read $mkr MiB/s, write $mkw MiB/s; libvirt read $mlr MiB/s, write $mlw MiB/s"
    r=$(ratio "$mkr" "$mlr"); w=$(ratio "$mkw" "$mlw")
    echo "  ratio kxl/libvirt: read $r (target >= 1.00: $(meets "$r" ">=" 1)), write $w (target >= 1.00: $(meets "$w" ">=" 1))"
    # the pairs: rounds where both peers gave a figure (a failed one has no pair)
    local pkr=() pkw=() plr=() plw=()
    for ((i = 0; i < ROUNDS; i++)); do
        [[ -n ${rk[i]:-} && -n ${rl[i]:-} ]] || continue
        pkr+=("${rk[i]% *}"); pkw+=("${rk[i]#* }"); plr+=("${rl[i]% *}"); plw+=("${rl[i]#* }")
    done
    echo "  paired by round (kxl/libvirt of the same round; geometric mean, 95% bootstrap interval):"
    echo "    read:  $(paired_ratio "${pkr[*]}" "${plr[*]}")"
    echo "    write: $(paired_ratio "${pkw[*]}" "${plw[*]}")"
    echo "  QEMU disk options, kxl (kxl create -n):"
    block_opts "$WORK/kxl.qemu-args"
    echo "  QEMU disk options, libvirt (its QEMU's command line):"
    if [[ -s $WORK/lv.qemu-args ]]; then block_opts "$WORK/lv.qemu-args"; else echo "    (not captured)"; fi
    libvirt_stop
}

[[ ${SKIP_IMAGES:-0} == 1 ]] || bench_images
[[ ${SKIP_DISK:-0} == 1 ]] || bench_disk
exit "$FAILED"
