"""``kiosk demo``: the whole station on any machine, with simulated devices and a scripted crew.

The demo opens a session on the sample roster and walks students through
the real flow: a card or a 学号 barcode is scanned, the simulated camera
shows a sample portrait, the quality check judges the frames, the shot is
taken, judged, cropped and saved. Along the way: a student who smiles just
as the shutter fires (refused, then retaken), an unknown card (sent away by
the crew), and a student who scans twice (their earlier photo is shown; the
crew skips). The script only does what a student or the crew would do
(present a card, step in front of the camera, press a crew key); everything
else is the station's own code.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import station as st
from kiosk.app import StationApp, build_station
from kiosk.capture.sim import SimCamera
from kiosk.config import Config
from kiosk.student import Student

log = logging.getLogger(__name__)

GOOD_FACES = ("face_041.jpg", "face_001.jpg")
SMILING_FACE = "face_068.jpg"
SESSION_CATEGORY = "普通生"
STEP_TIMEOUT_S = 60.0
# An ID number with a valid check character that the sample roster never holds.
UNKNOWN_ID = "110101198001010000"


def unknown_id_number() -> str:
    from kiosk import idnumber

    first17 = UNKNOWN_ID[:17]
    return first17 + idnumber.check_character(first17)


class Devices:
    """How the scripted students present themselves: the scanners' simulated twins (real ptys)."""

    def __init__(self, config: Config) -> None:
        from kiosk.scanner.devices import simulate

        self.simulation = simulate(config.scanner)
        self.backends: list[Any] = list(self.simulation.backends)
        self.removed_at = 0.0
        self.poll_interval = config.scanner.idcard_poll_interval

    def present_card(self, student: Student | None, id_number: str | None = None) -> None:
        from kiosk.scanner.sim import Card

        card = Card.from_student(student or _made_up_student(id_number or ""))
        self.simulation.reader.present(card)

    def remove_card(self) -> None:
        if self.simulation.reader.card is not None:
            self.simulation.reader.remove()
            self.removed_at = time.monotonic()

    def reader_clear(self) -> bool:
        """The reader has polled an empty field since the last card left (a person is not faster)."""
        return time.monotonic() - self.removed_at > 3 * self.poll_interval

    def scan_barcode(self, text: str) -> None:
        self.simulation.barcode.scan(text)

    def close(self) -> None:
        self.simulation.close()


def _made_up_student(id_number: str) -> Student:
    return Student(
        id_number=id_number,
        student_number="",
        name="路人甲",
        sex="男",
        school_name="",
        school_code="",
    )


@dataclass
class Step:
    label: str
    # (app, index into app.screen.drawn_phases when the step began) -> go ahead?
    when: Callable[[StationApp, int], bool]
    do: Callable[[StationApp], object] = lambda app: None  # what it returns is ignored


class Director:
    """Plays the students and the crew, one step at a time, without blocking the loop."""

    def __init__(self, steps: list[Step], timeout_s: float = STEP_TIMEOUT_S) -> None:
        self.steps = steps
        self.index = 0
        self.timeout_s = timeout_s
        self.step_started: float | None = None
        self.since = 0
        self.failed: str | None = None
        self.finished = False

    def update(self, app: StationApp, now: float) -> None:
        """The station's per-tick callback: take the next step once its condition holds."""
        while self.index < len(self.steps):
            step = self.steps[self.index]
            if self.step_started is None:
                self.step_started = now
                self.since = len(app.screen.drawn_phases)
            if not step.when(app, self.since):
                if now - self.step_started > self.timeout_s:
                    self.failed = (
                        f"step {self.index} ({step.label}) timed out in phase {app.state.phase}"
                    )
                    log.error("demo: %s", self.failed)
                    app.stop()
                return
            log.log(
                logging.DEBUG if step.label.endswith("wait for idle") else logging.INFO,
                "%s",
                step.label,
            )
            step.do(app)
            self.index += 1
            self.step_started = None
        self.finished = True
        app.stop()


