"""Bad input of every kind gets one clear line, exit status 1 (2 for usage),
and leaves nothing behind: no QEMU, no supervisor, no runtime file or socket.
A running domain is not disturbed by a failed create of the same name."""

import glob
import os
import subprocess

from kxltest import GUEST, KxlTestCase

CORPUS = os.path.join(os.path.dirname(__file__), "../data/cfg2argv")


class BadInputTest(KxlTestCase):

    def assert_one_line_failure(self, r, expect, status=1):
        lines = [l for l in r.stderr.splitlines() if not l.startswith("Parsing config from")]
        self.assertEqual(r.returncode, status, r.stderr)
        self.assertEqual(len(lines), 1, f"one line expected: {r.stderr!r}")
        self.assertIn(expect, lines[0])

    def assert_nothing_left(self):
        run = os.path.join(self.root, "run/kxl")
        self.assertEqual([f for f in os.listdir(run) if not f.startswith(".")], [])
        out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        self.assertNotIn(self.root, out, "a process of this test's root is still running")

    def test_config_corpus(self):
        """Every refused config of the golden corpus is refused by create too."""
        cases = sorted(glob.glob(os.path.join(CORPUS, "err-*.cfg")))
        self.assertGreater(len(cases), 10)
        for cfg in cases:
            with self.subTest(cfg=os.path.basename(cfg)):
                with open(cfg[:-4] + ".err") as f:
                    # the host's CPU count differs from the golden test's fixed 8
                    expected = f.read().strip().split(": ", 1)[1].split(" (it has")[0]
                r = self.kxl("create", cfg)
                self.assert_one_line_failure(r, expected)
                self.assertIn(":", r.stderr.splitlines()[-1])
                self.assert_nothing_left()

    def run_bad(self, name, lines, expect):
        cfg = self.write_cfg(name, extra_lines=lines)
        r = self.kxl("create", cfg)
        self.assert_one_line_failure(r, expect)
        self.assert_nothing_left()
        return r

    def test_missing_kernel(self):
        cfg = os.path.join(self.tmp, "nok.cfg")
        with open(cfg, "w") as f:
            f.write('name = "nok"\nkernel = "/nonexistent/vmlinuz"\n')
        r = self.kxl("create", cfg)
        self.assert_one_line_failure(r, "nok.cfg:2: kernel '/nonexistent/vmlinuz': "
                                        "No such file or directory")
        self.assert_nothing_left()

    def test_missing_disk(self):
        self.run_bad("nod", "disk = [ 'file:/nonexistent/disk.img,xvda,w' ]",
                     "disk '/nonexistent/disk.img': No such file or directory")

    def test_disk_qemu_cannot_open(self):
        """A disk that passes kxl's checks but that QEMU refuses (a qcow2 image
        needing a feature QEMU does not have): QEMU's own reason reaches the user,
        and the supervisor cleans everything up."""
        img = os.path.join(self.tmp, "future.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, "1M"], check=True)
        with open(img, "r+b") as f:          # incompatible_features: an unknown bit
            f.seek(72)
            f.write((1 << 63).to_bytes(8, "big"))
        r = self.run_bad("qc", f"disk = [ 'format=qcow2,vdev=xvda,target={img}' ]",
                         "QEMU failed to start domain 'qc'")
        self.assertIn("qcow2 feature", r.stderr)

    def test_disk_not_of_its_format(self):
        """A raw file given as qcow2: kxl reads the header itself and says so."""
        img = os.path.join(self.tmp, "raw.img")
        subprocess.run(["truncate", "-s", "1M", img], check=True)
        self.run_bad("nq", f"disk = [ 'format=qcow2,vdev=xvda,target={img}' ]",
                     f"'{img}' is not a qcow2 image")

    def test_unknown_action(self):
        self.run_bad("act", 'on_reboot = "reincarnate"', "unknown action 'reincarnate'")

    def test_bad_override(self):
        cfg = self.write_cfg("ovr")
        r = self.kxl("create", cfg, "vcpus=many")
        self.assert_one_line_failure(r, "<command line>:1: 'vcpus' must be a non-negative number")
        self.assert_nothing_left()

    def test_name_of_a_running_domain(self):
        self.create("busy")
        self.wait_ready("busy")
        before = self.list_json()["busy"]
        r = self.kxl("create", self.write_cfg("busy", memory=128))
        self.assert_one_line_failure(r, "domain 'busy' already exists")
        after = self.list_json()["busy"]
        self.assertEqual((before["domid"], before["qemu_pid"], after["memory_mib"]),
                         (after["domid"], after["qemu_pid"], 256), "the running domain is untouched")
        mark = len(self.console_log("busy"))
        self.wait_console("busy", r"KXL-HB \d+", start=mark, timeout=20)

    def test_bad_command_lines(self):
        usage = [("frobnicate",), ("create",), ("list", "--bogus"), ("destroy",),
                 ("destroy", "a", "b"), ("domname", "abc"), ("console",), ("shutdown",)]
        for args in usage:
            with self.subTest(args=args):
                r = self.kxl(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.strip(), "a usage error says something")
        errors = [(("destroy", "nosuch"), "domain 'nosuch' does not exist"),
                  (("console", "nosuch"), "domain 'nosuch' does not exist"),
                  (("pause", "42"), "no domain with id 42"),
                  (("destroy", "../../etc"), "invalid domain name '../../etc'"),
                  (("create", "/nonexistent.cfg"), "cannot read '/nonexistent.cfg'")]
        for args, expect in errors:
            with self.subTest(args=args):
                self.assert_one_line_failure(self.kxl(*args), expect)
        for cmd in ("create", "list", "console", "destroy", "shutdown", "info", "domid"):
            r = self.kxl(cmd, "--help")
            self.assertEqual(r.returncode, 0)
            self.assertIn(f"usage: kxl {cmd}", r.stdout)
        self.assert_nothing_left()
