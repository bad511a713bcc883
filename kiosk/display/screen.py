"""The station's screens: opening the display, drawing the student and crew views, screenshots.

Why apart from the loop: everything here is about what is shown, from the
state the loop hands over; nothing here changes that state. The student
screen is redrawn when the state, the crew view or the camera frame changes
(and every 0.1 s for the countdown); the crew screen goes to a second display
when there is one, else the crew key toggles it in place of the student's.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from pathlib import Path
from typing import Any

from kiosk import notify
from kiosk import station as st
from kiosk.capture.camera import Camera, Frame
from kiosk.config import Config
from kiosk.display.view import View
from kiosk.progress import Progress
from kiosk.timings import Timings

log = logging.getLogger(__name__)

THUMBNAIL_HEIGHT = 160
THUMBNAILS_KEPT = 32


class DisplayUnavailable(RuntimeError):
    """No usable display: the message is the crew's hint (``kiosk run`` exits 2 with it)."""


class Screen:
    """Draws the station's state on the student screen and the crew screen."""

    def __init__(
        self,
        config: Config,
        camera: Camera,
        guide: Any,
        timings: Timings,
        *,
        headless: bool = False,
        screenshots: Path | None = None,
    ) -> None:
        self.config = config
        self.camera = camera
        self.guide = guide
        self.timings = timings
        self.headless = headless
        self.screenshots = screenshots
        self.show_crew = False  # the crew view in place of the student's (one display)
        self.second: Any = None  # the crew's own display, when there is one
        self.drawn_phase: st.Phase | None = None
        self.drawn_phases: list[st.Phase] = []  # every phase change that reached the screen
        self.written: list[Path] = []  # screenshots saved
        self._photo: Any = None
        self._photo_key: Any = None
        self._thumbnails: dict[Path, Any] = {}
        self._drawn_key: Any = None
        self.held = 0.0  # a long press on the student's screen, 0 to 1 (drawn as a bar)
        self._drawn_seq: int | None = None
        self._drawn_at = 0.0
        self._crew_drawn_at = 0.0
        self._shown_seq: int | None = None
        self._screenshot_phase: st.Phase | None = None
        self._shot_counter = 0

    def open(self, pygame: Any) -> str | None:
        """Open the display; returns a problem the crew must see (wrong SDL driver), or None."""
        from kiosk.display import kmsdrm
        from kiosk.display.font import Fonts

        # deployment: the connected /dev/dri/cardN for SDL's kmsdrm, and a loud
        # message when SDL ends up on another driver (docs/deployment.md).
        display = kmsdrm.prepare()
        (log.info if display.ok else log.error)("display: %s", display.message)
        try:
            pygame.display.init()
        except pygame.error as exc:
            failed = f"{kmsdrm.driver_problem(None, display.driver)} (SDL: {exc})"
            log.error("%s", failed)
            notify.status(failed)
            raise DisplayUnavailable(failed) from exc
        problem = kmsdrm.driver_problem(pygame.display.get_driver(), display.driver) or (
            None if display.ok else display.message
        )
        if problem:
            log.error("%s", problem)
            notify.status(problem)
        pygame.font.init()
        station = self.config.station
        size = tuple(station.window_size)
        flags = 0
        if station.fullscreen and not self.headless:
            flags = pygame.FULLSCREEN
            size = (0, 0)
        self.surface = pygame.display.set_mode(size, flags)
        pygame.display.set_caption("kiosk")
        pygame.mouse.set_visible(self.headless or not station.fullscreen)
        self.crew_surface = pygame.Surface(self.surface.get_size())
        self.second = None
        if station.crew_screen == "auto":
            from kiosk.display.second import open_second_screen

            self.second = open_second_screen(pygame, self.headless)
        self.fonts = Fonts(station.font_path)
        return problem or None

    # -- what is shown ---------------------------------------------------------------

    def view(
        self, state: st.State, progress: Progress | None, now: float, frame: Frame | None = None
    ) -> tuple[View, Frame | None]:
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
            "_hold": f"{s.crew_hold_s:g}",
        }
        camera_status = state.devices.get("camera")
        return View(
            state=state,
            now=now,
            frame=rgb,
            guide=guide,
            photo=self._photo_of(state),
            progress=progress,
            thumbnails=self._thumbnails_of(progress),
            language=s.crew_language,
            keys=keys,
            camera_ok=camera_status is None or camera_status.state == "ok",
            touch=self.second is None,  # taps arrive on the main display only
        ), frame

    def _photo_of(self, state: st.State) -> Any:
        """The still under review, or the earlier photo of a student who came back."""
        import pygame

        key: Any = None
        data: bytes | None = None
        if state.still is not None and state.still.jpeg is not None:
            key = id(state.still)
            data = state.still.jpeg
        elif state.earlier is not None:
            key = state.earlier.file
            with contextlib.suppress(OSError):
                data = (self.config.data_dir / state.earlier.file).read_bytes()
        if key is None:
            return None
        if key != self._photo_key:
            self._photo_key = key
            self._photo = pygame.image.load(io.BytesIO(data), "photo.jpg") if data else None
        return self._photo

    def _thumbnails_of(self, progress: Progress | None) -> dict[Path, Any]:
        """The crew screen's recent shots, loaded once and scaled to one height."""
        import pygame

        if progress is None:
            return self._thumbnails
        for shot in progress.recent:
            if shot.file not in self._thumbnails:
                try:
                    image = pygame.image.load(str(shot.file))
                    width = round(image.get_width() * THUMBNAIL_HEIGHT / image.get_height())
                    self._thumbnails[shot.file] = pygame.transform.smoothscale(
                        image, (width, THUMBNAIL_HEIGHT)
                    )
                except (OSError, pygame.error):
                    continue
        if len(self._thumbnails) > THUMBNAILS_KEPT:
            keep = {s.file for s in progress.recent}
            self._thumbnails = {k: v for k, v in self._thumbnails.items() if k in keep}
        return self._thumbnails

    def draw(self, pygame: Any, state: st.State, progress: Progress | None, now: float) -> None:
        from kiosk.display.crew import draw_crew, takes_the_screen
        from kiosk.display.student import draw_hold, draw_student

        frame = self.camera.latest()
        seq = frame.seq if frame is not None else None
        changed = (state, self.show_crew, progress, self.held) != self._drawn_key
        if not changed and seq == self._drawn_seq and now - self._drawn_at < 0.1:
            return  # nothing new to show (the countdown still ticks every 0.1 s)
        self._drawn_key = (state, self.show_crew, progress, self.held)
        self._drawn_seq = seq
        self._drawn_at = now
        view, frame = self.view(state, progress, now, frame)
        if (self.show_crew or takes_the_screen(state)) and self.second is None:
            # the chooser and the PIN pads are the crew's: on one display they take it
            draw_crew(self.surface, view, self.fonts)
        else:
            draw_student(self.surface, view, self.fonts)
            if self.held > 0:
                draw_hold(self.surface, self.held)
        pygame.display.flip()
        if self.second is not None and (changed or now - self._crew_drawn_at > 1.0):
            self._crew_drawn_at = now
            draw_crew(self.second.surface, view, self.fonts)
            self.second.present()
        if state.phase is not self.drawn_phase:
            self.drawn_phase = state.phase
            self.drawn_phases.append(state.phase)
        drawn = time.monotonic()
        if frame is not None and frame.seq != self._shown_seq:
            # A camera frame reached the screen: counts for fps shown and latency.
            self._shown_seq = frame.seq
            self.timings.drawn_at.append(drawn)
            self.timings.frame_latency.append(drawn - frame.at)
        if self.screenshots is not None and state.phase != self._screenshot_phase:
            self._screenshot_phase = state.phase
            self.screenshot(pygame, self.surface, f"student-{state.phase}")

    def crew_on_main(self) -> bool:
        """Are the crew's chooser and PIN pads on the main display (where taps arrive)?"""
        return self.second is None

    # -- screenshots -------------------------------------------------------------------

    def screenshot(self, pygame: Any, surface: Any, label: str) -> Path | None:
        if self.screenshots is None:
            return None
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self._shot_counter += 1
        path = self.screenshots / f"{self._shot_counter:03d}-{label}.png"
        pygame.image.save(surface, str(path))
        self.written.append(path)
        return path

    def crew_screenshot(
        self, state: st.State, progress: Progress | None, label: str = "crew"
    ) -> Path | None:
        """Draw the crew screen off-screen and save it (the demo does this after each shot)."""
        import pygame

        from kiosk.display.crew import draw_crew

        view, _ = self.view(state, progress, time.monotonic())
        draw_crew(self.crew_surface, view, self.fonts)
        return self.screenshot(pygame, self.crew_surface, label)
