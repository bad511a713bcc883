"""The session chooser on the crew screen: one list per step, the cursor, the counts.

Drawn in place of the crew screen's table while ``state.chooser`` is set; what
the lines are comes from kiosk/chooser.py. :func:`line_at` maps a tap (touch
screen or mouse) to the line under it, :func:`button_at` to a touch button
(the digit pad, delete, accept, back: a crew without a keyboard), with the
same geometry the drawing uses. The buttons keep to the right-hand column,
each at least :data:`BUTTON_MM` on the 7" screen; the list and the key help
take the rest of the width.
"""

from __future__ import annotations

import math
from typing import Any

import pygame

from kiosk import chooser as choosing
from kiosk.display.font import Fonts
from kiosk.display.layout import SEVEN_INCH_PX_PER_MM, Sizes, window, wrap
from kiosk.display.texts import crew_text
from kiosk.display.view import AMBER, GREEN, GREY, RED, WHITE

CURSOR = (40, 70, 120)
BUTTON = (45, 52, 66)
BUTTON_MM = 9.0  # a fingertip, with room to spare (touch guidelines ask 7-10 mm)
PAD_COLUMNS = 3
PAD_SHARE = 0.28  # of the screen width, for the buttons' column

Box = tuple[int, int, int, int]  # x, y, width, height


# Lines kept at the bottom: what was typed or refused, and two lines of keys.
BOTTOM_LINES = 3


def heading_top(sizes: Sizes) -> int:
    """Under the crew screen's title line."""
    return sizes.margin + round(sizes.big * 1.3)


def list_top(sizes: Sizes) -> int:
    """Where the list starts: under the title and the step's heading."""
    return heading_top(sizes) + round(sizes.small * 1.3) + sizes.margin


def row_height(sizes: Sizes) -> int:
    """A list line: the text and room around it for a finger (≥ 7 mm on the 7" screen)."""
    return round(sizes.small * 1.45)


