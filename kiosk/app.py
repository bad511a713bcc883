"""The station at work: devices + the state machine + the screens, in a loop that never blocks.

Threads and who owns what:

- the **main thread** (this module) runs pygame: it reads keys, drains the
  inbox of events, feeds them (and a timer tick) to :func:`kiosk.station.step`
  and hands each effect to the part that carries it out. It never waits on a
  device, the face check or the disk, and it decides nothing itself.
- the **camera** keeps only its latest frame (kiosk/capture/camera.py).
- the **judge** thread (kiosk/judge.py) runs the quality check on the newest
  preview frame while a student is framed; a **still** thread per shot
  captures, judges and crops.
- the **records** thread (kiosk/records.py) owns the SQLite connection: scan
  look-ups (scanner threads submit scans to it directly), saving shots,
  walk-ins, sessions, the event log and the crew screen's progress snapshot.
- the **screen** (kiosk/display/screen.py) draws the state; the **timings**
  (kiosk/timings.py) measure the machine's work for the benchmark and demo;
  the **camera watch** (kiosk/camera_watch.py) reports the camera's health
  and restarts it, on a thread of its own, when it stays unwell.

An exception anywhere in a handler becomes :func:`kiosk.station.failsafe`:
the station shows it, keeps the student and resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kiosk import notify
from kiosk import station as st
from kiosk.camera_watch import CameraWatch
from kiosk.capture.camera import Camera, CameraError
from kiosk.config import Config, StationConfig
from kiosk.crewpin import needs_new_pin, with_pin_in_force
from kiosk.display.screen import Screen
from kiosk.inbox import Failure, Message, ProgressUpdated
from kiosk.judge import Checker, Composer, Guide, Judge, Quality, quality_for, take_still
from kiosk.progress import Progress
from kiosk.records import (
    RECORDED,
    Identify,
    LookUp,
    Records,
    RefreshProgress,
    ResumeSession,
    SessionPlan,
)
from kiosk.scanner.base import DeviceState, DeviceStatus, Scan, ScannerBackend
from kiosk.timings import StudentClock, Timings

log = logging.getLogger(__name__)

JUDGED_PHASES = frozenset({st.Phase.FRAMING, st.Phase.COUNTDOWN})
CREW_SCREEN = "crew"  # the key that toggles the crew view is not a station action


# Called once per loop turn, after the tick, with the station and the time
# (the demo's scripted crew and the benchmark use it to act like people).
TickHook = Callable[["StationApp", float], None]


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
        scanners: Sequence[ScannerBackend] = (),
        headless: bool = False,
        screenshots: Path | None = None,
        session: SessionPlan | None = None,
        resume_session: int | None = None,
        on_tick: TickHook | None = None,
    ) -> None:
        self.config = config
        self.camera = camera
        self.checker = checker
        self.compose = compose
        self.scanners = list(scanners)
        self.resume_session = resume_session
        self.open_at_start = session is not None
        self.on_tick = on_tick
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.timings = Timings()
        self.clock = StudentClock(self.timings)
        self.records = Records(config, self.inbox.put, identify, self.timings, session)
        self.judge = Judge(camera, checker, self.inbox.put, self.timings)
        self.camera_watch = CameraWatch(camera, config.camera.restart_after_s, self.inbox.put)
        self.screen = Screen(
            config, camera, guide, self.timings, headless=headless, screenshots=screenshots
        )
        self.state = st.State()
        self.progress: Progress | None = None
        self.delivered = 0  # shots with a 拍摄序号 saved by this run
        self.running = False
        self.pedal: Any = None
        self._keymap: dict[int, st.Action | str] = {}
        self._last_progress = 0.0
        self._last_watchdog = 0.0
        self._held_since: float | None = None  # a finger down on the student's screen

    # -- posting from other threads -------------------------------------------

    def scanner_event(self, event: Scan | DeviceStatus) -> None:
        """The ``emit`` given to scanner backends (called from their threads)."""
        if isinstance(event, Scan):
            self.records.submit(LookUp(event))  # looked up on the records thread, then posted
        else:
            self.inbox.put(st.DeviceChanged(event, time.monotonic()))

    def _device(self, name: str, state: DeviceState, message: str = "") -> None:
        self.inbox.put(st.DeviceChanged(DeviceStatus(name, state, message), time.monotonic()))

    # -- the loop ------------------------------------------------------------------

    def run(self, max_seconds: float | None = None) -> Timings:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        problem = self.screen.open(pygame)
        if problem:
            self._device("display", "error", problem)
        self._keymap = keymap(self.config.station, pygame.key.key_code)
        self.records.start()
        self.judge.start()
        try:
            self.camera.start()
            self._device("camera", "ok")
        except CameraError as exc:
            log.error("camera: %s", exc)
            self._device("camera", "lost", str(exc))
        for backend in self.scanners:
            backend.start(self.scanner_event)
        self._start_pedal()
        if needs_new_pin(self.config):
            self._apply(st.PinRequired(now=time.monotonic()))
        if self.resume_session is not None:
            self.records.submit(ResumeSession(self.resume_session))
        elif self.open_at_start:
            self.records.submit(st.OpenSession())
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
                if st.holds_for_crew(self._held_since, now, self.config.station):
                    self._held_since = None
                    self.screen.show_crew = self.state.session is not None
                self.screen.held = st.hold_done(self._held_since, now, self.config.station)
                if self.on_tick is not None:
                    self.on_tick(self, now)
                self.screen.draw(pygame, self.state, self.progress, now)
                if now - self._last_watchdog > 0.5:
                    notify.watchdog()
                    self._last_watchdog = now
                    change = self.camera_watch.check(self.state.devices.get("camera"), now)
                    if change is not None:
                        self._apply(change)
                if now - self._last_progress > 2.0:
                    self.records.submit(RefreshProgress())
                    self._last_progress = now
                if max_seconds is not None and now - started > max_seconds:
                    log.warning("stopping after %.0f s", max_seconds)
                    break
                clock.tick(self.config.station.fps)
        finally:
            self.shutdown()
            pygame.quit()
        return self.timings

    def stop(self) -> None:
        """End the loop after this turn (the demo's script when it is done)."""
        self.running = False

    def _start_pedal(self) -> None:
        """The GPIO shutter pedal, if configured: a press is the crew's shutter key."""
        from kiosk.shutter import ShutterError, from_config

        def pressed() -> None:  # gpiozero's thread: only queue
            self.inbox.put(st.Key(st.Action.SHUTTER, now=time.monotonic()))

        try:
            self.pedal = from_config(self.config.deployment, pressed)
        except ShutterError as exc:
            log.error("pedal: %s", exc)
            self._device("pedal", "error", str(exc))

    def shutdown(self) -> None:
        if self.pedal is not None:
            with contextlib.suppress(Exception):
                self.pedal.close()
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
                message = self.inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(message, ProgressUpdated):
                self.progress = message.progress
            elif isinstance(message, Failure):
                self._fail(message.error, now)
            else:
                self._apply(message)

    def _apply(self, event: st.Event) -> None:
        try:
            transition = st.step(self.state, event, self.config.station)
        except Exception as exc:
            log.exception("station step failed on %s", type(event).__name__)
            self._fail(exc, time.monotonic())
            return
        self.clock.account(event, self.state, transition.state, time.monotonic())
        self.state = transition.state
        if isinstance(event, st.PinSaved):
            self.config = with_pin_in_force(self.config)  # the new PIN leaves the kiosk
        if isinstance(event, st.ShotSaved | st.SessionOpened):
            self.records.submit(RefreshProgress())  # the crew screen shows the new shot at once
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

    def _effect(self, effect: st.Effect) -> None:
        if isinstance(effect, RECORDED):
            self.records.submit(effect)
        elif isinstance(effect, st.TakeStill):
            self.clock.still_requested(time.monotonic())
            threading.Thread(target=self._take_still, name="still", daemon=True).start()
        elif isinstance(effect, st.LockExposure):
            self.camera.lock_exposure()
        elif isinstance(effect, st.UnlockExposure):
            self.camera.unlock_exposure()
        elif isinstance(effect, st.RestartCamera):
            self.camera_watch.restart()
        elif isinstance(effect, st.Exit):
            self.stop()

    def _take_still(self) -> None:
        timeout = self.config.station.capture_timeout_s
        self.inbox.put(take_still(self.camera, self.checker, self.compose, timeout))

    # -- keys -------------------------------------------------------------------------

    def _pygame_event(self, pygame: Any, event: Any, now: float) -> None:
        if event.type == pygame.QUIT:
            self._apply(st.Key(st.Action.QUIT, now=now))
        elif event.type == pygame.KEYDOWN:
            state = self.state
            asked = (state.pin_entry, state.chooser, state.new_pin)
            typing = any(part is not None for part in asked)
            if typing and event.unicode and event.unicode.isdigit():
                self._apply(st.Key(st.Action.DIGIT, event.unicode, now=now))
                return
            action = self._keymap.get(event.key)
            if action is not None:
                self.press(action, now=now)
        elif event.type in (pygame.MOUSEBUTTONDOWN, pygame.FINGERDOWN):
            self._tap(pygame, event, now)
        elif event.type in (pygame.MOUSEBUTTONUP, pygame.FINGERUP):
            self._held_since = None  # a brief tap on the student's screen does nothing

    def _tap(self, pygame: Any, event: Any, now: float) -> None:
        """A tap on the crew's buttons (touch screen, or a mouse on a desk): the
        session chooser, a PIN pad, the crew keys during a session. On a closed
        station's screen a tap opens the chooser; on the student's screen during
        a session only a long press shows the crew screen and its buttons (a crew
        without keys; the student may touch their screen)."""
        if not self.screen.crew_on_main():
            return
        from kiosk.display.chooser import line_at
        from kiosk.display.crew import back_to_student, crew_buttons, takes_the_screen
        from kiosk.display.pad import hit

        state = self.state
        asked = takes_the_screen(state)
        if state.phase is st.Phase.CLOSED and not asked:
            self._apply(st.Pressed(st.OPEN, now=now))
            return
        if not asked and not self.screen.show_crew:
            self._held_since = now if state.session is not None else None
            return
        size = self.screen.surface.get_size()
        if event.type == pygame.FINGERDOWN:
            x, y = event.x * size[0], event.y * size[1]
        else:
            x, y = event.pos
        button = hit(crew_buttons(size, state), x, y)
        if button is None:
            if state.chooser is not None and state.new_pin is None and state.pin_entry is None:
                index = line_at(size, state.chooser, y, x)
                if index is not None:
                    self._apply(st.Touched(index, now=now))
                    return
            self._apply(st.Pressed(st.ELSEWHERE, now=now))  # cancels a 结束 asked once
            return
        self._apply(st.Pressed(button, now=now))  # 学生屏 too: it cancels a 结束 asked
        if back_to_student(button, state):
            self.screen.show_crew = False

    def press(self, action: st.Action | str, text: str = "", now: float | None = None) -> None:
        """A crew key (from the keyboard, or from code: the demo's crew)."""
        if action == CREW_SCREEN:
            self.screen.show_crew = not self.screen.show_crew
            return
        action = st.Action(action)
        if self.state.pin_entry is not None and action is st.Action.QUIT:
            action = st.Action.CANCEL
        self._apply(st.Key(action, text, now=time.monotonic() if now is None else now))

    def crew_screenshot(self, label: str = "crew") -> Path | None:
        """Save the crew screen as it is now (the demo does this after each shot)."""
        return self.screen.crew_screenshot(self.state, self.progress, label)


def keymap(station: StationConfig, key_code: Callable[[str], int]) -> dict[int, st.Action | str]:
    """pygame key code -> crew action, from the key names in the config."""
    wanted: dict[str, st.Action | str] = {
        # fixed keys every keyboard and keypad has (a configured key of the same name wins):
        # the session chooser's cursor, and a typed digit off (chooser, PIN screens)
        "up": st.Action.UP,
        "down": st.Action.DOWN,
        "backspace": st.Action.DELETE,
        station.key_shutter: st.Action.SHUTTER,
        station.key_accept: st.Action.ACCEPT,
        station.key_retake: st.Action.RETAKE,
        station.key_skip: st.Action.SKIP,
        station.key_walk_in: st.Action.WALK_IN,
        station.key_session: st.Action.SESSION,
        station.key_quit: st.Action.QUIT,
        station.key_crew_screen: CREW_SCREEN,
    }
    codes: dict[int, st.Action | str] = {}
    for name, action in wanted.items():
        try:
            codes[key_code(name)] = action
        except ValueError:
            log.error("unknown key name %r in the station config", name)
    return codes


def build_station(
    config: Config,
    *,
    camera: Camera | None = None,
    scanners: Sequence[ScannerBackend] | None = None,
    quality: Quality | None = None,
    headless: bool = False,
    screenshots: Path | None = None,
    session: SessionPlan | None = None,
    resume_session: int | None = None,
    on_tick: TickHook | None = None,
) -> StationApp:
    """The one place a station is put together from a config (``kiosk run``, the demo, the bench).

    Every part defaults to what the config names: the camera (Pi or its
    twin), the scanners (raises ConfigError for a bad device), the real face
    check, crop and head guide, and the scan identifier. The demo, the
    benchmark and the tests pass their simulated devices or fakes instead.
    """
    from kiosk.capture.devices import open_camera
    from kiosk.scanner.devices import open_backends
    from kiosk.scanner.parse import Identifier

    if scanners is None:
        scanners = open_backends(config.scanner)
    quality = quality or quality_for(config)
    return StationApp(
        config,
        camera=camera or open_camera(config.camera),
        checker=quality.checker,
        compose=quality.compose,
        guide=quality.guide,
        identify=Identifier.for_config(config).identify,
        scanners=scanners,
        headless=headless,
        screenshots=screenshots,
        session=session,
        resume_session=resume_session,
        on_tick=on_tick,
    )
