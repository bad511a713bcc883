"""The campaign's state in the embedded SQLite file (central.db), beside the sync's tables.

Rosters, the schedule, kiosk numbers and the schools' review decisions live
here; the received records are read from the sync's ``records`` table. The
web pages and the CLI reach all of it through :class:`central.storage.CampaignStore`,
so a PostgreSQL implementation replaces this one file.

Its own connection (WAL: readers never block the receiver's writes) and its
own lock; every write is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from central.campaign import (
    Decision,
    GroupProgress,
    KioskActivity,
    Proposal,
    ReviewState,
    ScheduleEntry,
    SchoolProgress,
    StudentView,
    group_progress,
    missing_count,
    proposals,
)
from central.database import Connection, Database, retried
from kiosk.durable import now
from kiosk.roster import IMPORT_LOG_INSERT, UPSERTED, CheckedRoster, ImportReport
from kiosk.student import COMPARED_FIELDS

DELIVERED_SQL = "('accepted', 'flagged')"
SCHEDULE_COLUMNS = tuple(f.name for f in dataclasses.fields(ScheduleEntry))

SCHEMA = """
CREATE TABLE IF NOT EXISTS roster (
    id              INTEGER PRIMARY KEY,
    id_number       TEXT NOT NULL UNIQUE,
    student_number  TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    sex             TEXT NOT NULL DEFAULT '',
    school_name     TEXT NOT NULL DEFAULT '',
    school_code     TEXT NOT NULL,
    degree          TEXT NOT NULL DEFAULT '',
    major           TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',
    roster_seq      TEXT NOT NULL DEFAULT '',
    birth_date      TEXT,
    source_file     TEXT NOT NULL,
    source_row      INTEGER NOT NULL,
    imported_at     TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS roster_school ON roster(school_code, category, department);
CREATE TABLE IF NOT EXISTS roster_imports (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    imported    INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule (
    school_name   TEXT NOT NULL,
    school_code   TEXT NOT NULL,
    category      TEXT NOT NULL,
    expected      INTEGER,
    head          TEXT NOT NULL, head_phone TEXT NOT NULL,
    contact       TEXT NOT NULL, contact_phone TEXT NOT NULL,
    address       TEXT NOT NULL, postcode TEXT NOT NULL,
    dates         TEXT NOT NULL,
    crews         INTEGER,
    note          TEXT NOT NULL,
    PRIMARY KEY (school_name, category)
);
CREATE TABLE IF NOT EXISTS kiosk_numbers (
    kiosk_id    TEXT PRIMARY KEY,
    number      INTEGER NOT NULL UNIQUE,
    at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    id          INTEGER PRIMARY KEY,
    school_code TEXT NOT NULL,
    id_number   TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- retake | erratum
    reason      TEXT NOT NULL DEFAULT '',
    field       TEXT NOT NULL DEFAULT '',
    old_value   TEXT NOT NULL DEFAULT '',
    new_value   TEXT NOT NULL DEFAULT '',
    "user"      TEXT NOT NULL,
    at          TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX IF NOT EXISTS decisions_school ON decisions(school_code, id_number);
CREATE TABLE IF NOT EXISTS reviews_finished (
    school_code TEXT PRIMARY KEY,
    "user"      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_school_status ON records(school_code, status, id_number);
CREATE INDEX IF NOT EXISTS records_kiosk_taken ON records(kiosk_id, taken_at);
"""

_ROSTER_UPSERT = f"""
INSERT INTO roster ({", ".join(UPSERTED)}, source_file, source_row, imported_at, updated_at)
VALUES ({", ".join("?" for _ in UPSERTED)}, ?, ?, ?, ?)
ON CONFLICT(id_number) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in UPSERTED if c != "id_number")},
source_file = excluded.source_file, source_row = excluded.source_row,
updated_at = excluded.updated_at
"""


def _local_day_start(utc_offset_hours: float, at: dt.datetime | None = None) -> str:
    """Midnight of the shooting site's today, as an ISO UTC string comparable with taken_at."""
    offset = dt.timedelta(hours=utc_offset_hours)
    moment = (at or dt.datetime.now(dt.UTC)) + offset
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0) - offset
    return midnight.astimezone(dt.UTC).isoformat(timespec="milliseconds")


class SqlCampaign:
    """The campaign's tables in SQLite or PostgreSQL (central/database.py), one SQL text."""

    def __init__(self, db: Database, *, utc_offset_hours: float = 8.0) -> None:
        self.db = db
        self.utc_offset_hours = utc_offset_hours

    def close(self) -> None:
        self.db.close()

    # -- rosters and the schedule ----------------------------------------------------

    @retried
    def import_roster(self, checked: CheckedRoster) -> ImportReport:
        stamp = now()
        with self.db.write() as conn:
            checked.count_changes(
                {
                    row["id_number"]: tuple(row[c] for c in COMPARED_FIELDS)
                    for row in conn.execute(
                        f"SELECT id_number, {', '.join(COMPARED_FIELDS)} FROM roster"
                    )
                }
            )
            conn.executemany(_ROSTER_UPSERT, checked.upsert_values(stamp))
            conn.execute(IMPORT_LOG_INSERT, checked.log_values(stamp))
        return checked.report

    @retried
    def import_schedule(self, entries: list[ScheduleEntry]) -> int:
        """Replace the schedule: the notice's sheet is the whole plan each time."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM schedule")
            conn.executemany(
                f"INSERT INTO schedule ({', '.join(SCHEDULE_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in SCHEDULE_COLUMNS)})",
                [
                    (
                        e.school_name,
                        e.school_code,
                        e.category,
                        e.expected,
                        e.head,
                        e.head_phone,
                        e.contact,
                        e.contact_phone,
                        e.address,
                        e.postcode,
                        e.dates,
                        e.crews,
                        e.note,
                    )
                    for e in entries
                ],
            )
        return len(entries)

    def schedule(self) -> list[ScheduleEntry]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM schedule ORDER BY rowid"
            ).fetchall()
        return [ScheduleEntry(**dict(r)) for r in rows]

    def roster(self, school_code: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(UPSERTED)} FROM roster WHERE school_code = ? ORDER BY id",
                (school_code,),
            ).fetchall()
        return [dict(r) for r in rows]

    def school_name(self, school_code: str) -> str | None:
        with self.db.read() as conn:
            for query in (
                "SELECT school_name FROM schedule WHERE school_code = ?",
                "SELECT school_name FROM roster WHERE school_code = ? AND school_name != ''",
                "SELECT school_name FROM records WHERE school_code = ? AND school_name != ''",
            ):
                row = conn.execute(query + " LIMIT 1", (school_code,)).fetchone()
                if row is not None:
                    return str(row[0])
        return None

    def school_codes(self) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT school_code FROM schedule WHERE school_code != '' "
                "UNION SELECT school_code FROM roster UNION SELECT school_code FROM records "
                "ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    # -- kiosks ------------------------------------------------------------------------

    @retried
    def kiosk_number(self, kiosk_id: str) -> int:
        """The kiosk's number (1, 2, ...), handed out once and never reused."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT number FROM kiosk_numbers WHERE kiosk_id = ?", (kiosk_id,)
            ).fetchone()
            if row is not None:
                return int(row[0])
            number = int(
                conn.execute("SELECT coalesce(max(number), 0) + 1 FROM kiosk_numbers").fetchone()[0]
            )
            conn.execute(
                "INSERT INTO kiosk_numbers (kiosk_id, number, at) VALUES (?, ?, ?)",
                (kiosk_id, number, now()),
            )
        return number

    def highest_seq(self, kiosk_id: str, school_code: str) -> int:
        """The highest 拍摄序号 this kiosk has sent for the school (a rebuilt kiosk continues after it)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM records WHERE kiosk_id = ? AND school_code = ?",
                (kiosk_id, school_code),
            ).fetchone()
        return int(row[0])

    def retake_requests(self, school_code: str) -> list[Decision]:
        """The school's retake requests not yet answered by a newer delivered photo."""
        with self.db.read() as conn:
            return self._pending_retakes(conn, school_code)

    def kiosk_activity(self) -> list[KioskActivity]:
        since = _local_day_start(self.utc_offset_hours)
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT k.kiosk_id, (SELECT max(received_at) FROM batches b "
                "WHERE b.kiosk_id = k.kiosk_id) AS last_sync, "
                f"count(r.id) AS today, min(r.taken_at) AS first, max(r.taken_at) AS last "
                "FROM (SELECT DISTINCT kiosk_id FROM tokens) k "
                "LEFT JOIN records r ON r.kiosk_id = k.kiosk_id AND r.taken_at >= ? "
                f"AND r.status IN {DELIVERED_SQL} GROUP BY k.kiosk_id ORDER BY k.kiosk_id",
                (since,),
            ).fetchall()
        result = []
        for r in rows:
            rate = 0.0
            if r["today"] and r["first"] and r["last"]:
                hours = (
                    dt.datetime.fromisoformat(r["last"]) - dt.datetime.fromisoformat(r["first"])
                ).total_seconds() / 3600
                rate = r["today"] / max(hours, 0.25)  # under a quarter hour says little
            result.append(KioskActivity(r["kiosk_id"], r["last_sync"], r["today"], rate))
        return result

    # -- progress ------------------------------------------------------------------------

    def progress(self, school_code: str | None = None) -> list[SchoolProgress]:
        """Per school: expected, roster, photographed, missing, retakes, flagged."""
        where = "" if school_code is None else " WHERE code = :code"
        with self.db.read() as conn:
            rows = conn.execute(
                _PROGRESS_SQL + where + " ORDER BY code", {"code": school_code}
            ).fetchall()
        result = []
        for r in rows:
            result.append(
                SchoolProgress(
                    code=r["code"],
                    name=r["name"] or "",
                    dates=r["dates"] or "",
                    expected=r["expected"],
                    roster=r["roster"],
                    photographed=r["photographed"],
                    missing=missing_count(
                        r["roster"], r["on_roster"], r["photographed"], r["expected"]
                    ),
                    retakes=r["retakes"],
                    flagged=r["flagged"],
                    review_finished=bool(r["finished"]),
                )
            )
        if school_code is None:
            result += self._uncoded_schools()
        return result

    def _uncoded_schools(self) -> list[SchoolProgress]:
        """Schedule rows without a 院校代码: no roster or photo can name them, but the
        office still plans them (their expected headcount counts in the totals)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT school_name, min(dates) AS dates, sum(expected) AS expected "
                "FROM schedule WHERE school_code = '' GROUP BY school_name ORDER BY school_name"
            ).fetchall()
        return [
            SchoolProgress(
                code="",
                name=r["school_name"],
                dates=r["dates"] or "",
                expected=r["expected"],
                roster=0,
                photographed=0,
                missing=r["expected"] or 0,
                retakes=0,
                flagged=0,
            )
            for r in rows
        ]

    def groups(self, school_code: str) -> list[GroupProgress]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT category, department, count(*) AS roster, "
                "sum(CASE WHEN EXISTS (SELECT 1 FROM records r WHERE r.id_number = ro.id_number "
                f"AND r.status IN {DELIVERED_SQL}) THEN 1 ELSE 0 END) AS photographed "
                "FROM roster ro WHERE school_code = ? GROUP BY category, department",
                (school_code,),
            ).fetchall()
        return group_progress(
            GroupProgress(r["category"], r["department"], r["roster"], r["photographed"] or 0)
            for r in rows
        )

    def students(
        self,
        school_code: str,
        *,
        query: str = "",
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[StudentView], int]:
        """A page of the school's students (roster and walk-ins) with their delivered photo."""
        conditions = ["s.school_code = :code"]
        params: dict[str, Any] = {"code": school_code, "limit": limit, "offset": offset}
        if query:
            conditions.append(
                "(s.name LIKE :like OR s.student_number LIKE :prefix OR s.id_number = upper(:q))"
            )
            params.update(like=f"%{query}%", prefix=f"{query}%", q=query)
        if department is not None:
            conditions.append("s.department = :department")
            params["department"] = department
        where = " AND ".join(conditions)
        with self.db.read() as conn:
            total = conn.execute(
                f"SELECT count(*) FROM ({_students_sql(self.db)}) s WHERE {where}", params
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT s.*, d.uuid AS record, d.status AS status, d.seq AS seq FROM "
                f"({_students_sql(self.db)}) s LEFT JOIN records d ON d.id = (SELECT r.id FROM records r "
                f"WHERE r.id_number = s.id_number AND r.status IN {DELIVERED_SQL} "
                "ORDER BY r.taken_at DESC, r.id DESC LIMIT 1) "
                f"WHERE {where} ORDER BY s.category, s.department, s.student_number, s.id_number "
                "LIMIT :limit OFFSET :offset",
                params,
            ).fetchall()
            decided = {
                (d["id_number"], d["kind"], d["field"])
                for d in conn.execute(
                    "SELECT id_number, kind, field FROM decisions d WHERE school_code = ? "
                    "AND withdrawn_at IS NULL",
                    (school_code,),
                )
            }
            pending = {d.id_number for d in self._pending_retakes(conn, school_code)}
        views = []
        for r in rows:
            views.append(
                StudentView(
                    key=r["id_number"],
                    name=r["name"],
                    student_number=r["student_number"] or "",
                    id_number=r["id_number"],
                    sex=r["sex"] or "",
                    department=r["department"] or "",
                    major=r["major"] or "",
                    category=r["category"] or "",
                    degree=r["degree"] or "",
                    record=r["record"],
                    status=r["status"],
                    seq=r["seq"],
                    retake_requested=r["id_number"] in pending,
                    corrected=tuple(
                        sorted(f for (i, k, f) in decided if i == r["id_number"] and k == "erratum")
                    ),
                )
            )
        return views, int(total)

    def _pending_retakes(self, conn: Connection, school_code: str) -> list[Decision]:
        rows = conn.execute(
            "SELECT d.* FROM decisions d WHERE d.school_code = ? AND d.kind = 'retake' "
            "AND d.withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM records r "
            f"WHERE r.id_number = d.id_number AND r.status IN {DELIVERED_SQL} "
            "AND r.taken_at > d.at) ORDER BY d.id",
            (school_code,),
        ).fetchall()
        return [_decision(r) for r in rows]

    def record_school(self, record_uuid: str) -> tuple[str, str] | None:
        """(school code, photo sha256) of a received record, for the photo's access check."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT school_code, sha256 FROM records WHERE uuid = ?", (record_uuid,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def student_school(self, id_number: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT school_code FROM roster WHERE id_number = ? "
                "UNION ALL SELECT school_code FROM records WHERE id_number = ? LIMIT 1",
                (id_number, id_number),
            ).fetchone()
        return row[0] if row else None

    # -- station changes and the school's review ------------------------------------------

    def station_proposals(self, school_code: str) -> list[Proposal]:
        """Walk-ins and corrections the stations sent, against the office's roster."""
        with self.db.read() as conn:
            roster = {
                r["id_number"]: dict(r)
                for r in conn.execute("SELECT * FROM roster WHERE school_code = ?", (school_code,))
            }
            records = conn.execute(
                "SELECT uuid, kiosk_id, id_number, body, received_at FROM records "
                "WHERE school_code = ? ORDER BY taken_at, id",
                (school_code,),
            ).fetchall()
        latest: dict[str, Any] = {}
        for r in records:
            latest[r["id_number"] or r["uuid"]] = r
        result = []
        for key, r in sorted(latest.items()):
            student = json.loads(r["body"])["student"]
            for name, old, new in proposals(roster.get(r["id_number"] or ""), student):
                result.append(
                    Proposal(
                        school_code,
                        r["id_number"] or "",
                        student.get("name") or "",
                        name,
                        old,
                        new,
                        r["kiosk_id"],
                        r["received_at"],
                    )
                )
            del key
        return result

    @retried
    def decide(self, decision: Decision) -> int:
        with self.db.write() as conn:
            if decision.kind == "erratum":
                # A second correction of the same field replaces the first.
                conn.execute(
                    "UPDATE decisions SET withdrawn_at = ? WHERE school_code = ? AND id_number = ? "
                    "AND kind = 'erratum' AND field = ? AND withdrawn_at IS NULL",
                    (now(), decision.school_code, decision.id_number, decision.field),
                )
            cursor = conn.execute(
                "INSERT INTO decisions (school_code, id_number, kind, reason, field, old_value, "
                'new_value, "user", at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
                (
                    decision.school_code,
                    decision.id_number,
                    decision.kind,
                    decision.reason,
                    decision.field,
                    decision.old_value,
                    decision.new_value,
                    decision.user,
                    decision.at or now(),
                ),
            )
            number = int(cursor.fetchone()[0])
            conn.execute(
                "DELETE FROM reviews_finished WHERE school_code = ?", (decision.school_code,)
            )
        return number

    @retried
    def finish_review(self, school_code: str, user: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                'INSERT INTO reviews_finished (school_code, "user", at) VALUES (?, ?, ?) '
                'ON CONFLICT(school_code) DO UPDATE SET "user" = excluded."user", '
                "at = excluded.at",
                (school_code, user, now()),
            )

    def review(self, school_code: str) -> ReviewState:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM decisions WHERE school_code = ? AND withdrawn_at IS NULL ORDER BY id",
                (school_code,),
            ).fetchall()
            done = conn.execute(
                'SELECT "user", at FROM reviews_finished WHERE school_code = ?', (school_code,)
            ).fetchone()
        return ReviewState(
            school_code,
            [_decision(r) for r in rows],
            done["at"] if done else None,
            done["user"] if done else "",
        )

    # -- the export's records ----------------------------------------------------------

    def export_rows(
        self, school_code: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Decision]]:
        """(roster rows, received records with their student, live decisions) in one snapshot."""
        with self.db.read() as conn:
            roster = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM roster WHERE school_code = ? ORDER BY id", (school_code,)
                )
            ]
            records = []
            for r in conn.execute(
                "SELECT r.uuid, r.kiosk_id, r.session_uuid, r.seq, r.sha256, r.status, "
                "r.taken_at, r.received_at, r.id_number, r.body, se.opened_at AS session_opened "
                "FROM records r JOIN sessions se ON se.uuid = r.session_uuid "
                "WHERE r.school_code = ? ORDER BY r.id",
                (school_code,),
            ):
                row = dict(r)
                row["body"] = json.loads(row["body"])
                records.append(row)
            decisions = [
                _decision(d)
                for d in conn.execute(
                    "SELECT * FROM decisions WHERE school_code = ? AND withdrawn_at IS NULL "
                    "ORDER BY id",
                    (school_code,),
                )
            ]
        return roster, records, decisions

    def roster_version(self, school_code: str) -> str:
        rows = self.roster(school_code)
        return hashlib.sha256(
            json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")
        ).hexdigest()[:16]


