"""End-to-end tests of resource control on real guests: vcpu-set hot-plugs a CPU the guest
brings online and takes it away again, mem-set moves the guest's MemTotal through its balloon
within mem-max, sched-credit's weight and cap reach the domain's cgroup (and a cap holds a
spinning guest down in kxl top), the values set at run time survive an adoption, and bad
input changes nothing. CPU percentages need a quiet host: run under the shared e2e lock."""

import itertools
import json
import os
import signal
import sys
import time

from kxltest import KxlTestCase
from test_kxld import KxldTestCase
from test_top import frames, rows

NONCE = itertools.count(1)


class GuestMixin:
    """Reading the guest's answers on its console."""

    def guest_value(self, name, shell_expr):
        """The guest's answer to a shell expression, read on its console (a fresh marker each
        time: the console's scrollback holds the earlier answers)."""
        n = next(NONCE)
        m = self.guest_sh(name, f"echo R{n}=$({shell_expr})", rf"R{n}=(\S+)\r?\n")
        return m.group(1).decode()

    def wait_guest_value(self, name, shell_expr, ok, timeout=30):
        """Asks until ok(answer) holds; the last answer."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.guest_value(name, shell_expr)
            if ok(v) or time.monotonic() > deadline:
                return v
            time.sleep(1)

    def online(self, name, want):
        return self.wait_guest_value(name, "cat /sys/devices/system/cpu/online",
                                     lambda v: v == want)

    def memtotal_kib(self, name, ok=lambda v: True):
        return int(self.wait_guest_value(name, "awk '/^MemTotal/ { print $2 }' /proc/meminfo",
                                         lambda v: ok(int(v))))



class ResourceTest(GuestMixin, KxlTestCase):

    def config(self, name):
        r = self.kxl("list", "-l", "--json", name, check=True)
        return json.loads(r.stdout)[0]["config"]

    def xl_config(self, name):
        """xl's list -l shape (libxl's domain config)."""
        r = self.kxl("list", "-l", name, check=True)
        return json.loads(r.stdout)[0]["config"]

    def listed(self, name):
        """kxl list's Mem and VCPUs of name."""
        d = self.list_json()[name]
        return d["memory_mib"], d["vcpus"]

    def refused(self, args, pattern):
        r = self.kxl(*args)
        self.assertEqual(r.returncode, 1, f"kxl {' '.join(args)}: {r}")
        self.assertRegex(r.stderr, pattern)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def cpu_group(self, name):
        """The directory of the domain's cgroup that has the CPU controller's files."""
        with open(os.path.join(self.root, "run/kxl", name, "cgroup")) as f:
            dirs = f.read().split()
        for d in dirs:
            if os.path.exists(os.path.join(d, "cpu.shares")) or \
                    os.path.exists(os.path.join(d, "cpu.weight")):
                return d
        self.fail(f"no CPU controller in {dirs}")

    def cpu_files(self, group):
        names = ["cpu.weight", "cpu.max"] if os.path.exists(os.path.join(group, "cpu.weight")) \
            else ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"]
        out = {}
        for n in names:
            with open(os.path.join(group, n)) as f:
                out[n] = f.read().strip()
        return out

    def adopt(self, name):
        """Kills the domain's supervisor; the next command's supervisor adopts QEMU."""
        os.kill(self.supervisor_pid(name), signal.SIGKILL)
        time.sleep(1)
        self.kxl("qemu-monitor-command", name, "info status", check=True)

    def test_vcpus_and_memory(self):
        self.create("res", memory=192, extra_lines="maxmem = 256\nmaxvcpus = 2")
        m = self.wait_ready("res")
        self.assertEqual(m.group(2), "1")
        self.assertEqual(self.online("res", "0"), "0")

        # a CPU hot-plugged, brought online by the guest, and taken away again
        self.kxl("vcpu-set", "res", "2", check=True)
        self.assertEqual(self.online("res", "0-1"), "0-1")
        self.assertEqual(self.listed("res")[1], 2)
        self.assertEqual(self.config("res")["vcpus"], 2)
        b_info = self.xl_config("res")["b_info"]
        self.assertEqual((b_info["avail_vcpus"], b_info["max_vcpus"]), ([0, 1], 2))
        self.refused(["vcpu-set", "res", "3"], r"^kxl: .*maxvcpus 2.* 1 to 2, not 3$")
        self.refused(["vcpu-set", "res", "0"], r"^kxl: .*at least 1, not 0$")
        self.refused(["vcpu-set", "res", "two"], r"^kxl: .*'two' is not a whole number$")
        self.assertEqual(self.listed("res")[1], 2)
        self.kxl("vcpu-set", "res", "1", check=True)
        self.assertEqual(self.online("res", "0"), "0")
        self.assertEqual(self.listed("res")[1], 1)
        self.assertEqual(len(self.kxl("vcpu-list", "res", check=True).stdout.splitlines()), 2)

        # the balloon: MemTotal follows mem-set, within mem-max
        # the balloon took the guest to its memory (192 of 256 MiB) at start
        full = self.memtotal_kib("res", lambda v: 150 * 1024 < v <= 192 * 1024)
        self.kxl("mem-set", "res", "128m", check=True)
        low = self.memtotal_kib("res", lambda v: v <= full - 60 * 1024)
        print(f"\nMemTotal: {full} KiB at 192 MiB, {low} KiB at 128 MiB", file=sys.stderr)
        self.assertLessEqual(low, full - 60 * 1024, "the guest's MemTotal dropped by 64 MiB")
        self.assertLess(low, 128 * 1024)
        self.assertEqual(self.listed("res")[0], 128)
        self.kxl("mem-max", "res", "200", check=True)
        self.refused(["mem-set", "res", "220"], r"^kxl: .*mem-max 200.* 16 to 200, not 220$")
        self.refused(["mem-set", "res", "lots"], r"^kxl: 'lots' is not a size")
        self.refused(["mem-set", "res", "8m"], r"16 to 200, not 8$")
        self.refused(["mem-max", "res", "300"], r"128 to 256, not 300$")
        self.assertEqual(self.config("res")["mem_max"], 200)
        self.refused(["mem-max", "res", "100"], r"128 to 256, not 100$")
        self.assertEqual(self.listed("res")[0], 128)
        self.kxl("mem-set", "res", "200", check=True)
        high = self.memtotal_kib("res", lambda v: v >= low + 60 * 1024)
        self.assertGreaterEqual(high, low + 60 * 1024, "MemTotal rose again")
        cfg = self.config("res")
        self.assertEqual((cfg["memory"], cfg["maxmem"], cfg["mem_max"], cfg["vcpus"]),
                         (200, 256, 200, 1))

        # what was set at run time outlives the supervisor: its adopter keeps it
        self.adopt("res")
        cfg = self.config("res")
        self.assertEqual((cfg["memory"], cfg["maxmem"], cfg["mem_max"], cfg["vcpus"]),
                         (200, 256, 200, 1))
        self.assertEqual(self.listed("res"), (200, 1))
        self.refused(["mem-set", "res", "210"], r"mem-max 200")
        self.kxl("mem-max", "res", "256", check=True)
        self.assertNotIn("mem_max", self.config("res"))
        self.kxl("mem-set", "res", "150", check=True)
        self.assertLess(self.memtotal_kib("res", lambda v: v < high - 30 * 1024),
                        high - 30 * 1024)

    def test_sched_credit_and_cap(self):
        self.create("spin", memory=128)
        self.wait_ready("spin")
        group = self.cpu_group("spin")
        v1 = "cpu.shares" in self.cpu_files(group)
        self.kxl("sched-credit", "-d", "spin", "-w", "512", "-c", "50", check=True)
        want = {"cpu.shares": "2048", "cpu.cfs_period_us": "100000",
                "cpu.cfs_quota_us": "50000"} if v1 else {"cpu.weight": "200",
                                                         "cpu.max": "50000 100000"}
        self.assertEqual(self.cpu_files(group), want)
        out = self.kxl("sched-credit", "-d", "spin", check=True).stdout.splitlines()
        self.assertEqual(out[0].split(), ["Name", "ID", "Weight", "Cap"])
        self.assertRegex(out[1], r"^spin {29} +\d+ +512 +50$")
        self.assertEqual(self.kxl("sched-credit2", check=True).stdout.splitlines()[1:], out[1:])
        js = json.loads(self.kxl("sched-credit", "--json", check=True).stdout)
        self.assertEqual([(d["name"], d["weight"], d["cap"]) for d in js], [("spin", 512, 50)])

        # refused, and nothing changes
        for args, pattern in [(["-w", "0"], r"weight of 'spin' must be 1 to 65535, not 0$"),
                              (["-c", "-1"], r"cap of 'spin' .* must be 0 to 100, not -1$"),
                              (["-w", "70000"], r"must be 1 to 65535, not 70000$"),
                              (["-w", "1", "-c", "101"], r"must be 0 to 100, not 101$"),
                              (["-w", "x"], r"the weight 'x' is not a whole number$")]:
            self.refused(["sched-credit", "-d", "spin", *args], pattern)
        self.refused(["sched-credit", "-w", "300"], r"need a domain")
        self.assertEqual(self.cpu_files(group), want)
        cfg = self.config("spin")
        self.assertEqual((cfg["cpu_weight"], cfg["cap"]), (512, 50))
        self.assertEqual(self.xl_config("spin")["b_info"]["sched_params"],
                         {"weight": 512, "cap": 50})

        # the cap holds a spinning guest near half a CPU
        self.guest_run("spin", "while :; do :; done &")
        time.sleep(2)
        r = self.kxl("top", "-b", "-i", "4", "-d", "1", check=True, timeout=60)
        pct = [float(rows(f)["spin"]["CPU(%)"]) for f in frames(r.stdout)[1:]]
        print(f"\nCPU(%) with cap 50: {pct}", file=sys.stderr)
        self.assertLess(sum(pct) / len(pct), 70, r.stdout)
        self.assertGreater(sum(pct) / len(pct), 20, r.stdout)

        # kept by an adopting supervisor; the group goes with the domain
        self.adopt("spin")
        out = self.kxl("sched-credit", "-d", "spin", check=True).stdout.splitlines()
        self.assertRegex(out[1], r" 512 +50$")
        self.kxl("sched-credit", "-d", "spin", "-c", "0", check=True)
        self.assertEqual(self.cpu_files(group)["cpu.cfs_quota_us" if v1 else "cpu.max"],
                         "-1" if v1 else "max 100000")
        self.kxl("destroy", "spin", check=True)
        self.assert_gone("spin")
        self.assertFalse(os.path.exists(group), f"{group} left behind")

    def test_config_keys_at_start(self):
        """cpu_weight and cap from the config reach the cgroup when the domain starts;
        cpus_soft pins the vCPU threads where cpus is not given."""
        self.create("keys", memory=128,
                    extra_lines='cpu_weight = 128\ncap = 80\ncpus_soft = "0"')
        self.wait_ready("keys")
        files = self.cpu_files(self.cpu_group("keys"))
        self.assertIn(files, [{"cpu.shares": "512", "cpu.cfs_period_us": "100000",
                               "cpu.cfs_quota_us": "80000"},
                              {"cpu.weight": "50", "cpu.max": "80000 100000"}])
        line = self.kxl("vcpu-list", "keys", check=True).stdout.splitlines()[1]
        self.assertRegex(line, r" 0 / ")


