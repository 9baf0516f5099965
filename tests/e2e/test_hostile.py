"""Regression tests of what a hostile-input and fault probe found (issue 17): each failed
before its fix. Real kxl, real supervisors and guests; faults are made from outside (a
supervisor killed, a create killed, descriptors held open by the caller)."""

import os
import select
import signal
import subprocess
import time

from kxltest import KXL, KxlTestCase


class HostileTest(KxlTestCase):

    def run_dir_entries(self):
        run = os.path.join(self.root, "run/kxl")
        return sorted(f for f in os.listdir(run) if not f.startswith("."))

    def test_supervisor_dies_without_verdict(self):
        """A supervisor killed before its verdict: create says so in one line (it crashed on
        the empty verdict: exit 139) and leaves nothing behind."""
        fake = os.path.join(self.tmp, "dying-supervisor")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nkill -9 $$\n")
        os.chmod(fake, 0o755)
        cfg = self.write_cfg("nv")
        env = dict(self.env, KXL_SUPERVISOR=fake)
        r = subprocess.run([KXL, "create", "-q", cfg], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the supervisor of 'nv' ended before the guest started", r.stderr)
        self.assertEqual(self.run_dir_entries(), [])

    def test_names_hidden_or_read_as_options_are_refused(self):
        """'.x' would run hidden from every listing (and from the disk-in-use check); '-x'
        reached the supervisor as an option and left run/kxl/-x behind."""
        cfg = self.write_cfg("okname")
        for bad in (".victim", "-x"):
            with self.subTest(name=bad):
                r = self.kxl("create", "-q", cfg, f"name={bad}")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"invalid domain name '{bad}'", r.stderr)
                self.assertEqual(self.run_dir_entries(), [])

    def wait_eof(self, fd, timeout):
        """True when fd's pipe reaches its end (every writer closed it) within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
            if ready and os.read(fd, 4096) == b"":
                return True
        return False

    def test_supervisor_keeps_none_of_the_callers_descriptors(self):
        """`kxl create g.cfg 7>&1 | cat` never returned, and a lock held by the caller stayed
        held for the domain's lifetime: neither the new supervisor nor an adopting one may
        keep the caller's descriptors."""
        cfg = self.write_cfg("fds")
        rd, wr = os.pipe()
        try:
            p = subprocess.Popen([KXL, "create", "-q", cfg], env=self.env, pass_fds=(wr,),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.close(wr)
            wr = -1
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            self.assertTrue(self.wait_eof(rd, 10), "the supervisor holds the caller's pipe")
        finally:
            os.close(rd)
            if wr >= 0:
                os.close(wr)
        # an adopting supervisor, started by the next command after a kill -9
        os.kill(self.supervisor_pid("fds"), signal.SIGKILL)
        time.sleep(0.2)
        rd, wr = os.pipe()
        try:
            p = subprocess.Popen([KXL, "pause", "fds"], env=self.env, pass_fds=(wr,),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.close(wr)
            wr = -1
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            self.assertTrue(self.wait_eof(rd, 10), "the adopting supervisor holds the pipe")
        finally:
            os.close(rd)
            if wr >= 0:
                os.close(wr)
        self.assertEqual(self.list_json()["fds"]["state"], "paused")

    def test_half_created_domain_is_cleared(self):
        """A create killed a few milliseconds in left run/kxl/NAME that no command saw or
        removed: list sweeps it, destroy removes it."""
        run = os.path.join(self.root, "run/kxl")
        self.kxl("list", check=True)                      # makes the runtime tree
        os.mkdir(os.path.join(run, "half"))
        self.kxl("list", check=True)
        self.assertEqual(self.run_dir_entries(), [])
        os.mkdir(os.path.join(run, "half2"))
        r = self.kxl("destroy", "half2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.run_dir_entries(), [])
        # and from real kills at the moments that left it
        cfg = self.write_cfg("kk")
        for delay_ms in (0, 2, 4, 6, 8, 10, 12, 15):
            p = subprocess.Popen([KXL, "create", "-q", cfg], env=self.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay_ms / 1000)
            p.kill()
            p.wait()
            # a supervisor already forked goes on and starts the guest: destroy it once it
            # is listed; list sweeps what is half-made
            names = []
            for _ in range(150):
                names = self.domain_names()
                if "kk" in names:
                    self.kxl("destroy", "kk")
                if not self.run_dir_entries():
                    break
                time.sleep(0.2)
            self.assertEqual(self.run_dir_entries(), [], f"after a kill at {delay_ms} ms "
                             f"(listed: {names})")

    def test_full_log_space_is_reported(self):
        """A full var made a new domain's logs stay empty without a word: create warns."""
        self.kxl("list", check=True)                      # makes the tree
        log_dir = os.path.join(self.root, "var/log/kxl")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "kxl-test", log_dir],
                       check=True)
        try:
            with open(os.path.join(log_dir, "filler"), "wb") as f:
                try:
                    f.write(b"\0" * (2 << 20))
                except OSError:
                    pass
            cfg = self.write_cfg("full")
            r = self.kxl("create", "-q", cfg)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"KiB free for '{log_dir}': the domain's console and event logs may "
                          "stay empty", r.stderr)
            self.kxl("destroy", "full", check=True)
        finally:
            subprocess.run(["umount", "-l", log_dir], check=True)
