"""End-to-end tests of autostart and host shutdown: a real kxld on its own KXL_ROOT starts the
domains of etc/kxl/auto/ (and of an auto_dirs directory) at a simulated host boot (the boot id
comes from the file $KXL_BOOT_ID_FILE names), batch after batch, with the up delay and the
startup_ready line holding; a broken config is skipped with its file:line; a second kxld in the
same boot starts nothing; `kxl shutdown-host`, the kxl-domains unit's ExecStop, stops the
domains in the reverse order, each guest powering off cleanly (its console shows it), or saves
one that asks for it, which the next boot's autostart restores with its heartbeat going on."""

import json
import os
import re
import threading
import time
import uuid

from kxltest import KXL
from test_kxld import KxldTestCase

HB = re.compile(r"KXL-HB (\d+)")
UNIT = os.path.join(os.path.dirname(__file__), "../../etc/systemd/kxl-domains.service")


class ConsoleWatch:
    """When each domain's console first showed a pattern: a thread polls the console logs."""

    def __init__(self, test, names, pattern):
        self.test, self.names, self.rx = test, names, re.compile(pattern)
        self.seen = {}
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            for name in self.names:
                if name not in self.seen and self.rx.search(self.test.console_log(name)):
                    self.seen[name] = time.time()
            time.sleep(0.05)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while len(self.seen) < len(self.names) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.done = True
        self.thread.join()
        return self.seen


