"""Made-up kiosk stills and degraded copies built from the shared good photos.

The shared photos were not taken in the kiosk; to test framing, background
and the crop, a good photo is placed into a camera frame the way the kiosk
would see the student: face in the head guide, on the reference background.
The degradations follow the data set README (blur as a share of the eye
distance, gamma/gain for light, rotation for roll).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.capture.compose import EYE_LINE_IN_MESH, face_frame, head_guide
from kiosk.capture.facemodel import FaceModel
from kiosk.capture.verdict import Assessment
from kiosk.config import PhotoConfig


def kiosk_still(
    rgb: np.ndarray,
    assessment: Assessment,
    model: FaceModel,
    size: tuple[int, int] = (1280, 720),
    photo: PhotoConfig | None = None,
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    background: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """The photo's person on a plain background, face in the head guide of a ``size`` frame.

    ``scale`` multiplies the face size the guide asks for; ``shift`` moves the
    face by that share of the frame width and height.
    """
    photo = photo or PhotoConfig()
    colour = background or photo.background_rgb
    w, h = size
    cx, cy, rx, ry = head_guide(w, h, photo)
    eye_y = cy - ry + EYE_LINE_IN_MESH * 2 * ry
    face = face_frame(assessment)
    s = scale * (2 * rx) / face.face_width
    person = model.segment(rgb)[..., None]
    plain = np.empty_like(rgb)
    plain[:] = colour
    cut = (person * rgb + (1 - person) * plain).astype(np.uint8)
    resized = cv2.resize(
        cut, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    )
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:] = colour
    ox = round(cx + shift[0] * w - face.centre_x * s)
    oy = round(eye_y + shift[1] * h - face.eye_y * s)
    _paste(canvas, resized, ox, oy)
    return canvas


def _paste(canvas: np.ndarray, img: np.ndarray, ox: int, oy: int) -> None:
    h, w = canvas.shape[:2]
    ih, iw = img.shape[:2]
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + iw, w), min(oy + ih, h)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = img[y0 - oy : y1 - oy, x0 - ox : x1 - ox]


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre and crop to the largest upright rectangle (no border shows)."""
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR)
    a = math.radians(abs(degrees))
    # Largest axis-aligned rectangle inside the rotated image (same aspect).
    k = 1 / (math.cos(a) + max(w, h) / min(w, h) * math.sin(a))
    cw, ch = int(w * k), int(h * k)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return np.ascontiguousarray(turned[y0 : y0 + ch, x0 : x0 + cw])


def gaussian_blur(rgb: np.ndarray, eye_distance: float, share: float = 0.06) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), share * eye_distance)


def darken(rgb: np.ndarray, gain: float = 0.35, gamma: float = 2.2) -> np.ndarray:
    x = (rgb.astype(np.float32) / 255.0) ** gamma * gain
    return np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)


def brighten(rgb: np.ndarray, gain: float = 2.1, offset: float = 40) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)


