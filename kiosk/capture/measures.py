"""Face measurements from MediaPipe face-mesh landmarks and the pixels under them.

Pure functions: landmarks (478 x 3, pixels, z on the x scale) and images in,
numbers out. Every measure is size-free (a ratio of two lengths on the same
face, an angle, or a statistic of a face patch resampled to a fixed
inter-eye distance), so a 250 px web image and a 12 MP still of the same
face give the same values: the check judges the face, not the file.

Landmark numbers are MediaPipe's canonical face-mesh topology (0-467) plus
the ten iris points (468-477) that ``refine_landmarks=True`` adds. "Right"
and "left" are the subject's: the subject's right eye is on the image's left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# -- landmark numbers (MediaPipe face mesh topology) -------------------------


@dataclass(frozen=True)
class EyePoints:
    outer: int
    inner: int
    upper: tuple[int, ...]  # upper lid, outer to inner
    lower: tuple[int, ...]  # lower lid, paired with ``upper``
    iris_centre: int
    iris_ring: tuple[int, int, int, int]
    contour: tuple[int, ...]  # lid contour, for the eye-region mask


RIGHT_EYE = EyePoints(
    outer=33,
    inner=133,
    upper=(160, 159, 158),
    lower=(144, 145, 153),
    iris_centre=468,
    iris_ring=(469, 470, 471, 472),
    contour=(33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
)
LEFT_EYE = EyePoints(
    outer=263,
    inner=362,
    upper=(387, 386, 385),
    lower=(373, 374, 380),
    iris_centre=473,
    iris_ring=(474, 475, 476, 477),
    contour=(263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
)

MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291
LIP_INNER_UPPER, LIP_INNER_LOWER = 13, 14
# Inner lip pairs (upper, lower) across the mouth, for the largest gap.
LIP_INNER_PAIRS = ((82, 87), (13, 14), (312, 317), (81, 178), (311, 402))
LIPS_OUTER = (
    61,
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    291,
    375,
    321,
    405,
    314,
    17,
    84,
    181,
    91,
    146,
)
LIPS_INNER = (
    78,
    191,
    80,
    81,
    82,
    13,
    312,
    311,
    310,
    415,
    308,
    324,
    318,
    402,
    317,
    14,
    87,
    178,
    88,
    95,
)
CHIN, FOREHEAD, NOSE_TIP = 152, 10, 1
FACE_SIDE_RIGHT, FACE_SIDE_LEFT = 234, 454
BROW_RIGHT = (70, 63, 105, 66, 107)
BROW_LEFT = (300, 293, 334, 296, 336)
# Cheek patches below the eyes (skin reference for colour and light).
CHEEK_RIGHT = (117, 118, 101, 36, 205, 187, 123)
CHEEK_LEFT = (346, 347, 330, 266, 425, 411, 352)
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
    377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

# Face patches are resampled so the eye centres are this many pixels apart
# before any pixel statistic is taken (sharpness above all depends on scale).
# 48 px is below the inter-eye distance of every usable face (ICAO 9303 asks
# for 90 px in a portrait), so real photos are shrunk, not enlarged.
PATCH_EYE_DISTANCE = 48.0


@dataclass(frozen=True)
class Geometry:
    """Landmark geometry: the lengths and angles every other measure uses."""

    eye_right: np.ndarray  # iris centres, pixels (x, y)
    eye_left: np.ndarray
    eye_distance: float  # between iris centres, pixels
    eye_chin: float  # eye midpoint to chin, pixels (OFIQ's normaliser)
    roll: float  # degrees, positive = head tilted to the subject's left (clockwise in image)


def geometry(lm: np.ndarray) -> Geometry:
    right = lm[RIGHT_EYE.iris_centre, :2]
    left = lm[LEFT_EYE.iris_centre, :2]
    mid = (right + left) / 2
    dx, dy = left - right
    return Geometry(
        eye_right=right,
        eye_left=left,
        eye_distance=float(math.hypot(dx, dy)),
        eye_chin=float(np.linalg.norm(lm[CHIN, :2] - mid)),
        roll=math.degrees(math.atan2(dy, dx)),
    )


def _dist(lm: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(lm[a, :2] - lm[b, :2]))


def eye_openness(lm: np.ndarray, eye: EyePoints, g: Geometry) -> dict[str, float]:
    """Lid gap over eye width, lid gap over the iris diameter, lid gap over eye-chin."""
    gap = max(_dist(lm, u, d) for u, d in zip(eye.upper, eye.lower, strict=True))
    width = max(_dist(lm, eye.outer, eye.inner), 1e-6)
    ring = lm[list(eye.iris_ring), :2]
    iris = max(
        float(np.linalg.norm(ring[0] - ring[2])), float(np.linalg.norm(ring[1] - ring[3])), 1e-6
    )
    return {"ratio": gap / width, "iris": gap / iris, "chin": gap / max(g.eye_chin, 1e-6)}


def gaze(lm: np.ndarray, eye: EyePoints) -> tuple[float, float]:
    """Iris centre offset from the eye's middle, as a fraction of the eye width (x, y)."""
    outer, inner = lm[eye.outer, :2], lm[eye.inner, :2]
    axis = inner - outer
    width = max(float(np.linalg.norm(axis)), 1e-6)
    ux = axis / width
    uy = np.array([-ux[1], ux[0]])
    centre = (outer + inner) / 2
    offset = lm[eye.iris_centre, :2] - centre
    gx = float(offset @ ux) / width
    if eye is RIGHT_EYE:
        gx = -gx  # positive = towards the subject's left for both eyes
    return gx, float(offset @ uy) / width


