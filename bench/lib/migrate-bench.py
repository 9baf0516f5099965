#!/usr/bin/env python3
"""migrate-bench.py - the runs of bench-migrate.sh: a guest moved from host A to host B, two
network namespaces joined by a switch (tests/e2e/twohost.py), while a client pings it every
10 ms, by each peer with the same QEMU settings (downtime limit 300 ms, no bandwidth limit,
auto-converge, TCG, pc, qemu64):

  kxl-ssh     kxl migrate over ssh (an sshd in B's namespace)
  kxl-tls     kxl migrate --relocation through kxld B's relocation server (QEMU's TLS)
  qemu        plain QEMU driven over QMP: migrate-incoming tcp: in B, migrate tcp: in A,
              then cont in B once it has loaded (the floor)
  qemu-tls    the same with tls-creds-x509 on both ends and the same certificates (the
              floor of kxl-tls's throughput)
  virsh       libvirt: a libvirtd in A's namespace and one in B's, each in a mount
              namespace of its own with its own host_uuid (libvirthost.py), the plain QEMU
              guest defined and started on A, `virsh migrate --live --auto-converge bm
              qemu+ssh://root@B/system` (an sshd in B whose key may only run virt-ssh-helper
              for B's libvirtd), downtime limit 300 ms by migrate-setmaxdowntime, libvirt's
              default bandwidth (unlimited); the memory goes QEMU to QEMU over plain TCP
  virsh-tunnelled  the same with --p2p --tunnelled: A's libvirtd connects to B's over the
              same ssh and the memory goes through that connection (encrypted, as kxl-ssh's)

Each run prints: total seconds, end to end (kxl: from the command to its return, the guest
running on B; plain QEMU: from starting B's QEMU to cont there), and the migration proper
(kxl: from B's QEMU beginning to load the stream to the go, per B's supervisor log; plain:
from migrate, B's QEMU listening, to cont); QEMU's own downtime (query-migrate); MiB sent
and the rate while the stream moved (for every peer MiB over B's load time: kxl's from B's
supervisor log, "restoring from" to "restored from"; plain QEMU's from migrate-incoming to B's
query-migrate saying completed); the pings lost at 10 ms. Host B's PVH cache holds the
guest's kernel before the timer starts, as on a host that has run it before (one paused create
and destroy on B); BENCH_MIGRATE_COLD=1 leaves B fresh, so the receive unpacks the kernel.
virsh: total from the command to its return (the guest running on B); the migration proper
from B's migrate-incoming to its cont answered, the rate over migrate-incoming to B's MIGRATION
event "completed" (B's libvirtd's monitor log); the downtime is libvirt's "Total downtime"
(domjobinfo --completed on A: A's CPUs stopped to B's resumed), QEMU's own printed beside it;
MiB is "Memory processed".
BENCH_MIGRATE_TRACE=1 adds the phase timeline (kxl's --debug on both sides, both supervisors'
logs; virsh: both QEMUs' QMP commands and events, libvirt's migration steps in its log);
BENCH_MIGRATE_KEEP=1 keeps each run's directory (logs).
    migrate-bench.py TOP MEM_MIB WORKLOAD(idle|dirty) PEER RUNS
Prints one line per run, then "median PEER total downtime_ms lost rate_mibs proper"."""
import calendar
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP, MEM, WORKLOAD, PEER, RUNS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
    int(sys.argv[5])
sys.path.insert(0, os.path.join(TOP, "tests/e2e"))
from twohost import TwoHosts, start_sshd  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmpclient import Qmp  # noqa: E402
from libvirthost import Libvirtd, MONITOR_LOG, domain_xml  # noqa: E402

