"""The crew's queue screen: every 院系 (paged), totals, rate and time left, refusals, health.

Language per ``station.crew_language`` (texts in kiosk/lang); drawn from a
:class:`View` whose ``progress`` snapshot the records thread refreshes. Sizes
come from kiosk/display/layout.py, so the screen fills 800 x 480 as well as
1920 x 1080 and its smallest text stays readable from 1.5 m. Nothing is
shrunk to fit: long lines wrap, long tables page.

While the crew chooses a session (``state.chooser``), the chooser takes the
table's place (kiosk/display/chooser.py); while a crew PIN is asked (the
first start's new PIN, the PIN to leave), the PIN screen with its digit pad
does (kiosk/display/pad.py). :func:`crew_buttons` says which touch buttons
are on the crew screen now and where, for the app to map a tap.
"""

from __future__ import annotations

from typing import Any

import pygame

from kiosk import pad
from kiosk import station as st
from kiosk.capture.verdict import Reason
from kiosk.display.chooser import button_boxes, draw_chooser
from kiosk.display.font import Fonts
from kiosk.display.layout import Sizes, page_of, wrap
from kiosk.display.pad import (
    Buttons,
    column_boxes,
    draw_buttons,
    heading_top,
    pad_left,
    row_boxes,
    row_height,
)
from kiosk.display.texts import CREW_ONLY_REASONS, crew_text, device_name, phase_name
from kiosk.display.view import AMBER, GREEN, GREY, PANEL, RED, WHITE, View
from kiosk.lang import say
from kiosk.progress import DepartmentProgress, Progress, human_bytes

NOTICE_KEYS = {
    "unknown",
    "ambiguous",
    "wrong_session",
    "already_photographed",
    "crew_decision",
    "save_failed",
    "camera_problem",
    "failsafe",
}
# The table's number columns (header keys), after the 院系 name.
COLUMNS = ("done", "remaining", "absent", "retakes", "refused", "percent")
PAGE_SECONDS = 6.0
THUMBNAILS_FROM_WIDTH = 1100  # narrower screens give the table the whole width


