"""What goes into one delivery package, decided from plain records.

Why a model of its own: the same package is written from the kiosk's SQLite
file (:mod:`kiosk.export.from_store`) and, later, from the central receiver's
storage. Each source turns its rows into :class:`Person`, :class:`Take` and
:class:`Erratum` records; :func:`assemble` (pure) decides who is delivered,
missing or due for a retake, and in which order, so the rules are tested once.

The rules:

- a student's delivered photo is their latest *delivered* take (accepted, or
  flagged: delivered but marked by the crew for a check), as in the store's
  ``supersedes`` chain;
- missing: a student in scope with no delivered take (never photographed, or
  every take refused);
- retake: a student whose latest take was refused or flagged, or whose school
  asked for one after it (a ``requested`` take, the review's 重拍). A student whose
  takes were all refused is therefore both missing and due for a retake; the
  two sheets say so from their own side;
- order: 类型 (普通生, 成人生, 研究生, then others), 院系, then 拍摄序号 for
  photos and 学号 for lists, with a stable key as the last tie-break, so a
  second export is byte-identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.student import Student, category_rank

DELIVERED = ("accepted", "flagged")
# ``requested``: the school asked for a retake on its review page (central export).
RETAKE = ("refused", "flagged", "requested")
# Metadata time of a package with no dated record at all (zip needs >= 1980).
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Person(Student):
    """A student as the package shows them. ``key`` orders ties stably."""

    key: str


@dataclass(frozen=True, slots=True)
class Take:
    """One shot of a student. ``taken_at`` is ISO 8601 UTC (text order = time order)."""

    key: str
    student_key: str
    status: str  # accepted | refused | flagged | requested (the school's 重拍)
    taken_at: str
    seq: int | None = None  # 拍摄序号, unique in the school (delivered takes)
    session_key: str = ""
    session_date: str = ""  # local date the session opened, YYYY-MM-DD
    # How the registrar tells sessions apart ("第 3 场") in a whole-school index.
    session_label: str = ""
    source: Path | None = None  # the stored JPEG
    sha256: str = ""
    reasons: tuple[str, ...] = ()
    collection_code: str | None = None


@dataclass(frozen=True, slots=True)
class Erratum:
    """A change the crew made at the station (``field == 'walk_in'``: a student added)."""

    key: str
    student_key: str
    field: str
    old_value: str | None
    new_value: str | None
    note: str
    at: str  # ISO 8601 UTC


@dataclass(frozen=True, slots=True)
class Photo:
    student: Person
    take: Take


@dataclass(frozen=True, slots=True)
class Missing:
    student: Person
    refused: int  # refused takes (0: never photographed)


@dataclass(frozen=True, slots=True)
class Retake:
    student: Person
    latest: Take
    delivered: Take | None  # the photo in the package meanwhile, if any


@dataclass(frozen=True, slots=True)
class Correction:
    student: Person
    erratum: Erratum


@dataclass(frozen=True)
class Package:
    """One school's (or one session's) delivery, everything in output order."""

    folder: str  # folder name under --out
    school_code: str
    school_name: str
    scope: str  # e.g. "全校" or "普通生 信息学院 (session 3)", for headers
    photos: tuple[Photo, ...] = ()
    missing: tuple[Missing, ...] = ()
    retakes: tuple[Retake, ...] = ()
    corrections: tuple[Correction, ...] = ()
    stamp: dt.datetime = EPOCH  # metadata time of every file: the newest record's time
    utc_offset: dt.timedelta = field(default=dt.timedelta(hours=8))

    def local_text(self, iso_utc: str) -> str:
        """A stored UTC timestamp as the shooting site's local time, to the minute
        (a value that is not a timestamp is shown as it is)."""
        try:
            moment = parse_time(iso_utc)
        except (TypeError, ValueError):
            return str(iso_utc or "")
        return f"{(moment.astimezone(dt.UTC) + self.utc_offset):%Y-%m-%d %H:%M}"


def group_key(student: Person) -> tuple[tuple[int, str], str]:
    """Proof sheets and sheets are grouped by (类型, 院系) in this order."""
    return (category_rank(student.category), student.department)


def parse_time(iso: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def assemble(
    students: Iterable[Person],
    takes: Iterable[Take],
    errata: Iterable[Erratum] = (),
    *,
    folder: str,
    school_code: str,
    school_name: str,
    scope: str,
    utc_offset: dt.timedelta = dt.timedelta(hours=8),
) -> Package:
    """Decide the package from plain records (pure; see the module's rules)."""
    people = {s.key: s for s in students}
    by_student: dict[str, list[Take]] = {key: [] for key in people}
    for take in takes:
        if take.student_key in by_student:
            by_student[take.student_key].append(take)

    photos: list[Photo] = []
    missing: list[Missing] = []
    retakes: list[Retake] = []
    newest = ""
    for key, student in people.items():
        history = sorted(by_student[key], key=lambda t: (t.taken_at, t.key))
        if history:
            newest = max(newest, history[-1].taken_at)
        delivered = [t for t in history if t.status in DELIVERED]
        latest_delivered = delivered[-1] if delivered else None
        if latest_delivered is not None:
            photos.append(Photo(student, latest_delivered))
        else:
            refused = sum(1 for t in history if t.status == "refused")
            missing.append(Missing(student, refused))
        if history and history[-1].status in RETAKE:
            retakes.append(Retake(student, history[-1], latest_delivered))

    corrections = [Correction(people[e.student_key], e) for e in errata if e.student_key in people]
    for c in corrections:
        newest = max(newest, c.erratum.at)

    def by_person(s: Person) -> tuple[object, ...]:
        return (group_key(s), s.student_number, s.name, s.key)

    photos.sort(
        key=lambda p: (
            group_key(p.student),
            p.take.session_date,
            p.take.session_key,
            p.take.seq if p.take.seq is not None else 1 << 62,
            p.take.taken_at,
            p.student.key,
        )
    )
    missing.sort(key=lambda m: by_person(m.student))
    retakes.sort(key=lambda r: by_person(r.student))
    corrections.sort(key=lambda c: (c.erratum.at, c.erratum.key))
    try:
        stamp = parse_time(newest).astimezone(dt.UTC) if newest else EPOCH
    except ValueError:  # a record with a timestamp in some other form
        stamp = EPOCH
    return Package(
        folder=folder,
        school_code=school_code,
        school_name=school_name,
        scope=scope,
        photos=tuple(photos),
        missing=tuple(missing),
        retakes=tuple(retakes),
        corrections=tuple(corrections),
        stamp=max(stamp.replace(microsecond=0), EPOCH),
        utc_offset=utc_offset,
    )
