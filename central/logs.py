"""Repeated log lines are counted, not repeated.

When the receiver runs out of descriptors asyncio logs "socket.accept() out
of system resource" with a traceback on every accept attempt: the hostile
review saw 90 MB of log in seconds, which fills the disk the photos are on.
The first line of a kind is written; the same kind again within
``interval`` seconds is only counted, and the next one written after that
says how many were held back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

# The loggers whose lines can repeat without bound under load or attack.
NOISY_LOGGERS = ("asyncio", "uvicorn.error", "central")


class RepeatFilter(logging.Filter):
    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self.lock = threading.Lock()
        self.last: dict[tuple[str, int, str], float] = {}
        self.held: dict[tuple[str, int, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        at = self.clock()
        with self.lock:
            last = self.last.get(key)
            if last is not None and at - last < self.interval:
                self.held[key] = self.held.get(key, 0) + 1
                return False
            self.last[key] = at
            held = self.held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.interval:.0f} s)"
        return True


def limit_repeats(interval: float = 60.0, names: Iterable[str] = NOISY_LOGGERS) -> RepeatFilter:
    """Install one shared filter on the noisy loggers; returns it (for tests)."""
    repeat = RepeatFilter(interval)
    for name in names:
        logging.getLogger(name).addFilter(repeat)
    return repeat
