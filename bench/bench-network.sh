#!/bin/bash
# bench/bench-network.sh - networking, kxl against libvirt in the same run
# (not a test), each in a private network namespace:
#  - guest-to-host TCP throughput through a virtio vif on a bridge (the guest
#    streams 64 MiB of zeros with busybox nc; the host side measures);
#  - ping latency host -> guest (20 pings);
#  - the set-up cost of a vif: `kxl create` of a domain with 4 vifs against
#    one with none (create returns once QEMU runs, before the guest boots).
# Targets (issue "networking"): throughput within 5% of libvirt's; vif
# set-up <= 20 ms per vif.
#   bench/bench-network.sh [RUNS]   (as root; default 5)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
bench_lock 3600 || { echo "bench-network: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

RUNS=${1:-5}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
NS=kxlbench-$$
MB=64
KXL_ROOT=$(mktemp -d /tmp/kxl-bench.XXXXXX)
export KXL_ROOT
WORK=$KXL_ROOT/work
mkdir -p "$WORK"

cleanup() {
    ip netns exec "$NS" "$KXL" destroy nb >/dev/null 2>&1 || true
    for i in $(seq 0 "$RUNS"); do
        ip netns exec "$NS" "$KXL" destroy "v4-$i" >/dev/null 2>&1 || true
        ip netns exec "$NS" "$KXL" destroy "v0-$i" >/dev/null 2>&1 || true
    done
    virsh_stop lvnet >/dev/null 2>&1 || true
    libvirt_stop >/dev/null 2>&1 || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$KXL_ROOT"
}
trap cleanup EXIT

"$TOP/tools/install-deps.sh" >/dev/null
"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null
libvirt_install >/dev/null
libvirt_start

ip netns add "$NS"
inns() { ip netns exec "$NS" "$@"; }
inns ip link set lo up
inns ip link add br0 type bridge
inns ip addr add 10.77.0.1/24 dev br0
inns ip link set br0 up

cfg() { # NAME NVIFS [CMDLINE]
    local vifs="" i
    for ((i = 0; i < $2; i++)); do vifs+="'bridge=br0',"; done
    printf 'name = "%s"\nmemory = 256\nkernel = "%s/vmlinuz"\nramdisk = "%s/initrd.img"\ncmdline = "console=ttyS0 kxl.hb=0 %s"\nvif = [ %s ]\n' \
        "$1" "$GUEST" "$GUEST" "${3:-}" "$vifs" >"$WORK/$1.cfg"
    echo "$WORK/$1.cfg"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "== vif set-up: kxl create with 4 vifs vs none, $RUNS runs each"
# one domain first, untimed: the first start of a kernel unpacks it into the PVH cache
inns "$KXL" create -q "$(cfg warm 0)" 2>/dev/null && inns "$KXL" destroy warm
t4=() t0=()
for ((i = 0; i < RUNS; i++)); do
    c=$(cfg "v4-$i" 4); s=$(bench_now_us); inns "$KXL" create -q "$c" 2>/dev/null; t4+=("$(bench_elapsed "$s")")
    c=$(cfg "v0-$i" 0); s=$(bench_now_us); inns "$KXL" create -q "$c" 2>/dev/null; t0+=("$(bench_elapsed "$s")")
    inns "$KXL" destroy "v4-$i"; inns "$KXL" destroy "v0-$i"
done
M4=$(bench_median "${t4[@]}"); M0=$(bench_median "${t0[@]}")
echo "  median create: 4 vifs $M4 s, none $M0 s; per vif $(awk -v a="$M4" -v b="$M0" 'BEGIN { printf "%.1f", (a - b) / 4 * 1000 }') ms (target <= 20 ms)"

# nic_opts PID: the -netdev and virtio-net -device options of a running QEMU
nic_opts() {
    tr '\0' '\n' <"/proc/$1/cmdline" | { grep -E '"?(tap|virtio-net)' || true; } | tr '\n' ' '
}

# Each peer starts the guest, names its QEMU and stops it: PEER_start,
# PEER_pid, PEER_stop (kxl in the namespace inns enters, libvirt in lvns).
kxl_start() { inns "$KXL" create -q "$(cfg nb 1 "kxl.ip=10.77.0.2/24 kxl.send=10.77.0.1:5001:$MB")" 2>/dev/null; }
kxl_pid() { pgrep -f 'guest=nb,' | head -1; }
kxl_stop() { inns "$KXL" destroy nb; }
lv_start() { virsh_start lvnet "$LV_XML"; }
lv_pid() { libvirt_qemu_pid lvnet; }
lv_stop() { virsh_stop lvnet; }

# net_once PEER NS: one throughput + ping run; prints "MiB/s rtt_ms". The
# guest streams $MB MiB once it is up; the sink measures from first to last
# byte. The peer's QEMU network options go to $WORK/PEER.nic.
net_once() {
    local peer=$1 ns=$2 sink mbs rtt
    "$ns" python3 "$HERE/lib/tcp-sink.py" 5001 >"$WORK/$peer.tput" &
    sink=$!
    "${peer}_start"
    nic_opts "$("${peer}_pid")" >"$WORK/$peer.nic"
    wait "$sink"
    read -r _ _ mbs <"$WORK/$peer.tput"
    rtt=$("$ns" ping -c 20 -i 0.2 10.77.0.2 | awk -F/ '/^rtt/ { print $5 }')
    "${peer}_stop"
    echo "$mbs $rtt"
}

LVNS=/proc/$(libvirtd_pid)/ns/net
lvns() { nsenter --net="$LVNS" "$@"; }
lvns ip link add lvbr0 type bridge 2>/dev/null || true
lvns ip addr add 10.77.0.1/24 dev lvbr0 2>/dev/null || true
lvns ip link set lvbr0 up
LV_XML=$(libvirt_domain_xml lvnet "$GUEST/vmlinuz" "$GUEST/initrd.img" \
    "console=ttyS0 kxl.hb=0 kxl.ip=10.77.0.2/24 kxl.send=10.77.0.1:5001:$MB" 256 1 "$WORK/lvnet.log")
iface="<interface type='bridge'><source bridge='lvbr0'/><model type='virtio'/></interface>"
LV_XML=${LV_XML/"</devices>"/"$iface</devices>"}

echo "== throughput guest -> host ($MB MiB) and ping host -> guest (20), virtio vif on a bridge,"
echo "   kxl and libvirt (<interface type='bridge'> with virtio) interleaved, $RUNS runs each"
kt=() kr=() lt=() lr=()
kxl_run() { bench_wait_quiet 20 30 || true; read -r t r < <(net_once kxl inns); kt+=("$t"); kr+=("$r"); }
lv_run() { bench_wait_quiet 20 30 || true; read -r t r < <(net_once lv lvns); lt+=("$t"); lr+=("$r"); }
for ((i = 0; i < RUNS; i++)); do
    # ABBA order, so that whatever favours the first (or second) of a pair favours both peers
    if ((i % 2 == 0)); then kxl_run; lv_run; else lv_run; kxl_run; fi
    echo "  run $((i + 1)): kxl ${kt[-1]} MiB/s, ${kr[-1]} ms; libvirt ${lt[-1]} MiB/s, ${lr[-1]} ms"
done
KX_MBS=$(bench_median "${kt[@]}"); KX_RTT=$(bench_median "${kr[@]}")
LV_MBS=$(bench_median "${lt[@]}"); LV_RTT=$(bench_median "${lr[@]}")
echo "  median kxl: $KX_MBS MiB/s, ping $KX_RTT ms"
echo "  median libvirt: $LV_MBS MiB/s, ping $LV_RTT ms"
echo "  QEMU's NIC options: kxl: $(<"$WORK/kxl.nic")"
echo "                      libvirt: $(<"$WORK/lv.nic")"
echo "  ratio throughput kxl/libvirt $(ratio "$KX_MBS" "$LV_MBS") (target >= 0.95), ping kxl/libvirt $(ratio "$KX_RTT" "$LV_RTT")"
