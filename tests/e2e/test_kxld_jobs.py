"""End-to-end tests of the API's jobs: a long operation asked with "Prefer: respond-async"
answers 202 at once with a job (and its Location), and GET /api/v1/jobs/{id} then gives what
the request would have answered. Real guests: the job's create is the domain kxl list sees,
its shutdown the guest's clean power-off."""

import json
import os
import signal
import threading
import time

from test_kxld import KxldTestCase

ASYNC = {"Prefer": "respond-async"}


class KxldJobsTest(KxldTestCase):

    def api_async(self, method, path, body=None):
        """(status, Location, job) of a request asked as a job."""
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers={"Content-Type": "application/json", **ASYNC})
        r = self.conn.getresponse()
        job = json.loads(r.read())
        return r.status, r.getheader("Location"), job

    def wait_job(self, location, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, job = self.api("GET", location)
            self.assertEqual(status, 200, job)
            self.validate(job, "Job")
            if job["state"] != "running":
                return job
            time.sleep(0.1)
        self.fail(f"{location} still running after {timeout} s")

    def test_create_and_shutdown_as_jobs(self):
        self.start_kxld()
        t = time.monotonic()
        status, location, job = self.api_async("POST", "/api/v1/domains",
                                               {"config_file": self.write_cfg("jb")})
        answered = time.monotonic() - t
        self.assertEqual(status, 202, job)
        self.validate(job, "Job")
        self.assertEqual((job["state"], job["request"]), ("running", "POST /api/v1/domains"))
        self.assertEqual(location, f"/api/v1/jobs/{job['id']}")
        done = self.wait_job(location)
        self.assertLess(answered, done["ended"] - done["started"], "202 came before the end")
        self.assertEqual((done["state"], done["status"], done["error"]), ("succeeded", 201, None))
        self.validate(done["result"], "Domain")
        self.assertEqual(done["result"]["domid"], self.list_json()["jb"]["domid"])
        self.wait_ready("jb")

        status, location, job = self.api_async("POST", "/api/v1/domains/jb/shutdown",
                                               {"wait": True})
        self.assertEqual(status, 202, job)
        status, _, doms = self.api("GET", "/api/v1/domains")   # other requests go on
        self.assertEqual([d["name"] for d in doms], ["jb"])
        status, _, job = self.api("GET", f"{location}/wait?timeout=0")
        self.assertEqual((status, job["state"]), (200, "running"))
        status, _, done = self.api("GET", f"{location}/wait?timeout=120")
        self.assertEqual(status, 200, done)
        self.validate(done, "Job")
        self.assertEqual((done["state"], done["status"], done["result"]), ("succeeded", 204, None))
        self.assertIn("reboot: Power down", self.console_log("jb"), "a clean power-off")
        self.assert_gone("jb")

    def test_a_failed_job_keeps_its_error(self):
        self.start_kxld()
        status, location, job = self.api_async("DELETE", "/api/v1/domains/nosuch")
        self.assertEqual(status, 202, job)
        done = self.wait_job(location)
        self.assertEqual((done["state"], done["status"], done["result"]), ("failed", 404, None))
        self.assertEqual(done["error"], {"code": "not-found",
                                         "message": "domain 'nosuch' does not exist"})
        status, _, e = self.api("GET", "/api/v1/jobs/999")
        self.assert_error(status, 404, "not-found", e)
        status, _, e = self.api("GET", f"{location}/wait?timeout=forever")
        self.assert_error(status, 400, "invalid", e)
        # a short operation answers as always, Prefer or not
        status, _, e = self.api_async("POST", "/api/v1/domains/nosuch/pause")
        self.assert_error(status, 404, "not-found", e)

    def test_cancel_a_job_by_its_id(self):
        """POST /api/v1/jobs/{id}/cancel: a save that runs as the domain's job (its QEMU held
        still by SIGSTOP, so it cannot end first) ends as cancelled, leaves no file, and the
        guest runs on; an ended job, one that is no domain's own and an unknown one are
        refused."""
        self.start_kxld()
        status, _, d = self.api("POST", "/api/v1/domains",
                                {"config_file": self.write_cfg("jc", memory=512)})
        self.assertEqual(status, 201, d)
        self.wait_console("jc", r"KXL-HB 1\b")
        out = os.path.join(self.tmp, "saves")
        os.makedirs(out)
        location, _, qemu = self.save_held("jc", os.path.join(out, "jc.save"))
        try:
            # the cancel is answered once QEMU, let go a moment later, has taken it
            answer = {}
            asked = threading.Thread(target=lambda: answer.update(
                r=self.api("POST", f"{location}/cancel")))
            asked.start()
            time.sleep(0.5)
        finally:
            os.kill(qemu, signal.SIGCONT)
        asked.join(60)
        status, _, reply = answer["r"]
        self.assertEqual((status, reply), (204, None))
        done = self.wait_job(location)
        self.assertEqual((done["state"], done["status"], done["error"]["code"]),
                         ("failed", 409, "state"), done)
        self.assertIn("was cancelled", done["error"]["message"])
        self.assertEqual(os.listdir(out), [], "no save file, no temporary file")
        self.assertEqual(self.domain_state("jc"), "running")
        mark = len(self.console_log("jc"))
        self.wait_console("jc", r"KXL-HB \d+", start=mark, timeout=20)

        status, _, e = self.api("POST", f"{location}/cancel")
        self.assert_error(status, 409, "state", e)
        self.assertIn("has ended (failed)", e["error"]["message"])
        status, _, e = self.api("POST", "/api/v1/jobs/999999/cancel")
        self.assert_error(status, 404, "not-found", e)
        # a shutdown that waits is a job of kxld's, not of the supervisor: not cancellable
        status, location, job = self.api_async("POST", "/api/v1/domains/jc/shutdown",
                                               {"wait": True})
        self.assertEqual(status, 202, job)
        status, _, e = self.api("POST", f"{location}/cancel")
        self.assert_error(status, 409, "state", e)
        self.assertRegex(e["error"]["message"], r"cannot be cancelled|has ended")
        self.wait_job(location)
