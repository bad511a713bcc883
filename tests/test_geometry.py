"""Camera placement: the numbers follow from the optics and the photo format."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from kiosk import geometry
from kiosk.config import PhotoConfig

CM3 = geometry.CAMERAS["cm3"]


def test_field_of_view_matches_the_published_camera_module_3_figures() -> None:
    hfov, vfov = CM3.fov_deg()
    # Raspberry Pi publishes 66° x 41° for the standard lens (rounded, and
    # measured on the lens, so a degree or two off the pinhole figure).
    assert hfov == pytest.approx(66, abs=3)
    assert vfov == pytest.approx(41, abs=1.5)


def test_the_crop_follows_the_photo_format() -> None:
    photo = PhotoConfig()
    placement = geometry.place(CM3, photo)
    width_m = geometry.FACE_WIDTH_M * photo.width / photo.face_width
    assert placement.crop_height_m == pytest.approx(width_m * photo.height / photo.width)
    wider_face = geometry.place(CM3, dataclasses.replace(photo, face_width=300))
    assert wider_face.crop_height_m < placement.crop_height_m


def test_at_the_resolution_limit_the_crop_has_exactly_the_photos_rows() -> None:
    placement = geometry.place(CM3)
    assert placement.crop_rows(placement.max_distance_m) == pytest.approx(640)
    assert placement.crop_rows(placement.max_distance_m * 0.9) > 640
    assert placement.crop_rows(placement.max_distance_m * 1.1) < 640


def test_frame_fill_distance_is_where_the_crop_takes_that_share() -> None:
    placement = geometry.place(CM3)
    assert placement.fill_at(placement.fill_distance_m) == pytest.approx(placement.frame_fill)


def test_recommended_distance_keeps_perspective_and_pixels() -> None:
    placement = geometry.place(CM3)
    d = placement.distance_m
    assert d is not None
    assert d >= geometry.PERSPECTIVE_MIN_M
    assert placement.crop_rows(d) >= 640
    assert geometry.perspective_enlargement(d) < 0.10
    assert f"set photo.frame_fill = {placement.fill_at(d):.2f}" in geometry.report(placement)


def test_binned_still_cannot_give_the_crop_its_pixels_at_portrait_distance() -> None:
    placement = geometry.place(CM3, still_rows=1296)
    assert placement.distance_m is None
    assert placement.crop_rows(geometry.PERSPECTIVE_MIN_M) < 640
    assert "NO distance works" in geometry.report(placement)


def test_portrait_mount_uses_the_long_side() -> None:
    landscape = geometry.place(CM3)
    portrait = geometry.place(CM3, portrait_mount=True)
    # Rows scale with pixels (4608 / 2592), the frame with millimetres: same pitch.
    assert portrait.max_distance_m / landscape.max_distance_m == pytest.approx(1.0)
    assert portrait.vertical_fov_deg > landscape.vertical_fov_deg


def test_frame_height_is_the_pinhole_relation() -> None:
    placement = geometry.place(CM3)
    vfov = math.radians(placement.vertical_fov_deg)
    assert geometry.frame_height_m(placement, 2.0) == pytest.approx(2 * 2.0 * math.tan(vfov / 2))


def test_the_command_prints_the_sheet_and_fails_when_nothing_fits(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kiosk.cli import main

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["--data", str(tmp_path), "geometry", *args])

    ok = run("hq-16mm")
    assert ok.exit_code == 0 and "recommended:" in ok.output
    bad = run("cm3", "--still-rows", "1296")
    assert bad.exit_code == 1 and "NO distance works" in bad.output
    assert run("no-such-camera").exit_code == 2
