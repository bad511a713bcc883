"""How long `kiosk doctor` takes per check, with the simulated devices.

Run: .venv/bin/python bench/doctor_bench.py [ROUNDS]
Prints the median seconds per check over ROUNDS runs (default 5). On the Pi
the camera check adds the camera's start-up (~1 s for picamera2).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk import config as config_module
from kiosk import doctor
from kiosk.roster import import_roster
from kiosk.sample import write_sample_roster
from kiosk.store import Store


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        with Store(data / "kiosk.db") as store:
            import_roster(store, write_sample_roster(data / "roster.xlsx", count=200))
        config = config_module.from_dict(
            {"station": {"crew_language": "en"}, "camera": {"backend": "sim"}}
        ).with_data_dir(data)
        timings: dict[str, list[float]] = {name: [] for name, _ in doctor.CHECKS}
        for _ in range(rounds):
            ctx = doctor.Context(config=config)
            for name, check in doctor.CHECKS:
                started = time.perf_counter()
                check(ctx)
                timings[name].append(time.perf_counter() - started)
        total = 0.0
        for name, values in timings.items():
            median = statistics.median(values)
            total += median
            print(f"{name:<9} {median * 1000:8.1f} ms")
        print(f"{'total':<9} {total * 1000:8.1f} ms  (median of {rounds} rounds)")


if __name__ == "__main__":
    main()
