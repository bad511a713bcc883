"""The official 480 x 640 photo: geometry, refusal instead of padding, JPEG without EXIF."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kiosk.capture.compose import (
    CropBox,
    CropError,
    FaceFrame,
    check_fits,
    crop_box,
    encode_jpeg,
    head_guide,
    official,
)
from kiosk.capture.image import load_rgb
from kiosk.capture.quality import FaceModel, QualityChecker
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import PhotoConfig
from tests import synth
from tests.conftest import FACES, need_shared

GOOD = ("face_012.jpg", "face_049.jpg", "face_058.jpg", "face_066.jpg")


@pytest.fixture(scope="module")
def checker() -> QualityChecker:
    return QualityChecker(model=FaceModel.shared())


@pytest.fixture(scope="module")
def stills(checker: QualityChecker):
    need_shared(FACES)
    out = []
    for name in GOOD:
        rgb = load_rgb(FACES / name)
        out.append((name, rgb, checker.assess(rgb, face_only=True)))
    return out


# -- pure geometry -----------------------------------------------------------


def test_crop_puts_the_face_where_the_registry_wants_it() -> None:
    photo = PhotoConfig()
    face = FaceFrame(centre_x=1000, eye_y=500, face_width=300)
    box = crop_box(face, photo)
    scale = photo.width / box.width
    assert box.height / box.width == pytest.approx(640 / 480)
    assert (face.centre_x - box.left) * scale == pytest.approx(240)
    assert (face.eye_y - box.top) * scale == pytest.approx(photo.eye_line)
    assert face.face_width * scale == pytest.approx(photo.face_width)


def test_crop_moves_to_keep_the_hair_in_its_band() -> None:
    photo = PhotoConfig()
    # Tall hair: the crown would be cut at the top edge; the crop moves up
    # but keeps the eyes inside 200-300 px.
    face = FaceFrame(centre_x=1000, eye_y=500, face_width=300, crown_y=200)
    box = crop_box(face, photo)
    scale = photo.width / box.width
    crown_out = (face.crown_y - box.top) * scale
    eyes_out = (face.eye_y - box.top) * scale
    assert 210 <= eyes_out <= 290
    assert crown_out >= 50 or eyes_out == pytest.approx(290)
    # A crown already in the band changes nothing.
    plain = crop_box(FaceFrame(1000, 500, 300), photo)
    in_band = crop_box(FaceFrame(1000, 500, 300, crown_y=500 - (262 - 80) / 0.8), photo)
    assert in_band == plain


def test_crop_outside_the_still_is_refused_with_a_reason() -> None:
    with pytest.raises(CropError) as err:
        check_fits(CropBox(-10, 0, 470, 640), 1000, 1000)
    assert err.value.reason is Reason.OFF_CENTER
    with pytest.raises(CropError) as err:
        check_fits(CropBox(0, 0, 900, 1200), 1000, 1000)
    assert err.value.reason is Reason.FACE_TOO_LARGE
    check_fits(CropBox(0, 0, 1000, 1000), 1000, 1000)


@pytest.mark.parametrize("size", [(640, 480), (2304, 1296), (4608, 2592), (1080, 1920)])
def test_a_face_in_the_guide_gives_a_crop_inside_the_frame(size: tuple[int, int]) -> None:
    photo = PhotoConfig()
    w, h = size
    cx, cy, rx, ry = head_guide(w, h, photo)
    assert cx == w / 2 and cy - ry > 0 and cy + ry < h and rx < ry
    eye_y = cy - ry + 0.42 * 2 * ry
    box = crop_box(FaceFrame(cx, eye_y, 2 * rx), photo)
    assert box.inside(w, h)
    assert box.height == pytest.approx(min(photo.frame_fill * h, photo.frame_fill * w * 4 / 3))


def test_official_needs_landmarks() -> None:
    with pytest.raises(CropError) as err:
        official(np.zeros((100, 100, 3), np.uint8), Assessment.of({Reason.NO_FACE}), PhotoConfig())
    assert err.value.reason is Reason.NO_FACE


def test_jpeg_lands_in_the_size_window() -> None:
    rng = np.random.default_rng(1)
    # A smooth picture with some texture, like a face on a plain background.
    base = np.linspace(0, 255, 480 * 640 * 3).reshape(640, 480, 3)
    rgb = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    photo = PhotoConfig()
    data, quality = encode_jpeg(rgb, photo)
    assert 60 <= quality <= 95
    assert photo.size_min_kb * 1024 <= len(data) <= photo.size_max_kb * 1024
    wide = PhotoConfig(size_min_kb=30, size_max_kb=60)
    data2, quality2 = encode_jpeg(rgb, wide)
    assert 30 * 1024 <= len(data2) <= 60 * 1024 and quality2 >= quality


# -- from a real face --------------------------------------------------------


@pytest.mark.parametrize("size", [(1280, 720), (2304, 1296)])
def test_official_photo_from_a_kiosk_still(checker: QualityChecker, stills, size) -> None:
    photo = checker.photo
    for name, rgb, face in stills:
        still = synth.kiosk_still(rgb, face, checker.model, size=size)
        judged = checker.assess(still)
        assert judged.accepted, (name, judged.reasons)
        result = official(still, judged, photo)
        assert (result.width, result.height) == (480, 640)
        assert result.crop.inside(*size)
        im = Image.open(io.BytesIO(result.jpeg))
        assert im.format == "JPEG" and im.size == (480, 640) and im.mode == "RGB"
        assert im.info.get("dpi") == pytest.approx((300, 300))
        assert len(im.getexif()) == 0 and b"Exif\x00\x00" not in result.jpeg
        assert result.quality >= 60
        # The registry's proportions, measured on the output itself.
        out = checker.assess(np.asarray(im), face_only=True)
        assert out.accepted, (name, out.reasons)
        lm = out.landmarks
        eyes = (lm[468, 1] + lm[473, 1]) / 2
        face_width = np.linalg.norm(lm[454, :2] - lm[234, :2])
        centre = (lm[454, 0] + lm[234, 0]) / 2
        assert photo.eye_band[0] <= eyes <= photo.eye_band[1], name
        assert photo.face_width_band[0] <= face_width <= photo.face_width_band[1], name
        assert abs(centre - 240) < 12, name
        if judged.crown_y is not None:
            crown = (judged.crown_y - result.crop.top) * 480 / result.crop.width
            assert photo.hair_band[0] - 5 <= crown <= photo.hair_band[1] + 5, name


def test_official_refuses_a_face_at_the_edge(checker: QualityChecker, stills) -> None:
    _, rgb, face = stills[0]
    still = synth.kiosk_still(rgb, face, checker.model, size=(1280, 720), shift=(0.36, 0))
    judged = checker.assess(still)
    assert Reason.OFF_CENTER in judged.reasons
    with pytest.raises(CropError) as err:
        official(still, judged, checker.photo)
    assert err.value.reason is Reason.OFF_CENTER


def test_official_refuses_a_face_too_close(checker: QualityChecker, stills) -> None:
    _, rgb, face = stills[1]
    still = synth.kiosk_still(rgb, face, checker.model, size=(1280, 720), scale=1.5)
    judged = checker.assess(still)
    assert Reason.FACE_TOO_LARGE in judged.reasons
    with pytest.raises(CropError) as err:
        official(still, judged, checker.photo)
    assert err.value.reason is Reason.FACE_TOO_LARGE
