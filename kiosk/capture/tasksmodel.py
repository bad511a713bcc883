"""The face models on the MediaPipe Tasks API (mediapipe 1.2.x: Raspberry Pi OS Trixie).

Why: mediapipe 0.10.18 (the ``solutions`` graphs) has no wheel for Python
3.13; 1.2.x has one for every Python 3 but only the Tasks API and no model
files. This backend runs the same networks as the ``solutions`` path, from
``kiosk/assets/models`` (made from the 0.10.18 wheel by
:mod:`kiosk.capture.model_files`; nothing is downloaded), and returns the
same plain numpy arrays, so :mod:`kiosk.capture.facemodel` can swap it in.

Detection, hands, pose and segmentation use the Tasks API. The 478-point
mesh cannot: the Tasks face landmarker needs Google's newer
``face_landmarks_detector`` (not in any wheel), and 0.10.18's attention
mesh needs MediaPipe's own custom TFLite ops. So the mesh is MediaPipe's
earlier two-stage pipeline, run through LiteRT (``ai_edge_litert``, the
TFLite runtime Google ships for such models): the 468-point mesh on the face
box (or last frame's landmarks) scaled 1.5x, square, turned so the eyes are
level, then the iris model on each eye (the eye corners' span 2.3x; the
left eye mirrored, as the model only knows right eyes). Its points are
MediaPipe's 478 in the same order; the lids and lips come from the plain
mesh, not the attention refinement, so the measures differ a little
(docs/quality.md, "The Tasks-API path").
"""

from __future__ import annotations

import atexit
import math
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.capture.model_files import MODELS

# MediaPipe's face-landmark ROI: the face box enlarged 1.5x, square.
ROI_SCALE = 1.5
MESH_INPUT = 192
IRIS_INPUT = 64
# MediaPipe's iris ROI: the span between the eye corners, 2.3x, square.
IRIS_ROI_SCALE = 2.3
# Eye corners (outer, inner) per eye, the right eye (image left) first.
EYE_CORNERS = ((33, 133), (263, 362))
# The iris model's first 16 eye points are these mesh points (MediaPipe's
# eye contour order); they replace the mesh's coarser lids, as MediaPipe's
# own iris pipeline does.
EYE_CONTOURS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)
# Mesh points of the outer eye corners (level eyes = upright crop).
EYE_OUTER_RIGHT, EYE_OUTER_LEFT = 33, 263


