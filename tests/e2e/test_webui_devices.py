"""End-to-end test of the web UI's Storage dialog (issue 15): Debian's chromium (playwright-core,
tests/browser/webui_devices.cjs) against a real kxld over HTTPS and a real guest with a qcow2
disk and an empty CD-ROM drive: a snapshot taken (a job, followed once a second while it runs
and not after), listed, reverted to through a confirmation that names the domain and the
snapshot (the domain still running), deleted; an ISO inserted and ejected; a disk attached and
detached. After each step the test checks the same through the API (and kxl list).
Screenshots go to $KXL_SCREENSHOTS (default /tmp/kxl-webui-screenshots)."""

import json
import os
import re
import subprocess

from kxltest import GUEST
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
        """The tags of QEMU's listing, as the API gives it."""
        listing = self.api_get(f"/api/v1/domains/{name}/snapshots")["listing"]
        if not re.search(r"^ID\s+TAG", listing, re.M):
            return []
        table = re.split(r"^ID\s+TAG.*$", listing, maxsplit=1, flags=re.M)[1]
        return re.findall(r"^\S+\s+(\S+)", table, re.M)

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
        result = None
        with subprocess.Popen(["node", SCRIPT], env=env, stdin=subprocess.PIPE,
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
        print(f"\nweb UI (storage): {json.dumps(result)}", flush=True)
        self.assertEqual(result["title"], f"Storage of {name}")
        # the snapshot: a job shown while it ran, then listed in the page and by the API
        self.assertTrue(result["job_status"].startswith(f"Snapshot ui-snap of {name}"), result)
        self.assertEqual(result["job_done"], f"Snapshot ui-snap of {name}: done.")
        self.assertEqual(result["snapshot_error"], "")
        self.assertEqual(result["listed_in_page"], 1)
        self.assertEqual(result["api_after_create"], ["ui-snap"])
        # revert: the confirmation names both; the domain still runs, the snapshot stays
        self.assertIn(f"domain {name}", result["revert_confirm"])
        self.assertIn("snapshot ui-snap", result["revert_confirm"])
        self.assertEqual(result["revert_confirm_ok"], f"Revert {name} to ui-snap")
        self.assertEqual(result["revert_error"], "")
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
        for shot in ("storage.png", "storage-dark.png", "storage-phone.png", "snapshot-job.png"):
            self.assertGreater(os.path.getsize(os.path.join(SHOTS, shot)), 5000, shot)


if __name__ == "__main__":
    import unittest
    unittest.main()
