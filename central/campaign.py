"""The campaign as the central office sees it: schedule, progress, proposals, review.

Pure rules and the shapes the storage returns; no I/O here except reading
the schedule sheet (through the roster reader, so .xlsx and .csv behave the
same). The storage (central/local_campaign.py, later PostgreSQL) answers the
queries; the web pages and the CLI only show what these types hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.roster import RosterError, Table, header_key, read_table
from kiosk.student import CODE_KEY

# The notice's planning figure: one crew photographs about 100 students an hour.
CREW_RATE_PER_HOUR = 100

# Student fields a station may change (a correction) and that the school may
# correct on its review page; compared with the office's roster.
CORRECTABLE = (
    "name",
    "sex",
    "student_number",
    "department",
    "major",
    "degree",
    "category",
)
FIELD_LABELS = {
    "name": "姓名",
    "sex": "性别",
    "student_number": "学号",
    "department": "院系",
    "major": "专业名称",
    "degree": "学历",
    "category": "类型",
    "walk_in": "新增学生（名单外现场补录）",
}
RETAKE_REASONS = {
    "eyes_closed": "闭眼",
    "expression": "表情不自然",
    "wrong_person": "非本人",
    "other": "其他",
}
ROLES = ("office", "school")


class ScheduleError(ValueError):
    """The schedule sheet cannot be used; nothing was imported."""


@dataclass(frozen=True, slots=True)
class PlannedSchool:
    """A school on the schedule. ``expected``: the headcount summed over its 类型
    rows (None when the sheet gives none). A scheduled school without a roster
    is shot in 采集码 mode; the kiosk counts against this headcount."""

    expected: int | None


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One row of the notice's 时间安排表: a school and one 类型."""

    school_name: str
    school_code: str
    category: str
    expected: int | None
    head: str = ""
    head_phone: str = ""
    contact: str = ""
    contact_phone: str = ""
    address: str = ""
    postcode: str = ""
    dates: str = ""
    crews: int | None = None
    note: str = ""


