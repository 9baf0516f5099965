"""End-to-end tests of the commands that reach into a running guest: reboot,
trigger, sysrq, dump-core, qemu-monitor-command, rename, and the views
uptime, vm-list and dmesg. Each checks what the guest printed or what QEMU
reported, not what kxl says it did."""

import os
import shlex
import re
import socket
import subprocess
import time

from kxltest import KXL, KxlTestCase, Pty, control, wait_for_job


class CommandsTest(KxlTestCase):

    def ready_count(self, name):
        return len(re.findall(r"KXL-READY", self.console_log(name)))

    def test_reboot_is_clean_and_boots_again(self):
        self.create("rb")
        self.wait_ready("rb")
        r = self.kxl("reboot", "-w", "rb", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("KXL-REBOOT ctrl-alt-del", self.console_log("rb"), "the guest rebooted itself")
        self.wait_console("rb", r"KXL-READY[^\n]*\n(.|\n)*KXL-READY")

    def test_triggers(self):
        self.create("tg")
        self.wait_ready("tg")
        r = self.kxl("job-cancel", "tg")   # the supervisor's answer, through the library
        self.assertEqual((r.returncode, r.stderr), (1, "kxl: domain 'tg' runs no job\n"))
        self.kxl("trigger", "tg", "nmi", check=True)
        self.wait_console("tg", r"NMI", timeout=20)
        self.kxl("trigger", "tg", "reset", check=True)
        self.wait_console("tg", r"KXL-READY[^\n]*\n(.|\n)*KXL-READY")
        self.assertNotIn("KXL-REBOOT", self.console_log("tg"), "a reset is not a clean reboot")
        r = self.kxl("trigger", "tg", "sleep")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no ACPI sleep button", r.stderr)
        self.assertEqual(self.kxl("trigger", "tg", "bogus").returncode, 1)
        self.kxl("trigger", "tg", "power", check=True)
        self.wait_console("tg", r"KXL-POWEROFF power button pressed")
        self.assert_gone("tg", timeout=30)

    def test_sysrq_and_monitor(self):
        self.create("sq")
        self.wait_ready("sq")
        self.kxl("sysrq", "sq", "h", check=True)
        self.wait_console("sq", r"sysrq: HELP", timeout=20)
        self.assertEqual(self.kxl("sysrq", "sq", "!!").returncode, 1)
        r = self.kxl("qemu-monitor-command", "sq", "info", "status", check=True)
        self.assertIn("VM status: running", r.stdout)
        self.kxl("pause", "sq", check=True)
        r = self.kxl("qemu-monitor-command", "sq", "info status", check=True)
        self.assertIn("VM status: paused", r.stdout)

    def test_dump_core(self):
        self.create("dc")
        self.wait_ready("dc")
        core = os.path.join(self.tmp, "dc.core")
        self.kxl("dump-core", "dc", core, check=True, timeout=120)
        with open(core, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")
        self.assertGreater(os.path.getsize(core), 200 << 20, "the guest's 256 MiB are in it")
        self.assertIn("dc", self.list_json(), "the domain keeps running")

    def test_dump_core_cancelled(self):
        """A memory dump is a job: cancelled, the dump-core that asked for it fails and its
        file is gone once QEMU has written it; meanwhile another dump is refused as busy."""
        self.create("dx")
        self.wait_ready("dx")
        core = os.path.join(self.tmp, "dx.core")
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.connect(os.path.join(self.root, "run/kxl/dx/control.sock"))
        cmd = subprocess.Popen([KXL, "dump-core", "dx", core], env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(wait_for_job(self.root, "dx", ctl)["file"], core)
        busy = control(self.root, "dx", {"execute": "dump-core",
                                         "arguments": {"file": core + "2"}}, ctl)["error"]
        self.assertEqual(busy["code"], "busy")
        self.assertRegex(busy["desc"], r"^domain 'dx' is busy: a memory dump is running ")
        self.assertIn("return", control(self.root, "dx", {"execute": "job-cancel"}, ctl))
        ctl.close()
        _, err = cmd.communicate(timeout=120)
        self.assertEqual((cmd.returncode, err),
                         (1, f"kxl: the memory dump of 'dx' to '{core}' was cancelled\n"))
        self.assertFalse(os.path.exists(core))
        self.assertFalse(os.path.exists(core + "2"))
        self.assertIn("dx", self.list_json(), "the domain keeps running")

    def test_rename_uptime_vm_list_dmesg(self):
        self.create("old")
        self.wait_ready("old")
        uuid = self.list_json()["old"]["uuid"]
        self.kxl("rename", "old", "new", check=True)
        doms = self.list_json()
        self.assertEqual(list(doms), ["new"])
        self.assertEqual(doms["new"]["uuid"], uuid)
        con = Pty([KXL, "console", "new"], self.env)
        con.send("\r")
        con.expect(r"old# ")                   # the guest's own hostname stays
        con.send(b"\x1d")
        con.wait()
        # xl's -e: Ctrl+A leaves instead, and Ctrl+] reaches the guest (its shell ignores it)
        con = Pty([KXL, "console", "-e", "^a", "new"], self.env)
        con.send(b"\x1d\recho esc-$((3*5))\r")
        con.expect(r"esc-15")
        con.send(b"\x01")
        con.wait()
        self.assertEqual(self.kxl("console", "-e", "ab", "new").returncode, 2)
        self.create("other")
        r = self.kxl("rename", "new", "other")
        self.assertEqual(r.returncode, 1)
        self.assertIn("domain 'other' already exists", r.stderr)
        self.assertEqual(self.kxl("rename", "new", "bad/name").returncode, 1)

        time.sleep(1.1)
        # xl's layout: "%-33s %4d" and H:MM:SS with the hour padded; the host first
        up = self.kxl("uptime", check=True).stdout.splitlines()
        self.assertEqual(up[0], "Name                              ID Uptime")
        self.assertRegex(up[1], r"^Domain-0 {29}0 ")
        new = [line for line in up if line.startswith("new ")]
        self.assertRegex(new[0], r"^new {30} [ \d]{3}\d  0:00:\d\d$")
        brief = self.kxl("uptime", "-s", "new", check=True).stdout
        self.assertRegex(brief, r"^ \d\d:\d\d:\d\d up  0:00, new \(\d+\)\n$")
        vm = self.kxl("vm-list", check=True).stdout
        self.assertIn(uuid, vm)
        log = self.kxl("dmesg", check=True).stdout
        self.assertIn("renamed from 'old'", log)
        self.assertRegex(log, r"(old|new): domain \d+ running")
        self.kxl("destroy", "new", check=True)
        self.assert_gone("new")


class DryRunTest(KxlTestCase):

    def test_dry_run_prints_the_command_line_qemu_gets(self):
        """create -n and the supervisor build QEMU's argv from one probe of the host: what the
        dry run prints is, word for word, what the started QEMU runs with (a raw disk's fd set
        included; no vif, so the descriptors number alike)."""
        img = os.path.join(self.tmp, "dr.img")
        with open(img, "wb") as f:
            f.truncate(8 << 20)
        # a uuid of its own: one left to kxl is made at the start, after the dry run
        cfg = self.write_cfg("dr", extra_lines=f"disk = [ 'format=raw, vdev=xvda, access=rw, "
                                               f"target={img}' ]\n"
                                               'uuid = "6c0ea0b8-1d9e-4f57-9a52-3c3d1a1e2b40"')
        dry = self.kxl("create", "-q", "-n", cfg, check=True).stdout
        dry_words = shlex.split(dry.replace("\\\n", " "))
        self.kxl("create", "-q", cfg, check=True)
        pid = self.list_json()["dr"]["qemu_pid"]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            real = [w.decode() for w in f.read().split(b"\0")[:-1]]
        self.assertIn("-add-fd", real)
        # argv[0] aside: the test run reaches QEMU through a logging wrapper on PATH
        self.maxDiff = None
        self.assertEqual(dry_words[1:], real[1:])