class Flow:
    """Lines from the top, each as tall as its text: the crew screen's layout."""

    def __init__(self, surface: pygame.Surface, fonts: Fonts, sizes: Sizes, width: int) -> None:
        self.surface = surface
        self.fonts = fonts
        self.sizes = sizes
        self.x = sizes.margin * 2
        self.width = width - 2 * self.x
        self.y = sizes.margin

    def measure(self, size: int) -> Any:
        return lambda text: self.fonts.render(text, size, WHITE).get_width()

    def put(self, text: str, x: float, colour: tuple[int, int, int], size: int) -> int:
        rendered = self.fonts.render(text, size, colour)
        self.surface.blit(rendered, (round(self.x + x), round(self.y)))
        return int(rendered.get_width())

    def line(
        self,
        text: str,
        colour: tuple[int, int, int] = WHITE,
        size: int | None = None,
        parts: list[str] | None = None,
        band: tuple[int, int, int] | None = None,
    ) -> None:
        """One line, or as many as the text needs (wrapped at " · " or by characters)."""
        size = size or self.sizes.small
        lines = wrap(parts or [text], self.width, self.measure(size))
        for text_line in lines:
            if band is not None:
                pygame.draw.rect(
                    self.surface,
                    band,
                    (self.x - 4, self.y - 2, self.width + 8, round(size * 1.25)),
                )
            self.put(text_line, 0, colour, size)
            self.y += round(size * 1.3)

    def room(self, bottom_lines: int) -> int:
        """Lines of the small size left above ``bottom_lines`` reserved at the bottom."""
        h = self.surface.get_height()
        left = h - self.sizes.margin - bottom_lines * round(self.sizes.small * 1.3) - self.y
        return max(0, left // round(self.sizes.small * 1.3))


def draw_crew(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    surface.fill(PANEL)
    sizes = Sizes.of((w, h))
    lang = view.language
    state = view.state
    keys = view.keys
    thumbs = w >= THUMBNAILS_FROM_WIDTH and view.progress is not None and view.progress.recent
    main_width = round(w * 0.78) if thumbs else w
    flow = Flow(surface, fonts, sizes, main_width)

    # Title: the session, and the station's state in words
    if state.session is None and state.new_pin is not None:
        flow.line(crew_text(lang, "title"), AMBER, sizes.big)  # no session before the PIN
    elif state.session is None:
        title = crew_text(lang, "no_session", session=keys.get("session", "o"))
        flow.line(title, AMBER, sizes.big)
    else:
        s = state.session
        session_text = crew_text(
            lang,
            "session",
            school=s.school_name or s.school_code,
            category=s.category or crew_text(lang, "all_categories"),
            department=s.department or crew_text(lang, "all_departments"),
        )
        flow.line(f"{crew_text(lang, 'title')} · {session_text}", WHITE, sizes.big)
    if state.new_pin is not None:
        _new_pin(flow, state.new_pin, lang, keys)
        return
    if state.pin_entry is not None:
        lines = [(crew_text(lang, "pin"), AMBER)]
        if state.pin_wrong:
            lines.append((crew_text(lang, "pin_wrong"), RED))
        _pin_screen(flow, lines, state.pin_entry)
        _pin_help(flow, crew_text(lang, "pin_keys", **_key_names(keys)), lang)
        return
    if state.chooser is not None:
        extra = [str(a) for a in st.crew_actions(state)] if view.touch else []
        draw_chooser(surface, state.chooser, fonts, sizes, lang, keys, extra)
        return
    flow.line(f"{crew_text(lang, 'phase')}: {phase_name(lang, state.phase)}", GREY)
    flow.y -= round(sizes.small * 0.15)

    # What the crew must do now (keys named)
    if state.notice is not None and state.notice.code in NOTICE_KEYS:
        detail = dict(state.notice.detail)
        if state.subject is not None:
            detail.setdefault("value", _masked(state.subject.identity.value))
        message = crew_text(lang, state.notice.code, **_key_names(keys), **detail)
        bad = state.notice.code in ("save_failed", "failsafe", "camera_problem")
        flow.line(message, RED if bad else AMBER, band=(60, 40, 10))
    if state.end_asked is not None:
        flow.line(
            crew_text(lang, "end_asked", seconds=f"{st.END_CONFIRM_S:g}"), AMBER, band=(60, 40, 10)
        )
    light = _light_fault(state.reasons)
    if light is not None:
        flow.line(crew_text(lang, "light_fault", reason=say(lang, f"reason.{light}")), AMBER)

    progress = view.progress
    bottom = _bottom_lines(view, flow)
    if progress is not None:
        _table(flow, progress, view, bottom)
        _rate(flow, progress, view)
    if state.refusal is not None:
        r = state.refusal
        reasons = "；".join(say(lang, f"reason.{reason}") for reason in r.reasons)
        text = (
            crew_text(lang, "refusal", name=r.name, reasons=reasons)
            if reasons
            else crew_text(lang, "refusal_error", name=r.name, error=r.error)
        )
        flow.line(text, RED)
    waiting = [_subject_label(s) for s in state.waiting]
    if waiting:
        flow.line(f"{crew_text(lang, 'waiting')}: " + "、".join(waiting))
    _health(flow, view, progress)
    buttons = crew_buttons((w, h), state) if view.touch else []
    bottom_y = h - (row_height(sizes) if buttons else 0)
    _key_help(flow, view, bottom_y)
    if thumbs and progress is not None:
        _thumbnails(surface, view, fonts, sizes, progress, left=main_width, bottom=bottom_y)
    asked = {str(st.Action.SESSION): "act_session_again"} if state.end_asked else {}
    draw_buttons(surface, buttons, fonts, sizes, lang, asked)


def takes_the_screen(state: st.State) -> bool:
    """The crew is asked something (a session, a PIN): on a kiosk with one
    display the crew screen takes it, where the crew's taps arrive."""
    return state.chooser is not None or state.new_pin is not None or state.pin_entry is not None


STUDENT_SCREEN = "crew"  # the crew key's name: back to the student's screen
# The session row's buttons that move the student on: after one, the student
# needs their screen back (framing, the next student). 结束 and 退出 keep the crew's.
STUDENT_ACTIONS = frozenset(
    str(a) for a in (st.Action.ACCEPT, st.Action.RETAKE, st.Action.SKIP, st.Action.SHUTTER)
) | {str(st.Action.WALK_IN)}


def back_to_student(button: str, state: st.State) -> bool:
    """After ``button`` (tapped in ``state``), does a one-display kiosk show the
    student's screen again?"""
    row = not takes_the_screen(state)  # not a chooser's or a PIN pad's button
    return button == STUDENT_SCREEN or (row and button in STUDENT_ACTIONS)


def crew_buttons(size: tuple[int, int], state: st.State) -> Buttons:
    """The touch buttons the crew screen shows now, and where (a tap's target):
    the PIN pad, the chooser's, or during a session the crew keys a touch-only
    crew needs, and the way back to the student's screen."""
    if state.new_pin is not None or state.pin_entry is not None:
        return column_boxes(size, st.PIN_PAD)
    if state.chooser is not None:
        return button_boxes(size, state.chooser, [str(a) for a in st.crew_actions(state)])
    actions = [str(action) for action in st.crew_actions(state)]
    return row_boxes(size, [*actions, STUDENT_SCREEN] if actions else [])


def _new_pin(flow: Flow, entry: Any, lang: str, keys: dict[str, str]) -> None:
    """First start of a real kiosk: the factory PIN is replaced before any session."""
    step = "new_pin_again" if entry.first else "new_pin_first"
    lines = [(crew_text(lang, "new_pin_title"), RED), (crew_text(lang, step), AMBER)]
    _pin_screen(flow, lines, entry.typed)
    if entry.problem:
        flow.line(say(lang, entry.problem), RED)
    _pin_help(flow, crew_text(lang, "new_pin_keys", **_key_names(keys)), lang)


def _pin_screen(flow: Flow, lines: list[tuple[str, tuple[int, int, int]]], typed: str) -> None:
    """A PIN screen's texts left of the digit pad; the digits typed as dots."""
    size = flow.surface.get_size()
    flow.width = pad_left(size) - flow.sizes.margin - flow.x
    flow.y = max(flow.y, heading_top(flow.sizes))
    for text, colour in lines:
        flow.line(text, colour)
    flow.y += flow.sizes.margin
    flow.line(pad.dots(typed) or "_", WHITE, flow.sizes.big)


def _pin_help(flow: Flow, help_text: str, lang: str) -> None:
    """The keys at the bottom, and the pad in the right-hand column."""
    size = flow.surface.get_size()
    small = flow.sizes.small
    lines = wrap(help_text.split(" · "), flow.width, flow.measure(small))
    flow.y = max(flow.y, size[1] - flow.sizes.margin - len(lines) * round(small * 1.3))
    for text in lines:
        flow.line(text, GREY, small)
    draw_buttons(flow.surface, column_boxes(size, st.PIN_PAD), flow.fonts, flow.sizes, lang)


def _bottom_lines(view: View, flow: Flow) -> int:
    """Lines the rows under the table take: rate, refusal, waiting, health, key
    help, and the touch buttons' row when there is one."""
    keys = len(wrap(_help_parts(view), flow.width, flow.measure(flow.sizes.small)))
    sizes = flow.sizes
    touch = view.touch and bool(st.crew_actions(view.state))
    buttons = -(-row_height(sizes) // round(sizes.small * 1.3)) if touch else 0
    return 1 + (view.state.refusal is not None) + bool(view.state.waiting) + 1 + keys + buttons


def _table(flow: Flow, progress: Progress, view: View, bottom: int) -> None:
    """Every 院系, a page at a time, then the 合计 row. The number columns are as
    wide as their header or widest number; the name gets the rest."""
    lang = view.language
    # 采集码: no 院系 list, the one line is the 合计 against the expected headcount
    rows = [] if progress.collection_codes else list(progress.departments)
    if progress.collection_codes:
        known = progress.expected is not None
        line = "total_codes" if known else "total_codes_unknown"
        flow.line(crew_text(lang, line, expected=progress.expected), WHITE if known else AMBER)
    per_page = max(1, flow.room(bottom) - 2)  # the header and the totals row
    page, pages = page_of(len(rows), per_page, view.now, PAGE_SECONDS)
    size = flow.sizes.small
    measure = flow.measure(size)
    headers = [crew_text(lang, key) for key in COLUMNS]
    cells = [_cells(row) for row in rows] + [_cells(progress.totals, progress.headcount_known)]
    gap = size * 0.6
    widths = [
        max(measure(header), *(measure(c[i]) for c in cells)) + gap
        for i, header in enumerate(headers)
    ]
    starts: list[float] = []
    x = float(flow.width)
    for width in reversed(widths):
        x -= width
        starts.insert(0, x)
    name_room = starts[0] - gap
    title = crew_text(lang, "department")
    if pages > 1:
        title += "  " + crew_text(lang, "page", page=page + 1, pages=pages)
    flow.put(_cut(title, name_room, measure), 0, AMBER if pages > 1 else GREY, size)
    for header, start in zip(headers, starts, strict=True):
        flow.put(header, start, GREY, size)
    flow.y += round(size * 1.3)
    shown = rows[page * per_page : (page + 1) * per_page]
    for row, values in zip(shown, cells[:-1][page * per_page : (page + 1) * per_page], strict=True):
        _row(flow, _cut(row.department, name_room, measure), values, starts, WHITE)
    _row(flow, crew_text(lang, "total"), cells[-1], starts, GREEN)


def _cells(row: DepartmentProgress, known: bool = True) -> list[str]:
    """The numbers of a line; with no headcount (采集码, none known) only what
    was counted: what is left and the share done are not known."""
    return [
        str(row.done),
        str(row.remaining) if known else "?",
        str(row.absent),
        str(row.retakes),
        str(row.refused),
        f"{row.percent_done:.0f}%" if known else "—",
    ]


def _cut(text: str, room: float, measure: Any) -> str:
    if measure(text) <= room:
        return text
    while len(text) > 1 and measure(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _row(
    flow: Flow, name: str, values: list[str], starts: list[float], colour: tuple[int, int, int]
) -> None:
    size = flow.sizes.small
    flow.put(name, 0, colour, size)
    for text, start in zip(values, starts, strict=True):
        flow.put(text, start, colour, size)
    flow.y += round(size * 1.3)


def _rate(flow: Flow, progress: Progress, view: View) -> None:
    lang = view.language
    target = int(view.keys.get("_target", "100"))
    hours = progress.hours_left()
    if hours == 0:
        left = crew_text(lang, "all_done")
    elif not progress.headcount_known:
        left = crew_text(lang, "time_left_no_headcount")
    elif hours is None:
        left = crew_text(lang, "time_left_unknown")
    else:
        hh, mm = divmod(round(hours * 60), 60)
        left = (
            crew_text(lang, "time_left", hours=hh, minutes=mm)
            if hh
            else crew_text(lang, "time_left_minutes", minutes=mm)
        )
    rate = crew_text(
        lang, "rate", rate10=progress.per_hour_10, rate60=progress.per_hour_60, target=target
    )
    flow.line("", parts=[rate, left], colour=GREEN if progress.rate >= target else AMBER)


def _health(flow: Flow, view: View, progress: Progress | None) -> None:
    lang = view.language
    parts = []
    for source, status in sorted(view.state.devices.items()):
        # the kind in the crew's words is enough on screen; the log has the path
        parts.append(f"{device_name(lang, source)} {crew_text(lang, status.state)}")
    if progress is not None:
        parts.append(crew_text(lang, "disk", free=human_bytes(progress.disk_free)))
        parts.append(crew_text(lang, "backlog", count=progress.sync_backlog))
    bad = any(status.state != "ok" for status in view.state.devices.values())
    low = progress is not None and progress.disk_free < 2 * 1024**3
    label = crew_text(lang, "devices")
    parts = [f"{label}: {parts[0]}", *parts[1:]] if parts else [label]
    flow.line("", parts=parts, colour=RED if bad or low else GREEN)


def _help_parts(view: View) -> list[str]:
    """The keys, after (on a one-display touch kiosk) how to reach this screen
    from the student's: a long press, a brief tap is the student's. First, so
    the 7" screen, which keeps only the first line above the buttons, says it."""
    parts = crew_text(view.language, "keys", **_key_names(view.keys)).split(" · ")
    if view.touch:
        hold = crew_text(view.language, "hold_help", seconds=view.keys.get("_hold", "?"))
        parts.insert(0, hold)
    return parts


def _key_help(flow: Flow, view: View, bottom: int) -> None:
    """The keys, at the smallest size (never shrunk), on as many lines as they
    need, ending at ``bottom`` (above the touch buttons, which win when the
    screen is short: the 7" one in a 采集码 session, say)."""
    size = flow.sizes.small
    step = round(size * 1.3)
    lines = wrap(_help_parts(view), flow.width, flow.measure(size))
    # the touch buttons come first: help lines that would run under them are left off
    lines = lines[: max(0, (bottom - flow.sizes.margin - flow.y) // step)]
    flow.y = max(flow.y, bottom - flow.sizes.margin - len(lines) * step)
    for text in lines:
        flow.line(text, GREY, size)


def _thumbnails(
    surface: pygame.Surface,
    view: View,
    fonts: Fonts,
    sizes: Sizes,
    progress: Progress,
    left: int,
    bottom: int,
) -> None:
    """The last accepted photos with their 拍摄序号, down the right-hand column
    (above ``bottom``: the touch buttons' row)."""
    w = surface.get_width()
    x = left + sizes.margin
    y = sizes.margin
    column = w - x - sizes.margin
    label = crew_text(view.language, "recent")
    surface.blit(fonts.render(label, sizes.small, GREY), (x, y))
    y += round(sizes.small * 1.3)
    each = (bottom - y - sizes.margin) // max(1, len(progress.recent)) - round(sizes.small * 1.3)
    thumb_h = max(40, min(each, round(column * 4 / 3)))
    for shot in progress.recent:
        if y + thumb_h + sizes.small > bottom:
            break
        thumb = view.thumbnails.get(shot.file)
        if thumb is not None:
            tw = round(thumb.get_width() * thumb_h / thumb.get_height())
            surface.blit(pygame.transform.smoothscale(thumb, (tw, thumb_h)), (x, y))
        else:
            pygame.draw.rect(surface, GREY, (x, y, round(thumb_h * 0.75), thumb_h), 1)
        caption = f"#{shot.seq}  {shot.name}"
        surface.blit(fonts.render(caption, sizes.small, WHITE), (x, y + thumb_h + 2))
        y += thumb_h + round(sizes.small * 1.4)


def _light_fault(reasons: tuple[Reason, ...]) -> Reason | None:
    """A lighting reason the student cannot fix: the crew is told, not the student."""
    return next((r for r in reasons if r in CREW_ONLY_REASONS), None)


def _key_names(keys: dict[str, str]) -> dict[str, Any]:
    names = ("shutter", "accept", "retake", "skip", "walk_in", "session", "crew", "quit")
    return {n: keys.get(n, "?") for n in names}


def _subject_label(subject: Any) -> str:
    if subject.student is not None:
        return subject.student.name
    return _masked(subject.collection_code or subject.identity.value)


def _masked(value: str) -> str:
    """Never more of an ID number or code than the crew needs on screen."""
    if len(value) <= 6:
        return value
    return value[:3] + "…" + value[-4:]
