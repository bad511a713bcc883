"""The guard between a backend's thread and the station's callback.

A backend thread must outlive anything: a device that misbehaves (handled in
each backend) and a callback that raises (handled here). A dead scanner
thread would look like a quiet scanner to the crew, so an exception from
``emit`` is logged and the thread carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.scanner.base import Event

log = logging.getLogger(__name__)


def guarded(emit: Callable[[Event], None], source: str) -> Callable[[Event], None]:
    def call(event: Event) -> None:
        try:
            emit(event)
        except Exception:
            log.exception("%s: the event handler raised on %s", source, type(event).__name__)

    return call


class ThreadedBackend:
    """start/stop for a backend whose ``_run(emit)`` loops on its own thread.

    Subclasses set ``source`` and implement ``_run``, which must return soon
    after ``self._stop`` is set; ``emit`` reaches it already guarded.
    """

    source: str
    join_timeout = 2.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, emit: Callable[[Event], None]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(guarded(emit, self.source),), name=self.source, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout)
            self._thread = None

    def _run(self, emit: Callable[[Event], None]) -> None:
        raise NotImplementedError
