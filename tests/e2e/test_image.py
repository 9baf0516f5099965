"""End-to-end tests of kxl create-image: a Debian guest debootstrapped from the
host's own package mirror into a template cache, made into disk images and an
xl.cfg file, then booted. root logs in on the serial console with the
generated password and finds the host name and address asked for; a file
written there survives destroy and create; the second image of the same
release comes from the cache in seconds; bad options, failures and signals
leave nothing behind.

create-image itself runs in the host's network namespace (debootstrap needs
the mirror); the guests run in a private one with a bridge, as in
test_network."""

import os
import re
import signal
import subprocess
import time

from kxltest import KXL, Pty
from test_network import NetTestCase, sh

LOGIN_TIMEOUT = float(os.environ.get("KXL_LOGIN_TIMEOUT", "240"))


def have_device_mapper():
    """Whether the kernel has device-mapper: its control node may exist without it."""
    try:
        os.close(os.open("/dev/mapper/control", os.O_RDWR))
        return True
    except OSError:
        return False


def summary_field(out, name):
    m = re.search(rf"^{re.escape(name)}\s*:\s+(.*)$", out, re.M)
    return m.group(1).strip() if m else None


def debugfs_cat(image, path):
    return subprocess.run(["debugfs", "-R", f"cat {path}", image], capture_output=True,
                          text=True).stdout


