"""The one adapter over MediaPipe: the 0.10.18 ``solutions`` graphs, or the Tasks API.

Why a separate module: 0.10.18 is the last release that bundles these face
models and ships Raspberry Pi wheels for Python 3.11 (Raspberry Pi OS
Bookworm). Trixie has Python 3.13, for which only mediapipe 1.2.x exists:
Tasks API only, no models. So where ``mediapipe.python.solutions`` imports,
the solutions graphs run; otherwise :mod:`kiosk.capture.tasksmodel` runs the
same networks from the model files the project ships. ``KIOSK_MEDIAPIPE=
tasks`` (or ``solutions``) forces one. Nothing outside these two modules
imports ``mediapipe``; everything returned is plain numpy in pixel
coordinates of the image given.

Each graph is built once per process (``FaceModel.shared()``) and guarded by
its own lock, because a MediaPipe graph must not be fed from two threads at
once. Graphs are built on first use, so a ``--face-only`` check never loads
the segmentation model.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

# Confidence for a detection to count as a face. MediaPipe's own default for
# both the detector and the mesh (solutions docs: min_detection_confidence=0.5).
DETECTION_CONFIDENCE = 0.5


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box in pixels of the image given, and the detector's score."""

    x: float
    y: float
    width: float
    height: float
    score: float

    @property
    def area(self) -> float:
        return self.width * self.height


