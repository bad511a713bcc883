"""pygame fonts for the screens, from the project's one CJK font lookup (kiosk/fonts.py).

Without any CJK font the screens still run on pygame's built-in font
(Latin only: Chinese then draws as boxes), with a warning in the log.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from kiosk.fonts import FontNotFound, cjk_font

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def find_cjk_font(configured: str = "") -> Path | None:
    """The CJK font file (face 0), or None when the machine has none."""
    try:
        return cjk_font(configured or None).path
    except FontNotFound as exc:
        log.warning("%s; Chinese text will show as boxes", exc)
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
