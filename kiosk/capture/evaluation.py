"""Measure the quality check against a labelled photo set (../shared/faces).

The set's ``labels.csv`` names a category per photo; this module says which
reason codes each category expects (the mapping of issue 3) and runs the
check over the set in ``--face-only`` mode, since the photos were not taken
in the kiosk. Used by the test suite and by ``bench/quality_eval.py``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.capture.rules import RULES, Example, Rule, decide, fit
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import QualityConfig

# Category -> codes of which at least one must be among the reasons.
EXPECTED: dict[str, frozenset[Reason]] = {
    "eyes_closed": frozenset({Reason.EYES_CLOSED}),
    "smiling_or_mouth_open": frozenset({Reason.MOUTH_OPEN, Reason.EXPRESSION}),
    "non_neutral_expression": frozenset({Reason.EXPRESSION}),
    "head_turned": frozenset({Reason.HEAD_POSE}),
    "head_tilted": frozenset({Reason.HEAD_POSE}),
    "multiple_faces": frozenset({Reason.MULTIPLE_FACES}),
    "no_face": frozenset({Reason.NO_FACE}),
    "occluded": frozenset({Reason.OCCLUDED}),
    "blurred": frozenset({Reason.BLURRY}),
    "low_light_or_overexposed": frozenset({Reason.TOO_DARK, Reason.TOO_BRIGHT}),
}

# A refused glasses photo is refused for what its notes say besides the
# glasses: words in the notes -> the codes they stand for.
GLASSES_NOTES: tuple[tuple[str, frozenset[Reason]], ...] = (
    ("smile", frozenset({Reason.MOUTH_OPEN, Reason.EXPRESSION})),
    ("mouth open", frozenset({Reason.MOUTH_OPEN})),
    ("head covering", frozenset({Reason.OCCLUDED})),
    ("mask", frozenset({Reason.OCCLUDED})),
    ("hands", frozenset({Reason.OCCLUDED})),
    ("tiny image", frozenset({Reason.BLURRY, Reason.FACE_TOO_SMALL})),
    ("glare", frozenset({Reason.GLARE})),
    ("tint", frozenset({Reason.OCCLUDED})),
)


# Rule name -> whether a refused photo's label shows that rule's cue.
CUES: dict[str, Callable[[Label], bool]] = {
    "eyes": lambda lb: lb.eyes in ("closed", "one_closed", "partly_closed"),
    "mouth_open": lambda lb: lb.mouth in ("open", "open_teeth"),
    "mouth_width": lambda lb: lb.mouth in ("closed_smile", "open_teeth"),
    "corner_lift": lambda lb: lb.mouth in ("closed_smile", "open_teeth"),
    "gaze": lambda lb: lb.category == "non_neutral_expression",
    "brow_height": lambda lb: lb.category == "non_neutral_expression",
    "brow_raise": lambda lb: lb.category == "non_neutral_expression",
    "eye_darkness": lambda lb: lb.eyes == "not_visible",
    "lip_contrast": lambda lb: lb.mouth == "occluded",
    "sharpness": lambda lb: lb.category == "blurred",
    "hand": lambda lb: "hand" in lb.notes.lower() and lb.category in ("occluded", "glasses"),
}


@dataclass(frozen=True)
class Label:
    file: str
    category: str
    accept: bool
    notes: str
    source_repo: str = ""
    source_path: str = ""
    eyes: str = ""
    mouth: str = ""

    @property
    def group(self) -> str:
        """Photos sharing an original (a degraded copy and its source) share a group."""
        return f"{self.source_repo}:{self.source_path}" if self.source_path else self.file

    @property
    def cues(self) -> frozenset[str]:
        """The rules (by name) whose cue this photo's label says is present.

        Fitting a threshold against photos that show its own cue (a closed
        eye for the eye rule, a covered mouth for the lip colour rule), not
        every photo refused with the same code, keeps one rule's limit from
        being pulled by photos another rule refuses.
        """
        if self.accept:
            return frozenset()
        found = {name for name, test in CUES.items() if test(self)}
        return frozenset(found)

    @property
    def expected(self) -> frozenset[Reason]:
        """Codes of which one must appear (empty for an accepted photo)."""
        if self.accept:
            return frozenset()
        if self.category == "glasses":
            found: set[Reason] = set()
            notes = self.notes.lower()
            for word, codes in GLASSES_NOTES:
                if word in notes:
                    found |= codes
            return frozenset(found)
        return EXPECTED.get(self.category, frozenset())


@dataclass(frozen=True)
class Outcome:
    label: Label
    reasons: tuple[Reason, ...] | None  # None: the file could not be judged
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reasons is not None and not self.reasons

    @property
    def agrees(self) -> bool:
        return self.reasons is not None and self.accepted == self.label.accept

    @property
    def code_right(self) -> bool:
        """Accepted photos: accepted. Refused ones: one of the expected codes is given."""
        if self.reasons is None:
            return False
        if self.label.accept:
            return self.accepted
        expected = self.label.expected
        if not expected:
            return not self.accepted
        return bool(expected & set(self.reasons))


def read_labels(folder: Path) -> list[Label]:
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return [
            Label(
                file=row["file"],
                category=row["category"],
                accept=row["expected_accept"].strip().lower() == "yes",
                notes=row.get("notes", ""),
                source_repo=row.get("source_repo", ""),
                source_path=row.get("source_path", ""),
                eyes=row.get("eyes", ""),
                mouth=row.get("mouth", ""),
            )
            for row in csv.DictReader(fh)
        ]


def evaluate(
    folder: Path, judge: Callable[[Path], tuple[Reason, ...]], labels: Iterable[Label] | None = None
) -> list[Outcome]:
    outcomes = []
    for label in labels if labels is not None else read_labels(folder):
        try:
            reasons = judge(folder / label.file)
        except ValueError as exc:
            outcomes.append(Outcome(label, None, str(exc)))
            continue
        outcomes.append(Outcome(label, tuple(reasons)))
    return outcomes


@dataclass(frozen=True)
class Summary:
    total: int
    agree: int
    code_right: int

    @property
    def agreement(self) -> float:
        return self.agree / self.total if self.total else 0.0

    @property
    def code_rate(self) -> float:
        return self.code_right / self.total if self.total else 0.0


def summarise(outcomes: list[Outcome]) -> Summary:
    return Summary(
        total=len(outcomes),
        agree=sum(o.agrees for o in outcomes),
        code_right=sum(o.code_right for o in outcomes),
    )


def confusion_table(outcomes: list[Outcome]) -> str:
    """Per category: photos, accepted / refused, right code, and the codes given."""
    categories: dict[str, list[Outcome]] = {}
    for o in outcomes:
        categories.setdefault(o.label.category, []).append(o)
    codes = [r for r in Reason]
    short = {r: r.value for r in codes}
    header = f"{'category':<26}{'n':>3}{'acc':>5}{'ref':>5}{'agree':>7}{'code':>6}  codes given"
    lines = [header, "-" * len(header)]
    for category in sorted(categories):
        group = categories[category]
        accepted = sum(o.accepted for o in group)
        counts: dict[Reason, int] = {}
        for o in group:
            for r in o.reasons or ():
                counts[r] = counts.get(r, 0) + 1
        given = ", ".join(f"{short[r]} {counts[r]}" for r in codes if r in counts)
        errors = sum(o.reasons is None for o in group)
        if errors:
            given += f", unreadable {errors}"
        lines.append(
            f"{category:<26}{len(group):>3}{accepted:>5}{len(group) - accepted:>5}"
            f"{sum(o.agrees for o in group):>7}{sum(o.code_right for o in group):>6}  {given}"
        )
    s = summarise(outcomes)
    lines.append("-" * len(header))
    lines.append(
        f"accept/refuse agreement {s.agree}/{s.total} = {s.agreement:.1%}; "
        f"expected code {s.code_right}/{s.total} = {s.code_rate:.1%}"
    )
    return "\n".join(lines)


# -- cross-validation from cached measures -----------------------------------


@dataclass(frozen=True)
class Measured:
    """One labelled photo after the (expensive) measuring step.

    ``fixed`` are the codes that come from the pipeline itself, not from a
    threshold (no face, a face whose features cannot be found, faces too
    small for the mesh); the threshold rules re-decide the rest from
    ``measures`` under any config.
    """

    label: Label
    measures: dict[str, float] = field(default_factory=dict)
    fixed: tuple[Reason, ...] = ()
    error: str | None = None

    def judge(self, q: QualityConfig, rules: Sequence[Rule] = RULES) -> Outcome:
        if self.error is not None:
            return Outcome(self.label, None, self.error)
        codes = set(self.fixed) | decide(self.measures, q, rules)
        return Outcome(self.label, tuple(r for r in Reason if r in codes))

    def example(self) -> Example:
        return Example(self.measures, self.label.accept, self.label.expected, self.label.cues)


def k_folds(labels: Sequence[Label], k: int, seed: int = 16) -> list[list[int]]:
    """``k`` folds of photo indices; a group (an original and its copies) never splits.

    Groups are dealt round-robin by category after a seeded shuffle, so
    every fold holds a share of each category (stratified).
    """
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label.group, []).append(i)
    by_category: dict[str, list[list[int]]] = {}
    for members in groups.values():
        by_category.setdefault(labels[members[0]].category, []).append(members)
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for category in sorted(by_category):
        batch = by_category[category]
        rng.shuffle(batch)
        for members in batch:
            folds[turn % k].extend(members)
            turn += 1
    return [sorted(f) for f in folds if f]


def source_folds(labels: Sequence[Label]) -> list[list[int]]:
    """One fold per source repository (photos of one source share a camera and a style)."""
    folds: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        folds.setdefault(label.source_repo or label.file, []).append(i)
    return [folds[name] for name in sorted(folds)]


def cross_validate(
    measured: Sequence[Measured],
    folds: Sequence[Sequence[int]],
    q: QualityConfig,
    rules: Sequence[Rule] = RULES,
) -> list[Outcome]:
    """Fit the thresholds on all folds but one, judge the held-out fold; every photo once."""
    outcomes: dict[int, Outcome] = {}
    for held in folds:
        held_set = set(held)
        train = [
            p.example() for i, p in enumerate(measured) if i not in held_set and p.error is None
        ]
        fitted = fit(train, q, rules)
        for i in held:
            outcomes[i] = measured[i].judge(fitted, rules)
    return [outcomes[i] for i in sorted(outcomes)]


def full_set(measured: Sequence[Measured], q: QualityConfig) -> list[Outcome]:
    """Every photo judged under ``q`` (the configured thresholds, or a fit on this very set)."""
    return [p.judge(q) for p in measured]


def measured_from(label: Label, assessment: Assessment, q: QualityConfig) -> Measured:
    """Keep what the threshold rules need; the rest of ``assessment.reasons`` is fixed."""
    ruled = decide(assessment.measures, q) if assessment.landmarks is not None else set()
    fixed = tuple(r for r in assessment.reasons if r not in ruled)
    return Measured(label, dict(assessment.measures), fixed)


def measure_all(
    folder: Path, labels: Sequence[Label], assess: Callable[[Path], Assessment], q: QualityConfig
) -> list[Measured]:
    out = []
    for label in labels:
        try:
            out.append(measured_from(label, assess(folder / label.file), q))
        except ValueError as exc:
            out.append(Measured(label, error=str(exc)))
    return out
