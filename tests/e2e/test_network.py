"""End-to-end networking tests. Every test builds its own little world of
network namespaces: a "host" namespace where kxl (and so the supervisor,
QEMU, the taps, dnsmasq and nftables) runs, plus LAN, client or "internet"
namespaces joined to it by veth pairs. No outside address is ever a target,
and the machine's own network is never touched."""

import os
import re
import subprocess
import time
import uuid

from kxltest import KXL, KxlTestCase, Pty


def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


class NetTestCase(KxlTestCase):

    def setUp(self):
        super().setUp()
        tag = uuid.uuid4().hex[:6]
        self.ns = f"kxlt-{tag}"
        self.extra_ns = []
        sh("ip", "netns", "add", self.ns)
        self.nsx("ip", "link", "set", "lo", "up")

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            for ns in [self.ns] + self.extra_ns:
                subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
                sh("ip", "netns", "del", ns, check=False)

    def nsx(self, *args, ns=None, check=True):
        return sh("ip", "netns", "exec", ns or self.ns, *args, check=check)

    def kxl_prefix(self):
        return ["ip", "netns", "exec", self.ns]

    def add_ns(self, name):
        ns = f"{self.ns}-{name}"
        sh("ip", "netns", "add", ns)
        self.extra_ns.append(ns)
        self.nsx("ip", "link", "set", "lo", "up", ns=ns)
        return ns

    def veth(self, host_if, other_ns, other_if, other_addr, host_addr=None, bridge=None):
        """A veth from the host namespace (optionally into a bridge or with an
        address) to other_ns with other_addr."""
        self.nsx("ip", "link", "add", host_if, "type", "veth", "peer", "name", other_if,
                 "netns", other_ns)
        if bridge:
            self.nsx("ip", "link", "set", host_if, "master", bridge)
        if host_addr:
            self.nsx("ip", "addr", "add", host_addr, "dev", host_if)
        self.nsx("ip", "link", "set", host_if, "up")
        self.nsx("ip", "addr", "add", other_addr, "dev", other_if, ns=other_ns)
        self.nsx("ip", "link", "set", other_if, "up", ns=other_ns)

    def console_argv(self, name):
        return ["/usr/sbin/ip", "netns", "exec", self.ns, KXL, "console", name]

    def links(self):
        return self.nsx("ip", "-o", "link").stdout

    def forwarding(self):
        return self.nsx("sysctl", "-n", "net.ipv4.ip_forward").stdout.strip()


