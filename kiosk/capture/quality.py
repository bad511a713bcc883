"""The face-quality check: MediaPipe landmarks -> measures -> reason codes.

``QualityChecker.assess(rgb)`` is the one call. It finds the faces (the
full-range detector counts small and distant ones too), fits the 478-point
mesh to the largest, turns the landmarks and the face's pixels into
size-free measures (:mod:`kiosk.capture.measures`) and compares each with
its threshold in :class:`kiosk.config.QualityConfig`. Every refusal is a
:class:`Reason`; the measures stay in the result so the crew (and
``kiosk check --json``) can see why.

Two paths: ``still=True`` (default) runs the mesh in static mode on a crop
around the detected face, which works for any still size and for faces
small in the frame; ``still=False`` is the live-preview path and lets the
mesh track the face from frame to frame.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.capture import measures as m
from kiosk.capture.compose import FaceFrame, crop_box, face_frame, head_guide
from kiosk.capture.facemodel import FaceBox, FaceModel
from kiosk.capture.rules import decide
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import PhotoConfig, QualityConfig

__all__ = ["MEASURE_UNITS", "FaceModel", "QualityChecker"]

# Every measure an assessment may carry, with its unit (docs/quality.md).
MEASURE_UNITS: dict[str, str] = {
    "faces": "count",
    "face_score": "detector confidence, 0-1",
    "eye_distance_px": "pixels between the iris centres in the judged image",
    "eye_open_right": "lid gap / iris diameter",
    "eye_open_left": "lid gap / iris diameter",
    "eye_aspect_right": "lid gap / eye width",
    "eye_aspect_left": "lid gap / eye width",
    "mouth_open": "inner-lip gap / eye-midpoint-to-chin distance",
    "mouth_width": "mouth width / distance between iris centres",
    "corner_lift": "mouth corners above the lip line / eye-chin distance",
    "brow_height": "brow above upper lid / eye-chin distance",
    "brow_raise": "inner brow ends above the inner eye corners / inter-ocular distance",
    "brow_gap": "distance between the inner brow ends / inter-ocular distance",
    "lip_thickness": "visible lip height (upper + lower) / inter-ocular distance",
    "light_asymmetry": "stops between the brighter and darker side (forehead + cheek)",
    "skin_glare": "share of the skin that is specular white (all channels >= 245)",
    "shoulder_tilt": "degrees of the shoulder line from level (pose landmarks)",
    "clothing_delta_e": "CIE76 distance of the clothes (person below the chin) to the background",
    "hand_cover": "largest share of a face region (eyes, nose, mouth, jaw) under a hand, 0-1",
    "gaze": "iris offset from eye centre / eye width (largest of x, y)",
    "yaw": "degrees (+: face turned to the subject's left)",
    "pitch": "degrees, offset removed (+: chin up)",
    "roll": "degrees of the eye line (+: clockwise in the image)",
    "face_x": "face centre / frame width",
    "face_y": "eye line / frame height",
    "face_height": "face mesh height / frame height",
    "face_size": "face width / head-guide width",
    "sharpness": "finest-octave / next-octave detail energy at 48 px eye distance",
    "blockiness": "edge energy on the strongest 3-32 px grid phase / mean (1 = no grid)",
    "luminance": "mean face grey level, 0-1",
    "darker_half_luminance": "mean grey level of the darker face half (left/right), 0-1",
    "clipped_dark": "share of face pixels <= 25 of 255",
    "clipped_bright": "share of face pixels >= 247 of 255",
    "lip_contrast": "lip a* - cheek a* (CIELAB, OpenCV 8-bit scale)",
    "eye_darkness": "eye-region grey / cheek grey",
    "face_chroma": "mean CIELAB chroma of the face (0 = black and white)",
    "eye_glare": "share of clipped white (>= 247) around the worse eye",
    "background_delta_e": "CIE76 distance of the mean background to the reference colour",
    "background_spread": "standard deviation of background L*",
    "background_fraction": "share of the frame that is background",
}

# Longest side of the image the detector sees (its own input is 192 x 192).
DETECT_SIDE = 640
# Side of the square crop the still-path mesh sees, and the crop's size
# relative to the detected face box (the mesh's detector expects margins).
MESH_SIDE = 384
MESH_CROP = 2.0
# Hands: a square of this many face widths around the face, shrunk to
# HAND_SIDE px (the palm detector sees 192 px).
HAND_CROP = 3.0
HAND_SIDE = 256
# Tiles for finding faces too small for the whole-frame detector pass.
TILE_SIDE = 480
TILE_SOURCE_SIDE = 1920
# Longest side of the image the segmentation sees (its input is 256 x 256).
SEGMENT_SIDE = 320


class QualityChecker:
    """Judges frames and stills; safe to call from one worker thread (or several)."""

    def __init__(
        self,
        quality: QualityConfig | None = None,
        photo: PhotoConfig | None = None,
        model: FaceModel | None = None,
    ) -> None:
        self.quality = quality or QualityConfig()
        self.photo = photo or PhotoConfig()
        self.model = model or FaceModel.shared()
        self._lock = threading.Lock()  # the preview tracker is stateful: one frame at a time
        self._preview: _PreviewCache | None = None

    def assess(self, rgb: np.ndarray, *, still: bool = True, face_only: bool = False) -> Assessment:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("assess() needs an RGB uint8 array of shape (H, W, 3)")
        with self._lock:
            result = self._assess(rgb, still=still, face_only=face_only)
            if not still and self._preview is not None:
                self._preview.frame += 1
            return result

    # ------------------------------------------------------------------

    def _assess(self, rgb: np.ndarray, *, still: bool, face_only: bool) -> Assessment:
        q = self.quality
        h, w = rgb.shape[:2]
        small, factor = _shrink(rgb, DETECT_SIDE)
        preview = None if still else self._preview_cache(w, h)
        if preview is not None and preview.boxes is not None and not preview.due(0):
            boxes = preview.boxes
        else:
            boxes = [b for b in self.model.detect(small) if b.score >= q.face_confidence_min]
            if preview is not None:
                preview.boxes = boxes
        measures: dict[str, float] = {"faces": float(len(boxes))}
        reasons: set[Reason] = set()

        if still:
            landmarks = self._mesh_still(rgb, small, factor, boxes)
        else:
            landmarks = self.model.mesh_preview(rgb)
        if landmarks is None:
            if still and boxes:
                # A face is there but its features cannot be found: covered.
                measures["face_score"] = boxes[0].score
                reasons.add(Reason.OCCLUDED)
                if len(boxes) > 1:
                    reasons.add(Reason.MULTIPLE_FACES)
                return Assessment.of(reasons, measures)
            if still:
                tiny = self._small_faces(rgb)
                if tiny:
                    # Faces too small for the mesh (a group far away): count
                    # them; one alone is too small to judge (no detail).
                    measures["faces"] = float(len(tiny))
                    if len(tiny) > 1:
                        return Assessment.of({Reason.MULTIPLE_FACES}, measures)
                    return Assessment.of({Reason.FACE_TOO_SMALL}, measures)
            if still and self._lying_face(small):
                measures["roll"] = 90.0
                return Assessment.of({Reason.HEAD_POSE}, measures)
            # (A preview's face count may be a few frames old: without a
            # tracked face now, the hint is to step in front of the camera.)
            return Assessment.of({Reason.NO_FACE}, measures)
        if not boxes:
            measures["faces"] = 1.0  # the mesh found what the detector scored low
        else:
            measures["face_score"] = boxes[0].score
        if measures["faces"] > 1:
            reasons.add(Reason.MULTIPLE_FACES)

        g = m.geometry(landmarks)
        if still:
            measures["hand_cover"] = m.hand_cover(landmarks, self._hands(rgb, landmarks), g)
        self._face_measures(rgb, landmarks, g, measures, reasons, still=still)
        xs, ys = landmarks[:, 0], landmarks[:, 1]
        face_box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        crown_y = None
        if not face_only:
            self._framing(landmarks, w, h, measures, reasons)
            if preview is not None and preview.background is not None and not preview.due(1):
                bg_measures, bg_reasons, crown_y = preview.background
            else:
                bg_measures, bg_reasons = {}, set()
                crown_y = self._background(small, factor, landmarks, bg_measures, bg_reasons)
                if preview is not None:
                    preview.background = (bg_measures, bg_reasons, crown_y)
            measures.update(bg_measures)
            reasons |= bg_reasons
            reasons |= decide(measures, q)
            if crown_y is not None:
                try:
                    self._crop_fits(landmarks, crown_y, w, h, reasons)
                except ValueError:
                    reasons.add(Reason.FACE_TOO_SMALL)
            if still:
                self._shoulders(small, measures)
                reasons |= decide(measures, q)
        return Assessment.of(
            reasons,
            {k: round(v, 4) for k, v in measures.items()},
            landmarks,
            face_box=face_box,
            crown_y=crown_y,
        )

    def _mesh_still(
        self, rgb: np.ndarray, small: np.ndarray, factor: float, boxes: list[FaceBox]
    ) -> np.ndarray | None:
        if boxes:
            box = boxes[0]
            side = MESH_CROP * max(box.width, box.height) / factor
            cx = (box.x + box.width / 2) / factor
            cy = (box.y + box.height / 2) / factor
            found = self._mesh_in(rgb, cx - side / 2, cy - side / 2, side)
            if found is not None:
                return found
        # Nothing detected (a face filling the whole picture, or one the
        # detector scores low): let the mesh look at the picture with a
        # margin around it.
        h, w = small.shape[:2]
        pad = max(h, w) // 4
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        lm = self.model.mesh_still(padded)
        if lm is None:
            return None
        lm[:, :2] -= pad
        lm /= factor
        return lm

    def _mesh_in(self, rgb: np.ndarray, x: float, y: float, side: float) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        x0, y0 = max(int(x), 0), max(int(y), 0)
        x1, y1 = min(int(x + side), w), min(int(y + side), h)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        crop = rgb[y0:y1, x0:x1]
        crop, factor = _shrink(crop, MESH_SIDE)
        lm = self.model.mesh_still(crop)
        if lm is None:
            return None
        lm /= factor
        lm[:, 0] += x0
        lm[:, 1] += y0
        return lm

    def _hands(self, rgb: np.ndarray, lm: np.ndarray) -> list[np.ndarray]:
        """Hands near the face, found in a crop of three face widths around it."""
        xs, ys = lm[:, 0], lm[:, 1]
        side = HAND_CROP * float(xs.max() - xs.min())
        cx, cy = float(xs.mean()), float(ys.mean())
        h, w = rgb.shape[:2]
        x0, y0 = max(int(cx - side / 2), 0), max(int(cy - side / 2), 0)
        x1, y1 = min(int(cx + side / 2), w), min(int(cy + side / 2), h)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        crop, factor = _shrink(rgb[y0:y1, x0:x1], HAND_SIDE)
        found = self.model.hands(np.ascontiguousarray(crop))
        for hand in found:
            hand[:, :3] /= factor
            hand[:, 0] += x0
            hand[:, 1] += y0
        return found

    def _small_faces(self, rgb: np.ndarray) -> list[FaceBox]:
        """Faces found only in overlapping tiles of the picture (each face small in the frame).

        The detector sees 192 x 192 pixels, so a face of 1/30 of the frame
        width vanishes in the whole-frame pass. Only run when that pass found
        nothing, on the picture at most TILE_SOURCE_SIDE px long.
        """
        image, factor = _shrink(rgb, TILE_SOURCE_SIDE)
        h, w = image.shape[:2]
        step = TILE_SIDE * 3 // 4
        found: list[FaceBox] = []
        for y in range(0, max(h - TILE_SIDE, 0) + 1, step):
            for x in range(0, max(w - TILE_SIDE, 0) + 1, step):
                tile = np.ascontiguousarray(image[y : y + TILE_SIDE, x : x + TILE_SIDE])
                for b in self.model.detect(tile):
                    if b.score < self.quality.face_confidence_min:
                        continue
                    box = FaceBox(
                        (b.x + x) / factor,
                        (b.y + y) / factor,
                        b.width / factor,
                        b.height / factor,
                        b.score,
                    )
                    if not any(_overlap(box, other) > 0.3 for other in found):
                        found.append(box)
        return found

    def _lying_face(self, small: np.ndarray) -> bool:
        """A face only found with the picture turned a quarter: a head on its side."""
        for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
            found = self.model.detect(cv2.rotate(small, turn))
            if any(b.score >= self.quality.face_confidence_min for b in found):
                return True
        return False

    def _face_measures(
        self,
        rgb: np.ndarray,
        lm: np.ndarray,
        g: m.Geometry,
        measures: dict[str, float],
        reasons: set[Reason],
        *,
        still: bool = True,
    ) -> None:
        q = self.quality
        measures["eye_distance_px"] = g.eye_distance
        right = m.eye_openness(lm, m.RIGHT_EYE, g)
        left = m.eye_openness(lm, m.LEFT_EYE, g)
        measures["eye_open_right"] = right["iris"]
        measures["eye_open_left"] = left["iris"]
        measures["eye_aspect_right"] = right["ratio"]
        measures["eye_aspect_left"] = left["ratio"]
        mouth = m.mouth(lm, g)
        measures["mouth_open"] = mouth["open"]
        measures["mouth_width"] = mouth["width"]
        measures["corner_lift"] = mouth["corner_lift"]
        measures["brow_height"] = m.brows(lm, g)["height"]
        measures.update(m.expression(lm, g))
        gaze_r, gaze_l = m.gaze(lm, m.RIGHT_EYE), m.gaze(lm, m.LEFT_EYE)
        gaze_x = (gaze_r[0] + gaze_l[0]) / 2
        gaze_y = (gaze_r[1] + gaze_l[1]) / 2
        measures["gaze"] = max(abs(gaze_x), abs(gaze_y))
        yaw, pitch, _ = m.head_pose(lm)
        measures["yaw"] = yaw
        measures["pitch"] = pitch - q.pitch_offset
        measures["roll"] = g.roll

        try:
            patch = m.face_patch(rgb, lm, g)
            px = m.pixel_measures(patch)
            measures["light_asymmetry"] = m.light_asymmetry(patch)
            measures["skin_glare"] = m.skin_glare(patch)
        except ValueError:
            reasons |= decide(measures, q)
            reasons.add(Reason.FACE_TOO_SMALL)
            return
        measures["sharpness"] = px["sharpness"]
        small_eyes = m.sharpness_eye_distance(g)
        if small_eyes < m.PATCH_EYE_DISTANCE:
            # A face under 80 px between the eyes: shrink it more for sharpness.
            measures["sharpness"] = m.sharpness(m.face_patch(rgb, lm, g, small_eyes))
        measures["luminance"] = px["face_luminance"]
        measures["darker_half_luminance"] = px["darker_half_luminance"]
        measures["clipped_dark"] = px["face_clipped_dark"]
        measures["clipped_bright"] = px["face_clipped_bright"]
        measures["lip_contrast"] = px["lip_redness"]
        measures["eye_darkness"] = px["eye_darkness"]
        measures["face_chroma"] = px["face_chroma"]
        measures["eye_glare"] = px["eye_glare"]
        if still:  # a pixelated picture is a file's fault, not a live hint
            measures["blockiness"] = m.blockiness(rgb, lm)
        reasons |= decide(measures, q)

    def _framing(
        self, lm: np.ndarray, w: int, h: int, measures: dict[str, float], reasons: set[Reason]
    ) -> None:
        q = self.quality
        frame = face_frame_of(lm)
        gx, _, grx, _ = head_guide(w, h, self.photo)
        eye_y_target = _guide_eye_y(w, h, self.photo)
        measures["face_x"] = frame.centre_x / w
        measures["face_y"] = frame.eye_y / h
        measures["face_height"] = float(lm[:, 1].max() - lm[:, 1].min()) / h
        measures["face_size"] = frame.face_width / (2 * grx)
        if measures["face_size"] < 1 / q.size_tolerance:
            reasons.add(Reason.FACE_TOO_SMALL)
        elif measures["face_size"] > q.size_tolerance:
            reasons.add(Reason.FACE_TOO_LARGE)
        if (
            abs(frame.centre_x - gx) / w > q.centre_tolerance
            or abs(frame.eye_y - eye_y_target) / h > q.centre_tolerance
        ):
            reasons.add(Reason.OFF_CENTER)
        try:
            self._crop_fits(lm, None, w, h, reasons)
        except ValueError:
            reasons.add(Reason.FACE_TOO_SMALL)

    def _crop_fits(
        self, lm: np.ndarray, crown_y: float | None, w: int, h: int, reasons: set[Reason]
    ) -> None:
        frame = face_frame_of(lm)
        if crown_y is not None:
            frame = FaceFrame(frame.centre_x, frame.eye_y, frame.face_width, crown_y)
        box = crop_box(frame, self.photo)
        if box.width > w or box.height > h:
            reasons.add(Reason.FACE_TOO_LARGE)
        elif not box.inside(w, h):
            reasons.add(Reason.OFF_CENTER)

    def _shoulders(self, small: np.ndarray, measures: dict[str, float]) -> None:
        """Shoulder tilt from the pose model (the still only: ~20 ms)."""
        body = self.model.pose(small)
        tilt = None if body is None else m.shoulder_tilt(body)
        if tilt is not None:
            measures["shoulder_tilt"] = tilt

    def _preview_cache(self, w: int, h: int) -> _PreviewCache:
        if self._preview is None or self._preview.size != (w, h):
            self._preview = _PreviewCache((w, h), self.quality.preview_refresh)
        return self._preview

    def _background(
        self,
        image: np.ndarray,
        image_factor: float,
        lm: np.ndarray,
        measures: dict[str, float],
        reasons: set[Reason],
    ) -> float | None:
        """Judge the background from the person mask; return the top of the head (still px).

        ``image`` is the still already shrunk by ``image_factor`` for the detector.
        """
        q = self.quality
        small, factor = _shrink(image, SEGMENT_SIDE)
        factor *= image_factor
        xs, ys = lm[:, 0], lm[:, 1]
        face_box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        probability = self.model.segment(small)
        person = probability >= 0.5
        background = ~person
        fraction = float(background.mean())
        measures["background_fraction"] = fraction
        crown = _crown(person, face_box, factor)
        if fraction < q.background_min_fraction:
            reasons.add(Reason.BACKGROUND)
            return crown
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        pixels = lab[background]
        # OpenCV's 8-bit Lab: L* scaled by 255/100, a* and b* offset by 128.
        mean = pixels.mean(axis=0)
        mean_lab = np.array([mean[0] * 100 / 255, mean[1] - 128, mean[2] - 128])
        reference = _lab(self.photo.background_rgb)
        delta_e = float(np.linalg.norm(mean_lab - reference))
        spread = float(pixels[:, 0].std() * 100 / 255)
        measures["background_delta_e"] = delta_e
        measures["background_spread"] = spread
        clothes = _clothes(lab, probability >= CLOTHES_CERTAINTY, lm, factor, mean_lab)
        if clothes is not None:
            measures["clothing_delta_e"] = float(np.median(_delta_e(clothes, reference)))
        if delta_e > q.background_delta_e_max or spread > q.background_spread_max:
            reasons.add(Reason.BACKGROUND)
        return crown


@dataclass
class _PreviewCache:
    """What the preview path reuses between frames of one size.

    The mesh runs on every preview frame (it tracks), but the face count and
    the background change slowly: the detector runs on one frame in
    ``refresh`` and the segmentation on the next, so no frame pays for both.
    A preview verdict on those two may lag by ``refresh - 1`` frames; the
    still is always judged in full.
    """

    size: tuple[int, int]
    refresh: int
    frame: int = 0
    boxes: list[FaceBox] | None = None
    background: tuple[dict[str, float], set[Reason], float | None] | None = None

    def due(self, phase: int) -> bool:
        return self.frame % self.refresh == phase % self.refresh


def _overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over the smaller box (a face cut by a tile edge is still the same face)."""
    ix = max(0.0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    smaller = min(a.area, b.area)
    return ix * iy / smaller if smaller > 0 else 0.0


def face_frame_of(lm: np.ndarray) -> FaceFrame:
    return face_frame(Assessment.of((), landmarks=lm))


def _guide_eye_y(w: int, h: int, photo: PhotoConfig) -> float:
    from kiosk.capture.compose import EYE_LINE_IN_MESH

    _, cy, _, ry = head_guide(w, h, photo)
    return cy - ry + EYE_LINE_IN_MESH * 2 * ry


def _crown(
    person: np.ndarray, face_box: tuple[float, float, float, float], factor: float
) -> float | None:
    """Topmost person row above the face, within the face's columns (still pixels)."""
    left, top, right, _ = (v * factor for v in face_box)
    x0 = max(int(left), 0)
    x1 = min(math.ceil(right), person.shape[1])
    y1 = min(int(top), person.shape[0])
    if x1 <= x0 or y1 <= 0:
        return None
    band = person[:y1, x0:x1]
    # Walk up from the forehead while the column band still holds person pixels.
    rows = band.mean(axis=1) > 0.2
    y = y1 - 1
    while y >= 0 and rows[y]:
        y -= 1
    return (y + 1) / factor


# Fewer clothes pixels than this in the segmentation's image: too few to judge.
CLOTHES_MIN_PIXELS = 150
# The band below the chin that the official crop shows (face heights): the
# neck first, then as far down as the 480 x 640 crop reaches.
CLOTHES_BAND = (0.2, 0.75)
# Pixels this close (CIE76) to the face's own mean colour are skin (neck,
# shoulders), not clothes.
SKIN_DELTA_E = 15.0
# Clothes are judged only where the segmentation is sure of the person: at
# the bottom of a frame, or where a portrait is cut off, its 0.5 contour
# bulges into the backdrop. Pixels within a camera's noise (~3 dE) of the
# backdrop's own measured mean are backdrop seen through the mask's edge;
# cloth, even of the backdrop's colour, has folds and shading.
CLOTHES_CERTAINTY = 0.9
BACKDROP_NOISE_DELTA_E = 3.0


def _clothes(
    lab: np.ndarray, person: np.ndarray, lm: np.ndarray, factor: float, backdrop: np.ndarray
) -> np.ndarray | None:
    """CIELAB of the person's pixels below the chin that are not skin, or None when too few.

    ``lab`` is OpenCV's 8-bit Lab of the segmentation's image, ``factor``
    maps still pixels to it. Only the band the official crop shows counts,
    so what the registry never sees cannot refuse a photo.
    """
    chin = float(lm[:, 1].max()) * factor
    face_h = float(lm[:, 1].max() - lm[:, 1].min()) * factor
    top = max(int(chin + CLOTHES_BAND[0] * face_h), 0)
    bottom = min(int(chin + CLOTHES_BAND[1] * face_h), person.shape[0])
    if bottom <= top:
        return None
    band = _to_lab(lab[top:bottom][person[top:bottom]])
    face_colour = _to_lab(_face_pixels(lab, lm, factor)).mean(axis=0)
    clothes = band[
        (_delta_e(band, face_colour) > SKIN_DELTA_E)
        & (_delta_e(band, backdrop) > BACKDROP_NOISE_DELTA_E)
    ]
    return clothes if len(clothes) >= CLOTHES_MIN_PIXELS else None


def _face_pixels(lab: np.ndarray, lm: np.ndarray, factor: float) -> np.ndarray:
    from kiosk.capture.measures import CHEEK_LEFT, CHEEK_RIGHT, polygon_mask

    pts = lm[:, :2] * factor
    mask = polygon_mask(lab.shape[:2], pts[list(CHEEK_RIGHT)]) | polygon_mask(
        lab.shape[:2], pts[list(CHEEK_LEFT)]
    )
    if not mask.any():
        x, y = (int(v) for v in pts.mean(axis=0))
        mask[min(max(y, 0), mask.shape[0] - 1), min(max(x, 0), mask.shape[1] - 1)] = True
    return lab[mask]


def _to_lab(opencv_lab: np.ndarray) -> np.ndarray:
    """OpenCV's 8-bit Lab (L* scaled by 255/100, a* and b* offset by 128) to CIELAB."""
    out = opencv_lab.astype(np.float32).reshape(-1, 3).copy()
    out[:, 0] *= 100 / 255
    out[:, 1:] -= 128
    return out


def _delta_e(colours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.linalg.norm(colours - reference, axis=-1)


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    pixel = np.array([[rgb]], dtype=np.uint8)
    lab = cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
    return np.array([lab[0] * 100 / 255, lab[1] - 128, lab[2] - 128])


def _shrink(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """Scale so the longest side is at most ``side``; returns the image and the factor used."""
    h, w = rgb.shape[:2]
    longest = max(h, w)
    if longest <= side:
        return rgb, 1.0
    # A cheap integer stride first for big stills (the detector and the
    # segmentation see 192-256 px anyway), then area averaging.
    step = max(longest // side, 1)
    if step > 1:
        rgb = rgb[::step, ::step]
    factor = side / longest
    size = (max(round(w * factor), 1), max(round(h * factor), 1))
    out = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return out, size[0] / w