def mouth(lm: np.ndarray, g: Geometry) -> dict[str, float]:
    """Lip gap, mouth width and how far the corners are lifted (smile) or pulled down."""
    gap = max(_dist(lm, u, d) for u, d in LIP_INNER_PAIRS)
    corners = lm[[MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT], :2]
    width = float(np.linalg.norm(corners[1] - corners[0]))
    # Work in the face's frame: x along the eye line, y down the face.
    ux = (g.eye_left - g.eye_right) / max(g.eye_distance, 1e-6)
    uy = np.array([-ux[1], ux[0]])
    centre = (lm[LIP_INNER_UPPER, :2] + lm[LIP_INNER_LOWER, :2]) / 2
    lift = float(np.mean([(centre - c) @ uy for c in corners]))
    return {
        "open": gap / max(g.eye_chin, 1e-6),
        "width": width / max(g.eye_distance, 1e-6),
        "corner_lift": lift / max(g.eye_chin, 1e-6),
    }


def brows(lm: np.ndarray, g: Geometry) -> dict[str, float]:
    """How far the brows sit above the upper lids (a frown pulls them down)."""
    ux = (g.eye_left - g.eye_right) / max(g.eye_distance, 1e-6)
    uy = np.array([-ux[1], ux[0]])  # down the face
    heights = []
    for brow, eye in ((BROW_RIGHT, RIGHT_EYE), (BROW_LEFT, LEFT_EYE)):
        lid = np.mean(lm[list(eye.upper), :2], axis=0)
        heights.append(float(np.mean([(lid - lm[b, :2]) @ uy for b in brow])))
    return {"height": float(np.mean(heights)) / max(g.eye_chin, 1e-6)}


# Inner brow ends, inner eye corners, and the outer/inner lip midlines.
BROW_INNER_RIGHT, BROW_INNER_LEFT = 107, 336
LIP_OUTER_UPPER, LIP_OUTER_LOWER = 0, 17


def expression(lm: np.ndarray, g: Geometry) -> dict[str, float]:
    """Expression geometry over the inter-ocular distance (no image size, no face size).

    ``brow_raise``: inner brow ends above the inner eye corners (AU1/AU2
    lift them: surprise, sadness); ``brow_gap``: distance between the inner
    brow ends (AU4 knits them in a frown); ``lip_thickness``: visible red
    lip height, upper plus lower (pressed or rolled-in lips thin it).
    The eye-to-eye distance is the one length an expression does not move.
    """
    d = max(g.eye_distance, 1e-6)
    ux = (g.eye_left - g.eye_right) / d
    uy = np.array([-ux[1], ux[0]])  # down the face
    p = lm[:, :2]
    raise_r = float((p[RIGHT_EYE.inner] - p[BROW_INNER_RIGHT]) @ uy)
    raise_l = float((p[LEFT_EYE.inner] - p[BROW_INNER_LEFT]) @ uy)
    lips = _dist(lm, LIP_OUTER_UPPER, LIP_INNER_UPPER) + _dist(lm, LIP_INNER_LOWER, LIP_OUTER_LOWER)
    return {
        "brow_raise": (raise_r + raise_l) / 2 / d,
        "brow_gap": _dist(lm, BROW_INNER_RIGHT, BROW_INNER_LEFT) / d,
        "lip_thickness": lips / d,
    }