def _decision(row: Any) -> Decision:
    return Decision(
        school_code=row["school_code"],
        id_number=row["id_number"],
        kind=row["kind"],
        reason=row["reason"],
        field=row["field"],
        old_value=row["old_value"],
        new_value=row["new_value"],
        user=row["user"],
        at=row["at"],
        id=row["id"],
    )


# Every (school, student) that counts: roster rows, and anyone received who is not on one.
def _students_sql(db: Database) -> str:
    return (
        "SELECT id_number, name, student_number, sex, department, major, category, degree, "
        "school_code FROM roster UNION ALL "
        f"SELECT r.id_number, {db.json_text('r.body', 'student', 'name')}, r.student_number, "
        f"{db.json_text('r.body', 'student', 'sex')}, r.department, r.major, r.category, "
        f"{db.json_text('r.body', 'student', 'degree')}, r.school_code FROM records r "
        "WHERE r.id = (SELECT max(r2.id) FROM records r2 WHERE r2.id_number = r.id_number) "
        "AND r.id_number IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM roster ro WHERE ro.id_number = r.id_number)"
    )


_PROGRESS_SQL = f"""
WITH codes AS (
    SELECT school_code AS code FROM schedule WHERE school_code != ''
    UNION SELECT school_code FROM roster UNION SELECT school_code FROM records
),
latest AS (
    SELECT school_code, id_number, status, taken_at,
           row_number() OVER (PARTITION BY id_number ORDER BY taken_at DESC, id DESC) AS n
    FROM records WHERE id_number IS NOT NULL
),
delivered AS (
    SELECT school_code, id_number,
           max(CASE WHEN status = 'flagged' THEN taken_at END) AS flagged_at,
           max(taken_at) AS at
    FROM records WHERE status IN {DELIVERED_SQL} AND id_number IS NOT NULL
    GROUP BY school_code, id_number
),
requested AS (
    SELECT d.school_code, d.id_number FROM decisions d
    WHERE d.kind = 'retake' AND d.withdrawn_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM records r WHERE r.id_number = d.id_number
        AND r.status IN {DELIVERED_SQL} AND r.taken_at > d.at)
)
SELECT * FROM (
SELECT c.code AS code,
    coalesce((SELECT school_name FROM schedule WHERE school_code = c.code LIMIT 1),
             (SELECT school_name FROM roster WHERE school_code = c.code LIMIT 1),
             (SELECT school_name FROM records WHERE school_code = c.code LIMIT 1)) AS name,
    (SELECT dates FROM schedule WHERE school_code = c.code LIMIT 1) AS dates,
    (SELECT sum(expected) FROM schedule WHERE school_code = c.code) AS expected,
    (SELECT count(*) FROM roster WHERE school_code = c.code) AS roster,
    (SELECT count(*) FROM delivered WHERE school_code = c.code) AS photographed,
    (SELECT count(*) FROM delivered d JOIN roster ro ON ro.id_number = d.id_number
     WHERE d.school_code = c.code) AS on_roster,
    (SELECT count(*) FROM (
        SELECT id_number FROM latest WHERE school_code = c.code AND n = 1
            AND status IN ('refused', 'flagged')
        UNION SELECT id_number FROM requested WHERE school_code = c.code) AS asked) AS retakes,
    (SELECT count(*) FROM delivered WHERE school_code = c.code
     AND flagged_at IS NOT NULL AND flagged_at = at) AS flagged,
    (SELECT 1 FROM reviews_finished WHERE school_code = c.code) AS finished
FROM codes c) AS progress
"""
