"""The face check at work: on the newest preview frame, and on each still.

Why apart from the loop: judging takes 15-70 ms, far longer than a frame of
the main loop, so it runs on its own threads and posts its verdicts
(:class:`~kiosk.station.FrameJudged`, :class:`~kiosk.station.StillJudged`,
:class:`~kiosk.station.StillFailed`) to the loop's inbox. The checker and the
crop come in as plain callables, so tests give fakes and the benchmark the
real MediaPipe check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import numpy as np

from kiosk import station as st
from kiosk.capture.camera import Camera, CameraError
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import Config
from kiosk.inbox import Failure, Post
from kiosk.timings import Timings

log = logging.getLogger(__name__)

# A still without a face to crop: judged, but no official photo is made from it.
NOTHING_TO_CROP = frozenset({Reason.NO_FACE, Reason.MULTIPLE_FACES})


class Checker(Protocol):
    def assess(
        self, rgb: np.ndarray, *, still: bool = False, face_only: bool = False
    ) -> Assessment: ...


# official(still_rgb, assessment) -> 480 x 640 JPEG bytes; raises CropError when no crop fits
Composer = Callable[[np.ndarray, Assessment], bytes]
# head_guide(frame_w, frame_h) -> (cx, cy, rx, ry) in frame pixels
Guide = Callable[[int, int], tuple[float, float, float, float] | None]


class Judge(threading.Thread):
    """Judges the newest preview frame while someone is being framed."""

    def __init__(self, camera: Camera, checker: Checker, post: Post, timings: Timings) -> None:
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
                self.post(Failure(exc))
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


def take_still(camera: Camera, checker: Checker, compose: Composer, timeout: float) -> st.Event:
    """Capture, judge and crop one still (a thread of its own per shot): the event to post."""
    try:
        still = camera.capture_still(timeout)
    except CameraError as exc:
        return st.StillFailed(str(exc), now=time.monotonic())
    try:
        assessment = checker.assess(still.rgb, still=True)
        jpeg: bytes | None = None
        error = ""
        if not NOTHING_TO_CROP.intersection(assessment.reasons):
            try:
                jpeg = compose(still.rgb, assessment)
            except Exception as exc:  # CropError: face too near the edge to crop
                error = str(exc)
        result = st.StillResult(assessment, jpeg, dict(still.camera), error)
        return st.StillJudged(result, now=time.monotonic())
    except Exception as exc:
        log.exception("judging the still failed")
        return st.StillFailed(f"{type(exc).__name__}: {exc}", now=time.monotonic())


class Quality(NamedTuple):
    """The face check, the official crop and the head guide, as the station uses them."""

    checker: Checker
    compose: Composer
    guide: Guide


def quality_for(config: Config) -> Quality:
    """The real check, crop and guide from ``config.quality`` and ``config.photo``.

    Every MediaPipe graph is built now, before any thread starts: the first
    student must not wait for model loading, and MediaPipe's C++ start-up
    notices on stderr are silenced while nothing else can write there.
    """
    from kiosk.capture import compose
    from kiosk.capture.image import load_rgb
    from kiosk.capture.quality import QualityChecker
    from kiosk.capture.sim import PORTRAITS

    photo = config.photo
    checker = QualityChecker(config.quality, photo)
    checker.model.load(
        *checker.model.GRAPHS, quiet=True, sample=load_rgb(PORTRAITS / "face_001.jpg")
    )

    def official(still: np.ndarray, assessment: Assessment) -> bytes:
        return compose.official(still, assessment, photo).jpeg

    def guide(frame_w: int, frame_h: int) -> tuple[float, float, float, float]:
        return compose.head_guide(frame_w, frame_h, photo)

    return Quality(checker, official, guide)
