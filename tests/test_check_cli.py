"""`kiosk check` and the image loader: odd files get a clear error or a correct verdict."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from kiosk.capture.image import ImageError, load_rgb
from kiosk.capture.quality import FaceModel, QualityChecker
from kiosk.cli import main
from tests.conftest import FACES, need_shared

GOOD = "face_049.jpg"  # labelled good: frontal, neutral, plain background
CLOSED = "face_002.jpg"  # labelled eyes_closed


@pytest.fixture(scope="module")
def good_image() -> Image.Image:
    with Image.open(need_shared(FACES) / GOOD) as im:
        return im.convert("RGB")


@pytest.fixture(scope="module")
def checker() -> QualityChecker:
    return QualityChecker(model=FaceModel.shared())


def _exif_rotated(im: Image.Image, path: Path, orientation: int) -> Path:
    """Store the pixels turned the way a phone sensor does, with the EXIF tag that undoes it."""
    turned = {
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }
    stored = im.transpose(turned[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, "JPEG", exif=exif.tobytes(), quality=92)
    return path


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_phone_photo_is_judged_upright(
    tmp_path: Path, good_image, checker: QualityChecker, orientation: int
) -> None:
    path = _exif_rotated(good_image, tmp_path / "phone.jpg", orientation)
    with Image.open(path) as raw:
        assert raw.size != good_image.size or orientation == 3
    rgb = load_rgb(path)
    assert rgb.shape[:2] == (good_image.height, good_image.width)
    assessment = checker.assess(rgb, face_only=True)
    assert assessment.accepted, assessment.reasons
    assert abs(assessment.measures["roll"]) < 8


def test_pixel_formats_all_load_as_rgb(tmp_path: Path, good_image, checker: QualityChecker) -> None:
    grey = good_image.convert("L")
    paths = {
        "grey.jpg": lambda p: grey.save(p, "JPEG", quality=92),
        "cmyk.jpg": lambda p: good_image.convert("CMYK").save(p, "JPEG", quality=92),
        "rgba.png": lambda p: good_image.convert("RGBA").save(p, "PNG"),
        "la.png": lambda p: grey.convert("LA").save(p, "PNG"),
        "palette.png": lambda p: good_image.convert("P", palette=Image.Palette.ADAPTIVE).save(
            p, "PNG"
        ),
        "grey16.png": lambda p: Image.fromarray(np.asarray(grey).astype(np.uint16) * 257).save(
            p, "PNG"
        ),
        "image.webp": lambda p: good_image.save(p, "WEBP", quality=90),
        "rgb16.png": lambda p: cv2.imwrite(
            str(p), np.asarray(good_image)[..., ::-1].astype(np.uint16) * 257
        ),
        "image.bmp": lambda p: good_image.save(p, "BMP"),
    }
    for name, write in paths.items():
        write(tmp_path / name)
        rgb = load_rgb(tmp_path / name)
        assert rgb.dtype == np.uint8 and rgb.shape == (good_image.height, good_image.width, 3), name
        assessment = checker.assess(rgb, face_only=True)
        # Black-and-white copies are judged too (lip colour is not asked of them).
        assert assessment.accepted, (name, assessment.reasons)
    # 16-bit keeps the picture: same grey levels as the 8-bit copy.
    g16 = load_rgb(tmp_path / "grey16.png")[..., 0].astype(int)
    assert np.abs(g16 - np.asarray(grey).astype(int)).max() <= 1


def test_transparent_pixels_become_white(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:10, :, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb = load_rgb(tmp_path / "a.png")
    assert tuple(rgb[0, 0]) == (200, 0, 0) and tuple(rgb[15, 0]) == (255, 255, 255)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"name,id\nzhang,1\n", "not an image"),
        (None, "truncated"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.jpg"
    if content is None:
        whole = (need_shared(FACES) / GOOD).read_bytes()
        content = whole[: len(whole) // 3]
    path.write_bytes(content)
    with pytest.raises(ImageError, match=message):
        load_rgb(path)


def test_damaged_exif_block_is_a_clear_error_or_ignored(tmp_path: Path, good_image) -> None:
    path = tmp_path / "odd-exif.jpg"
    good_image.save(path, "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff")
    try:
        rgb = load_rgb(path)
    except ImageError as exc:
        assert "odd-exif.jpg" in str(exc)
    else:
        assert rgb.shape == (good_image.height, good_image.width, 3)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_rgb(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        load_rgb(tmp_path)


# -- the command -------------------------------------------------------------


def test_check_prints_one_verdict_per_image_and_survives_bad_files(tmp_path: Path) -> None:
    faces = need_shared(FACES)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    runner = CliRunner()
    args = [
        "check",
        "--json",
        "--face-only",
        str(faces / GOOD),
        str(empty),
        str(text),
        str(faces / CLOSED),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    assert [Path(r["file"]).name for r in rows] == [GOOD, "empty.jpg", "notes.jpg", CLOSED]
    assert rows[0]["accepted"] is True and rows[0]["reasons"] == []
    assert set(rows[0]) == {"file", "accepted", "reasons", "measures"}
    assert rows[0]["measures"]["faces"] == 1
    assert "empty file" in rows[1]["error"] and "not an image" in rows[2]["error"]
    assert rows[3]["accepted"] is False and "eyes_closed" in rows[3]["reasons"]


def test_check_text_output_and_exit_codes(tmp_path: Path) -> None:
    faces = need_shared(FACES)
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--face-only", str(faces / GOOD)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip().endswith(f"{GOOD}: accepted")
    # Without --face-only a web photo is judged as a kiosk still: framing counts.
    framed = runner.invoke(main, ["check", "--json", str(faces / GOOD)])
    assert framed.exit_code == 1
    reasons = json.loads(framed.stdout)[0]["reasons"]
    assert {"off_center", "face_too_small", "face_too_large", "background"} & set(reasons)
    # English crew texts when the crew language is English.
    config = tmp_path / "kiosk.toml"
    config.write_text('[station]\ncrew_language = "en"\n')
    closed = runner.invoke(
        main, ["--config", str(config), "check", "--face-only", str(faces / CLOSED)]
    )
    assert closed.exit_code == 1
    assert (
        "refused: " in closed.stdout and "eyes_closed (eyes closed or squinting)" in closed.stdout
    )


def test_check_needs_an_image_argument() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2


def test_check_keeps_mediapipe_notices_off_the_terminal(tmp_path: Path) -> None:
    """MediaPipe's C++ side prints W0000 ... landmark_projection_calculator notices
    on the first face; they must not reach the crew's terminal."""
    import subprocess
    import sys

    from kiosk.capture.sim import PORTRAITS

    face = PORTRAITS / "face_041.jpg"
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data", str(tmp_path), "check", str(face)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    assert str(face) in done.stdout
    assert "W0000" not in done.stderr and "calculator" not in done.stderr, done.stderr
