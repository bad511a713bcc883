"""Measure the quality check against a labelled photo set (../shared/faces).

The set's ``labels.csv`` names a category per photo; this module says which
reason codes each category expects (the mapping of issue 3) and runs the
check over the set in ``--face-only`` mode, since the photos were not taken
in the kiosk. Used by the test suite and by ``bench/quality_eval.py``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kiosk.capture.verdict import Reason

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
    ("tiny image", frozenset({Reason.BLURRY})),
    ("glare", frozenset({Reason.OCCLUDED})),
    ("tint", frozenset({Reason.OCCLUDED})),
)


@dataclass(frozen=True)
class Label:
    file: str
    category: str
    accept: bool
    notes: str

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
