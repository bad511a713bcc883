"""One sync at a time per data folder.

Three `kiosk sync` runs started together (a timer firing while the crew ran
one by hand) sent 637 uploads for 240 photos: each formed or resumed the
same open batch and uploaded its photos. An advisory ``flock`` on
``<data>/sync.lock`` makes the second run stop at once with a sentence; the
kernel releases the lock when the holder exits, even on SIGKILL, so a crash
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from kiosk.lang import Said

LOCK_NAME = "sync.lock"


class SyncLockHeld(Exception):
    """Another process syncs (or purges) this data folder right now."""


class SyncLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self, what: str) -> SyncLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise SyncLockHeld(
                Said.of(
                    "sync.lock_held",
                    pid=holder if holder.isdigit() else "?",
                    what=what,
                    path=self.path,
                )
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self.fd = fd  # held until this process exits (or the descriptor is closed)
        return self
