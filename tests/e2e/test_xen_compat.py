"""Xen configs as they are (issue 16), on real guests: what a PV guest's config asks of Xen,
kxl gives it on KVM."""

import os
import signal
import subprocess

from kxltest import KxlTestCase


class XenCompatTest(KxlTestCase):

    def supervisor_pid(self, name):
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            pid, _, args = line.strip().partition(" ")
            if "kxl-supervisor" in args and args.endswith(f" {name}") and self.root in args:
                return int(pid)
        self.fail(f"no supervisor of '{name}'")

    def test_console_on_hvc0(self):
        """extra = "console=hvc0" (Xen's PV console): the guest's /dev/console is a virtio
        console named hvc0, and `kxl console` talks to it, also after an adoption."""
        self.create("hv", cmdline="console=hvc0")
        self.wait_ready("hv")
        self.guest_sh("hv", "cat /sys/class/tty/console/active", r"hvc0\r?\n")
        self.assertIn("KXL-READY", self.console_log("hv"))
        os.kill(self.supervisor_pid("hv"), signal.SIGKILL)
        self.guest_sh("hv", "echo $((6 * 7))", r"42")
