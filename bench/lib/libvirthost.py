"""libvirthost.py - a libvirtd as one of twohost.py's hosts, for migrate-bench.py's virsh peer:
two of them run side by side on this machine, each in its host's network namespace and in a
mount namespace of its own (lib/libvirt-host-ns.sh: its own /run, /var/lib/libvirt,
/var/log/libvirt, /var/cache/libvirt, libvirtd.conf with its own host_uuid, qemu.conf), all
under a state directory of the run's. Nothing of the machine's libvirt is used or touched.

    lv = Libvirtd(state_dir, "kxl2h-...-a", "10.77.0.1")   # up and answering, or exits
    lv.virsh("list")                                       # virsh -c qemu:///system, inside
    lv.stop()                                              # its domains, QEMUs, daemons gone

QEMU runs as root (/dev/kvm is root-only here, lib/libvirt.sh says why), without cgroups
(cgroup_controllers = [ ]: on this machine's shared cgroup v1 tree both libvirtd would put
their domain "bm", id 1 on each, in the same machine/qemu-1-bm.libvirt-qemu), and an
incoming migration listens on, and is announced as, the host's own address on its bridge
(both hosts have the machine's hostname). With monitor_log, a libvirtd logs its QEMU
monitor's traffic at debug level (log_filters "1:qemu.qemu_monitor"; MONITOR_LOG in the state
directory's log/): the source of B's load times and of A's QEMU's own downtime."""
import os
import signal
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
NS_SCRIPT = os.path.join(HERE, "libvirt-host-ns.sh")
MONITOR_LOG = "libvirtd-monitor.log"   # in the state directory's log/


def ns_pids(ns):
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class Libvirtd:
    def __init__(self, state, ns, address, monitor_log=False, timeout=120):
        for prog in ("libvirtd", "virtlogd", "virsh", "tini", "virt-ssh-helper"):
            if not any(os.access(os.path.join(d, prog), os.X_OK)
                       for d in os.environ.get("PATH", "/usr/bin:/usr/sbin").split(":")
                       + ["/usr/sbin"]):
                sys.exit(f"libvirthost: {prog} is missing: install libvirt-daemon-system, "
                         "libvirt-clients and tini (bench/lib/libvirt.sh's libvirt_install)")
        self.state, self.ns, self.address = state, ns, address
        os.makedirs(os.path.join(state, "log"), exist_ok=True)
        self.uuid = str(uuid.uuid4())
        with open(os.path.join(state, "libvirtd.conf"), "w") as f:
            f.write(f'host_uuid = "{self.uuid}"\n')
            if monitor_log:
                # BENCH_MIGRATE_TRACE=1: libvirt's migration steps too
                steps = " 1:qemu.qemu_migration" if os.environ.get("BENCH_MIGRATE_TRACE") == "1" \
                    else ""
                f.write(f'log_filters = "1:qemu.qemu_monitor{steps}"\n'
                        f'log_outputs = "1:file:/var/log/libvirt/{MONITOR_LOG}"\n')
        with open("/etc/libvirt/qemu.conf") as f:
            debian = f.read()
        with open(os.path.join(state, "qemu.conf"), "w") as f:
            f.write(debian + "\n# kxl bench: this host's libvirtd only\n"
                    'user = "root"\ngroup = "root"\ncgroup_controllers = [ ]\n'
                    f'migration_address = "{address}"\nmigration_host = "{address}"\n')
        self.log = open(os.path.join(state, "tini.log"), "w")
        # ip netns exec and unshare exec, so this process is tini
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "unshare", "--mount",
                                      "--propagation", "private", "--", "tini", "-s", "--",
                                      "bash", NS_SCRIPT, state],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.virsh("list", check=False, timeout=30).returncode:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"libvirthost: libvirtd in {ns} did not come up: see "
                         f"{state}/libvirtd.log and {state}/tini.log")
            time.sleep(0.1)
        self.mnt = os.readlink(f"/proc/{self.proc.pid}/ns/mnt")

    def virsh(self, *args, check=True, timeout=300):
        """virsh -c qemu:///system inside this host's namespaces."""
        r = subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "-n", "virsh", "-q",
                            "-c", "qemu:///system", *args],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            sys.exit(f"libvirthost: virsh {' '.join(args)} on {self.address}: "
                     f"{r.stderr.strip()}")
        return r

    def ssh_helper(self):
        """The command an sshd in this host's network namespace runs for a libvirt client
        (qemu+ssh://): virt-ssh-helper inside this libvirtd's mount namespace."""
        return f"nsenter --mount=/proc/{self.proc.pid}/ns/mnt virt-ssh-helper qemu:///system"

    def path(self, *parts):
        return os.path.join(self.state, *parts)

    def stop(self):
        """Destroys the domains through libvirtd, then ends whatever is left in the host's
        network namespace (its QEMUs first: libvirt puts each in a mount namespace of its
        own, so they are found by the network's), then tini with libvirtd and virtlogd."""
        if self.proc.poll() is None:
            r = self.virsh("list", "--name", check=False, timeout=30)
            for d in r.stdout.split():
                self.virsh("destroy", d, check=False, timeout=30)
        qemus = [p for p in ns_pids(self.ns) if comm(p).startswith("qemu-system")]
        self._end(qemus)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # what tini left (it was killed): libvirtd, virtlogd, the script's shell
        self._end(list(self._tree()))
        self.log.close()

    def _tree(self):
        """The processes left in this libvirtd's mount namespace."""
        out = set()
        for p in ns_pids(self.ns):
            try:
                if (os.readlink(f"/proc/{p}/ns/mnt") == self.mnt if hasattr(self, "mnt")
                        else comm(p) in ("libvirtd", "virtlogd", "bash", "tini")):
                    out.add(p)
            except OSError:
                pass
        return out

    @staticmethod
    def _end(pids):
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            for p in pids:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                pids = [p for p in pids if os.path.exists(f"/proc/{p}")
                        and _state(p) not in ("Z", "")]
                if not pids:
                    return
                time.sleep(0.05)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def domain_xml(name, mem_mib, kernel, initrd, cmdline, serial_log, bridge, mac):
    """The guest of migrate-bench.py's plain QEMU, as libvirt XML: TCG, machine pc, CPU
    qemu64, 1 vCPU, direct kernel boot, the serial console on a pty (virsh console) logged to
    a file (appended to, as B's QEMU logs to it too), a virtio NIC on the host's bridge, no USB, no balloon, no graphics
    (plain QEMU: -nodefaults)."""
    from xml.sax.saxutils import escape, quoteattr
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='MiB'>{mem_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{escape(kernel)}</kernel>
    <initrd>{escape(initrd)}</initrd>
    <cmdline>{escape(cmdline)}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='pty'>
      <log file={quoteattr(serial_log)} append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <interface type='bridge'>
      <source bridge={quoteattr(bridge)}/>
      <mac address={quoteattr(mac)}/>
      <model type='virtio'/>
    </interface>
    <memballoon model='none'/>
  </devices>
</domain>
"""
