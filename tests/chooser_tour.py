"""The crew's start of a day, driven through the real station and its pygame screens.

Used by tests/test_chooser_screen.py (SDL_VIDEODRIVER=dummy) and, as
``python -m tests.chooser_tour OUT``, to write the screenshots in docs/ at the
three screen sizes the kiosk ships with.

The tour: the station starts with no session; the crew presses the session
key, moves the cursor with the arrow keys, types the school's 院校代码 (the
cursor jumps to it) and accepts, taps 研究生 on the touch screen, accepts
全部 院系; the session opens; a student
scans, is identified, photographed, a refused still and its retake, saved.

The touch tour (``touch=True``): a crew with only a touchscreen, on a kiosk
with real devices and the factory PIN, first sets a new crew PIN on the
digit pad (a slip deleted, typed twice), taps the closed station's screen,
types a 采集码 school's 院校代码 on the pad (with a wrong digit deleted),
confirms 采集码 mode, and a student's collection code is photographed; the
crew screen counts against the schedule's expected headcount. Then the crew
holds the student's screen for the crew screen (a brief tap does nothing),
taps 结束 once (asked to tap again), taps 退出 instead, types a wrong PIN and
the right one on the pad, and the station exits with the session still open.
Before the session, 退出 on the chooser asks the PIN too (back returns).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kiosk import station as st
from kiosk.app import StationApp
from kiosk.capture.sim import SimCamera
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import Config
from kiosk.demo import Director, Step
from kiosk.roster import import_roster
from kiosk.sample import HEADERS, sample_rows
from kiosk.scanner.parse import Identifier
from kiosk.store import Store
from tests.test_app import FakeScanner

SIZES = ((800, 480), (1280, 800), (1920, 1080))
OTHER_SCHOOL = ("10730", "兰州大学")
CODES_SCHOOL = ("10055", "南开大学", 320)  # on the office's schedule, no roster: 采集码
COLLECTION_CODE = "Zx9+/" + "k" * 45 + "=="
NEW_PIN = "2468"


def write_roster(path: Path) -> Path:
    """Two schools: the sample school's 普通生 (4 院系), and a second school with
    普通生 and 研究生 (so every step of the chooser has a choice)."""
    from openpyxl import Workbook

    rows = sample_rows(12)
    for row in sample_rows(6, seed=11, category="研究生") + sample_rows(5, seed=12):
        row[1], row[2] = OTHER_SCHOOL[1], OTHER_SCHOOL[0]
        row[3] = "G" + row[3] if row[-1] == "研究生" else "B" + row[3]
        rows.append(row)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


class Checker:
    """Good frames; the first still has the mouth open, the retake is fine."""

    def __init__(self) -> None:
        self.stills = 0

    def assess(self, rgb: np.ndarray, still: bool = False, face_only: bool = False) -> Assessment:
        h, w = rgb.shape[:2]
        box = (w * 0.4, h * 0.25, w * 0.6, h * 0.6)
        if still:
            self.stills += 1
            if self.stills == 1:
                return Assessment.of([Reason.MOUTH_OPEN], face_box=box)
        return Assessment.of([], face_box=box)


def compose(still: np.ndarray, assessment: Assessment) -> bytes:
    import cv2

    small = cv2.resize(still, (480, 640))
    ok, data = cv2.imencode(".jpg", small[:, :, ::-1])
    assert ok
    return bytes(data)


def config_for(
    data: Path, size: tuple[int, int], real: bool = False, hold_s: float = 0.5
) -> Config:
    """``real``: a kiosk with real devices (the factory PIN must be replaced at
    start); ``hold_s``: the long press for the crew screen (short in tests)."""
    config = Config().with_data_dir(data)
    station = dataclasses.replace(
        config.station,
        steady_frames=2,
        countdown_s=1.0,
        confirm_s=0.5,
        review_s=0.5,
        saved_s=0.5,
        window_size=size,
        crew_screen="toggle",
        crew_hold_s=hold_s,
    )
    camera = dataclasses.replace(
        config.camera, backend="sim", preview_size=(640, 360), still_size=(1280, 720)
    )
    scanner = dataclasses.replace(config.scanner, simulate=not real)
    return dataclasses.replace(config, station=station, camera=camera, scanner=scanner)


def key(name: str, text: str = "") -> Callable[[StationApp], object]:
    import pygame

    def press(app: StationApp) -> None:
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(name), unicode=text, mod=0)
        )

    return press


def tap(line: int) -> Callable[[StationApp], object]:
    """A finger on line ``line`` of the chooser shown now (the same geometry it is drawn with)."""
    import pygame

    from kiosk.display.chooser import list_top, row_height, rows_per_page
    from kiosk.display.layout import Sizes, window

    def touch(app: StationApp) -> None:
        chooser = app.state.chooser
        assert chooser is not None
        size = app.screen.surface.get_size()
        sizes = Sizes.of(size)
        row = row_height(sizes)
        first = window(99, rows_per_page(size, sizes), chooser.cursor)
        y = list_top(sizes) + (line - first) * row + row // 2
        pygame.event.post(
            pygame.event.Event(pygame.FINGERDOWN, x=0.5, y=y / size[1], finger_id=0, touch_id=0)
        )

    return touch


def tap_screen(up: bool = True) -> Callable[[StationApp], object]:
    """A finger in the middle of the screen; ``up=False``: it stays there (a long
    press, until the crew screen shows)."""
    import pygame

    def touch(app: StationApp) -> None:
        for kind in (pygame.FINGERDOWN, pygame.FINGERUP) if up else (pygame.FINGERDOWN,):
            pygame.event.post(pygame.event.Event(kind, x=0.5, y=0.5, finger_id=0, touch_id=0))

    return touch


def student_kept(phase: st.Phase) -> Callable[[StationApp, int], bool]:
    """Longer than a long press has passed and the student's screen is still shown."""
    started: list[float] = []

    def check(app: StationApp, since: int) -> bool:
        import time

        if app.screen.show_crew:
            raise AssertionError("a brief tap on the student's screen showed the crew screen")
        started.append(time.monotonic())
        waited = started[-1] - started[0] > app.config.station.crew_hold_s * 2
        return waited and app.state.phase is phase

    return check