class BridgeTest(NetTestCase):

    def test_two_guests_on_a_bridge_ping_each_other(self):
        self.nsx("ip", "link", "add", "br0", "type", "bridge")
        self.nsx("ip", "link", "set", "br0", "up")
        self.create("ga", cmdline="kxl.ip=10.0.0.11/24", extra_lines="vif = [ 'bridge=br0' ]")
        self.create("gb", cmdline="kxl.ip=10.0.0.12/24", extra_lines="vif = [ 'bridge=br0' ]")
        self.assertEqual(self.wait_ready("ga").group(5), "10.0.0.11")
        self.wait_ready("gb")
        self.guest_sh("ga", "ping -c 3 -W 2 10.0.0.12", r"3 packets received")
        r = self.kxl("network-list", "ga", check=True).stdout.splitlines()
        row = r[1].split()
        self.assertEqual(row[1], f"vif{self.list_json()['ga']['domid']}.0")
        self.assertGreater(int(row[5]), 0, "the guest sent packets (TX)")
        import json as _json
        longl = _json.loads(self.kxl("list", "--json", "-l", "ga", check=True).stdout)[0]
        self.assertGreater(longl["vif_counters"][0]["tx_packets"], 0)
        self.assertIn("ga", self.list_json())
        self.kxl("destroy", "ga", check=True)
        self.kxl("destroy", "gb", check=True)
        time.sleep(0.5)
        self.assertNotRegex(self.links(), r"vif\d+\.0", "no tap left after destroy")

    def test_bridged_network_with_lan_and_uplink(self):
        lan = self.add_ns("lan")
        up = self.add_ns("up")
        # the host's "physical" uplink: an address and a default route through it
        self.veth("eth9", up, "u0", "10.0.2.254/24", host_addr="10.0.2.1/24")
        self.nsx("ip", "route", "add", "default", "via", "10.0.2.254")
        self.kxl("network-create", "lan0", "type=bridge", "bridge=br-lan", "uplink=eth9",
                 check=True)
        addrs = self.nsx("ip", "-o", "-4", "addr", "show", "dev", "br-lan").stdout
        self.assertIn("10.0.2.1/24", addrs, "the uplink's address moved to the bridge")
        self.assertIn("dev br-lan", self.nsx("ip", "route", "show", "default").stdout)
        self.veth("vlan0", lan, "l0", "10.0.2.100/24", bridge="br-lan")
        self.create("gl", cmdline="kxl.ip=10.0.2.11/24", extra_lines="vif = [ 'bridge=lan0' ]")
        self.wait_ready("gl")
        out = self.nsx("ping", "-c", "3", "-W", "2", "10.0.2.11", ns=lan, check=False).stdout
        self.assertIn(" 0% packet loss", out, "the LAN reaches the guest")
        out = self.nsx("ping", "-c", "2", "-W", "2", "10.0.2.254", check=False).stdout
        self.assertIn(" 0% packet loss", out, "the host still reaches its uplink")
        r = self.kxl("network-destroy", "lan0")
        self.assertEqual(r.returncode, 1, "refused while a domain is attached")
        self.assertIn("in use by", r.stderr)
        self.kxl("destroy", "gl", check=True)
        self.nsx("ip", "link", "del", "vlan0")
        self.kxl("network-destroy", "lan0", check=True)
        self.assertIn("10.0.2.1/24", self.nsx("ip", "-o", "addr", "show", "dev", "eth9").stdout)
        self.assertIn("dev eth9", self.nsx("ip", "route", "show", "default").stdout)
        self.assertNotIn("br-lan", self.links())

    def test_bad_vif_and_missing_bridge_create_nothing(self):
        cfg = self.write_cfg("bad", extra_lines="vif = [ 'bridge=nosuch' ]")
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bridge 'nosuch' does not exist", r.stderr)
        cfg = self.write_cfg("bad2", extra_lines="vif = [ 'model=ne2k' ]")
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("model", r.stderr)
        self.assertEqual(self.domain_names(), [])
        self.assertNotRegex(self.links(), r"vif\d+\.0")
        self.assertEqual(self.qemu_pids("bad"), [])


