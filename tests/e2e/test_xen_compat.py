"""Xen configs as they are (issue 16), on real guests: what a PV guest's config asks of Xen,
kxl gives it on KVM."""

import os
import signal

from kxltest import KxlTestCase


class XenCompatTest(KxlTestCase):

    def test_console_on_hvc0(self):
        """extra = "console=hvc0" (Xen's PV console): the guest's /dev/console is a virtio
        console named hvc0, and `kxl console` talks to it, also after an adoption."""
        # quiet: the kernel's own messages on hvc0 would cut into the lines the test reads
        self.create("hv", cmdline="console=hvc0 quiet")
        self.wait_ready("hv")
        self.guest_sh("hv", "cat /sys/class/tty/console/active", r"hvc0\r?\n")
        self.assertIn("KXL-READY", self.console_log("hv"))
        os.kill(self.supervisor_pid("hv"), signal.SIGKILL)
        self.guest_sh("hv", "echo $((6 * 7))", r"42")

    def test_uefi_firmware(self):
        """bios = "ovmf" (xl's key; firmware = "uefi" the same): the guest starts in OVMF,
        which reaches its shell on the serial console (no disk to boot), with a variable store
        of the domain's own that outlives it."""
        cfg = os.path.join(self.tmp, "uefi.cfg")
        with open(cfg, "w") as f:
            f.write('name = "uefi"\ntype = "hvm"\nbios = "ovmf"\nmemory = 256\n')
        self.kxl("create", "-q", cfg, check=True)
        self.wait_console("uefi", r"UEFI Interactive Shell", timeout=120)
        nvram = os.path.join(self.root, "var/lib/kxl/nvram")
        stores = os.listdir(nvram)
        self.assertEqual(len(stores), 1, stores)
        self.assertEqual(os.stat(os.path.join(nvram, stores[0])).st_mode & 0o777, 0o600)
        self.kxl("destroy", "uefi", check=True)
        self.assertEqual(os.listdir(nvram), stores)
