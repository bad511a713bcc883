"""Where the CJK font is: one lookup for the proof sheets and the pygame screens.

Why a module of its own: the PDF proofs (fpdf2) and the station's screens
(pygame) both draw Chinese text and must agree on the font, and a missing font
must be a clear error ("install fonts-wqy-zenhei"), not boxes on a printout.

Order of the search, first hit wins:

1. an explicit path (a config setting or ``KIOSK_CJK_FONT``), written
   ``/path/font.ttc`` or ``/path/font.ttc#2`` for face 2 of a collection;
2. the fonts Debian ships in known places (:data:`CANDIDATES`), starting with
   ``fonts-wqy-zenhei`` which ``install.sh`` installs;
3. fontconfig (``fc-match :lang=zh-cn``), for a machine with some other CJK font.

Only TrueType-outline fonts are listed: fpdf2 embeds and subsets those
reliably (a CFF-based ``.otf`` such as Noto Sans CJK is left to fontconfig).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_FONT = "KIOSK_CJK_FONT"


@dataclass(frozen=True, slots=True)
class FontFile:
    """A font file and the face inside it (``index`` > 0 only for .ttc collections)."""

    path: Path
    index: int = 0

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)


# Debian package -> file. WenQuanYi Zen Hei face 0 is the proportional
# "WenQuanYi Zen Hei" (1 is "Sharp", bitmaps at small sizes; 2 is "Mono").
CANDIDATES: tuple[FontFile, ...] = (
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),  # fonts-wqy-zenhei
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),  # fonts-wqy-microhei
    FontFile(
        Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0
    ),  # fonts-droid-fallback
    FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),  # fonts-arphic-uming
)

_FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")


class FontNotFound(RuntimeError):
    """No usable CJK font on this machine; the message says how to install one."""


def parse_spec(spec: str | Path) -> FontFile:
    """``/path/font.ttc#2`` -> FontFile(path, 2); a plain path is face 0."""
    text = str(spec).strip()
    path, sep, index = text.rpartition("#")
    if sep and index.isdigit():
        return FontFile(Path(path).expanduser(), int(index))
    return FontFile(Path(text).expanduser(), 0)


def cjk_font(preferred: str | Path | None = None) -> FontFile:
    """The CJK font to use. Raises :class:`FontNotFound` with the fix."""
    explicit = preferred or os.environ.get(ENV_FONT)
    if explicit:
        font = parse_spec(explicit)
        if not font.path.is_file():
            source = "the config" if preferred else ENV_FONT
            raise FontNotFound(
                f"the CJK font {font.path} named in {source} does not exist; "
                "fix the path or remove the setting to use the installed font"
            )
        return font
    for font in CANDIDATES:
        if font.path.is_file():
            return font
    found = _from_fontconfig()
    if found is not None:
        return found
    raise FontNotFound(
        "no Chinese (CJK) font found; install one with "
        "`sudo apt-get install fonts-wqy-zenhei` (install.sh does this), "
        f"or set {ENV_FONT}=/path/to/font.ttf"
    )


def _from_fontconfig() -> FontFile | None:
    """Ask fontconfig for a font that covers Simplified Chinese."""
    answer = _run(["fc-match", "--format=%{file}#%{index}", ":lang=zh-cn"])
    if not answer:
        return None
    font = parse_spec(answer)
    # fc-match always answers with *some* font; only trust one that claims Chinese.
    if not font.path.is_file() or font.path.suffix.lower() not in _FONT_SUFFIXES:
        return None
    languages = _run(["fc-query", "--format=%{lang}", str(font.path)]) or ""
    return font if "zh-cn" in languages else None


def _run(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def missing_characters(font: FontFile, texts: Iterable[str]) -> set[str]:
    """Characters of ``texts`` the font has no glyph for (a rare name character,
    e.g. 𠮷 outside the font's range, would print as a gap)."""
    wanted = {ch for text in texts for ch in text if not ch.isspace()}
    if not wanted:
        return set()
    from fontTools.ttLib import TTFont

    with TTFont(str(font.path), fontNumber=font.index, lazy=True) as face:
        cmap = face.getBestCmap() or {}
    return {ch for ch in wanted if ord(ch) not in cmap}