class RoutedNatTest(NetTestCase):

    def test_routed_network(self):
        client = self.add_ns("client")
        self.veth("eth8", client, "c0", "198.51.100.2/24", host_addr="198.51.100.1/24")
        self.nsx("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.1", ns=client)
        forwarding = self.forwarding()
        self.kxl("network-create", "rt", "type=route", "gateway=192.0.2.1", check=True)
        self.assertEqual(self.forwarding(), "1")
        self.create("gr", cmdline="kxl.ip=192.0.2.10/24 kxl.gw=192.0.2.1",
                    extra_lines="vif = [ 'bridge=rt,ip=192.0.2.10' ]")
        self.wait_ready("gr")
        route = self.nsx("ip", "route", "get", "192.0.2.10").stdout
        self.assertRegex(route, r"dev vif\d+\.0", "the host routes the guest's address to its vif")
        out = self.nsx("ping", "-c", "3", "-W", "2", "192.0.2.10", ns=client, check=False).stdout
        self.assertIn(" 0% packet loss", out)
        # without the host's forwarding, the client cannot reach the guest at all
        self.nsx("sysctl", "-qw", "net.ipv4.ip_forward=0")
        out = self.nsx("ping", "-c", "2", "-W", "1", "192.0.2.10", ns=client, check=False).stdout
        self.assertIn("100% packet loss", out)
        self.nsx("sysctl", "-qw", "net.ipv4.ip_forward=1")
        r = self.kxl("network-destroy", "rt")
        self.assertEqual(r.returncode, 1, "a routed network has no bridge, and is still in use")
        self.assertIn("network 'rt' is in use by domain 'gr'", r.stderr)
        self.kxl("destroy", "gr", check=True)
        self.assertNotIn("192.0.2.10", self.nsx("ip", "route").stdout, "the route went with the vif")
        self.assertEqual(self.forwarding(), "1", "the started routed network still needs it")
        self.kxl("network-destroy", "rt", check=True)
        self.assertEqual(self.forwarding(), forwarding, "forwarding is put back as it was")

    def test_vif_route_without_network(self):
        # xl's vif-route with no kxl network: the vifs alone turn forwarding on, and the end of
        # the last domain with one puts it back
        client = self.add_ns("client")
        self.veth("eth8", client, "c0", "198.51.100.2/24", host_addr="198.51.100.1/24")
        self.nsx("ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.1", ns=client)
        # the host's way out, which its proxy ARP answers the guest's gateway by
        self.nsx("ip", "route", "add", "default", "via", "198.51.100.2")
        self.nsx("sysctl", "-qw", "net.ipv4.ip_forward=0")
        self.create("gv", cmdline="kxl.ip=192.0.2.10/24 kxl.gw=192.0.2.1",
                    extra_lines="vif = [ 'script=vif-route,ip=192.0.2.10' ]")
        self.create("gv2", extra_lines="vif = [ 'script=vif-route,ip=192.0.2.11' ]")
        self.assertEqual(self.forwarding(), "1")
        self.wait_ready("gv")
        route = self.nsx("ip", "route", "get", "192.0.2.10").stdout
        self.assertRegex(route, r"dev vif\d+\.0", "the host routes the guest's address to its vif")
        out = self.nsx("ping", "-c", "3", "-W", "2", "192.0.2.10", ns=client, check=False).stdout
        self.assertIn(" 0% packet loss", out)
        self.kxl("destroy", "gv", check=True)
        self.assertNotIn("192.0.2.10", self.nsx("ip", "route").stdout, "the route went with the vif")
        self.assertEqual(self.forwarding(), "1", "domain 'gv2' still has a vif-route vif")
        self.kxl("destroy", "gv2", check=True)
        self.assertEqual(self.forwarding(), "0", "the last one's end puts forwarding back")
        # so does detaching the last vif-route vif from a running domain
        self.create("gv3", extra_lines="vif = [ 'script=vif-route,ip=192.0.2.12' ]")
        self.assertEqual(self.forwarding(), "1")
        self.wait_ready("gv3")
        self.kxl("network-detach", "gv3", "0", check=True)
        self.assertEqual(self.forwarding(), "0", "no vif-route vif is left")

    def test_nat_network(self):
        inet = self.add_ns("inet")
        self.veth("eth7", inet, "i0", "203.0.113.2/24", host_addr="203.0.113.1/24")
        forwarding = self.forwarding()
        self.kxl("network-create", "nat0", "type=nat", "address=10.200.0.1/24", check=True)
        self.create("gn", cmdline="kxl.ip=dhcp", extra_lines="vif = [ 'bridge=nat0' ]")
        m = self.wait_ready("gn")
        self.assertRegex(m.group(5), r"^10\.200\.0\.1\d\d$", "a DHCP lease from dnsmasq")
        ip = m.group(5)
        self.guest_sh("gn", "ping -c 3 -W 2 203.0.113.2", r"3 packets received")
        # even with a route to the private subnet, the "internet" cannot get in
        self.nsx("ip", "route", "add", "10.200.0.0/24", "via", "203.0.113.1", ns=inet)
        out = self.nsx("ping", "-c", "2", "-W", "1", ip, ns=inet, check=False).stdout
        self.assertIn("100% packet loss", out)
        self.kxl("destroy", "gn", check=True)
        self.kxl("network-destroy", "nat0", check=True)
        time.sleep(0.5)
        self.assertNotIn("nat0", self.links())
        self.assertNotIn("kxl_nat0", self.nsx("nft", "list", "tables").stdout)
        self.assertEqual(self.forwarding(), forwarding, "forwarding is put back as it was")
        pids = sh("ip", "netns", "pids", self.ns).stdout.split()
        comms = [open(f"/proc/{p}/comm").read().strip() for p in pids if os.path.exists(f"/proc/{p}")]
        self.assertNotIn("dnsmasq", comms)

    def test_hotplug_second_nic(self):
        for br in ("br1", "br2"):
            self.nsx("ip", "link", "add", br, "type", "bridge")
            self.nsx("ip", "link", "set", br, "up")
        self.nsx("ip", "addr", "add", "10.9.0.1/24", "dev", "br2")
        self.create("gh", cmdline="kxl.ip=10.8.0.11/24", extra_lines="vif = [ 'bridge=br1' ]")
        self.wait_ready("gh")
        r = self.kxl("network-attach", "gh", "bridge=br2", check=True)
        self.assertEqual(r.stdout.strip(), "1")
        # the guest sees the new NIC once its PCI hotplug has run
        self.guest_sh("gh", "while ! ip link show eth1 >/dev/null 2>&1; do sleep 0.2; done; "
                      "ip addr add 10.9.0.11/24 dev eth1; ip link set eth1 up; "
                      "ping -c 3 -W 2 10.9.0.1", r"3 packets received", timeout=60)
        self.kxl("network-detach", "gh", "1", check=True)
        self.guest_sh("gh", "ls /sys/class/net", r"eth0\s+lo")
        self.assertEqual(self.kxl("network-detach", "gh", "1").returncode, 1)


