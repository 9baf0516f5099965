#!/bin/bash
# bench/lib/libvirt-ns.sh STATE_DIR — not for direct use; libvirt_start runs
#
#   setsid unshare -m -n --propagation private -- tini -s -- bash libvirt-ns.sh STATE_DIR
#
# Inside the private mount and network namespaces it makes the private
# qemu.conf (user/group root) visible to this libvirtd only, hides the
# networks' autostart directory (so `default` never starts), brings lo up and
# runs virtlogd and libvirtd in the foreground.  tini -s above is a child
# subreaper that reaps at once, so the QEMU processes libvirtd daemonizes are
# reaped as soon as they exit instead of waiting for this host's slow PID 1.
set -u
state=$1

echo "$PPID" >"$state/tini-inner.pid"

mount --bind "$state/qemu.conf" /etc/libvirt/qemu.conf || exit 20
mount -t tmpfs -o size=64k,mode=0755 kxl-bench-empty \
    /etc/libvirt/qemu/networks/autostart || exit 21
ip link set lo up || exit 22

virtlogd >>"$state/virtlogd.log" 2>&1 &
vlogd=$!
echo "$vlogd" >"$state/virtlogd.pid"
for _ in $(seq 200); do
    [[ -S /run/libvirt/virtlogd-sock ]] && break
    kill -0 "$vlogd" 2>/dev/null || exit 23
    sleep 0.05
done

libvirtd >>"$state/libvirtd.log" 2>&1 &
lvd=$!
echo "$lvd" >"$state/libvirtd.pid"

trap 'kill -TERM "$lvd" "$vlogd" 2>/dev/null' TERM INT HUP
wait -n "$lvd" "$vlogd"
# one of them died or we were told to stop: stop the other one too
kill -TERM "$lvd" "$vlogd" 2>/dev/null
wait
