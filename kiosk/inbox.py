"""What the station's threads post to the main loop, besides the station's own events.

The records, judge and still threads and the scanner and pedal callbacks
never touch the station's state: they post a message, and the main loop
feeds it to :func:`kiosk.station.step` (or shows it) on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk import station as st
from kiosk.progress import Progress


@dataclass(frozen=True)
class ProgressUpdated:
    """A fresh snapshot for the crew screen (counts, rate, recent shots)."""

    progress: Progress


@dataclass(frozen=True)
class Failure:
    """A thread's job failed unexpectedly: the station goes failsafe and keeps the student."""

    error: BaseException


Message = st.Event | ProgressUpdated | Failure
Post = Callable[[Message], None]
