"""The student screen: mirrored preview, head guide, one big Chinese hint, countdown, result.

Everything here is drawing; what to show is decided by kiosk/station.py.
Mirroring happens only here (people expect a mirror); stills are stored
unmirrored.
"""

from __future__ import annotations

import math
from typing import Any

import pygame

from kiosk import pad
from kiosk.display import texts
from kiosk.display.font import Fonts
from kiosk.display.layout import wrap
from kiosk.display.view import (
    AMBER,
    BLACK,
    GREEN,
    HINT_BAND,
    PANEL,
    WHITE,
    View,
    fit,
)
from kiosk.station import Phase

# Text sizes as fractions of the screen height (1.5 m reading distance:
# a 0.09 H hint is ~65 px on 720 p, ~2.5 cm on a 24" screen).
HINT_SIZE = 0.09
TITLE_SIZE = 0.12
BODY_SIZE = 0.06
COUNTDOWN_SIZE = 0.45
BAND_HEIGHT = 0.16


def hint_font_size(height: int) -> int:
    return max(16, round(height * HINT_SIZE))


def draw_hold(surface: pygame.Surface, done: float) -> None:
    """A long press on this screen, counting (``done``, 0 to 1): a bar along the
    top grows until the crew screen shows, so the crew sees the press is
    taken and holds on (a brief tap draws only a flicker of it)."""
    w, h = surface.get_size()
    pygame.draw.rect(surface, AMBER, (0, 0, round(w * done), max(6, round(h * 0.012))))


