"""End-to-end test of a domain's running job on the web UI's dashboard (issue 15): Debian's
chromium (playwright-core, tests/browser/webui_jobs.cjs) against a real kxld over HTTPS and a
real guest. The test starts a memory dump through the API (a job: 202) into a FIFO that it
reads slowly, as a slow disk would take it, so the dump runs long enough for a person to see;
the card shows the job's phase and progress and a Cancel button; the click cancels it (the job
of the API fails as cancelled, the file is removed) and the guest runs on. Screenshots (job,
job-cancelled) go to $KXL_SCREENSHOTS (default /tmp/kxl-webui-screenshots)."""

import os
import re
import threading
import time

from test_kxld_tls import TOKEN, TlsKxldTestCase
from test_webui import WEB_DIR, browse

RATE = 8 << 20   # bytes a second the FIFO is read at until Cancel was clicked


class SlowReader(threading.Thread):
    """Reads a FIFO at RATE bytes a second until drained(), then as fast as it comes; ends at
    the writer's close."""

    def __init__(self, path):
        super().__init__(daemon=True)
        # opened first (without waiting for a writer), so the supervisor's open does not block
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(self.fd, True)
        self.fast = threading.Event()
        self.total = 0
        self.total_at_drain = None

    def drained(self):
        self.total_at_drain = self.total
        self.fast.set()

    def run(self):
        t0 = None
        while True:
            data = os.read(self.fd, 1 << 16)
            if not data:
                if self.total:
                    break   # the writer closed: the dump's end
                time.sleep(0.02)   # no writer yet
                continue
            t0 = t0 or time.monotonic()
            self.total += len(data)
            if not self.fast.is_set():
                ahead = self.total / RATE - (time.monotonic() - t0)
                if ahead > 0:
                    self.fast.wait(ahead)
        os.close(self.fd)


class WebUiJobsTest(TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)

    def test_job_progress_and_cancel(self):
        name = "webjob"
        self.create(name)
        self.start_kxld()
        self.wait_ready(name)
        fifo = os.path.join(self.tmp, "slow-disk")
        os.mkfifo(fifo)
        reader = SlowReader(fifo)
        reader.start()
        started = {}

        def start(_):
            path = f"/api/v1/domains/{name}/dump-core"
            status, headers, job = self.https("POST", path, token=TOKEN, body={"file": fifo})
            self.assertEqual(status, 202, job)
            started["location"] = headers["Location"]
            return started["location"]

        def drain(_):
            reader.drained()
            return True

        result = browse(self, "webui_jobs.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_DOMAIN": name},
                        {"start": start, "drain": drain})
        print(f"\nweb UI (jobs): {result}", flush=True)
        reader.join(timeout=120)
        # the click came while QEMU was still writing: less than the guest's 256 MiB read then
        self.assertLess(reader.total_at_drain, 200 << 20)
        self.assertGreater(reader.total, 256 << 20)
        # the card: phase and progress while it ran, a bar, then how it ended
        self.assertRegex(result["running_text"], r"^dump: writing \d+ %$")
        self.assertTrue(result["bar"]["visible"])
        self.assertEqual(result["bar"]["max"], 100)
        self.assertGreater(result["bar"]["value"], 0)
        self.assertTrue([t for t in result["texts"] if re.match(r"dump: cancelling( \d+ %)?$", t)],
                        result["texts"])
        self.assertEqual(result["end_status"], "cancelled")
        self.assertEqual(result["end_text"],
                         f"dump cancelled: the memory dump of '{name}' to '{fifo}' was cancelled")
        self.assertTrue(result["cancel_hidden"] and result["bar_hidden"])
        self.assertEqual((result["card_error"], result["page_errors"]), ("", []))
        # seen from outside: the API's job failed as cancelled, no file, the guest runs on
        status, _, done = self.https("GET", f"{started['location']}/wait?timeout=60",
                                     token=TOKEN)
        self.assertEqual((status, done["state"]), (200, "failed"), done)
        self.assertIn("was cancelled", done["error"]["message"])
        self.assertFalse(os.path.exists(fifo))
        self.assertEqual(result["state_after"], "running")
        self.assertEqual(self.list_json()[name]["state"], "running")
        beats = self.heartbeats(name)
        deadline = time.monotonic() + 20
        while self.heartbeats(name) == beats:
            self.assertLess(time.monotonic(), deadline, "no heartbeat after the cancel")
            time.sleep(0.2)
