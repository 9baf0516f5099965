"""Two hosts on this machine, for tests that move a guest between them: network namespaces
"a" and "b" (each runs its own KXL_ROOT's commands, supervisors and QEMUs, and kxld where a
test starts one), a "switch" namespace with a bridge, and a "client" namespace; each of a, b
and client has a veth pair into the switch's bridge (its end "eth0" there), and a and b put
their eth0 into a bridge "br0" of their own that the guests' taps join, with the host's own
address on it. So a guest on either host is on one LAN with the client and both hosts, and
traffic never leaves these namespaces (no address outside 10.77.0.0/24 is ever a target).

    net = TwoHosts()            # namespaces made, links up
    net.run(net.a, "ip", "-o", "addr")
    p = net.pinger(TwoHosts.GUEST_IP)   # ping every 10 ms from the client
    ... ; lost = p.stop()       # replies missing between the first and the last sent
    net.cut("b")                # the link of host b to the switch goes down
    net.close()

Reusable by any test (migration, benchmarks): nothing in it knows kxl."""

import os
import re
import signal
import subprocess
import time
import uuid

SUBNET = "10.77.0"


def sh(*args, check=True, timeout=30):
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


class Pinger:
    """ping every interval seconds from a namespace; stop() tells the replies lost."""

    def __init__(self, ns, target, interval=0.01):
        # -D: a time stamp on each line; -W 1: a reply later than 1 s counts as lost
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-n", "-D", "-W", "1",
                                      "-i", str(interval), target],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self):
        """Ends ping and returns (sent, lost, longest run of lost in a row): the sequence
        numbers between the first and the last reply that no reply answered."""
        time.sleep(1.2)
        self.proc.send_signal(signal.SIGINT)
        out = self.proc.communicate(timeout=10)[0]
        self.output = out
        seqs = sorted({int(m) for m in re.findall(r"icmp_seq=(\d+)", out)})
        sent = re.search(r"(\d+) packets transmitted", out)
        sent = int(sent.group(1)) if sent else 0
        if not seqs:
            return sent, sent, sent
        got = set(seqs)
        # from the first reply to the last: the stop may cut off the last ones' replies
        missing = [s for s in range(seqs[0], seqs[-1] + 1) if s not in got]
        run = longest = 0
        prev = None
        for s in missing:
            run = run + 1 if prev == s - 1 else 1
            longest = max(longest, run)
            prev = s
        return sent, len(missing), longest

    def interval_ms(self):
        """After stop(): the mean time between requests as they left (ping's -i is a
        floor: on a busy host they go every 15-17 ms), from the replies' -D stamps."""
        sent = [(int(m.group(2)), float(m.group(1)) - float(m.group(3)) / 1000) for m in
                re.finditer(r"\[([\d.]+)\] .*icmp_seq=(\d+) .*time=([\d.]+) ms",
                            getattr(self, "output", ""))]
        if len(sent) < 2 or sent[-1][0] == sent[0][0]:
            return 10.0
        return (sent[-1][1] - sent[0][1]) * 1000 / (sent[-1][0] - sent[0][0])

    def slowest_ms(self):
        """After stop(): the longest round trip of an answered request."""
        return max((float(m) for m in re.findall(r"icmp_seq=\d+ .*time=([\d.]+) ms",
                                                 getattr(self, "output", ""))), default=0.0)

    def timeline(self, slow_ms=20):
        """After stop(): what happened around the losses, for a trace: (seq, sent, rtt_ms)
        of each reply slower than slow_ms and of each request never answered (rtt None),
        sent being the wall-clock time the request left (its reply's -D stamp minus its
        round trip; an unanswered one's from its answered neighbours')."""
        got = {}
        for m in re.finditer(r"\[([\d.]+)\] .*icmp_seq=(\d+) .*time=([\d.]+) ms",
                             getattr(self, "output", "")):
            got.setdefault(int(m.group(2)), float(m.group(1)) - float(m.group(3)) / 1000)
        rtts = {int(m.group(1)): float(m.group(2)) for m in
                re.finditer(r"icmp_seq=(\d+) .*time=([\d.]+) ms", getattr(self, "output", ""))}
        if not got:
            return []
        seqs = sorted(got)
        rows = []
        for s in range(seqs[0], seqs[-1] + 1):
            if s in got and rtts[s] > slow_ms:
                rows.append((s, got[s], rtts[s]))
            elif s not in got:
                before = max(k for k in seqs if k < s)
                after = min(k for k in seqs if k > s)
                t = got[before] + (got[after] - got[before]) * (s - before) / (after - before)
                rows.append((s, t, None))
        return rows


