"""The official photo: crop a camera still to the registry's 480 x 640 JPEG.

The registry (《高等教育学历证书电子注册图像采集规范及信息标准》, 教毕指〔2017〕99号)
fixes the output: 480 x 640 pixels, 300 dpi, 24-bit colour JPEG of quality
>= 60 (typically 20-40 KB), the head centred with the face 180-300 px wide,
the eyes 200-300 px and the top of the hair 50-110 px from the top edge. All
those numbers are in :class:`kiosk.config.PhotoConfig`.

The crop only scales and shifts: it never pads. A crop that would need
pixels outside the still raises :class:`CropError` with the reason the
student can fix (step back, move to the middle), because a silently padded
border would be a wrong photo on a national registry.

``head_guide`` is the same geometry run backwards: where the face must sit
in a camera frame so the crop fits. The quality check's framing codes use
it, and the station draws it on the preview.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from kiosk.capture.measures import FACE_SIDE_LEFT, FACE_SIDE_RIGHT, LEFT_EYE, RIGHT_EYE
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import PhotoConfig

# Proportions of the face mesh used to draw the guide: the oval spans the
# mesh from forehead (landmark 10) to chin (152). Averages over the dev set's
# accepted faces (../shared/faces): mesh height / face width 1.22, eye line
# at 0.42 of the mesh height from its top.
MESH_HEIGHT_PER_WIDTH = 1.22
EYE_LINE_IN_MESH = 0.42


class CropError(ValueError):
    """The still cannot give a registry photo without padding; ``reason`` says what to fix."""

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CropBox:
    """The part of the still that becomes the photo, in still pixels (right/bottom exclusive)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def inside(self, width: int, height: int) -> bool:
        eps = 1e-6
        return (
            self.left >= -eps
            and self.top >= -eps
            and self.right <= width + eps
            and self.bottom <= height + eps
        )


@dataclass(frozen=True)
class OfficialPhoto:
    jpeg: bytes
    width: int
    height: int
    crop: CropBox
    quality: int  # the JPEG quality factor used


@dataclass(frozen=True)
class FaceFrame:
    """What the crop needs to know about the face, in still pixels."""

    centre_x: float  # middle of the face outline
    eye_y: float  # the eye line (iris centres)
    face_width: float  # outline width at the cheekbones (mesh points 234-454)
    crown_y: float | None = None  # top of the hair, when known


def face_frame(assessment: Assessment) -> FaceFrame:
    lm = assessment.landmarks
    if lm is None:
        raise CropError("no face landmarks: judge the still first", Reason.NO_FACE)
    lm = np.asarray(lm)
    right, left = lm[FACE_SIDE_RIGHT, :2], lm[FACE_SIDE_LEFT, :2]
    eyes = (lm[RIGHT_EYE.iris_centre, 1] + lm[LEFT_EYE.iris_centre, 1]) / 2
    return FaceFrame(
        centre_x=float((right[0] + left[0]) / 2),
        eye_y=float(eyes),
        face_width=float(np.linalg.norm(left - right)),
        crown_y=assessment.crown_y,
    )


def crop_box(face: FaceFrame, photo: PhotoConfig) -> CropBox:
    """Scale so the face is ``photo.face_width`` wide, centre it, eyes on ``photo.eye_line``.

    When the top of the hair is known and would land outside the registry's
    50-110 px band, the crop moves up or down as far as the eye band
    (200-300 px) allows.
    """
    if face.face_width <= 1:
        raise CropError("face too small to crop", Reason.FACE_TOO_SMALL)
    scale = photo.face_width / face.face_width  # output px per still px
    eye_line = float(photo.eye_line)
    if face.crown_y is not None:
        crown_out = eye_line - (face.eye_y - face.crown_y) * scale
        hair_low, hair_high = photo.hair_band
        if not hair_low <= crown_out <= hair_high:
            target = (hair_low + hair_high) / 2
            # Keep a margin inside the eye band for landmark error.
            low, high = photo.eye_band[0] + EYE_MARGIN, photo.eye_band[1] - EYE_MARGIN
            eye_line = min(max(eye_line + (target - crown_out), low), high)
    width = photo.width / scale
    height = photo.height / scale
    left = face.centre_x - width / 2
    top = face.eye_y - eye_line / scale
    return CropBox(left, top, left + width, top + height)


# Output pixels kept between the eye line and the edges of the registry's eye band.
EYE_MARGIN = 10.0


def check_fits(box: CropBox, width: int, height: int) -> None:
    """Raise CropError naming what the student should do when the box leaves the still."""
    if box.inside(width, height):
        return
    if box.width > width or box.height > height:
        raise CropError(
            f"crop {box.width:.0f}x{box.height:.0f} px is larger than the still "
            f"{width}x{height}: the face is too close",
            Reason.FACE_TOO_LARGE,
        )
    raise CropError(
        f"crop ({box.left:.0f}, {box.top:.0f})-({box.right:.0f}, {box.bottom:.0f}) "
        f"leaves the still {width}x{height}: the face is not centred",
        Reason.OFF_CENTER,
    )


