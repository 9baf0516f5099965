"""End-to-end tests of the web UI's Devices dialog (issue 15): Debian's chromium (playwright-core,
tests/browser/webui_devices.cjs) against a real kxld over HTTPS and a real guest with a qcow2
disk and an empty CD-ROM drive: a snapshot taken (a job, followed once a second while it runs
and not after), listed, reverted to through a confirmation that names the domain and the
snapshot (the domain still running), deleted; an ISO inserted and ejected; a disk attached and
detached. Then, with kxld, its guest and the browser in a network namespace of the test's, a
network interface attached to a bridge there and detached. After each step the test checks
the same through the API (and kxl list, ip link). Screenshots go to $KXL_SCREENSHOTS (default
/tmp/kxl-webui-screenshots)."""

import json
import os
import re
import subprocess
import time
import uuid

from kxltest import KXL
from test_kxld import KXLD, UnixHTTPConnection
from test_kxld_tls import TOKEN, TlsKxldTestCase
from test_webui import BROWSER_MODULES, SHOTS, WEB_DIR

SCRIPT = os.path.join(os.path.dirname(__file__), "../browser/webui_devices.cjs")


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


class WebUiDevicesTest(TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)

    def api_get(self, path):
        status, _, r = self.https("GET", path, token=TOKEN)
        self.assertEqual(status, 200, r)
        return r

    def snapshots(self, name):
        """The names of the domain's snapshots, as the API gives them."""
        listing = self.api_get(f"/api/v1/domains/{name}/snapshots")
        self.validate(listing, "SnapshotList")
        return [s["name"] for s in listing]

    def images(self):
        """(a qcow2 root disk, an ISO with one file, a raw disk to attach)"""
        raw = os.path.join(self.tmp, "root.raw")
        run("truncate", "-s", "64M", raw)
        run("mkfs.ext4", "-q", "-F", raw)
        root = os.path.join(self.tmp, "root.qcow2")
        run("qemu-img", "convert", "-O", "qcow2", raw, root)
        os.unlink(raw)
        tree = os.path.join(self.tmp, "iso.d")
        os.makedirs(tree)
        with open(os.path.join(tree, "hello.txt"), "w") as f:
            f.write("from-the-browser\n")
        iso = os.path.join(self.tmp, "disc.iso")
        run("xorriso", "-as", "mkisofs", "-quiet", "-V", "UIDISC", "-o", iso, tree)
        data = os.path.join(self.tmp, "data.raw")
        run("truncate", "-s", "16M", data)
        return root, iso, data

    def browse(self, env, answers, prefix=()):
        """Runs the browser script, answering its questions; returns what it measured."""
        result = None
        with subprocess.Popen([*prefix, "node", SCRIPT], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            for line in proc.stdout:
                msg = json.loads(line)
                if "ask" in msg:
                    proc.stdin.write(json.dumps(answers[msg["ask"]]()) + "\n")
                    proc.stdin.flush()
                else:
                    result = msg
            stderr = proc.stderr.read()
            rc = proc.wait(timeout=60)
        self.assertIsNotNone(result, f"no result from the browser: {stderr[-3000:]}")
        self.assertEqual(rc, 0, f"{json.dumps(result, indent=1)}\n{stderr[-3000:]}"
                                f"\nkxld: {self.kxld_log()}")
        return result

    def test_storage_in_a_browser(self):
        name = "webdev"
        root, iso, data = self.images()
        self.create(name, extra_lines=f"disk = [ 'format=qcow2,vdev=xvda,target={root}', "
                                      f"',,hdc,cdrom' ]")
        self.start_kxld()
        self.wait_ready(name)
        os.makedirs(SHOTS, exist_ok=True)
        env = dict(self.env, KXL_URL=f"https://127.0.0.1:{self.port}/", KXL_TOKEN=TOKEN,
                   KXL_DOMAIN=name, KXL_ISO=iso, KXL_DISK=data, KXL_SHOTS=SHOTS,
                   NODE_PATH=BROWSER_MODULES)
        answers = {
            "snapshots": lambda: self.snapshots(name),
            "state": lambda: self.list_json()[name]["state"],
            "disks": lambda: {d["vdev"]: d["target"]
                              for d in self.api_get(f"/api/v1/domains/{name}/disks")},
        }
        result = self.browse(env, answers)
        print(f"\nweb UI (devices: storage): {json.dumps(result)}", flush=True)
        self.assertEqual(result["title"], f"Devices of {name}")
        # the snapshot: a job shown while it ran, then listed in the page and by the API
        self.assertTrue(result["job_status"].startswith(f"Snapshot ui-snap of {name}"), result)
        # a running job's status: what, then its seconds (and phase and progress when known)
        for text in result["statuses"]:
            self.assertRegex(text, r"^$|: done\.$|…( \d+ s( \([^()]+\))?)?$")
        self.assertEqual(result["job_done"], f"Snapshot ui-snap of {name}: done.")
        self.assertEqual(result["snapshot_error"], "")
        self.assertEqual(result["listed_in_page"], 1)
        self.assertEqual(result["api_after_create"], ["ui-snap"])
        # revert: the confirmation names both; the domain still runs, the snapshot stays
        self.assertIn(f"domain {name}", result["revert_confirm"])
        self.assertIn("snapshot ui-snap", result["revert_confirm"])
        self.assertEqual(result["revert_confirm_ok"], f"Revert {name} to ui-snap")
        self.assertEqual(result["revert_error"], "")
        self.assertTrue(result["focus_in_dialog"], "the keyboard's focus left the dialog")
        self.assertEqual(result["revert_done"], f"Revert {name} to ui-snap: done.")
        self.assertEqual(result["state_after_revert"], "running")
        self.assertEqual(result["card_after_revert"], "running")
        self.assertEqual(result["api_after_revert"], ["ui-snap"])
        # delete: gone from the page and the API
        self.assertIn("snapshot ui-snap", result["delete_confirm"])
        self.assertEqual(result["delete_error"], "")
        self.assertTrue(result["none_shown"])
        self.assertEqual(result["api_after_delete"], [])
        # the CD-ROM: empty, the ISO in (page and API), out again
        self.assertEqual(result["medium_before"], "empty")
        self.assertEqual(result["insert_error"], "")
        self.assertEqual(result["medium_shown"], iso)
        self.assertEqual(result["api_after_insert"]["hdc"], iso)
        self.assertEqual(result["eject_error"], "")
        self.assertEqual(result["medium_after_eject"], "empty")
        self.assertTrue(result["eject_disabled"])
        self.assertIsNone(result["api_after_eject"]["hdc"])
        # a disk attached and detached
        self.assertEqual(result["attach_error"], "")
        self.assertEqual(result["attached_shown"], data)
        self.assertEqual(result["api_after_attach"].get("xvdb"), data)
        self.assertIn("disk xvdb", result["detach_confirm"])
        self.assertEqual(result["detach_error"], "")
        self.assertTrue(result["detached_gone"])
        self.assertNotIn("xvdb", result["api_after_detach"])
        self.assertEqual(self.list_json()[name]["state"], "running")
        # the jobs were read once a second while they ran, and not once all was done
        self.assertGreater(result["job_reads"], 0)
        if result["min_job_read_gap_ms"] is not None:
            self.assertGreaterEqual(result["min_job_read_gap_ms"], 900)
        self.assertEqual(result["job_reads_when_idle"], 0)
        self.assertFalse(result["phone_overflow"], "the dialog scrolls sideways on a phone")
        self.assertEqual(result["dark_dialog"], "rgb(34, 37, 43)")   # style.css's dark --card
        self.assertEqual(result["page_errors"], [])
        for shot in ("devices.png", "devices-dark.png", "devices-phone.png", "snapshot-job.png"):
            self.assertGreater(os.path.getsize(os.path.join(SHOTS, shot)), 5000, shot)


    def nsx(self, *args):
        return run("ip", "netns", "exec", self.ns, *args)

    def test_nics_in_a_browser(self):
        """kxld, its guest's supervisor and taps, and the browser in a network namespace with
        a bridge: a network interface attached there from the page, and detached."""
        self.ns = f"kxlt-{uuid.uuid4().hex[:6]}"
        run("ip", "netns", "add", self.ns)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns], capture_output=True)
        self.nsx("ip", "link", "set", "lo", "up")
        os.makedirs(SHOTS, exist_ok=True)
        log = open(os.path.join(self.tmp, "kxld.stderr"), "ab")
        self.kxld = subprocess.Popen(["ip", "netns", "exec", self.ns, KXLD, "--foreground", "-v",
                                      "--root", self.root], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while not os.path.exists(self.sock_path) and time.monotonic() < deadline:
            self.assertIsNone(self.kxld.poll(), self.kxld_log())
            time.sleep(0.05)
        self.conn = UnixHTTPConnection(self.sock_path)
        r = subprocess.run(["ip", "netns", "exec", self.ns, KXL, "network-create", "lan",
                            "type=bridge", "bridge=br-lan"], env=self.env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        name = "webnic"
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg(name)})
        self.assertEqual(status, 201, d)
        self.wait_ready(name)

        def vifs():
            status, _, detail = self.api("GET", f"/api/v1/domains/{name}")
            self.assertEqual(status, 200, detail)
            links = self.nsx("ip", "-o", "link").stdout
            return [[v["devid"], v["vifname"], f"{v['vifname']}:" in links and
                     "master br-lan" in self.nsx("ip", "-o", "link", "show", v["vifname"]).stdout]
                    for v in detail["vif_counters"]]

        env = dict(self.env, KXL_URL=f"https://127.0.0.1:{self.port}/", KXL_TOKEN=TOKEN,
                   KXL_DOMAIN=name, KXL_PART="nics", KXL_BRIDGE="br-lan", KXL_SHOTS=SHOTS,
                   NODE_PATH=BROWSER_MODULES)
        result = self.browse(env, {"vifs": vifs}, prefix=("ip", "netns", "exec", self.ns))
        print(f"\nweb UI (devices: nics): {json.dumps(result)}", flush=True)
        self.assertEqual(result["title"], f"Devices of {name}")
        self.assertTrue(result["nics_none_before"])
        self.assertEqual(result["nic_attach_error"], "")
        # the page shows the tap the API has, on the bridge in kxld's namespace
        self.assertEqual(result["api_after_nic_attach"], [[0, result["nic_vifname"], True]])
        self.assertIn("bridge br-lan", result["nic_where"])
        self.assertIn(f"interface 0 ({result['nic_vifname']})", result["nic_detach_confirm"])
        self.assertIn(f"domain {name}", result["nic_detach_confirm"])
        self.assertEqual(result["nic_detach_error"], "")
        self.assertTrue(result["nic_gone"])
        self.assertEqual(result["api_after_nic_detach"], [])
        self.assertNotIn(result["nic_vifname"], self.nsx("ip", "-o", "link").stdout)
        self.assertEqual(result["job_reads_when_idle"], 0)
        self.assertEqual(result["page_errors"], [])
        self.assertGreater(os.path.getsize(os.path.join(SHOTS, "devices-nic.png")), 5000)


if __name__ == "__main__":
    import unittest
    unittest.main()