class OpenvSwitchTest(NetTestCase):
    """script=vif-openvswitch, built in: an Open vSwitch of the test's own (ovsdb-server and
    a userspace ovs-vswitchd in the test's namespace; this host has no OVS kernel module)."""

    def start_ovs(self):
        d = os.path.join(self.tmp, "ovs")
        os.makedirs(d)
        self.ovs_env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
        sh("ovsdb-tool", "create", f"{d}/conf.db", "/usr/share/openvswitch/vswitch.ovsschema")
        for argv in (["ovsdb-server", f"{d}/conf.db", f"--remote=punix:{d}/db.sock"],
                     ["ovs-vswitchd", f"unix:{d}/db.sock"]):
            name = argv[0]
            subprocess.run(["ip", "netns", "exec", self.ns, *argv, f"--pidfile={d}/{name}.pid",
                            "--detach", f"--log-file={d}/{name}.log"], env=self.ovs_env,
                           check=True, capture_output=True)
            self.addCleanup(self.stop_daemon, f"{d}/{name}.pid")
        self.env["OVS_RUNDIR"] = d   # kxl's ovs-vsctl finds this switch's database

    def stop_daemon(self, pidfile):
        try:
            with open(pidfile) as f:
                os.kill(int(f.read()), 15)
        except (OSError, ValueError):
            pass

    def vsctl(self, *args):
        return subprocess.run(["ip", "netns", "exec", self.ns, "ovs-vsctl", "--timeout=10",
                               *args], env=self.ovs_env, check=True, capture_output=True,
                              text=True).stdout.strip()

    def test_vif_is_a_port_in_its_vlan(self):
        """bridge=ovs0.100:200:300: the tap is a port of ovs0 in VLAN 100 with 200 and 300
        trunked; the guest reaches the host's port in VLAN 100; the port goes with the
        domain."""
        self.start_ovs()
        self.vsctl("add-br", "ovs0", "--", "set", "bridge", "ovs0", "datapath_type=netdev")
        self.vsctl("set", "port", "ovs0", "tag=100")
        self.nsx("ip", "addr", "add", "10.0.5.1/24", "dev", "ovs0")
        self.nsx("ip", "link", "set", "ovs0", "up")
        self.create("go", cmdline="kxl.ip=10.0.5.11/24",
                    extra_lines="vif = [ 'bridge=ovs0.100:200:300,script=vif-openvswitch' ]")
        self.wait_ready("go")
        tap = f"vif{self.list_json()['go']['domid']}.0"
        self.assertIn(tap, self.vsctl("list-ports", "ovs0").split())
        self.assertEqual(self.vsctl("get", "port", tap, "tag"), "100")
        self.assertEqual(self.vsctl("get", "port", tap, "trunks"), "[200, 300]")
        def external_id(key):
            return self.vsctl("get", "interface", tap, f"external-ids:{key}").strip('"')
        self.assertEqual(external_id("xen-vm-name"), "go")   # as Xen's script records them
        self.assertEqual(external_id("xen-vm-uuid"), self.list_json()["go"]["uuid"])
        self.guest_sh("go", "ping -c 3 -W 2 10.0.5.1", r"3 packets received")
        self.kxl("destroy", "go", check=True)
        self.assertNotIn(tap, self.vsctl("list-ports", "ovs0").split())

    def test_bad_vlan_is_refused(self):
        cfg = self.write_cfg("gb", extra_lines="vif = [ 'bridge=ovs0.5000,"
                                               "script=vif-openvswitch' ]")
        r = self.kxl("create", "-q", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is not BRIDGE[.VLAN][:TRUNK...] (VLANs 1-4094)", r.stderr)
