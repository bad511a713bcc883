"""Run the quality check over a labelled photo set: full-set and cross-validated figures.

    .venv/bin/python bench/quality_eval.py [FOLDER] [--misses] [--measures] [--fresh]

FOLDER defaults to ../shared/faces (beside the repository). The check runs
with --face-only semantics: the photos were not taken in the kiosk, so
framing and background are not judged.

Four figures:
- configured: the thresholds in the config, on every photo (what the kiosk does);
- fit on the full set: the fitted rules' thresholds fitted to every photo;
- k-fold: thresholds fitted on k-1 folds (a degraded copy stays in its
  original's fold), scored on the held-out fold; mean over several seeds;
- leave-one-source-out: one fold per source repository in labels.csv.

The measuring step (MediaPipe) is cached in .cache/ keyed by the photo and
the source of the measuring code, so re-fitting takes a fraction of a second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kiosk.capture.evaluation import (  # noqa: E402
    Label,
    Measured,
    confusion_table,
    cross_validate,
    full_set,
    k_folds,
    measure_all,
    read_labels,
    source_folds,
    summarise,
)
from kiosk.capture.image import load_rgb  # noqa: E402
from kiosk.capture.quality import QualityChecker  # noqa: E402
from kiosk.capture.rules import RULES, fit  # noqa: E402
from kiosk.capture.verdict import Assessment, Reason  # noqa: E402
from kiosk.config import QualityConfig  # noqa: E402

# The code that turns a photo into measures; rules.py and evaluation.py only decide.
MEASURING = ("quality.py", "measures.py", "facemodel.py", "tasksmodel.py", "image.py")
K = 5
SEEDS = range(10)


def fingerprint() -> str:
    digest = hashlib.sha1()
    for name in MEASURING:
        path = REPO / "kiosk" / "capture" / name
        if path.exists():
            digest.update(path.read_bytes())
    try:
        import mediapipe

        digest.update(str(getattr(mediapipe, "__version__", "")).encode())
    except ImportError:
        pass
    return digest.hexdigest()[:16]


def measure(folder: Path, labels: list[Label], fresh: bool) -> tuple[list[Measured], float]:
    q = QualityConfig()
    cache = REPO / ".cache" / f"quality-measures-{fingerprint()}.json"
    if cache.exists() and not fresh:
        rows = json.loads(cache.read_text(encoding="utf-8"))
        by_file = {label.file: label for label in labels}
        if set(rows) == set(by_file):
            return [
                Measured(
                    by_file[f],
                    rows[f]["measures"],
                    tuple(Reason(r) for r in rows[f]["fixed"]),
                    rows[f]["error"],
                )
                for f in (label.file for label in labels)
            ], 0.0
    checker = QualityChecker(q)

    def assess(path: Path) -> Assessment:
        return checker.assess(load_rgb(path), still=True, face_only=True)

    started = time.perf_counter()
    measured = measure_all(folder, labels, assess, q)
    elapsed = time.perf_counter() - started
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(
        json.dumps(
            {
                p.label.file: {"measures": p.measures, "fixed": list(p.fixed), "error": p.error}
                for p in measured
            }
        ),
        encoding="utf-8",
    )
    return measured, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "faces")
    parser.add_argument("--misses", action="store_true", help="list photos judged wrongly")
    parser.add_argument("--measures", action="store_true", help="with --misses: print measures")
    parser.add_argument("--fresh", action="store_true", help="measure again, ignore the cache")
    parser.add_argument("--fitted", action="store_true", help="print the full-set fitted limits")
    parser.add_argument("--ablate", action="store_true", help="CV figures without each rule")
    parser.add_argument(
        "--json", type=Path, help="write {file: [codes]} under the configured thresholds here"
    )
    args = parser.parse_args()
    labels = read_labels(args.folder)
    measured, elapsed = measure(args.folder, labels, args.fresh)
    q = QualityConfig()
    took = f"measured in {elapsed:.1f} s" if elapsed else "measures from the cache"
    print(f"{args.folder}: {len(measured)} photos, {took}\n")
    configured = full_set(measured, q)
    print(confusion_table(configured))
    if args.json:
        args.json.write_text(
            json.dumps({o.label.file: list(o.reasons or ()) for o in configured}), encoding="utf-8"
        )

    fitted_q = fit([p.example() for p in measured if p.error is None], q)
    rows = [("configured thresholds, full set", summarise(configured))]
    rows.append(("thresholds fitted on the full set", summarise(full_set(measured, fitted_q))))
    kfold = [summarise(cross_validate(measured, k_folds(labels, K, seed), q)) for seed in SEEDS]
    loso = cross_validate(measured, source_folds(labels), q)
    print("\nfigure                                   agreement   correct code")
    for name, s in rows:
        print(f"{name:<40} {s.agreement:>8.1%} {s.code_rate:>12.1%}")
    agree = [s.agreement for s in kfold]
    codes = [s.code_rate for s in kfold]
    print(
        f"{f'{K}-fold CV, mean of {len(SEEDS)} seeds':<40} {statistics.mean(agree):>8.1%}"
        f" {statistics.mean(codes):>12.1%}   (range {min(agree):.1%}-{max(agree):.1%}"
        f" / {min(codes):.1%}-{max(codes):.1%})"
    )
    s = summarise(loso)
    n_sources = len(source_folds(labels))
    print(
        f"{f'leave-one-source-out ({n_sources} sources)':<40} {s.agreement:>8.1%} {s.code_rate:>12.1%}"
    )
    if args.ablate:
        print("\nwithout one rule (cross-validated; + = the rule helps):")
        print(f"  {'rule':<14} {'k-fold agree':>12} {'code':>7} {'LOSO agree':>11} {'code':>7}")
        base_k = [statistics.mean(agree), statistics.mean(codes)]
        base_l = [s.agreement, s.code_rate]
        for rule in RULES:
            rest = [r for r in RULES if r is not rule]
            ks = [
                summarise(cross_validate(measured, k_folds(labels, K, seed), q, rest))
                for seed in SEEDS
            ]
            ls = summarise(cross_validate(measured, source_folds(labels), q, rest))
            dk = base_k[0] - statistics.mean(x.agreement for x in ks)
            dc = base_k[1] - statistics.mean(x.code_rate for x in ks)
            print(
                f"  {rule.name:<14} {dk:>+12.1%} {dc:>+7.1%} {base_l[0] - ls.agreement:>+11.1%}"
                f" {base_l[1] - ls.code_rate:>+7.1%}"
            )
    if args.fitted:
        print("\nfitted on the full set (configured):")
        for rule in RULES:
            if rule.fitted:
                print(
                    f"  {rule.name:<14} {rule.setting:<20} {rule.threshold(fitted_q):8.4g}"
                    f"  ({rule.threshold(q):g})"
                )
    if args.misses:
        print("\ncross-validated misses (leave-one-source-out):")
        for o, p in zip(loso, measured, strict=True):
            if o.agrees and o.code_right:
                continue
            given = ", ".join(o.reasons or ()) if o.reasons is not None else f"error: {o.error}"
            want = "accept" if o.label.accept else " or ".join(sorted(o.label.expected)) or "refuse"
            print(f"  {o.label.file}  {o.label.category}: want {want}; got {given or 'accepted'}")
            if args.measures:
                print("      " + "  ".join(f"{k}={v:g}" for k, v in p.measures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
