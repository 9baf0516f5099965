"""End-to-end tests of the core: create, list, console, destroy, two domains
at once, pause, dry runs, guest-initiated poweroff, the data disk. Each boots
the test guest under QEMU (TCG here, KVM where the host can) and checks what
the guest itself printed."""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import unittest

from kxltest import GUEST, KXL, KxlTestCase, Pty


class CoreTest(KxlTestCase):

    def test_create_list_console_destroy(self):
        cfg = self.create("alpha", memory=256, vcpus=2)
        m = self.wait_ready("alpha")
        self.assertEqual(m.group(1), "alpha")
        self.assertEqual(m.group(2), "2", "the guest sees the configured vCPUs")
        # the kernel keeps some memory for itself; MemTotal is a bit under 256 MiB
        self.assertTrue(200 * 1024 < int(m.group(3)) <= 256 * 1024, m.group(3))

        out = self.kxl("list", check=True).stdout.splitlines()
        self.assertTrue(out[0].startswith("Name") and "Time(s)" in out[0])
        host = out[1].split()    # the host first, as xl's Domain-0
        self.assertEqual(host[0:2], ["Domain-0", "0"])
        self.assertEqual(int(host[3]), os.cpu_count())
        row = out[2].split()
        self.assertEqual(row[0:4], ["alpha", "1", "256", "2"])
        self.assertRegex(row[4], r"^[rb-][b-]----$", "running or blocked")
        self.assertGreater(float(row[5]), 0.0, "the guest has used CPU time")
        self.assertEqual(self.kxl("domid", "alpha", check=True).stdout.strip(), "1")
        # list -l in libxl's shape, read as scripts written for xl read it
        xl = subprocess.run([KXL, "list", "-l"], env=self.env, capture_output=True,
                            text=True, check=True).stdout
        read = subprocess.run([sys.executable, "-c", "import json, sys; d = json.load(sys.stdin)[0];"
                               " print(d['domid'], d['config']['c_info']['name'],"
                               " d['config']['b_info']['max_memkb'])"],
                              input=xl, capture_output=True, text=True, check=True).stdout
        self.assertEqual(read.split(), ["1", "alpha", str(256 * 1024)])
        self.assertEqual(self.kxl("domname", "1", check=True).stdout.strip(), "alpha")

        con = Pty([KXL, "console", "alpha"], self.env)
        con.expect(r"KXL-READY hostname=alpha")          # scrollback comes first
        con.send("\r")
        con.expect(r"alpha# ")
        con.send("echo result-$((6*7))\r")
        con.expect(r"result-42")
        con.send(b"\x1d")                                 # Ctrl+]
        self.assertEqual(con.wait(), 0)

        self.assertEqual(self.kxl("destroy", "alpha").returncode, 0)
        self.assert_gone("alpha")
        with open(cfg) as f:
            self.assertIn('name = "alpha"', f.read())     # the config file is untouched

    def test_two_domains_have_distinct_ids(self):
        self.create("one")
        self.create("two")
        self.wait_ready("one")
        self.wait_ready("two")
        doms = self.list_json()
        self.assertEqual(sorted(doms), ["one", "two"])
        self.assertNotEqual(doms["one"]["domid"], doms["two"]["domid"])
        # ids keep increasing after a destroy, as xl's do
        self.kxl("destroy", "one", check=True)
        self.create("three")
        self.assertGreater(self.list_json()["three"]["domid"], doms["two"]["domid"])
        self.kxl("destroy", "two", check=True)
        self.assert_gone("one")
        self.assert_gone("two")

    def test_pause_stops_the_heartbeat(self):
        self.create("pz")
        self.wait_console("pz", r"KXL-HB 2\b")
        self.kxl("pause", "pz", check=True)
        self.assertEqual(self.list_json()["pz"]["state_letters"], "--p---")
        time.sleep(0.5)
        before = self.console_log("pz").count("KXL-HB")
        time.sleep(3)
        self.assertEqual(self.console_log("pz").count("KXL-HB"), before, "no heartbeat while paused")
        self.kxl("unpause", "pz", check=True)
        self.wait_console("pz", rf"KXL-HB {before + 1}\b", timeout=20)
        self.assertEqual(self.kxl("unpause", "pz").returncode, 1, "unpausing twice is an error")

    def test_create_console_and_guest_poweroff(self):
        """create -c shows the boot; the guest powers itself off; on_poweroff
        = destroy ends the domain and the console with it."""
        cfg = self.write_cfg("demo", cmdline="kxl.autopoweroff=2", extra_lines='on_poweroff = "destroy"')
        con = Pty([KXL, "create", "-c", cfg], self.env)
        con.expect(r"KXL-READY hostname=demo", timeout=90)
        con.expect(r"KXL-POWEROFF autopoweroff", timeout=30)
        self.assertEqual(con.wait(timeout=30), 0)
        self.assert_gone("demo")

    def test_shutdown_presses_the_power_button(self):
        """kxl shutdown -w: the guest sees the ACPI power button, says so,
        powers off cleanly, and on_poweroff = destroy removes the domain."""
        self.create("pb")
        self.wait_ready("pb")
        r = self.kxl("shutdown", "-w", "pb", timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        log = self.console_log("pb")
        self.assertIn("KXL-POWEROFF power button pressed", log)
        self.assertIn("reboot: Power down", log, "the kernel powered off cleanly")
        self.assert_gone("pb")
        self.assertEqual(self.kxl("shutdown", "pb").returncode, 1, "no such domain any more")

    def test_preserve_keeps_a_shut_down_domain_listed(self):
        self.create("keep", extra_lines='on_poweroff = "preserve"')
        self.wait_ready("keep")
        self.kxl("shutdown", "-w", "keep", check=True, timeout=90)
        self.assertEqual(self.list_json()["keep"]["state_letters"], "---s--")
        self.kxl("destroy", "keep", check=True)
        self.assert_gone("keep")

    def test_data_disk_is_mounted(self):
        img = os.path.join(self.tmp, "data.img")
        subprocess.run(["truncate", "-s", "64M", img], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
        disk = f"disk = [ 'file:{img},xvda,w' ]"
        self.create("dd", extra_lines=disk)
        m = self.wait_ready("dd")
        self.assertEqual(m.group(4), "vda")
        self.wait_console("dd", r"KXL-BOOT-COUNT 1\b")
        self.kxl("destroy", "dd", check=True)
        self.assert_gone("dd")
        self.create("dd", extra_lines=disk)
        self.wait_console("dd", r"KXL-BOOT-COUNT 2\b")

    def qemu_kernel(self, name):
        pid = self.qemu_pids(name)[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode().split("\0")
        return argv[argv.index("-kernel") + 1]

    def event_log(self, name):
        with open(os.path.join(self.root, "var/log/kxl", f"{name}.log")) as f:
            return f.read()

    def test_pv_boots_at_the_pvh_entry_and_hvm_the_bzimage(self):
        """A pv domain's bzImage is unpacked once into the PVH cache and QEMU
        loads the ELF; an hvm domain's kernel is loaded as it is."""
        self.create("pv1")
        self.wait_ready("pv1")
        elf = self.qemu_kernel("pv1")
        cache = os.path.join(self.root, "var/lib/kxl/pvh-kernels")
        self.assertEqual(os.path.dirname(elf), cache)
        with open(elf, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")
        self.assertEqual(os.stat(elf).st_mode & 0o777, 0o600)
        self.assertIn("at its PVH entry point", self.event_log("pv1"))

        self.create("hvm1", extra_lines='type = "hvm"')
        self.wait_ready("hvm1")
        self.assertEqual(self.qemu_kernel("hvm1"), os.path.join(GUEST, "vmlinuz"))
        self.assertNotIn("pvh:", self.event_log("hvm1"))
        # a second pv domain of the same kernel is served from the cache
        self.create("pv2")
        self.wait_ready("pv2")
        self.assertEqual(self.qemu_kernel("pv2"), elf)
        entries = sorted(os.listdir(cache))
        self.assertEqual(entries[1:], [os.path.basename(elf)], "one entry")
        self.assertTrue(entries[0].startswith(".stat-"), "and the link that knows the file")
        self.assertEqual(os.readlink(os.path.join(cache, entries[0])), os.path.basename(elf))

    def test_qemu_runs_unprivileged(self):
        """QEMU drops to a uid of its domain's own once set up (the host has the kxl-qemu
        user, which turns this on): no capabilities, no way back (no_new_privs), under
        seccomp; the event log says nothing of root. test_jail.py checks the jail."""
        self.create("unpriv")
        domid = self.list_json()["unpriv"]["domid"]
        uid = 0x7E000000 + domid % 65536
        status = {}
        with open(f"/proc/{self.qemu_pids('unpriv')[0]}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                status[k] = v.split()
        self.assertEqual(status["Uid"], [str(uid)] * 4)
        self.assertEqual(status["Gid"], [str(uid)] * 4)
        self.assertEqual(status["Groups"], [str(uid)])
        self.assertEqual(int(status["CapEff"][0], 16), 0)
        self.assertEqual(int(status["CapPrm"][0], 16), 0)
        self.assertEqual(status["NoNewPrivs"], ["1"])
        self.assertEqual(status["Seccomp"], ["2"])
        self.assertNotIn("QEMU runs as root", self.event_log("unpriv"))
        info = json.loads(self.kxl("info", "--json", check=True).stdout)
        self.assertEqual(info["qemu_user"], "kxl-qemu")
        self.wait_ready("unpriv")      # and the guest boots all the same

    def test_dry_runs_start_nothing(self):
        cfg = self.write_cfg("dry")
        r = self.kxl("create", "-n", cfg, check=True)
        self.assertIn("-name guest=dry,debug-threads=on", r.stdout)
        self.assertIn("-kernel", r.stdout)
        r = self.kxl("-N", "create", cfg, "memory=300", check=True)
        self.assertEqual(json.loads(r.stdout)["memory"], 300)
        self.assertEqual(self.domain_names(), [])
        self.assertEqual(os.listdir(os.path.join(self.root, "run/kxl")), [])

    def test_same_name_races(self):
        """Ten creates of one name at once: exactly one wins, the others say why."""
        cfg = self.write_cfg("race")
        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            results = list(ex.map(lambda _: self.kxl("create", "-q", cfg), range(10)))
        ok = [r for r in results if r.returncode == 0]
        self.assertEqual(len(ok), 1, [r.stderr for r in results])
        for r in results:
            if r.returncode:
                self.assertEqual(r.returncode, 1)
                self.assertIn("domain 'race' already exists", r.stderr)
        self.assertEqual(len(self.qemu_pids("race")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
