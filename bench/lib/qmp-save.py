#!/usr/bin/env python3
"""qmp-save.py - plain QEMU's save and restore, driven over QMP the way a careful script
would, as the floor kxl's are measured against (bench-save.sh):

  qmp-save.py save SOCK FILE     stop the guest, stream its state into FILE through a
                                 descriptor (getfd + migrate fd:), unthrottled, fsync, quit
  qmp-save.py restore SOCK FILE  into a QEMU started with -incoming defer: the stream from
                                 FILE (getfd + migrate-incoming fd:), then cont
  qmp-save.py cont SOCK          let a QEMU started with -S run

Polls query-migrate every 10 ms; exits 1 with QEMU's error when the migration fails."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmpclient import Qmp as QmpClient  # noqa: E402


class Qmp(QmpClient):
    def __init__(self, path):
        super().__init__(path, "qmp-save")

    def wait_migration(self):
        while True:
            st = self.cmd("query-migrate")
            if st.get("status") == "completed":
                return
            if st.get("status") in ("failed", "cancelled"):
                sys.exit(f"qmp-save: migration {st['status']}: {st.get('error-desc', '')}")
            time.sleep(0.01)


def save(q, path):
    q.cmd("stop")
    q.cmd("migrate-set-parameters", **{"max-bandwidth": 2 ** 62})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    q.cmd("getfd", fd=fd, fdname="save")
    q.cmd("migrate", uri="fd:save")
    q.wait_migration()
    os.fsync(fd)
    os.close(fd)
    q.cmd("quit")


def restore(q, path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    q.cmd("getfd", fd=fd, fdname="restore")
    q.cmd("migrate-incoming", uri="fd:restore")
    q.wait_migration()
    q.cmd("cont")
    os.close(fd)


if __name__ == "__main__":
    if sys.argv[1:2] == ["cont"] and len(sys.argv) == 3:
        Qmp(sys.argv[2]).cmd("cont")
    elif len(sys.argv) == 4 and sys.argv[1] in ("save", "restore"):
        {"save": save, "restore": restore}[sys.argv[1]](Qmp(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
