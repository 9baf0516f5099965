"""End-to-end tests of kxl save and restore: the guest's heartbeat goes on after a restore
from the number it had reached (its memory came back; it did not boot), save -c and -p
leave the domain running or paused, restore -p leaves it paused; damaged, truncated and
foreign files are refused with a message that says what is wrong and leave nothing running;
a save that fails for want of space leaves the domain running and no file at all."""

import ctypes
import json
import os
import re
import signal
import subprocess
import time
import unittest
import zlib

from kxltest import KXL, KxlTestCase

HB = re.compile(r"KXL-HB (\d+)")


class SaveTest(KxlTestCase):

    def heartbeats(self, name):
        return [int(n) for n in HB.findall(self.console_log(name))]

    def booted(self, name, beats=2, **cfg_args):
        self.create(name, **cfg_args)
        self.wait_ready(name)
        self.wait_console(name, rf"KXL-HB {beats}\b", timeout=30)

    def save(self, *args):
        r = self.kxl("save", *args, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    def only_file(self, directory, name):
        """The save file is there under its name and nothing else is (no temporary file)."""
        self.assertEqual(os.listdir(directory), [name])

    def assert_continues(self, name, last):
        """The guest's heartbeat goes on from last: no reboot, no count from 1 again."""
        self.wait_console(name, rf"KXL-HB {last + 2}\b", timeout=30)
        log = self.console_log(name)
        beats = self.heartbeats(name)
        self.assertNotIn("KXL-READY", log, "the guest did not boot again")
        self.assertIn(beats[0], (last + 1, last + 2), f"saved at {last}, then {beats[:5]}")
        self.assertEqual(beats, sorted(beats))

    def test_save_then_restore_goes_on_where_it_stopped(self):
        """xl's default: saved, the domain is gone; restored, the guest goes on counting. On the
        way, damaged copies of the file are refused, each leaving nothing behind."""
        self.booted("sr")
        domid = self.list_json()["sr"]["domid"]
        out = os.path.join(self.tmp, "saves")
        os.makedirs(out)
        path = os.path.join(out, "sr.save")
        t0 = time.monotonic()
        self.save("sr", path)
        saved_in = time.monotonic() - t0
        self.assert_gone("sr")
        self.only_file(out, "sr.save")
        last = self.heartbeats("sr")[-1]
        with open(path, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"KXLSAVE\n"))

        self.bad_files_are_refused(data)

        t0 = time.monotonic()
        r = self.kxl("restore", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        print(f"\nsave of 256 MiB: {saved_in:.2f} s, restore: {time.monotonic() - t0:.2f} s, "
              f"file {len(data) / 2**20:.1f} MiB", end=" ")
        doms = self.list_json()
        self.assertEqual(doms["sr"]["state"], "running")
        self.assertGreater(doms["sr"]["domid"], domid, "a new domain id, as xl gives")
        self.assert_continues("sr", last)

    def bad_files_are_refused(self, data):
        hdr_len = 24 + int.from_bytes(data[12:16], "little") + 4
        cases = {
            # cut in the saved memory: the header's stream length tells
            "truncated": (data[:len(data) // 2], r"is truncated: it holds \d+ of the \d+ bytes"),
            "short-header": (data[:100], r"is truncated: its header needs"),
            # a byte of the config changed: the checksum tells
            "corrupt-header": (data[:60] + bytes([data[60] ^ 1]) + data[61:],
                               r"header is damaged \(its checksum does not match\)"),
            "foreign": (b"\x7fELF" + bytes(4096), r"is not a kxl save file"),
            "newer": (data[:8] + bytes([9]) + data[9:], r"written by a newer kxl"),
            # the header is sound, the stream is not: only QEMU can tell
            "bad-stream": (data[:hdr_len + 8] + b"\xff" * 64 + data[hdr_len + 72:],
                           r"QEMU could not load the saved state \(.+\)"),
            # sound files this host cannot load (this host runs TCG guests: see DESIGN.md)
            "kvm": (rewrite_header(data, accel="kvm", cpu_model="host"),
                    r"was saved under KVM \(CPU model 'host'\); this host cannot run KVM guests"),
            "newer-qemu": (rewrite_header(data, qemu_version="99.1.0"),
                           r"was saved by QEMU 99\.1\.0; this host's QEMU \S+ cannot load it"),
        }
        if json.loads(self.kxl("info", "--json", check=True).stdout)["kvm_usable"]:
            del cases["kvm"]   # a host that can run it would load it
        for case, (content, message) in cases.items():
            with self.subTest(case=case):
                bad = os.path.join(self.tmp, f"{case}.save")
                with open(bad, "wb") as f:
                    f.write(content)
                r = self.kxl("restore", bad, timeout=60)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertRegex(r.stderr, message)
                self.assertIn(f"'{bad}'", r.stderr, "the message names the file")
                self.assert_gone("sr")

    def test_save_c_keeps_running_and_restore_p_stays_paused(self):
        """save -c: the domain goes on running (and a restore under its name is refused while it
        does); destroyed and restored with -p, it stays paused until unpaused, then goes on
        from where it was saved."""
        self.booted("sc")
        path = os.path.join(self.tmp, "sc.save")
        self.save("-c", "sc", path)
        self.assertEqual(self.list_json()["sc"]["state"], "running")
        last = self.heartbeats("sc")[-1]
        self.wait_console("sc", rf"KXL-HB {last + 1}\b", timeout=20)
        r = self.kxl("restore", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        self.assertEqual(self.list_json()["sc"]["state"], "running", "the running one is untouched")

        self.kxl("destroy", "sc", check=True)
        self.assert_gone("sc")
        self.assertEqual(self.kxl("restore", "-p", path).returncode, 0)
        self.assertEqual(self.list_json()["sc"]["state_letters"], "--p---")
        time.sleep(2.5)
        self.assertEqual(self.heartbeats("sc"), [], "no heartbeat while paused")
        self.kxl("unpause", "sc", check=True)
        # saved at last (or one later, while the save began): the count goes on from there
        self.wait_console("sc", rf"KXL-HB {last + 3}\b", timeout=30)
        beats = self.heartbeats("sc")
        self.assertLessEqual(beats[0], last + 2, beats[:5])
        self.assertNotIn("KXL-READY", self.console_log("sc"))

    def test_save_p_leaves_it_paused(self):
        self.booted("sp")
        path = os.path.join(self.tmp, "sp.save")
        self.save("-p", "sp", path)
        self.assertEqual(self.list_json()["sp"]["state_letters"], "--p---")
        before = len(self.heartbeats("sp"))
        time.sleep(2)
        self.assertEqual(len(self.heartbeats("sp")), before, "no heartbeat while paused")
        self.kxl("unpause", "sp", check=True)
        self.wait_console("sp", rf"KXL-HB {self.heartbeats('sp')[-1] + 1}\b", timeout=20)
        self.assertTrue(os.path.getsize(path) > 1 << 20)

    def filled_and_followed(self, name):
        """A 512 MiB guest with 300 MiB of random data in its memory (a save of it takes a
        second or so), and `kxl events -n` following it."""
        self.booted(name, memory=512)
        self.guest_sh(name, "dd if=/dev/urandom of=/run/fill bs=1M count=300 2>/dev/null; "
                      "echo filled-$((6*7))", r"filled-42", timeout=240)
        events = subprocess.Popen([KXL, "events", "-n", name], env=self.env,
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(events.stdout.close)
        self.addCleanup(events.wait)
        self.addCleanup(events.kill)
        return events

    def test_save_job_progress_and_cancel(self):
        """A save with 300 MiB of random data in the guest's memory takes a second or so: its
        job shows progress to `kxl events`; a second save cancelled halfway (job-cancel) fails
        as cancelled, leaves no file, and the guest runs on."""
        events = self.filled_and_followed("sj")
        path = os.path.join(self.tmp, "sj.save")
        t0 = time.monotonic()
        self.save("-c", "sj", path)
        print(f"\nsave of 512 MiB ({os.path.getsize(path) >> 20} MiB): "
              f"{time.monotonic() - t0:.2f} s", end=" ")
        self.assertGreater(os.path.getsize(path), 300 << 20)
        jobs = []
        save = subprocess.Popen([KXL, "save", "sj", os.path.join(self.tmp, "cancelled.save")],
                                env=self.env, stderr=subprocess.PIPE, text=True)
        # cancelled as soon as it has started: the events say when (after the first one's end)
        for line in events.stdout:
            ev = json.loads(line)
            if ev["event"] != "job":
                continue
            jobs.append(ev["data"])
            if ev["data"]["status"] == "running" and any(j["status"] == "completed" for j in jobs):
                break
        self.kxl("job-cancel", "sj", check=True)
        _, err = save.communicate(timeout=120)
        self.assertEqual(save.returncode, 1, err)
        self.assertIn("was cancelled", err)
        self.assertEqual(sorted(os.listdir(self.tmp)).count("cancelled.save"), 0)
        self.assertFalse([f for f in os.listdir(self.tmp) if f.startswith(".cancelled")])
        self.assertEqual(self.list_json()["sj"]["state"], "running")
        last = self.heartbeats("sj")[-1]
        self.wait_console("sj", rf"KXL-HB {last + 1}\b", timeout=20)
        events.kill()
        jobs += [json.loads(line)["data"] for line in events.stdout
                 if json.loads(line)["event"] == "job"]
        saves = [j for j in jobs if j["kind"] == "save"]
        self.assertTrue(any(0 < j["progress"] < 100 and j["phase"] == "saving" for j in saves),
                        f"progress on the way: {saves}")
        self.assertEqual([j["status"] for j in saves if j["status"] != "running"],
                         ["completed", "cancelled"])

    def test_supervisor_killed_during_a_save(self):
        """The supervisor dies (kill -9) as soon as a save has started: the save fails for its
        command; the supervisor that adopts the domain cancels what QEMU still writes, removes
        the temporary file and lets the guest run on."""
        events = self.filled_and_followed("sk")
        out = os.path.join(self.tmp, "saves")
        os.makedirs(out)
        save = subprocess.Popen([KXL, "save", "sk", os.path.join(out, "sk.save")],
                                env=self.env, stderr=subprocess.PIPE, text=True)
        for line in events.stdout:
            if json.loads(line)["event"] == "job":
                break
        with open(os.path.join(self.root, "run/kxl/sk/status")) as f:
            sv_pid = int(re.search(r"^sv_pid\s+(\d+)", f.read(), re.M).group(1))
        os.kill(sv_pid, signal.SIGKILL)
        _, err = save.communicate(timeout=60)
        self.assertEqual(save.returncode, 1, err)
        self.kxl("qemu-monitor-command", "sk", "info status", check=True)   # adopts
        self.assertEqual(os.listdir(out), [], "no file, no temporary file")
        self.assertFalse(os.path.exists(os.path.join(self.root, "run/kxl/sk/save.tmp")))
        self.assertEqual(self.list_json()["sk"]["state"], "running")
        last = self.heartbeats("sk")[-1]
        self.wait_console("sk", rf"KXL-HB {last + 1}\b", timeout=20)
        with open(os.path.join(self.root, "var/log/kxl/sk.log")) as f:
            self.assertIn("that the previous supervisor ran is abandoned", f.read())

    def config_of(self, name):
        out = json.loads(self.kxl("list", "--json", "-l", name, check=True).stdout)
        return out[0]["config"]

    def test_config_files_given_to_save_and_restore(self):
        """save's CFG is what the file records; restore's CFG replaces what it recorded."""
        self.booted("sx")
        self.assertEqual(self.config_of("sx")["on_crash"], "destroy")
        alt = {}
        for action in ("preserve", "restart"):
            os.replace(self.write_cfg("sx", extra_lines=f'on_crash = "{action}"'),
                       os.path.join(self.tmp, f"{action}.cfg"))
            alt[action] = os.path.join(self.tmp, f"{action}.cfg")
        path = os.path.join(self.tmp, "sx.save")
        self.save("sx", path, alt["preserve"])
        last = self.heartbeats("sx")[-1]
        self.assertEqual(self.kxl("restore", path).returncode, 0)
        self.assertEqual(self.config_of("sx")["on_crash"], "preserve")
        self.assert_continues("sx", last)
        self.kxl("destroy", "sx", check=True)
        self.assertEqual(self.kxl("restore", alt["restart"], path).returncode, 0)
        self.assertEqual(self.config_of("sx")["on_crash"], "restart")
        self.wait_console("sx", r"KXL-HB", timeout=20)

    def test_failed_save_leaves_the_domain_running_and_no_file(self):
        """The target's file system fills up halfway through the stream: the save fails with
        QEMU's reason, the guest runs on, and neither the file nor a temporary one is left."""
        self.booted("sf")
        full = os.path.join(self.tmp, "full")
        os.makedirs(full)
        mount_tmpfs(full, "size=8m")
        self.addCleanup(umount, full)
        r = self.kxl("save", "sf", os.path.join(full, "sf.save"), timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"QEMU could not save 'sf' to '.*sf\.save': ")
        self.assertEqual(os.listdir(full), [], "no file, no temporary file")
        self.assertEqual(self.list_json()["sf"]["state"], "running")
        last = self.heartbeats("sf")[-1]
        self.wait_console("sf", rf"KXL-HB {last + 2}\b", timeout=20)

        # and a directory that does not exist fails before anything is stopped
        r = self.kxl("save", "sf", os.path.join(self.tmp, "nosuchdir", "sf.save"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot write the save file", r.stderr)
        self.assertEqual(self.list_json()["sf"]["state"], "running")


    def test_save_of_a_stopped_qemu_fails_at_once(self):
        """QEMU SIGSTOPped (it answers nothing): kxl save fails at once (not after QMP's
        timeouts), saying that QEMU is stopped and how to let it go on; no file nor temporary
        file is left; continued, the guest runs on, and a save then works."""
        self.booted("sq")
        out = os.path.join(self.tmp, "saves")
        os.makedirs(out)
        with self.qemu_stopped("sq") as pid:
            t0 = time.monotonic()
            r = self.kxl("save", "sq", os.path.join(out, "sq.save"), timeout=60)
            took = time.monotonic() - t0
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, rf"kxl: cannot save 'sq': its QEMU \(pid {pid}\) is "
                                   rf"stopped .*nothing was done: .*kill -CONT {pid}")
        self.assertLess(took, 3.0, f"the failure took {took:.1f} s")
        print(f"\nsave of a stopped QEMU failed in {took:.2f} s")
        self.assertEqual(os.listdir(out), [], "no file, no temporary file")
        self.assertEqual(self.list_json()["sq"]["state"], "running")
        last = self.heartbeats("sq")[-1]
        self.wait_console("sq", rf"KXL-HB {last + 2}\b", timeout=20)
        self.save("sq", os.path.join(out, "sq.save"))
        self.only_file(out, "sq.save")


def rewrite_header(data, **changes):
    """data with its header's JSON changed and its checksum made right again (the layout is
    in src/migrate/mig_header.h)."""
    json_len = int.from_bytes(data[12:16], "little")
    meta = json.loads(data[24:24 + json_len])
    meta.update(changes)
    text = json.dumps(meta).encode()
    head = data[:12] + len(text).to_bytes(4, "little") + data[16:24] + text
    return head + zlib.crc32(head).to_bytes(4, "little") + data[24 + json_len + 4:]


# The full file system is a small tmpfs, mounted through libc rather than mount(8), so the
# tests run no host program for it.
_libc = ctypes.CDLL(None, use_errno=True)


def mount_tmpfs(target, options):
    if _libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, options.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount tmpfs on {target}: {os.strerror(err)}")


def umount(target):
    _libc.umount2(target.encode(), 2)   # MNT_DETACH


if __name__ == "__main__":
    unittest.main()
