"""End to end: `kiosk demo --students 5 --screenshots DIR`, headless, as a user runs it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, Path, Path]:
    base = tmp_path_factory.mktemp("demo")
    data, shots = base / "data", base / "shots"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("KIOSK_CONFIG", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "--data",
            str(data),
            "demo",
            "--students",
            "5",
            "--fast",
            "--screenshots",
            str(shots),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return result, data, shots


def test_demo_finishes(demo_run) -> None:
    result, _, _ = demo_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 photos saved" in result.stdout
    assert "machine time per student" in result.stdout


def test_five_shots_with_sequential_numbers_and_official_jpegs(demo_run) -> None:
    _, data, _ = demo_run
    conn = sqlite3.connect(data / "kiosk.db")
    conn.row_factory = sqlite3.Row
    session = conn.execute("SELECT id FROM sessions ORDER BY id DESC LIMIT 1").fetchone()[0]
    shots = conn.execute(
        "SELECT seq, file, status, camera FROM shots WHERE session_id = ? AND status = 'accepted' ORDER BY id",
        (session,),
    ).fetchall()
    assert [s["seq"] for s in shots] == [1, 2, 3, 4, 5]
    for shot in shots:
        path = data / shot["file"]
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.size == (480, 640) and image.mode == "RGB"
            assert not image.getexif()  # no photo metadata
        assert "ExposureTime" in json.loads(shot["camera"])
    # the refused shot is on record without a 拍摄序号, and the outbox holds the five
    refused = conn.execute(
        "SELECT seq FROM shots WHERE session_id = ? AND status = 'refused'", (session,)
    ).fetchall()
    assert len(refused) == 1 and refused[0]["seq"] is None
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 5
    kinds = {r[0] for r in conn.execute("SELECT kind FROM events WHERE session_id = ?", (session,))}
    assert {"scan_unknown", "already_photographed", "shot_refused"} <= kinds


def screens(shots: Path, label: str) -> list[Path]:
    return sorted(p for p in shots.glob("*.png") if label in p.name)


def test_screenshots_of_every_screen_are_real_pictures(demo_run) -> None:
    _, _, shots = demo_run
    files = sorted(shots.glob("*.png"))
    names = " ".join(p.name for p in files)
    for phase in (
        "idle",
        "identified",
        "framing",
        "countdown",
        "review",
        "saved",
        "unknown",
        "already_done",
        "crew",
    ):
        assert f"-{phase}" in names or f"student-{phase}" in names, f"no {phase} screen in {names}"
    for path in files:
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
        assert pixels.shape == (720, 1280, 3)
        assert pixels.std() > 8, f"{path.name} is blank"
        colours = np.unique(pixels.reshape(-1, 3)[::97], axis=0)
        assert len(colours) > 20, f"{path.name} has almost no content"


def test_chinese_hint_renders_as_glyphs_not_boxes(demo_run) -> None:
    """The band text on the identified screen matches the CJK font's rendering, not tofu boxes."""
    import cv2

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.display import texts
    from kiosk.display.font import Fonts
    from kiosk.display.student import hint_font_size
    from kiosk.display.view import AMBER, HINT_BAND

    _, _, shots = demo_run
    screenshot = np.asarray(Image.open(screens(shots, "student-identified")[0]).convert("RGB"))
    pygame.font.init()
    fonts = Fonts()
    assert fonts.path is not None, "no CJK font installed (install.sh installs fonts-wqy-zenhei)"
    size = hint_font_size(720)

    def rendered(font: pygame.font.Font) -> np.ndarray:
        surface = font.render(texts.IS_IT_YOU, True, AMBER, HINT_BAND)
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    glyphs = rendered(fonts.font(size))
    boxes = rendered(pygame.font.Font(None, size))  # pygame's own font has no Chinese
    band = screenshot[600:, :]

    def best(template: np.ndarray) -> float:
        if template.shape[0] > band.shape[0] or template.shape[1] > band.shape[1]:
            return 0.0
        scores = cv2.matchTemplate(
            band.astype(np.float32), template.astype(np.float32), cv2.TM_CCOEFF_NORMED
        )
        return float(scores.max())

    assert best(glyphs) > 0.95
    assert best(boxes) < 0.8


def test_kiosk_run_starts_opens_the_session_and_stops(tmp_path: Path) -> None:
    """`kiosk run` with the simulated camera and scanner twins: up, session open, clean stop."""
    from kiosk.sample import write_sample_roster

    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[station]\nschool_code = "19999"\ncategory = "普通生"\n\n[camera]\nbackend = "sim"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    data = ["--config", str(config), "--data", str(tmp_path / "data")]
    cli = [sys.executable, "-m", "kiosk.cli", *data]
    # a school the roster does not hold is refused, in Chinese, without a traceback
    refused = subprocess.run([*cli, "run"], capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2 and "19999" in refused.stderr and "采集码" in refused.stderr
    assert "Traceback" not in refused.stderr
    roster = write_sample_roster(tmp_path / "roster.xlsx", count=5)
    imported = subprocess.run([*cli, "roster", "import", str(roster)], capture_output=True)
    assert imported.returncode == 0
    # a 类型 the school's roster does not have is refused too
    empty = subprocess.run(
        [*cli, "run", "--category", "研究生"], capture_output=True, text=True, env=env, timeout=120
    )
    assert empty.returncode == 2 and "研究生" in empty.stderr, empty.stderr
    command = [
        sys.executable,
        "-m",
        "kiosk.cli",
        "--config",
        str(config),
        "--data",
        str(tmp_path / "data"),
        "run",
        "--max-seconds",
        "3",
    ]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(tmp_path / "data" / "kiosk.db")
    sessions = conn.execute("SELECT school_code, category, closed_at FROM sessions").fetchall()
    assert sessions == [("19999", "普通生", None)]  # the second run resumed the open session
    kinds = [r[0] for r in conn.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds.count("station_ready") == 2 and "device_ok" in kinds


def test_kiosk_run_without_a_display_gives_the_hint_and_exits_2(tmp_path: Path) -> None:
    from kiosk.sample import write_sample_roster

    env = {**os.environ, "SDL_VIDEODRIVER": "no-such-driver", "SDL_AUDIODRIVER": "dummy"}
    config = tmp_path / "kiosk.toml"
    config.write_text('[camera]\nbackend = "sim"\n', encoding="utf-8")
    cli = [sys.executable, "-m", "kiosk.cli", "--config", str(config), "--data", str(tmp_path)]
    roster = write_sample_roster(tmp_path / "roster.xlsx", count=5)
    assert subprocess.run([*cli, "roster", "import", str(roster)], env=env).returncode == 0
    done = subprocess.run(
        [*cli, "run", "--max-seconds", "3"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "没有可用的屏幕" in done.stderr and "tty1" in done.stderr
    # 采集码 mode for a school the roster lacks: said, with what is known of its headcount
    codes = [*cli, "run", "--school", "10055", "--collection-codes", "--max-seconds", "3"]
    unknown = subprocess.run(codes, capture_output=True, text=True, env=env, timeout=120)
    assert unknown.returncode == 2 and "10055 的预计人数未知" in unknown.stdout, unknown.stdout
    with sqlite3.connect(tmp_path / "kiosk.db") as db:  # as a roster pull stores it
        db.execute("INSERT INTO school_plans VALUES ('10055', '南开大学', 320, 'now')")
    known = subprocess.run(codes, capture_output=True, text=True, env=env, timeout=120)
    assert known.returncode == 2 and "10055 预计 320 人" in known.stdout, known.stdout
