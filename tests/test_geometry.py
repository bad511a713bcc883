"""Camera placement: the numbers follow from the optics, checked both ways."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from kiosk import geometry
from tests.conftest import REPO

CM3 = geometry.CAMERAS["cm3"]


def test_field_of_view_matches_the_published_camera_module_3_figures() -> None:
    hfov, vfov = CM3.fov_deg()
    # Raspberry Pi publishes 66° x 41° for the standard lens (rounded, and
    # measured on the lens, so a degree or two off the pinhole figure).
    assert hfov == pytest.approx(66, abs=3)
    assert vfov == pytest.approx(41, abs=1.5)


def test_at_the_resolution_limit_the_crop_has_exactly_640_rows() -> None:
    placement = geometry.place(CM3)
    assert placement.crop_rows(placement.max_distance_m) == pytest.approx(640)
    # Closer means more rows, farther fewer.
    assert placement.crop_rows(placement.max_distance_m * 0.9) > 640
    assert placement.crop_rows(placement.max_distance_m * 1.1) < 640


def test_recommended_distance_leaves_room_and_enough_pixels() -> None:
    placement = geometry.place(CM3)
    d = placement.distance_m
    assert d is not None
    frame = geometry.frame_height_m(placement, d)
    assert placement.crop_height_m / frame <= geometry.MAX_CROP_SHARE + 1e-9
    assert placement.crop_rows(d) >= 640
    assert geometry.perspective_enlargement(d) < 0.10


def test_binned_still_cannot_give_the_crop_its_pixels_at_portrait_distance() -> None:
    placement = geometry.place(CM3, still_rows=1296)
    assert placement.distance_m is None
    assert "NO distance works" in geometry.report(placement)


def test_portrait_mount_uses_the_long_side() -> None:
    landscape = geometry.place(CM3)
    portrait = geometry.place(CM3, portrait_mount=True)
    ratio = portrait.max_distance_m / landscape.max_distance_m
    # Rows scale with pixels (4608 / 2592), the frame with millimetres: same pitch.
    assert ratio == pytest.approx(1.0)
    assert portrait.vertical_fov_deg > landscape.vertical_fov_deg


def test_frame_height_is_the_pinhole_relation() -> None:
    placement = geometry.place(CM3)
    vfov = math.radians(placement.vertical_fov_deg)
    assert geometry.frame_height_m(placement, 2.0) == pytest.approx(2 * 2.0 * math.tan(vfov / 2))


def test_bad_fraction_is_refused() -> None:
    with pytest.raises(ValueError):
        geometry.place(CM3, head_fraction=1.5)


def test_the_script_prints_the_sheet_and_fails_when_nothing_fits() -> None:
    script = REPO / "hardware/geometry.py"
    ok = subprocess.run([sys.executable, script, "hq-16mm"], capture_output=True, text=True)
    assert ok.returncode == 0 and "recommended: 1.67 m" in ok.stdout
    bad = subprocess.run(
        [sys.executable, script, "cm3", "--still-rows", "1296"], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "NO distance works" in bad.stdout
