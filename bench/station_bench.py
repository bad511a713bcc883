"""Station benchmark: the headless preview loop with the face check, and machine time per student.

    .venv/bin/python bench/station_bench.py [--seconds 15] [--students 10] [--fps 30]

1. Preview: the real main loop (kiosk.app.build_station) at 1280 x 720 with
   SDL's dummy driver, the simulated camera at 30 fps and the configured
   quality check judging the newest frame, held in the framing phase.
   Prints frames drawn per second, assessments per second, the time one
   assessment takes, and frame-to-screen latency (camera frame arrival ->
   display flip, so it includes the frame's wait for the next redraw).
2. Students: ``kiosk demo`` for N students (simulated scanner twins and
   camera, the real check, crop and store) and the machine time per
   student: scan -> saved minus the configured confirm/countdown/steady
   waits, i.e. look-up + still capture, judging and crop + save.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import tempfile
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk import station as st
from kiosk.app import StationApp, build_station
from kiosk.capture.sim import SimCamera
from kiosk.config import Config
from kiosk.demo import Devices, Director, Step, run_demo
from kiosk.records import SessionPlan
from kiosk.roster import import_roster
from kiosk.sample import SCHOOL_CODE, write_sample_roster
from kiosk.store import Store


def preview(data: Path, seconds: float, fps: int) -> dict[str, float]:
    config = Config().with_data_dir(data)
    config = dataclasses.replace(
        config,
        station=dataclasses.replace(
            config.station,
            steady_frames=100_000,  # stay in framing: no countdown
            framing_timeout_s=600.0,
            window_size=(1280, 720),
            fps=fps,
        ),
        camera=dataclasses.replace(config.camera, backend="sim", preview_size=(1280, 720)),
    )
    with Store(config.db_path) as store:
        import_roster(store, write_sample_roster(data / "roster.xlsx", count=5))
        number = store.conn.execute("SELECT student_number FROM students LIMIT 1").fetchone()[0]
    camera = SimCamera(config.camera)
    camera.show("face_041.jpg")
    devices = Devices(config)
    marks: dict[str, int] = {}

    def start_measuring(app: StationApp) -> None:
        app.timings.assess.clear()
        app.timings.assessed_at.clear()
        app.timings.frame_latency.clear()
        app.timings.drawn_at.clear()
        app.timings.judged = 0
        app.timings.judging_s = 0.0
        marks["start"] = 1

    import time

    started: dict[str, float] = {}

    def long_enough(app: StationApp, since: int) -> bool:
        started.setdefault("t", time.monotonic())
        return time.monotonic() - started["t"] >= seconds

    director = Director(
        [
            Step(
                "idle",
                lambda a, s: a.state.phase is st.Phase.IDLE,
                lambda a: devices.scan_barcode(number),
            ),
            Step("framing", lambda a, s: a.state.phase is st.Phase.FRAMING, start_measuring),
            Step("measure", long_enough),
        ],
        timeout_s=seconds + 60,
    )
    app = build_station(
        config,
        camera=camera,
        scanners=devices.backends,
        headless=True,
        session=SessionPlan(SCHOOL_CODE, "普通生"),
        on_tick=director.update,
    )
    app.timings.frame_latency = type(app.timings.frame_latency)(maxlen=100_000)
    app.timings.drawn_at = type(app.timings.drawn_at)(maxlen=100_000)
    app.timings.assess = type(app.timings.assess)(maxlen=100_000)
    app.timings.assessed_at = type(app.timings.assessed_at)(maxlen=100_000)
    try:
        timings = app.run(max_seconds=seconds + 90)
    finally:
        devices.close()
    latency = sorted(timings.frame_latency)
    return {
        "fps_drawn": timings.rate(timings.drawn_at),
        "assessments_per_s": timings.judged / timings.judging_s if timings.judging_s else 0.0,
        "assess_ms_median": statistics.median(timings.assess) * 1000
        if timings.assess
        else float("nan"),
        "latency_ms_median": statistics.median(latency) * 1000 if latency else float("nan"),
        "latency_ms_p95": latency[int(len(latency) * 0.95)] * 1000 if latency else float("nan"),
        "checker": type(app.checker).__name__,
    }


def students(data: Path, count: int) -> dict[str, float]:
    result = run_demo(Config().with_data_dir(data), students=count, headless=True, fast=True)
    if not result.finished:
        raise SystemExit(f"demo did not finish: {result.failure}")
    return result.timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument(
        "--fps", type=int, default=Config().station.fps, help="main-loop rate (station.fps)"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        p = preview(Path(tmp) / "preview", args.seconds, args.fps)
        print(
            f"preview 1280x720 ({p['checker']}, main loop {args.fps}/s): {p['fps_drawn']:.1f} fps drawn, "
            f"{p['assessments_per_s']:.1f} assessments/s ({p['assess_ms_median']:.0f} ms each), "
            f"frame-to-screen latency median {p['latency_ms_median']:.0f} ms, p95 {p['latency_ms_p95']:.0f} ms"
        )
        s = students(Path(tmp) / "demo", args.students)
        print(
            f"machine time per student ({s['students']:.0f} students): median {s['machine_s_median']:.2f} s, "
            f"max {s['machine_s_max']:.2f} s; look-up {s['lookup_ms_median']:.0f} ms, "
            f"still+check+crop {s['still_ms_median']:.0f} ms, save {s['save_ms_median']:.0f} ms (medians)"
        )


if __name__ == "__main__":
    main()
