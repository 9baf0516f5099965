"""Each domain's QEMU in a jail of its own (issue 17): a uid and gid of its own, a private
mount namespace, an empty root once set up. Checked from outside, on real QEMUs, by a probe
process that takes one QEMU's uid and gid (and nothing else: no capabilities) and tries to
reach the other's."""

import ctypes
import errno
import json
import os
import signal
import subprocess
import time

from kxltest import KXL, KxlTestCase


def ptrace_attach(pid):
    """PTRACE_ATTACH through libc; raises OSError with its errno when refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    if libc.ptrace(16, pid, None, None) != 0:          # 16: PTRACE_ATTACH
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    libc.ptrace(17, pid, None, None)                  # 17: PTRACE_DETACH


def proc_status(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    return status


class JailTest(KxlTestCase):

    def probe_as(self, uid, gid, attempts):
        """Runs attempts (a function returning {name: errno or 0}) in a child that became
        uid/gid as QEMU does (-runas: setgroups, setgid, setuid, so no capabilities)."""
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(rd)
                os.setgroups([gid])
                os.setgid(gid)
                os.setuid(uid)
                os.write(wr, json.dumps(attempts()).encode())
            finally:
                os._exit(0)
        os.close(wr)
        data = b""
        while chunk := os.read(rd, 4096):
            data += chunk
        os.close(rd)
        os.waitpid(pid, 0)
        return json.loads(data)

    def test_qemus_cannot_reach_each_other(self):
        self.create("ja")
        self.create("jb")
        pa, pb = self.qemu_pids("ja")[0], self.qemu_pids("jb")[0]
        sa, sb = proc_status(pa), proc_status(pb)
        self.assertNotEqual(sa["Uid"][0], sb["Uid"][0], "each QEMU has a uid of its own")
        self.assertNotEqual(sa["Gid"][0], sb["Gid"][0])
        for s in (sa, sb):
            self.assertGreaterEqual(int(s["Uid"][0]), 0x7E000000)
            self.assertEqual(int(s["CapEff"][0], 16), 0)
        disk_b = os.path.join(self.tmp, "jb-data.img")
        with open(disk_b, "wb") as f:
            f.truncate(1 << 20)
        os.chmod(disk_b, 0o600)

        def attempts():
            out = {}
            def attempt(name, fn):
                try:
                    fn()
                    out[name] = 0
                except OSError as e:
                    out[name] = e.errno
            attempt("signal", lambda: os.kill(pb, 0))
            attempt("ptrace", lambda: ptrace_attach(pb))
            attempt("read_mem", lambda: open(f"/proc/{pb}/mem", "rb").read(1))
            attempt("read_environ", lambda: open(f"/proc/{pb}/environ", "rb").read(1))
            attempt("read_disk", lambda: open(disk_b, "rb").read(1))
            attempt("runtime", lambda: os.listdir(os.path.join(self.root, "run/kxl/jb")))
            return out

        got = self.probe_as(int(sa["Uid"][0]), int(sa["Gid"][0]), attempts)
        self.assertEqual(got["signal"], errno.EPERM, got)
        self.assertEqual(got["ptrace"], errno.EPERM, got)
        for k in ("read_mem", "read_environ", "read_disk", "runtime"):
            self.assertEqual(got[k], errno.EACCES, f"{k}: {got}")

    def test_private_mount_namespace_and_empty_root(self):
        self.create("jm")
        self.wait_ready("jm")
        pid = self.qemu_pids("jm")[0]
        self.assertNotEqual(os.readlink(f"/proc/{pid}/ns/mnt"), os.readlink("/proc/self/ns/mnt"))
        self.assertEqual(os.listdir(f"/proc/{pid}/root"), [], "QEMU's root is empty")
        self.assertEqual(os.readlink(f"/proc/{pid}/root"),
                         os.path.join(self.root, "run/kxl/.jail"))
        # and it still takes what comes after the chroot: a disk added while the guest runs
        # comes as a descriptor (test_network.py adds a NIC, which has no boot ROM to read)
        img = os.path.join(self.tmp, "hot.img")
        with open(img, "wb") as f:
            f.truncate(8 << 20)
        self.kxl("block-attach", "jm", f"file:{img},xvdb,w", check=True)
        self.guest_sh("jm", "cat /sys/block/vdb/size", "16384")
        self.kxl("destroy", "jm", check=True)
        self.assert_gone("jm")

    def test_domain_ids_never_share_a_uid(self):
        """Ids 65536 apart map to one uid: a create skips an id whose uid a live domain has."""
        self.create("u1")
        first = self.list_json()["u1"]["domid"]
        with open(os.path.join(self.root, "var/lib/kxl/domid"), "w") as f:
            f.write(f"{first + 65535}\n")          # the next id would be first + 65536
        self.create("u2")
        self.assertEqual(self.list_json()["u2"]["domid"], first + 65537)
        uids = {proc_status(self.qemu_pids(n)[0])["Uid"][0] for n in ("u1", "u2")}
        self.assertEqual(len(uids), 2)

    def cgroups_of(self, pid):
        """{controllers: path} of /proc/PID/cgroup."""
        out = {}
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                out[ctrls] = path
        return out

    def test_qemu_in_a_cgroup_of_its_own(self):
        """Its own cgroup (v1 here: one per controller; v2 is unit-tested on a fake tree),
        renamed with the domain and removed when the domain ends, by its supervisor or, with
        the supervisor killed, by destroy; the supervisor does not outlive the domain."""
        self.create("cg1")
        pid = self.qemu_pids("cg1")[0]
        groups = self.cgroups_of(pid)
        mine = [p for c, p in groups.items() if p.endswith("/kxl/cg1") or
                p.endswith("/kxl.slice/kxl-cg1.scope")]
        self.assertTrue(mine, f"QEMU is in no group of its own: {groups}")
        dirs = self.recorded_groups("cg1")
        self.assertTrue(dirs and all(os.path.isdir(d) for d in dirs), dirs)
        self.kxl("rename", "cg1", "cg2", check=True)
        after = self.cgroups_of(pid)
        self.assertTrue(all(p.endswith("/kxl/cg2") or p.endswith("/kxl-cg2.scope")
                            for p in after.values() if "kxl" in p), after)
        renamed = [d[:-3] + "cg2" if d.endswith("cg1") else d for d in dirs]
        sv = self.recorded_supervisor("cg2")    # its argv still says cg1
        self.kxl("destroy", "cg2", check=True)
        self.assert_ended_cleanly("cg2", dirs + renamed, sv)
        # the supervisor killed: destroy kills QEMU itself, and removes the group too
        self.create("cg3")
        dirs = self.recorded_groups("cg3")
        os.kill(self.supervisor_pid("cg3"), signal.SIGKILL)
        self.kxl("destroy", "cg3", check=True)
        self.assert_ended_cleanly("cg3", dirs)

    def test_cgroup_and_supervisor_gone_after_guest_poweroff(self):
        """The guest powers itself off (on_poweroff = destroy): within a couple of seconds of
        QEMU's end, its supervisor has exited and every group of the domain is gone."""
        self.create("cgp", extra_lines='on_poweroff = "destroy"')
        self.wait_ready("cgp")
        dirs = self.recorded_groups("cgp")
        sv = self.recorded_supervisor("cgp")
        self.assertEqual(self.live_supervisors("cgp"), [sv])
        self.guest_run("cgp", "poweroff")
        deadline = time.monotonic() + 60
        while self.qemu_pids("cgp") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.qemu_pids("cgp"), [], "the guest did not power off")
        self.assert_ended_cleanly("cgp", dirs, sv)

    def test_same_name_under_another_root(self):
        """A domain of the same name under another KXL_ROOT (a second simulated host, a
        migration's destination on this machine) has its QEMU in the same groups: ending this
        one neither waits for that QEMU nor takes its groups away; ending that one removes
        them."""
        root2 = os.path.join(self.tmp, "other")     # not under self.root's name: "root"
        os.makedirs(root2)
        env2 = dict(self.env, KXL_ROOT=root2)
        kxl2 = lambda *args: subprocess.run([KXL, *args], env=env2, capture_output=True,
                                            text=True, timeout=60)
        r = kxl2("create", self.write_cfg("cgs"))
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            self.create("cgs")
            dirs = self.recorded_groups("cgs")
            with open(os.path.join(root2, "run/kxl/cgs/cgroup")) as f:
                self.assertEqual(f.read().split(), dirs, "one name, one group on this host")
            other_qemu = self.qemu_pids_under(root2, "cgs")
            self.assertEqual(len(other_qemu), 1)
            sv = self.recorded_supervisor("cgs")
            self.kxl("destroy", "cgs", check=True)
            self.assert_ended_cleanly("cgs", [], sv)
            self.assertTrue(all(os.path.isdir(d) for d in dirs),
                            "the other domain's QEMU is in them")
            self.assertEqual(self.qemu_pids_under(root2, "cgs"), other_qemu)
        finally:
            r = kxl2("destroy", "cgs")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_groups_gone(dirs, timeout=2)

    # -- helpers -------------------------------------------------------------------------

    def recorded_groups(self, name):
        with open(os.path.join(self.root, "run/kxl", name, "cgroup")) as f:
            return f.read().split()

    def qemu_pids_under(self, root, name):
        saved, self.root = self.root, root
        try:
            return self.qemu_pids(name)
        finally:
            self.root = saved

    def recorded_supervisor(self, name):
        with open(os.path.join(self.root, "run/kxl", name, "status")) as f:
            return int(dict(l.split(" ", 1) for l in f.read().splitlines())["sv_pid"])

    @staticmethod
    def running(pid):
        """True while pid runs (a zombie waiting for PID 1's slow reaping has exited)."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def live_supervisors(self, name):
        """Supervisors started for name under this root that still run."""
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        return [int(line.split(None, 1)[0]) for line in out.splitlines()[1:]
                if "kxl-supervisor" in line and line.rstrip().endswith(f" {name}")
                and self.root in line and self.running(int(line.split(None, 1)[0]))]

    def assert_ended_cleanly(self, name, dirs, sv=None, within=2.0):
        """From now (the domain has ended, or its destroy returned): within a couple of
        seconds no QEMU, no runtime directory, no supervisor (sv, its recorded pid, and any
        started for name, such as one that adopted it), no group of the domain."""
        deadline = time.monotonic() + within
        self.assert_gone(name, timeout=within)
        while ((sv and self.running(sv)) or self.live_supervisors(name)) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(sv and self.running(sv),
                         f"the supervisor of {name} (pid {sv}) still runs {within} s after "
                         f"its domain ended")
        self.assertEqual(self.live_supervisors(name), [], f"a supervisor of {name} still runs")
        self.assert_groups_gone(dirs, timeout=max(0.1, deadline - time.monotonic()))

    def assert_groups_gone(self, dirs, timeout=2):
        deadline = time.monotonic() + timeout
        while any(os.path.exists(d) for d in dirs) and time.monotonic() < deadline:
            time.sleep(0.05)
        for d in dirs:
            self.assertFalse(os.path.exists(d), f"{d} is left")
