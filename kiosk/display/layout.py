"""Sizes on the screens, from the screen's pixels: readable from 1.5 m on every screen.

Why a rule and not fixed sizes: the kiosk fills whatever screen it has (the
BOM's 10.1" 1280 x 800, the 7" 800 x 480, a 1920 x 1080 monitor). The crew
reads the queue screen from where they stand, about 1.5 m away. The smallest
text is held to 12 arc minutes (2.4 times a 20/20 letter; 5.2 mm at 1.5 m).
On the 7" screen (480 px over 86 mm, 5.6 px/mm) that is 29 px, which is also
the floor on any screen; taller screens scale with their height (4.5 %), which
keeps the text at 6 mm or more on a 10.1" 1280 x 800 and on 15-24" monitors.

Pure: no pygame, so the sizes and the paging are unit tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

READING_DISTANCE_M = 1.5
SMALLEST_ARCMIN = 12.0
# The 7" official Raspberry Pi touch display: 800 x 480 px over 154 x 86 mm.
SEVEN_INCH_PX_PER_MM = 480 / 86.4
SMALLEST_SHARE = 0.045  # of the screen height, on screens taller than 7"


def smallest_mm() -> float:
    """The smallest text's height at the reading distance, millimetres."""
    return 1000 * READING_DISTANCE_M * math.tan(math.radians(SMALLEST_ARCMIN / 60))


MIN_TEXT_PX = math.ceil(smallest_mm() * SEVEN_INCH_PX_PER_MM)


@dataclass(frozen=True)
class Sizes:
    """Text sizes (pixels) for one screen."""

    small: int  # key help, table, every line of the crew screen
    big: int  # titles
    line: int  # one line's advance
    margin: int

    @classmethod
    def of(cls, size: tuple[int, int]) -> Sizes:
        _, h = size
        small = max(MIN_TEXT_PX, round(h * SMALLEST_SHARE))
        return cls(
            small=small, big=round(small * 1.3), line=round(small * 1.3), margin=max(8, h // 60)
        )


def wrap(
    parts: Sequence[str], width: float, measure: Callable[[str], float], joiner: str = " · "
) -> list[str]:
    """Join ``parts`` into lines no wider than ``width`` (a part wider than the
    line gets a line of its own, cut by characters)."""
    lines: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{joiner}{part}" if current else part
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while measure(part) > width and len(part) > 1:
            cut = len(part)
            while cut > 1 and measure(part[:cut]) > width:
                cut -= 1
            lines.append(part[:cut])
            part = part[cut:]
        current = part
    if current:
        lines.append(current)
    return lines


def page_of(count: int, per_page: int, now: float, seconds: float = 6.0) -> tuple[int, int]:
    """(page shown, pages) for ``count`` rows: the pages turn every ``seconds``."""
    per_page = max(1, per_page)
    pages = max(1, math.ceil(count / per_page))
    return int(now // seconds) % pages, pages


def window(count: int, per_page: int, cursor: int) -> int:
    """First row shown so that ``cursor`` is on screen (the chooser's list)."""
    per_page = max(1, per_page)
    return (cursor // per_page) * per_page if count > per_page else 0
