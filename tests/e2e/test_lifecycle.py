"""End-to-end tests of the domain lifecycle: on_poweroff / on_reboot /
on_crash as the guest itself triggers them, and domains that survive the
death of any kxl process. Evidence comes from inside the guest (its console,
its boot counter on a data disk) and from the process table."""

import concurrent.futures
import glob
import os
import signal
import subprocess
import time

from kxltest import KXL, KxlTestCase, Pty


class LifecycleTest(KxlTestCase):

    def data_disk(self):
        img = os.path.join(self.tmp, "data.img")
        subprocess.run(["truncate", "-s", "32M", img], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
        return f"disk = [ 'file:{img},xvda,w' ]"

    def status(self, name, key):
        with open(os.path.join(self.root, "run/kxl", name, "status")) as f:
            return dict(l.split(" ", 1) for l in f.read().splitlines())[key]

    def test_guest_reboot_restarts_it(self):
        self.create("rb", extra_lines=self.data_disk() + '\non_reboot = "restart"')
        self.wait_console("rb", r"KXL-BOOT-COUNT 1\b")
        domid = self.list_json()["rb"]["domid"]
        self.guest_run("rb", "sync; reboot -f")
        self.wait_console("rb", r"KXL-BOOT-COUNT 2\b")
        self.assertEqual(self.list_json()["rb"]["domid"], domid, "same domain, booted again")

    def test_guest_reboot_with_destroy_ends_it(self):
        self.create("rbd", extra_lines='on_reboot = "destroy"')
        self.wait_ready("rbd")
        self.guest_run("rbd", "reboot -f")
        self.assert_gone("rbd", timeout=20)

    def test_guest_panic_dumps_core(self):
        self.create("pn", extra_lines='on_crash = "coredump-destroy"')
        self.wait_ready("pn")
        self.guest_run("pn", "echo c > /proc/sysrq-trigger")
        self.wait_console("pn", r"Kernel panic")
        self.assert_gone("pn", timeout=60)
        dumps = glob.glob(os.path.join(self.root, "var/lib/kxl/dump/pn-*.core"))
        self.assertEqual(len(dumps), 1)
        with open(dumps[0], "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF", "an ELF core file")
        self.assertGreater(os.path.getsize(dumps[0]), 64 << 20, "it holds the guest's memory")

    def test_supervisor_killed_guest_survives(self):
        self.create("sv")
        self.wait_ready("sv")
        qemu = self.qemu_pids("sv")
        os.kill(int(self.status("sv", "sv_pid")), signal.SIGKILL)
        mark = len(self.console_log("sv"))
        time.sleep(2)
        self.assertEqual(self.qemu_pids("sv"), qemu, "QEMU keeps running")
        self.assertIn("sv", self.list_json(), "still listed")
        # the next command adopts it: console, pause and destroy work again
        con = Pty([KXL, "console", "sv"], self.env)
        con.send("\r")
        con.expect(r"sv# ")
        con.send("echo still-here-$((20+3))\r")
        con.expect(r"still-here-23")
        con.send(b"\x1d")
        con.wait()
        self.assertTrue(self.list_json()["sv"]["supervisor_alive"])
        self.kxl("pause", "sv", check=True)
        self.assertEqual(self.list_json()["sv"]["state_letters"], "--p---")
        self.kxl("destroy", "sv", check=True)
        self.assert_gone("sv")
        self.assertGreater(len(self.console_log("sv")), mark)

    def test_poweroff_while_unsupervised_is_applied_on_adoption(self):
        """The guest powers off while its supervisor is dead: QEMU stays
        stopped, and the supervisor that adopts it applies on_poweroff."""
        self.create("un", cmdline="kxl.autopoweroff=4")        # on_poweroff: destroy
        self.wait_ready("un")
        os.kill(int(self.status("un", "sv_pid")), signal.SIGKILL)
        qemu = self.qemu_pids("un")
        time.sleep(10)                                         # the guest is off by now
        self.assertEqual(self.qemu_pids("un"), qemu, "QEMU waits, stopped")
        self.kxl("qemu-monitor-command", "un", "info status")  # adopts
        self.assert_gone("un")
        with open(os.path.join(self.root, "var/log/kxl/un.log")) as f:
            self.assertIn("the guest shut down (powered off or rebooted", f.read())

    def test_qemu_killed_is_a_crash(self):
        self.create("qk")                                      # on_crash defaults to destroy
        self.wait_ready("qk")
        os.kill(self.qemu_pids("qk")[0], signal.SIGKILL)
        self.assert_gone("qk")
        with open(os.path.join(self.root, "var/log/kxl/qk.log")) as f:
            self.assertIn("QEMU died unexpectedly", f.read())

    def test_qemu_killed_restart_and_preserve(self):
        self.create("qr", extra_lines='on_crash = "restart"')
        self.wait_ready("qr")
        os.kill(self.qemu_pids("qr")[0], signal.SIGKILL)
        start = len(self.console_log("qr"))
        self.wait_console("qr", r"KXL-READY hostname=qr", start=start)
        self.assertEqual(len(self.qemu_pids("qr")), 1)

        self.create("qp", extra_lines='on_crash = "preserve"')
        self.wait_ready("qp")
        os.kill(self.qemu_pids("qp")[0], signal.SIGKILL)
        time.sleep(1)
        self.assertEqual(self.list_json()["qp"]["state_letters"], "---sc-")
        self.kxl("destroy", "qp", check=True)
        self.assert_gone("qp")

    def test_host_reboot_leaves_no_stale_state(self):
        self.create("h1")
        self.create("h2")
        last = max(d["domid"] for d in self.list_json().values())
        # everything dies at once and the runtime directory (a tmpfs) is wiped
        for name in ("h1", "h2"):
            os.kill(int(self.status(name, "sv_pid")), signal.SIGKILL)
            for pid in self.qemu_pids(name):
                os.kill(pid, signal.SIGKILL)
        time.sleep(1)
        # a reboot empties the cgroup file system too: so does the test, for what it killed
        groups = []
        for name in ("h1", "h2"):
            record = os.path.join(self.root, "run/kxl", name, "cgroup")
            if os.path.exists(record):
                with open(record) as f:
                    groups += f.read().split()
        subprocess.run(["rm", "-rf", os.path.join(self.root, "run/kxl")], check=True)
        for d in groups:
            os.rmdir(d)
        self.assertEqual(self.kxl("list", check=True).stdout.count("\n"), 2,
                         "only the header and the host's Domain-0")
        self.create("h1")
        self.assertGreater(self.list_json()["h1"]["domid"], last, "ids keep increasing")
        self.wait_ready("h1")

    def test_stale_runtime_dir_without_wipe(self):
        """Processes gone but the runtime directory kept: the name is free again."""
        self.create("st")
        os.kill(int(self.status("st", "sv_pid")), signal.SIGKILL)
        os.kill(self.qemu_pids("st")[0], signal.SIGKILL)
        time.sleep(1)
        self.assertNotIn("st", self.list_json())
        self.create("st")
        self.wait_ready("st")

    def test_parallel_creates_of_distinct_names(self):
        cfgs = [self.write_cfg(f"p{i}", memory=96) for i in range(10)]
        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            results = list(ex.map(lambda c: self.kxl("create", "-q", c, timeout=120), cfgs))
        self.assertEqual([r.returncode for r in results], [0] * 10, [r.stderr for r in results])
        ids = [d["domid"] for d in self.list_json().values()]
        self.assertEqual(len(set(ids)), 10, ids)