def available() -> bool:
    """Whether the Tasks runtime, LiteRT and the shipped model files are all here."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
        from mediapipe.tasks.python import vision  # noqa: F401
    except ImportError:
        return False
    return (MODELS / "iris_landmarks.tflite").exists()


class TasksGraphs:
    """Builds the Tasks and LiteRT objects on first use; one lock each (see FaceModel)."""

    def __init__(self, models: Path = MODELS) -> None:
        self.models = models
        self._built: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._tracked: dict[str, np.ndarray | None] = {"still": None, "preview": None}
        atexit.register(self.close)

    def close(self) -> None:
        with self._lock:
            for built in self._built.values():
                closer = getattr(built, "close", None)
                if not callable(closer):
                    continue
                try:
                    closer()
                except (RuntimeError, TypeError):
                    # At exit the runners' dispatcher threads are gone; drop
                    # the handle so their finalisers do not try again.
                    built._handle = None
            self._built.clear()

    def _get(self, name: str) -> Any:
        found = self._built.get(name)
        if found is None:
            with self._lock:
                found = self._built.get(name)
                if found is None:
                    found = self._build(name)
                    self._built[name] = found
        return found

    def _build(self, name: str) -> Any:
        from mediapipe.tasks.python import BaseOptions, vision

        def options(file: str) -> Any:
            return BaseOptions(model_asset_path=str(self.models / file))

        if name in ("detect", "roi"):
            # detect: faces up to ~5 m (counting); roi: the close face for the mesh.
            file = (
                "face_detector_full_range.tflite"
                if name == "detect"
                else "face_detector_short_range.tflite"
            )
            return vision.FaceDetector.create_from_options(
                vision.FaceDetectorOptions(base_options=options(file), min_detection_confidence=0.5)
            )
        if name in ("mesh", "iris"):
            from ai_edge_litert.interpreter import Interpreter

            file = "face_landmarks.tflite" if name == "mesh" else "iris_landmarks.tflite"
            interpreter = Interpreter(model_path=str(self.models / file), num_threads=1)
            interpreter.allocate_tensors()
            return interpreter
        if name == "segment":
            return vision.ImageSegmenter.create_from_options(
                vision.ImageSegmenterOptions(
                    base_options=options("selfie_segmenter.tflite"),
                    output_confidence_masks=True,
                    output_category_mask=False,
                )
            )
        if name == "hands":
            return vision.HandLandmarker.create_from_options(
                vision.HandLandmarkerOptions(
                    base_options=options("hand_landmarker.task"),
                    num_hands=2,
                    min_hand_detection_confidence=0.5,
                )
            )
        if name == "pose":
            return vision.PoseLandmarker.create_from_options(
                vision.PoseLandmarkerOptions(
                    base_options=options("pose_landmarker.task"),
                    min_pose_detection_confidence=0.5,
                )
            )
        raise ValueError(name)

    def load(self, name: str) -> None:
        for part in ("roi", "mesh", "iris") if name in ("still", "preview") else (name,):
            self._get(part)

    # -- the calls FaceModel makes -----------------------------------------

    def detect(
        self, rgb: np.ndarray, min_score: float
    ) -> list[tuple[float, float, float, float, float]]:
        """(x, y, width, height, score) in pixels, for each face the full-range detector finds."""
        result = self._get("detect").detect(_image(rgb))
        return [
            (
                float(d.bounding_box.origin_x),
                float(d.bounding_box.origin_y),
                float(d.bounding_box.width),
                float(d.bounding_box.height),
                float(d.categories[0].score) if d.categories else 0.0,
            )
            for d in result.detections
            if not d.categories or d.categories[0].score >= min_score
        ]

    def mesh(self, rgb: np.ndarray, mode: str, min_presence: float) -> np.ndarray | None:
        """478 x 3 points (pixels; z on the x scale), or None. ``mode`` 'preview' tracks."""
        roi = None
        previous = self._tracked.get(mode) if mode == "preview" else None
        if previous is not None:
            roi = _roi_from_points(previous)
        if roi is None:
            roi = self._roi_from_detector(rgb)
        if roi is None:
            self._tracked[mode] = None
            return None
        points, presence = self._run_mesh(rgb, roi)
        if presence < min_presence:
            self._tracked[mode] = None
            if previous is not None:  # lost the track: look again from scratch
                roi = self._roi_from_detector(rgb)
                if roi is None:
                    return None
                points, presence = self._run_mesh(rgb, roi)
                if presence < min_presence:
                    return None
            else:
                return None
        if mode == "preview":
            self._tracked[mode] = points
        return points

    def _roi_from_detector(self, rgb: np.ndarray) -> tuple[float, float, float, float] | None:
        h, w = rgb.shape[:2]
        detections = self._get("roi").detect(_image(rgb)).detections
        if not detections:
            return None
        best = max(detections, key=lambda d: d.categories[0].score if d.categories else 0.0)
        box = best.bounding_box
        cx = box.origin_x + box.width / 2
        cy = box.origin_y + box.height / 2
        keys = best.keypoints
        if len(keys) >= 2:  # 0: the subject's right eye (image left), 1: the left eye
            angle = math.atan2((keys[1].y - keys[0].y) * h, (keys[1].x - keys[0].x) * w)
        else:
            angle = 0.0
        return cx, cy, ROI_SCALE * max(box.width, box.height), angle

    def _run_mesh(
        self, rgb: np.ndarray, roi: tuple[float, float, float, float]
    ) -> tuple[np.ndarray, float]:
        cx, cy, side, angle = roi
        crop, a, b = _crop(rgb, cx, cy, side, angle, MESH_INPUT)
        outputs = self._invoke("mesh", crop)
        local = outputs[0].reshape(468, 3).astype(np.float64)
        mesh = _to_image(local, a, b, side / MESH_INPUT)
        presence = 1.0 / (1.0 + math.exp(-float(outputs[1].reshape(-1)[0])))
        irises = []
        for eye in range(2):
            iris, contour = self._iris(rgb, mesh, eye)
            mesh[list(EYE_CONTOURS[eye]), :2] = contour[:, :2]
            irises.append(iris)
        return np.vstack([mesh, *irises]), presence

    def _iris(self, rgb: np.ndarray, mesh: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray]:
        """One eye's five iris points (centre, then the ring) and 16 lid points, image pixels."""
        outer, inner = (mesh[i, :2] for i in EYE_CORNERS[eye])
        # Both eyes are cropped as a right eye: outer corner on the left.
        left_side, right_side = (outer, inner) if eye == 0 else (inner, outer)
        angle = math.atan2(right_side[1] - left_side[1], right_side[0] - left_side[0])
        centre = (outer + inner) / 2
        side = IRIS_ROI_SCALE * float(np.linalg.norm(inner - outer))
        crop, a, b = _crop(rgb, float(centre[0]), float(centre[1]), side, angle, IRIS_INPUT)
        if eye == 1:  # the model knows right eyes: mirror the left one
            crop = np.ascontiguousarray(crop[:, ::-1])
        eyes, irises = self._invoke("iris", crop)
        iris = irises.reshape(5, 3).astype(np.float64)
        contour = eyes.reshape(71, 3)[: len(EYE_CONTOURS[eye])].astype(np.float64)
        if eye == 1:
            iris[:, 0] = IRIS_INPUT - iris[:, 0]
            contour[:, 0] = IRIS_INPUT - contour[:, 0]
        scale = side / IRIS_INPUT
        return _to_image(iris, a, b, scale), _to_image(contour, a, b, scale)

    def _invoke(self, name: str, crop: np.ndarray) -> list[np.ndarray]:
        interpreter = self._get(name)
        with self._lock:
            tensor = (crop.astype(np.float32) / 255.0)[None]
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
            interpreter.invoke()
            return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]

    def segment(self, rgb: np.ndarray) -> np.ndarray:
        result = self._get("segment").segment(_image(rgb))
        return np.asarray(result.confidence_masks[0].numpy_view(), dtype=np.float32).reshape(
            rgb.shape[:2]
        )

    def hands(self, rgb: np.ndarray) -> list[np.ndarray]:
        h, w = rgb.shape[:2]
        result = self._get("hands").detect(_image(rgb))
        return [_pixels(hand, w, h) for hand in result.hand_landmarks]

    def pose(self, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        result = self._get("pose").detect(_image(rgb))
        if not result.pose_landmarks:
            return None
        points = result.pose_landmarks[0]
        return np.array(
            [(p.x * w, p.y * h, p.z * w, p.visibility or 0.0) for p in points], np.float64
        )


def _crop(
    rgb: np.ndarray, cx: float, cy: float, side: float, angle: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = _crop_transform(cx, cy, side, angle, size)
    crop = cv2.warpAffine(
        rgb,
        np.hstack([a, b[:, None]]),
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )
    return crop, a, b


def _to_image(local: np.ndarray, a: np.ndarray, b: np.ndarray, z_scale: float) -> np.ndarray:
    points = np.empty_like(local)
    points[:, :2] = local[:, :2] @ a.T + b
    points[:, 2] = local[:, 2] * z_scale
    return points


def _crop_transform(
    cx: float, cy: float, side: float, angle: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Crop pixel q -> image pixel a @ q + b, for a square of ``side`` turned by ``angle``."""
    s = side / size
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-math.sin(angle), math.cos(angle)])
    a = np.column_stack([u * s, v * s])
    b = np.array([cx, cy]) - 0.5 * side * (u + v)
    return a, b


def _roi_from_points(points: np.ndarray) -> tuple[float, float, float, float] | None:
    """The next frame's crop from this frame's mesh: its box 1.5x, turned with the eyes."""
    xy = points[:468, :2]
    right, left = points[EYE_OUTER_RIGHT, :2], points[EYE_OUTER_LEFT, :2]
    angle = math.atan2(left[1] - right[1], left[0] - right[0])
    # The box in the face's own frame, so a tilted head does not inflate it.
    c, s = math.cos(-angle), math.sin(-angle)
    turned = xy @ np.array([[c, s], [-s, c]])
    lo, hi = turned.min(axis=0), turned.max(axis=0)
    size = float(max(hi - lo))
    if size < 4:
        return None
    centre = (lo + hi) / 2 @ np.array([[c, -s], [s, c]])
    return float(centre[0]), float(centre[1]), ROI_SCALE * size, angle


def _image(rgb: np.ndarray) -> Any:
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


def _pixels(points: Any, w: int, h: int) -> np.ndarray:
    return np.array([(p.x * w, p.y * h, p.z * w) for p in points], dtype=np.float64)
