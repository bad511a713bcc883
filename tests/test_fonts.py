"""The CJK font lookup shared by the proofs and the screens."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFont

from kiosk import fonts


def test_installed_font_is_found_and_draws_chinese(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(fonts.ENV_FONT, raising=False)
    font = fonts.cjk_font()
    assert font.path.is_file()
    face = ImageFont.truetype(str(font.path), size=32, index=font.index)
    # A real CJK glyph has ink; a missing one would be an empty or .notdef box
    # that looks the same for every character.
    assert face.getmask("学").getbbox() is not None
    assert bytes(face.getmask("学")) != bytes(face.getmask("照"))


def test_explicit_path_with_face_index(tmp_path: Path):
    font = fonts.cjk_font()
    chosen = fonts.cjk_font(f"{font.path}#2")
    assert chosen == fonts.FontFile(font.path, 2)
    assert str(chosen).endswith("#2")
    assert fonts.parse_spec("/x/y.ttf") == fonts.FontFile(Path("/x/y.ttf"), 0)


def test_missing_explicit_font_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with pytest.raises(fonts.FontNotFound, match="named in the config does not exist"):
        fonts.cjk_font(tmp_path / "nope.ttc")
    monkeypatch.setenv(fonts.ENV_FONT, str(tmp_path / "nope.ttc"))
    with pytest.raises(fonts.FontNotFound, match="KIOSK_CJK_FONT"):
        fonts.cjk_font()


def test_no_font_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(fonts.ENV_FONT, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", (fonts.FontFile(tmp_path / "gone.ttc"),))
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match either
    with pytest.raises(fonts.FontNotFound, match="apt-get install fonts-wqy-zenhei"):
        fonts.cjk_font()


def test_fontconfig_fallback_finds_a_chinese_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import shutil

    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig not installed")
    monkeypatch.delenv(fonts.ENV_FONT, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", (fonts.FontFile(tmp_path / "gone.ttc"),))
    font = fonts.cjk_font()
    assert font.path.is_file()
    assert ImageFont.truetype(str(font.path), 24, index=font.index).getmask("学").getbbox()