KXL = os.path.join(TOP, "build/src/cli/kxl")
KXLD = os.path.join(TOP, "build/src/daemon/kxld")
GUEST = os.environ.get("KXL_GUEST_CACHE", "/var/cache/kxl/test-guest")
QEMU = os.environ.get("PLAIN_QEMU", "qemu-system-x86_64")
IP = TwoHosts.GUEST_IP
CMDLINE = f"console=ttyS0 kxl.hostname=bm kxl.ip={IP}/24"
DIRTY = ("(while :; do dd if=/dev/urandom of=/tmp/dirty bs=1M count=%d 2>/dev/null; done) &"
         % max(16, MEM // 4))
FIG = re.compile(r"migration: ([\d.]+) MiB sent in ([\d.]+) s over (\d+) passes, "
                 r"downtime (\d+) ms")


TRACE = os.environ.get("BENCH_MIGRATE_TRACE") == "1"
COLD = os.environ.get("BENCH_MIGRATE_COLD") == "1"


def trace(what):
    """BENCH_MIGRATE_TRACE=1: a line of the phase timeline, on the wall clock as kxl's --debug."""
    if TRACE:
        now = time.time()
        print(f"  trace: {time.strftime('%H:%M:%S', time.localtime(now))}"
              f".{int(now * 1000) % 1000:03d} {what}", flush=True)


def trace_pings(pinger):
    """BENCH_MIGRATE_TRACE=1: the pings lost or late, each with the time it was sent."""
    for seq, sent, rtt in pinger.timeline() if TRACE else []:
        stamp = time.strftime('%H:%M:%S', time.localtime(sent))
        print(f"  trace: {stamp}.{int(sent * 1000) % 1000:03d} ping {seq} "
              f"{'lost' if rtt is None else f'answered in {rtt:.0f} ms'}", flush=True)


def log_times(path, texts):
    """The wall-clock times (seconds) of the first line of a supervisor's log with each of
    texts ("2026-12-07 05:54:45.934 bm: restoring from ...")."""
    found = {}
    with open(path, errors="replace") as f:
        for line in f:
            for t in texts:
                if t in line and t not in found:
                    stamp = time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
                    found[t] = time.mktime(stamp) + int(line[20:23]) / 1000
    missing = [t for t in texts if t not in found]
    if missing:
        sys.exit(f"migrate-bench: {missing} not in {path}")
    return [found[t] for t in texts]


def wait_for(path, text, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    sys.exit(f"migrate-bench: '{text}' not in {path}")


def console_command(argv, prompt, command):
    """Types command at the guest's shell through a console program (argv) on a pty."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b""
    os.write(fd, b"\r")
    deadline = time.monotonic() + 30
    while prompt.encode() not in out and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            out += os.read(fd, 4096)
    os.write(fd, command.encode() + b"\r")
    time.sleep(1)
    os.write(fd, b"\x1d")   # leaves kxl's console
    time.sleep(0.3)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)


class World:
    """The namespaces and a work directory for one run."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kxl-bench-mig.")
        self.net = TwoHosts()
        self.procs = []
        self.stops = []    # what must stop before the processes and the namespaces go

    def close(self):
        for stop in reversed(self.stops):
            stop()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.net.close()
        if os.environ.get("BENCH_MIGRATE_KEEP") == "1":   # the logs, for a look
            print(f"  kept {self.tmp}", flush=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def kxl_run(w):
    roots = {h: os.path.join(w.tmp, h) for h in ("a", "b")}
    env = {h: dict(os.environ, KXL_ROOT=r) for h, r in roots.items()}
    for r in roots.values():
        os.makedirs(r)

    def kxl(h, *args, check=True):
        r = subprocess.run(["ip", "netns", "exec", w.net.ns[h], KXL, *args], env=env[h],
                           capture_output=True, text=True, timeout=300)
        if check and r.returncode:
            sys.exit(f"migrate-bench: kxl {' '.join(args)}: {r.stderr}")
        return r

    cfg = os.path.join(w.tmp, "bm.cfg")
    with open(cfg, "w") as f:
        f.write(f'name = "bm"\ntype = "pvh"\nmemory = {MEM}\nvcpus = 1\n'
                f'kernel = "{GUEST}/vmlinuz"\nramdisk = "{GUEST}/initrd.img"\n'
                f'extra = "{CMDLINE}"\nvif = [ \'bridge=br0\' ]\n')
    if PEER == "kxl-ssh":
        keep = f"KXL_ROOT={roots['b']} PATH={os.environ['PATH']}"
        sshd, ssh = start_sshd(w.tmp, w.net.b, TwoHosts.HOST_IP["b"], 2222,
                               f"env {keep} {KXL} migrate-receive{' --debug' if TRACE else ''}")
        w.procs.append(sshd)
        migrate = ["migrate", "-s", ssh, "bm", f"root@{TwoHosts.HOST_IP['b']}"]
    else:
        out = os.path.join(w.tmp, "for-b")
        subprocess.run([KXL, "tls-setup", "--name", "host-a"], env=env["a"], check=True,
                       capture_output=True)
        subprocess.run([KXL, "tls-setup", "--sign", "host-b", "--ip", TwoHosts.HOST_IP["b"],
                        "--out", out], env=env["a"], check=True, capture_output=True)
        subprocess.run([KXL, "tls-setup", "--import", out], env=env["b"], check=True,
                       capture_output=True)
        with open(os.path.join(roots["b"], "etc/kxl/kxld.conf"), "w") as f:
            f.write(f'relocation_server = 1\nrelocation_address = "{TwoHosts.HOST_IP["b"]}"\n'
                    'relocation_hosts_allow = [ "host-a$" ]\n')
        log = os.path.join(w.tmp, "kxld.log")
        with open(log, "w") as lf:
            w.procs.append(subprocess.Popen(["ip", "netns", "exec", w.net.b, KXLD,
                                             "--foreground", "--root", roots["b"]],
                                            env=env["b"], stdout=lf, stderr=lf))
        wait_for(log, "relocation server on", 20)
        migrate = ["migrate", "--relocation", TwoHosts.HOST_IP["b"], "bm"]
    if not COLD:
        # host B as a host that has run this kernel before: its PVH cache holds the unpacked
        # kernel (a first start unpacks it, about 0.35 s here; BENCH_MIGRATE_COLD=1 keeps that)
        warm = os.path.join(w.tmp, "warm.cfg")
        with open(warm, "w") as f:
            f.write(f'name = "bmwarm"\ntype = "pvh"\nmemory = 64\nkernel = "{GUEST}/vmlinuz"\n'
                    f'ramdisk = "{GUEST}/initrd.img"\n')
        kxl("b", "create", "-q", "-p", warm)
        kxl("b", "destroy", "bmwarm")
    kxl("a", "create", "-q", cfg)
    wait_for(os.path.join(roots["a"], "var/log/kxl/bm.console.log"), "KXL-READY")
    if not w.net.reachable(IP):
        sys.exit("migrate-bench: the client cannot reach the guest")
    if WORKLOAD == "dirty":
        console_command(["ip", "netns", "exec", w.net.a, "env", f"KXL_ROOT={roots['a']}",
                         KXL, "console", "bm"], "bm# ", DIRTY)
        time.sleep(3)
    pinger = w.net.pinger(IP)
    time.sleep(1)
    t0 = time.monotonic()
    trace(f"start of kxl {' '.join(migrate)}")
    r = kxl("a", *(migrate[:1] + (["--debug"] if TRACE else []) + migrate[1:]))
    total = time.monotonic() - t0
    trace("kxl migrate returned")
    if TRACE:
        print(r.stderr, end="", flush=True)
        for h in ("a", "b"):
            with open(os.path.join(roots[h], "var/log/kxl/bm.log"), errors="replace") as f:
                print(f"  supervisor {h}'s log:\n" + "".join("    " + l for l in f.readlines()
                                                            if "migrat" in l or "restor" in l
                                                            or "start" in l), flush=True)
    # B's QEMU loads the stream from "restoring" to "restored"; the guest runs at the go
    marks = log_times(os.path.join(roots["b"], "var/log/kxl/bm.log"),
                      ("restoring from", "restored from", "the sender gave the go"))
    sent, lost, _ = pinger.stop()
    trace_pings(pinger)
    m = FIG.search(r.stderr)
    kxl("b", "destroy", "bm", check=False)
    mib = float(m.group(1))
    return total, int(m.group(4)), lost, mib / (marks[1] - marks[0]), mib, marks[2] - marks[0]


def plain_qemu(w, host, tls_dir, incoming):
    """A QEMU as kxl starts it, in host's namespace, its tap on br0, its serial on a log (its
    RAM 8 KiB over MEM MiB, as kxl gives a TCG guest: QEMU_TCG_RAM_PAD_KIB)."""
    ns = w.net.ns[host]
    w.net.run(ns, "ip", "tuntap", "add", "pq0", "mode", "tap")
    w.net.run(ns, "ip", "link", "set", "pq0", "master", "br0", "up")
    qmp = os.path.join(w.tmp, f"qmp-{host}.sock")
    log = os.path.join(w.tmp, f"serial-{host}.log")
    cons = os.path.join(w.tmp, f"serial-{host}.sock")
    argv = ["ip", "netns", "exec", ns, QEMU, "-machine", "pc", "-accel", "tcg", "-cpu", "qemu64",
            "-m", f"{MEM * 1024 + 8}k", "-smp", "1", "-nodefaults", "-display", "none", "-S",
            "-kernel", f"{GUEST}/vmlinuz", "-initrd", f"{GUEST}/initrd.img",
            "-append", CMDLINE, "-chardev", f"socket,id=s0,path={cons},server=on,wait=off,"
            f"logfile={log}", "-serial", "chardev:s0",
            "-netdev", "tap,id=n0,ifname=pq0,script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:6b:78:01",
            "-qmp", f"unix:{qmp},server=on,wait=off"]
    if tls_dir:
        argv += ["-object", f"tls-creds-x509,id=tls0,dir={tls_dir},endpoint="
                 f"{'server' if incoming else 'client'},verify-peer=on"]
    if incoming:
        argv += ["-incoming", "defer"]
    w.procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return Qmp(qmp, "migrate-bench"), log, cons


def plain_run(w, tls):
    tls_dir = None
    if tls:   # the certificates kxl tls-setup makes, in QEMU's layout
        root = os.path.join(w.tmp, "tlsroot")
        env = dict(os.environ, KXL_ROOT=root)
        subprocess.run([KXL, "tls-setup", "--name", "host-b", "--ip",
                        TwoHosts.HOST_IP["b"]], env=env, check=True, capture_output=True)
        src = os.path.join(root, "etc/kxl/tls")
        tls_dir = os.path.join(w.tmp, "qemu-tls")
        os.makedirs(tls_dir)
        for a, b in (("ca-cert.pem", "ca-cert.pem"), ("host-cert.pem", "server-cert.pem"),
                     ("host-key.pem", "server-key.pem"), ("host-cert.pem", "client-cert.pem"),
                     ("host-key.pem", "client-key.pem")):
            shutil.copy(os.path.join(src, a), os.path.join(tls_dir, b))
        # the server's Diffie-Hellman group, as kxl gives its QEMU (sv_tls.c): without it
        # QEMU generates one when B's credentials are made, inside the end-to-end time
        subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                        "group:ffdhe2048", "-out", os.path.join(tls_dir, "dh-params.pem")],
                       check=True, capture_output=True)
    caps = [{"capability": "events", "state": True},
            {"capability": "auto-converge", "state": True}]
    qa, log_a, cons_a = plain_qemu(w, "a", tls_dir, False)
    qa.cmd("migrate-set-capabilities", capabilities=caps)
    params = {"downtime-limit": 300, "max-bandwidth": 2 ** 62}
    if tls:
        params.update({"tls-creds": "tls0", "tls-hostname": TwoHosts.HOST_IP["b"]})
    qa.cmd("migrate-set-parameters", **params)
    qa.cmd("cont")
    wait_for(log_a, "KXL-READY")
    if not w.net.reachable(IP):
        sys.exit("migrate-bench: the client cannot reach the plain guest")
    if WORKLOAD == "dirty":
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(cons_a)
            c.settimeout(30)
            c.sendall(b"\r")
            got = b""
            while b"bm# " not in got:
                got += c.recv(4096)
            c.sendall(DIRTY.encode() + b"\r")
            time.sleep(1)
        time.sleep(2)
    pinger = w.net.pinger(IP)
    time.sleep(1)
    # end to end: B's QEMU is started inside the timer, as kxl's receiver starts its own;
    # the migration proper (t1) begins once it listens, as a script would drive it
    t0 = time.monotonic()
    qb, log_b, _ = plain_qemu(w, "b", tls_dir, True)
    qb.cmd("migrate-set-capabilities", capabilities=caps)
    if tls:
        qb.cmd("migrate-set-parameters", **{"tls-creds": "tls0"})
    qb.cmd("migrate-incoming", uri=f"tcp:{TwoHosts.HOST_IP['b']}:4444")
    t1 = time.monotonic()
    qa.cmd("migrate", uri=f"tcp:{TwoHosts.HOST_IP['b']}:4444")
    while True:
        st = qa.cmd("query-migrate")
        if st.get("status") == "completed":
            trace("A's QEMU completed")
            break
        if st.get("status") in ("failed", "cancelled"):
            sys.exit(f"migrate-bench: plain QEMU's migration {st['status']}")
        time.sleep(0.005)
    while qb.cmd("query-migrate").get("status") != "completed":
        time.sleep(0.005)
    loaded = time.monotonic()
    trace("B's QEMU loaded the stream")
    qb.cmd("cont")
    end = time.monotonic()
    trace("cont on B answered")
    total, proper = end - t0, end - t1
    for _ in range(100):   # QEMU's event comes a moment before it records the totals
        if st.get("total-time"):
            break
        time.sleep(0.01)
        st = qa.cmd("query-migrate")
    sent, lost, _ = pinger.stop()
    trace_pings(pinger)
    ram = st["ram"]
    mib = ram["transferred"] / 2 ** 20
    # the rate over B's load time (listening to loaded), as kxl's is measured
    return total, st.get("downtime", 0), lost, mib / (loaded - t1), mib, proper


def virsh_run(w):
    """Two libvirtd, one in A's namespace and one in B's (libvirthost.py), the guest of plain
    QEMU defined and started on A, moved by virsh migrate --live over qemu+ssh into B's
    namespace (an sshd there whose key may only run virt-ssh-helper in B's libvirtd's mount
    namespace)."""
    lv = {}
    for h in ("a", "b"):
        lv[h] = Libvirtd(os.path.join(w.tmp, f"libvirt-{h}"), w.net.ns[h],
                         TwoHosts.HOST_IP[h], monitor_log=True)
        w.stops.append(lv[h].stop)
    if lv["a"].uuid == lv["b"].uuid:
        sys.exit("migrate-bench: both libvirtd have one host_uuid")
    sshd, ssh = start_sshd(w.tmp, w.net.b, TwoHosts.HOST_IP["b"], 2222, lv["b"].ssh_helper())
    w.procs.append(sshd)
    wrapper = os.path.join(w.tmp, "ssh-to-b")   # libvirt's ssh transport runs command=
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {ssh} "$@"\n')
    os.chmod(wrapper, 0o755)
    dest = f"qemu+ssh://root@{TwoHosts.HOST_IP['b']}/system?command={wrapper}"
    # libvirt's DAC driver chowns the kernel and initrd at each start: its own copies
    # (lib/libvirt.sh's _lv_own_copy says why)
    files = {}
    for n in ("vmlinuz", "initrd.img"):
        files[n] = os.path.join(w.tmp, n)
        shutil.copy(os.path.join(GUEST, n), files[n])
    log = os.path.join(w.tmp, "serial.log")
    xml = os.path.join(w.tmp, "bm.xml")
    with open(xml, "w") as f:
        f.write(domain_xml("bm", MEM, files["vmlinuz"], files["initrd.img"], CMDLINE, log,
                           "br0", "52:54:00:6b:78:01"))
    # defined on A, so that its completed job's figures stay there after it has left
    lv["a"].virsh("define", xml)
    lv["a"].virsh("start", "bm")
    wait_for(log, "KXL-READY")
    if not w.net.reachable(IP):
        sys.exit("migrate-bench: the client cannot reach the libvirt guest")
    if WORKLOAD == "dirty":
        console_command(["nsenter", "-t", str(lv["a"].proc.pid), "-m", "-n", "virsh", "-c",
                         "qemu:///system", "console", "bm"], "bm# ", DIRTY)
        time.sleep(3)
    lv["a"].virsh("migrate-setmaxdowntime", "bm", "300")
    # B's libvirtd probes QEMU's capabilities at its first use of QEMU (a second here): a host
    # that has run before has them cached, so B is asked before the timer
    lv["b"].virsh("domcapabilities", "--virttype", "qemu", "--arch", "x86_64", "--machine", "pc")
    pinger = w.net.pinger(IP)
    time.sleep(1)
    t0 = time.monotonic()
    trace(f"start of virsh migrate --live --auto-converge bm {dest}")
    tunnel = ["--p2p", "--tunnelled"] if PEER == "virsh-tunnelled" else []
    r = lv["a"].virsh("migrate", "--live", "--verbose", "--auto-converge", *tunnel, "bm", dest,
                      check=False)
    total = time.monotonic() - t0
    trace("virsh migrate returned")
    sent, lost, _ = pinger.stop()
    trace_pings(pinger)
    if r.returncode:
        sys.exit(f"migrate-bench: virsh migrate: {r.stderr.strip()}")
    state = lv["b"].virsh("domstate", "bm").stdout.strip()
    if state != "running":
        sys.exit(f"migrate-bench: the guest is {state} on B after virsh migrate")
    job = lv["a"].virsh("domjobinfo", "--completed", "bm").stdout
    if TRACE:
        print(r.stdout + r.stderr + job, flush=True)
    fields = dict(l.split(":", 1) for l in job.splitlines() if ":" in l)
    downtime = int(fields["Total downtime"].split()[0])
    mib = float(fields["Memory processed"].split()[0])
    if fields["Memory processed"].split()[1] != "MiB":
        sys.exit(f"migrate-bench: domjobinfo's memory is in {fields['Memory processed']}")
    # B's QEMU: migrate-incoming sent, the stream loaded (its MIGRATION event "completed"),
    # cont answered, from B's libvirtd's monitor log
    for h in "ab":
        trace_monitor(h, lv[h].path("log", MONITOR_LOG))
    incoming, loaded, resumed = monitor_times(lv["b"].path("log", MONITOR_LOG))
    print(f"  virsh: QEMU's own downtime {monitor_downtime(lv['a'].path('log', MONITOR_LOG))} ms"
          f" (libvirt's Total downtime {downtime} ms: A's CPUs stopped to B's resumed)",
          flush=True)
    return total, downtime, lost, mib / (loaded - incoming), mib, resumed - incoming


MONITOR_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})\+0000: \d+: info : \S+ : "
                          r"QEMU_MONITOR_(SEND_MSG|RECV_EVENT|RECV_REPLY): mon=\S+ "
                          r"(?:msg|event|reply)=(.*)$")


