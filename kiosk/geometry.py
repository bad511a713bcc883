"""Where to put the camera: distance and height from the lens and the official crop.

Why computed: the head must fill the registry's crop at the right proportion
*with enough pixels* (the official photo is 480 x 640; upscaling a smaller
crop blurs it) while the student still has room to sway inside the frame, and
the lens must be far enough away that the nose is not enlarged. Those three
limits come straight from the sensor size, the focal length and the crop's
proportions; ``hardware/geometry.py`` prints them for a camera model.

Pure functions; all lengths in metres unless the name says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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

OFFICIAL_PX = (480, 640)  # the registry's photo, width x height
# Head (chin to crown) as a share of the photo's height: the registry's
# guidance that the head takes about two thirds of the photo.
HEAD_FRACTION = 2 / 3
# Adult head height, chin to crown (GB/T 10000 head height, P50 of men 223 mm
# and women 216 mm, rounded).
HEAD_M = 0.22
# The nose is ~10 cm nearer the lens than the ears; below this distance it
# looks > 9 % larger than the ears (portrait practice keeps >= 1.2 m).
NOSE_DEPTH_M = 0.10
PERSPECTIVE_MIN_M = 1.2
# Room to sway: the crop may take at most this share of the frame's height.
MAX_CROP_SHARE = 0.67
# Eye height of Chinese adults (GB/T 10000, P50): standing men 1568 mm and
# women 1454 mm; seated on a 45 cm stool, 0.45 m + seated eye height
# (men 798 mm, women 739 mm).
EYE_HEIGHT_STANDING_M = (1.454, 1.568)
EYE_HEIGHT_SEATED_M = (0.45 + 0.739, 0.45 + 0.798)


@dataclass(frozen=True)
class Placement:
    """The answer for one camera, mount and still resolution."""

    camera: CameraModel
    portrait_mount: bool
    still_rows: int  # rows of the still along the vertical of the scene
    vertical_fov_deg: float
    crop_height_m: float  # the scene height the official photo covers
    min_distance_m: float  # closer: the crop leaves no room to sway, or noses grow
    max_distance_m: float  # farther: the crop has fewer than 640 rows (upscaled)
    distance_m: float | None  # recommended; None when no distance works

    def crop_rows(self, distance_m: float) -> float:
        """Rows of the still inside the official crop at this distance."""
        return self.crop_height_m / frame_height_m(self, distance_m) * self.still_rows

    def nose_enlargement(self, distance_m: float) -> float:
        return perspective_enlargement(distance_m)


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
    *,
    portrait_mount: bool = False,
    still_rows: int | None = None,
    head_fraction: float = HEAD_FRACTION,
    head_m: float = HEAD_M,
    perspective_min_m: float = PERSPECTIVE_MIN_M,
    max_crop_share: float = MAX_CROP_SHARE,
) -> Placement:
    """Distance limits and the recommended distance for a camera.

    ``still_rows`` is the still's height in pixels along the scene's vertical
    (default: the sensor's full resolution; a binned mode has half).
    """
    if not 0 < head_fraction < 1 or not 0 < max_crop_share <= 1:
        raise ValueError("head_fraction and max_crop_share must be between 0 and 1")
    sensor_mm, full_rows = vertical_extent(camera, portrait_mount)
    rows = still_rows or full_rows
    crop_m = head_m / head_fraction
    scale = camera.focal_mm / sensor_mm  # distance per metre of frame height
    # Frame height = d * sensor / f. Room to sway: crop <= share * frame.
    sway_min = crop_m / max_crop_share * scale
    # Enough rows: crop / frame * rows >= 640.
    resolution_max = crop_m * rows / OFFICIAL_PX[1] * scale
    low = max(sway_min, perspective_min_m)
    distance = low if low <= resolution_max else None
    vfov = math.degrees(2 * math.atan(sensor_mm / (2 * camera.focal_mm)))
    return Placement(
        camera=camera,
        portrait_mount=portrait_mount,
        still_rows=rows,
        vertical_fov_deg=vfov,
        crop_height_m=crop_m,
        min_distance_m=low,
        max_distance_m=resolution_max,
        distance_m=distance,
    )


def report(placement: Placement) -> str:
    """The geometry sheet for the crew, as text."""
    cam = placement.camera
    hfov, vfov = cam.fov_deg()
    mount = "portrait (rotated 90°)" if placement.portrait_mount else "landscape"
    lines = [
        f"camera: {cam.name}",
        f"  sensor {cam.sensor_mm[0]:.2f} x {cam.sensor_mm[1]:.2f} mm, "
        f"{cam.sensor_px[0]} x {cam.sensor_px[1]} px, focal length {cam.focal_mm} mm",
        f"  field of view {hfov:.1f}° x {vfov:.1f}° (landscape); mount: {mount}",
        f"  still: {placement.still_rows} rows along the vertical",
        f"official crop: {OFFICIAL_PX[0]} x {OFFICIAL_PX[1]} px covering "
        f"{placement.crop_height_m * 100:.0f} cm of the scene's height "
        f"(head {HEAD_M * 100:.0f} cm = {HEAD_FRACTION:.0%} of the photo)",
        f"distance lens to face: at least {placement.min_distance_m:.2f} m "
        f"(room to sway, nose not enlarged), at most {placement.max_distance_m:.2f} m "
        f"(crop keeps >= {OFFICIAL_PX[1]} rows)",
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
            f"crop {placement.crop_rows(d):.0f} rows, nose {placement.nose_enlargement(d):.1%} "
            "larger than the ears",
        ]
    seated = "–".join(f"{h:.2f}" for h in EYE_HEIGHT_SEATED_M)
    standing = "–".join(f"{h:.2f}" for h in EYE_HEIGHT_STANDING_M)
    lines += [
        "camera height: lens at the student's eye level, optical axis level",
        f"  seated on a 45 cm stool: {seated} m (women–men, median); standing: {standing} m",
        "  a stool is better: eye heights spread less seated, so one mount height fits.",
    ]
    return "\n".join(lines)
