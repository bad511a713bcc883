#!/usr/bin/env python3
"""Print where to put the camera for a camera model: `hardware/geometry.py cm3`.

The computation is kiosk/geometry.py (tested); this is its command line.
Run with the kiosk's venv: /opt/kiosk/.venv/bin/python hardware/geometry.py cm3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk import config as config_module
from kiosk import geometry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("camera", choices=sorted(geometry.CAMERAS), help="camera model")
    parser.add_argument("--portrait", action="store_true", help="camera rotated 90°")
    parser.add_argument(
        "--still-rows",
        type=int,
        help="rows of the still along the vertical (default: full resolution; "
        "the 2x2-binned mode has half)",
    )
    parser.add_argument(
        "--config",
        help="kiosk config whose [photo] section sets the crop (default: KIOSK_CONFIG, "
        "else the built-in format)",
    )
    args = parser.parse_args(argv)
    config = config_module.load(args.config)
    placement = geometry.place(
        geometry.CAMERAS[args.camera],
        config.photo,
        portrait_mount=args.portrait,
        still_rows=args.still_rows,
    )
    print(geometry.report(placement))
    return 0 if placement.distance_m is not None else 1


if __name__ == "__main__":
    sys.exit(main())