class ImageTestCase(NetTestCase):

    def create_image(self, *args, timeout=120):
        """kxl create-image in the host's network namespace, not the guests' (debootstrap
        needs the mirror; kxl() runs under kxl_prefix(), the guests' namespace); returns
        (result, seconds)."""
        start = time.monotonic()
        r = subprocess.run([KXL, "create-image", *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        return r, time.monotonic() - start

    def leftovers(self, images_dir, configs=()):
        """What a failed or interrupted run must not leave: work trees, template builds,
        configs (other than those named), images, mounts, processes."""
        found = []
        lib = os.path.join(self.root, "var/lib/kxl")
        for sub in ("tmp", "templates"):
            d = os.path.join(lib, sub)
            if os.path.isdir(d):
                found += [f"{sub}/{n}" for n in os.listdir(d)
                          if not n.endswith(".lock") and not re.fullmatch(r"[a-z]+-[a-z0-9]+", n)]
        etc = os.path.join(self.root, "etc/kxl")
        if os.path.isdir(etc):
            found += [f"etc/kxl/{n}" for n in os.listdir(etc)
                      if n.endswith(".cfg") and n not in configs]
        if os.path.exists(images_dir):
            found.append(images_dir)
        with open("/proc/self/mountinfo") as f:
            found += [line.split()[4] for line in f if self.root in line]
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if self.root in cmd and not re.search(r"create-image|qemu|supervisor", cmd):
                found.append(f"process {pid}: {cmd[:100]}")
        return found

    def login(self, name, password):
        """A root shell on the guest's serial console (the Pty), after its getty."""
        con = Pty(["/usr/sbin/ip", "netns", "exec", self.ns, KXL, "console", name], self.env)
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while True:   # the getty may not run yet: ask again until it prompts
            con.send("\r")
            try:
                con.expect(rf"{name} login: $", timeout=10)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        con.out = b""
        con.send("root\r")
        con.expect(r"Password: ", timeout=60)
        con.send(password + "\r")
        con.expect(rf"root@{name}:~# ", timeout=120)
        return con

    def run_on(self, con, command, timeout=60):
        """Runs command in the console's shell; returns what it printed. The end marker is
        computed by the shell, so the echoed command line never matches it."""
        con.out = b""
        con.send(command + "; echo @@$((6*7))@@\r")
        # and the next prompt, so that the next command is not typed ahead of it
        con.expect(r"@@42@@\r\n(\x1b\[\?2004h)?root@[^:]+:~# ", timeout=timeout)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", con.out.decode(errors="replace"))
        text = text.replace("\r", "")
        return text.split("\n", 1)[1].rsplit("@@42@@", 1)[0]

    def bootable_cfg(self, cfg, image):
        """The generated config when kxl can boot bootloader = "pygrub" configs; until then
        the same config with the kernel and initrd dumped from the image and the kernel
        arguments of its grub.cfg."""
        if self.kxl("create", "-n", cfg).returncode == 0:
            return cfg
        grub = debugfs_cat(image, "/boot/grub/grub.cfg")
        kernel = re.search(r"^\s*linux\s+(\S+)\s+(.*)$", grub, re.M)
        initrd = re.search(r"^\s*initrd\s+(\S+)", grub, re.M)
        self.assertTrue(kernel and initrd, f"grub.cfg of {image}:\n{grub}")
        for path, out in ((kernel.group(1), "vmlinuz"), (initrd.group(1), "initrd.img")):
            sh("debugfs", "-R", f"dump {path} {self.tmp}/{out}", image)
        with open(cfg) as f:
            text = f.read().replace('bootloader  = "pygrub"', "")
        direct = os.path.join(self.tmp, "direct-" + os.path.basename(cfg))
        with open(direct, "w") as f:
            f.write(text + f'kernel = "{self.tmp}/vmlinuz"\nramdisk = "{self.tmp}/initrd.img"\n'
                           f'extra = "{kernel.group(2)}"\n')
        return direct


class CreateImageTest(ImageTestCase):

    def check_xen_tools_layout(self, name, disk, swap, password):
        """The image laid out as xen-tools does by default: root and swap images of their own
        as the "partitions" xvda2 and xvda1 (root listed first), root = '/dev/xvda2 ro', the
        host's copy of the kernel, and an fstab naming /dev/xvda2 and /dev/xvda1. It boots to
        its login with its swap on: kxl rewrote root= to the disk the guest sees and taught
        the guest's udev the Xen names."""
        # the guest was destroyed, not shut down: its journal is replayed first, as after a
        # crash (kxl writes only into a clean file system; 1: e2fsck corrected something)
        fsck = subprocess.run(["e2fsck", "-fy", disk], capture_output=True, text=True)
        self.assertIn(fsck.returncode, (0, 1), fsck.stdout + fsck.stderr)
        fstab = os.path.join(self.tmp, "fstab-xen-tools")
        with open(fstab, "w") as f:
            f.write("/dev/xvda2 / ext4 errors=remount-ro 0 1\n/dev/xvda1 none swap sw 0 0\n")
        sh("debugfs", "-w", "-R", "rm /etc/fstab", disk)
        sh("debugfs", "-w", "-R", f"write {fstab} /etc/fstab", disk)
        grub = debugfs_cat(disk, "/boot/grub/grub.cfg")
        kernel = re.search(r"^\s*linux\s+(\S+)\s+(.*)$", grub, re.M)
        initrd = re.search(r"^\s*initrd\s+(\S+)", grub, re.M)
        for path, out in ((kernel.group(1), "xt-vmlinuz"), (initrd.group(1), "xt-initrd.img")):
            sh("debugfs", "-R", f"dump {path} {self.tmp}/{out}", disk)
        extra = " ".join(w for w in kernel.group(2).split() if not w.startswith("root="))
        cfg = os.path.join(self.tmp, f"{name}-xen-tools.cfg")
        with open(cfg, "w") as f:
            f.write(f"kernel      = '{self.tmp}/xt-vmlinuz'\n"
                    f"ramdisk     = '{self.tmp}/xt-initrd.img'\n"
                    f"extra       = '{extra}'\n"
                    "vcpus       = '1'\nmemory      = '512'\n"
                    "root        = '/dev/xvda2 ro'\n"
                    f"disk        = [ 'file:{disk},xvda2,w', 'file:{swap},xvda1,w' ]\n"
                    f"name        = '{name}'\n")
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the kernel gets root=/dev/vda for root=/dev/xvda2", r.stderr)
        self.assertIn("wrote /etc/udev/rules.d/60-kxl-xen-names.rules into root disk",
                      self.kxl("dmesg", check=True).stdout)
        con = self.login(name, password)
        out = self.run_on(con, "readlink -f /dev/xvda2 /dev/xvda1; findmnt -n -o SOURCE /; "
                               "swapon --show=NAME --noheadings; "
                               "systemctl is-active dev-xvda1.swap")
        self.assertEqual(out.split(), ["/dev/vda", "/dev/vdb", "/dev/vda", "/dev/vdb", "active"],
                         out)
        con.send(b"\x1d")
        con.wait()
        self.kxl("destroy", name, check=True)
        self.assert_gone(name)
        self.assertIn("Written by kxl",
                      debugfs_cat(disk, "/etc/udev/rules.d/60-kxl-xen-names.rules"))

    def test_debootstrap_boot_login_persist_then_cached(self):
        self.nsx("ip", "link", "add", "br0", "type", "bridge")
        self.nsx("ip", "addr", "add", "10.0.5.1/24", "dev", "br0")
        self.nsx("ip", "link", "set", "br0", "up")
        images = os.path.join(self.tmp, "images")

        # the first image of a release debootstraps the template
        r, first = self.create_image("--hostname=guest-01", "--genpass", "--ip=10.0.5.2",
                                     "--netmask=255.255.255.0", "--gateway=10.0.5.1",
                                     "--bridge=br0", "--memory=512mb", f"--dir={images}",
                                     timeout=900)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertRegex(r.stdout, r"\[1/6\] debootstrap \w+ \(amd64\) from \S+ into the "
                                   r"template cache")
        self.assertRegex(r.stdout, r"\[6/6\] Writing the domain config")
        password = summary_field(r.stdout, "Root Password")
        self.assertRegex(password or "", r"^[A-Za-z0-9]{12,}$")
        self.assertEqual(summary_field(r.stdout, "Hostname"), "guest-01")
        self.assertEqual(summary_field(r.stdout, "IP Address(es)"), "10.0.5.2/24 via 10.0.5.1")
        mac = summary_field(r.stdout, "MAC Address")
        self.assertRegex(mac, r"^00:16:3e:[0-9a-f:]{8}$")
        fingerprints = re.findall(r"^SSH Fingerprint :\s+(SHA256:\S+) \((\w+)\)$", r.stdout, re.M)
        self.assertEqual(sorted(t for _, t in fingerprints), ["ECDSA", "ED25519", "RSA"])

        cfg = os.path.join(self.root, "etc/kxl/guest-01.cfg")
        disk = os.path.join(images, "domains/guest-01/disk.img")
        with open(cfg) as f:
            text = f.read()
        self.assertIn('bootloader  = "pygrub"', text)
        self.assertIn(f"'file:{disk},xvda,w'", text)
        self.assertIn(f"'file:{images}/domains/guest-01/swap.img,xvdb,w'", text)
        self.assertIn(f"'ip=10.0.5.2,mac={mac},bridge=br0'", text)
        self.assertNotIn(password, text)
        # the password is stored hashed only; the host keys are the ones summarised
        shadow = debugfs_cat(disk, "/etc/shadow")
        self.assertRegex(shadow, r"^root:\$[0-9a-z]+\$")
        self.assertNotIn(password, shadow)
        pub = os.path.join(self.tmp, "ed25519.pub")
        sh("debugfs", "-R", f"dump /etc/ssh/ssh_host_ed25519_key.pub {pub}", disk)
        fp = sh("ssh-keygen", "-lf", pub).stdout.split()[1]
        self.assertIn((fp, "ED25519"), fingerprints)

        # boot it; root logs in on the console with the generated password
        boot_cfg = self.bootable_cfg(cfg, disk)
        self.assertEqual(self.kxl("create", boot_cfg).returncode, 0)
        con = self.login("guest-01", password)
        out = self.run_on(con, "hostname; ip -4 addr show eth0")
        self.assertEqual(out.splitlines()[0], "guest-01")
        self.assertIn("inet 10.0.5.2/24", out)
        self.assertEqual(self.run_on(con, "cat /sys/class/net/eth0/address").strip(), mac)
        ping = self.nsx("ping", "-c", "2", "-W", "3", "10.0.5.2", check=False).stdout
        self.assertIn(" 0% packet loss", ping, "the host reaches the guest at its address")
        self.assertEqual(self.run_on(con, "swapon --show=NAME --noheadings").strip(), "/dev/vdb")
        token = f"kept-{os.getpid()}"
        self.run_on(con, f"echo {token} > /root/persist; sync")
        con.send(b"\x1d")
        con.wait()

        # a file written survives destroy and create
        self.kxl("destroy", "guest-01", check=True)
        self.assert_gone("guest-01")
        self.assertEqual(self.kxl("create", boot_cfg).returncode, 0)
        con = self.login("guest-01", password)
        self.assertEqual(self.run_on(con, "cat /root/persist").strip(), token)
        con.send(b"\x1d")
        con.wait()
        self.kxl("destroy", "guest-01", check=True)
        self.assert_gone("guest-01")
        self.check_xen_tools_layout("guest-01", disk, f"{images}/domains/guest-01/swap.img",
                                    password)

        # the second image of the release comes from the cache, with its own keys
        r, later = self.create_image("--hostname=guest-02", "--dhcp", f"--dir={images}",
                                     "--format=qcow2", timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertIn("[1/6] Using the cached", r.stdout)
        self.assertEqual(summary_field(r.stdout, "Template"), "cached")
        self.assertEqual(summary_field(r.stdout, "IP Address(es)"), "dynamic (DHCP)")
        self.assertIn("Root Password   :  none", r.stdout)
        later_fps = re.findall(r"^SSH Fingerprint :\s+(SHA256:\S+)", r.stdout, re.M)
        self.assertEqual(len(later_fps), 3)
        self.assertFalse(set(later_fps) & {f for f, _ in fingerprints}, "fresh host keys")
        qcow = os.path.join(images, "domains/guest-02/disk.qcow2")
        self.assertIn("file format: qcow2", sh("qemu-img", "info", qcow).stdout)
        with open(os.path.join(self.root, "etc/kxl/guest-02.cfg")) as f:
            self.assertIn("format=qcow2,vdev=xvda,access=rw,target=" + qcow, f.read())
        print(f"\ncreate-image: first (debootstrap) {first:.1f} s, cached {later:.1f} s",
              flush=True)
        self.assertLess(later, 30)
        self.assertLess(later * 3, first, "the cached path is much faster")

        # a run that fails (the disk is too small for the files) leaves nothing
        r, _ = self.create_image("--hostname=guest-03", "--size=200mb",
                                 f"--dir={self.tmp}/images3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--size 200mb is too small", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        made = ("guest-01.cfg", "guest-02.cfg")
        self.assertEqual(self.leftovers(f"{self.tmp}/images3", made), [])

        # so does one that SIGTERM interrupts while it works
        p = subprocess.Popen([KXL, "create-image", "--hostname=guest-04", "--genpass",
                              f"--dir={self.tmp}/images4"], env=self.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = ""
        while "[3/6]" not in line:
            line = p.stdout.readline()
            self.assertTrue(line, "create-image ended early")
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 1, out + err)
        self.assertIn("interrupted by SIGTERM", err)
        self.assertEqual(self.leftovers(f"{self.tmp}/images4", made), [])
        # and the earlier images are untouched
        self.assertTrue(os.path.exists(qcow) and os.path.exists(disk))

        # delete-image removes what create-image made, and nothing while a
        # running domain holds one of the disks
        self.assertEqual(self.kxl("create", boot_cfg).returncode, 0)
        r = self.kxl("delete-image", f"--dir={images}", "guest-02", "guest-01")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"disk '{disk}' is in use by domain 'guest-01'", r.stderr)
        self.assertTrue(os.path.exists(qcow), "nothing of guest-02 went either")
        self.kxl("destroy", "guest-01", check=True)
        self.assert_gone("guest-01")
        notes = os.path.join(images, "domains/guest-02/notes.txt")
        with open(notes, "w") as f:
            f.write("mine\n")
        r = self.kxl("delete-image", f"--dir={images}", "guest-01", "--hostname=guest-02",
                     check=True)
        self.assertIn(f"removed {disk}\n", r.stdout)
        self.assertIn(f"removed {cfg}\n", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(images, "domains/guest-01")))
        self.assertFalse(os.path.exists(cfg) or os.path.exists(qcow))
        self.assertTrue(os.path.exists(notes), "a file create-image did not make stays")
        self.assertIn("kept " + os.path.dirname(notes), r.stdout)
        r = self.kxl("delete-image", f"--dir={images}", "guest-01")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no images or config of 'guest-01'", r.stderr)


class CreateImageFailureTest(ImageTestCase):

    def test_bad_options_one_line_and_nothing_left(self):
        images = os.path.join(self.tmp, "images")
        bad = [
            ([], 2, "--hostname is required"),
            (["--hostname=bad_name"], 2, "not a valid host name"),
            (["--hostname=-x"], 2, "not a valid host name"),
            (["--hostname=10.0.0.1"], 2, "needs a letter"),
            (["--hostname=g", "--size=lots"], 2, "--size 'lots': not a size"),
            (["--hostname=g", "--memory=12mb"], 2, "--memory"),
            (["--hostname=g", "--swap=1.5gb"], 2, "--swap '1.5gb': not a size"),
            (["--hostname=g", "--vcpus=0"], 2, "--vcpus '0'"),
            (["--hostname=g", "--ip=10.0.0.300"], 2, "--ip '10.0.0.300'"),
            (["--hostname=g", "--ip=10.0.0.3", "--dhcp"], 2, "exclude each other"),
            (["--hostname=g", "--gateway=10.0.0.1"], 2, "--gateway needs --ip"),
            (["--hostname=g", "--netmask=255.0.255.0", "--ip=10.0.0.3"], 2, "not a netmask"),
            (["--hostname=g", "--mac=01:00:5e:00:00:01"], 2, "multicast"),
            (["--hostname=g", "--genpass", "--password=x"], 2, "exclude each other"),
            (["--hostname=g", "--hash=plain"], 2, "not a crypt(3) hash"),
            (["--hostname=g", "--fs=xfs"], 2, "--fs 'xfs'"),
            (["--hostname=g", "--arch=arm64"], 2, "x86 guests only"),
            (["--hostname=g", "--dist=nosuchdist"], 2, "debootstrap does not know"),
            (["--hostname=g", "--format=vmdk"], 2, "--format 'vmdk'"),
            (["--hostname=g", "--image=thick"], 2, "--image 'thick'"),
            (["--hostname=g", "--install-method=rinse"], 2, "--install-method 'rinse'"),
            (["--hostname=g", "--install-method=tar"], 2, "needs --install-source"),
            (["--hostname=g", "--install-source=/"], 2, "--install-source is for"),
            (["--hostname=g", "--install-method=copy", "--install-source=/nonexistent"], 2,
             "no such file"),
            (["--hostname=g", "--ssh-key=/nonexistent.pub"], 2, "no such file"),
            (["--hostname=g", "--lvm=vg0", f"--dir={images}"], 2, "exclude each other"),
            (["--hostname=g", "--lvm=vg0", "--format=qcow2"], 2, "qcow2 is for image files"),
            (["--hostname=g", "--bogus"], 2, "unknown option '--bogus'"),
            (["--hostname=g", "--size"], 2, "--size needs a value"),
            (["--hostname=g", "stray"], 2, "unexpected argument 'stray'"),
        ]
        key = os.path.join(self.tmp, "id")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        bad.append((["--hostname=g", f"--ssh-key={key}"], 2, "is a private key"))
        script = os.path.join(self.tmp, "role.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(script, 0o644)
        bad.append((["--hostname=g", f"--role={script}"], 2, "not executable"))
        if not have_device_mapper():
            bad.append((["--hostname=g", "--lvm=vg0"], 1, "no device-mapper"))
        for args, code, message in bad:
            with self.subTest(args=args):
                where = [] if any(a.startswith("--lvm") for a in args) else [f"--dir={images}"]
                r, _ = self.create_image(*where, *args, timeout=30)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertRegex(r.stderr, r"^kxl: [^\n]+\n$", "one line")
                self.assertEqual(r.stdout, "")
        self.assertEqual(self.leftovers(images), [])

    def test_delete_image_bad_input(self):
        images = os.path.join(self.tmp, "images")
        os.makedirs(os.path.join(images, "domains/keep"))
        kept = os.path.join(images, "domains/keep/disk.img")
        open(kept, "w").close()
        bad = [
            ([], 2, "usage: kxl delete-image"),
            (["bad_name"], 2, "not a valid host name"),
            (["--lvm=vg0", f"--dir={images}", "g"], 2, "exclude each other"),
            (["--lvm=vg/0", "g"], 2, "not a volume group name"),
            (["--bogus", "g"], 2, "unrecognized option"),
            ([f"--dir={images}", "nothing-here"], 1, "no images or config of 'nothing-here'"),
            # every host is checked before anything is removed
            ([f"--dir={images}", "keep", "nothing-here"], 1, "no images or config"),
        ]
        if not have_device_mapper():
            bad.append((["--lvm=vg0", "g"], 1, "no device-mapper"))
        for args, code, message in bad:
            with self.subTest(args=args):
                r = self.kxl("delete-image", *args)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(r.stdout, "")
        self.assertTrue(os.path.exists(kept))
        r = self.kxl("-N", "delete-image", f"--dir={images}", "keep")
        self.assertEqual((r.returncode, r.stdout.splitlines()[0]), (0, f"would remove {kept}"))
        self.assertTrue(os.path.exists(kept), "-N removes nothing")

    def test_unreachable_mirror_tried_three_times_then_nothing_left(self):
        """A download that fails (here: nothing listens at the mirror) is tried twice more,
        each time from an empty root; then one error line and nothing left behind."""
        images = os.path.join(self.tmp, "images")
        r, seconds = self.create_image("--hostname=gm", f"--dir={images}",
                                       "--mirror=http://127.0.0.1:9/debian", timeout=180)
        self.assertEqual(r.returncode, 1, r.stderr)
        retries = re.findall(r"Failed getting release file.*; trying again in (\d+) s "
                             r"\(attempt (\d) of 3\)", r.stderr)
        self.assertEqual(retries, [("5", "2"), ("20", "3")], r.stderr)
        self.assertRegex(r.stderr.splitlines()[-1],
                         r"^kxl: 'debootstrap bookworm' failed: Failed getting release file")
        self.assertGreaterEqual(seconds, 25)
        self.assertEqual(self.leftovers(images), [])

    def test_sigint_during_debootstrap_leaves_nothing(self):
        images = os.path.join(self.tmp, "images")
        p = subprocess.Popen([KXL, "create-image", "--hostname=gi", f"--dir={images}"],
                             env=self.env, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.assertIn("[1/6] debootstrap", p.stdout.readline())
        time.sleep(8)   # debootstrap is fetching and unpacking by now
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 1, out + err)
        self.assertIn("interrupted by SIGINT", err)
        self.assertEqual(self.leftovers(images), [])
        templates = os.path.join(self.root, "var/lib/kxl/templates")
        self.assertEqual([n for n in os.listdir(templates) if not n.endswith(".lock")], [],
                         "no half-built template")
