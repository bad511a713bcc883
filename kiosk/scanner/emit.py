"""The guard between a backend's thread and the station's callback.

A backend thread must outlive anything: a device that misbehaves (handled in
each backend) and a callback that raises (handled here). A dead scanner
thread would look like a quiet scanner to the crew, so an exception from
``emit`` is logged and the thread carries on.
"""

from __future__ import annotations

import logging
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
