"""Run the quality check over a labelled photo set and print the confusion table.

    .venv/bin/python bench/quality_eval.py [FOLDER] [--misses] [--measures]

FOLDER defaults to ../shared/faces (beside the repository). The check runs
with --face-only semantics: the photos were not taken in the kiosk, so
framing and background are not judged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kiosk.capture.evaluation import confusion_table, evaluate, read_labels  # noqa: E402
from kiosk.capture.image import load_rgb  # noqa: E402
from kiosk.capture.quality import QualityChecker  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "faces")
    parser.add_argument("--misses", action="store_true", help="list photos judged wrongly")
    parser.add_argument("--measures", action="store_true", help="with --misses: print measures")
    args = parser.parse_args()
    checker = QualityChecker()
    kept = {}

    def judge(path: Path):
        a = checker.assess(load_rgb(path), still=True, face_only=True)
        kept[path.name] = a
        return a.reasons

    started = time.perf_counter()
    outcomes = evaluate(args.folder, judge, read_labels(args.folder))
    elapsed = time.perf_counter() - started
    print(f"{args.folder}: {len(outcomes)} photos in {elapsed:.1f} s\n")
    print(confusion_table(outcomes))
    if args.misses:
        print("\nwrong verdict or code:")
        for o in outcomes:
            if o.agrees and o.code_right:
                continue
            given = ", ".join(o.reasons or ()) if o.reasons is not None else f"error: {o.error}"
            want = "accept" if o.label.accept else " or ".join(sorted(o.label.expected)) or "refuse"
            print(f"  {o.label.file}  {o.label.category}: want {want}; got {given or 'accepted'}")
            if args.measures and o.label.file in kept:
                ms = kept[o.label.file].measures
                print("      " + "  ".join(f"{k}={v:g}" for k, v in ms.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
