"""The station at work: devices + the state machine + the screens, in a loop that never blocks.

Threads and who owns what:

- the **main thread** runs pygame: it reads keys, drains the inbox of events,
  feeds them (and a timer tick) to :func:`kiosk.station.step`, starts the
  effects, and draws. It never waits on a device, the face check or the disk.
- the **camera** keeps only its latest frame (kiosk/capture/camera.py).
- the **judge** thread runs the quality check on the newest preview frame
  while a student is framed, and posts :class:`~kiosk.station.FrameJudged`.
- a **still** thread per shot: capture, judge, crop, encode; posts the result.
- the **records** thread owns the SQLite connection: scan look-ups, saving
  shots, walk-ins, the event log, and the crew screen's progress snapshot.
- scanner backends run their own threads and post scans into the inbox.

An exception anywhere in a handler becomes :func:`kiosk.station.failsafe`:
the station shows it, keeps the student and resumes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kiosk import notify
from kiosk import station as st
from kiosk.capture.camera import Camera, CameraError
from kiosk.capture.verdict import Assessment
from kiosk.config import Config
from kiosk.progress import Progress, read_progress
from kiosk.roster import Roster
from kiosk.scanner.base import DeviceStatus, Identity, Scan
from kiosk.store import Shot, Store
from kiosk.student import Student

log = logging.getLogger(__name__)


class Checker(Protocol):
    def assess(
        self, rgb: np.ndarray, still: bool = False, face_only: bool = False
    ) -> Assessment: ...


# official(still_rgb, assessment) -> 480 x 640 JPEG bytes; raises CropError when no crop fits
Composer = Callable[[np.ndarray, Assessment], bytes]
# head_guide(frame_w, frame_h) -> (cx, cy, rx, ry) in frame pixels
Guide = Callable[[int, int], tuple[float, float, float, float] | None]
Identify = Callable[[Scan], Identity]


@dataclass(frozen=True)
class ProgressUpdated:
    progress: Progress


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


# -- records: the one thread that touches the database ------------------------


class Records(threading.Thread):
    """Owns a Store connection; every database job of the station runs here."""

    def __init__(self, config: Config, post: Callable[[Any], None], identify: Identify) -> None:
        super().__init__(name="records", daemon=True)
        self.config = config
        self.post = post
        self.identify = identify
        self.jobs: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self.timings: Timings | None = None
        self.session_id: int | None = None

    def submit(self, kind: str, payload: Any = None) -> None:
        self.jobs.put((kind, payload))

    def close(self) -> None:
        self.jobs.put(None)
        self.join(timeout=5)

    def run(self) -> None:
        store = Store(self.config.db_path)
        roster = Roster(store)
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    break
                kind, payload = job
                try:
                    self._do(store, roster, kind, payload)
                except Exception as exc:  # never let the records thread die
                    log.exception("records: %s failed", kind)
                    if kind == "save":
                        status = payload[0].status
                        message = f"{type(exc).__name__}: {exc}"
                        self.post(st.SaveFailed(message, now=time.monotonic(), status=status))
                    else:
                        self.post(_Failure(exc))
        finally:
            store.close()

    def _do(self, store: Store, roster: Roster, kind: str, payload: Any) -> None:
        if kind == "scan":
            scan: Scan = payload
            identity = self.identify(scan)
            candidates = roster.lookup(identity.kind, identity.value)
            earlier = {
                s.id: _earlier(shot)
                for s in candidates
                if s.id is not None and (shot := store.standing_photo(s.id))
            }
            if self.timings is not None:
                self.timings.lookup.append(time.monotonic() - scan.at)
            self.post(st.Scanned(identity, tuple(candidates), earlier, now=time.monotonic()))
        elif kind == "save":
            effect, started = payload
            self.post(self._save(store, roster, effect, started))
        elif kind == "walk_in":
            student = roster.add_walk_in(
                walk_in_student(payload), payload.session.id, payload.identity.kind
            )
            self.post(st.WalkInAdded(student, now=time.monotonic()))
        elif kind == "log":
            effect: st.LogEvent = payload
            with store.transaction():
                store.log_event(
                    effect.kind,
                    effect.message,
                    level=effect.level,
                    session_id=self.session_id,
                    student_id=effect.student_id,
                    detail=effect.detail,
                )
        elif kind == "open":
            school_code, category, department = payload
            session = store.open_session(
                station_id=self.config.station.station_id,
                school_code=school_code,
                school_name=roster.school_name(school_code),
                category=category,
                department=department,
            )
            self.session_id = session.id
            self.post(st.SessionOpened(_info(session), now=time.monotonic()))
        elif kind == "resume":
            session = store.session(payload)
            self.session_id = session.id
            self.post(st.SessionOpened(_info(session), now=time.monotonic()))
        elif kind == "close":
            store.close_session(payload)
            self.session_id = None
            self.post(st.SessionClosed(now=time.monotonic()))
        elif kind == "progress":
            if self.session_id is not None:
                self.post(ProgressUpdated(read_progress(store, self.session_id)))
        elif kind == "call":
            payload(store)

    def _save(self, store: Store, roster: Roster, effect: st.SaveShot, started: float) -> st.Event:
        subject = effect.subject
        student_id = subject.student_id
        if student_id is None:
            code = subject.collection_code or subject.identity.value
            student_id = roster.collection_code_student(code, effect.session_id)
        assert effect.result.jpeg is not None
        shot = store.save_shot(
            student_id=student_id,
            session_id=effect.session_id,
            jpeg=effect.result.jpeg,
            status=effect.status,  # type: ignore[arg-type]
            reasons=[str(r) for r in effect.result.assessment.reasons],
            measures=effect.result.assessment.measures,
            camera=effect.result.camera,
            collection_code=subject.collection_code,
            collection_code_raw=collection_code_bytes(subject),
        )
        if self.timings is not None:
            self.timings.save.append(time.monotonic() - started)
        return st.ShotSaved(shot.seq, shot.uuid, shot.status, now=time.monotonic())


@dataclass(frozen=True)
class _Failure:
    error: BaseException


def _info(session: Any) -> st.SessionInfo:
    return st.SessionInfo(
        session.id, session.school_code, session.category, session.department, session.school_name
    )


def _earlier(shot: Shot) -> st.EarlierShot:
    return st.EarlierShot(shot.uuid, shot.seq, shot.file, shot.taken_at)


def walk_in_student(effect: st.AddWalkIn) -> Student:
    """The student the crew adds for an unknown scan: what the scan told, in the open session."""
    identity, session = effect.identity, effect.session
    return Student(
        id_number=identity.value if identity.kind == "id_number" else None,
        student_number=identity.value if identity.kind == "student_number" else "",
        name=identity.name or identity.fields.get("name", ""),
        sex=identity.fields.get("sex", ""),
        school_name=session.school_name,
        school_code=session.school_code,
        department=session.department,
        category=session.category,
        origin="walk_in",
    )


def collection_code_bytes(subject: st.Subject) -> bytes | None:
    """The collection code exactly as scanned, when this shot was opened by one."""
    identity = subject.identity
    if identity is not None and identity.kind == "collection_code":
        return bytes(identity.raw)
    return None


# -- the face check on preview frames ---------------------------------------


class Judge(threading.Thread):
    """Judges the newest preview frame while someone is being framed."""

    def __init__(
        self, camera: Camera, checker: Checker, post: Callable[[Any], None], timings: Timings
    ) -> None:
        super().__init__(name="judge", daemon=True)
        self.camera = camera
        self.checker = checker
        self.post = post
        self.timings = timings
        self.active = threading.Event()
        self.running = True
        self._last_seq = -1
        self._last_centre: tuple[float, float] | None = None

    def stop(self) -> None:
        self.running = False
        self.active.set()
        self.join(timeout=5)

    def run(self) -> None:
        while self.running:
            if not self.active.wait(0.2):
                self._last_centre = None
                continue
            frame = self.camera.latest()
            if frame is None or frame.seq == self._last_seq:
                time.sleep(0.003)
                continue
            self._last_seq = frame.seq
            started = time.monotonic()
            try:
                assessment = self.checker.assess(frame.rgb, still=False)
            except Exception as exc:
                log.exception("quality check failed on a preview frame")
                self.post(_Failure(exc))
                time.sleep(0.5)
                continue
            done = time.monotonic()
            self.timings.assess.append(done - started)
            if self.timings.assessed_at and done - self.timings.assessed_at[-1] < 0.5:
                self.timings.judged += 1
                self.timings.judging_s += done - self.timings.assessed_at[-1]
            self.timings.assessed_at.append(done)
            self.post(
                st.FrameJudged(assessment, self._motion(assessment, frame.rgb.shape[1]), now=done)
            )

    def _motion(self, assessment: Assessment, width: int) -> float | None:
        landmarks = assessment.landmarks
        if landmarks is None or len(landmarks) == 0:
            self._last_centre = None
            return None
        points = np.asarray(landmarks)[:, :2]
        centre = (float(points[:, 0].mean()), float(points[:, 1].mean()))
        previous, self._last_centre = self._last_centre, centre
        if previous is None:
            return None
        return float(np.hypot(centre[0] - previous[0], centre[1] - previous[1]) / width)


# -- the app -------------------------------------------------------------------

JUDGED_PHASES = frozenset({st.Phase.FRAMING, st.Phase.COUNTDOWN})


class StationApp:
    """One station: call :meth:`run` on the main thread."""

    def __init__(
        self,
        config: Config,
        *,
        camera: Camera,
        checker: Checker,
        compose: Composer,
        guide: Guide,
        identify: Identify,
        scanners: list[Any] = (),  # type: ignore[assignment]
        headless: bool = False,
        screenshots: Path | None = None,
        session: tuple[str, str, str] | None = None,
        resume_session: int | None = None,
    ) -> None:
        self.config = config
        self.camera = camera
        self.checker = checker
        self.compose = compose
        self.guide = guide
        self.scanners = list(scanners)
        self.headless = headless
        self.screenshots = screenshots
        self.session_args = session
        self.resume_session = resume_session
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.timings = Timings()
        self.records = Records(config, self.inbox.put, identify)
        self.records.timings = self.timings
        self.judge = Judge(camera, checker, self.inbox.put, self.timings)
        self.state = st.State()
        self.progress: Progress | None = None
        self.photo: Any = None
        self._photo_key: Any = None
        self.thumbnails: dict[Path, Any] = {}
        self.show_crew = False
        self.running = False
        self.screens_written: list[Path] = []
        self._student_started: float | None = None
        self._machine: float = 0.0
        self._still_started = 0.0
        self._save_started = 0.0
        self._last_progress = 0.0
        self._last_watchdog = 0.0
        self._shot_counter = 0
        self._last_phase: st.Phase | None = None
        self.phases_seen: list[str] = []
        self.drawn_phase: st.Phase | None = None
        self._drawn_key: Any = None
        self._drawn_seq: int | None = None
        self._drawn_at = 0.0
        self._shown_seq: int | None = None
        self._camera_bad_since: float | None = None
        self._crew_drawn_at = 0.0
        self.delivered = 0  # shots with a 拍摄序号 saved by this run
        self.second: Any = None
        self._restarting = threading.Event()
        self.drawn_phases: list[st.Phase] = []  # every phase change that reached the screen
        self.director: Any = None

    # -- posting from other threads -------------------------------------------

    def scanner_event(self, event: Scan | DeviceStatus) -> None:
        """The ``emit`` given to scanner backends (called from their threads)."""
        if isinstance(event, Scan):
            self.records.submit("scan", event)  # looked up on the records thread, then posted
        else:
            self.inbox.put(st.DeviceChanged(event, time.monotonic()))

    # -- the loop ------------------------------------------------------------------

    def run(self, max_seconds: float | None = None) -> Timings:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        from kiosk.display import kmsdrm
        from kiosk.display.font import Fonts

        # deployment: the connected /dev/dri/cardN for SDL's kmsdrm, and a loud
        # message when SDL ends up on another driver (docs/deployment.md).
        display = kmsdrm.prepare()
        (log.info if display.ok else log.error)("display: %s", display.message)
        try:
            pygame.display.init()
        except pygame.error as exc:
            problem = f"{kmsdrm.driver_problem(None, display.driver)} (SDL: {exc})"
            log.error("%s", problem)
            notify.status(problem)
            raise
        display_problem = kmsdrm.driver_problem(pygame.display.get_driver(), display.driver)
        if display_problem or not display.ok:
            problem = display_problem or display.message
            log.error("%s", problem)
            notify.status(problem)
            self.inbox.put(
                st.DeviceChanged(DeviceStatus("display", "error", problem), time.monotonic())
            )
        pygame.font.init()
        size = tuple(self.config.station.window_size)
        flags = 0
        if self.config.station.fullscreen and not self.headless:
            flags = pygame.FULLSCREEN
            size = (0, 0)
        screen = pygame.display.set_mode(size, flags)
        pygame.display.set_caption("kiosk")
        pygame.mouse.set_visible(self.headless or not self.config.station.fullscreen)
        self.crew_surface = pygame.Surface(screen.get_size())
        self.second = None
        if self.config.station.crew_screen == "auto":
            from kiosk.display.second import open_second_screen

            self.second = open_second_screen(pygame, self.headless)
        self.fonts = Fonts(self.config.station.font_path)
        self._keymap = self._build_keymap(pygame)
        self.records.start()
        self.judge.start()
        try:
            self.camera.start()
            self.inbox.put(st.DeviceChanged(DeviceStatus("camera", "ok"), time.monotonic()))
        except CameraError as exc:
            log.error("camera: %s", exc)
            self.inbox.put(
                st.DeviceChanged(DeviceStatus("camera", "lost", str(exc)), time.monotonic())
            )
        for backend in self.scanners:
            backend.start(self.scanner_event)
        self._start_pedal()
        if self.resume_session is not None:
            self.records.submit("resume", self.resume_session)
        elif self.session_args is not None:
            self.records.submit("open", self.session_args)
        notify.ready("station running")
        clock = pygame.time.Clock()
        started = time.monotonic()
        self.running = True
        try:
            while self.running:
                now = time.monotonic()
                for event in pygame.event.get():
                    self._pygame_event(pygame, event, now)
                self._drain(now)
                self._apply(st.Tick(now))
                if self.director is not None:
                    self.director.update(self, now)
                self._draw(pygame, screen, now)
                if now - self._last_watchdog > 0.5:
                    notify.watchdog()
                    self._last_watchdog = now
                    self._check_camera()
                if now - self._last_progress > 2.0:
                    self.records.submit("progress")
                    self._last_progress = now
                if max_seconds is not None and now - started > max_seconds:
                    log.warning("stopping after %.0f s", max_seconds)
                    break
                clock.tick(self.config.station.fps)
        finally:
            self.shutdown()
            pygame.quit()
        return self.timings

    def _start_pedal(self) -> None:
        """The GPIO shutter pedal, if configured: a press is the crew's shutter key."""
        from kiosk.shutter import ShutterError, from_config

        def pressed() -> None:  # gpiozero's thread: only queue
            self.inbox.put(st.Key(st.Action.SHUTTER, now=time.monotonic()))

        try:
            self.pedal = from_config(self.config.deployment, pressed)
        except ShutterError as exc:
            self.pedal = None
            log.error("pedal: %s", exc)
            self.inbox.put(
                st.DeviceChanged(DeviceStatus("pedal", "error", str(exc)), time.monotonic())
            )

    def shutdown(self) -> None:
        pedal = getattr(self, "pedal", None)
        if pedal is not None:
            with contextlib.suppress(Exception):
                pedal.close()
        for backend in self.scanners:
            with contextlib.suppress(Exception):
                backend.stop()
        self.judge.stop()
        with contextlib.suppress(Exception):
            self.camera.stop()
        self.records.close()

    def _drain(self, now: float) -> None:
        while True:
            try:
                event = self.inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, ProgressUpdated):
                self.progress = event.progress
            elif isinstance(event, _Failure):
                self._fail(event.error, now)
            else:
                self._apply(event)

    def _apply(self, event: st.Event) -> None:
        try:
            transition = st.step(self.state, event, self.config.station)
        except Exception as exc:
            log.exception("station step failed on %s", type(event).__name__)
            self._fail(exc, time.monotonic())
            return
        self._account(event, self.state, transition.state)
        self.state = transition.state
        if isinstance(event, st.ShotSaved | st.SessionOpened):
            self.records.submit("progress")  # the crew screen shows the new shot at once
            if isinstance(event, st.ShotSaved) and event.status != "refused":
                self.delivered += 1
        for effect in transition.effects:
            try:
                self._effect(effect)
            except Exception as exc:
                log.exception("effect %s failed", type(effect).__name__)
                self._fail(exc, time.monotonic())
        if self.state.phase in JUDGED_PHASES:
            self.judge.active.set()
        else:
            self.judge.active.clear()

    def _fail(self, error: BaseException, now: float) -> None:
        transition = st.failsafe(self.state, error, now, self.config.station)
        self.state = transition.state
        for effect in transition.effects:
            with contextlib.suppress(Exception):
                self._effect(effect)

    def _account(self, event: st.Event, before: st.State, after: st.State) -> None:
        """Machine time per student: look-up + stills + save (not countdown or steady wait)."""
        if (
            isinstance(event, st.Scanned)
            and after.phase is st.Phase.IDENTIFIED
            and after.subject is not None
        ):
            self._machine = self.timings.lookup[-1] if self.timings.lookup else 0.0
        if isinstance(event, st.StillJudged | st.StillFailed):
            self.timings.still.append(time.monotonic() - self._still_started)
            self._machine += self.timings.still[-1]
        if (
            isinstance(event, st.ShotSaved)
            and event.status != "refused"
            and before.phase is st.Phase.SAVING
        ):
            self._machine += self.timings.save[-1] if self.timings.save else 0.0
            self.timings.per_student.append(self._machine)
            self._machine = 0.0

    def _effect(self, effect: st.Effect) -> None:
        if isinstance(effect, st.TakeStill):
            self._still_started = time.monotonic()
            threading.Thread(target=self._take_still, name="still", daemon=True).start()
        elif isinstance(effect, st.SaveShot):
            self.records.submit("save", (effect, time.monotonic()))
        elif isinstance(effect, st.LogEvent):
            self.records.submit("log", effect)
        elif isinstance(effect, st.AddWalkIn):
            self.records.submit("walk_in", effect)
        elif isinstance(effect, st.LockExposure):
            self.camera.lock_exposure()
        elif isinstance(effect, st.UnlockExposure):
            self.camera.unlock_exposure()
        elif isinstance(effect, st.RestartCamera):
            threading.Thread(
                target=self._restart_camera, name="camera-restart", daemon=True
            ).start()
        elif isinstance(effect, st.OpenSession):
            if self.session_args is None:
                self.session_args = (
                    self.config.station.school_code,
                    self.config.station.category,
                    "",
                )
            self.records.submit("open", self.session_args)
        elif isinstance(effect, st.CloseSession):
            self.records.submit("close", effect.session_id)
        elif isinstance(effect, st.Exit):
            self.running = False

    def _take_still(self) -> None:
        try:
            still = self.camera.capture_still(self.config.station.capture_timeout_s)
        except CameraError as exc:
            self.inbox.put(st.StillFailed(str(exc), now=time.monotonic()))
            return
        try:
            assessment = self.checker.assess(still.rgb, still=True)
            jpeg: bytes | None = None
            error = ""
            if not any(r in ("no_face", "multiple_faces") for r in assessment.reasons):
                try:
                    jpeg = self.compose(still.rgb, assessment)
                except Exception as exc:  # CropError: face too near the edge to crop
                    error = str(exc)
            result = st.StillResult(assessment, jpeg, dict(still.camera), error)
            self.inbox.put(st.StillJudged(result, now=time.monotonic()))
        except Exception as exc:
            log.exception("judging the still failed")
            self.inbox.put(st.StillFailed(f"{type(exc).__name__}: {exc}", now=time.monotonic()))

    def _restart_camera(self) -> None:
        try:
            self.camera.restart()
            self.inbox.put(
                st.DeviceChanged(DeviceStatus("camera", "ok", "restarted"), time.monotonic())
            )
        except Exception as exc:
            self.inbox.put(
                st.DeviceChanged(DeviceStatus("camera", "lost", str(exc)), time.monotonic())
            )
        finally:
            self._restarting.clear()

    def _check_camera(self) -> None:
        """Report the camera's health; restart it when it has been unhealthy a while."""
        now = time.monotonic()
        healthy = self.camera.healthy
        known = self.state.devices.get("camera")
        if known is not None and (known.state == "ok") != healthy:
            status = DeviceStatus(
                "camera", "ok" if healthy else "lost", getattr(self.camera, "last_error", "")
            )
            self._apply(st.DeviceChanged(status, now))
        if healthy:
            self._camera_bad_since = None
        elif self._camera_bad_since is None:
            self._camera_bad_since = now
        elif (
            now - self._camera_bad_since > self.config.camera.restart_after_s
            and not self._restarting.is_set()
        ):
            self._camera_bad_since = now
            self._restarting.set()
            threading.Thread(
                target=self._restart_camera, name="camera-restart", daemon=True
            ).start()

    # -- keys -------------------------------------------------------------------------

    def _build_keymap(self, pygame: Any) -> dict[int, st.Action | str]:
        s = self.config.station
        wanted: dict[str, st.Action | str] = {
            s.key_shutter: st.Action.SHUTTER,
            s.key_accept: st.Action.ACCEPT,
            s.key_retake: st.Action.RETAKE,
            s.key_skip: st.Action.SKIP,
            s.key_walk_in: st.Action.WALK_IN,
            s.key_session: st.Action.SESSION,
            s.key_quit: st.Action.QUIT,
            s.key_crew_screen: "crew",
        }
        keymap: dict[int, st.Action | str] = {}
        for name, action in wanted.items():
            try:
                keymap[pygame.key.key_code(name)] = action
            except ValueError:
                log.error("unknown key name %r in the station config", name)
        return keymap

    def _pygame_event(self, pygame: Any, event: Any, now: float) -> None:
        if event.type == pygame.QUIT:
            self._apply(st.Key(st.Action.QUIT, now=now))
        elif event.type == pygame.KEYDOWN:
            if self.state.pin_entry is not None and event.unicode and event.unicode.isdigit():
                self._apply(st.Key(st.Action.DIGIT, event.unicode, now=now))
                return
            action = self._keymap.get(event.key)
            if action == "crew":
                self.show_crew = not self.show_crew
            elif isinstance(action, st.Action):
                if self.state.pin_entry is not None and action is st.Action.QUIT:
                    action = st.Action.CANCEL
                self._apply(st.Key(action, now=now))

    def press(self, action: st.Action | str, text: str = "") -> None:
        """A crew key from code (the demo's crew)."""
        if action == "crew":
            self.show_crew = not self.show_crew
            return
        self._apply(st.Key(st.Action(action), text, now=time.monotonic()))

    # -- drawing -------------------------------------------------------------------------

    def view(self, now: float, frame: Any = None) -> Any:
        from kiosk.display.view import View

        frame = frame if frame is not None else self.camera.latest()
        rgb = frame.rgb if frame is not None else None
        guide = self.guide(rgb.shape[1], rgb.shape[0]) if rgb is not None else None
        s = self.config.station
        keys = {
            "shutter": s.key_shutter,
            "accept": s.key_accept,
            "retake": s.key_retake,
            "skip": s.key_skip,
            "walk_in": s.key_walk_in,
            "session": s.key_session,
            "crew": s.key_crew_screen,
            "quit": s.key_quit,
            "_target": str(s.target_per_hour),
        }
        camera_status = self.state.devices.get("camera")
        return View(
            state=self.state,
            now=now,
            frame=rgb,
            guide=guide,
            photo=self._photo(),
            progress=self.progress,
            thumbnails=self._thumbnails(),
            language=s.crew_language,
            keys=keys,
            camera_ok=camera_status is None or camera_status.state == "ok",
        ), frame

    def _photo(self) -> Any:
        import pygame

        state = self.state
        key: Any = None
        data: bytes | None = None
        if state.still is not None and state.still.jpeg is not None:
            key = id(state.still)
            data = state.still.jpeg
        elif state.earlier is not None:
            key = state.earlier.file
            path = self.config.data_dir / state.earlier.file
            with contextlib.suppress(OSError):
                data = path.read_bytes()
        if key is None:
            return None
        if key != self._photo_key:
            self._photo_key = key
            self.photo = pygame.image.load(io.BytesIO(data), "photo.jpg") if data else None
        return self.photo

    def _thumbnails(self) -> dict[Path, Any]:
        import pygame

        if self.progress is None:
            return self.thumbnails
        for shot in self.progress.recent:
            if shot.file not in self.thumbnails:
                try:
                    image = pygame.image.load(str(shot.file))
                    height = 160
                    width = round(image.get_width() * height / image.get_height())
                    self.thumbnails[shot.file] = pygame.transform.smoothscale(
                        image, (width, height)
                    )
                except (OSError, pygame.error):
                    continue
        if len(self.thumbnails) > 32:
            keep = {s.file for s in self.progress.recent}
            self.thumbnails = {k: v for k, v in self.thumbnails.items() if k in keep}
        return self.thumbnails

    def _draw(self, pygame: Any, screen: Any, now: float) -> None:
        from kiosk.display.crew import draw_crew
        from kiosk.display.student import draw_student

        frame = self.camera.latest()
        seq = frame.seq if frame is not None else None
        changed = (self.state, self.show_crew, self.progress) != self._drawn_key
        if not changed and seq == self._drawn_seq and now - self._drawn_at < 0.1:
            return  # nothing new to show (the countdown still ticks every 0.1 s)
        self._drawn_key = (self.state, self.show_crew, self.progress)
        self._drawn_seq = seq
        self._drawn_at = now
        view, frame = self.view(now, frame)
        if self.show_crew and self.second is None:
            draw_crew(screen, view, self.fonts)
        else:
            draw_student(screen, view, self.fonts)
        pygame.display.flip()
        if self.second is not None and (changed or now - self._crew_drawn_at > 1.0):
            self._crew_drawn_at = now
            draw_crew(self.second.surface, view, self.fonts)
            self.second.present()
        if self.state.phase is not self.drawn_phase:
            self.drawn_phase = self.state.phase
            self.drawn_phases.append(self.state.phase)
        drawn = time.monotonic()
        if frame is not None and frame.seq != self._shown_seq:
            # A camera frame reached the screen: counts for fps shown and latency.
            self._shown_seq = frame.seq
            self.timings.drawn_at.append(drawn)
            self.timings.frame_latency.append(drawn - frame.at)
        if self.screenshots is not None and self.state.phase != self._last_phase:
            self._last_phase = self.state.phase
            self.phases_seen.append(str(self.state.phase))
            self.screenshot(pygame, screen, f"student-{self.state.phase}")

    def screenshot(self, pygame: Any, surface: Any, label: str) -> Path | None:
        if self.screenshots is None:
            return None
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self._shot_counter += 1
        path = self.screenshots / f"{self._shot_counter:03d}-{label}.png"
        pygame.image.save(surface, str(path))
        self.screens_written.append(path)
        return path

    def crew_screenshot(self, label: str = "crew") -> Path | None:
        """Draw the crew screen off-screen and save it (the demo does this after each shot)."""
        import pygame

        from kiosk.display.crew import draw_crew

        view, _ = self.view(time.monotonic())
        draw_crew(self.crew_surface, view, self.fonts)
        return self.screenshot(pygame, self.crew_surface, label)


def replace_station(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, station=dataclasses.replace(config.station, **changes))


def quality_for(config: Config) -> tuple[Checker, Composer, Guide]:
    """The face check, the official crop and the head guide, all from config.photo."""
    from kiosk.capture import compose
    from kiosk.capture.quality import QualityChecker

    photo = config.photo
    checker = QualityChecker(config.quality, photo)
    # Build every graph now, before any thread starts: the first student
    # must not wait for model loading, and MediaPipe's C++ start-up notices
    # on stderr are silenced while nothing else can write there.
    from kiosk.capture.image import load_rgb
    from kiosk.capture.sim import PORTRAITS

    checker.model.load(
        *checker.model.GRAPHS, quiet=True, sample=load_rgb(PORTRAITS / "face_001.jpg")
    )

    def official(still: np.ndarray, assessment: Assessment) -> bytes:
        return compose.official(still, assessment, photo).jpeg

    def guide(frame_w: int, frame_h: int) -> tuple[float, float, float, float]:
        return compose.head_guide(frame_w, frame_h, photo)

    return checker, official, guide