class KxldResourceTest(GuestMixin, KxldTestCase):
    """kxld's routes call the same operations: vCPUs, memory and the scheduler's weight and cap
    through the API, refusals as JSON errors that change nothing."""

    def test_resource_routes(self):
        self.start_kxld()
        self.create("api", memory=160, extra_lines="maxmem = 256\nmaxvcpus = 2")
        self.wait_ready("api")
        status, _, reply = self.api("PUT", "/api/v1/domains/api/sched", {"weight": 300, "cap": 40})
        self.assertEqual((status, reply), (204, None))
        status, _, s = self.api("GET", "/api/v1/domains/api/sched")
        self.assertEqual(status, 200, s)
        self.validate(s, "Sched")
        self.assertEqual((s["name"], s["weight"], s["cap"]), ("api", 300, 40))
        for body, want in [({"weight": 0}, 400), ({"cap": -1}, 400), ({"cap": "x"}, 400),
                           ({"speed": 1}, 400)]:
            status, _, e = self.api("PUT", "/api/v1/domains/api/sched", body)
            self.assert_error(status, want, "invalid", e)
        self.assertEqual(self.api("GET", "/api/v1/domains/api/sched")[2], s)

        status, _, reply = self.api("PUT", "/api/v1/domains/api/memory", {"memory_mib": 128})
        self.assertEqual((status, reply), (204, None))
        for path, body in [("memory", {"memory_mib": 300}), ("memory", {}),
                           ("maxmem", {"maxmem_mib": 512}), ("vcpus", {"vcpus": 3}),
                           ("vcpus", {"vcpus": 0})]:
            status, _, e = self.api("PUT", f"/api/v1/domains/api/{path}", body)
            self.assert_error(status, 400, "invalid", e)
        status, _, reply = self.api("PUT", "/api/v1/domains/api/vcpus", {"vcpus": 2})
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(self.online("api", "0-1"), "0-1")
        status, _, d = self.api("GET", "/api/v1/domains/api")
        self.validate(d, "DomainDetail")
        self.assertEqual((d["info"]["memory_mib"], d["info"]["vcpus"]), (128, 2))
        self.assertEqual((d["config"]["cpu_weight"], d["config"]["cap"]), (300, 40))
        status, _, e = self.api("PUT", "/api/v1/domains/nosuch/memory", {"memory_mib": 128})
        self.assert_error(status, 404, "not-found", e)
