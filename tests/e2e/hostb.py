"""Host B: a second KXL_ROOT beside the test's own (host A), for the tests that move a domain
between hosts or show several hosts in one view. A mixin of a KxlTestCase:

    self.setup_host_b()          # in setUp: ROOT/../host-b, its environment
    self.certify_hosts()         # kxl tls-setup: A makes the CA, signs B's certificate (B imports)
    self.start_kxld_b(conf, ready="relocation server on")   # kxld B with that kxld.conf
    with self.host_b(): ...      # the helpers (kxl, list_json, console_log) act on B
    self.teardown_host_b()       # in tearDown: kxld B ended, B's domains destroyed

One copy of what test_migrate, test_webui_migrate and test_webui_hosts need."""

import contextlib
import os
import subprocess
import time

from kxltest import KXL
from test_kxld import KXLD


class HostB:

    def setup_host_b(self):
        self.root_b = os.path.join(self.tmp, "host-b")   # not prefixed by self.root
        os.makedirs(self.root_b)
        self.env_b = dict(self.env, KXL_ROOT=self.root_b)
        self.kxld_b = None
        self.log_b = os.path.join(self.tmp, "kxld-b.log")

    def teardown_host_b(self):
        """kxld B ended (it must end cleanly: a sanitizer's report fails it), then B's
        domains destroyed."""
        try:
            self.stop_kxld_b()
        finally:
            with self.host_b():
                for name in self.domain_names():
                    self.kxl("destroy", name)

    @contextlib.contextmanager
    def host_b(self):
        """The helpers (kxl, console, guest_sh, assert_gone, list_json) act on host B
        meanwhile."""
        saved = self.root, self.env
        self.root, self.env = self.root_b, self.env_b
        try:
            yield
        finally:
            self.root, self.env = saved

    def tls_setup(self, env, *args):
        r = subprocess.run([KXL, "tls-setup", *args], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def certify_hosts(self):
        """A's CA and certificate ("host-a"), and B's ("host-b", for 127.0.0.1) signed by it;
        each under its ROOT/etc/kxl/tls."""
        self.tls_setup(self.env, "--name", "host-a", "--ip", "127.0.0.1")
        out = os.path.join(self.tmp, "for-b")
        self.tls_setup(self.env, "--sign", "host-b", "--ip", "127.0.0.1", "--out", out)
        self.tls_setup(self.env_b, "--import", out)

    def kxld_b_log(self):
        with open(self.log_b, errors="replace") as f:
            return f.read()

    def start_kxld_b(self, conf, ready="relocation server on"):
        """kxld B in the foreground with conf as its kxld.conf, once its log says ready (or,
        with ready None, once its API socket is there)."""
        with open(os.path.join(self.root_b, "etc/kxl/kxld.conf"), "w") as f:
            f.write(conf)
        log = open(self.log_b, "ab")
        self.kxld_b = subprocess.Popen([KXLD, "--foreground", "-v", "--root", self.root_b],
                                       env=self.env_b, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=log)
        log.close()
        sock = os.path.join(self.root_b, "run/kxl/kxld.sock")
        deadline = time.monotonic() + 20
        while not (ready in self.kxld_b_log() if ready else os.path.exists(sock)):
            self.assertIsNone(self.kxld_b.poll(), f"kxld B ended: {self.kxld_b_log()}")
            self.assertLess(time.monotonic(), deadline, self.kxld_b_log())
            time.sleep(0.05)

    def stop_kxld_b(self):
        if self.kxld_b and self.kxld_b.poll() is None:
            self.kxld_b.terminate()
            self.assertEqual(self.kxld_b.wait(timeout=30), 0, self.kxld_b_log())
        self.kxld_b = None