def rows_per_page(size: tuple[int, int], sizes: Sizes) -> int:
    """List lines that fit above the bottom lines."""
    bottom = BOTTOM_LINES * round(sizes.small * 1.3) + sizes.margin
    return max(1, (size[1] - list_top(sizes) - bottom) // row_height(sizes))


def button_side(sizes: Sizes) -> int:
    """A button's height: ``BUTTON_MM`` on the 7" screen, larger on larger ones."""
    return max(math.ceil(BUTTON_MM * SEVEN_INCH_PX_PER_MM), round(sizes.small * 1.7))


def pad_width(size: tuple[int, int]) -> int:
    """The buttons' column at the right, on every step (each step has back)."""
    sizes = Sizes.of(size)
    gap = sizes.margin
    return max(
        PAD_COLUMNS * button_side(sizes) + (PAD_COLUMNS - 1) * gap, round(size[0] * PAD_SHARE)
    )


def pad_left(size: tuple[int, int]) -> int:
    """Where the buttons' column starts; the list and the texts end a margin before."""
    return size[0] - Sizes.of(size).margin - pad_width(size)


def button_boxes(size: tuple[int, int], chooser: choosing.Chooser) -> list[tuple[str, Box]]:
    """Each touch button of this step and where it is drawn: the digits three a
    row, then delete, 0 and accept; accept and back alone span the column."""
    sizes = Sizes.of(size)
    gap = sizes.margin
    side = button_side(sizes)
    width = pad_width(size)
    left = pad_left(size)
    cell = (width - (PAD_COLUMNS - 1) * gap) // PAD_COLUMNS
    y = list_top(sizes)
    boxes: list[tuple[str, Box]] = []
    names = choosing.buttons(chooser)
    typing = any(n.isdigit() for n in names)
    pad = [n for n in names if n in choosing.PAD] if typing else []
    for i, name in enumerate(pad):
        row, column = divmod(i, PAD_COLUMNS)
        boxes.append((name, (left + column * (cell + gap), y + row * (side + gap), cell, side)))
    if pad:
        y += math.ceil(len(pad) / PAD_COLUMNS) * (side + gap)
    for name in names:
        if name not in pad:
            boxes.append((name, (left, y, width, side)))
            y += side + gap
    return boxes


def button_at(size: tuple[int, int], chooser: choosing.Chooser, x: float, y: float) -> str | None:
    """The touch button under a tap (None: not on a button)."""
    for name, (bx, by, bw, bh) in button_boxes(size, chooser):
        if bx <= x < bx + bw and by <= y < by + bh:
            return name
    return None


def line_at(
    size: tuple[int, int], chooser: choosing.Chooser, y: float, x: float = 0.0
) -> int | None:
    """The option index under a tap at ``x``, ``y`` (None: not on a line)."""
    sizes = Sizes.of(size)
    row = row_height(sizes)
    top = list_top(sizes)
    if y < top or x >= pad_left(size) - sizes.margin:
        return None
    count = len(choosing.options(chooser))
    per_page = rows_per_page(size, sizes)
    index = window(count, per_page, chooser.cursor) + int((y - top) // row)
    on_page = index < window(count, per_page, chooser.cursor) + per_page
    return index if index < count and on_page else None


def option_label(option: choosing.Option, level: str, language: str) -> str:
    if option.value == choosing.ALL and level in ("category", "department"):
        return crew_text(language, "all_categories" if level == "category" else "all_departments")
    return option.label


def draw_chooser(
    surface: pygame.Surface,
    chooser: choosing.Chooser,
    fonts: Fonts,
    sizes: Sizes,
    language: str,
    keys: dict[str, str],
) -> None:
    w, h = surface.get_size()
    x = sizes.margin * 2
    width = pad_left((w, h)) - 2 * sizes.margin - x  # clear of the buttons
    small = sizes.small
    step = round(small * 1.3)

    def text(line: str, y: float, colour: tuple[int, int, int] = WHITE) -> None:
        surface.blit(fonts.render(line, small, colour), (x, round(y)))

    y = float(heading_top(sizes))
    if chooser.level == "school":
        heading = crew_text(language, "chooser_school")
    elif chooser.level == "category":
        heading = crew_text(language, "chooser_category", school=_school(chooser))
    elif chooser.level == "department":
        category = chooser.category or crew_text(language, "all_categories")
        heading = crew_text(
            language, "chooser_department", school=_school(chooser), category=category
        )
    else:
        heading = crew_text(language, "chooser_title")
    text(heading, y, AMBER)
    status_y = h - sizes.margin - BOTTOM_LINES * step
    if chooser.refused:
        text(crew_text(language, chooser.refused), status_y, RED)
    elif chooser.typed:
        text(crew_text(language, "chooser_typed", typed=chooser.typed), status_y, WHITE)

    names = {"accept": keys.get("accept", "return"), "quit": keys.get("quit", "escape")}
    if chooser.level == "code":
        question = crew_text(language, "chooser_code", school=_school(chooser))
        expected = choosing.expected_students(chooser)
        headcount = (
            crew_text(language, "chooser_expected", expected=expected)
            if expected is not None
            else crew_text(language, "chooser_expected_unknown")
        )
        y = list_top(sizes)
        measure_white: Any = lambda t: fonts.render(t, small, WHITE).get_width()  # noqa: E731
        for line in wrap([question], width, measure_white):
            text(line, y, AMBER)
            y += step
        y += step * 0.5
        colour = WHITE if expected is not None else GREY
        for line in wrap([headcount], width, measure_white):
            text(line, y, colour)
            y += step
        help_text = crew_text(language, "chooser_code_keys", **names)
    else:
        lines = choosing.options(chooser)
        per_page = rows_per_page((w, h), sizes)
        first = window(len(lines), per_page, chooser.cursor)
        row = row_height(sizes)
        y = list_top(sizes)
        for index in range(first, min(len(lines), first + per_page)):
            option = lines[index]
            if index == chooser.cursor:
                pygame.draw.rect(surface, CURSOR, (x - 6, y - row * 0.15, width + 12, row - 2))
            label = _cut(_line(chooser, option, language), width, fonts, small)
            text(label, y, WHITE if option.students or option.collection else GREY)
            y += row
        help_text = crew_text(language, "chooser_keys", **names)
    measure: Any = lambda t: fonts.render(t, small, GREY).get_width()  # noqa: E731
    help_lines = wrap(help_text.split(" · "), width, measure)[: BOTTOM_LINES - 1]
    y = h - sizes.margin - len(help_lines) * step
    for line in help_lines:
        text(line, y, GREY)
        y += step
    _buttons(surface, chooser, fonts, sizes, language)


BUTTON_TEXT = {
    choosing.DELETE: "pad_delete",
    choosing.ACCEPT: "pad_accept",
    choosing.BACK: "pad_back",
}


def _buttons(
    surface: pygame.Surface,
    chooser: choosing.Chooser,
    fonts: Fonts,
    sizes: Sizes,
    language: str,
) -> None:
    for name, (bx, by, bw, bh) in button_boxes(surface.get_size(), chooser):
        pygame.draw.rect(surface, BUTTON, (bx, by, bw, bh), border_radius=sizes.margin)
        label = name if name.isdigit() else crew_text(language, BUTTON_TEXT[name])
        colour = GREEN if name == choosing.ACCEPT else WHITE
        size = sizes.big if name.isdigit() else sizes.small
        rendered = fonts.render(label, size, colour)
        surface.blit(
            rendered,
            (bx + (bw - rendered.get_width()) // 2, by + (bh - rendered.get_height()) // 2),
        )


def _cut(line: str, room: float, fonts: Fonts, size: int) -> str:
    """The line, cut with "…" where it would run under the buttons."""
    if fonts.render(line, size, WHITE).get_width() <= room:
        return line
    while len(line) > 1 and fonts.render(line + "…", size, WHITE).get_width() > room:
        line = line[:-1]
    return line + "…"


def _line(chooser: choosing.Chooser, option: choosing.Option, language: str) -> str:
    label = option_label(option, chooser.level, language)
    if not option.collection:
        return crew_text(language, "chooser_line", label=label, count=option.students)
    plan = choosing.plan_of(chooser, option.value)
    if plan is None or plan.expected is None:
        return crew_text(language, "chooser_line_codes_unknown", label=label)
    return crew_text(language, "chooser_line_codes", label=label, expected=plan.expected)


def _school(chooser: choosing.Chooser) -> str:
    names = [s.school_name for s in chooser.scopes if s.school_code == chooser.school]
    plan = choosing.plan_of(chooser, chooser.school)
    name = names[0] if names else plan.school_name if plan is not None else ""
    return f"{chooser.school} {name}".strip()
