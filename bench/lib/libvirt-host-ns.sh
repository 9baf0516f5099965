#!/bin/bash
# bench/lib/libvirt-host-ns.sh STATE_DIR — not for direct use; migrate-bench.py's virsh peer
# runs, for each of host A and host B (tests/e2e/twohost.py's network namespaces),
#
#   ip netns exec HOST_NS unshare --mount --propagation private -- \
#       tini -s -- bash libvirt-host-ns.sh STATE_DIR
#
# so that two libvirtd run side by side on one machine, each a host of its own: in its
# private mount namespace it binds directories of STATE_DIR over /run (so /var/run: sockets,
# pid files, /run/libvirt, /run/lock for virsh console's lock), /var/lib/libvirt,
# /var/log/libvirt and /var/cache/libvirt, and STATE_DIR's libvirtd.conf (its own host_uuid) and qemu.conf (QEMU as root, the migration
# address on this host's bridge) over /etc/libvirt's; /etc/libvirt/qemu (persistent domains,
# networks and their autostart) is an empty tmpfs, so nothing of the machine's is seen and
# the `default` network never starts. Then virtlogd and libvirtd in the foreground. tini -s
# is the subreaper of the QEMU processes libvirtd daemonizes (libvirt-ns.sh says why).
# Nothing is written outside STATE_DIR: the other engineers' libvirt (lib/libvirt.sh, on the
# machine's /run/libvirt) is neither seen nor touched.
set -u
state=$1

for d in run lib log cache; do
    mkdir -p "$state/$d" || exit 20
done
mount --bind "$state/run" /run || exit 21
mount --bind "$state/lib" /var/lib/libvirt || exit 22
mount --bind "$state/log" /var/log/libvirt || exit 23
mount --bind "$state/cache" /var/cache/libvirt || exit 24
mount -t tmpfs -o size=1m,mode=0755 kxl-bench-host /etc/libvirt/qemu || exit 25
mount --bind "$state/libvirtd.conf" /etc/libvirt/libvirtd.conf || exit 26
mount --bind "$state/qemu.conf" /etc/libvirt/qemu.conf || exit 27
mkdir -p /run/lock /run/libvirt /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu \
    || exit 28

virtlogd >>"$state/virtlogd.log" 2>&1 &
vlogd=$!
for _ in $(seq 200); do
    [[ -S /run/libvirt/virtlogd-sock ]] && break
    kill -0 "$vlogd" 2>/dev/null || exit 29
    sleep 0.05
done

libvirtd >>"$state/libvirtd.log" 2>&1 &
lvd=$!

trap 'kill -TERM "$lvd" "$vlogd" 2>/dev/null' TERM INT HUP
wait -n "$lvd" "$vlogd"
# one of them died or we were told to stop: stop the other one too
kill -TERM "$lvd" "$vlogd" 2>/dev/null
wait