class TwoHosts:
    HOST_IP = {"a": f"{SUBNET}.1", "b": f"{SUBNET}.2"}
    CLIENT_IP = f"{SUBNET}.100"
    GUEST_IP = f"{SUBNET}.50"
    PREFIX = 24

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.ns = {k: f"kxl2h-{tag}-{k}" for k in ("a", "b", "switch", "client")}
        self.a, self.b = self.ns["a"], self.ns["b"]
        self.switch, self.client = self.ns["switch"], self.ns["client"]
        self._made = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def run(self, ns, *args, check=True, timeout=30):
        return sh("ip", "netns", "exec", ns, *args, check=check, timeout=timeout)

    def _build(self):
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            self.run(ns, "ip", "link", "set", "lo", "up")
        self.run(self.switch, "ip", "link", "add", "sw0", "type", "bridge")
        self.run(self.switch, "ip", "link", "set", "sw0", "up")
        for k in ("a", "b", "client"):
            port = f"to-{k}"
            self.run(self.switch, "ip", "link", "add", port, "type", "veth", "peer", "name",
                     "eth0", "netns", self.ns[k])
            self.run(self.switch, "ip", "link", "set", port, "master", "sw0")
            self.run(self.switch, "ip", "link", "set", port, "up")
            self.run(self.ns[k], "ip", "link", "set", "eth0", "up")
        for k in ("a", "b"):
            ns = self.ns[k]
            self.run(ns, "ip", "link", "add", "br0", "type", "bridge")
            # no STP, no forwarding delay: a guest's new tap forwards at once
            self.run(ns, "ip", "link", "set", "br0", "type", "bridge", "forward_delay", "0")
            self.run(ns, "ip", "link", "set", "eth0", "master", "br0")
            self.run(ns, "ip", "link", "set", "br0", "up")
            self.run(ns, "ip", "addr", "add", f"{self.HOST_IP[k]}/{self.PREFIX}", "dev", "br0")
        self.run(self.client, "ip", "addr", "add", f"{self.CLIENT_IP}/{self.PREFIX}", "dev",
                 "eth0")

    def cut(self, host):
        """The link of host ("a", "b" or "client") to the switch goes down, as a pulled
        cable: the switch's end, so the host sees its carrier go."""
        self.run(self.switch, "ip", "link", "set", f"to-{host}", "down")

    def mend(self, host):
        self.run(self.switch, "ip", "link", "set", f"to-{host}", "up")

    def pinger(self, target, interval=0.01):
        return Pinger(self.client, target, interval)

    def reachable(self, target, timeout=30):
        """Whether the client's ping reaches target within timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run(self.client, "ping", "-n", "-c", "1", "-W", "1", target,
                        check=False).returncode == 0:
                return True
        return False

    def pids(self, ns):
        r = sh("ip", "netns", "pids", ns, check=False)
        return [int(p) for p in r.stdout.split()]

    def close(self):
        """Deletes the namespaces (their links go with them); a process still in one is
        the caller's to end first (pids)."""
        for ns in reversed(self._made):
            sh("ip", "netns", "del", ns, check=False)
        self._made = []


def start_sshd(tmp, ns, address, port, forced_command):
    """An sshd in namespace ns on address:port with a host key and a client key made here
    (tmp/host_ed25519, tmp/id_ed25519); the client key may only run forced_command. The
    sshd process (terminate it) and the ssh command line to reach it from another
    namespace's process (HOST is then root@address)."""
    key = os.path.join(tmp, "id_ed25519")
    for k in (key, os.path.join(tmp, "host_ed25519")):
        if not os.path.exists(k):
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k)
    with open(key + ".pub") as f:
        pub = f.read().strip()
    auth = os.path.join(tmp, "authorized_keys")
    with open(auth, "w") as f:
        f.write(f'command="{forced_command}",no-pty,no-port-forwarding,no-agent-forwarding,'
                f"no-X11-forwarding {pub}\n")
    cfg = os.path.join(tmp, "sshd_config")
    with open(cfg, "w") as f:
        f.write(f"Port {port}\nListenAddress {address}\n"
                f"HostKey {tmp}/host_ed25519\nAuthorizedKeysFile {auth}\n"
                f"PidFile {tmp}/sshd.pid\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nStrictModes no\nLogLevel INFO\n"
                # a peer whose link is cut is given up within seconds, not TCP's minutes
                "ClientAliveInterval 2\nClientAliveCountMax 3\n")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # sshd's privilege separation
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    if "Server listening" not in line:
        proc.kill()
        raise RuntimeError(f"sshd did not start: {line}")
    ssh = (f"ssh -F /dev/null -i {key} -p {port} -o BatchMode=yes "
           "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
           "-o ServerAliveInterval=2 -o ServerAliveCountMax=3")
    return proc, ssh