def draw_student(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    state = view.state
    phase = state.phase
    _preview(surface, view)
    dim = phase in (Phase.CLOSED, Phase.IDLE, Phase.UNKNOWN, Phase.WRONG_SESSION, Phase.FAILSAFE)
    if dim or phase in (Phase.IDENTIFIED, Phase.ALREADY_DONE):
        _shade(surface, 170)
    if phase is Phase.CLOSED:
        _centre(surface, fonts, texts.CLOSED, TITLE_SIZE, WHITE)
    elif phase is Phase.IDLE:
        _centre(surface, fonts, texts.ATTRACT, TITLE_SIZE, WHITE)
        if state.notice is not None:
            _band(surface, fonts, texts.STUDENT_NOTICE.get(state.notice.code, ""), AMBER)
    elif phase is Phase.IDENTIFIED:
        _identified(surface, view, fonts)
    elif phase in (Phase.FRAMING, Phase.COUNTDOWN, Phase.CAPTURING):
        _framing(surface, view, fonts)
    elif phase in (Phase.REVIEW, Phase.CREW_DECISION, Phase.SAVING, Phase.SAVED):
        _result(surface, view, fonts)
    elif phase is Phase.ALREADY_DONE:
        _photo_panel(surface, view.photo, left=True)
        seq = state.earlier.seq if state.earlier else None
        _text_at(
            surface,
            fonts,
            texts.STUDENT_NOTICE["already_photographed"],
            TITLE_SIZE * 0.7,
            AMBER,
            (0.72 * w, 0.4 * h),
        )
        if seq is not None:
            _text_at(
                surface, fonts, texts.SEQ.format(seq=seq), BODY_SIZE, WHITE, (0.72 * w, 0.55 * h)
            )
    elif phase in (Phase.UNKNOWN, Phase.WRONG_SESSION, Phase.FAILSAFE):
        code = state.notice.code if state.notice else "failsafe"
        _centre(
            surface, fonts, texts.STUDENT_NOTICE.get(code, texts.FAILSAFE), TITLE_SIZE * 0.7, AMBER
        )
    if state.pin_entry is not None:
        # The crew is typing the PIN to leave: shown small, in the corner.
        _text_at(
            surface,
            fonts,
            "工作人员密码 " + pad.dots(state.pin_entry),
            BODY_SIZE * 0.6,
            AMBER,
            (0.85 * w, 0.05 * h),
            background=BLACK,
        )
    if not view.camera_ok and phase in (Phase.FRAMING, Phase.COUNTDOWN, Phase.CAPTURING):
        _band(surface, fonts, texts.STUDENT_NOTICE["camera_problem"], AMBER, top=True)


def _preview(surface: pygame.Surface, view: View) -> None:
    w, h = surface.get_size()
    if view.frame is None:
        surface.fill(PANEL)
        return
    fh, fw = view.frame.shape[:2]
    # pygame reads a contiguous numpy array through the buffer protocol, without a copy.
    pixels: Any = view.frame if view.frame.flags.c_contiguous else view.frame.tobytes()
    image = pygame.image.frombuffer(pixels, (fw, fh), "RGB")
    image = pygame.transform.flip(image, True, False)  # a mirror, on screen only
    scale, ox, oy = fit((fw, fh), (w, h), cover=True)
    if (fw, fh) != (w, h):
        image = pygame.transform.scale(image, (round(fw * scale), round(fh * scale)))
    surface.blit(image, (ox, oy))


def guide_on_screen(view: View, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The head oval in screen pixels (mirrored like the preview)."""
    if view.guide is None or view.frame is None:
        return None
    fh, fw = view.frame.shape[:2]
    scale, ox, oy = fit((fw, fh), size, cover=True)
    cx, cy, rx, ry = view.guide
    return (
        round(ox + (fw - cx) * scale),
        round(oy + cy * scale),
        round(rx * scale),
        round(ry * scale),
    )


def _framing(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    state = view.state
    oval = guide_on_screen(view, (w, h))
    good = state.steady > 0 or state.phase is not Phase.FRAMING
    if oval is not None:
        cx, cy, rx, ry = oval
        pygame.draw.ellipse(
            surface,
            GREEN if good else WHITE,
            (cx - rx, cy - ry, 2 * rx, 2 * ry),
            width=max(3, h // 120),
        )
    if state.subject is not None and state.subject.student is not None:
        _text_at(
            surface,
            fonts,
            state.subject.student.name,
            BODY_SIZE,
            WHITE,
            (0.12 * w, 0.07 * h),
            background=BLACK,
        )
    if state.phase is Phase.COUNTDOWN and state.countdown_end is not None:
        left = max(1, math.ceil(state.countdown_end - view.now))
        centre = countdown_centre((w, h), oval)
        _text_at(surface, fonts, str(left), COUNTDOWN_SIZE, GREEN, centre, background=BLACK)
        _band(surface, fonts, texts.HOLD_STILL, GREEN)
    elif state.phase is Phase.CAPTURING:
        _band(surface, fonts, texts.CAPTURING, WHITE)
    elif state.hint:
        _band(surface, fonts, student_hint(state), WHITE)
    elif state.steady > 0:
        _band(surface, fonts, texts.HOLD_STILL, GREEN)
    else:
        _band(surface, fonts, texts.GET_READY, WHITE)


def countdown_centre(
    size: tuple[int, int], oval: tuple[int, int, int, int] | None
) -> tuple[float, float]:
    """Where the countdown goes: beside the head guide, never over the face."""
    w, h = size
    if oval is None:
        return (0.88 * w, 0.42 * h)
    cx, _, rx, _ = oval
    right = cx + rx
    return ((right + w) / 2 if w - right > 0.12 * w else 0.92 * w, 0.42 * h)


def student_hint(state: Any) -> str:
    """The hint the student reads: a lighting fault they cannot fix asks them to wait."""
    if state.reasons and state.reasons[0] in texts.CREW_ONLY_REASONS:
        return texts.LIGHT_WAIT
    return str(state.hint or "")


def masked_number(value: str, kind: str) -> str:
    """Enough of the number for the student to recognise it, not for the queue to copy:
    an ID number keeps its first 6 and last 4, a 学号 its first 4 and last 3."""
    keep = (6, 4) if kind == "id_number" else (4, 3)
    if len(value) <= sum(keep) + 1:
        return value
    return value[: keep[0]] + "*" * (len(value) - sum(keep)) + value[-keep[1] :]


def _identified(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    subject = view.state.subject
    if subject is None:
        return
    student = subject.student
    if student is not None:
        _text_at(surface, fonts, student.name, TITLE_SIZE * 1.3, WHITE, (w / 2, 0.24 * h))
        if subject.identity.kind == "id_number" and student.id_number:
            number = texts.ID_NUMBER.format(value=masked_number(student.id_number, "id_number"))
        else:
            number = texts.STUDENT_NUMBER.format(
                value=masked_number(student.student_number, "student_number")
            )
        lines = [number, f"{student.department}  {student.major}".strip()]
    else:
        lines = ["图像采集码", _mask(subject.collection_code or "")]
    for i, line in enumerate(lines):
        _text_at(surface, fonts, line, BODY_SIZE, WHITE, (w / 2, (0.44 + 0.1 * i) * h))
    _band(surface, fonts, texts.IS_IT_YOU, AMBER)


def _mask(code: str) -> str:
    return code if len(code) <= 8 else code[:4] + "…" + code[-4:]


def _result(surface: pygame.Surface, view: View, fonts: Fonts) -> None:
    w, h = surface.get_size()
    state = view.state
    _shade(surface, 200)
    _photo_panel(surface, view.photo, left=True)
    x = 0.72 * w
    if state.phase is Phase.SAVED:
        _tick(surface, (round(x), round(0.25 * h)), round(0.1 * h))
        _text_at(surface, fonts, texts.ACCEPTED, TITLE_SIZE, GREEN, (x, 0.45 * h))
        if state.seq is not None:
            _text_at(
                surface, fonts, texts.SEQ.format(seq=state.seq), BODY_SIZE, WHITE, (x, 0.6 * h)
            )
        _band(surface, fonts, texts.DONE, GREEN)
    elif state.phase is Phase.SAVING:
        _text_at(surface, fonts, texts.SAVING, TITLE_SIZE * 0.7, WHITE, (x, 0.45 * h))
    else:
        _text_at(surface, fonts, texts.RETAKE, TITLE_SIZE, AMBER, (x, 0.4 * h))
        if state.phase is Phase.CREW_DECISION:
            code = state.notice.code if state.notice else "crew_decision"
            _band(surface, fonts, texts.STUDENT_NOTICE.get(code, ""), AMBER)
        else:
            _band(surface, fonts, retake_words(state), WHITE)


def retake_words(state: Any) -> str:
    """A kind word, then what to do: "没关系，我们再拍一张：请闭上嘴巴"."""
    hint = student_hint(state)
    if hint == texts.LIGHT_WAIT:
        return hint
    return texts.RETAKE_KIND.format(hint=hint) if hint else texts.RETAKE_PLAIN


def _photo_panel(surface: pygame.Surface, photo: Any, left: bool) -> None:
    if photo is None:
        return
    w, h = surface.get_size()
    box_h = round(0.74 * h)
    pw, ph = photo.get_size()
    scale = box_h / ph
    scaled = pygame.transform.smoothscale(photo, (round(pw * scale), box_h))
    x = round(0.28 * w - scaled.get_width() / 2) if left else round((w - scaled.get_width()) / 2)
    y = round(0.06 * h)
    pygame.draw.rect(surface, WHITE, (x - 4, y - 4, scaled.get_width() + 8, box_h + 8))
    surface.blit(scaled, (x, y))


def _tick(surface: pygame.Surface, centre: tuple[int, int], size: int) -> None:
    cx, cy = centre
    points = [
        (cx - size, cy),
        (cx - size // 3, cy + size * 2 // 3),
        (cx + size, cy - size * 2 // 3),
    ]
    pygame.draw.lines(surface, GREEN, False, points, max(6, size // 5))


def _shade(surface: pygame.Surface, alpha: int) -> None:
    shade = pygame.Surface(surface.get_size())
    shade.fill(BLACK)
    shade.set_alpha(alpha)
    surface.blit(shade, (0, 0))


def _band(
    surface: pygame.Surface,
    fonts: Fonts,
    text: str,
    colour: tuple[int, int, int],
    top: bool = False,
) -> None:
    """The one hint, white (or coloured) on a solid black band: the most readable pair."""
    if not text:
        return
    w, h = surface.get_size()
    size = hint_font_size(h)
    # A long sentence wraps (at its punctuation first) rather than shrinking.
    parts = [p + "，" for p in text.split("，")]
    parts[-1] = parts[-1][:-1]
    measure = lambda t: fonts.render(t, size, colour).get_width()  # noqa: E731
    lines = [line.rstrip("，") for line in wrap(parts, w * 0.96, measure, joiner="")]
    band_h = max(round(h * BAND_HEIGHT), round(len(lines) * size * 1.25 + size * 0.5))
    y = 0 if top else h - band_h
    pygame.draw.rect(surface, HINT_BAND, (0, y, w, band_h))
    step = size * 1.25
    first = y + band_h / 2 - step * (len(lines) - 1) / 2
    for i, line in enumerate(lines):
        rendered = fonts.render(line, size, colour, HINT_BAND)
        surface.blit(rendered, rendered.get_rect(center=(w // 2, round(first + i * step))))


def _centre(
    surface: pygame.Surface, fonts: Fonts, text: str, size: float, colour: tuple[int, int, int]
) -> None:
    w, h = surface.get_size()
    _text_at(surface, fonts, text, size, colour, (w / 2, h / 2))


def _text_at(
    surface: pygame.Surface,
    fonts: Fonts,
    text: str,
    size: float,
    colour: tuple[int, int, int],
    centre: tuple[float, float],
    background: tuple[int, int, int] | None = None,
) -> None:
    h = surface.get_height()
    rendered = fonts.render(text, max(12, round(h * size)), colour, background)
    w = surface.get_width()
    if rendered.get_width() > w * 0.95:
        scale = (
            pygame.transform.smoothscale if rendered.get_bitsize() >= 24 else pygame.transform.scale
        )
        rendered = scale(
            rendered,
            (round(w * 0.95), round(rendered.get_height() * w * 0.95 / rendered.get_width())),
        )
    surface.blit(rendered, rendered.get_rect(center=(round(centre[0]), round(centre[1]))))
