# bench/lib/libvirt.sh — libvirt (virsh) as a peer in kxl's benchmarks.
#
# Usage (as root, bash >= 5):
#   . bench/lib/libvirt.sh
#   libvirt_install                   # apt-get install what is missing
#   libvirt_start                     # private libvirtd + virtlogd; idempotent
#   xml=$(libvirt_domain_xml NAME KERNEL INITRD CMDLINE MEM_MIB VCPUS SERIAL_LOG)
#   virsh_boot_to_marker NAME XML LOG MARKER
#                                     # prints seconds from `virsh create` to
#                                     # MARKER in LOG ("3.812"), then destroys
#   virsh_create_latency NAME XML     # prints seconds `virsh create` took,
#                                     # then destroys
#   virsh_start NAME XML              # create and leave running
#   virsh_stop NAME                   # destroy (no error if not running)
#   libvirt_qemu_pid NAME             # pid of the domain's QEMU
#   libvirtd_pid, virtlogd_pid        # pids of our daemons
#   proc_rss_kib PID                  # (from common.sh) VmRSS in KiB
#   libvirt_stop                      # destroy domains, stop everything,
#                                     # leave nothing behind; idempotent
#   lv_virsh ARGS...                  # virsh -c $LIBVIRT_URI ARGS...
#
# XML arguments are either a file name or the XML text itself (starting "<").
# `virsh list` timing, e.g.:
#   hyperfine -N --warmup 3 --runs 50 "virsh -c $LIBVIRT_URI list"
#
# Why it is set up this way (see DESIGN.md, "Running the
# peer fairly here" and bench/README.md): there is no systemd here, so
# virtlogd and libvirtd are started by hand under `tini -s` (a child subreaper
# that reaps at once; PID 1 here reaps only every second or so, which would
# make every `virsh destroy` wait), inside a private mount namespace where a
# private qemu.conf says user = group = "root" (/dev/kvm is root-only here and
# libvirt would otherwise re-probe QEMU's capabilities on every call), and
# inside a private network namespace with the networks' autostart directory
# hidden, so the `default` network never starts and nothing touches the
# host's network.  The control socket /run/libvirt/libvirt-sock lives on the
# shared root filesystem, so virsh on the host reaches it.
#
# Environment:
#   LIBVIRT_BENCH_STATE  state dir (default /run/kxl-bench/libvirt): pids,
#                        namespace ids, private qemu.conf, daemon logs
#   LIBVIRT_URI          default qemu:///system
#   LIBVIRT_START_TIMEOUT seconds to wait for virsh to answer (default 120)

_lv_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_lv_libdir/common.sh"

: "${LIBVIRT_BENCH_STATE:=/run/kxl-bench/libvirt}"
: "${LIBVIRT_URI:=qemu:///system}"
: "${LIBVIRT_START_TIMEOUT:=120}"

_lv_log() { printf 'libvirt.sh: %s\n' "$*" >&2; }

lv_virsh() { virsh -q -c "$LIBVIRT_URI" "$@"; }

