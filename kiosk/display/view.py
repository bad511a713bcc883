"""What a screen draws: the station's state plus what the app holds for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.progress import Progress
from kiosk.station import State

# High contrast, readable from 1.5 m.
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (40, 200, 90)
RED = (230, 60, 50)
AMBER = (250, 190, 40)
GREY = (150, 150, 150)
PANEL = (20, 24, 32)
HINT_BAND = (0, 0, 0)


@dataclass
class View:
    state: State
    now: float
    frame: np.ndarray | None = None  # latest preview, RGB, not mirrored
    guide: tuple[float, float, float, float] | None = None  # head oval in frame pixels
    photo: Any = None  # pygame Surface of the still / earlier photo being shown
    progress: Progress | None = None
    thumbnails: dict[Path, Any] = field(default_factory=dict)  # path -> Surface
    language: str = "zh"
    keys: dict[str, str] = field(default_factory=dict)  # action -> key name shown
    camera_ok: bool = True
    fps: float = 0.0
    touch: bool = False  # the crew screen is where taps arrive: draw its buttons


def fit(src: tuple[int, int], dst: tuple[int, int], cover: bool) -> tuple[float, int, int]:
    """Scale and offset that fit (or cover) ``src`` inside ``dst``, centred."""
    sw, sh = src
    dw, dh = dst
    scale = max(dw / sw, dh / sh) if cover else min(dw / sw, dh / sh)
    return scale, round((dw - sw * scale) / 2), round((dh - sh * scale) / 2)
