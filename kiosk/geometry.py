"""Where to put the camera: distance and height from the lens and the official crop.

Why computed: the face must fill the registry's crop at the proportion the
photo format sets (``[photo]`` face_width, width, height, frame_fill in the
config: one place for those facts) *with enough pixels* (the official photo is 480 x 640; upscaling a smaller
crop blurs it) while the student still has room to sway inside the frame, and
the lens must be far enough away that the nose is not enlarged. Those three
limits come straight from the sensor size, the focal length and the crop's
proportions; ``kiosk geometry CAMERA`` prints them for a camera model.

Pure functions; all lengths in metres unless the name says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.config import PhotoConfig


@dataclass(frozen=True)
class CameraModel:
    key: str
    name: str
    sensor_px: tuple[int, int]  # full resolution, width x height (landscape)
    pixel_um: float  # pixel pitch, micrometres
    focal_mm: float

    @property
    def sensor_mm(self) -> tuple[float, float]:
        return (
            self.sensor_px[0] * self.pixel_um / 1000,
            self.sensor_px[1] * self.pixel_um / 1000,
        )

    def fov_deg(self) -> tuple[float, float]:
        w, h = self.sensor_mm
        return (
            math.degrees(2 * math.atan(w / (2 * self.focal_mm))),
            math.degrees(2 * math.atan(h / (2 * self.focal_mm))),
        )


# Sensor and lens data from the Raspberry Pi camera documentation (sensor
# resolution, pixel size, focal length).
CAMERAS = {
    c.key: c
    for c in (
        CameraModel("cm3", "Camera Module 3 (IMX708, standard lens)", (4608, 2592), 1.4, 4.74),
        CameraModel("cm3-wide", "Camera Module 3 Wide (IMX708)", (4608, 2592), 1.4, 2.75),
        CameraModel("cm2", "Camera Module 2 (IMX219)", (3280, 2464), 1.12, 3.04),
        CameraModel("hq-6mm", "HQ Camera (IMX477) + 6 mm CS lens", (4056, 3040), 1.55, 6.0),
        CameraModel("hq-16mm", "HQ Camera (IMX477) + 16 mm C lens", (4056, 3040), 1.55, 16.0),
    )
}

# Real width of the face the crop scales to ``photo.face_width`` pixels:
# MediaPipe's face oval runs between face breadth and head breadth (GB/T 10000,
# P50: face breadth 141 / 136 mm, head breadth 154 / 149 mm, men / women).
FACE_WIDTH_M = 0.145
# The nose is ~10 cm nearer the lens than the ears; below this distance it
# looks > 9 % larger than the ears (portrait practice keeps >= 1.2 m).
NOSE_DEPTH_M = 0.10
PERSPECTIVE_MIN_M = 1.2
# Eye height of Chinese adults (GB/T 10000, P50): standing men 1568 mm and
# women 1454 mm; seated on a 45 cm stool, 0.45 m + seated eye height
# (men 798 mm, women 739 mm).
EYE_HEIGHT_STANDING_M = (1.454, 1.568)
EYE_HEIGHT_SEATED_M = (0.45 + 0.739, 0.45 + 0.798)


@dataclass(frozen=True)
class Placement:
    """The answer for one camera, mount, still resolution and photo format."""

    camera: CameraModel
    portrait_mount: bool
    still_rows: int  # rows of the still along the vertical of the scene
    output_rows: int  # the official photo's height in pixels (photo.height)
    frame_fill: float  # the station's crop share of the frame (photo.frame_fill)
    vertical_fov_deg: float
    crop_height_m: float  # the scene height the official photo covers
    fill_distance_m: float  # where the crop is frame_fill of the frame
    min_distance_m: float  # closer: noses grow (perspective)
    max_distance_m: float  # farther: the crop has fewer rows than the photo (upscaled)
    distance_m: float | None  # recommended; None when no distance works

    def crop_rows(self, distance_m: float) -> float:
        """Rows of the still inside the official crop at this distance."""
        return self.crop_height_m / frame_height_m(self, distance_m) * self.still_rows

    def fill_at(self, distance_m: float) -> float:
        """The crop's share of the frame height at this distance (photo.frame_fill)."""
        return self.crop_height_m / frame_height_m(self, distance_m)


def vertical_extent(camera: CameraModel, portrait_mount: bool) -> tuple[float, int]:
    """Sensor size (mm) and full-resolution pixels along the scene's vertical."""
    w, h = camera.sensor_mm
    return (w, camera.sensor_px[0]) if portrait_mount else (h, camera.sensor_px[1])