def monitor_lines(path):
    """(wall-clock seconds, SEND_MSG|RECV_EVENT|RECV_REPLY, JSON text) of each QMP message in a
    libvirtd's monitor log (log_filters "1:qemu.qemu_monitor"; its times are UTC)."""
    with open(path, errors="replace") as f:
        for line in f:
            m = MONITOR_LINE.match(line)
            if m:
                yield (calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                       + int(m.group(2)) / 1000, m.group(3), m.group(4))


def monitor_times(path):
    """B's QEMU, from its libvirtd's monitor log: when migrate-incoming was sent, when its
    MIGRATION event said completed (the stream loaded), when cont was answered."""
    incoming = loaded = cont_id = resumed = None
    for t, kind, text in monitor_lines(path):
        if kind == "SEND_MSG" and '"execute":"migrate-incoming"' in text and incoming is None:
            incoming = t
        elif (kind == "RECV_EVENT" and incoming is not None and loaded is None
              and '"event": "MIGRATION", "data": {"status": "completed"}' in text):
            loaded = t
        elif kind == "SEND_MSG" and loaded is not None and '"execute":"cont"' in text:
            cont_id = json.loads(text).get("id")
        elif kind == "RECV_REPLY" and cont_id and json.loads(text).get("id") == cont_id:
            resumed = t
            break
    if resumed is None:
        sys.exit(f"migrate-bench: migrate-incoming, its completion or cont not in {path}")
    return incoming, loaded, resumed


