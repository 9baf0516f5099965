"""End-to-end tests of kxl migrate between two hosts simulated on this machine: two KXL_ROOTs,
the receiver run through `-s ""` (HOST is then the whole command: `env KXL_ROOT=B kxl
migrate-receive`, as xl allows any transport). The guest's heartbeat goes on counting on the
receiver's console without a reboot, a file it wrote on its disk before is there after, and
the sender has nothing left. Faults: the receiver killed mid-stream, a receiver whose
preflight fails (a missing bridge, a missing disk), garbage and cut streams fed to
migrate-receive: the sender's domain runs on as it was and the receiver's root is empty."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from hostb import HostB
from kxltest import KXL, KxlTestCase
from test_graphics import assert_vnc_password

HB = re.compile(r"KXL-HB (\d+)")
FIGURES = re.compile(r"migration: ([\d.]+) MiB sent in ([\d.]+) s over (\d+) passes, "
                     r"downtime (\d+) ms")


def file_sum(path):
    """The SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class MigrateTest(HostB, KxlTestCase):

    def setUp(self):
        super().setUp()
        self.setup_host_b()

    def tearDown(self):
        with self.host_b():
            for name in self.domain_names():
                self.kxl("destroy", name)
        super().tearDown()

    def receiver(self, *flags):
        return f"env KXL_ROOT={self.root_b} {KXL} migrate-receive {' '.join(flags)}"

    def migrate(self, *args, timeout=180):
        return subprocess.run([KXL, "migrate", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def data_disk(self):
        img = os.path.join(self.tmp, "data.img")
        subprocess.run(["truncate", "-s", "32M", img], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
        return f"disk = [ 'file:{img},xvda,w' ]"

    def booted(self, name, **cfg_args):
        cfg = self.create(name, **cfg_args)
        self.wait_ready(name)
        self.wait_console(name, r"KXL-HB 2\b", timeout=30)
        return cfg

    def last_beat(self, name):
        beats = [int(n) for n in HB.findall(self.console_log(name))]
        return beats[-1] if beats else 0

    def assert_runs_on(self, name, timeout=20):
        """The guest's heartbeat still advances here."""
        last = self.last_beat(name)
        self.wait_console(name, rf"KXL-HB {last + 2}\b", timeout=timeout)
        self.assertEqual(self.list_json()[name]["state_letters"][2], "-", "not paused")

    def assert_goes_on_at_b(self, name, last):
        """The heartbeat A's console showed last (last, counted while memory moved) goes on
        from the next number on B's console, with no boot in between."""
        with self.host_b():
            self.assert_listed(name)
            self.wait_console(name, r"KXL-HB \d+", timeout=20)
            first = int(HB.search(self.console_log(name)).group(1))
            self.assertIn(first, (last + 1, last + 2), f"A counted to {last}, B from {first}")
            self.assert_runs_on(name)
            self.assertNotIn("KXL-READY", self.console_log(name), "no reboot on B")

    def assert_listed(self, name, timeout=10):
        """name is in `kxl list` (of the host in effect). Once migrate returned it should be at
        once; a list that fails or lacks it is retried for timeout s, each miss printed with
        list's own stderr, so that a late or failing list is on record without failing a run
        whose domain did arrive."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.kxl("list", "--json")
            names = [d["name"] for d in json.loads(r.stdout)] if r.returncode == 0 else []
            if name in names:
                return
            print(f"\nkxl list without {name} (exit {r.returncode}): {r.stderr.strip()}",
                  file=sys.stderr)
            self.assertLess(time.monotonic(), deadline, f"{name} never listed: {r.stderr}")
            time.sleep(0.5)

    def assert_root_b_empty(self, timeout=20):
        """Nothing of any domain on B: no domain, no runtime directory, no QEMU."""
        run = os.path.join(self.root_b, "run/kxl")
        deadline = time.monotonic() + timeout
        left = None
        while time.monotonic() < deadline:
            dirs = [d for d in os.listdir(run) if not d.startswith(".")] if os.path.isdir(run) \
                else []
            qemus = self.qemus_of_root(self.root_b)
            left = (dirs, qemus)
            if not dirs and not qemus:
                break
            time.sleep(0.2)
        self.assertEqual(left, ([], []), "B keeps runtime directories or QEMUs")
        with self.host_b():
            self.assertEqual(self.domain_names(), [])

    @staticmethod
    def qemus_of_root(root):
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"qemu-system-x86_64") and root.encode() + b"/" in b" ".join(argv):
                pids.append(int(pid))
        return pids

    def test_live_migration_guest_goes_on_there(self):
        """The guest runs during the passes and goes on counting on B from where it was, with
        its disk's file; A keeps no domain, process or runtime directory."""
        self.booted("mg", extra_lines=self.data_disk())
        self.guest_sh("mg", "echo before-the-move > /mnt/data/mark.txt; sync; echo w-$((6*7))",
                      r"w-42")
        t0 = time.monotonic()
        r = self.migrate("-s", "", "mg", self.receiver())
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        figures = FIGURES.search(r.stderr)
        self.assertIsNotNone(figures, r.stderr)
        print(f"\nmigrate: {took:.2f} s wall, {figures.group(0)}")
        self.assert_gone("mg")
        run_a = os.path.join(self.root, "run/kxl")
        self.assertEqual([d for d in os.listdir(run_a) if not d.startswith(".")], [])
        self.assert_goes_on_at_b("mg", self.last_beat("mg"))
        with self.host_b():
            self.guest_sh("mg", "cat /mnt/data/mark.txt", r"before-the-move")
            # B's QEMU holds the shared image for writing now (A's released it)
            self.guest_sh("mg", "echo after > /mnt/data/b.txt && sync && echo ok-$((6*7))",
                          r"ok-42")

    def test_memory_written_during_the_passes_arrives(self):
        """A loop in the guest writes a counter to its shell's memory and to a tmpfs file, and
        checks each turn that the two agree, all through the passes: on B it goes on with no
        write lost. (QEMU 7.2 under TCG lost such writes when the RAM's size was a multiple
        of 64 pages: see QEMU_TCG_RAM_PAD_KIB.)"""
        # no heartbeat: the loop is the guest's only process, so no address-space switch
        # flushes the vCPU's TLB while memory moves (TCG flushes it on every CR3 write)
        self.create("mw", cmdline="kxl.hb=0")
        self.wait_ready("mw")
        # the markers are spelt through variables so that the console's echo of the command
        # does not contain them
        self.guest_sh("mw", "L=LOST E=END T=TURNS; (n=0; echo 0 >/dev/shm/c; "
                            "while [ ! -e /dev/shm/stop ]; do read m </dev/shm/c; "
                            "if [ \"$m\" != \"$n\" ]; then echo \"KXL-$L file=$m memory=$n\"; "
                            "break; fi; n=$((n+1)); echo $n >/dev/shm/c; "
                            "[ $((n % 2048)) = 0 ] && echo \"KXL-$T $n\"; done; "
                            "echo \"KXL-WRITER-$E $n\") & echo started-$((6*7))", r"started-42")
        time.sleep(2)   # the loop runs a while before the passes begin
        r = self.migrate("-s", "", "mw", self.receiver())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("KXL-LOST", self.console_log("mw"))
        with self.host_b():
            time.sleep(2)   # the loop runs on at B
            end = self.guest_sh("mw", "touch /dev/shm/stop", r"KXL-WRITER-END (\d+)\r?\n")
            log = self.console_log("mw")
        self.assertNotIn("KXL-LOST", log, "a write the guest made on A is not in B's memory")
        turns = [int(n) for n in re.findall(r"KXL-TURNS (\d+)", self.console_log("mw") + log)]
        self.assertTrue(turns, "the loop never reported")
        self.assertGreater(int(end.group(1)), max(turns), "the count went back")
        print(f"\nwriter loop: {int(end.group(1))} turns, none lost")

    def test_paused_on_receiver_with_p(self):
        """-p: B has it paused (the heartbeat stands still) until unpaused there."""
        self.booted("mp")
        r = self.migrate("-p", "-s", "", "mp", self.receiver())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_gone("mp")
        with self.host_b():
            self.assertEqual(self.list_json()["mp"]["state_letters"][2], "p")
            time.sleep(2)
            self.assertEqual(HB.findall(self.console_log("mp")), [], "it ran while paused")
            self.kxl("unpause", "mp", check=True)
            self.wait_console("mp", r"KXL-HB \d+", timeout=20)
            self.assertNotIn("KXL-READY", self.console_log("mp"))

    def fill_memory(self, name, mib):
        """The guest fills mib MiB of its memory with random bytes (a tmpfs file): pages the
        migration must send, so the stream lasts."""
        self.guest_sh(name, f"dd if=/dev/urandom of=/tmp/fill bs=1M count={mib} 2>/dev/null; "
                            f"echo f-$((6*7))", r"f-42", timeout=120)

    def receive_pids(self):
        """`kxl migrate-receive` processes of root B."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0] == KXL.encode() and b"migrate-receive" in argv and \
                    f"KXL_ROOT={self.root_b}".encode() in env:
                pids.append(int(pid))
        return pids

    def receiving_supervisor_pids(self):
        """kxl-supervisor processes of root B."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"kxl-supervisor") and self.root_b.encode() in argv:
                pids.append(int(pid))
        return pids

    def kill_mid_stream(self, name, victims,
                        expect=r"kxl: .*(hung up|cannot|went away|ended before)"):
        """Migrates name slowly and kill -9s the processes victims() names on B (or, with
        victims None, cancels the job at A) while memory moves: the sender says so, the guest
        runs on at A as it was, B is left with nothing."""
        self.booted(name, memory=256)
        self.fill_memory(name, 96)
        proc = subprocess.Popen([KXL, "migrate", "--bandwidth", "8", "-s", "", name,
                                 self.receiver()], env=self.env, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while not os.path.isdir(os.path.join(self.root_b, "run/kxl", name)):
            self.assertLess(time.monotonic(), deadline, "B never started receiving")
            time.sleep(0.1)
        time.sleep(2)
        self.assertIsNone(proc.poll(), "the migration ended before the kill")
        if victims is None:
            self.kxl("job-cancel", name, check=True)
        else:
            pids = victims()
            self.assertNotEqual(pids, [])
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
        err = proc.communicate(timeout=120)[1]
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(err, expect)
        self.assert_root_b_empty()
        self.assert_runs_on(name)

    def test_receiver_killed_mid_stream(self):
        """kill -9 of migrate-receive: B's supervisor sees its lifeline go and ends."""
        self.kill_mid_stream("mk", self.receive_pids)

    def test_receiving_supervisor_killed_mid_stream(self):
        """kill -9 of B's supervisor: migrate-receive has no verdict, so it removes what the
        supervisor left (its QEMU too)."""
        self.kill_mid_stream("ms", self.receiving_supervisor_pids)

    def test_cancelled_mid_stream(self):
        """kxl job-cancel at A while memory moves: the migration says it was cancelled, the
        guest runs on at A, B destroys what it had started."""
        self.kill_mid_stream("mc", None, expect=r"kxl: .*was cancelled")

    def preflight_cfg(self):
        """A config for -C that B cannot run: a bridge and a disk B does not have."""
        return self.write_cfg("pf-other", extra_lines=(
            "vif = [ 'bridge=kxlnobr9' ]\n"
            f"disk = [ 'file:{self.tmp}/no-such-disk.img,xvda,w' ]"))

    def test_preflight_refusal_lists_what_is_missing(self):
        """B lacks a bridge and a disk: the refusal names both, nothing moved, the guest runs
        on at A, B has nothing."""
        self.booted("pf")
        other = self.preflight_cfg()
        with open(other) as f:
            text = f.read().replace('name = "pf-other"', 'name = "pf"')
        with open(other, "w") as f:
            f.write(text)
        r = self.migrate("-C", other, "-s", "", "pf", self.receiver())
        self.assertNotEqual(r.returncode, 0)
        # the receiver's own stderr comes through the transport too, as with xl
        refusal = [line for line in r.stderr.splitlines() if "nothing was moved" in line]
        self.assertEqual(len(refusal), 1, r.stderr)
        self.assertIn("bridge 'kxlnobr9' does not exist here", refusal[0])
        self.assertIn(f"'{self.tmp}/no-such-disk.img' does not exist here", refusal[0])
        self.assert_root_b_empty(timeout=5)
        self.assert_runs_on("pf")

    def test_migrate_of_a_stopped_qemu_fails_at_once(self):
        """QEMU SIGSTOPped (it answers nothing): kxl migrate fails at once (not after QMP's
        timeouts), saying that QEMU is stopped and how to let it go on, before any receiver is
        started; continued, the guest runs on at A and B has nothing."""
        self.booted("mq")
        started = os.path.join(self.tmp, "receiver-started")
        with self.qemu_stopped("mq") as pid:
            t0 = time.monotonic()
            r = self.migrate("-s", "", "mq", f"touch {started}; {self.receiver()}", timeout=60)
            took = time.monotonic() - t0
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, rf"cannot migrate 'mq': its QEMU \(pid {pid}\) is "
                                   rf"stopped .*nothing was done: .*kill -CONT {pid}")
        self.assertLess(took, 3.0, f"the failure took {took:.1f} s")
        print(f"\nmigrate of a stopped QEMU failed in {took:.2f} s")
        self.assertFalse(os.path.exists(started), "no receiver was started")
        self.assert_root_b_empty(timeout=5)
        self.assert_runs_on("mq")

    def copy_storage_domain(self, name, raw_mib=16):
        """A domain whose disks are in A's own directory: an ext4 disk (mounted on /mnt/data)
        and a raw one the guest fills with random bytes; B's config names its own directory,
        which has no such files (the disks are not shared). The config for -C, and the two
        directories."""
        dir_a, dir_b = (os.path.join(self.tmp, d) for d in ("disks-a", "disks-b"))
        os.makedirs(dir_a)
        os.makedirs(dir_b)
        fs = os.path.join(dir_a, "fs.img")
        subprocess.run(["truncate", "-s", "32M", fs], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", fs], check=True)
        subprocess.run(["truncate", "-s", f"{raw_mib}M", os.path.join(dir_a, "raw.img")],
                       check=True)
        disks = "disk = [ 'file:{0}/fs.img,xvda,w', 'file:{0}/raw.img,xvdb,w' ]"
        self.booted(name, extra_lines=disks.format(dir_a))
        self.guest_sh(name, f"dd if=/dev/urandom of=/dev/vdb bs=1M count={raw_mib} "
                            "2>/dev/null; echo copied-disk > /mnt/data/mark.txt; sync; "
                            "echo w-$((6*7))", r"w-42", timeout=60)
        cfg_b = self.write_cfg(name, extra_lines=disks.format(dir_b))
        return cfg_b, dir_a, dir_b

    def guest_sum(self, name):
        """The checksum of the raw disk, computed by the guest."""
        m = self.guest_sh(name, "md5sum /dev/vdb | sed 's/^/SUM=/'", r"SUM=([0-9a-f]{32})")
        return m.group(1)

    def test_copy_storage_between_unshared_directories(self):
        """--copy-storage: B makes the disks it lacks empty, QEMU mirrors them into B's NBD
        server through the transport before the memory moves, and the guest goes on there
        with the same data: its checksum of the raw disk inside the guest is the same, the
        file it wrote is there. Without the option the preflight refuses and names it."""
        cfg_b, dir_a, dir_b = self.copy_storage_domain("cs")
        before = self.guest_sum("cs")
        r = self.migrate("-C", cfg_b, "-s", "", "cs", self.receiver())
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"disk xvda: .* does not exist here .*--copy-storage")
        self.assertEqual(os.listdir(dir_b), [])
        self.assert_runs_on("cs")
        r = self.migrate("--copy-storage", "-C", cfg_b, "-s", "", "cs", self.receiver())
        self.assertEqual(r.returncode, 0, r.stderr)
        print(f"\nmigrate --copy-storage: {FIGURES.search(r.stderr).group(0)}")
        self.assert_gone("cs")
        self.assertEqual(sorted(os.listdir(dir_b)), ["fs.img", "raw.img"])
        self.assert_goes_on_at_b("cs", self.last_beat("cs"))
        with self.host_b():
            self.assertEqual(self.guest_sum("cs"), before, "the raw disk differs on B")
            self.guest_sh("cs", "cat /mnt/data/mark.txt", r"copied-disk\r?\n")
        with open(os.path.join(dir_a, "raw.img"), "rb") as a, \
                open(os.path.join(dir_b, "raw.img"), "rb") as b:
            self.assertTrue(a.read() == b.read(), "the raw images differ")

    def copy_storage_fault(self, name, fault, expect, on_b=()):
        """Migrates name with --copy-storage, slowly (--bandwidth 1), and calls fault() while
        the disks are mirrored: the sender fails as expect says, B has no domain and none of
        the disk files made for the copy, the files of on_b (there before, so not copied)
        are there as they were, and the guest runs on at A with its disks as they were (the
        guest's checksum of the raw disk, its file on the ext4 one). B's event log, or None."""
        cfg_b, dir_a, dir_b = self.copy_storage_domain(name, raw_mib=48)
        kept = {}
        for f in on_b:
            shutil.copyfile(os.path.join(dir_a, f), os.path.join(dir_b, f))
            kept[f] = file_sum(os.path.join(dir_b, f))
        before = self.guest_sum(name)
        sizes_a = {f: os.path.getsize(os.path.join(dir_a, f)) for f in os.listdir(dir_a)}
        proc = subprocess.Popen([KXL, "migrate", "--copy-storage", "--bandwidth", "1", "-C",
                                 cfg_b, "-s", "", name, self.receiver()], env=self.env,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(self.root_b, f"run/kxl/{name}/nbd.sock")):
            self.assertLess(time.monotonic(), deadline, "B never exported the disks")
            self.assertIsNone(proc.poll(), "the migration ended before the fault")
            time.sleep(0.1)
        time.sleep(2)
        self.assertIsNone(proc.poll(), "the migration ended before the fault")
        self.assertEqual(sorted(os.listdir(dir_b)), ["fs.img", "raw.img"])
        fault()
        err = proc.communicate(timeout=120)[1]
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(err, expect)
        self.assert_root_b_empty()
        self.assertEqual(sorted(os.listdir(dir_b)), sorted(on_b), "B keeps the copy's files")
        for f, digest in kept.items():
            self.assertEqual(file_sum(os.path.join(dir_b, f)), digest, f"B's {f} changed")
        self.assert_runs_on(name)
        self.assertEqual({f: os.path.getsize(os.path.join(dir_a, f)) for f in os.listdir(dir_a)},
                         sizes_a, "A's disk files changed")
        self.assertEqual(self.guest_sum(name), before, "A's raw disk differs")
        self.guest_sh(name, "cat /mnt/data/mark.txt", r"copied-disk\r?\n")
        log = os.path.join(self.root_b, f"var/log/kxl/{name}.log")
        if not os.path.exists(log):
            return None
        with open(log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def test_copy_storage_cancelled_leaves_nothing(self):
        """kxl job-cancel while the disks are mirrored: nothing is left on B."""
        self.copy_storage_fault("cc", lambda: self.kxl("job-cancel", "cc", check=True),
                                r"kxl: .*was cancelled")

    def kill_all(self, pids):
        self.assertNotEqual(pids, [])
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    def test_copy_storage_receiver_killed_leaves_nothing(self):
        """kill -9 of migrate-receive, which made B's disk files, while they are mirrored: B's
        supervisor, its lifeline gone before the go, destroys the domain and removes them."""
        log = self.copy_storage_fault("ck", lambda: self.kill_all(self.receive_pids()),
                                      r"kxl: .*(hung up|cannot|went away|ended before)")
        # before the memory moves B's supervisor is still starting (it waits for the
        # stream): either way it tells that the receiver went away
        self.assertRegex(log or "", r"(receiving command|receiver) went away")
        for f in ("fs.img", "raw.img"):
            self.assertRegex(log or "", rf"'[^']*/disks-b/{f}' removed: it was made for a "
                             "disk's copy")

    def test_copy_storage_receiver_killed_keeps_what_was_there(self):
        """As above, with B's ext4 disk there before (as on shared storage: not copied, not
        made): B's supervisor removes only the raw disk's file, made for the copy; the ext4
        disk's file stays on B as it was."""
        log = self.copy_storage_fault("cp", lambda: self.kill_all(self.receive_pids()),
                                      r"kxl: .*(hung up|cannot|went away|ended before)",
                                      on_b=("fs.img",))
        self.assertRegex(log or "", r"/disks-b/raw\.img' removed")
        self.assertNotRegex(log or "", r"/disks-b/fs\.img' removed")

    def test_copy_storage_receiving_supervisor_killed_leaves_nothing(self):
        """kill -9 of B's supervisor while the disks are mirrored: migrate-receive removes the
        files it made."""
        self.copy_storage_fault("cv", lambda: self.kill_all(self.receiving_supervisor_pids()),
                                r"kxl: .*(hung up|cannot|went away|ended before)")

    def qcow2_domain(self, name):
        """A domain whose one disk is a qcow2 image in A's own directory, which the guest
        fills with 8 MiB of random bytes; B's config names its own, empty, directory. (B's
        config, B's directory, the guest's checksum of the disk.)"""
        dir_a, dir_b = (os.path.join(self.tmp, d) for d in ("disks-a", "disks-b"))
        os.makedirs(dir_a)
        os.makedirs(dir_b)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                        os.path.join(dir_a, "q.qcow2"), "16M"], check=True)
        disk = "disk = [ 'format=qcow2,vdev=xvda,access=rw,target={0}/q.qcow2' ]"
        self.booted(name, extra_lines=disk.format(dir_a))
        m = self.guest_sh(name, "dd if=/dev/urandom of=/dev/vda bs=1M count=8 2>/dev/null; "
                                "sync; md5sum /dev/vda | sed 's/^/SUM=/'",
                          r"SUM=([0-9a-f]{32})", timeout=60)
        return self.write_cfg(name, extra_lines=disk.format(dir_b)), dir_b, m.group(1)

    def kill_receiver_once_made(self, name, proc, dir_b, receivers):
        """Stops B's receiver (the one pid receivers() names) with SIGSTOP as soon as a file
        of the disk's copy is in dir_b, before it started the domain's supervisor (checked),
        then kills it. The files it left."""
        pid, deadline = None, time.monotonic() + 60
        while not os.listdir(dir_b):
            self.assertLess(time.monotonic(), deadline, "B never made the disk's image")
            self.assertIsNone(proc.poll(), "the migration ended before B made the image")
            if pid is None:
                pid = (receivers() or [None])[0]
            time.sleep(0.001)
        pid = pid or receivers()[0]
        os.kill(pid, signal.SIGSTOP)
        self.assertFalse(os.path.exists(os.path.join(self.root_b, "run/kxl", name)),
                         "the receiver was stopped after it started the supervisor")
        left = os.listdir(dir_b)
        os.kill(pid, signal.SIGKILL)
        err = proc.communicate(timeout=120)[1]
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(err, r"kxl: .*(hung up|cannot|went away|ended before|failed)")
        self.assert_root_b_empty()
        self.assert_runs_on(name)
        return left

    def test_copy_storage_receiver_killed_before_its_supervisor(self):
        """kill -9 of migrate-receive in the window between making B's disk image and starting
        the domain's supervisor (stopped there with SIGSTOP while qemu-img makes the qcow2
        image, then killed): the sender fails, the guest runs on at A; what was made is on
        record, so the next receive removes it first (a notice says so) and copies the disk
        afresh: the guest's data arrives on B, and B keeps no other file nor record."""
        name = "cw"
        cfg_b, dir_b, before = self.qcow2_domain(name)
        argv = [KXL, "migrate", "--copy-storage", "-C", cfg_b, "-s", "", name,
                self.receiver()]
        proc = subprocess.Popen(argv, env=self.env, stderr=subprocess.PIPE, text=True)
        left = self.kill_receiver_once_made(name, proc, dir_b, self.receive_pids)
        r = self.migrate(*argv[2:])
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in left:
            self.assertIn(f"'{dir_b}/{f}' removed: it was made for a disk's copy by a "
                          "migration that did not complete", r.stderr)
        self.assert_gone(name)
        self.assert_goes_on_at_b(name, self.last_beat(name))
        with self.host_b():
            m = self.guest_sh(name, "md5sum /dev/vda | sed 's/^/SUM=/'", r"SUM=([0-9a-f]{32})")
            self.assertEqual(m.group(1), before, "the disk differs on B")
        self.assertEqual(os.listdir(dir_b), ["q.qcow2"])
        self.assertEqual(os.listdir(os.path.join(self.root_b, "var/lib/kxl/incoming")), [],
                         "B keeps a record of made files")

    @staticmethod
    def port_free(port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) != 0

    def migrate_vnc_domain(self, name, *transport):
        """Boots name with vnc = 1 on 127.0.0.1 and a vncpasswd, migrates it to B through
        transport (migrate's -s and HOST), checks that its heartbeat goes on there; B's
        display as kxl vncviewer --json tells it."""
        display = next(d for d in range(60, 90) if self.port_free(5900 + d))
        self.booted(name, extra_lines=f'vnc = 1\nvnclisten = "127.0.0.1"\n'
                                      f'vncdisplay = {display}\nvncpasswd = "kxl-pw8"')
        r = self.migrate(*transport[:2], name, *transport[2:])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_gone(name)
        self.assert_goes_on_at_b(name, self.last_beat(name))
        with self.host_b():
            vnc = json.loads(self.kxl("vncviewer", "--json", name, check=True).stdout)["vnc"]
        self.assertEqual((vnc["family"], vnc["host"], vnc["password"]),
                         ("ipv4", "127.0.0.1", True), vnc)
        return vnc

    def test_vnc_with_password_migrates(self):
        """A domain with vnc = 1 on the network and a vncpasswd: on B its VNC server is there
        (where kxl vncviewer says), asks the password, refuses a wrong one and lets the right
        one in; the guest's heartbeat goes on there."""
        vnc = self.migrate_vnc_domain("vn", "-s", "", self.receiver())
        assert_vnc_password(self, vnc["port"], "kxl-pw8", "vn", "on B")

    def test_postcopy_migration(self):
        """--postcopy with a guest that keeps dirtying its memory and a downtime of 1 ms (so
        precopy can never end by itself): QEMU switches to postcopy after the first pass, the
        guest runs on B while the rest comes, and goes on counting there with its file; 32 MiB
        of random bytes it held in memory before the move have the same checksum after it, and
        its kernel logged no oops; A keeps nothing. Under TCG too (this machine): it was
        refused there while QEMU 7.2's lost writes (qemu_argv.h's RAM pad) crashed guests."""
        self.booted("pc", extra_lines=self.data_disk())
        before = self.guest_sh("pc", "dd if=/dev/urandom of=/tmp/held bs=1M count=32 "
                                     "2>/dev/null; md5sum /tmp/held | sed 's/^/SUM=/'",
                               r"SUM=([0-9a-f]{32})", timeout=60).group(1)
        self.guest_sh("pc", "echo before-the-move > /mnt/data/mark.txt; sync; "
                            "(while :; do dd if=/dev/urandom of=/tmp/dirty bs=1M count=24 "
                            "2>/dev/null; done) & echo w-$((6*7))", r"w-42")
        args = ["--postcopy", "--downtime", "1", "-s", "", "pc", self.receiver()]
        # the receiving QEMU runs unprivileged: it has userfaultfd only when the kernel
        # allows it; where it does not, the preflight says so before anything moves, and the
        # test allows it for the migration's time (a host setting, put back after)
        sysctl = "/proc/sys/vm/unprivileged_userfaultfd"
        with open(sysctl) as f:
            uffd = f.read().strip()
        if uffd != "1":
            r = self.migrate(*args)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("vm.unprivileged_userfaultfd is 0", r.stderr)
            self.assert_root_b_empty(timeout=5)
            self.assert_runs_on("pc")
            with open(sysctl, "w") as f:
                f.write("1")
        try:
            r = self.migrate(*args)
        finally:
            with open(sysctl, "w") as f:
                f.write(uffd)
        self.assertEqual(r.returncode, 0, r.stderr)
        # QEMU measures no downtime for postcopy: the line says how long postcopy lasted
        self.assertNotRegex(r.stderr, r"downtime \d+ ms")
        m = re.search(r"migration: [\d.]+ MiB sent in [\d.]+ s over \d+ passes, postcopy for "
                      r"(\d+) ms \(the guest ran on the receiver", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        self.assertGreater(int(m.group(1)), 0)
        print(f"\nmigrate --postcopy: {m.group(0)}")
        self.assert_gone("pc")
        with open(os.path.join(self.root, "var/log/kxl/pc.log")) as f:
            events = f.read()
        self.assertIn("postcopy begins", events)
        self.assertIn('"status":"postcopy-active"', events)
        self.assertIn("QEMU sent the rest of the guest's memory", events)
        self.assert_goes_on_at_b("pc", self.last_beat("pc"))
        with self.host_b():
            self.guest_sh("pc", "cat /mnt/data/mark.txt", r"before-the-move\r?\n")
            after = self.guest_sh("pc", "md5sum /tmp/held | sed 's/^/SUM=/'",
                                  r"SUM=([0-9a-f]{32})", timeout=60).group(1)
            self.assertEqual(after, before, "the guest's memory changed in the move")
            oops = self.guest_sh("pc", "dmesg | grep -c -E 'Oops|BUG:|general protection' "
                                       "| sed 's/^/OOPS=/'", r"OOPS=(\d+)").group(1)
            self.assertEqual(int(oops), 0, "the guest's kernel logged an oops")

    def receive(self, data):
        """migrate-receive on B fed data as its stream; (exit status, stderr)."""
        r = subprocess.run([KXL, "migrate-receive"], env=self.env_b, input=data,
                           capture_output=True, timeout=120)
        return r.returncode, r.stderr.decode(errors="replace")

    def test_garbage_and_truncated_streams_leave_nothing(self):
        """A foreign stream, a header cut short, and a real header followed by a cut QEMU
        stream: each refused with what is wrong, nothing left on B. The real header comes from
        kxl save of a booted guest (the same header a migration sends)."""
        self.booted("gs")
        save = os.path.join(self.tmp, "gs.save")
        self.kxl("save", "gs", save, check=True, timeout=120)
        with open(save, "rb") as f:
            saved = f.read()
        hlen = 24 + int.from_bytes(saved[12:16], "little") + 4
        cases = {
            "garbage": (os.urandom(4096), r"not a kxl save file or migration stream"),
            "cut header": (saved[:hlen // 2], r"truncated"),
            "cut stream": (saved[:hlen + 200000], r"QEMU could not load"),
        }
        for what, (data, pattern) in cases.items():
            with self.subTest(what):
                rc, err = self.receive(data)
                self.assertEqual(rc, 1, err)
                self.assertRegex(err, "kxl: .*" + pattern)
                self.assert_root_b_empty(timeout=10)


class MigrateOverSshTest(MigrateTest):
    """xl's own transport: `ssh HOST kxl migrate-receive`, to an sshd that the test starts
    in a network namespace of its own (host B's), with host and client keys it makes. The
    key is restricted to the receiver (a forced command that sets B's root)."""

    def setUp(self):
        super().setUp()
        self.ns = f"kxlmig{os.getpid() % 100000}"
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"],
                       check=True)
        self.sshd = None
        self.key = os.path.join(self.tmp, "id_ed25519")
        for key in (self.key, os.path.join(self.tmp, "host_ed25519")):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                           check=True)
        self.start_sshd()

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            if self.sshd:
                self.sshd.terminate()
                self.sshd.wait(10)
            subprocess.run(["ip", "netns", "del", self.ns])

    def start_sshd(self):
        with open(self.key + ".pub") as f:
            pub = f.read().strip()
        keep = " ".join(f"{k}={self.env_b[k]}" for k in ("KXL_ROOT", "PATH", "ASAN_OPTIONS",
                                                        "UBSAN_OPTIONS"))
        auth = os.path.join(self.tmp, "authorized_keys")
        with open(auth, "w") as f:
            f.write(f'command="env {keep} {KXL} migrate-receive",no-pty,'
                    f"no-port-forwarding,no-agent-forwarding,no-X11-forwarding {pub}\n")
        cfg = os.path.join(self.tmp, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"Port 2222\nListenAddress 127.0.0.1\n"
                    f"HostKey {self.tmp}/host_ed25519\nAuthorizedKeysFile {auth}\n"
                    f"PidFile {self.tmp}/sshd.pid\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    "UsePAM no\nStrictModes no\nLogLevel INFO\n")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # sshd's privilege separation
        self.sshd = subprocess.Popen(["ip", "netns", "exec", self.ns, "/usr/sbin/sshd", "-D",
                                      "-e", "-f", cfg], stderr=subprocess.PIPE, text=True)
        line = self.sshd.stderr.readline()
        self.assertIn("Server listening", line, "sshd did not start")

    def ssh_command(self):
        return (f"ip netns exec {self.ns} ssh -F /dev/null -i {self.key} -p 2222 "
                "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "-o LogLevel=ERROR")

    def test_live_migration_over_ssh(self):
        """The guest goes on counting on B, reached through ssh; A keeps nothing."""
        self.booted("mh")
        r = self.migrate("-s", self.ssh_command(), "mh", "root@127.0.0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        print(f"\nmigrate over ssh: {FIGURES.search(r.stderr).group(0)}")
        self.assert_gone("mh")
        self.assert_goes_on_at_b("mh", self.last_beat("mh"))


    def test_vnc_with_password_migrates_over_ssh(self):
        """As test_vnc_with_password_migrates, through ssh: B's QEMU runs in sshd's network
        namespace, where a VNC client (test_graphics' Rfb) finds the display asking the
        password, refusing a wrong one and letting the right one in."""
        vnc = self.migrate_vnc_domain("vs", "-s", self.ssh_command(), "root@127.0.0.1")
        client = ("import socket, sys; sys.path.insert(0, sys.argv[1]); "
                  "from test_graphics import Rfb\n"
                  "def rfb(pw):\n"
                  "    with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as s:\n"
                  "        r = Rfb(s); ok = r.login(pw)\n"
                  "        return r.security_types, ok, ok and r.server_init()[2]\n"
                  "print(rfb('wrong-pw'), rfb('kxl-pw8'))")
        r = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-c", client,
                            os.path.dirname(os.path.abspath(__file__)), str(vnc["port"])],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^\(\[2\], False, False\) \(\[2\], True, '[^']*vs[^']*'\)",
                         "on B: VNC auth only, the wrong password refused, the right one in")


# the ssh class inherits MigrateTest's tests; they run once, in MigrateTest
for _name in [n for n in vars(MigrateTest) if n.startswith("test_")]:
    setattr(MigrateOverSshTest, _name, None)
