"""The app's wiring: records (look-ups, walk-ins, roster-less shots) and the main loop under faults."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk import station as st
from kiosk.app import StationApp, build_station
from kiosk.capture.sim import SimCamera
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import Config
from kiosk.demo import Director, Step
from kiosk.judge import Quality
from kiosk.records import SessionPlan, collection_code_bytes, walk_in_student
from kiosk.roster import Roster, import_roster
from kiosk.sample import SCHOOL_CODE, write_sample_roster
from kiosk.scanner.base import Identity, Scan
from kiosk.scanner.parse import Identifier
from kiosk.store import Store

SESSION = SessionPlan(SCHOOL_CODE, "普通生")


@pytest.fixture
def roster_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "kiosk.db")
    import_roster(store, write_sample_roster(tmp_path / "roster.xlsx", count=6))
    yield store
    store.close()


def session_info(store: Store) -> st.SessionInfo:
    s = store.open_session(
        station_id="t", school_code=SCHOOL_CODE, school_name="示例大学", category="普通生"
    )
    return st.SessionInfo(s.id, s.school_code, s.category, s.department, s.school_name)


def jpeg(colour: int = 120) -> bytes:
    image = np.full((640, 480, 3), colour, np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


# -- records ----------------------------------------------------------------------


def test_lookup_by_each_kind_of_identity(roster_store: Store) -> None:
    roster = Roster(roster_store)
    student = roster_store.conn.execute(
        "SELECT id_number, student_number FROM students LIMIT 1"
    ).fetchone()
    by_id = roster.lookup("id_number", student[0])
    assert [s.id_number for s in by_id] == [student[0]]
    by_number = roster.lookup("student_number", student[1])
    assert [s.student_number for s in by_number] == [student[1]]
    assert roster.lookup("id_number", "110101199001011237") == []
    assert roster.lookup("unrecognised", student[1]) == []


def test_walk_in_is_a_student_with_an_errata_correction(roster_store: Store) -> None:
    info = session_info(roster_store)
    identity = Identity(
        "id_number",
        "110101199001011237",
        b"110101199001011237",
        "idcard:x",
        name="新同学",
        fields={"sex": "女"},
    )
    effect = st.AddWalkIn(identity, info)
    student = Roster(roster_store).add_walk_in(walk_in_student(effect), info.id, identity.kind)
    assert (
        student.id is not None and student.name == "新同学" and student.school_code == SCHOOL_CODE
    )
    row = roster_store.conn.execute(
        "SELECT origin, category FROM students WHERE id = ?", (student.id,)
    ).fetchone()
    assert tuple(row) == ("walk_in", "普通生")
    correction = roster_store.conn.execute(
        "SELECT field, session_id FROM corrections WHERE student_id = ?", (student.id,)
    ).fetchone()
    assert tuple(correction) == ("walk_in", info.id)
    # found by the next scan like any roster student
    assert Roster(roster_store).by_id_number("110101199001011237").id == student.id


def test_collection_code_shot_is_keyed_by_the_code(roster_store: Store) -> None:
    info = session_info(roster_store)
    code = "https://my.chsi.com.cn/archive/wap/gdjy/xlzx?code=Ab3+/=Zz9_-" + "x" * 30
    roster = Roster(roster_store)
    first = roster.collection_code_student(code, info.id)
    assert roster.collection_code_student(code, info.id) == first  # same code, same row
    shot = roster_store.save_shot(
        student_id=first, session_id=info.id, jpeg=jpeg(), status="accepted", collection_code=code
    )
    stored = roster_store.conn.execute(
        "SELECT collection_code FROM shots WHERE uuid = ?", (shot.uuid,)
    ).fetchone()[0]
    assert stored == code
    earlier = roster_store.last_delivered_shot(first)
    assert earlier is not None and earlier.uuid == shot.uuid
    origin = roster_store.conn.execute(
        "SELECT origin FROM students WHERE id = ?", (first,)
    ).fetchone()[0]
    assert origin == "collection_code"


# -- the main loop -------------------------------------------------------------------


class FakeChecker:
    """Accepts every image; ``fail`` makes the next calls raise (a crashing face model)."""

    def __init__(self) -> None:
        self.fail_preview = 0
        self.refuse_stills = 0
        self.calls = 0

    def assess(self, rgb: np.ndarray, still: bool = False, face_only: bool = False) -> Assessment:
        self.calls += 1
        if not still and self.fail_preview > 0:
            self.fail_preview -= 1
            raise RuntimeError("face model crashed")
        if still and self.refuse_stills > 0:
            self.refuse_stills -= 1
            return Assessment.of([Reason.EYES_CLOSED])
        return Assessment.of([], {"sharpness": float(rgb.std())})


def fake_compose(still: np.ndarray, assessment: Assessment) -> bytes:
    photo = cv2.resize(still[:, : still.shape[0] * 3 // 4], (480, 640))
    return cv2.imencode(".jpg", photo)[1].tobytes()


class FakeScanner:
    source = "test:scanner"

    def __init__(self) -> None:
        self.emit: Callable[[Any], None] | None = None

    def start(self, emit: Callable[[Any], None]) -> None:
        self.emit = emit

    def stop(self) -> None:
        self.emit = None

    def scan(self, text: str) -> None:
        assert self.emit is not None
        self.emit(Scan(text.encode(), self.source))


def fast_config(tmp_path: Path) -> Config:
    config = Config().with_data_dir(tmp_path)
    station = dataclasses.replace(
        config.station,
        steady_frames=2,
        countdown_s=0.1,
        confirm_s=0.1,
        review_s=0.2,
        saved_s=0.2,
        failsafe_s=0.3,
        window_size=(640, 360),
        fps=60,
    )
    camera = dataclasses.replace(
        config.camera,
        restart_after_s=0.5,
        backend="sim",
        preview_size=(320, 180),
        still_size=(640, 360),
        sim_fps=60.0,
    )
    return dataclasses.replace(config, station=station, camera=camera)


def seen(*phases: st.Phase) -> Callable[[Any, int], bool]:
    return lambda app, since: any(p in phases for p in app.screen.drawn_phases[since:])


def run_app(
    tmp_path: Path, steps: list[Step], checker: FakeChecker, **camera_changes: Any
) -> StationApp:
    config = fast_config(tmp_path)
    with Store(config.db_path) as store:
        import_roster(store, write_sample_roster(tmp_path / "roster.xlsx", count=6))
    camera = SimCamera(config.camera)
    camera.show("face_041.jpg")
    for key, value in camera_changes.items():
        setattr(camera, key, value)
    scanner = FakeScanner()
    director = Director([Step("session open", seen(st.Phase.IDLE)), *steps], timeout_s=20)
    app = build_station(
        config,
        camera=camera,
        scanners=[scanner],
        quality=Quality(checker, fake_compose, lambda w, h: (w / 2, h * 0.4, w * 0.1, h * 0.2)),
        headless=True,
        session=SESSION,
        on_tick=director.update,
    )
    app.test_scanner = scanner  # type: ignore[attr-defined]
    app.run(max_seconds=40)
    assert director.failed is None, director.failed
    assert director.finished
    return app


def first_student(tmp_path: Path) -> tuple[str, str]:
    with Store(tmp_path / "kiosk.db") as store:
        row = store.conn.execute(
            "SELECT id_number, student_number FROM students ORDER BY id LIMIT 1"
        ).fetchone()
    return row[0], row[1]


def events(tmp_path: Path) -> list[tuple[str, str]]:
    with Store(tmp_path / "kiosk.db") as store:
        return [
            (r[0], r[1]) for r in store.conn.execute("SELECT kind, message FROM events ORDER BY id")
        ]


def shots(tmp_path: Path) -> list[Any]:
    with Store(tmp_path / "kiosk.db") as store:
        return [dict(r) for r in store.conn.execute("SELECT * FROM shots ORDER BY id")]


def scan_step(text_of: Callable[[], str]) -> Step:
    return Step(
        "scan",
        lambda app, since: app.state.phase is st.Phase.IDLE,
        lambda app: app.test_scanner.scan(text_of()),
    )


def test_crash_in_the_face_check_goes_failsafe_keeps_the_student_and_recovers(
    tmp_path: Path,
) -> None:
    checker = FakeChecker()
    checker.fail_preview = 1
    app = run_app(
        tmp_path,
        [
            Step(
                "scan",
                lambda app, since: True,
                lambda app: app.test_scanner.scan(first_student(tmp_path)[0]),
            ),
            Step("failsafe", seen(st.Phase.FAILSAFE)),
            Step("saved", seen(st.Phase.SAVED)),
            Step("idle", seen(st.Phase.IDLE)),
        ],
        checker,
    )
    kinds = [k for k, _ in events(tmp_path)]
    assert "station_error" in kinds and "station_recovered" in kinds
    assert [s["seq"] for s in shots(tmp_path)] == [1]
    phases = app.screen.drawn_phases
    assert phases.index(st.Phase.FAILSAFE) < phases.index(st.Phase.SAVED)
    # the student was kept: framing resumed after the failsafe, without a new scan
    after = phases[phases.index(st.Phase.FAILSAFE) + 1]
    assert after in (st.Phase.FRAMING, st.Phase.COUNTDOWN)


def test_still_timeout_restarts_the_camera_and_the_shot_is_retaken(tmp_path: Path) -> None:
    checker = FakeChecker()
    app = run_app(
        tmp_path,
        [
            Step(
                "scan",
                lambda app, since: True,
                lambda app: app.test_scanner.scan(first_student(tmp_path)[1]),
            ),
            Step("saved", seen(st.Phase.SAVED)),
        ],
        checker,
        fail_stills=1,
    )
    assert app.camera.restarts == 1
    kinds = [k for k, _ in events(tmp_path)]
    assert "still_failed" in kinds
    saved = shots(tmp_path)
    assert len(saved) == 1 and saved[0]["status"] == "accepted"
    assert json.loads(saved[0]["camera"])["sim_photo"] == "face_041.jpg"


def test_unknown_card_added_as_walk_in_by_the_crew(tmp_path: Path) -> None:
    checker = FakeChecker()
    run_app(
        tmp_path,
        [
            Step(
                "scan",
                lambda app, since: True,
                lambda app: app.test_scanner.scan("110101199001011237"),
            ),
            Step("unknown", seen(st.Phase.UNKNOWN), lambda app: app.press(st.Action.WALK_IN)),
            Step("saved", seen(st.Phase.SAVED)),
        ],
        checker,
    )
    with Store(tmp_path / "kiosk.db") as store:
        row = store.conn.execute(
            "SELECT s.origin, h.seq FROM shots h JOIN students s ON s.id = h.student_id"
        ).fetchone()
        assert tuple(row) == ("walk_in", 1)
        assert store.conn.execute("SELECT field FROM corrections").fetchone()[0] == "walk_in"


def test_refused_too_often_then_crew_accepts_as_flagged(tmp_path: Path) -> None:
    checker = FakeChecker()
    checker.refuse_stills = 10
    run_app(
        tmp_path,
        [
            Step(
                "scan",
                lambda app, since: True,
                lambda app: app.test_scanner.scan(first_student(tmp_path)[0]),
            ),
            Step(
                "crew asked", seen(st.Phase.CREW_DECISION), lambda app: app.press(st.Action.ACCEPT)
            ),
            Step("saved", seen(st.Phase.SAVED)),
        ],
        checker,
    )
    statuses = [(s["status"], s["seq"]) for s in shots(tmp_path)]
    tries = fast_config(tmp_path).station.max_auto_tries
    assert statuses == [("refused", None)] * tries + [("flagged", 1)]


def test_lost_camera_is_shown_restarted_and_the_student_kept(tmp_path: Path) -> None:
    checker = FakeChecker()
    stopped: dict[str, bool] = {}

    def unplug(app: Any) -> None:
        app.camera.stop()  # as if the ribbon cable came loose
        stopped["yes"] = True

    def camera_state(state: str) -> Callable[[Any, int], bool]:
        return lambda app, since: (
            (d := app.state.devices.get("camera")) is not None and d.state == state
        )

    app = run_app(
        tmp_path,
        [
            Step(
                "scan",
                lambda app, since: True,
                lambda app: app.test_scanner.scan(first_student(tmp_path)[0]),
            ),
            Step("framing", seen(st.Phase.IDENTIFIED), unplug),
            Step("camera lost", camera_state("lost")),
            Step("camera back", camera_state("ok")),
            Step("saved", seen(st.Phase.SAVED)),
        ],
        checker,
    )
    assert stopped and app.camera.restarts == 1
    kinds = [k for k, _ in events(tmp_path)]
    assert kinds.index("device_lost") < kinds.index("device_ok", kinds.index("device_lost"))
    assert [s["seq"] for s in shots(tmp_path)] == [1]


def test_collection_code_bytes_are_stored_exactly_as_scanned(roster_store: Store) -> None:
    from kiosk.config import ScannerConfig
    from kiosk.scanner.base import Scan
    from kiosk.scanner.parse import Identifier

    info = session_info(roster_store)
    code = "Zx9+/" + "k" * 45 + "=="
    payload = b" \t" + code.encode() + b"  "  # padding a scanner may send around the code
    identity = Identifier(ScannerConfig()).identify(Scan(payload, "serial:x"))
    assert identity.kind == "collection_code" and identity.value == code
    subject = st.Subject(identity, None, identity.value)
    student = Roster(roster_store).collection_code_student(identity.value, info.id)
    shot = roster_store.save_shot(
        student_id=student,
        session_id=info.id,
        jpeg=jpeg(),
        status="accepted",
        collection_code=subject.collection_code,
        collection_code_raw=collection_code_bytes(subject),
    )
    text, raw = roster_store.conn.execute(
        "SELECT collection_code, collection_code_raw FROM shots WHERE uuid = ?", (shot.uuid,)
    ).fetchone()
    assert (text, bytes(raw)) == (code, payload)
    roster_subject = st.Subject(Identity("id_number", "x", b"x", "idcard:x"), None, None)
    assert collection_code_bytes(roster_subject) is None


def test_records_take_typed_commands_and_post_events(tmp_path: Path) -> None:
    import queue

    from kiosk.inbox import ProgressUpdated
    from kiosk.records import LookUp, Records, RefreshProgress
    from kiosk.timings import Timings

    config = fast_config(tmp_path)
    with Store(config.db_path) as store:
        import_roster(store, write_sample_roster(tmp_path / "roster.xlsx", count=3))
    id_number, _ = first_student(tmp_path)
    posted: queue.Queue[Any] = queue.Queue()
    timings = Timings()
    records = Records(config, posted.put, Identifier(config.scanner).identify, timings, SESSION)
    records.start()
    try:
        records.submit(st.OpenSession())
        opened = posted.get(timeout=10)
        assert isinstance(opened, st.SessionOpened) and opened.session.school_code == SCHOOL_CODE
        records.submit(LookUp(Scan(id_number.encode(), "test:scanner")))
        scanned = posted.get(timeout=10)
        assert isinstance(scanned, st.Scanned)
        assert [s.id_number for s in scanned.candidates] == [id_number]
        assert len(timings.lookup) == 1
        records.submit(RefreshProgress())
        assert isinstance(posted.get(timeout=10), ProgressUpdated)
        no_photo = st.StillResult(Assessment.of([]), None, {}, "")  # a save that must fail
        records.submit(
            st.SaveShot(st.Subject(scanned.identity, None, None), 999, no_photo, "accepted")
        )
        failed = posted.get(timeout=10)
        assert isinstance(failed, st.SaveFailed) and failed.status == "accepted"
    finally:
        records.close()


def test_backspace_deletes_a_typed_digit_unless_the_config_gives_it_a_key() -> None:
    from kiosk.app import keymap

    names = ["up", "down", "backspace", "space", "return", "r", "s", "w", "o", "tab", "escape"]
    code = {name: i for i, name in enumerate(names)}.__getitem__
    station = Config().station
    assert keymap(station, code)[code("backspace")] is st.Action.DELETE
    skip_on_backspace = dataclasses.replace(station, key_skip="backspace")
    assert keymap(skip_on_backspace, code)[code("backspace")] is st.Action.SKIP