def head_pose(lm: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from the mesh's own 3-D points.

    The face's axes are built from the landmarks (x: right to left face side,
    y: chin to forehead, orthogonalised), which is the rotation of the head
    under MediaPipe's weak-perspective depth. Yaw > 0: the face turns to the
    subject's left; pitch > 0: chin up; roll > 0: head leans to the subject's
    left. Pitch has an anatomical offset (the forehead-chin line leans back
    in an upright head) that the caller subtracts.
    """
    p = lm[:, :3]
    x_axis = p[FACE_SIDE_LEFT] - p[FACE_SIDE_RIGHT]
    x_axis = x_axis / max(np.linalg.norm(x_axis), 1e-9)
    up = p[FOREHEAD] - p[CHIN]
    up = up - (up @ x_axis) * x_axis
    y_axis = up / max(np.linalg.norm(up), 1e-9)
    z_axis = np.cross(x_axis, y_axis)  # out of the face towards the camera is -z in image terms
    # Image coordinates: x right, y down, z away from the camera.
    yaw = math.degrees(math.atan2(-z_axis[0], -z_axis[2]))
    pitch = math.degrees(math.atan2(-z_axis[1], math.hypot(z_axis[0], z_axis[2])))
    roll = math.degrees(math.atan2(x_axis[1], x_axis[0]))
    return yaw, pitch, roll


@dataclass(frozen=True)
class Patch:
    """A face region resampled so the eyes are PATCH_EYE_DISTANCE apart."""

    rgb: np.ndarray
    landmarks: np.ndarray  # in patch pixels
    scale: float  # patch pixels per image pixel


# The sharpness octaves need the face shrunk by at least this factor: a
# picture resampled by less keeps the lens's and the JPEG's softness in its
# finest octave, so a sharp 55 px face would look like a blurred big one.
SHARPNESS_SHRINK = 0.6


def sharpness_eye_distance(g: Geometry) -> float:
    """The eye distance of the patch the sharpness is measured on."""
    return min(PATCH_EYE_DISTANCE, SHARPNESS_SHRINK * g.eye_distance)


def face_patch(
    rgb: np.ndarray, lm: np.ndarray, g: Geometry, eye_distance: float = PATCH_EYE_DISTANCE
) -> Patch:
    scale = eye_distance / max(g.eye_distance, 1e-6)
    xs, ys = lm[:, 0], lm[:, 1]
    margin = 0.15 * (xs.max() - xs.min())
    h, w = rgb.shape[:2]
    x0 = max(int(xs.min() - margin), 0)
    y0 = max(int(ys.min() - margin), 0)
    x1 = min(int(xs.max() + margin) + 1, w)
    y1 = min(int(ys.max() + margin) + 1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError("face region is empty")
    region = rgb[y0:y1, x0:x1]
    size = (max(round((x1 - x0) * scale), 2), max(round((y1 - y0) * scale), 2))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = cv2.resize(region, size, interpolation=interp)
    sx = size[0] / (x1 - x0)
    sy = size[1] / (y1 - y0)
    plm = lm[:, :2].copy()
    plm[:, 0] = (plm[:, 0] - x0) * sx
    plm[:, 1] = (plm[:, 1] - y0) * sy
    return Patch(out, plm, scale)


def polygon_mask(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], (1,))
    return mask.astype(bool)


def pixel_measures(patch: Patch) -> dict[str, float]:
    """Light, sharpness and occlusion cues from the face patch."""
    rgb = patch.rgb
    lm = patch.landmarks
    shape = (rgb.shape[0], rgb.shape[1])
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    face = polygon_mask(shape, lm[list(FACE_OVAL)])
    lips = polygon_mask(shape, lm[list(LIPS_OUTER)])
    inner = polygon_mask(shape, lm[list(LIPS_INNER)])
    eyes = polygon_mask(shape, lm[list(RIGHT_EYE.contour)]) | polygon_mask(
        shape, lm[list(LEFT_EYE.contour)]
    )
    cheeks = polygon_mask(shape, lm[list(CHEEK_RIGHT)]) | polygon_mask(shape, lm[list(CHEEK_LEFT)])
    # The skin: inside the oval, away from eyes and mouth.
    skin = face & ~lips & ~eyes
    if face.sum() < 20:
        raise ValueError("face region too small to measure")
    y = grey.astype(np.float32)
    face_y = y[face]
    # The face's two halves (left and right of the outline's middle): side
    # light can leave one half dark while the mean looks fine.
    middle = (lm[FACE_SIDE_RIGHT, 0] + lm[FACE_SIDE_LEFT, 0]) / 2
    columns = np.arange(shape[1])[None, :] < middle
    halves = [y[face & columns], y[face & ~columns]]
    darker_half = min(float(half.mean()) if half.size else 255.0 for half in halves)
    sharp_region = _inner(face)
    sharpness = _octave_ratio(y, sharp_region)
    contrast = float(y[sharp_region].std())
    cheek_y = float(y[cheeks].mean()) if cheeks.any() else float(y[skin].mean())
    cheek_a = float(lab[..., 1][cheeks].mean()) if cheeks.any() else float(lab[..., 1][skin].mean())
    lip_ring = lips & ~inner
    lip_a = float(lab[..., 1][lip_ring].mean()) if lip_ring.any() else cheek_a
    eye_y = float(y[eyes].mean()) if eyes.any() else cheek_y
    chroma = float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)[face].mean())
    # Glare: clipped white in a box around each eye (1.5 eye widths by one),
    # where reflections on glasses sit. A catchlight is a few pixels.
    glare = 0.0
    for eye in (RIGHT_EYE, LEFT_EYE):
        pts = lm[list(eye.contour)]
        cx, cy = pts.mean(axis=0)
        ew = float(np.ptp(pts[:, 0]))
        x0, x1 = max(int(cx - 0.75 * ew), 0), max(int(cx + 0.75 * ew), 0)
        y0, y1 = max(int(cy - 0.5 * ew), 0), max(int(cy + 0.5 * ew), 0)
        around = grey[y0:y1, x0:x1]
        if around.size:
            glare = max(glare, float((around >= 247).mean()))
    return {
        "face_luminance": float(face_y.mean()) / 255.0,
        "darker_half_luminance": darker_half / 255.0,
        "face_clipped_dark": float((face_y <= 5).mean()),
        "face_clipped_bright": float((face_y >= 250).mean()),
        "sharpness": sharpness,
        "face_contrast": contrast / 255.0,
        "lip_redness": lip_a - cheek_a,
        "eye_darkness": eye_y / max(cheek_y, 1.0),
        "face_chroma": chroma,
        "eye_glare": glare,
    }


def _inner(face: np.ndarray) -> np.ndarray:
    """The face oval shrunk so its edge (a strong step against any background) does not count."""
    inner_face = cv2.erode(face.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return inner_face if inner_face.sum() >= 20 else face


def _octave_ratio(y: np.ndarray, region: np.ndarray) -> float:
    """Energy in the finest octave (sigma < 1 px) over the next one (1-2 px).

    Natural images have roughly scale-invariant spectra, so a sharp face
    keeps the two near 1:1 whatever its light or contrast; blur or motion
    removes the finest octave first.
    """
    blur1 = cv2.GaussianBlur(y, (0, 0), 1.0)
    blur2 = cv2.GaussianBlur(y, (0, 0), 2.0)
    fine = float((y - blur1)[region].var())
    mid = float((blur1 - blur2)[region].var())
    return fine / max(mid, 1e-6)


def sharpness(patch: Patch) -> float:
    """The octave ratio of a face patch (see :func:`pixel_measures`)."""
    grey = cv2.cvtColor(patch.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    face = polygon_mask(grey.shape, patch.landmarks[list(FACE_OVAL)])
    if face.sum() < 20:
        raise ValueError("face region too small to measure")
    return _octave_ratio(grey, _inner(face))


def blockiness(rgb: np.ndarray, lm: np.ndarray) -> float:
    """How much of the face's edge energy sits on a regular pixel grid (a pixelated face).

    A mosaic (or a small picture blown up without smoothing) puts every
    step on the block borders: fold the mean horizontal step size over the
    face's columns by a period of 3-32 px and one phase holds far more than
    the average. Natural detail has no preferred phase (ratio ~1). Measured
    at the image's own resolution, since resampling would hide the grid.
    Returns the smaller of the x and y ratios: a real mosaic is blocky both ways.
    """
    h, w = rgb.shape[:2]
    xs, ys = lm[:, 0], lm[:, 1]
    x0, x1 = max(int(xs.min()), 0), min(int(xs.max()) + 1, w)
    y0, y1 = max(int(ys.min()), 0), min(int(ys.max()) + 1, h)
    if x1 - x0 < 24 or y1 - y0 < 24:
        return 1.0
    region = rgb[y0:y1, x0:x1, 1]  # green carries most of the luminance
    row_step = max((y1 - y0) // 256, 1)
    col_step = max((x1 - x0) // 256, 1)
    across = np.abs(np.diff(region[::row_step].astype(np.float32), axis=1)).mean(axis=0)
    down = np.abs(np.diff(region[:, ::col_step].astype(np.float32), axis=0)).mean(axis=1)
    return min(_grid_ratio(across), _grid_ratio(down))


def _grid_ratio(profile: np.ndarray) -> float:
    best = 1.0
    n = len(profile)
    for period in range(3, 33):
        if n < 6 * period:  # at least six blocks, or the maximum is mostly noise
            break
        folded = profile[: n // period * period].reshape(-1, period).mean(axis=0)
        best = max(best, float(folded.max() / max(folded.mean(), 1e-6)))
    return best


# Matched patches on the two sides of the face: forehead and cheek, each the
# mirror image of the other in the mesh topology.
FOREHEAD_RIGHT = (109, 67, 103, 104, 69, 108)
FOREHEAD_LEFT = (338, 297, 332, 333, 299, 337)


def light_asymmetry(patch: Patch) -> float:
    """How much brighter one side of the face is, in stops (|log2| of the ratio).

    Linear light (sRGB decoded), so the ratio of the two sides is the ratio
    of the light falling on them: the skin's own colour and darkness cancel
    out, the same on both sides. Matched forehead and cheek patches, which
    face the camera alike, so a turned head does not count as light.
    """
    linear = _linear_luminance(patch.rgb)
    shape = linear.shape
    lm = patch.landmarks
    sides = []
    for forehead, cheek in ((FOREHEAD_RIGHT, CHEEK_RIGHT), (FOREHEAD_LEFT, CHEEK_LEFT)):
        mask = polygon_mask(shape, lm[list(forehead)]) | polygon_mask(shape, lm[list(cheek)])
        if mask.sum() < 4:
            raise ValueError("face region too small to measure")
        sides.append(float(linear[mask].mean()))
    right, left = (max(v, 1e-4) for v in sides)
    return abs(math.log2(right / left))


def _linear_luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float32) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def skin_glare(patch: Patch) -> float:
    """Share of the skin (oval less eyes and mouth) that is specular white.

    A shiny forehead or nose reflects the lamp as small clipped blobs, while
    a well exposed face holds none. Near-white in all three channels, so a
    saturated red or yellow is not a highlight.
    """
    lm = patch.landmarks
    shape = patch.rgb.shape[:2]
    face = polygon_mask(shape, lm[list(FACE_OVAL)])
    holes = polygon_mask(shape, lm[list(LIPS_OUTER)])
    for eye in (RIGHT_EYE, LEFT_EYE):
        holes |= polygon_mask(shape, lm[list(eye.contour)])
    skin = face & ~holes
    if skin.sum() < 20:
        raise ValueError("face region too small to measure")
    white = (patch.rgb >= 245).all(axis=2)
    return float(white[skin].mean())


def shoulder_tilt(body: np.ndarray, min_visibility: float = 0.5) -> float | None:
    """Degrees the shoulder line leans from level (pose landmarks 11 and 12), or None.

    None when either shoulder is not seen well enough to say.
    """
    left, right = body[11], body[12]
    if min(left[3], right[3]) < min_visibility:
        return None
    dx, dy = left[0] - right[0], left[1] - right[1]
    if abs(dx) < 1e-6:
        return None
    return abs(math.degrees(math.atan(dy / dx)))


# Face regions a hand must not cover (the registry: eyes, brows, nose, mouth
# and the jaw line visible). Mesh points that outline each region.
NOSE = (6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 48, 278)
JAW = (172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397)
HAND_REGIONS: dict[str, tuple[int, ...]] = {
    "eyes": RIGHT_EYE.contour + LEFT_EYE.contour + BROW_RIGHT + BROW_LEFT,
    "nose": NOSE,
    "mouth": LIPS_OUTER,
    "jaw": JAW,
}
# Hand landmarks are joint centres; a finger reaches about half its width
# (~8 mm, ~0.13 of the ~63 mm between the pupils) beyond their hull.
HAND_REACH = 0.13


def hand_cover(lm: np.ndarray, hands: list[np.ndarray], g: Geometry) -> float:
    """The largest share of one face region's points that lie under a hand (0-1).

    A hand resting on a shoulder or held low covers no region (0); a hand
    over an eye, the mouth or along the jaw covers most of that region's
    outline. Size-free: the reach beyond the joints scales with the eyes.
    """
    if not hands:
        return 0.0
    reach = HAND_REACH * g.eye_distance
    hulls = [cv2.convexHull(np.round(h[:, :2]).astype(np.float32)) for h in hands]
    worst = 0.0
    for points in HAND_REGIONS.values():
        inside = 0
        for i in points:
            x, y = float(lm[i, 0]), float(lm[i, 1])
            if any(cv2.pointPolygonTest(hull, (x, y), True) >= -reach for hull in hulls):
                inside += 1
        worst = max(worst, inside / len(points))
    return worst
