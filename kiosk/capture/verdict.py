"""The quality check's vocabulary: reason codes, their hints, the Assessment.

The codes are a stable interface (``kiosk check --json``, the database, the
crew screen, the sync manifest): never rename one. They are listed here in
the order a student should fix them, so the first reason of an assessment is
the one hint the student screen shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    FACE_TOO_LARGE = "face_too_large"
    OFF_CENTER = "off_center"
    HEAD_POSE = "head_pose"
    SHOULDERS = "shoulders"
    OCCLUDED = "occluded"
    GLARE = "glare"
    EYES_CLOSED = "eyes_closed"
    MOUTH_OPEN = "mouth_open"
    EXPRESSION = "expression"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    UNEVEN_LIGHT = "uneven_light"
    BLURRY = "blurry"
    BACKGROUND = "background"
    CLOTHING = "clothing"


# Codes about framing, background and the body below the face: the kiosk
# controls these, so ``kiosk check --face-only`` leaves them out for photos
# taken elsewhere.
FRAMING = frozenset(
    {
        Reason.OFF_CENTER,
        Reason.FACE_TOO_SMALL,
        Reason.FACE_TOO_LARGE,
        Reason.BACKGROUND,
        Reason.SHOULDERS,
        Reason.CLOTHING,
    }
)

# Codes the student cannot fix alone: their hint addresses the crew.
CREW_ACTS = frozenset({Reason.UNEVEN_LIGHT, Reason.CLOTHING})

# One short line for the student screen (read from 1.5 m).
HINT_ZH: dict[Reason, str] = {
    Reason.NO_FACE: "请站到镜头前",
    Reason.MULTIPLE_FACES: "请一位同学单独拍摄",
    Reason.FACE_TOO_SMALL: "请靠近一些",
    Reason.FACE_TOO_LARGE: "请后退一些",
    Reason.OFF_CENTER: "请站到画面中间",
    Reason.HEAD_POSE: "请正对镜头，头部摆正",
    Reason.SHOULDERS: "请放松双肩，保持水平",
    Reason.OCCLUDED: "请露出眉毛、眼睛和耳朵",
    Reason.GLARE: "眼镜反光：请稍低头或摘下眼镜",
    Reason.EYES_CLOSED: "请睁开眼睛",
    Reason.MOUTH_OPEN: "请闭上嘴巴",
    Reason.EXPRESSION: "请保持自然表情，平视镜头",
    Reason.TOO_DARK: "光线太暗",
    Reason.TOO_BRIGHT: "光线太亮",
    Reason.UNEVEN_LIGHT: "请工作人员调整灯光：脸部一侧偏暗（阴阳脸）",
    Reason.BLURRY: "请保持不动",
    Reason.BACKGROUND: "请站到背景布前",
    Reason.CLOTHING: "请工作人员处理：衣服颜色与背景太接近",
}

# The station's own hints, beside the reasons': the face is good but moved
# between two frames; a still was refused without a reason the student can fix
# (the crop did not fit, the camera failed).
HOLD_STILL_ZH = "请保持不动"
RETAKE_ZH = "请重新拍摄"

# The crew's wording (English; the crew screen may also use HINT_ZH).
CREW_EN: dict[Reason, str] = {
    Reason.NO_FACE: "no face found",
    Reason.MULTIPLE_FACES: "more than one face in the frame",
    Reason.FACE_TOO_SMALL: "face too small: student should step closer",
    Reason.FACE_TOO_LARGE: "face too large: student should step back",
    Reason.OFF_CENTER: "face not centred",
    Reason.HEAD_POSE: "head turned, tilted or nodding",
    Reason.SHOULDERS: "shoulders not level: ask the student to relax and square up",
    Reason.OCCLUDED: "eyes, brows or mouth covered (hand, mask, hair, sunglasses)",
    Reason.GLARE: "reflection on glasses or shine on the face: tilt the glasses, powder, move the light",
    Reason.EYES_CLOSED: "eyes closed or squinting",
    Reason.MOUTH_OPEN: "mouth open or teeth showing",
    Reason.EXPRESSION: "expression not neutral (smile, frown, gaze away)",
    Reason.TOO_DARK: "face underexposed",
    Reason.TOO_BRIGHT: "face overexposed",
    Reason.UNEVEN_LIGHT: "one side of the face brighter (阴阳脸): even out the lights",
    Reason.BLURRY: "photo not sharp (movement or focus)",
    Reason.BACKGROUND: "background not plain or wrong colour",
    Reason.CLOTHING: "clothes too close to the background colour: lend a jacket or change backdrop",
}


@dataclass(frozen=True)
class Assessment:
    """The verdict on one image.

    ``reasons`` are sorted in :class:`Reason` order; ``measures`` maps a
    measure's name to its value (units in the quality module's
    ``MEASURE_UNITS``); ``landmarks`` are the face mesh points in pixel
    coordinates of the judged image (N x 3 array) or None without a face.
    ``face_box`` is (left, top, right, bottom) of the face mesh in the same
    pixels; ``crown_y`` the top of the head (hair included) from the person
    mask, when the background was judged. The crop uses both.
    """

    accepted: bool
    reasons: tuple[Reason, ...]
    measures: dict[str, float] = field(default_factory=dict)
    landmarks: Any = None
    face_box: tuple[float, float, float, float] | None = None
    crown_y: float | None = None

    @classmethod
    def of(
        cls,
        reasons: set[Reason] | list[Reason] | tuple[Reason, ...],
        measures=None,
        landmarks=None,
        *,
        face_box: tuple[float, float, float, float] | None = None,
        crown_y: float | None = None,
    ) -> Assessment:
        ordered = tuple(r for r in Reason if r in set(reasons))
        return cls(not ordered, ordered, dict(measures or {}), landmarks, face_box, crown_y)

    @property
    def hint_zh(self) -> str | None:
        return HINT_ZH[self.reasons[0]] if self.reasons else None