def frame_height_m(placement: Placement, distance_m: float) -> float:
    mm, _ = vertical_extent(placement.camera, placement.portrait_mount)
    return distance_m * mm / placement.camera.focal_mm


def perspective_enlargement(distance_m: float) -> float:
    """How much larger the nose appears than the ears (0.09 = 9 %)."""
    return distance_m / (distance_m - NOSE_DEPTH_M) - 1


def place(
    camera: CameraModel,
    photo: PhotoConfig | None = None,
    *,
    portrait_mount: bool = False,
    still_rows: int | None = None,
    face_width_m: float = FACE_WIDTH_M,
    perspective_min_m: float = PERSPECTIVE_MIN_M,
) -> Placement:
    """Distance limits and the recommended distance for a camera.

    The crop's proportions come from the photo format in the config (the
    face is scaled to ``face_width`` of ``width`` pixels; ``frame_fill`` is
    the station's design share of the frame). ``still_rows`` is the still's
    height in pixels along the scene's vertical (default: the sensor's full
    resolution; a 2x2-binned mode has half).
    """
    photo = photo or PhotoConfig()
    sensor_mm, full_rows = vertical_extent(camera, portrait_mount)
    rows = still_rows or full_rows
    crop_w = face_width_m * photo.width / photo.face_width
    crop_m = crop_w * photo.height / photo.width
    scale = camera.focal_mm / sensor_mm  # distance per metre of frame height
    fill_distance = crop_m / photo.frame_fill * scale
    # Enough rows: crop / frame * rows >= photo.height.
    resolution_max = crop_m * rows / photo.height * scale
    low = max(fill_distance, perspective_min_m)
    distance = low if low <= resolution_max else None
    vfov = math.degrees(2 * math.atan(sensor_mm / (2 * camera.focal_mm)))
    return Placement(
        camera=camera,
        portrait_mount=portrait_mount,
        still_rows=rows,
        output_rows=photo.height,
        frame_fill=photo.frame_fill,
        vertical_fov_deg=vfov,
        crop_height_m=crop_m,
        fill_distance_m=fill_distance,
        min_distance_m=perspective_min_m,
        max_distance_m=resolution_max,
        distance_m=distance,
    )


def report(placement: Placement) -> str:
    """The geometry sheet for the crew, as text."""
    cam = placement.camera
    hfov, vfov = cam.fov_deg()
    mount = "portrait (rotated 90°)" if placement.portrait_mount else "landscape"
    fill_d = placement.fill_distance_m
    lines = [
        f"camera: {cam.name}",
        f"  sensor {cam.sensor_mm[0]:.2f} x {cam.sensor_mm[1]:.2f} mm, "
        f"{cam.sensor_px[0]} x {cam.sensor_px[1]} px, focal length {cam.focal_mm} mm",
        f"  field of view {hfov:.1f}° x {vfov:.1f}° (landscape); mount: {mount}",
        f"  still: {placement.still_rows} rows along the vertical",
        f"official crop: {placement.crop_height_m * 100:.0f} cm of the scene's height "
        f"(face {FACE_WIDTH_M * 100:.1f} cm wide scaled to photo.face_width)",
        f"  photo.frame_fill {placement.frame_fill:g} puts the face at {fill_d:.2f} m "
        f"(nose {perspective_enlargement(fill_d):.0%} larger than the ears)",
        f"distance lens to face: at least {placement.min_distance_m:.2f} m (perspective), "
        f"at most {placement.max_distance_m:.2f} m (crop keeps >= {placement.output_rows} rows)",
    ]
    if placement.distance_m is None:
        lines.append(
            "  NO distance works: the crop would be upscaled. Use the full-resolution "
            "still mode, a longer lens, or the portrait mount."
        )
    else:
        d = placement.distance_m
        lines += [
            f"recommended: {d:.2f} m -> frame {frame_height_m(placement, d) * 100:.0f} cm tall, "
            f"crop {placement.crop_rows(d):.0f} rows, nose {perspective_enlargement(d):.1%} "
            f"larger than the ears; set photo.frame_fill = {placement.fill_at(d):.2f}",
        ]
    seated = "–".join(f"{h:.2f}" for h in EYE_HEIGHT_SEATED_M)
    standing = "–".join(f"{h:.2f}" for h in EYE_HEIGHT_STANDING_M)
    lines += [
        "camera height: lens at the student's eye level, optical axis level",
        f"  seated on a 45 cm stool: {seated} m (women–men, median); standing: {standing} m",
        "  a stool is better: eye heights spread less seated, so one mount height fits.",
    ]
    return "\n".join(lines)
