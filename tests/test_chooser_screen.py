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
from tests.chooser_tour import OTHER_SCHOOL, SIZES, tour


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
