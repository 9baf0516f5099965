"""End-to-end tests of kxld's routes for a running domain's operations beyond its lifecycle:
rename, trigger, sysrq, vCPUs and their pinning, dump-core and save (jobs: 202 + Location),
job cancel, restore, disks, CD-ROM media, vifs, snapshots, the host's networks, and create
from a config given in the body. Real HTTP on kxld's socket, real guests: what each route did
is checked from outside (the guest's console, /proc, the command line), and bad input gets
its status and the library's error code at once, with nothing changed."""

import json
import os
import re
import socket
import subprocess
import time
import uuid

from kxltest import GUEST, KXL, control, wait_for_job
from test_kxld import KXLD, KxldTestCase, UnixHTTPConnection


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


def guest_cfg(name, extra_lines=""):
    """The text of a config of the test guest (as KxlTestCase.write_cfg writes one)."""
    return (f'name = "{name}"\ntype = "pvh"\nmemory = 256\nvcpus = 1\n'
            f'kernel = "{GUEST}/vmlinuz"\nramdisk = "{GUEST}/initrd.img"\n'
            f'extra = "console=ttyS0 kxl.hostname={name}"\n{extra_lines}\n')


class KxldOpsTestCase(KxldTestCase):

    def job(self, method, path, body=None):
        """A request that is always a job: asserts its 202 and Location; returns the job's
        URL."""
        status, headers, job = self.api(method, path, body)
        self.assertEqual(status, 202, job)
        self.validate(job, "Job")
        self.assertEqual(headers["Location"], f"/api/v1/jobs/{job['id']}")
        self.assertEqual(job["request"], f"{method} {path}")
        return headers["Location"]

    def job_end(self, location, timeout=240):
        status, _, done = self.api("GET", f"{location}/wait?timeout={timeout}")
        self.assertEqual(status, 200, done)
        self.validate(done, "Job")
        self.assertNotEqual(done["state"], "running", f"{location} still running")
        return done

    def create_body(self, name, extra_lines=""):
        status, _, d = self.api("POST", "/api/v1/domains",
                                {"config": guest_cfg(name, extra_lines)})
        self.assertEqual(status, 201, d)
        self.validate(d, "Domain")
        return d

    def beats(self, name):
        return [int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log(name))]

    def start_kxld_at(self, prefix=(), cwd=None):
        """kxld as start_kxld starts it, under a prefix (ip netns exec NS) or in a directory."""
        log = open(os.path.join(self.tmp, "kxld.stderr"), "ab")
        self.kxld = subprocess.Popen([*prefix, KXLD, "--foreground", "-v", "--root", self.root],
                                     env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, cwd=cwd)
        log.close()
        deadline = time.monotonic() + 20
        while not os.path.exists(self.sock_path) and time.monotonic() < deadline:
            self.assertIsNone(self.kxld.poll(), self.kxld_log())
            time.sleep(0.05)
        self.conn = UnixHTTPConnection(self.sock_path)


