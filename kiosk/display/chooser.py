"""The session chooser on the crew screen: one list per step, the cursor, the counts.

Drawn in place of the crew screen's table while ``state.chooser`` is set; what
the lines are comes from kiosk/chooser.py. :func:`line_at` maps a tap (touch
screen or mouse) to the line under it, :func:`button_at` to a touch button
(the digit pad, delete, accept, back: a crew without a keyboard), with the
same geometry the drawing uses. The buttons keep to the right-hand column
(kiosk/display/pad.py, shared with the crew PIN screens); the list and the
key help take the rest of the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygame

from kiosk import chooser as choosing
from kiosk.display.font import Fonts
from kiosk.display.layout import Sizes, window, wrap
from kiosk.display.pad import (
    Buttons,
    column_boxes,
    draw_buttons,
    heading_top,
    hit,
    pad_left,
    pad_top,
)
from kiosk.display.texts import crew_text
from kiosk.display.view import AMBER, GREY, RED, WHITE

CURSOR = (40, 70, 120)

# Lines kept at the bottom: what was typed or refused, and two lines of keys.
BOTTOM_LINES = 3


def list_top(sizes: Sizes) -> int:
    """Where the list starts: level with the buttons, under the step's heading."""
    return pad_top(sizes)


def row_height(sizes: Sizes) -> int:
    """A list line: the text and room around it for a finger (≥ 7 mm on the 7" screen)."""
    return round(sizes.small * 1.45)


def rows_per_page(size: tuple[int, int], sizes: Sizes) -> int:
    """List lines that fit above the bottom lines."""
    bottom = BOTTOM_LINES * round(sizes.small * 1.3) + sizes.margin
    return max(1, (size[1] - list_top(sizes) - bottom) // row_height(sizes))


def button_boxes(
    size: tuple[int, int], chooser: choosing.Chooser, extra: Sequence[str] = ()
) -> Buttons:
    """Each touch button of this step and where it is drawn: the digit pad where
    a 院校代码 is typed; accept and back alone span the column, then ``extra``
    (the station's 退出: a touch-only crew leaves from the chooser too)."""
    return column_boxes(size, (*choosing.buttons(chooser), *extra))


def button_at(
    size: tuple[int, int], chooser: choosing.Chooser, x: float, y: float, extra: Sequence[str] = ()
) -> str | None:
    """The touch button under a tap (None: not on a button)."""
    return hit(button_boxes(size, chooser, extra), x, y)


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
    extra: Sequence[str] = (),
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
    if extra:  # a touch kiosk: how the crew gets back here once the session runs
        hold = crew_text(language, "hold_help", seconds=keys.get("_hold", "?"))
        help_text = f"{hold} · {help_text}"
    help_lines = wrap(help_text.split(" · "), width, measure)[: BOTTOM_LINES - 1]
    y = h - sizes.margin - len(help_lines) * step
    for line in help_lines:
        text(line, y, GREY)
        y += step
    draw_buttons(surface, button_boxes((w, h), chooser, extra), fonts, sizes, language)


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