class FaceModel:
    """Face detection, face mesh (478 points with irises) and person segmentation.

    ``detect`` uses the full-range detector (faces up to ~5 m), so small faces
    in a group photo or a bystander far behind the student are still counted.
    ``mesh_still`` runs the mesh in static mode (a fresh detection every call);
    ``mesh_preview`` keeps MediaPipe's tracking between frames, which is both
    faster and steadier for a live preview.
    """

    _shared: ClassVar[FaceModel | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, api: str | None = None) -> None:
        self.api = api or default_api()
        self._tasks: Any = None
        if self.api == "tasks":
            from kiosk.capture.tasksmodel import TasksGraphs

            self._tasks = TasksGraphs()
        self._graphs: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in self.GRAPHS}
        self._build_lock = threading.Lock()

    @classmethod
    def shared(cls) -> FaceModel:
        """The process-wide instance (models are loaded once per process)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def _graph(self, name: str) -> Any:
        graph = self._graphs.get(name)
        if graph is not None:
            return graph
        with self._build_lock:
            graph = self._graphs.get(name)
            if graph is None:
                graph = self._build(name)
                self._graphs[name] = graph
        return graph

    @staticmethod
    def _build(name: str) -> Any:
        # MediaPipe's C++ side logs every graph start to stderr; keep warnings only.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from mediapipe.python.solutions import (
            face_detection,
            face_mesh,
            hands,
            pose,
            selfie_segmentation,
        )

        if name == "detect":
            return face_detection.FaceDetection(
                min_detection_confidence=DETECTION_CONFIDENCE, model_selection=1
            )
        if name in ("still", "preview"):
            return face_mesh.FaceMesh(
                static_image_mode=name == "still",
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=DETECTION_CONFIDENCE,
                min_tracking_confidence=DETECTION_CONFIDENCE,
            )
        if name == "segment":
            # model 0: the general 256x256 model (model 1, landscape, is tuned
            # for video calls with the person small in a wide frame).
            return selfie_segmentation.SelfieSegmentation(model_selection=0)
        if name == "hands":
            # The lite landmark model (complexity 0): a hand over a face is
            # large in the face crop, the full model's finer fingers add nothing.
            return hands.Hands(
                static_image_mode=True,
                max_num_hands=2,
                model_complexity=0,
                min_detection_confidence=DETECTION_CONFIDENCE,
            )
        if name == "pose":
            # Complexity 1 (pose_landmark_full): the one pose model the wheel
            # ships; 0 and 2 would be downloaded at run time.
            return pose.Pose(
                static_image_mode=True,
                model_complexity=1,
                min_detection_confidence=DETECTION_CONFIDENCE,
            )
        raise ValueError(name)

    GRAPHS: ClassVar[tuple[str, ...]] = (
        "detect",
        "still",
        "preview",
        "segment",
        "hands",
        "pose",
    )

    def load_all(self) -> None:
        """Build every graph now (the station does this at start-up, not at the first student)."""
        self.load(*self.GRAPHS)

    def load(self, *names: str, quiet: bool = False, sample: np.ndarray | None = None) -> None:
        """Build the named graphs and run each once on a blank image.

        ``quiet`` sends file descriptor 2 to /dev/null meanwhile: MediaPipe's
        C++ side prints start-up notices there that mean nothing to a user
        of ``kiosk check``. Only for single-threaded callers (the redirect is
        process-wide).
        """
        # A face (``sample``) takes every graph down its whole path once, so
        # the notices of the first landmark projection come now, not later.
        image = np.zeros((64, 64, 3), np.uint8) if sample is None else _contiguous(sample)
        with _stderr_silenced(quiet):
            for name in names:
                if self._tasks is not None:
                    self._tasks.load(name)
                    continue
                graph = self._graph(name)
                with self._locks[name]:
                    graph.process(image)

    # -- the four calls ----------------------------------------------------

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """All faces found, largest first."""
        h, w = rgb.shape[:2]
        if self._tasks is not None:
            with self._locks["detect"]:
                found = self._tasks.detect(_contiguous(rgb), DETECTION_CONFIDENCE)
            boxes = [FaceBox(*b) for b in found]
            boxes.sort(key=lambda b: b.area, reverse=True)
            return boxes
        with self._locks["detect"]:
            result = self._graph("detect").process(_contiguous(rgb))
        boxes = []
        for det in result.detections or ():
            box = det.location_data.relative_bounding_box
            boxes.append(
                FaceBox(
                    x=box.xmin * w,
                    y=box.ymin * h,
                    width=box.width * w,
                    height=box.height * h,
                    score=float(det.score[0]) if det.score else 0.0,
                )
            )
        boxes.sort(key=lambda b: b.area, reverse=True)
        return boxes

    def mesh_still(self, rgb: np.ndarray) -> np.ndarray | None:
        """478 x 3 landmarks (x, y, z in pixels; z on the x scale) or None."""
        return self._mesh("still", rgb)

    def mesh_preview(self, rgb: np.ndarray) -> np.ndarray | None:
        """Like :meth:`mesh_still` but tracking the face from the previous frame."""
        return self._mesh("preview", rgb)

    def _mesh(self, name: str, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        if self._tasks is not None:
            with self._locks[name]:
                return self._tasks.mesh(_contiguous(rgb), name, DETECTION_CONFIDENCE)
        with self._locks[name]:
            result = self._graph(name).process(_contiguous(rgb))
        if not result.multi_face_landmarks:
            return None
        return _pixels(result.multi_face_landmarks[0].landmark, w, h)

    def hands(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Each hand found: 21 x 3 landmarks (x, y in pixels; z on the x scale)."""
        h, w = rgb.shape[:2]
        if self._tasks is not None:
            with self._locks["hands"]:
                return list(self._tasks.hands(_contiguous(rgb)))
        with self._locks["hands"]:
            result = self._graph("hands").process(_contiguous(rgb))
        return [_pixels(hand.landmark, w, h) for hand in result.multi_hand_landmarks or ()]

    def pose(self, rgb: np.ndarray) -> np.ndarray | None:
        """33 body landmarks: x, y in pixels, z on the x scale, visibility 0-1; or None."""
        h, w = rgb.shape[:2]
        if self._tasks is not None:
            with self._locks["pose"]:
                body: np.ndarray | None = self._tasks.pose(_contiguous(rgb))
            return body
        with self._locks["pose"]:
            result = self._graph("pose").process(_contiguous(rgb))
        if result.pose_landmarks is None:
            return None
        points = result.pose_landmarks.landmark
        out = np.array([(p.x * w, p.y * h, p.z * w, p.visibility) for p in points], np.float64)
        return out

    def segment(self, rgb: np.ndarray) -> np.ndarray:
        """Person probability per pixel (float32, same size as the image)."""
        if self._tasks is not None:
            with self._locks["segment"]:
                mask: np.ndarray = self._tasks.segment(_contiguous(rgb))
            return mask
        with self._locks["segment"]:
            result = self._graph("segment").process(_contiguous(rgb))
        return np.asarray(result.segmentation_mask, dtype=np.float32)


def default_api() -> str:
    """``solutions`` where mediapipe 0.10.18's graphs import, else ``tasks``."""
    forced = os.environ.get("KIOSK_MEDIAPIPE", "").strip().lower()
    if forced in ("solutions", "tasks"):
        return forced
    if forced:
        raise ValueError(f"KIOSK_MEDIAPIPE={forced!r}: use 'solutions' or 'tasks'")
    try:
        from mediapipe.python import solutions  # noqa: F401
    except ImportError:
        return "tasks"
    return "solutions"


@contextlib.contextmanager
def _stderr_silenced(active: bool) -> Iterator[None]:
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _pixels(points: Any, w: int, h: int) -> np.ndarray:
    xyz = np.array([(p.x, p.y, p.z) for p in points], dtype=np.float64)
    xyz[:, 0] *= w
    xyz[:, 1] *= h
    xyz[:, 2] *= w
    return xyz


def _contiguous(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an RGB image as a uint8 array of shape (H, W, 3)")
    return np.ascontiguousarray(rgb)