class AutostartTest(KxldTestCase):

    def setUp(self):
        super().setUp()
        self.boot_id_file = os.path.join(self.tmp, "boot_id")
        self.env["KXL_BOOT_ID_FILE"] = self.boot_id_file
        self.auto = os.path.join(self.root, "etc/kxl/auto")
        os.makedirs(self.auto)

    def boot_host(self):
        """A new boot id: what the kernel gives after a reboot."""
        with open(self.boot_id_file, "w") as f:
            f.write(f"{uuid.uuid4()}\n")

    def record(self):
        path = os.path.join(self.root, "var/lib/kxl/autostart-last.json")
        try:
            with open(path) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def wait_autostart_done(self, timeout=240):
        """The record of this boot's run, once it has finished (an earlier boot's is there until
        kxld writes its own)."""
        with open(self.boot_id_file) as f:
            boot_id = f.read().strip()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rec = self.record()
            if rec and rec["boot_id"] == boot_id and rec["finished"]:
                return rec
            time.sleep(0.2)
        self.fail(f"autostart did not finish: {self.record()}\n{self.kxld_log()}")

    def auto_cfg(self, name, lines, link=False, directory=None):
        """A small guest's config in auto/ (a symlink to it with link, or in directory)."""
        path = self.write_cfg(name, extra_lines=lines, memory=128)
        if directory:
            dest = os.path.join(directory, f"{name}.cfg")
            os.rename(path, dest)
            return dest
        dest = os.path.join(self.auto, f"{name}.cfg")
        if link:
            os.symlink(path, dest)
        else:
            os.rename(path, dest)
        return dest

    def full_log(self):
        with open(os.path.join(self.tmp, "kxld.stderr"), errors="replace") as f:
            return f.read()

    def shutdown_host(self):
        """The kxl-domains unit's ExecStop, with the built kxl for /usr/bin/kxl."""
        with open(UNIT) as f:
            keys = dict(l.split("=", 1) for l in f.read().splitlines()
                        if "=" in l and not l.startswith("#"))
        argv = keys["ExecStop"].split()
        self.assertEqual(argv[0], "/usr/bin/kxl")
        r = self.kxl(*argv[1:], timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_boot_order_restart_and_host_shutdown(self):
        xen_auto = os.path.join(self.tmp, "xen-auto")
        os.makedirs(xen_auto)
        with open(os.path.join(self.root, "etc/kxl/kxld.conf"), "w") as f:
            f.write(f'auto_dirs = ["{xen_auto}"]\n')
        self.auto_cfg("a1", 'startup = "order=1,up=6"', link=True)
        self.auto_cfg("a2", 'startup = "order=1,up=6,down=30"')
        self.auto_cfg("b", 'startup = "order=2,up=120"\nstartup_ready = "KXL-READY hostname=b "')
        self.auto_cfg("c", "", directory=xen_auto)
        broken = self.auto_cfg("e", '\nstartup = "order=1,later=2"')   # line 9
        names = ["a1", "a2", "b", "c"]
        self.boot_host()
        ready = ConsoleWatch(self, names, r"KXL-READY")
        t0 = time.monotonic()
        self.start_kxld()
        # the API answers while autostart waits
        status, _, plan = self.api("GET", "/api/v1/autostart")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(status, 200, plan)
        self.validate(plan, "Autostart")
        self.assertEqual([[d["name"] for d in b["domains"]] for b in plan["batches"]],
                         [["a1", "a2"], ["b"], ["c"]])
        self.assertEqual(plan["batches"][0]["domains"][1]["down"], 30)
        self.assertEqual(plan["batches"][0]["domains"][0]["down"], 60, "shutdown_timeout")

        rec = self.wait_autostart_done()
        seen = ready.wait(120)
        print(f"\nautostart of 4 guests: {time.monotonic() - t0:.1f} s", end=" ")
        self.assertEqual(sorted(seen), names, seen)
        starts = {d["name"]: d["time"] for d in rec["domains"] if d["result"] == "started"}
        self.assertEqual(sorted(starts), names, rec)
        # batch 1 together, batch 2 after both up delays, c once b's console showed the line
        self.assertLess(abs(starts["a1"] - starts["a2"]), 2.0, starts)
        self.assertGreaterEqual(starts["b"] - max(starts["a1"], starts["a2"]), 6.0, starts)
        self.assertGreaterEqual(starts["c"] + 0.5, seen["b"], (starts, seen))
        self.assertLess(starts["c"] - starts["b"], 120, "startup_ready ended b's wait")
        self.assertLess(seen["a1"], seen["c"])
        # the broken config: skipped, with its file:line, in the log and the record and the list
        skipped = [d for d in rec["domains"] if d["result"] == "skipped"]
        self.assertEqual(len(skipped), 1, rec)
        self.assertIn(f"{broken}:9: startup: 'later=2' is not order=N", skipped[0]["reason"])
        self.assertIn(f"{broken}:9:", self.full_log())
        listed = self.kxl("autostart-list", check=True).stdout
        self.assertIn(f"skipped: {broken}:9:", listed)
        self.assertRegex(listed, r"\n  a1 +started ")
        self.assertIn("Last autostart (this boot", listed)
        status, _, plan = self.api("GET", "/api/v1/autostart")
        self.validate(plan, "Autostart")
        self.assertTrue(all(d["running"] for b in plan["batches"] for d in b["domains"]))

        # a kxld restart in the same boot starts nothing again
        self.stop_kxld()
        self.kxl("destroy", "c", check=True)
        self.start_kxld()
        time.sleep(4)
        self.assertNotIn("c", self.domain_names())
        self.assertEqual(self.record(), rec)
        self.assertIn("done already in this boot", self.full_log())
        self.stop_kxld()

        # host shutdown: c (no order) first, then b, then a1 and a2 together
        self.create("c", memory=128)
        self.wait_ready("c")
        offsets = {n: len(self.console_log(n)) for n in names}
        off = ConsoleWatch(self, names, r"KXL-POWEROFF power button pressed")
        t0 = time.monotonic()
        out = self.shutdown_host()
        print(f"host shutdown of 4 guests: {time.monotonic() - t0:.1f} s", end=" ")
        gone = off.wait(5)
        self.assertEqual(sorted(gone), names, f"{out}\n{gone}")
        for n in names:
            self.assertIn("KXL-POWEROFF power button pressed", self.console_log(n)[offsets[n]:])
            self.assert_gone(n)
        self.assertLess(gone["c"], gone["b"])
        self.assertLess(gone["b"], min(gone["a1"], gone["a2"]))
        order = [l.split()[1].rstrip(":") for l in out.splitlines()]
        self.assertEqual(order[:2], ["c", "b"], out)
        self.assertEqual(sorted(order[2:]), ["a1", "a2"], out)
        self.assertRegex(out, r"a2: shut down \(\d+\.\d s\)")

    def test_save_at_host_shutdown_restores_at_next_boot(self):
        self.auto_cfg("s", 'on_host_shutdown = "save"')
        self.boot_host()
        self.start_kxld()
        self.wait_autostart_done()
        self.wait_console("s", r"KXL-HB 3\b")
        self.stop_kxld()
        out = self.shutdown_host()
        save = os.path.join(self.root, "var/lib/kxl/save/s.save")
        self.assertIn(f"s: saved to {save}", out)
        self.assert_gone("s")
        self.assertTrue(os.path.exists(save))
        last = [int(n) for n in HB.findall(self.console_log("s"))][-1]

        self.boot_host()
        self.start_kxld()
        rec = self.wait_autostart_done()
        self.assertEqual([(d["name"], d["result"]) for d in rec["domains"]], [("s", "restored")])
        self.wait_console("s", rf"KXL-HB {last + 2}\b", timeout=30)
        log = self.console_log("s")
        beats = [int(n) for n in HB.findall(log)]
        self.assertNotIn("KXL-READY", log, "the guest did not boot again")
        self.assertIn(beats[0], (last + 1, last + 2), f"saved at {last}, then {beats[:5]}")
        self.assertFalse(os.path.exists(save), "the save file goes once restored")

    def test_enable_disable_and_down_timeout(self):
        """autostart-enable of a running domain, which boot then leaves alone; the API's links;
        host shutdown's order and down timeout: a domain started by hand (not in auto/) goes
        first, and as its guest ignores the power button (no ACPI) it is destroyed once its
        down timeout is over."""
        deaf = self.create("deaf", cmdline="acpi=off", memory=128,
                           extra_lines='startup = "down=3"')
        w = self.create("w", memory=128)
        self.wait_ready("deaf")
        self.wait_ready("w")
        # enabled by its running config; at boot it runs already: left alone
        self.kxl("autostart-enable", "w", check=True)
        link = os.path.join(self.auto, "w.cfg")
        self.assertEqual(os.readlink(link), w)
        pid = self.list_json()["w"]["qemu_pid"]
        self.boot_host()
        self.start_kxld()
        rec = self.wait_autostart_done()
        self.assertEqual([(d["name"], d["result"], d["reason"]) for d in rec["domains"]],
                         [("w", "running", "already running")])
        self.assertEqual(self.list_json()["w"]["qemu_pid"], pid)

        status, _, reply = self.api("DELETE", "/api/v1/domains/w/autostart")
        self.assertEqual((status, reply), (204, None))
        self.assertFalse(os.path.lexists(link))
        status, _, e = self.api("DELETE", "/api/v1/domains/w/autostart")
        self.assert_error(status, 404, "not-found", e)
        status, _, reply = self.api("PUT", "/api/v1/domains/w/autostart")
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(os.readlink(link), w)
        status, _, reply = self.api("PUT", "/api/v1/domains/w/autostart", {"config_file": w})
        self.assertEqual((status, reply), (204, None), "done already")
        status, _, e = self.api("PUT", "/api/v1/domains/deaf/autostart", {"config_file": w})
        self.assert_error(status, 400, "invalid", e)
        self.assertIn("is of domain 'w', not 'deaf'", e["error"]["message"])
        status, _, e = self.api("PUT", "/api/v1/domains/deaf/autostart", {"config_file": "x"})
        self.assert_error(status, 400, "invalid", e)
        kept = os.path.join(self.auto, "kept.cfg")
        with open(kept, "w") as f:
            f.write('name = "kept"\n')
        status, _, e = self.api("DELETE", "/api/v1/domains/kept/autostart")
        self.assert_error(status, 409, "state", e)
        self.assertTrue(os.path.exists(kept))
        os.unlink(kept)
        status, _, plan = self.api("GET", "/api/v1/autostart")
        self.validate(plan, "Autostart")
        self.assertEqual([[d["name"] for d in b["domains"]] for b in plan["batches"]], [["w"]])
        self.stop_kxld()

        t0 = time.monotonic()
        out = self.shutdown_host()
        took = time.monotonic() - t0
        lines = out.splitlines()
        self.assertEqual([l.split()[1] for l in lines], ["deaf:", "w:"], out)
        self.assertIn("deaf: destroyed: it did not shut down within 3 s", lines[0])
        self.assertRegex(lines[1], r"w: shut down \(\d+\.\d s\)")
        self.assertGreaterEqual(took, 3.0)
        self.assertNotIn("KXL-POWEROFF", self.console_log("deaf"))
        self.assertIn("KXL-POWEROFF power button pressed", self.console_log("w"))
        self.assert_gone("deaf")
        self.assert_gone("w")

    def test_killed_kxld_goes_on_in_the_same_boot(self):
        """kill -9 of kxld while autostart waits after the first batch: the next kxld of the
        same boot leaves the started domain alone and starts the rest."""
        self.auto_cfg("k1", 'startup = "order=1,up=300"')
        self.auto_cfg("k2", 'startup = "order=2"')
        self.boot_host()
        self.start_kxld()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rec = self.record()
            if rec and [d["name"] for d in rec["domains"]] == ["k1"]:
                break
            time.sleep(0.2)
        else:
            self.fail(f"k1 was not started: {self.record()}")
        self.kxld.kill()
        self.kxld.wait()
        self.kxld = None
        pid_k1 = self.list_json()["k1"]["qemu_pid"]
        self.assertIsNone(self.record()["finished"])
        self.start_kxld()
        rec = self.wait_autostart_done()
        self.assertEqual([(d["name"], d["result"]) for d in rec["domains"]],
                         [("k1", "started"), ("k2", "started")])
        self.assertIn("going on with the run this boot began", self.full_log())
        self.assertEqual(self.list_json()["k1"]["qemu_pid"], pid_k1, "k1 left alone")
        self.wait_ready("k2")
