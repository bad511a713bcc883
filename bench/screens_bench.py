"""Screen benchmark: how long one crew screen and one student screen take to draw, per size.

    .venv/bin/python bench/screens_bench.py [--draws 200]

The crew screen is drawn on the main loop when it is shown in place of the
student's (one display) and once a second on a second display, so its cost
comes out of the preview's frame budget (33 ms at 30 fps). Drawn here with
SDL's dummy driver and the CJK font, a 23-院系 session paging, a refusal and
two devices; the student screen in the countdown with a 1280 x 720 frame.
Prints the median and 95th percentile per draw at 800 x 480, 1280 x 800 and
1920 x 1080 (the font cache warm, as on a running kiosk).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

from kiosk import station as st
from kiosk.capture.verdict import Reason
from kiosk.display.crew import draw_crew
from kiosk.display.font import Fonts
from kiosk.display.student import draw_student
from kiosk.display.view import View
from kiosk.progress import DepartmentProgress, Progress
from kiosk.scanner.base import DeviceStatus

SIZES = ((800, 480), (1280, 800), (1920, 1080))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    pygame.display.init()
    pygame.font.init()
    fonts = Fonts()
    progress = Progress(
        departments=tuple(
            DepartmentProgress(f"第{i:02d}学院", 40, i, i % 3, i % 2, i % 5) for i in range(23)
        ),
        per_hour_10=96.0,
        per_hour_60=88.0,
    )
    session = st.SessionInfo(1, "19999", "普通生", "", "示例大学")
    crew_state = st.State(
        phase=st.Phase.FRAMING,
        session=session,
        devices={
            "camera": DeviceStatus("camera", "ok"),
            "hid:/dev/kiosk-scanner": DeviceStatus("hid:/dev/kiosk-scanner", "ok"),
        },
        refusal=st.Refusal("李四", (Reason.EYES_CLOSED,)),
    )
    frame = np.full((720, 1280, 3), 120, np.uint8)
    student_state = st.State(phase=st.Phase.COUNTDOWN, session=session, countdown_end=2.0, steady=3)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for size in SIZES:
        surface = pygame.Surface(size)
        for name, draw, state, extra in (
            ("crew", draw_crew, crew_state, {"progress": progress}),
            (
                "student",
                draw_student,
                student_state,
                {"frame": frame, "guide": (640, 300, 150, 200)},
            ),
        ):
            times = []
            for i in range(args.draws):
                view = View(state=state, now=i * 0.05, **extra)  # type: ignore[arg-type]
                started = time.perf_counter()
                draw(surface, view, fonts)
                times.append((time.perf_counter() - started) * 1000)
            warm = times[10:]
            print(
                f"{size[0]} x {size[1]} {name:<8} median {statistics.median(warm):5.1f} ms, "
                f"p95 {percentile(warm, 0.95):5.1f} ms per draw"
            )


if __name__ == "__main__":
    main()
