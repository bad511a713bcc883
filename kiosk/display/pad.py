"""Where the touch buttons are drawn on the crew screen, and which one a tap is on.

Why one module: the session chooser and the two crew PIN screens (the first
start's new PIN, the PIN asked to leave) show the same digit pad
(kiosk/pad.py) in the same right-hand column, each button at least
:data:`BUTTON_MM` on the 7" screen; the geometry that draws a button is the
geometry that maps a tap back to it, so the two cannot drift apart. During a
session the crew screen has a row of buttons along its bottom instead (the
crew keys a touch-only crew needs, kiosk/station.py ``crew_actions``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pygame

from kiosk import pad
from kiosk.display.font import Fonts
from kiosk.display.layout import SEVEN_INCH_PX_PER_MM, Sizes
from kiosk.display.texts import crew_text
from kiosk.display.view import GREEN, WHITE

BUTTON = (45, 52, 66)
ASKING = (150, 60, 30)  # a button that asks to be tapped again (结束 asked once)
BUTTON_MM = 9.0  # a fingertip, with room to spare (touch guidelines ask 7-10 mm)
PAD_COLUMNS = 3
PAD_SHARE = 0.28  # of the screen width, for the buttons' column

Box = tuple[int, int, int, int]  # x, y, width, height
Buttons = list[tuple[str, Box]]  # each button's name and where it is drawn

# A button's words (catalogue keys under ``crew.``); digits are drawn as they
# are, a crew key's button (the crew screen's row) says ``crew.act_<action>``.
BUTTON_TEXT = {
    pad.DELETE: "pad_delete",
    pad.ACCEPT: "pad_accept",
    pad.BACK: "pad_back",
}


def heading_top(sizes: Sizes) -> int:
    """Under the crew screen's title line."""
    return sizes.margin + round(sizes.big * 1.3)


def pad_top(sizes: Sizes) -> int:
    """Where the buttons start: under the title and one heading line."""
    return heading_top(sizes) + round(sizes.small * 1.3) + sizes.margin


def button_side(sizes: Sizes) -> int:
    """A button's height: ``BUTTON_MM`` on the 7" screen, larger on larger ones."""
    return max(math.ceil(BUTTON_MM * SEVEN_INCH_PX_PER_MM), round(sizes.small * 1.7))


def pad_width(size: tuple[int, int]) -> int:
    """The buttons' column at the right."""
    sizes = Sizes.of(size)
    gap = sizes.margin
    return max(
        PAD_COLUMNS * button_side(sizes) + (PAD_COLUMNS - 1) * gap, round(size[0] * PAD_SHARE)
    )


def pad_left(size: tuple[int, int]) -> int:
    """Where the buttons' column starts; texts beside it end a margin before."""
    return size[0] - Sizes.of(size).margin - pad_width(size)


def column_boxes(size: tuple[int, int], names: Sequence[str]) -> Buttons:
    """The buttons ``names`` in the right-hand column: the digit pad three a row
    (when there are digits), then each other button alone across the column."""
    sizes = Sizes.of(size)
    gap = sizes.margin
    side = button_side(sizes)
    width = pad_width(size)
    left = pad_left(size)
    cell = (width - (PAD_COLUMNS - 1) * gap) // PAD_COLUMNS
    y = pad_top(sizes)
    boxes: Buttons = []
    typing = any(pad.is_digit(n) for n in names)
    keys = [n for n in names if n in pad.PAD] if typing else []
    for i, name in enumerate(keys):
        row, column = divmod(i, PAD_COLUMNS)
        boxes.append((name, (left + column * (cell + gap), y + row * (side + gap), cell, side)))
    if keys:
        y += math.ceil(len(keys) / PAD_COLUMNS) * (side + gap)
    for name in names:
        if name not in keys:
            boxes.append((name, (left, y, width, side)))
            y += side + gap
    return boxes


def row_height(sizes: Sizes) -> int:
    """What a row of buttons at the bottom of the screen takes, its margin included."""
    return button_side(sizes) + sizes.margin


def row_boxes(size: tuple[int, int], names: Sequence[str]) -> Buttons:
    """The buttons ``names`` side by side along the bottom of the screen, equal widths."""
    if not names:
        return []
    sizes = Sizes.of(size)
    gap = sizes.margin
    side = button_side(sizes)
    left = 2 * sizes.margin
    each = (size[0] - 2 * left - (len(names) - 1) * gap) // len(names)
    y = size[1] - sizes.margin - side
    return [(name, (left + i * (each + gap), y, each, side)) for i, name in enumerate(names)]


def hit(boxes: Buttons, x: float, y: float) -> str | None:
    """The button under a tap at ``x``, ``y`` (None: not on a button)."""
    for name, (bx, by, bw, bh) in boxes:
        if bx <= x < bx + bw and by <= y < by + bh:
            return name
    return None


def label(name: str, language: str, texts: Mapping[str, str] | None = None) -> str:
    """A button's words; ``texts``: a catalogue key for a button that says
    something else now (结束 asked once: tap again to confirm)."""
    if pad.is_digit(name):
        return name
    key = (texts or {}).get(name) or BUTTON_TEXT.get(name, f"act_{name}")
    return crew_text(language, key)


def draw_buttons(
    surface: pygame.Surface,
    boxes: Buttons,
    fonts: Fonts,
    sizes: Sizes,
    language: str,
    texts: Mapping[str, str] | None = None,
) -> None:
    for name, (bx, by, bw, bh) in boxes:
        asking = name in (texts or {})
        pygame.draw.rect(
            surface, ASKING if asking else BUTTON, (bx, by, bw, bh), border_radius=sizes.margin
        )
        colour = GREEN if name == pad.ACCEPT else WHITE  # a key's "accept" too
        text_size = sizes.big if pad.is_digit(name) else sizes.small
        rendered = fonts.render(label(name, language, texts), text_size, colour)
        surface.blit(
            rendered,
            (bx + (bw - rendered.get_width()) // 2, by + (bh - rendered.get_height()) // 2),
        )
