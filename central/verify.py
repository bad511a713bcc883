"""Does the receiver hold what its database says? Records against their photos.

Two users: the session summary (reconciliation and a kiosk's purge), which
must not answer "match" unless every record's photo is here with its size
and sha256, and ``central verify``, the receiver's counterpart of ``kiosk
verify``: every record, the database's own integrity, and photos no record
names (kept for a grace period, then collected).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from central.storage import Metadata, PhotoStore

# A photo is uploaded before the batch that names it is committed; a kiosk
# killed in between resumes within minutes, or days later after a trip.
# Unreferenced photos younger than this are uploads whose batch is coming.
GC_GRACE_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class PhotoProblem:
    record: str
    sha256: str
    problem: str


def unproven(photos: PhotoStore, references: Iterable[tuple[str, str, int]]) -> list[PhotoProblem]:
    """Records whose photo is not held intact right now (each photo read once)."""
    verdicts: dict[tuple[str, int], str | None] = {}
    problems = []
    for record, sha, size in references:
        key = (sha, size)
        if key not in verdicts:
            verdicts[key] = photos.check(sha, size)
        problem = verdicts[key]
        if problem is not None:
            problems.append(PhotoProblem(record, sha, problem))
    return problems


@dataclass
class VerifyReport:
    records: int = 0
    photos: int = 0
    problems: list[str] = field(default_factory=list)
    unreferenced: int = 0  # photos no record names, inside the grace period
    collected: int = 0  # unreferenced photos deleted by --gc

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "photos": self.photos,
            "problems": self.problems,
            "unreferenced": self.unreferenced,
            "collected": self.collected,
        }


def verify_receiver(
    photos: PhotoStore,
    metadata: Metadata,
    *,
    collect: bool = False,
    grace_seconds: float = GC_GRACE_SECONDS,
    clock: float | None = None,
) -> VerifyReport:
    """Every record against its photo, the database's integrity, unreferenced photos.

    With ``collect``, unreferenced photos older than ``grace_seconds`` are
    deleted: no batch named them in all that time, so no kiosk is about to.
    """
    report = VerifyReport()
    references = list(metadata.photo_references())
    report.records = len(references)
    for problem in unproven(photos, references):
        report.problems.append(
            f"record {problem.record}: photo {problem.sha256[:12]}… {problem.problem}"
        )
    report.problems += [f"database: {line}" for line in metadata.integrity_problems()]
    named = {sha for _, sha, _ in references}
    at = time.time() if clock is None else clock
    expired = []
    for sha, modified in photos.digests():
        report.photos += 1
        if sha in named:
            continue
        if collect and at - modified >= grace_seconds:
            expired.append(sha)
        else:
            report.unreferenced += 1
    if expired:
        report.collected = metadata.collect_photos(expired, photos.remove)
        report.unreferenced += len(expired) - report.collected
    return report