def button(name: str, mouse: bool = False) -> Callable[[StationApp], object]:
    """A finger (or the mouse) on the crew screen's touch button ``name`` (the
    chooser's, a PIN pad's, or the session's row)."""
    import pygame

    from kiosk.display.crew import crew_buttons

    def touch(app: StationApp) -> None:
        size = app.screen.surface.get_size()
        boxes = crew_buttons(size, app.state)
        [(x, y, w, h)] = [box for found, box in boxes if found == name]
        centre = (x + w // 2, y + h // 2)
        if mouse:
            event = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=centre, button=1)
        else:
            event = pygame.event.Event(
                pygame.FINGERDOWN,
                x=centre[0] / size[0],
                y=centre[1] / size[1],
                finger_id=0,
                touch_id=0,
            )
        pygame.event.post(event)

    return touch


def counted(done: int) -> Callable[[StationApp, int], bool]:
    """The crew screen's numbers (refreshed every 2 s) count ``done`` photographed."""
    return lambda app, since: app.progress is not None and app.progress.totals.done == done


def at_level(level: str, cursor: int | None = None) -> Callable[[StationApp, int], bool]:
    def check(app: StationApp, since: int) -> bool:
        chooser = app.state.chooser
        return (
            chooser is not None
            and app.state.pin_entry is None  # not under the PIN asked from the chooser
            and chooser.level == level
            and (cursor is None or chooser.cursor == cursor)
        )

    return check


def typed(code: str) -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.chooser is not None and app.state.chooser.typed == code


def new_pin(typed: str, first: str = "") -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.new_pin == st.NewPin(first, typed)


def pin_typed(typed: str) -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.pin_entry == typed


def end_asked() -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.end_asked is not None


def wrong_pin() -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.pin_entry == "" and app.state.pin_wrong


def crew_shown(phase: st.Phase) -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.screen.show_crew and app.state.phase is phase


def student_shown(left: st.Phase) -> Callable[[StationApp, int], bool]:
    return lambda app, since: not app.screen.show_crew and app.state.phase is not left


def in_phase(*phases: st.Phase) -> Callable[[StationApp, int], bool]:
    return lambda app, since: app.state.phase in phases


@dataclasses.dataclass
class Tour:
    app: StationApp
    failed: str | None
    finished: bool
    screens: dict[str, Any]  # name -> the pygame Surface drawn