def crew_current(app: StationApp) -> bool:
    """The crew screen's snapshot already counts every shot saved so far."""
    return app.progress is not None and app.progress.shots >= app.delivered


def phase_is(*phases: st.Phase) -> Callable[[StationApp, int], bool]:
    """One of ``phases`` has been on screen since the step began (even if briefly)."""
    return lambda app, since: any(p in phases for p in app.screen.drawn_phases[since:])


def build_script(
    students: list[Student], devices: Devices, camera: SimCamera, *, extras: bool = True
) -> list[Step]:
    """The crew's and students' steps; ``extras``: a refused shot, an unknown card, a double scan."""
    steps: list[Step] = [Step("session open", phase_is(st.Phase.IDLE))]

    def idle(app: StationApp, since: int) -> bool:
        idle_now = app.screen.drawn_phase is st.Phase.IDLE and app.state.phase is st.Phase.IDLE
        return idle_now and devices.reader_clear()

    def idle_then(label: str, action: Callable[[StationApp], object]) -> None:
        steps.append(Step(f"{label}: wait for idle", idle, lambda app: camera.show(None)))
        steps.append(Step(label, lambda app, since: True, action))

    def came_back(app: StationApp) -> None:
        devices.remove_card()
        if app.state.phase is st.Phase.ALREADY_DONE:
            app.press(st.Action.RETAKE)

    def retake_after_refusal(app: StationApp) -> None:
        app.crew_screenshot("crew-refused")
        if app.state.phase is st.Phase.CREW_DECISION:
            app.press(st.Action.RETAKE)

    def send_away(app: StationApp) -> None:
        devices.remove_card()
        app.crew_screenshot("crew-unknown")
        app.press(st.Action.SKIP)

    def skip_already_done(app: StationApp) -> None:
        app.crew_screenshot("crew-already")
        app.press(st.Action.SKIP)

    def photograph(i: int, student: Student, refused_first: bool) -> None:
        face = GOOD_FACES[i % len(GOOD_FACES)]

        def arrive(app: StationApp) -> None:
            camera.show(face)
            if i % 2 == 0 or not extras:
                devices.present_card(student)
            else:
                devices.scan_barcode(student.student_number)

        idle_then(f"student {i + 1} scans", arrive)
        # Came back after an earlier demo run: the crew asks for a retake.
        steps.append(
            Step(
                f"student {i + 1} identified",
                phase_is(st.Phase.IDENTIFIED, st.Phase.ALREADY_DONE, st.Phase.FRAMING),
                came_back,
            )
        )
        if refused_first:
            steps.append(
                Step(
                    f"student {i + 1} will smile at the shutter",
                    phase_is(st.Phase.FRAMING),
                    lambda app: camera.at_shutter(SMILING_FACE),
                )
            )
            steps.append(
                Step(
                    f"student {i + 1} refused, retakes",
                    phase_is(st.Phase.REVIEW, st.Phase.CREW_DECISION),
                    retake_after_refusal,
                )
            )
        steps.append(
            Step(
                f"student {i + 1} saved",
                lambda app, since: phase_is(st.Phase.SAVED)(app, since) and crew_current(app),
                lambda app: app.crew_screenshot("crew"),
            )
        )

    def unknown_card() -> None:
        idle_then("an unknown card", lambda app: devices.present_card(None, unknown_id_number()))
        steps.append(
            Step(
                "crew sends the unknown student away",
                phase_is(st.Phase.UNKNOWN),
                send_away,
            )
        )

    def scanned_twice(student: Student) -> None:
        idle_then("a student scans twice", lambda app: devices.scan_barcode(student.student_number))
        steps.append(
            Step(
                "crew skips the student already photographed",
                phase_is(st.Phase.ALREADY_DONE),
                skip_already_done,
            )
        )

    for i, student in enumerate(students):
        if not extras:
            photograph(i, student, refused_first=False)
            continue
        photograph(i, student, refused_first=(i == 1 or (len(students) == 1 and i == 0)))
        if i == 1 or (len(students) < 2 and i == 0):
            unknown_card()
        if i == 2 or (len(students) < 3 and i == len(students) - 1):
            scanned_twice(students[0])
    steps.append(
        Step(
            "back to idle",
            lambda app, since: idle(app, since) and crew_current(app),
            lambda app: app.crew_screenshot("crew-final"),
        )
    )
    return steps