class KxldDomainOpsTest(KxldOpsTestCase):

    def test_create_from_body_rename_trigger_sysrq_vcpus(self):
        self.start_kxld()
        # a config in the body is checked as kxl create checks a file, line numbers included;
        # a refused one leaves nothing behind
        bad = guest_cfg("bodybad").replace("memory = 256", 'memory = "lots"')
        status, _, e = self.api("POST", "/api/v1/domains", {"config": bad})
        self.assert_error(status, 400, "config", e)
        self.assertTrue(e["error"]["message"].startswith("request body's config:3: "), e)
        missing = guest_cfg("bodybad").replace(f"{GUEST}/vmlinuz", "/nonexistent/vmlinuz")
        status, _, e = self.api("POST", "/api/v1/domains", {"config": missing})
        self.assert_error(status, 400, "config", e)
        self.assertIn("request body's config:5: kernel '/nonexistent/vmlinuz'", e["error"]["message"])
        status, _, e = self.api("POST", "/api/v1/domains",
                                {"config": guest_cfg("x"), "config_file": "/etc/hostname"})
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", {"config": 7})
        self.assert_error(status, 400, "invalid", e)
        self.assertEqual(self.domain_names(), [])
        self.assertFalse(os.path.exists(os.path.join(self.root, "run/kxl/bodybad")))

        d = self.create_body("ops")
        self.assertEqual(self.list_json()["ops"]["domid"], d["domid"], "one truth")
        self.wait_ready("ops")

        status, _, reply = self.api("POST", "/api/v1/domains/ops/sysrq", {"key": "h"})
        self.assertEqual((status, reply), (204, None))
        self.wait_console("ops", r"sysrq: HELP", timeout=20)
        status, _, reply = self.api("POST", "/api/v1/domains/ops/trigger", {"trigger": "nmi"})
        self.assertEqual((status, reply), (204, None))
        self.wait_console("ops", r"NMI", timeout=20)
        for path, body, want in (
                ("sysrq", {"key": "!!"}, (400, "invalid")),
                ("sysrq", {}, (400, "invalid")),
                ("trigger", {"trigger": "bogus"}, (400, "invalid")),
                ("trigger", {"trigger": "nmi", "vcpu": 0}, (400, "invalid")),
                ("rename", {"name": "bad name"}, (400, "invalid")),
                ("rename", {"name": 5}, (400, "invalid"))):
            status, _, e = self.api("POST", f"/api/v1/domains/ops/{path}", body)
            self.assert_error(status, *want, e)
        status, _, e = self.api("POST", "/api/v1/domains/nosuch/sysrq", {"key": "h"})
        self.assert_error(status, 404, "not-found", e)

        # vCPU 0 pinned to host CPU 1: its QEMU thread may run there only
        status, _, vcpus = self.api("GET", "/api/v1/domains/ops/vcpus")
        self.assertEqual(status, 200, vcpus)
        self.validate(vcpus, "Vcpu", array=True)
        self.assertEqual([(v["vcpu"], v["online"], v["affinity"]) for v in vcpus],
                         [(0, True, "all")])
        status, _, reply = self.api("PUT", "/api/v1/domains/ops/vcpus/0/affinity", {"cpus": "1"})
        self.assertEqual((status, reply), (204, None))
        status, _, vcpus = self.api("GET", "/api/v1/domains/ops/vcpus")
        self.assertEqual(vcpus[0]["affinity"], "1")
        self.assertEqual(self.vcpu_thread_cpus("ops"), "1")
        # a cpus spec is read by the config's parser: its refusals are config errors
        for vcpu, body, want in (("0", {"cpus": "7-9"}, (400, "config")),
                                 ("3", {"cpus": "0"}, (400, "invalid")),
                                 ("0", {"cpu": "0"}, (400, "invalid"))):
            status, _, e = self.api("PUT", f"/api/v1/domains/ops/vcpus/{vcpu}/affinity", body)
            self.assert_error(status, *want, e)
        self.assertEqual(self.vcpu_thread_cpus("ops"), "1", "a refused pin changes nothing")

        status, _, frame = self.api("GET", "/api/v1/stats")
        self.assertEqual(status, 200, frame)
        self.validate(frame, "StatsFrame")
        [dom] = frame["domains"]
        self.assertEqual((dom["name"], dom["domid"], [v["vcpu"] for v in dom["vcpu_list"]]),
                         ("ops", d["domid"], [0]))
        self.assertGreater(dom["rss_kib"], 0)

        status, _, e = self.api("POST", "/api/v1/domains/ops/job/cancel")
        self.assert_error(status, 409, "state", e)

        status, _, renamed = self.api("POST", "/api/v1/domains/ops/rename", {"name": "ops2"})
        self.assertEqual(status, 200, renamed)
        self.validate(renamed, "Domain")
        self.assertEqual((renamed["name"], renamed["uuid"]), ("ops2", d["uuid"]))
        self.assertEqual(list(self.list_json()), ["ops2"])
        self.create("other")
        status, _, e = self.api("POST", "/api/v1/domains/ops2/rename", {"name": "other"})
        self.assert_error(status, 409, "exists", e)

    def vcpu_thread_cpus(self, name):
        """Cpus_allowed_list of the domain's vCPU 0 thread, read from /proc."""
        pid = self.list_json()[name]["qemu_pid"]
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if not f.read().startswith("CPU 0/"):
                    continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                return [l.split()[1] for l in f if l.startswith("Cpus_allowed_list:")][0]
        self.fail(f"no vCPU 0 thread in QEMU {pid}")

    def test_dump_core_is_a_job_and_cancel(self):
        self.start_kxld()
        self.create_body("dc")
        self.wait_ready("dc")
        core = os.path.join(self.tmp, "dc.core")
        # bad input is refused at once, before any job
        for name, body, want in (("dc", {"file": "relative.core"}, (400, "invalid")),
                                 ("dc", {}, (400, "invalid")),
                                 ("dc", {"file": core, "x": 1}, (400, "invalid")),
                                 ("nosuch", {"file": core}, (404, "not-found"))):
            status, _, e = self.api("POST", f"/api/v1/domains/{name}/dump-core", body)
            self.assert_error(status, *want, e)
        location = self.job("POST", "/api/v1/domains/dc/dump-core", {"file": core})
        done = self.job_end(location)
        self.assertEqual((done["state"], done["status"], done["error"]), ("succeeded", 204, None))
        with open(core, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")
        self.assertGreater(os.path.getsize(core), 200 << 20, "the guest's 256 MiB are in it")
        os.unlink(core)

        # cancelled while QEMU writes: the job fails as cancelled, no file is left
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.connect(os.path.join(self.root, "run/kxl/dc/control.sock"))
        location = self.job("POST", "/api/v1/domains/dc/dump-core", {"file": core})
        self.assertEqual(wait_for_job(self.root, "dc", ctl)["file"], core)
        ctl.close()
        status, _, reply = self.api("POST", "/api/v1/domains/dc/job/cancel")
        self.assertEqual((status, reply), (204, None))
        done = self.job_end(location)
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(done["error"]["message"],
                         f"the memory dump of 'dc' to '{core}' was cancelled")
        self.assertFalse(os.path.exists(core))
        self.assertEqual(self.domain_state("dc"), "running")

    def test_save_job_and_restore(self):
        self.start_kxld()
        self.create_body("sv")
        self.wait_ready("sv")
        self.wait_console("sv", r"KXL-HB 2\b")
        path = os.path.join(self.tmp, "sv.save")
        for body, want in (({"file": "sv.save"}, (400, "invalid")),
                           ({"file": path, "checkpoint": True, "paused": True}, (400, "invalid")),
                           ({"file": path, "config_file": "/nonexistent.cfg"}, (400, "invalid")),
                           ({"file": path, "checkpoint": "yes"}, (400, "invalid"))):
            status, _, e = self.api("POST", "/api/v1/domains/sv/save", body)
            self.assert_error(status, *want, e)
        self.assertFalse(os.path.exists(path))
        location = self.job("POST", "/api/v1/domains/sv/save", {"file": path})
        done = self.job_end(location)
        self.assertEqual((done["state"], done["status"]), ("succeeded", 204), done)
        self.assert_gone("sv")
        last = max(self.beats("sv"))

        garbage = os.path.join(self.tmp, "garbage.save")
        with open(garbage, "wb") as f:
            f.write(os.urandom(4096))
        for body, want in (({"file": garbage}, (400, "invalid")),
                           ({"file": "sv.save"}, (400, "invalid")),
                           ({"file": path, "paused": 1}, (400, "invalid"))):
            status, _, e = self.api("POST", "/api/v1/domains/restore", body)
            self.assert_error(status, *want, e)
        self.assertEqual(self.domain_names(), [], "a refused restore starts nothing")
        status, _, d = self.api("POST", "/api/v1/domains/restore", {"file": path})
        self.assertEqual(status, 201, d)
        self.validate(d, "Domain")
        self.assertEqual(d["name"], "sv")
        # the guest goes on where it was: no second boot, the heartbeat counts on
        self.wait_console("sv", rf"KXL-HB {last + 2}\b", timeout=30)
        beats = self.beats("sv")   # the restored domain's console log is a new one
        self.assertNotIn("KXL-READY", self.console_log("sv"), "the guest did not boot again")
        self.assertIn(beats[0], (last + 1, last + 2), f"saved at {last}, then {beats[:5]}")
        self.assertEqual(beats, sorted(beats))
        status, _, e = self.api("POST", "/api/v1/domains/restore", {"file": path})
        self.assert_error(status, 409, "exists", e)


class KxldDeviceOpsTest(KxldOpsTestCase):

    def ext4_image(self, name, text, fmt="raw"):
        tree = os.path.join(self.tmp, name + ".d")
        os.makedirs(tree)
        with open(os.path.join(tree, "marker.txt"), "w") as f:
            f.write(text)
        raw = os.path.join(self.tmp, name + ".raw")
        run("truncate", "-s", "64M", raw)
        run("mkfs.ext4", "-q", "-F", "-d", tree, raw)
        if fmt == "raw":
            return raw
        img = os.path.join(self.tmp, name + ".qcow2")
        run("qemu-img", "convert", "-O", "qcow2", raw, img)
        os.unlink(raw)
        return img

    def iso(self, name, text):
        tree = os.path.join(self.tmp, name + ".iso.d")
        os.makedirs(tree)
        with open(os.path.join(tree, "hello.txt"), "w") as f:
            f.write(text)
        path = os.path.join(self.tmp, name + ".iso")
        run("xorriso", "-as", "mkisofs", "-quiet", "-V", name.upper(), "-o", path, tree)
        return path

    def disks(self, name):
        status, _, disks = self.api("GET", f"/api/v1/domains/{name}/disks")
        self.assertEqual(status, 200, disks)
        return {d["vdev"]: d for d in disks}

    def test_disks_and_media(self):
        self.start_kxld()
        self.create_body("dk", "disk = [ ',,hdc,cdrom' ]")
        self.wait_ready("dk")
        data = self.ext4_image("data", "from-the-api\n")
        spec = f"format=raw,vdev=xvdb,access=rw,target={data}"
        for body, want in (({"spec": "format=raw,vdev=xvdb,target=data.raw"}, (400, "invalid")),
                           ({"spec": "format=nonsense,vdev=xvdb"}, (400, "config")),
                           ({}, (400, "invalid"))):
            status, _, e = self.api("POST", "/api/v1/domains/dk/disks", body)
            self.assert_error(status, *want, e)
        self.assertEqual(sorted(self.disks("dk")), ["hdc"], "nothing plugged by a refusal")
        status, _, disk = self.api("POST", "/api/v1/domains/dk/disks", {"spec": spec})
        self.assertEqual(status, 201, disk)
        self.validate(disk, "Disk")
        self.assertEqual((disk["vdev"], disk["target"], disk["mode"]), ("xvdb", data, "w"))
        self.guest_sh("dk", "while [ ! -e /dev/vda ]; do sleep 0.2; done; mkdir -p /mnt/x; "
                      "mount /dev/vda /mnt/x && cat /mnt/x/marker.txt", r"from-the-api")
        status, _, e = self.api("POST", "/api/v1/domains/dk/disks", {"spec": spec})
        self.assert_error(status, 409, "exists", e)
        self.guest_sh("dk", "umount /mnt/x; echo unmounted-$((6*7))", r"unmounted-42")
        status, _, reply = self.api("DELETE", "/api/v1/domains/dk/disks/xvdb")
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(sorted(self.disks("dk")), ["hdc"])
        self.guest_sh("dk", "while [ -e /dev/vda ]; do sleep 0.2; done; echo gone-$((6*7))",
                      r"gone-42")
        status, _, e = self.api("DELETE", "/api/v1/domains/dk/disks/xvdb")
        self.assert_error(status, 404, "not-found", e)

        disc = self.iso("one", "first-disc\n")
        for body, want in (({"file": "one.iso"}, (400, "invalid")),
                           ({"file": "/nonexistent.iso"}, (400, "invalid"))):
            status, _, e = self.api("PUT", "/api/v1/domains/dk/disks/hdc/medium", body)
            self.assert_error(status, *want, e)
        status, _, e = self.api("PUT", "/api/v1/domains/dk/disks/hdz/medium", {"file": disc})
        self.assert_error(status, 404, "not-found", e)
        status, _, e = self.api("PUT", "/api/v1/domains/dk/disks/xvdb/medium", {"file": disc})
        self.assert_error(status, 404, "not-found", e)
        status, _, reply = self.api("PUT", "/api/v1/domains/dk/disks/hdc/medium", {"file": disc})
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(self.disks("dk")["hdc"]["target"], disc)
        self.guest_sh("dk", "mkdir -p /mnt/cd && mount -t iso9660 /dev/sr0 /mnt/cd && "
                      "cat /mnt/cd/hello.txt", r"first-disc")
        self.guest_sh("dk", "umount /mnt/cd; echo unmounted-$((6*7))", r"unmounted-42")
        status, _, reply = self.api("DELETE", "/api/v1/domains/dk/disks/hdc/medium")
        self.assertEqual((status, reply), (204, None))
        self.assertIsNone(self.disks("dk")["hdc"]["target"])

    def test_snapshots(self):
        # kxld's working directory holds a file named like the domain (its config, say): the
        # running domain is still what the routes snapshot, not that file's disks
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        img = self.ext4_image("root", "x\n", fmt="qcow2")
        text = guest_cfg("sn", f"disk = [ 'format=qcow2,vdev=xvda,target={img}' ]")
        with open(os.path.join(home, "sn"), "w") as f:
            f.write(text)
        self.start_kxld_at(cwd=home)
        status, _, d = self.api("POST", "/api/v1/domains", {"config": text})
        self.assertEqual(status, 201, d)
        self.wait_ready("sn")
        for body, want in (({"name": "bad name"}, (400, "invalid")), ({}, (400, "invalid"))):
            status, _, e = self.api("POST", "/api/v1/domains/sn/snapshots", body)
            self.assert_error(status, *want, e)
        status, _, e = self.api("POST", "/api/v1/domains/nosuch/snapshots", {"name": "s1"})
        self.assert_error(status, 404, "not-found", e)

        self.wait_console("sn", r"KXL-HB 2\b")
        location = self.job("POST", "/api/v1/domains/sn/snapshots", {"name": "s1"})
        done = self.job_end(location)
        self.assertEqual((done["state"], done["status"]), ("succeeded", 201), done)
        self.assertEqual(done["result"], {"domain": "sn", "name": "s1"})
        taken_at = max(self.beats("sn"))
        listing = self.snapshots("sn")
        self.assertEqual([(s["name"], s["disks"], s["on_all_disks"]) for s in listing],
                         [("s1", ["xvda"], True)])
        # with the guest's memory, taken just now, when the guest had run a while
        self.assertGreater(listing[0]["vm_state_size"], 1 << 20)
        self.assertLess(abs(listing[0]["date"] - time.time()), 120)
        self.assertGreater(listing[0]["vm_clock_ns"], 10**9)
        self.assertEqual(listing, json.loads(self.kxl("snapshot-list", "--json", "sn",
                                                      check=True).stdout), "one truth")
        self.assertRegex(self.kxl("snapshot-list", "sn", check=True).stdout,
                         r"Snapshots on every disk:\n.*\n\S+\s+s1\s+\d")

        # back to s1: the guest's memory is as it was, so its heartbeat counts again from there
        self.wait_console("sn", rf"KXL-HB {taken_at + 3}\b", timeout=30)
        mark = len(self.console_log("sn"))
        status, _, reply = self.api("POST", "/api/v1/domains/sn/snapshots/s1/revert")
        self.assertEqual((status, reply), (204, None))
        m = self.wait_console("sn", r"KXL-HB (\d+)", start=mark, timeout=30)
        self.assertLessEqual(int(m.group(1)), taken_at + 2, "the heartbeat went back")
        status, _, e = self.api("POST", "/api/v1/domains/sn/snapshots/nosuch/revert")
        self.assert_error(status, 404, "not-found", e)
        # QEMU's delete of a name no disk has is done already, as for kxl snapshot-delete
        status, _, reply = self.api("DELETE", "/api/v1/domains/sn/snapshots/nosuch")
        self.assertEqual((status, reply), (204, None))
        status, _, e = self.api("DELETE", "/api/v1/domains/sn/snapshots/bad%20name")
        self.assert_error(status, 400, "invalid", e)
        status, _, reply = self.api("DELETE", "/api/v1/domains/sn/snapshots/s1")
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(self.snapshots("sn"), [])

    def snapshots(self, name):
        """GET .../snapshots, checked against the spec."""
        status, _, listing = self.api("GET", f"/api/v1/domains/{name}/snapshots")
        self.assertEqual(status, 200, listing)
        self.validate(listing, "SnapshotList")
        return listing

    def qemu_img_snapshots(self, img):
        info = json.loads(run("qemu-img", "info", "--output=json", "-U", img).stdout)
        return [s["name"] for s in info.get("snapshots", [])]

    def test_snapshots_shut_down(self):
        """A domain that does not run: the routes take its config file ROOT/etc/kxl/NAME.cfg
        and snapshot its disks with qemu-img, as kxl snapshot-* CONFIG does; once it runs,
        the same routes go to its supervisor and list the same snapshot."""
        img = self.ext4_image("off", "before\n", fmt="qcow2")
        etc = os.path.join(self.root, "etc/kxl")
        os.makedirs(etc, exist_ok=True)
        cfg = os.path.join(etc, "off.cfg")
        with open(cfg, "w") as f:
            f.write(guest_cfg("off", f"disk = [ 'format=qcow2,vdev=xvda,target={img}' ]"))
        raw = self.ext4_image("rawdisk", "x\n")
        with open(os.path.join(etc, "rw.cfg"), "w") as f:
            f.write(guest_cfg("rw", f"disk = [ 'file:{raw},xvda,w' ]"))
        with open(os.path.join(etc, "alias.cfg"), "w") as f:
            f.write(guest_cfg("other", f"disk = [ 'format=qcow2,vdev=xvda,target={img}' ]"))
        self.start_kxld()

        self.assertEqual(self.snapshots("off"), [])
        for path in ("/api/v1/domains/nosuch/snapshots", "/api/v1/domains/alias/snapshots"):
            status, _, e = self.api("GET", path)
            self.assert_error(status, 404, "not-found", e)
        status, _, e = self.api("POST", "/api/v1/domains/nosuch/snapshots", {"name": "s"})
        self.assert_error(status, 404, "not-found", e)
        # a raw disk: the job fails as the command does, and no disk changed
        done = self.job_end(self.job("POST", "/api/v1/domains/rw/snapshots", {"name": "x"}))
        self.assertEqual((done["state"], done["status"], done["error"]["code"]),
                         ("failed", 400, "invalid"), done)
        self.assertIn("snapshots need qcow2 disks", done["error"]["message"])

        done = self.job_end(self.job("POST", "/api/v1/domains/off/snapshots", {"name": "clean"}))
        self.assertEqual((done["state"], done["status"], done["result"]),
                         ("succeeded", 201, {"domain": "off", "name": "clean"}), done)
        self.assertEqual(self.qemu_img_snapshots(img), ["clean"])
        offline = self.snapshots("off")
        self.assertEqual([(s["name"], s["disks"], s["on_all_disks"], s["vm_state_size"])
                          for s in offline], [("clean", ["xvda"], True, 0)])
        self.assertEqual(offline, json.loads(self.kxl("snapshot-list", "--json", cfg,
                                                      check=True).stdout), "one truth")
        status, _, e = self.api("POST", "/api/v1/domains/off/snapshots/nosuch/revert")
        self.assert_error(status, 404, "not-found", e)

        # the guest changes its disk; the domain's supervisor lists the same snapshot
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": cfg})
        self.assertEqual(status, 201, d)
        self.wait_ready("off")
        self.guest_sh("off", "echo dirty > /mnt/data/b.txt; sync; echo synced-$((6*7))",
                      r"synced-42")
        running = self.snapshots("off")
        self.assertEqual([(s["name"], s["date"]) for s in running],
                         [(s["name"], s["date"]) for s in offline])
        self.kxl("shutdown", "-w", "off", check=True, timeout=90)
        self.assertEqual(self.domain_names(), [])

        # back to clean while shut down: the next boot has no b.txt
        status, _, reply = self.api("POST", "/api/v1/domains/off/snapshots/clean/revert")
        self.assertEqual((status, reply), (204, None))
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": cfg})
        self.assertEqual(status, 201, d)
        self.wait_ready("off")
        m = self.guest_sh("off", "cat /mnt/data/marker.txt; test -e /mnt/data/b.txt && "
                          "echo has-b-$((6*6)) || echo no-b-$((6*7))", r"(has-b-36|no-b-42)")
        self.assertEqual(m.group(1), b"no-b-42")
        self.kxl("destroy", "off", check=True)
        status, _, reply = self.api("DELETE", "/api/v1/domains/off/snapshots/clean")
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(self.qemu_img_snapshots(img), [])
        self.assertEqual(self.snapshots("off"), [])


class KxldNetworkOpsTest(KxldOpsTestCase):
    """kxld, its domains' supervisors and their taps in a network namespace of the test's."""

    def setUp(self):
        super().setUp()
        self.ns = f"kxlt-{uuid.uuid4().hex[:6]}"
        run("ip", "netns", "add", self.ns)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns], capture_output=True)
        self.nsx("ip", "link", "set", "lo", "up")

    def nsx(self, *args):
        return run("ip", "netns", "exec", self.ns, *args)

    def test_networks_and_vifs(self):
        self.start_kxld_at(prefix=("ip", "netns", "exec", self.ns))
        status, _, nets = self.api("GET", "/api/v1/networks")
        self.assertEqual((status, nets), (200, []))
        r = subprocess.run(["ip", "netns", "exec", self.ns, KXL, "network-create", "lan",
                            "type=bridge", "bridge=br-lan"], env=self.env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        broken = os.path.join(self.root, "etc/kxl/networks/broken")
        with open(broken, "w") as f:
            f.write("type = 'nonsense'\n")
        status, _, nets = self.api("GET", "/api/v1/networks")
        self.assertEqual(status, 200, nets)
        self.validate(nets, "Network", array=True)
        self.assertEqual([n["name"] for n in nets], ["broken", "lan"])
        self.assertIn("nonsense", nets[0]["error"])
        self.assertEqual((nets[1]["type"], nets[1]["bridge"], nets[1]["active"]),
                         ("bridge", "br-lan", True))
        self.assertIn("br-lan", self.nsx("ip", "-o", "link").stdout)
        os.unlink(broken)

        self.create_body("nv")
        self.wait_ready("nv")
        for body, want in (({"spec": "bridge=nosuch-br"}, None), ({"spec": 3}, (400, "invalid")),
                           ({"bridge": "br-lan"}, (400, "invalid"))):
            status, _, e = self.api("POST", "/api/v1/domains/nv/vifs", body)
            if want:
                self.assert_error(status, *want, e)
            else:
                self.assertGreaterEqual(status, 400, e)
                self.validate(e, "Error")
        status, _, vif = self.api("POST", "/api/v1/domains/nv/vifs", {"spec": "bridge=br-lan"})
        self.assertEqual(status, 201, vif)
        self.validate(vif, "Vif")
        self.assertEqual(vif["devid"], 0)
        # the tap is on the bridge in kxld's namespace, and the guest has its NIC
        self.assertIn(f"master br-lan", self.nsx("ip", "-o", "link", "show", vif["vifname"]).stdout)
        self.guest_sh("nv", "while ! ip link show eth0 >/dev/null 2>&1; do sleep 0.2; done; "
                      "echo nic-$((6*7))", r"nic-42", timeout=60)
        status, _, reply = self.api("DELETE", f"/api/v1/domains/nv/vifs/{vif['devid']}")
        self.assertEqual((status, reply), (204, None))
        self.guest_sh("nv", "while ip link show eth0 >/dev/null 2>&1; do sleep 0.2; done; "
                      "echo nonic-$((6*7))", r"nonic-42", timeout=60)
        self.assertNotIn(vif["vifname"], self.nsx("ip", "-o", "link").stdout)
        status, _, e = self.api("DELETE", "/api/v1/domains/nv/vifs/0")
        self.assert_error(status, 404, "not-found", e)
