"""A crude stand-in face check and crop, used only while kiosk.capture.quality is absent.

The real check (MediaPipe landmarks: eyes, mouth, pose, occlusion ...) lives
in kiosk/capture/quality.py and kiosk/capture/compose.py. This module lets
the station and its demo run on a checkout without them: OpenCV's bundled
Haar cascades find the face (count, size, centring, brightness, sharpness,
a smile); nothing here judges eyes or pose. :func:`load_quality` picks the
real modules whenever they import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from kiosk.capture.verdict import Assessment, Reason

log = logging.getLogger(__name__)

# Where the face should sit in the frame (fractions of the frame height):
# centre at 42 % from the top, face (chin to hairline) 42 % of the height.
GUIDE_CENTRE_Y = 0.42
GUIDE_FACE_H = 0.42


class CropError(ValueError):
    pass


class HaarChecker:
    def __init__(self) -> None:
        import cv2

        self.cv2 = cv2
        base = cv2.data.haarcascades
        self.faces = cv2.CascadeClassifier(base + "haarcascade_frontalface_default.xml")
        self.smiles = cv2.CascadeClassifier(base + "haarcascade_smile.xml")

    def assess(self, rgb: np.ndarray, still: bool = False, face_only: bool = False) -> Assessment:
        cv2 = self.cv2
        h, w = rgb.shape[:2]
        scale = 480 / w if w > 480 else 1.0
        small = cv2.resize(rgb, (round(w * scale), round(h * scale))) if scale != 1.0 else rgb
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        found = self.faces.detectMultiScale(gray, 1.15, 5, minSize=(24, 24))
        if len(found) == 0:
            return Assessment.of([Reason.NO_FACE])
        boxes = sorted((tuple(int(v) for v in b) for b in found), key=lambda b: -b[2] * b[3])
        biggest = boxes[0]
        reasons: set[Reason] = set()
        if any(b[2] * b[3] > 0.3 * biggest[2] * biggest[3] for b in boxes[1:]):
            reasons.add(Reason.MULTIPLE_FACES)
        x, y, bw, bh = biggest
        sh = gray.shape[0]
        # The Haar box spans brows to mouth: ~0.75 of the face height.
        face_h = bh / 0.75
        if not face_only:
            if face_h < 0.6 * GUIDE_FACE_H * sh:
                reasons.add(Reason.FACE_TOO_SMALL)
            elif face_h > 1.5 * GUIDE_FACE_H * sh:
                reasons.add(Reason.FACE_TOO_LARGE)
            cx = (x + bw / 2) / gray.shape[1]
            if abs(cx - 0.5) > 0.1:
                reasons.add(Reason.OFF_CENTER)
        patch = gray[y : y + bh, x : x + bw]
        mean = float(patch.mean())
        if mean < 50:
            reasons.add(Reason.TOO_DARK)
        elif mean > 225:
            reasons.add(Reason.TOO_BRIGHT)
        sharpness = float(cv2.Laplacian(patch, cv2.CV_64F).var())
        if still and sharpness < 15:
            reasons.add(Reason.BLURRY)
        mouth = gray[y + bh // 2 : y + bh, x : x + bw]
        smiles = self.smiles.detectMultiScale(mouth, 1.7, 22, minSize=(bw // 4, bh // 8))
        if len(smiles):
            reasons.add(Reason.EXPRESSION)
        inv = 1 / scale
        corners = np.array(
            [[x, y, 0], [x + bw, y, 0], [x, y + bh, 0], [x + bw, y + bh, 0]], dtype=np.float32
        ) * np.array([inv, inv, 1], dtype=np.float32)
        measures = {
            "face_x": x * inv,
            "face_y": y * inv,
            "face_w": bw * inv,
            "face_h": bh * inv,
            "brightness": mean,
            "sharpness": sharpness,
        }
        return Assessment.of(reasons, measures, corners)


def official(still: np.ndarray, assessment: Assessment, quality: int = 90) -> bytes:
    """Crop 3:4 around the face found by :class:`HaarChecker`, 480 x 640 JPEG, no metadata."""
    import cv2

    m = assessment.measures
    if "face_h" not in m:
        raise CropError("no face to crop around")
    face_h = m["face_h"] / 0.75
    crop_h = face_h / 0.6
    crop_w = crop_h * 3 / 4
    cx = m["face_x"] + m["face_w"] / 2
    cy = m["face_y"] + m["face_h"] * 0.45
    h, w = still.shape[:2]
    if crop_h > h or crop_w > w:
        raise CropError("the face is too large for the picture: the student should step back")
    # Shift the window inside the picture rather than fail on a near edge.
    top = min(max(0, round(cy - 0.45 * crop_h)), h - round(crop_h))
    left = min(max(0, round(cx - crop_w / 2)), w - round(crop_w))
    crop = still[top : top + round(crop_h), left : left + round(crop_w)]
    photo = cv2.resize(crop, (480, 640), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise CropError("JPEG encoding failed")
    return data.tobytes()


def head_guide(frame_w: int, frame_h: int) -> tuple[float, float, float, float]:
    ry = GUIDE_FACE_H * frame_h / 2
    return (frame_w / 2, GUIDE_CENTRE_Y * frame_h, ry * 0.75, ry)


def load_quality(
    config: Any,
) -> tuple[Any, Callable[[np.ndarray, Assessment], bytes], Callable[[int, int], Any]]:
    """(checker, compose, guide): the real quality modules when present, else this stand-in."""
    try:
        from kiosk.capture import compose, quality  # type: ignore[attr-defined]
    except ImportError:
        log.warning("kiosk.capture.quality is not installed: using the crude Haar stand-in check")
        return HaarChecker(), official, head_guide
    photo = config.photo
    checker = quality.QualityChecker(config.quality, photo)

    def compose_official(still: np.ndarray, assessment: Assessment) -> bytes:
        return compose.official(still, assessment, photo).jpeg

    def guide(frame_w: int, frame_h: int) -> Any:
        return compose.head_guide(frame_w, frame_h, photo)

    return checker, compose_official, guide