def busy_background(rgb: np.ndarray, model: FaceModel, seed: int = 0) -> np.ndarray:
    """Replace the background with coloured noise blocks (a poster wall, a corridor)."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    blocks = rng.integers(0, 256, size=(max(h // 24, 2), max(w // 24, 2), 3), dtype=np.uint8)
    noise = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
    person = model.segment(rgb)[..., None]
    return (person * rgb + (1 - person) * noise).astype(np.uint8)


def pixelate(rgb: np.ndarray, block: float, jpeg_quality: int = 85) -> np.ndarray:
    """A mosaic of ``block``-pixel squares, saved as JPEG like a pixelated web picture."""
    import io

    from PIL import Image

    h, w = rgb.shape[:2]
    small = cv2.resize(
        rgb, (max(round(w / block), 1), max(round(h / block), 1)), interpolation=cv2.INTER_AREA
    )
    blocks = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    buf = io.BytesIO()
    Image.fromarray(blocks).save(buf, "JPEG", quality=jpeg_quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def side_light(rgb: np.ndarray, left: float, right: float, dark_gain: float = 0.15) -> np.ndarray:
    """One lamp from the side: shadow left of ``left``, full light right of ``right`` (x pixels)."""
    w = rgb.shape[1]
    x = np.arange(w, dtype=np.float32)
    ramp = np.clip((x - left) / max(right - left, 1.0), 0.0, 1.0) * (1 - dark_gain) + dark_gain
    lit = (rgb.astype(np.float32) / 255.0) ** 1.4 * ramp[None, :, None]
    return np.clip(lit * 255 + 0.5, 0, 255).astype(np.uint8)


def glare(rgb: np.ndarray, landmarks: np.ndarray, eye_centre: int = 468) -> np.ndarray:
    """A white lens reflection over one eye (an ellipse half an eye-width across)."""
    out = rgb.copy()
    cx, cy = landmarks[eye_centre, :2]
    width = float(np.linalg.norm(landmarks[33, :2] - landmarks[133, :2]))
    axes = (max(round(0.3 * width), 2), max(round(0.18 * width), 1))
    cv2.ellipse(
        out,
        (round(cx + 0.1 * width), round(cy - 0.1 * width)),
        axes,
        -20,
        0,
        360,
        (255, 255, 255),
        -1,
    )
    return out


# -- the demo's staged portraits (kiosk/assets/portraits) -------------------


def staged_portraits(
    size: tuple[int, int] = (2304, 1296),
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each sample portrait standing in front of the kiosk's backdrop: (still, person mask 0-1).

    The same staging as the simulated camera (what the demo shows).
    """
    import dataclasses

    try:  # the simulated camera's home after the capture package's split
        from kiosk.capture.sim import (  # type: ignore[import-not-found]
            PORTRAITS,
            load_placements,
            portrait_files,
            stage_person,
        )
    except ImportError:
        from kiosk.capture.camera import PORTRAITS, load_placements, portrait_files, stage_person
    from kiosk.config import CameraConfig

    config = CameraConfig()
    black = dataclasses.replace(config, sim_backdrop_rgb=(0, 0, 0))
    placements = load_placements(PORTRAITS)
    staged = {}
    for path in portrait_files(PORTRAITS):
        rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        alpha = cv2.imread(str(path.with_suffix(".mask.png")), cv2.IMREAD_GRAYSCALE)
        white = np.full_like(rgb, 255)
        still = stage_person(rgb, alpha, placements[path.name], size, config)
        mask = stage_person(white, alpha, placements[path.name], size, black)[..., 0]
        staged[path.name] = (still, mask.astype(np.float32) / 255.0)
    return staged


def tilt(rgb: np.ndarray, degrees: float, fill: tuple[int, int, int]) -> np.ndarray:
    """The whole student leaning (head and shoulders), the frame kept, the corners backdrop."""
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def light_falloff(rgb: np.ndarray, left: float, right: float, stops: float) -> np.ndarray:
    """Light falling off by ``stops`` (linear light) from x = ``left`` to ``right``: a window."""
    w = rgb.shape[1]
    x = np.arange(w, dtype=np.float32)
    t = np.clip((x - left) / max(right - left, 1.0), 0.0, 1.0)
    gain = 2.0 ** (-stops * t)
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * gain[None, :, None]
    return np.clip(linear ** (1 / 2.2) * 255 + 0.5, 0, 255).astype(np.uint8)


def skin_shine(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Specular highlights of a bare lamp on an oily forehead and the nose tip."""
    out = rgb.copy()
    d = float(np.linalg.norm(landmarks[468, :2] - landmarks[473, :2]))
    for point, radius in ((151, 0.25), (4, 0.12)):
        cx, cy = landmarks[point, :2]
        cv2.circle(out, (round(cx), round(cy)), max(round(radius * d), 1), (255, 255, 255), -1)
    return out


def clothes_like(
    rgb: np.ndarray, mask: np.ndarray, landmarks: np.ndarray, colour: tuple[int, int, int]
) -> np.ndarray:
    """Dress the person in ``colour`` from just below the chin down, keeping the cloth's shading."""
    out = rgb.astype(np.float32)
    chin = float(landmarks[:, 1].max())
    face_h = chin - float(landmarks[:, 1].min())
    region = mask > 0.5
    region[: int(chin + 0.25 * face_h)] = False
    grey = out.mean(axis=2)
    # Folds and shading of cloth: a quarter of the person's own contrast.
    shade = 1 + 0.25 * (grey / max(float(grey[region].mean()), 1.0) - 1)
    dressed = np.clip(shade[..., None] * np.array(colour, np.float32), 0, 255)
    out[region] = dressed[region]
    return out.astype(np.uint8)
