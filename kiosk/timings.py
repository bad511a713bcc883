"""How long the station's machine work takes: the benchmark's and the demo's figures.

Why apart from the loop: the numbers are collected on four threads (records,
judge, still, main) and read by the benchmark, the demo's summary and the
tests; none of that decides anything the station does.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kiosk import station as st


@dataclass
class Timings:
    """Machine time per step, seconds (for the benchmark and the demo's summary)."""

    lookup: list[float] = field(default_factory=list)  # scan received -> Scanned
    still: list[float] = field(
        default_factory=list
    )  # TakeStill -> StillJudged (capture+judge+crop)
    save: list[float] = field(default_factory=list)  # SaveShot -> ShotSaved
    per_student: list[float] = field(default_factory=list)  # lookup + still(s) + save
    assess: deque[float] = field(
        default_factory=lambda: deque(maxlen=500)
    )  # per preview assessment
    assessed_at: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    frame_latency: deque[float] = field(
        default_factory=lambda: deque(maxlen=500)
    )  # frame -> screen
    drawn_at: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    judged: int = 0  # preview assessments made back to back while someone was framed ...
    judging_s: float = 0.0  # ... and the wall time they took (for assessments per second)

    @staticmethod
    def rate(times: deque[float]) -> float:
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def summary(self) -> dict[str, float]:
        def med(values: Any) -> float:
            return statistics.median(values) if values else float("nan")

        return {
            "students": len(self.per_student),
            "machine_s_median": med(self.per_student),
            "machine_s_max": max(self.per_student) if self.per_student else float("nan"),
            "lookup_ms_median": med(self.lookup) * 1000,
            "still_ms_median": med(self.still) * 1000,
            "save_ms_median": med(self.save) * 1000,
            "assess_ms_median": med(self.assess) * 1000,
            "assessments_per_s": self.judged / self.judging_s if self.judging_s else 0.0,
            "fps_drawn": self.rate(self.drawn_at),
            "frame_to_screen_ms_median": med(self.frame_latency) * 1000,
        }


class StudentClock:
    """Machine time per student: look-up + stills + save, not the countdown or the steady wait.

    Fed every event the loop applies (with the phase before and after), it
    adds up the machine's share of one student and appends it to
    ``timings.per_student`` when their photo is saved.
    """

    def __init__(self, timings: Timings) -> None:
        self.timings = timings
        self._machine = 0.0
        self._still_requested = 0.0

    def still_requested(self, now: float) -> None:
        self._still_requested = now

    def account(self, event: st.Event, before: st.State, after: st.State, now: float) -> None:
        t = self.timings
        if (
            isinstance(event, st.Scanned)
            and after.phase is st.Phase.IDENTIFIED
            and after.subject is not None
        ):
            self._machine = t.lookup[-1] if t.lookup else 0.0
        if isinstance(event, st.StillJudged | st.StillFailed):
            t.still.append(now - self._still_requested)
            self._machine += t.still[-1]
        if (
            isinstance(event, st.ShotSaved)
            and event.status != "refused"
            and before.phase is st.Phase.SAVING
        ):
            self._machine += t.save[-1] if t.save else 0.0
            t.per_student.append(self._machine)
            self._machine = 0.0
