"""The crew's queue screen: progress per department, rate, last shots, waiting list, health.

Language per ``station.crew_language``; drawn from a :class:`View` whose
``progress`` snapshot the records thread refreshes.
"""

from __future__ import annotations

from typing import Any

import pygame

from kiosk.display.font import Fonts
from kiosk.display.texts import crew_text, device_name, phase_name
from kiosk.display.view import AMBER, GREEN, GREY, PANEL, RED, WHITE, View
from kiosk.progress import human_bytes

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


def draw_crew(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    surface.fill(PANEL)
    lang = view.language
    state = view.state
    keys = view.keys
    line = max(14, h // 30)
    big = max(18, h // 18)

    def put(
        text: str, x: float, y: float, size: int = line, colour: tuple[int, int, int] = WHITE
    ) -> int:
        rendered = fonts.render(text, size, colour)
        surface.blit(rendered, (round(x), round(y)))
        return rendered.get_height()

    y = 0.02 * h
    if state.session is None:
        put(
            crew_text(lang, "no_session", session=keys.get("session", "o")), 0.03 * w, y, big, AMBER
        )
    else:
        s = state.session
        title = crew_text(
            lang,
            "session",
            school=s.school_name or s.school_code,
            category=s.category,
            department=s.department,
        )
        put(f"{crew_text(lang, 'title')} · {title}", 0.03 * w, y, big)
    put(
        f"{crew_text(lang, 'phase')}: {phase_name(lang, state.phase)}",
        0.75 * w,
        y + 0.01 * h,
        line,
        GREY,
    )
    y += big * 1.6

    # Notice for the crew (what to press)
    if state.notice is not None and state.notice.code in NOTICE_KEYS:
        detail = dict(state.notice.detail)
        if state.subject is not None:
            detail.setdefault("value", _masked(state.subject.identity.value))
        message = crew_text(lang, state.notice.code, **_key_names(keys), **detail)
        colour = (
            RED if state.notice.code in ("save_failed", "failsafe", "camera_problem") else AMBER
        )
        pygame.draw.rect(surface, (60, 40, 10), (0.02 * w, y - 4, 0.96 * w, line * 1.6))
        put(message, 0.03 * w, y, line, colour)
        y += line * 2
    if state.pin_entry is not None:
        put(crew_text(lang, "pin", stars="*" * len(state.pin_entry)), 0.03 * w, y, big, AMBER)
        y += big * 1.5

    # Progress table per department
    progress = view.progress
    columns = (0.03, 0.30, 0.42, 0.54, 0.66)
    headers = ("department", "done", "remaining", "retakes", "refused")
    for x, key in zip(columns, headers, strict=True):
        put(crew_text(lang, key), x * w, y, line, GREY)
    y += line * 1.4
    if progress is not None:
        for d in progress.departments[:8]:
            values = (d.department, str(d.done), str(d.remaining), str(d.retakes), str(d.refused))
            for x, text in zip(columns, values, strict=True):
                put(text, x * w, y, line)
            y += line * 1.3
        y += line * 0.5
        target = _target(view)
        rate_colour = GREEN if progress.per_hour_10 >= target else AMBER
        put(
            crew_text(
                lang,
                "rate",
                rate10=progress.per_hour_10,
                rate60=progress.per_hour_60,
                target=target,
            ),
            0.03 * w,
            y,
            line,
            rate_colour,
        )
    y += line * 2

    # Last accepted thumbnails with 拍摄序号
    put(crew_text(lang, "recent"), 0.03 * w, y, line, GREY)
    y += line * 1.4
    thumb_h = round(0.22 * h)
    x = 0.03 * w
    if progress is not None:
        for shot in progress.recent:
            thumb = view.thumbnails.get(shot.file)
            if thumb is not None:
                tw = round(thumb.get_width() * thumb_h / thumb.get_height())
                surface.blit(
                    pygame.transform.smoothscale(thumb, (tw, thumb_h)), (round(x), round(y))
                )
            else:
                tw = round(thumb_h * 0.75)
                pygame.draw.rect(surface, GREY, (x, y, tw, thumb_h), 1)
            put(f"#{shot.seq}  {shot.name}", x, y + thumb_h + 4, line)
            x += tw + 0.02 * w
    y += thumb_h + line * 2

    # Waiting list
    waiting = [_subject_label(s) for s in state.waiting]
    put(
        f"{crew_text(lang, 'waiting')}: "
        + ("、".join(waiting) if waiting else crew_text(lang, "nobody_waiting")),
        0.03 * w,
        y,
        line,
    )
    y += line * 1.6

    # Health: devices, disk, backlog
    parts = []
    for source, status in sorted(state.devices.items()):
        kind = device_name(lang, source)  # the kind is enough on screen; the log has the path
        parts.append(
            (f"{kind} {crew_text(lang, status.state)}", GREEN if status.state == "ok" else RED)
        )
    if progress is not None:
        low = progress.disk_free < 2 * 1024**3
        parts.append(
            (crew_text(lang, "disk", free=human_bytes(progress.disk_free)), RED if low else GREEN)
        )
        parts.append((crew_text(lang, "backlog", count=progress.sync_backlog), GREY))
    x = 0.03 * w
    put(crew_text(lang, "devices") + ":", x, y, line, GREY)
    x += 0.1 * w
    for text, colour in parts:
        rendered = fonts.render(text, line, colour)
        if x + rendered.get_width() > w * 0.98:
            x = 0.13 * w
            y += line * 1.3
        surface.blit(rendered, (round(x), round(y)))
        x += rendered.get_width() + 0.02 * w

    # Key help along the bottom
    help_text = crew_text(lang, "keys", **_key_names(keys))
    rendered = fonts.render(help_text, max(12, round(line * 0.8)), GREY)
    if rendered.get_width() > w * 0.96:
        rendered = pygame.transform.smoothscale(
            rendered,
            (round(w * 0.96), round(rendered.get_height() * w * 0.96 / rendered.get_width())),
        )
    surface.blit(rendered, (round(0.02 * w), h - rendered.get_height() - 6))


def _target(view: View) -> int:
    return int(view.keys.get("_target", "100"))


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