FAST: dict[str, Any] = {
    "confirm_s": 0.3,
    "countdown_s": 0.5,
    "review_s": 0.8,
    "saved_s": 0.6,
    "steady_frames": 4,
}


def prepare_display(headless: bool) -> bool:
    """Use a window when there is a display, SDL's dummy driver otherwise. Returns headless."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        return True
    if os.environ.get("SDL_VIDEODRIVER") == "dummy":
        return True
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and os.name == "posix":
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        return True
    return False


class DemoError(ValueError):
    """The demo cannot start as asked (say, a school without a roster here)."""


@dataclass
class DemoResult:
    finished: bool
    failure: str | None
    screenshots: list[Path]
    shots: list[tuple[int | None, str, str]]  # (seq, file, status) this session
    timings: dict[str, float]
    session_id: int | None


def run_demo(
    config: Config,
    students: int = 5,
    screenshots: Path | None = None,
    headless: bool = False,
    fast: bool = False,
    school: str | None = None,
    start: int = 0,
) -> DemoResult:
    """The sample school's demo, or with ``school`` rows start+1 ... start+students of
    that school's roster already in the data folder (imported or pulled), in roster order."""
    from kiosk.records import SessionPlan
    from kiosk.roster import Roster, import_roster
    from kiosk.sample import SCHOOL_CODE, write_sample_roster
    from kiosk.store import Store

    headless = prepare_display(headless)
    station = config.station
    if fast:
        station = dataclasses.replace(station, **FAST)
    camera_config = dataclasses.replace(config.camera, backend="sim")
    config = dataclasses.replace(config, station=station, camera=camera_config)

    with Store(config.db_path) as store:
        roster = Roster(store)
        if school is None:
            path = write_sample_roster(
                config.data_dir / "sample-roster.xlsx", count=max(40, students)
            )
            import_roster(store, path)
            chosen = roster.in_roster_order(SCHOOL_CODE, students)
        else:
            chosen = roster.in_roster_order(school, students, start)
            if len(chosen) < students:
                raise DemoError(
                    f"school {school} has {start + len(chosen)} roster rows here, fewer than "
                    f"--start {start} + --students {students}; import or pull its roster first"
                )
        for session in store.open_sessions():
            store.close_session(session.id)

    camera = SimCamera(camera_config)
    camera.show(None)
    devices = Devices(config)
    director = Director(build_script(chosen, devices, camera, extras=school is None))
    app = build_station(
        config,
        camera=camera,
        scanners=devices.backends,
        headless=headless,
        screenshots=screenshots,
        session=SessionPlan(SCHOOL_CODE, SESSION_CATEGORY)
        if school is None
        else SessionPlan(school, ""),
        on_tick=director.update,
    )
    try:
        timings = app.run(max_seconds=60 + 30 * students)
    finally:
        devices.close()
    with Store(config.db_path) as store:
        sessions = store.conn.execute("SELECT id FROM sessions ORDER BY id DESC LIMIT 1").fetchone()
        session_id = sessions[0] if sessions else None
        shots = [
            (r["seq"], r["file"], r["status"])
            for r in store.conn.execute(
                "SELECT seq, file, status FROM shots WHERE session_id = ? ORDER BY id",
                (session_id,),
            )
        ]
    return DemoResult(
        finished=director.finished and director.failed is None,
        failure=director.failed,
        screenshots=app.screen.written,
        shots=shots,
        timings=timings.summary(),
        session_id=session_id,
    )


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
