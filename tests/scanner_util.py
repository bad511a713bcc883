"""Helpers for the scanner tests: collect backend events and wait for them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.scanner.base import DeviceStatus, Scan


class Events:
    """An emit callback that records events and lets a test wait for one."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    @property
    def scans(self) -> list[Scan]:
        return [e for e in self.items if isinstance(e, Scan)]

    @property
    def statuses(self) -> list[DeviceStatus]:
        return [e for e in self.items if isinstance(e, DeviceStatus)]

    def wait_for(
        self, predicate: Callable[[Any], bool], timeout: float = 3.0, after: int = 0
    ) -> Any:
        """The first event from index ``after`` on that matches, or AssertionError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.items[after:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event in {timeout} s; got {self.items!r}")
                self._cond.wait(left)

    def wait_scan(self, timeout: float = 3.0, after: int = 0) -> Scan:
        return self.wait_for(lambda e: isinstance(e, Scan), timeout, after)

    def wait_status(self, state: str, timeout: float = 3.0, after: int = 0) -> DeviceStatus:
        return self.wait_for(
            lambda e: isinstance(e, DeviceStatus) and e.state == state, timeout, after
        )
