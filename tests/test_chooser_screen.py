"""The session chooser through the real station loop and pygame screens (SDL dummy driver).

The crew presses the session key, moves with the arrow keys, types a 院校代码,
taps a line on the touch screen and accepts: the session opens in the
database. The same run checks the screens at the three sizes the kiosk ships
with: nothing the crew reads is smaller than the 1.5 m rule (kiosk/display/layout.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kiosk.display import layout
from kiosk.display.font import Fonts
from kiosk.display.texts import crew_text
from tests.chooser_tour import CODES_SCHOOL, COLLECTION_CODE, NEW_PIN, OTHER_SCHOOL, SIZES, tour


def test_the_smallest_text_is_readable_from_one_and_a_half_metres() -> None:
    assert 5.0 <= layout.smallest_mm() <= 6.0
    # on the 7" 800 x 480 screen, in millimetres
    assert layout.Sizes.of((800, 480)).small / layout.SEVEN_INCH_PX_PER_MM >= 5.0
    assert [layout.Sizes.of(s).small for s in SIZES] == sorted(
        layout.Sizes.of(s).small for s in SIZES
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_crew_chooses_the_session_with_keys_and_touch(
    tmp_path: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes_drawn: list[int] = []
    original = Fonts.render

    def recording(self: Fonts, text: str, size: int, *args: Any, **kwargs: Any) -> Any:
        sizes_drawn.append(size)
        return original(self, text, size, *args, **kwargs)

    from kiosk.display import crew

    def crew_only(surface: Any, view: Any, fonts: Fonts) -> None:
        monkeypatch.setattr(Fonts, "render", recording)
        try:
            draw_crew(surface, view, fonts)
        finally:
            monkeypatch.setattr(Fonts, "render", original)

    draw_crew = crew.draw_crew
    monkeypatch.setattr(crew, "draw_crew", crew_only)

    done = tour(tmp_path, size)
    assert done.failed is None, done.failed
    assert done.finished
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    sessions = conn.execute("SELECT school_code, category, department FROM sessions").fetchall()
    assert sessions == [(OTHER_SCHOOL[0], "研究生", "")]
    chosen = conn.execute("SELECT detail FROM events WHERE kind = 'session_chosen'").fetchall()
    assert len(chosen) == 1 and '"collection_codes": false' in chosen[0][0]
    shots = conn.execute("SELECT status FROM shots ORDER BY id").fetchall()
    assert shots == [("refused",), ("accepted",)]
    assert {"crew-chooser-school", "crew-chooser-category", "crew-queue"} <= set(done.screens)
    assert sizes_drawn and min(sizes_drawn) >= layout.Sizes.of(size).small >= layout.MIN_TEXT_PX


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_touch_only_crew_sets_its_pin_starts_a_session_and_leaves(
    tmp_path: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk import chooser as choosing
    from kiosk import station as st
    from kiosk.display.chooser import button_boxes, line_at
    from kiosk.display.crew import crew_buttons

    drawn_texts: list[str] = []
    original = Fonts.render

    def recording(self: Fonts, text: str, size: int, *args: Any, **kwargs: Any) -> Any:
        drawn_texts.append(text)
        return original(self, text, size, *args, **kwargs)

    monkeypatch.setattr(Fonts, "render", recording)
    done = tour(tmp_path, size, touch=True)
    assert done.failed is None, done.failed
    assert done.finished
    # the new PIN, set on the pad, is this kiosk's; no PIN digits were ever drawn
    assert (tmp_path / "crew-pin").read_text().strip() == NEW_PIN
    assert not [t for t in drawn_texts if NEW_PIN[:2] in t or "135" in t]
    assert {"crew-pin-new", "crew-pin-new-again", "crew-pin-leave", "crew-pin-wrong"} <= set(
        done.screens
    )
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    sessions = conn.execute("SELECT school_code, school_name, closed_at FROM sessions").fetchall()
    assert sessions == [(*CODES_SCHOOL[:2], None)]  # 结束 tapped once, then 退出: still open
    chosen = conn.execute("SELECT detail FROM events WHERE kind = 'session_chosen'").fetchall()
    assert len(chosen) == 1 and '"collection_codes": true' in chosen[0][0]
    shots = conn.execute("SELECT status, collection_code FROM shots").fetchall()
    assert shots[-1] == ("accepted", COLLECTION_CODE)
    progress = done.app.progress
    assert progress is not None and progress.collection_codes
    assert (progress.totals.total, progress.totals.done) == (CODES_SCHOOL[2], 1)
    shown = {"crew-chooser-pad", "crew-chooser-codes", "crew-codes-queue", "crew-end-asked"}
    assert shown <= set(done.screens)
    # leaving: a wrong PIN on the pad was refused as with the keyboard, the right one left
    kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds.index("crew_pin_set") < kinds.index("session_chosen")
    assert kinds.index("wrong_pin") < kinds.index("station_exit")
    assert crew_text("zh", "pin_wrong") in drawn_texts  # and the crew was told
    # Every button is a fingertip wide and tall (>= 9 mm at the 7" screen's density),
    # inside the screen, apart from each other and from the list's lines.
    session = st.SessionInfo(1, CODES_SCHOOL[0], "")
    screens: list[tuple[Any, choosing.Chooser | None]] = [
        (crew_buttons(size, st.State(new_pin=st.NewPin())), None),
        (crew_buttons(size, st.State(phase=st.Phase.CREW_DECISION, session=session)), None),
    ]
    for level in ("school", "code", "category"):
        chooser = choosing.Chooser((), level=level)  # type: ignore[arg-type]
        assert len(button_boxes(size, chooser)) == len(choosing.buttons(chooser))
        with_quit = crew_buttons(size, st.State(chooser=chooser))  # and 退出, under them
        assert [name for name, _ in with_quit][-1] == "quit"
        screens.append((with_quit, chooser))
    assert len(screens[0][0]) == len(st.PIN_PAD)
    assert len(screens[1][0]) == 5  # accept, retake, skip, 退出, 学生屏
    for buttons, on_chooser in screens:
        boxes = [box for _, box in buttons]
        for x, y, w, h in boxes:
            assert min(w, h) / layout.SEVEN_INCH_PX_PER_MM >= 9.0
            assert x >= 0 and y >= 0 and x + w <= size[0] and y + h <= size[1]
            if on_chooser is not None:
                assert line_at(size, on_chooser, y + h / 2, x + w / 2) is None
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0]
                assert apart or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
