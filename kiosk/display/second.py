"""The crew screen on a second display (Pi 4/5 have two HDMI outputs).

pygame's classic display API has one window; SDL2's window API (through
``pygame._sdl2.video``) opens a second one, placed on the second display
and made desktop-fullscreen there. Untested without two screens: any
failure leaves the station on one screen with the crew key toggling views.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# SDL_WINDOWPOS_CENTERED_DISPLAY(n): SDL's "centred on display n" position.
_CENTERED_ON = 0x2FFF0000


class SecondScreen:
    def __init__(self, pygame: Any, display: int = 1, size: tuple[int, int] = (1280, 720)) -> None:
        from pygame._sdl2 import video

        self._video = video
        position = _CENTERED_ON | display
        self.window = video.Window("kiosk crew", size=size, position=(position, position))
        self.window.set_fullscreen(True)
        self.renderer = video.Renderer(self.window)
        self.surface = pygame.Surface(self.window.size)

    def present(self) -> None:
        texture = self._video.Texture.from_surface(self.renderer, self.surface)
        self.renderer.clear()
        texture.draw()
        self.renderer.present()

    def close(self) -> None:
        self.window.destroy()


def open_second_screen(pygame: Any, headless: bool) -> SecondScreen | None:
    if headless:
        return None
    try:
        if pygame.display.get_num_displays() < 2:
            return None
        return SecondScreen(pygame, 1)
    except Exception as exc:  # SDL without multi-window support, kmsdrm quirks ...
        log.warning(
            "crew screen on the second display failed (%s); the crew key toggles screens", exc
        )
        return None