def official(still_rgb: np.ndarray, assessment: Assessment, photo: PhotoConfig) -> OfficialPhoto:
    """Crop, scale and encode the registry photo (no EXIF, JFIF density = photo.dpi)."""
    h, w = still_rgb.shape[:2]
    box = crop_box(face_frame(assessment), photo)
    check_fits(box, w, h)
    pixels = _resample(still_rgb, box, photo.width, photo.height)
    jpeg, quality = encode_jpeg(pixels, photo)
    return OfficialPhoto(jpeg, photo.width, photo.height, box, quality)


def _resample(rgb: np.ndarray, box: CropBox, out_w: int, out_h: int) -> np.ndarray:
    # Cut whole pixels around the box, shrink with area averaging (no
    # aliasing on a 4608 px still), then a sub-pixel affine for the exact fit.
    h, w = rgb.shape[:2]
    x0, y0 = max(int(np.floor(box.left)), 0), max(int(np.floor(box.top)), 0)
    x1, y1 = min(int(np.ceil(box.right)), w), min(int(np.ceil(box.bottom)), h)
    region = rgb[y0:y1, x0:x1]
    scale = out_w / box.width
    if scale < 1:
        # Area-shrink to just above the output size first.
        pre_w = max(round((x1 - x0) * scale) + 2, out_w)
        pre_h = max(round((y1 - y0) * scale) + 2, out_h)
        region = cv2.resize(region, (pre_w, pre_h), interpolation=cv2.INTER_AREA)
        sx, sy = pre_w / (x1 - x0), pre_h / (y1 - y0)
    else:
        sx = sy = 1.0
    # Map output pixel (u, v) to region pixel.
    fx = out_w / (box.width * sx)
    fy = out_h / (box.height * sy)
    ox = (box.left - x0) * sx
    oy = (box.top - y0) * sy
    matrix = np.array([[fx, 0, -ox * fx], [0, fy, -oy * fy]], dtype=np.float64)
    return cv2.warpAffine(
        np.ascontiguousarray(region),
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,  # only ever touches the last half pixel
    )


def encode_jpeg(rgb: np.ndarray, photo: PhotoConfig) -> tuple[bytes, int]:
    """Encode at ``photo.jpeg_quality``, moving the quality to land in the size window.

    Returns the bytes and the quality used. When no quality in
    [jpeg_quality_min, 95] lands inside the window, the closest is kept
    (a nearly uniform test card can be smaller than 20 KB at any quality).
    """
    low_kb, high_kb = photo.size_min_kb, photo.size_max_kb

    def at(q: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb, "RGB").save(
            buf,
            "JPEG",
            quality=q,
            dpi=(photo.dpi, photo.dpi),
            optimize=True,
            subsampling="4:2:0",
        )
        return buf.getvalue()

    def kb(data: bytes) -> float:
        return len(data) / 1024

    q = photo.jpeg_quality
    data = at(q)
    lo, hi = photo.jpeg_quality_min, 95
    if kb(data) > high_kb:
        hi = q - 1
    elif kb(data) < low_kb:
        lo = q + 1
    else:
        return data, q
    best = (data, q)
    # Binary search on quality (size grows with quality).
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = at(mid)
        size = kb(candidate)
        if _distance(size, low_kb, high_kb) < _distance(kb(best[0]), low_kb, high_kb):
            best = (candidate, mid)
        if size > high_kb:
            hi = mid - 1
        elif size < low_kb:
            lo = mid + 1
        else:
            return candidate, mid
    return best


def _distance(size: float, low: float, high: float) -> float:
    return max(low - size, size - high, 0.0)


def head_guide(
    frame_width: int, frame_height: int, photo: PhotoConfig
) -> tuple[float, float, float, float]:
    """The oval (cx, cy, rx, ry) in frame pixels where the face should sit.

    The official crop then fills ``photo.frame_fill`` of the frame's height,
    centred; preview and still share the field of view, so the same oval in
    relative terms holds for both.
    """
    crop_h = photo.frame_fill * frame_height
    crop_w = crop_h * photo.width / photo.height
    if crop_w > frame_width:  # a portrait frame narrower than the crop
        crop_w = photo.frame_fill * frame_width
        crop_h = crop_w * photo.height / photo.width
    scale = photo.height / crop_h  # output px per frame px
    top = (frame_height - crop_h) / 2
    face_w = photo.face_width / scale
    mesh_h = face_w * MESH_HEIGHT_PER_WIDTH
    eye_y = top + photo.eye_line / scale
    cy = eye_y - EYE_LINE_IN_MESH * mesh_h + mesh_h / 2
    return frame_width / 2, cy, face_w / 2, mesh_h / 2