libvirt_install() {
    local pkgs=() p
    for p in libvirt-daemon-system libvirt-clients tini hyperfine; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            pkgs+=("$p")
    done
    ((${#pkgs[@]})) || return 0
    _lv_log "installing ${pkgs[*]}"
    # policy-rc.d is not touched: with no systemd running nothing gets started
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
}

# pid recorded in the state dir, if that process is still alive
_lv_pid() {   # NAME -> pid in $state/NAME.pid, if alive
    local f=$LIBVIRT_BENCH_STATE/$1.pid pid
    [[ -r $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && bench_pid_alive "$pid" || return 1
    printf '%s\n' "$pid"
}

libvirtd_pid() { _lv_pid libvirtd; }
virtlogd_pid() { _lv_pid virtlogd; }

# all live processes in our private network namespace (libvirtd, virtlogd,
# QEMU, the wrapper shell), tini excluded
_lv_ns_pids() {
    local ns p
    [[ -r $LIBVIRT_BENCH_STATE/netns ]] || return 0
    ns=$(<"$LIBVIRT_BENCH_STATE/netns")
    [[ -n $ns ]] || return 0
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        [[ $(readlink "/proc/$p/ns/net" 2>/dev/null) == "$ns" ]] || continue
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == tini ]] && continue
        bench_pid_alive "$p" && echo "$p"
    done
    return 0
}

_lv_running() {
    local tini
    tini=$(_lv_pid tini) || return 1
    [[ $(cat "/proc/$tini/comm" 2>/dev/null) == tini ]] || return 1
    libvirtd_pid >/dev/null || return 1
    lv_virsh list >/dev/null 2>&1
}

_lv_write_qemu_conf() {
    # Debian's qemu.conf (all comments) plus what the fair set-up needs.
    {
        cat /etc/libvirt/qemu.conf
        printf '\n# kxl bench: seen only by the benchmark libvirtd\n'
        printf 'user = "root"\ngroup = "root"\n'
    } >"$LIBVIRT_BENCH_STATE/qemu.conf"
}

_lv_cgroup_snapshot() {
    # cgroup v1 "machine" partitions libvirt creates without systemd
    local d
    for d in /sys/fs/cgroup/*/machine /sys/fs/cgroup/*/machine.slice; do
        [[ -d $d ]] && echo "$d"
    done
    return 0
}

libvirt_start() {
    local st=$LIBVIRT_BENCH_STATE tini="" i other
    if _lv_running; then return 0; fi
    command -v libvirtd >/dev/null && command -v tini >/dev/null || {
        _lv_log "libvirtd or tini missing: run libvirt_install"; return 1; }
    # a half-started or crashed earlier instance: clean it up first
    [[ -e $st/tini.pid || -e $st/netns ]] && libvirt_stop
    # a libvirtd that is not ours would own the same sockets
    if [[ -r /run/libvirtd.pid ]]; then
        other=$(<"/run/libvirtd.pid")
        if [[ $other =~ ^[0-9]+$ ]] && bench_pid_alive "$other" &&
            [[ $(cat "/proc/$other/comm" 2>/dev/null) == libvirtd ]]; then
            _lv_log "a libvirtd (pid $other) not started by libvirt_start is running"
            return 1
        fi
    fi
    mkdir -p "$st" || return 1
    rm -f "$st"/*.pid "$st/netns" "$st/mntns"
    _lv_write_qemu_conf || return 1
    _lv_cgroup_snapshot >"$st/cgroups.before"

    # 8>&-: the daemons must not inherit bench_lock's fd, or they would hold the lock of a
    # benchmark that was killed before libvirt_stop
    setsid unshare --mount --net --propagation private -- \
        tini -s -- bash "$_lv_libdir/libvirt-ns.sh" "$st" \
        </dev/null >>"$st/tini.log" 2>&1 8>&- &
    for ((i = 0; i < 100; i++)); do
        [[ -s $st/tini-inner.pid ]] && { tini=$(<"$st/tini-inner.pid"); break; }
        sleep 0.05
    done
    if [[ -z $tini ]] || ! bench_pid_alive "$tini"; then
        _lv_log "tini did not start; see $st/tini.log"; cat "$st/tini.log" >&2 || true
        return 1
    fi
    echo "$tini" >"$st/tini.pid"
    readlink "/proc/$tini/ns/net" >"$st/netns"
    readlink "/proc/$tini/ns/mnt" >"$st/mntns"
    if [[ $(<"$st/netns") == "$(readlink /proc/self/ns/net)" ]]; then
        _lv_log "not in a private network namespace; stopping"; libvirt_stop; return 1
    fi

    local deadline=$(( $(bench_now_us) + LIBVIRT_START_TIMEOUT * 1000000 ))
    until lv_virsh list >/dev/null 2>&1; do
        if ! bench_pid_alive "$tini" || (( $(bench_now_us) > deadline )); then
            _lv_log "libvirtd did not come up; see $st/libvirtd.log"
            tail -n 20 "$st/libvirtd.log" "$st/tini.log" >&2 2>/dev/null || true
            libvirt_stop
            return 1
        fi
        sleep 0.1
    done
    # the default network must not run (autostart dir is hidden; make sure)
    if lv_virsh net-list --name 2>/dev/null | grep -qx default; then
        lv_virsh net-destroy default >/dev/null 2>&1 || true
    fi
    return 0
}

libvirt_stop() {
    local st=$LIBVIRT_BENCH_STATE tini="" d p pids i
    # nothing recorded: nothing of ours runs (do not touch anyone else's)
    [[ -e $st/tini.pid || -e $st/tini-inner.pid || -e $st/netns ]] || return 0
    # tini-inner.pid is written by libvirt-ns.sh even if libvirt_start died early
    tini=$(_lv_pid tini) || tini=$(_lv_pid tini-inner) || tini=""
    [[ -n $tini && $(cat "/proc/$tini/comm" 2>/dev/null) != tini ]] && tini=""
    # 1. destroy running domains the normal way while libvirtd is there
    if [[ -n $(libvirtd_pid) ]] && timeout 30 virsh -q -c "$LIBVIRT_URI" list >/dev/null 2>&1; then
        for d in $(timeout 30 virsh -q -c "$LIBVIRT_URI" list --name 2>/dev/null); do
            timeout 30 virsh -q -c "$LIBVIRT_URI" destroy "$d" >/dev/null 2>&1 || true
        done
    fi
    # 2. everything left in our network namespace: QEMU first, then the rest
    pids=$(for p in $(_lv_ns_pids); do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == qemu-system-* ]] && echo "$p"; done; true)
    [[ -n $pids ]] && kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pids=$(for p in $pids; do bench_pid_alive "$p" && echo "$p"; done; true)
        [[ -z $pids ]] && break
        sleep 0.1
    done
    [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
    [[ -n $tini ]] && kill -TERM "$tini" 2>/dev/null || true  # tini -> bash -> daemons
    for ((i = 0; i < 100; i++)); do
        pids=$(_lv_ns_pids)
        [[ -z $pids ]] && { [[ -z $tini ]] || ! bench_pid_alive "$tini"; } && break
        ((i == 50)) && kill -TERM $pids 2>/dev/null || true
        sleep 0.1
    done
    pids=$(_lv_ns_pids)
    [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
    [[ -n $tini ]] && bench_pid_alive "$tini" && kill -KILL "$tini" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        [[ -z $(_lv_ns_pids) ]] && { [[ -z $tini ]] || ! bench_pid_alive "$tini"; } && break
        sleep 0.1
    done
    # reap tini if it is our own child (it is when started from this shell)
    [[ -n $tini ]] && wait "$tini" 2>/dev/null || true
    # 3. cgroup v1 partitions libvirt created (only those that were not there)
    for d in $(_lv_cgroup_snapshot); do
        grep -qxF "$d" "$st/cgroups.before" 2>/dev/null && continue
        find "$d" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "$d" 2>/dev/null || true
    done
    # 4. sockets and pid files of the dead daemons; keep the logs
    rm -f /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro \
        /run/libvirt/libvirt-admin-sock /run/libvirt/virtlogd-sock \
        /run/libvirt/virtlogd-admin-sock /run/libvirtd.pid /run/virtlogd.pid
    rm -f "$st"/*.pid "$st/netns" "$st/mntns" "$st/cgroups.before"
    if [[ -n $(_lv_ns_pids) ]] || { [[ -n $tini ]] && bench_pid_alive "$tini"; }; then
        _lv_log "some processes did not stop"; return 1
    fi
    return 0
}

_lv_xml_escape() {
    local s=$1
    # quoted replacements: bash 5.2 would expand a bare & to the match
    s=${s//&/"&amp;"}; s=${s//</"&lt;"}; s=${s//>/"&gt;"}
    s=${s//\"/"&quot;"}; s=${s//\'/"&apos;"}
    printf '%s' "$s"
}

# libvirt_domain_xml NAME KERNEL INITRD CMDLINE MEM_MIB VCPUS SERIAL_LOG
# A guest equivalent to kxl's: TCG, libvirt's default machine type, direct
# kernel boot, serial console to a file, no network, no graphics.  ACPI and
# APIC are asked for as virt-install does (without <acpi/> libvirt passes
# -no-acpi, and the guest could not be powered off gracefully).  Other
# devices are libvirt's defaults (USB controller, memory balloon).
# _lv_own_copy FILE: libvirt's own copy of FILE (made once, again when FILE changes), printed.
# libvirt's DAC driver chowns a domain's kernel and initrd to its QEMU user and back at every
# start and stop: on the file kxl boots too, each change of its ctime made kxl's next create
# miss its PVH cache's identity link and hash the kernel again (0.2 s here), so libvirt gets
# files of its own.
_lv_own_copy() {
    local dir=$LIBVIRT_BENCH_STATE/files copy
    copy=$dir/$(basename "$1")
    mkdir -p "$dir"
    if ! [ -f "$copy" ] || [ "$1" -nt "$copy" ] || ! cmp -s "$1" "$copy"; then
        cp "$1" "$copy.tmp" && mv "$copy.tmp" "$copy"
    fi
    printf '%s\n' "$copy"
}

libvirt_domain_xml() {
    (($# == 7)) || { _lv_log "usage: libvirt_domain_xml NAME KERNEL INITRD CMDLINE MEM_MIB VCPUS SERIAL_LOG"; return 2; }
    local name kernel initrd cmdline log
    name=$(_lv_xml_escape "$1"); kernel=$(_lv_xml_escape "$(_lv_own_copy "$2")")
    initrd=$(_lv_xml_escape "$(_lv_own_copy "$3")"); cmdline=$(_lv_xml_escape "$4")
    log=$(_lv_xml_escape "$7")
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$5</memory>
  <vcpu>$6</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>$cmdline</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='$log'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$log'/>
      <target type='serial' port='0'/>
    </console>
  </devices>
</domain>
EOF
}

# _lv_xml_file XML -> file name (writes XML text to a temp file if needed)
_lv_xml_file() {
    local xml=$1 f
    if [[ $xml == '<'* ]]; then
        mkdir -p "$LIBVIRT_BENCH_STATE/xml" || return 1
        f=$(mktemp "$LIBVIRT_BENCH_STATE/xml/dom.XXXXXX.xml") || return 1
        printf '%s\n' "$xml" >"$f"
        printf '%s\n' "$f"
    elif [[ -r $xml ]]; then
        printf '%s\n' "$xml"
    else
        _lv_log "no such XML file: $xml"; return 1
    fi
}

virsh_start() {
    local f rc
    f=$(_lv_xml_file "$2") || return 1
    lv_virsh create "$f" >/dev/null; rc=$?
    [[ $f == "$LIBVIRT_BENCH_STATE/xml/"* ]] && rm -f "$f"
    return $rc
}

virsh_stop() {
    lv_virsh domstate "$1" >/dev/null 2>&1 || return 0
    lv_virsh destroy "$1" >/dev/null 2>&1 || true
    return 0
}

libvirt_qemu_pid() {
    local f=/run/libvirt/qemu/$1.pid pid
    [[ -r $f ]] || return 1
    pid=$(<"$f")
    bench_pid_alive "$pid" || return 1
    printf '%s\n' "$pid"
}

# virsh_create_latency NAME XML: seconds `virsh create` took, then destroy
virsh_create_latency() {
    local f t0 t1 rc
    f=$(_lv_xml_file "$2") || return 1
    t0=$(bench_now_us)
    lv_virsh create "$f" >/dev/null; rc=$?
    t1=$(bench_now_us)
    [[ $f == "$LIBVIRT_BENCH_STATE/xml/"* ]] && rm -f "$f"
    ((rc == 0)) || return 1
    virsh_stop "$1"
    bench_elapsed "$t0" "$t1"
}

# virsh_boot_to_marker NAME XML LOG MARKER: seconds from the start of
# `virsh create` to MARKER in LOG (LOG is the XML's serial log; it is removed
# first so an old boot cannot match), then destroy.
virsh_boot_to_marker() {
    (($# == 4)) || { _lv_log "usage: virsh_boot_to_marker NAME XML LOG MARKER"; return 2; }
    local name=$1 xml=$2 log=$3 marker=$4 f t0 t1 rc=0
    f=$(_lv_xml_file "$xml") || return 1
    virsh_stop "$name"
    rm -f "$log"
    t0=$(bench_now_us)
    if ! lv_virsh create "$f" >/dev/null; then
        [[ $f == "$LIBVIRT_BENCH_STATE/xml/"* ]] && rm -f "$f"
        return 1
    fi
    if bench_wait_marker "$log" "$marker"; then
        t1=$(bench_now_us)
    else
        _lv_log "$name: no '$marker' in $log after ${BENCH_BOOT_TIMEOUT}s"; rc=1
    fi
    virsh_stop "$name"
    [[ $f == "$LIBVIRT_BENCH_STATE/xml/"* ]] && rm -f "$f"
    ((rc == 0)) && bench_elapsed "$t0" "$t1"
    return $rc
}