def monitor_downtime(path):
    """QEMU's own downtime, the last query-migrate's answer in A's libvirtd's monitor log."""
    found = None
    for _, kind, text in monitor_lines(path):
        if kind == "RECV_REPLY" and '"downtime":' in text:
            found = json.loads(text)["return"].get("downtime", found)
    return found


def trace_monitor(h, path):
    """BENCH_MIGRATE_TRACE=1: host h's QMP commands and events, the queries left out."""
    for t, kind, text in monitor_lines(path) if TRACE else []:
        if kind == "RECV_REPLY" or re.search(r'"execute":"(q[^m]|device-list)', text):
            continue
        what = json.loads(text)
        what = what.get("execute") or f'{what.get("event")} {what.get("data", "")}'
        print(f"  trace: {time.strftime('%H:%M:%S', time.localtime(t))}.{int(t * 1000) % 1000:03d}"
              f" {h}'s QEMU: {what}"[:160], flush=True)


def main():
    if PEER not in ("kxl-ssh", "kxl-tls", "qemu", "qemu-tls", "virsh", "virsh-tunnelled"):
        sys.exit(f"migrate-bench: no peer {PEER}: kxl-ssh, kxl-tls, qemu, qemu-tls, virsh or "
                 "virsh-tunnelled")
    # a TERM (timeout, a harness) unwinds as an error does: each run's World.close stops
    # what the run started (libvirtd, QEMUs, sshd, namespaces)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("migrate-bench: terminated"))
    rows = []
    for i in range(RUNS):
        w = World()
        try:
            if PEER.startswith("kxl"):
                row = kxl_run(w)
            elif PEER.startswith("virsh"):
                row = virsh_run(w)
            else:
                row = plain_run(w, PEER == "qemu-tls")
        finally:
            w.close()
        rows.append(row)
        print(f"  {PEER} run {i}: total {row[0]:.2f} s (migration proper {row[5]:.2f} s), "
              f"downtime {row[1]} ms, {row[2]} pings lost, {row[4]:.1f} MiB at {row[3]:.1f} "
              "MiB/s", flush=True)
    med = [statistics.median(r[k] for r in rows) for k in (0, 1, 2, 3, 5)]
    print(f"median {PEER} {med[0]:.3f} {med[1]:.0f} {med[2]:.0f} {med[3]:.1f} {med[4]:.3f}")


main()
