"""Xen configs as they are (issue 16), on real guests: what a PV guest's config asks of Xen,
kxl gives it on KVM."""

import json
import os
import re
import signal
import socket
import stat
import subprocess
import time

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

    def hvm_with_disks(self, name, extra):
        """An HVM domain booting the test guest's kernel, with a disk on xvda, an ISO image
        on xvdc:cdrom, and one routed vif (no bridge needed)."""
        disk = os.path.join(self.tmp, f"{name}.img")
        with open(disk, "wb") as f:
            f.truncate(8 << 20)
        iso = os.path.join(self.tmp, f"{name}.iso")
        with open(iso, "wb") as f:
            f.truncate(1 << 20)
        cfg = self.write_cfg(name, extra_lines=f"{extra}\n"
                             f"disk = [ 'file:{disk},xvda,w', 'file:{iso},xvdc:cdrom,r' ]\n"
                             "vif = [ 'script=vif-route,ip=192.0.2.60' ]")
        with open(cfg) as f:
            text = f.read().replace('type = "pvh"', 'type = "hvm"')
        with open(cfg, "w") as f:
            f.write(text)
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def pci_ids(self, name):
        m = self.guest_sh(name, "cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device"
                          " | tr '\\n' ' '; echo END-OF\"\"-IDS", rb"([0-9a-fx ]+)END-OF-IDS\s*\n")
        return m.group(1).decode()

    def test_windows_config_gets_emulated_devices(self):
        """viridian = 1 marks a Windows config, whose guest may have no virtio drivers: its
        xvda and CD-ROM are IDE devices and its NIC Xen's rtl8139, as the guest sees them."""
        r = self.hvm_with_disks("win", "viridian = 1")
        self.assertIn("a Windows guest is assumed", r.stderr)
        ready = self.wait_ready("win")
        # ata_piix: the disk is sda and the CD-ROM sr0, not virtio's vda
        disks = ready.group(4).split(",")
        self.assertIn("sda", disks)
        self.assertIn("sr0", disks)
        self.assertFalse([d for d in disks if re.fullmatch(r"vd[a-z]+", d)], disks)
        ids = self.pci_ids("win")
        self.assertIn("0x8139", ids)      # the RTL8139's device id
        self.assertNotIn("0x1000 ", ids)  # virtio-net's (legacy) device id

    def test_linux_hvm_keeps_virtio(self):
        """Without the Windows sign an HVM guest stays on virtio: fast for Linux guests."""
        self.hvm_with_disks("lin", "")
        disks = self.wait_ready("lin").group(4).split(",")
        self.assertIn("vda", disks)
        self.assertNotIn("sda", disks)

    def guest_writes_to_socket(self, name, path, device, token):
        """What the guest echoes into device arrives on the Unix socket path. The shell
        computes the token's last character, so the console's echo of the command cannot
        be taken for it."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            s.settimeout(30)
            self.guest_run(name, f"echo {token}$((0+1)) > {device}")
            got = b""
            while f"{token}1".encode() not in got:
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"the socket closed; got {got!r}")
                got += chunk

    def test_serial_port_on_a_unix_socket(self):
        """serial = [ 'pty', 'unix:PATH,server,nowait' ]: the console stays the first port,
        and what the guest writes to its second port (ttyS1) arrives on the socket, which is
        the owner's only."""
        path = os.path.join(self.tmp, "ttyS1.sock")
        self.create("ser", extra_lines=f"serial = [ 'pty', 'unix:{path},server,nowait' ]")
        self.wait_ready("ser")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0)
        self.guest_writes_to_socket("ser", path, "/dev/ttyS1", "via-ttyS")

    def test_xl_create_foreground_and_button_press(self):
        """create -F stays until the domain is gone (here the guest powers itself off), and
        button-press DOM power is the ACPI power button, as xl's."""
        cfg = self.write_cfg("fg", cmdline="kxl.autopoweroff=3")
        start = time.monotonic()
        r = self.kxl("create", "-F", "-q", cfg, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("KXL-POWEROFF autopoweroff", self.console_log("fg"))
        self.assert_gone("fg", timeout=1)
        self.assertGreater(time.monotonic() - start, 3)
        self.create("bp")
        self.wait_ready("bp")
        # xl's block-attach with the spec split over arguments
        img = os.path.join(self.tmp, "bp-data.img")
        with open(img, "wb") as f:
            f.truncate(4 << 20)
        self.kxl("block-attach", "bp", f"file:{img}", "xvdb", "w", check=True, timeout=60)
        disks = json.loads(self.kxl("block-list", "--json", "bp", check=True).stdout)
        self.assertIn(("xvdb", img, "w"), [(d["vdev"], d["target"], d["mode"]) for d in disks])
        self.kxl("button-press", "bp", "power", check=True)
        self.assert_gone("bp", timeout=60)
        r = self.kxl("button-press", "bp", "reset")
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_channel_and_sound_card(self):
        """channel = [ 'name=...,connection=socket,path=...' ]: the guest's named virtio
        port reaches the socket; soundhw = "hda": the guest sees the Intel HDA card."""
        path = os.path.join(self.tmp, "chan.sock")
        self.create("chan", extra_lines=f"channel = [ 'name=org.kxl.test.0,connection=socket,"
                                        f"path={path}' ]\nsoundhw = \"hda\"")
        self.wait_ready("chan")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0)
        self.guest_sh("chan", "cat /sys/class/virtio-ports/vport*/name",
                      r"org\.kxl\.test\.0\r?\n")
        self.guest_writes_to_socket("chan", path, "/dev/vport0p1", "via-chan")
        self.assertIn("0x2668", self.pci_ids("chan"))   # Intel HDA's device id
        listed = self.kxl("channel-list", "chan", check=True).stdout.splitlines()
        self.assertTrue(listed[0].startswith("Idx BE state evt-ch ring-ref connection"))
        self.assertEqual(listed[1].split(), ["0", "0", "4", "-1", "-1", "socket", path,
                                             "(org.kxl.test.0)"])

    def test_pci_passthrough_needs_an_iommu(self):
        """pci = [ ... ] on a host without an IOMMU (this one): one line saying what the host
        lacks, and nothing created; an unknown device is named as such."""
        if os.listdir("/sys/kernel/iommu_groups") if os.path.isdir("/sys/kernel/iommu_groups") \
                else False:
            self.skipTest("this host has an IOMMU")
        device = sorted(os.listdir("/sys/bus/pci/devices"))[0]
        cfg = self.write_cfg("pt", extra_lines=f"pci = [ '{device}' ]")
        r = self.kxl("create", "-q", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.strip().splitlines(),
                         [f"kxl: PCI device {device} has no IOMMU group: this host has no IOMMU "
                          "enabled (VT-d / AMD-Vi in the firmware, and intel_iommu=on or "
                          "amd_iommu=on on the kernel's command line), so no device can be "
                          "given to a guest"])
        self.assertEqual(self.domain_names(), [])
        self.assertFalse(os.path.exists(os.path.join(self.root, "run/kxl/pt")))
        cfg = self.write_cfg("pt", extra_lines="pci = [ '0000:99:1f.7' ]")
        r = self.kxl("create", "-q", cfg)
        self.assertIn("there is no PCI device 0000:99:1f.7 on this host", r.stderr)
        # hot-plug: the same check on a running domain; a detach of what it does not have
        self.create("hp")
        self.wait_ready("hp")
        r = self.kxl("pci-attach", "hp", device)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"PCI device {device} has no IOMMU group", r.stderr)
        r = self.kxl("pci-detach", "hp", "01:00.0")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("domain 'hp' has no PCI device 0000:01:00.0", r.stderr)
        self.assertEqual(self.kxl("pci-list", "hp", check=True).stdout, "")
        self.kxl("destroy", "hp", check=True)

    def test_config_update_is_taken_at_the_next_restart(self):
        """xl config-update: the running domain is unchanged; its next restart (a guest
        reboot) boots the new config. A config for another domain is refused."""
        self.create("cu", memory=128)
        first = self.wait_ready("cu")
        other = self.write_cfg("cuz")
        r = self.kxl("config-update", "cu", other)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the config is for domain 'cuz', not 'cu'", r.stderr)
        new = self.write_cfg("cu", memory=192, vcpus=2)
        self.kxl("config-update", "cu", new, check=True)
        self.assertEqual(self.list_json()["cu"]["vcpus"], 1, "nothing changes before")
        start = len(self.console_log("cu"))
        self.guest_run("cu", "reboot -f")
        m = self.wait_console("cu", r"KXL-READY hostname=cu cpus=(\d+) mem_kib=(\d+)",
                              start=start)
        self.assertEqual(m.group(1), "2")
        self.assertGreater(int(m.group(2)), int(first.group(3)) + 50000)
        row = self.list_json()["cu"]
        self.assertEqual((row["vcpus"], row["memory_mib"]), (2, 192))
        self.kxl("destroy", "cu", check=True)

    def test_device_model_args_need_the_hosts_consent(self):
        """device_model_args reach QEMU only where kxl.conf allows them, with a warning naming
        them; otherwise the create is refused and nothing is left."""
        cfg = self.write_cfg("dma", extra_lines='device_model_args = [ "-device", '
                                               '"virtio-rng-pci" ]')
        r = self.kxl("create", "-q", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("allow_device_model_args = 1 in", r.stderr)
        self.assertEqual(self.domain_names(), [])
        conf = os.path.join(self.root, "etc/kxl/kxl.conf")
        os.makedirs(os.path.dirname(conf), exist_ok=True)
        with open(conf, "w") as f:
            f.write("allow_device_model_args = 1\n")
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("passing device_model_args to QEMU unchecked", r.stderr)
        self.assertIn("-device virtio-rng-pci", r.stderr)
        self.wait_ready("dma")
        self.assertIn("0x1005", self.pci_ids("dma"))   # virtio-rng, transitional id
        self.kxl("destroy", "dma", check=True)
        with open(conf, "w") as f:
            f.write("allow_device_model_args = 2\n")
        r = self.kxl("create", "-q", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("kxl.conf:1: 'allow_device_model_args' must be 0 or 1", r.stderr)

    def test_cpuid_features_reach_the_guest(self):
        """cpuid = "host,sse3=0,aes=1": the guest's CPU lacks SSE3 (Linux's pni), which
        qemu64 has, and has AES-NI, which qemu64 lacks."""
        self.create("cpf", extra_lines='cpuid = "host,sse3=0,aes=1"')
        self.wait_ready("cpf")
        m = self.guest_sh("cpf", "echo FLAGS $(grep -m1 ^flags /proc/cpuinfo | cut -d: -f2) "
                          "END", rb"FLAGS ([a-z0-9_ ]+) END")
        flags = m.group(1).decode().split()
        self.assertIn("aes", flags)
        self.assertNotIn("pni", flags)
        self.assertIn("sse2", flags)   # the rest of the model is as it was
        self.kxl("destroy", "cpf", check=True)

    def test_vtpm_is_a_swtpm_of_the_domains_own(self):
        """vtpm = [ ... ]: the guest finds a TPM 2.0; its emulator runs as the domain's uid
        (not root), keeps its state in var/lib/kxl/tpm/UUID across boots, and is gone with
        the domain."""
        uuid = "6f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5"
        # a PV config's: its kernel boots through the BIOS, whose ACPI tables show the TPM
        self.create("tpm", extra_lines=f"vtpm = [ 'backend=vtpmdom,uuid={uuid}' ]")
        self.wait_ready("tpm")
        self.guest_sh("tpm", "cat /sys/class/tpm/tpm0/tpm_version_major",
                      rb"major\r?\n2\r?\n")
        pids = [p for p in os.listdir("/proc") if p.isdigit() and self._is_swtpm(p)]
        self.assertEqual(len(pids), 1, pids)
        with open(f"/proc/{pids[0]}/status") as f:
            uid = [line.split()[1] for line in f if line.startswith("Uid:")][0]
        self.assertNotEqual(uid, "0", "swtpm parses what the guest sends: never as root")
        state = os.path.join(self.root, "var/lib/kxl/tpm", uuid)
        self.assertEqual(os.stat(state).st_mode & 0o077, 0)
        self.kxl("destroy", "tpm", check=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pids[0]}"):
            time.sleep(0.1)
        self.assertFalse(os.path.exists(f"/proc/{pids[0]}"), "swtpm outlived its domain")
        self.assertIn("tpm2-00.permall", os.listdir(state))   # kept for the next boot

    def _is_swtpm(self, pid):
        """A swtpm holding this test's state directory (fd 3, as the supervisor hands it)."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if not f.read().split(b"\0")[0].endswith(b"swtpm"):
                    return False
            return os.readlink(f"/proc/{pid}/fd/3").startswith(self.root)
        except OSError:
            return False