_SCHEDULE_HEADERS = {
    "院校名称": "school_name",
    "院校代码": "school_code",
    "类型": "category",
    "人数": "expected",
    "负责人": "head",
    "负责人电话": "head_phone",
    "联系人": "contact",
    "联系人电话": "contact_phone",
    "校址": "address",
    "邮编": "postcode",
    "拍摄时间": "dates",
    "组数": "crews",
    "备注": "note",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _count(value: Any, what: str, row: int) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not re.fullmatch(r"\d+", text):
        raise ScheduleError(
            f"row {row}: {what} {text!r} is not a whole number; fix it and import again"
        )
    return int(text)


def _header_row(table: Table) -> int | None:
    return next(
        (
            i
            for i, (_, cells) in enumerate(table.rows[:20])
            if {"院校名称", "类型"} <= {header_key(c) for c in cells}
        ),
        None,
    )


def read_schedule(path: Path) -> list[ScheduleEntry]:
    """The notice's 时间安排表 (.xlsx or .csv), one entry per school and 类型."""
    try:
        table = read_table(path, lambda t: _header_row(t) is not None, ("院校名称", "类型", "人数"))
    except RosterError as exc:  # the reader's own errors say what is wrong with the file
        raise ScheduleError(str(exc)) from exc
    header_row = _header_row(table)
    if header_row is None:
        raise ScheduleError(
            f"{path.name}: no header row with 院校名称 and 类型 in the first 20 rows"
        )
    columns = {
        _SCHEDULE_HEADERS[header_key(c)]: i
        for i, c in enumerate(table.rows[header_row][1])
        if header_key(c) in _SCHEDULE_HEADERS
    }
    entries: list[ScheduleEntry] = []
    seen: set[tuple[str, str]] = set()
    for excel_row, cells in table.rows[header_row + 1 :]:

        def cell(name: str, cells: list[Any] = cells) -> Any:
            index = columns.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        name = _text(cell("school_name"))
        if not name:
            continue
        code = _text(cell("school_code"))
        if code and not re.fullmatch(r"\d{5}", code):
            raise ScheduleError(f"row {excel_row}: 院校代码 {code!r} is not 5 digits")
        category = _text(cell("category"))
        if (name, category) in seen:
            raise ScheduleError(f"row {excel_row}: {name} {category} appears twice")
        seen.add((name, category))
        entries.append(
            ScheduleEntry(
                school_name=name,
                school_code=code,
                category=category,
                expected=_count(cell("expected"), "人数", excel_row),
                head=_text(cell("head")),
                head_phone=_text(cell("head_phone")),
                contact=_text(cell("contact")),
                contact_phone=_text(cell("contact_phone")),
                address=_text(cell("address")),
                postcode=_text(cell("postcode")),
                dates=_text(cell("dates")),
                crews=_count(cell("crews"), "组数", excel_row),
                note=_text(cell("note")),
            )
        )
    if not entries:
        raise ScheduleError(f"{path.name}: the sheet has a header but no schools")
    return entries


@dataclass(frozen=True, slots=True)
class SchoolProgress:
    """One line of the office overview and of ``central status --json``."""

    code: str
    name: str
    dates: str
    expected: int | None
    roster: int
    photographed: int
    missing: int
    retakes: int
    flagged: int
    review_finished: bool = False
    collisions: int = 0  # 拍摄序号 two kiosks both gave in this school (SeqCollision)

    @property
    def percent_done(self) -> float:
        """Against the roster, or (采集码 mode, no roster) the expected headcount."""
        base = self.roster or self.expected or 0
        return 0.0 if base == 0 else min(100.0, 100.0 * self.photographed / base)


@dataclass(frozen=True, slots=True)
class SeqCollision:
    """One 拍摄序号 that records from different kiosks of one school both carry.

    The rule (kiosk/shot_number.py) leaves none, unless a kiosk's numbering
    is not its own: a data folder copied onto another kiosk, a kiosk
    re-registered under a new id. The package cannot print it twice.
    """

    school_code: str
    seq: int
    holders: tuple[tuple[str, str], ...]  # (kiosk id, record uuid), oldest first

    def describe(self) -> str:
        kiosks = sorted({k for k, _ in self.holders})
        return (
            f"{self.school_code}: 拍摄序号 {self.seq} was given by {' and '.join(kiosks)} "
            f"(records {', '.join(u[:8] for _, u in self.holders)})"
        )


# What the office does about a collision (central export refuses, verify lists it).
COLLISION_ADVICE = (
    "one of these kiosks numbers with another kiosk's number (its data folder was copied "
    "or it was re-registered): run `kiosk roster pull` on it so it takes its own number, "
    "then photograph one of the students again there (the newer photo, with a new "
    "拍摄序号, is delivered) and export again"
)


def missing_count(
    roster: int, photographed_on_roster: int, photographed: int, expected: int | None
) -> int:
    """Missing against the full roster; with no roster, against the expected headcount."""
    if roster:
        return roster - photographed_on_roster
    return max(0, (expected or 0) - photographed)


@dataclass(frozen=True, slots=True)
class KioskActivity:
    kiosk: str
    last_sync: str | None
    shots_today: int
    rate_per_hour: float  # today's delivered shots over the hours between first and last

    @property
    def rate_share(self) -> float:
        return self.rate_per_hour / CREW_RATE_PER_HOUR


@dataclass(frozen=True, slots=True)
class GroupProgress:
    category: str
    department: str
    roster: int
    photographed: int


@dataclass(frozen=True, slots=True)
class StudentView:
    """A student on a school's pages: roster values, their delivered photo, the decisions."""

    key: str  # student_key: the ID number, or code:<采集码>; never shown in a URL
    name: str
    student_number: str
    id_number: str
    sex: str
    department: str
    major: str
    category: str
    degree: str
    record: str | None  # the delivered record's uuid (its photo's address)
    status: str | None  # accepted | flagged | None (not photographed)
    seq: int | None
    retake_requested: bool = False
    corrected: tuple[str, ...] = ()
    collection_code: str = ""  # 采集码 students (no ID number)


@dataclass(frozen=True, slots=True)
class Decision:
    """The school's word on one student: 重拍 (retake) or 信息有误 (erratum)."""

    school_code: str
    id_number: str
    kind: str  # retake | erratum
    reason: str = ""  # retake: a RETAKE_REASONS key
    field: str = ""  # erratum: one of CORRECTABLE
    old_value: str = ""
    new_value: str = ""
    user: str = ""
    at: str = ""
    id: int = 0
    # Withdrawn by the school (or replaced by a newer correction): kept, not applied.
    withdrawn_at: str | None = None
    withdrawn_by: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    """A change made at a station (a walk-in, a corrected field) for the office to see."""

    school_code: str
    id_number: str
    name: str
    field: str
    old_value: str
    new_value: str
    kiosk: str
    at: str


def proposals(
    roster_row: Mapping[str, Any] | None, station: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """What a station's copy of a student says that the office's roster does not.

    A student the roster lacks (or added at the station) is one ``walk_in``;
    otherwise one (field, roster value, station value) per differing field.
    A student photographed from a 学信网 图像采集码 (no ID number) is no walk-in:
    in that mode there is no roster to be missing from.
    """
    if roster_row is None and station.get("origin") == "collection_code":
        return []
    if roster_row is None or station.get("origin") == "walk_in":
        return [("walk_in", "", str(station.get("name") or ""))]
    changes = []
    for name in CORRECTABLE:
        old, new = _text(roster_row.get(name)), _text(station.get(name))
        if new and old != new:
            changes.append((name, old, new))
    return changes


def records_of(key_column: str, records: str = "r") -> str:
    """SQL: the records of the student whose key is ``key_column`` (both indexes usable)."""
    return (
        f"({records}.id_number = {key_column} OR ({records}.id_number IS NULL AND "
        f"{records}.collection_code = CASE WHEN {key_column} LIKE '{CODE_KEY}%' "
        f"THEN substr({key_column}, {len(CODE_KEY) + 1}) END))"
    )


def mask_id_number(value: str | None) -> str:
    """On screen an ID number shows its first 6 and last 4 characters only."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(0, len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_code(value: str | None) -> str:
    """A 采集码 on screen: like an ID number, its first 6 and last 4 characters only
    (a code is 40 characters or a whole URL: the stars are not counted out)."""
    if not value:
        return ""
    return mask_id_number(value) if len(value) <= 18 else value[:6] + "*" * 8 + value[-4:]


def local_time(iso_utc: str | None, utc_offset_hours: float) -> str:
    """A stored UTC stamp as the office reads it: local "MM-DD HH:MM", "" for none.

    Text that is not an ISO stamp is shown as it is rather than hidden."""
    if not iso_utc:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso_utc)
    except ValueError:
        return iso_utc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(dt.UTC) + dt.timedelta(hours=utc_offset_hours)
    return f"{local:%m-%d %H:%M}"


@dataclass
class ReviewState:
    school_code: str
    decisions: list[Decision] = field(default_factory=list)
    finished_at: str | None = None
    finished_by: str = ""
    withdrawn: list[Decision] = field(default_factory=list)  # newest first, for the history


def group_progress(rows: Iterable[GroupProgress]) -> list[GroupProgress]:
    """In the package's order: 类型 (普通生, 成人生, 研究生, others), then 院系."""
    from kiosk.student import category_rank

    return sorted(rows, key=lambda g: (category_rank(g.category), g.department))


@dataclass(frozen=True, slots=True)
class StudentState:
    """Where one student stands, folded from their records in any order.

    The office keeps one per (school, student) and updates it as records
    arrive, so the overview sums a few numbers per school instead of
    re-reading every record (150,000 in a campaign) on each page view.
    """

    latest_status: str = ""
    latest_at: str = ""
    delivered_at: str = ""  # newest delivered (accepted or flagged) take
    flagged_at: str = ""  # newest flagged take
    on_roster: bool = False

    def add(self, status: str, taken_at: str) -> StudentState:
        """This state with one more record (ISO UTC text compares as time)."""
        latest = taken_at >= self.latest_at
        delivered = status in ("accepted", "flagged")
        return StudentState(
            latest_status=status if latest else self.latest_status,
            latest_at=taken_at if latest else self.latest_at,
            delivered_at=max(self.delivered_at, taken_at) if delivered else self.delivered_at,
            flagged_at=max(self.flagged_at, taken_at) if status == "flagged" else self.flagged_at,
            on_roster=self.on_roster,
        )

    def counts(self) -> tuple[int, int, int, int]:
        """(photographed, photographed and on the roster, due for a retake by the crew's
        verdict, delivered photo flagged): this student's share of the school's totals."""
        photographed = bool(self.delivered_at)
        return (
            int(photographed),
            int(photographed and self.on_roster),
            int(self.latest_status in ("refused", "flagged")),
            int(bool(self.flagged_at) and self.flagged_at == self.delivered_at),
        )