def tour(data: Path, size: tuple[int, int], shots: Path | None = None, touch: bool = False) -> Tour:
    """Run the tour at one screen size; ``shots``: save the crew and student screens
    there; ``touch``: the touch-only crew's 采集码 tour."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    # the screenshots say the shipped long press; the tests hold it briefly
    hold_s = Config().station.crew_hold_s if shots is not None else 0.5
    config = config_for(data, size, real=touch, hold_s=hold_s)
    if touch:  # the crew confirms each student (a tap on 确认), as `confirm_s = 0` asks
        config = dataclasses.replace(
            config, station=dataclasses.replace(config.station, confirm_s=0)
        )
    with Store(config.db_path) as store:
        import_roster(store, write_roster(data / "roster.xlsx"))
        number = store.conn.execute(
            "SELECT student_number FROM students WHERE category = '研究生' ORDER BY id LIMIT 1"
        ).fetchone()[0]
        # as `kiosk roster pull --school 10055` stores a scheduled school without a roster
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO school_plans (school_code, school_name, expected, at) "
                "VALUES (?, ?, ?, 'now')",
                CODES_SCHOOL,
            )
    camera = SimCamera(config.camera)
    camera.show("face_041.jpg")
    scanner = FakeScanner()
    drawn: dict[str, Any] = {}  # name -> the pygame Surface drawn
    label = f"{size[0]}x{size[1]}"

    def save(app: StationApp, name: str, draw: Callable[..., None]) -> None:
        import time

        import pygame

        view, _ = app.screen.view(app.state, app.progress, time.monotonic())
        surface = pygame.Surface(app.screen.surface.get_size())
        draw(surface, view, app.screen.fonts)
        drawn[name] = surface
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            pygame.image.save(surface, str(shots / f"{label}-{name}.png"))

    def crew(name: str) -> Callable[[StationApp], object]:
        from kiosk.display.crew import draw_crew

        return lambda app: save(app, f"crew-{name}", draw_crew)

    def student(name: str) -> Callable[[StationApp], object]:
        from kiosk.display.student import draw_student

        return lambda app: save(app, f"student-{name}", draw_student)

    def both(*actions: Callable[[StationApp], object]) -> Callable[[StationApp], object]:
        def run(app: StationApp) -> None:
            for action in actions:
                action(app)

        return run

    steps = [
        Step("closed", in_phase(st.Phase.CLOSED), key("o")),
        Step("chooser: schools", at_level("school"), both(crew("chooser-school"), key("down"))),
        Step("cursor down", at_level("school", cursor=1), key("1", "1")),
        *[Step(f"type {d}", at_level("school"), key(d, d)) for d in OTHER_SCHOOL[0][1:]],
        Step("typed 10730", typed(OTHER_SCHOOL[0]), key("return")),
        Step("chooser: 类型", at_level("category"), both(crew("chooser-category"), tap(2))),
        Step(
            "chooser: 院系", at_level("department"), both(crew("chooser-department"), key("return"))
        ),
        Step("session open", in_phase(st.Phase.IDLE), lambda app: scanner.scan(number)),
        Step("identified", in_phase(st.Phase.IDENTIFIED), student("identified")),
        Step("countdown", in_phase(st.Phase.COUNTDOWN), student("countdown")),
        Step("refused", in_phase(st.Phase.REVIEW), both(student("retake"), crew("refused"))),
        Step("saved", in_phase(st.Phase.SAVED), student("saved")),
        Step("idle again", in_phase(st.Phase.IDLE), crew("queue")),
    ]
    if touch:
        # 1 0 0 5, a slip (6) deleted with the mouse, 5: the 采集码 school's code
        presses = [("1", "0"), ("10", "0"), ("100", "5"), ("1005", "6"), ("10056", "delete")]
        presses += [("1005", "5")]
        # the new PIN: 2 4 6 9, the 9 deleted with the mouse, 8, accept; then again
        first = [("", "2"), ("2", "4"), ("24", "6"), ("246", "9"), ("2469", "delete")]
        first += [("246", "8")]
        pin_steps = [
            Step(f"new PIN {so_far}", new_pin(so_far), button(then, mouse=then == "delete"))
            for so_far, then in first
        ]
        again = [(NEW_PIN[:i], NEW_PIN[i]) for i in range(len(NEW_PIN))]
        pin_steps += [
            Step(f"new PIN again {so_far}", new_pin(so_far, NEW_PIN), button(then))
            for so_far, then in again
        ]
        # leaving: a wrong PIN (cleared), then the right one
        leave = [(w[:i], w[i]) for w in ("1357", NEW_PIN) for i in range(len(NEW_PIN))]
        steps = [
            Step("new PIN asked", new_pin(""), crew("pin-new")),
            *pin_steps[:4],
            Step("new PIN typed", new_pin("2469"), crew("pin-new-typed")),
            *pin_steps[4:6],
            Step("new PIN typed", new_pin("2468"), button("accept")),
            Step("new PIN again", new_pin("", NEW_PIN), crew("pin-new-again")),
            *pin_steps[6:],
            Step("again typed", new_pin(NEW_PIN, NEW_PIN), button("accept")),
            Step("closed", in_phase(st.Phase.CLOSED), tap_screen()),
            # 退出 on the chooser asks the PIN on the pad; back returns to the chooser
            Step("chooser", at_level("school"), button("quit")),
            Step("PIN from the chooser", pin_typed(""), button("back")),
            Step("chooser: pad", at_level("school"), both(crew("chooser-pad"), button("1"))),
            *[
                Step(f"typed {so_far}", typed(so_far), button(then, mouse=then == "delete"))
                for so_far, then in presses
            ],
            Step(
                "typed the code",
                typed(CODES_SCHOOL[0]),
                both(crew("chooser-pad-typed"), button("accept")),
            ),
            Step("confirm", at_level("code"), both(crew("chooser-codes"), button("accept"))),
            Step(
                "session open", in_phase(st.Phase.IDLE), lambda app: scanner.scan(COLLECTION_CODE)
            ),
            # a brief tap (the student's) leaves the student's screen; the crew's
            # long press on it shows the crew's, where the crew confirms who it is
            Step("identified", in_phase(st.Phase.IDENTIFIED), tap_screen()),
            Step("a brief tap", student_kept(st.Phase.IDENTIFIED), tap_screen(up=False)),
            Step(
                "confirm on the crew screen",
                crew_shown(st.Phase.IDENTIFIED),
                both(crew("identified-buttons"), button("accept")),
            ),
            Step("the student's screen again", student_shown(st.Phase.IDENTIFIED)),
            Step("saved", in_phase(st.Phase.SAVED)),
            Step("counted", counted(1), both(crew("codes-queue"), tap_screen(up=False))),
            # 结束 asks once more; 退出 instead keeps the session open and asks the PIN
            Step("crew screen", crew_shown(st.Phase.IDLE), button("session")),
            Step("end asked", end_asked(), both(crew("end-asked"), button("quit"))),
            Step("PIN to leave", pin_typed(""), button(leave[0][1])),
            *[
                Step(f"PIN {so_far}", pin_typed(so_far), button(then))
                for so_far, then in leave[1:4]
            ],
            # the wrong PIN is cleared and said on the screen until the next digit
            Step("wrong PIN", wrong_pin(), both(crew("pin-wrong"), button(leave[4][1]))),
            Step("PIN 2", pin_typed("2"), button(leave[5][1])),
            Step("PIN 24", pin_typed("24"), both(crew("pin-leave"), button("6"))),
            Step("PIN 246", pin_typed("246"), button("8")),
            Step("left", lambda app, since: app.state.exiting),
        ]
    app = StationApp(
        config,
        camera=camera,
        checker=Checker(),
        compose=compose,
        guide=lambda w, h: (w / 2, h * 0.42, w * 0.12, h * 0.26),
        identify=Identifier(config.scanner).identify,
        scanners=[scanner],
        headless=True,
    )
    director = Director(steps, timeout_s=30)
    app.on_tick = director.update
    app.run(max_seconds=90)
    return Tour(app, director.failed, director.finished, drawn)


def main(out: Path) -> None:
    import tempfile

    for size in SIZES:
        for touch in (False, True):
            with tempfile.TemporaryDirectory() as data:
                done = tour(Path(data), size, shots=out, touch=touch)
                if done.failed:
                    sys.exit(f"{size}: {done.failed}")
                print(size, sorted(done.screens))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
