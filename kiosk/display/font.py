"""The CJK font for the screens, found by path, with a fallback.

One place for the lookup so a shared ``kiosk/fonts.py`` can replace it
later. install.sh installs Debian's fonts-wqy-zenhei; other common CJK fonts
are tried next, then fontconfig, and as a last resort pygame's built-in font
(Latin only: Chinese then draws as boxes, and :func:`find_cjk_font` logs it).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei (install.sh)
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


@lru_cache(maxsize=4)
def find_cjk_font(configured: str = "") -> Path | None:
    """The first CJK font that exists: the configured path, the known paths, fontconfig."""
    for candidate in (configured, *CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", "sans:lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and Path(out).is_file() and Path(out).suffix.lower() in (".ttc", ".ttf", ".otf"):
            return Path(out)
    log.warning("no CJK font found: Chinese text will show as boxes; run install.sh")
    return None


class Fonts:
    """pygame fonts by size, and a cache of rendered text (CJK rendering is slow)."""

    def __init__(self, configured: str = "") -> None:
        import pygame

        if not pygame.font.get_init():
            pygame.font.init()
        self._pygame = pygame
        self.path = find_cjk_font(configured)
        self._fonts: dict[int, Any] = {}
        self._rendered: dict[tuple[str, int, tuple[int, ...], tuple[int, ...] | None], Any] = {}

    def font(self, size: int) -> Any:
        if size not in self._fonts:
            path = str(self.path) if self.path else None
            self._fonts[size] = self._pygame.font.Font(path, size)
        return self._fonts[size]

    def render(
        self,
        text: str,
        size: int,
        colour: tuple[int, ...],
        background: tuple[int, ...] | None = None,
    ) -> Any:
        key = (text, size, colour, background)
        surface = self._rendered.get(key)
        if surface is None:
            if len(self._rendered) > 512:
                self._rendered.clear()
            surface = self.font(size).render(text, True, colour, background)
            self._rendered[key] = surface
        return surface
