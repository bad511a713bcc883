"""``kiosk roster pull``: the school's roster from the central office instead of a USB stick.

The answer is stored exactly as an import of the same rows would store it
(:func:`kiosk.roster.store_checked`: upsert on the ID number, an entry in
``roster_imports``), so the station, the export and ``roster find`` see no
difference. With it come this kiosk's number (the base of its 拍摄序号, see
docs/architecture.md), the highest 拍摄序号 the office already holds from
this kiosk for the school (a rebuilt SD card continues after it, never
reusing one), the school's open retake requests, and the schedule's name
and expected headcount of the school (a 采集码 school comes with no rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.durable import now
from kiosk.roster import CheckedRoster, CheckedRow, ImportReport, store_checked
from kiosk.store import SEQ_SPAN, Store
from kiosk.student import DESCRIPTION_FIELDS, Student, student_key

_STUDENT_FIELDS = set(DESCRIPTION_FIELDS)


class PullError(ValueError):
    """The office's answer cannot be stored; nothing was changed."""


@dataclass(frozen=True, slots=True)
class PullResult:
    report: ImportReport
    kiosk_number: int
    next_seq: int
    retakes: int
    version: str
    expected: int | None = None


def _student(row: Any, school_code: str) -> Student:
    if not isinstance(row, dict) or not isinstance(row.get("id_number"), str):
        raise PullError("a roster row without an ID number; pull again or ask the office")
    values = {k: v for k, v in row.items() if k in _STUDENT_FIELDS}
    if values.get("school_code") != school_code:
        raise PullError(f"a row of school {values.get('school_code')!r} in {school_code}'s roster")
    return Student(**values)


def apply_pull(store: Store, answer: dict[str, Any], server: str) -> PullResult:
    school_code = str(answer["school_code"])
    version = str(answer.get("version") or "")
    students = [_student(row, school_code) for row in answer["students"]]
    number = answer.get("kiosk_number")
    highest = answer.get("highest_seq", 0)
    if not isinstance(number, int) or number < 1 or not isinstance(highest, int):
        raise PullError("the office sent no kiosk number; update the receiver")
    retakes = answer.get("retakes") or []
    expected = answer.get("expected")
    if expected is not None and (not isinstance(expected, int) or expected < 0):
        raise PullError("the office sent an expected headcount that is not a count")
    name = f"central {school_code} {version}".strip()
    checked = CheckedRoster(
        report=ImportReport(file=name, rows=len(students)),
        good=[CheckedRow(i + 1, s) for i, s in enumerate(students)],
        file_name=name,
        sha256=version,
    )
    # One transaction: the roster, the number, the counter floor and the requests, or nothing.
    with store.transaction() as conn:
        store.adopt_kiosk_number(conn, number, replace=True)
        # Never back: the larger of what this kiosk counted and what the office holds.
        floor = max(number * SEQ_SPAN, highest) + 1
        conn.execute(
            "INSERT INTO school_counters (school_code, next_seq) VALUES (?, ?) "
            "ON CONFLICT(school_code) DO UPDATE SET next_seq = max(next_seq, excluded.next_seq)",
            (school_code, floor),
        )
        conn.execute("DELETE FROM retake_requests WHERE school_code = ?", (school_code,))
        conn.executemany(
            "INSERT OR REPLACE INTO retake_requests (id_number, school_code, reason, requested_at) "
            "VALUES (?, ?, ?, ?)",
            [
                (key, school_code, str(r.get("reason", "")), str(r["requested_at"]))
                for r in retakes
                if isinstance(r, dict)
                and r.get("requested_at")
                # A 采集码 student (no ID number) is keyed by code (kiosk.student.student_key).
                and (key := student_key(r.get("id_number"), r.get("collection_code")))
            ],
        )
        conn.execute(
            "INSERT OR REPLACE INTO school_plans (school_code, school_name, expected, at) "
            "VALUES (?, ?, ?, ?)",
            (school_code, str(answer.get("school_name") or ""), expected, now()),
        )
        conn.execute(
            "INSERT INTO roster_pulls (school_code, server, version, students, at) "
            "VALUES (?, ?, ?, ?, ?)",
            (school_code, server, version, len(students), now()),
        )
        next_seq = int(
            conn.execute(
                "SELECT next_seq FROM school_counters WHERE school_code = ?", (school_code,)
            ).fetchone()[0]
        )
        report = store_checked(store, checked)
    return PullResult(report, number, next_seq, len(retakes), version, expected)
