"""The campaign's state beside the sync's tables, in SQLite or PostgreSQL.

Rosters, the schedule, kiosk numbers and the schools' review decisions live
here; the received records are read from the sync's ``records`` table. The
web pages and the CLI reach all of it through :class:`central.storage.CampaignStore`.
One SQL text for both databases (central/database.py); every write is one
transaction, every page's reads one snapshot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from central.campaign import (
    CORRECTABLE,
    Decision,
    GroupProgress,
    KioskActivity,
    PlannedSchool,
    Proposal,
    ReviewState,
    ScheduleEntry,
    SchoolProgress,
    SeqCollision,
    StudentState,
    StudentView,
    group_progress,
    missing_count,
    proposals,
    records_of,
)
from central.database import FOLD_LOCK, Connection, Database, retried
from kiosk.durable import now
from kiosk.roster import IMPORT_LOG_INSERT, UPSERTED, CheckedRoster, ImportReport
from kiosk.shot_number import package_seq
from kiosk.student import CODE_KEY, COMPARED_FIELDS, key_code

DELIVERED_SQL = "('accepted', 'flagged')"


def key_sql(records: str = "records") -> str:
    """A record's student (central.campaign.student_key), in SQL."""
    return f"coalesce({records}.id_number, '{CODE_KEY}' || {records}.collection_code)"


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
CREATE INDEX IF NOT EXISTS records_id_number ON records(id_number, status, taken_at);
-- Derived from records (and the roster), caught up before each read: see StudentState.
CREATE TABLE IF NOT EXISTS student_state (
    school_code   TEXT NOT NULL,
    id_number     TEXT NOT NULL,
    latest_status TEXT NOT NULL,
    latest_at     TEXT NOT NULL,
    delivered_at  TEXT NOT NULL,
    flagged_at    TEXT NOT NULL,
    on_roster     INTEGER NOT NULL,
    PRIMARY KEY (school_code, id_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS school_totals (
    school_code   TEXT PRIMARY KEY,
    photographed  INTEGER NOT NULL,
    on_roster     INTEGER NOT NULL,   -- photographed students who are on the roster
    retakes       INTEGER NOT NULL,   -- latest take refused or flagged
    flagged       INTEGER NOT NULL,
    roster        INTEGER NOT NULL DEFAULT 0  -- students on the office's roster
);
CREATE TABLE IF NOT EXISTS progress_mark (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_record   INTEGER NOT NULL    -- records.id folded in so far
);
CREATE INDEX IF NOT EXISTS records_kiosk_taken ON records(kiosk_id, taken_at);
"""

# Upgrade 3 (central/backends.py UPGRADES): each record's 拍摄序号 as the package
# prints it (kiosk/shot_number.py), folded in by catch_up; collides marks a number
# records from two kiosks of one school share. 采集码 students (no ID number) are
# found by their code.
SEQ_UPGRADE = """
CREATE TABLE IF NOT EXISTS seq_holders (
    record_id     INTEGER PRIMARY KEY,     -- records.id
    school_code   TEXT NOT NULL,
    seq           INTEGER,
    kiosk_id      TEXT NOT NULL,
    collides      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS seq_holders_seq ON seq_holders(school_code, seq);
CREATE INDEX IF NOT EXISTS seq_holders_collides ON seq_holders(school_code) WHERE collides = 1;
-- 采集码 students (no ID number) are found by their code.
CREATE INDEX IF NOT EXISTS records_collection_code ON records(collection_code);
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
            self.db.hold(conn, FOLD_LOCK, exclusive=True)  # not while a fold runs
            self._recount(conn, {c.student.school_code for c in checked.good})
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

    def planned(self, school_code: str) -> PlannedSchool | None:
        """The school as the schedule plans it (None: not on the schedule)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT count(*), sum(expected) FROM schedule WHERE school_code = ?",
                (school_code,),
            ).fetchone()
        if not row[0]:
            return None
        return PlannedSchool(None if row[1] is None else int(row[1]))

    def school_codes(self) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT school_code FROM schedule WHERE school_code != '' "
                "UNION SELECT school_code FROM roster UNION SELECT school_code FROM records "
                "ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    # -- kiosks ------------------------------------------------------------------------

    def kiosk_number(self, kiosk_id: str) -> int:
        """The kiosk's number (1, 2, ...), handed out once and never reused.

        Asked at every pull and every batch: a read, and a write only the first time.
        """
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT number FROM kiosk_numbers WHERE kiosk_id = ?", (kiosk_id,)
            ).fetchone()
        if row is not None:
            return int(row[0])
        return self._number_kiosks([kiosk_id])[kiosk_id]

    @retried
    def _number_kiosks(self, kiosk_ids: list[str]) -> dict[str, int]:
        with self.db.write() as conn:
            return _numbers(conn, kiosk_ids)

    def highest_seq(self, kiosk_id: str, school_code: str) -> int:
        """The highest 拍摄序号 the package holds from this kiosk in the school (a
        rebuilt kiosk continues after it): numbers it gave before it had its own
        kiosk number count as the office reads them (kiosk/shot_number.py)."""
        self.catch_up()
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM seq_holders WHERE school_code = ? "
                "AND kiosk_id = ?",
                (school_code, kiosk_id),
            ).fetchone()
        return int(row[0])

    def seq_collisions(self, school_code: str | None = None) -> list[SeqCollision]:
        """拍摄序号 that delivered photos from different kiosks of one school share.

        Only photos the package delivers count (each student's newest): a
        collision is resolved by photographing one of the students again at a
        kiosk numbering on its own number (COLLISION_ADVICE).
        """
        self.catch_up()
        with self.db.read() as conn:
            return _collisions(conn, school_code)

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

    @retried
    def catch_up(self) -> int:
        """Fold records received since the last call into student_state and school_totals.

        Records are only ever added, so a watermark on their id is enough; the
        first call after an upgrade folds them all (about 1 s per 100,000).
        Under PostgreSQL ids are handed out before their batch commits, so the
        fold runs alone (``FOLD_LOCK``): no batch is half-committed meanwhile.
        """
        with self.db.serial(FOLD_LOCK) as conn:
            _fold_numbers(conn)
            row = conn.execute("SELECT last_record FROM progress_mark").fetchone()
            mark = int(row[0]) if row else 0
            # A student is their ID number, or (采集码 mode, no ID number) their code.
            new = conn.execute(
                f"SELECT id, school_code, status, taken_at, {key_sql()} AS id_number FROM records "
                "WHERE id > ? ORDER BY id",
                (mark,),
            ).fetchall()
            if not new:
                return 0
            states: dict[tuple[str, str], StudentState] = {}
            before: dict[tuple[str, str], StudentState | None] = {}
            for r in new:
                if not r["id_number"]:
                    continue  # neither an ID number nor a code: refused by the protocol
                key = (r["school_code"], r["id_number"])
                if key not in states:
                    held = conn.execute(
                        "SELECT * FROM student_state WHERE school_code = ? AND id_number = ?",
                        key,
                    ).fetchone()
                    old = _state(held) if held else None
                    before[key] = old
                    states[key] = old or StudentState(
                        on_roster=conn.execute(
                            "SELECT 1 FROM roster WHERE id_number = ?", (key[1],)
                        ).fetchone()
                        is not None
                    )
                states[key] = states[key].add(r["status"], r["taken_at"])
            deltas: dict[str, list[int]] = {}
            for key, state in states.items():
                old = before[key]
                change = deltas.setdefault(key[0], [0, 0, 0, 0])
                for i, (a, b) in enumerate(
                    zip(state.counts(), old.counts() if old else (0, 0, 0, 0), strict=True)
                ):
                    change[i] += a - b
            conn.executemany(
                "INSERT INTO student_state VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (school_code, id_number) DO UPDATE SET "
                "latest_status = excluded.latest_status, latest_at = excluded.latest_at, "
                "delivered_at = excluded.delivered_at, flagged_at = excluded.flagged_at, "
                "on_roster = excluded.on_roster",
                [
                    (
                        code,
                        number,
                        st.latest_status,
                        st.latest_at,
                        st.delivered_at,
                        st.flagged_at,
                        int(st.on_roster),
                    )
                    for (code, number), st in states.items()
                ],
            )
            conn.executemany(
                "INSERT INTO school_totals (school_code, photographed, on_roster, retakes, flagged) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(school_code) DO "
                "UPDATE SET photographed = school_totals.photographed + excluded.photographed, "
                "on_roster = school_totals.on_roster + excluded.on_roster, "
                "retakes = school_totals.retakes + excluded.retakes, "
                "flagged = school_totals.flagged + excluded.flagged",
                [(code, *change) for code, change in deltas.items()],
            )
            conn.execute(
                "INSERT INTO progress_mark (id, last_record) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET last_record = excluded.last_record",
                (new[-1]["id"],),
            )
        return len(new)

    def _recount(self, conn: Connection, codes: set[str]) -> None:
        """After a roster import: who is on the roster may have changed for these schools."""
        for code in codes:
            conn.execute(
                "INSERT INTO school_totals VALUES (?, 0, 0, 0, 0, 0) "
                "ON CONFLICT(school_code) DO NOTHING",
                (code,),
            )
            conn.execute(
                "UPDATE school_totals SET roster = (SELECT count(*) FROM roster "
                "WHERE school_code = ?) WHERE school_code = ?",
                (code, code),
            )
            conn.execute(
                "UPDATE student_state SET on_roster = CASE WHEN EXISTS (SELECT 1 FROM roster ro "
                "WHERE ro.id_number = student_state.id_number) THEN 1 ELSE 0 END "
                "WHERE school_code = ?",
                (code,),
            )
            conn.execute(
                "UPDATE school_totals SET on_roster = (SELECT count(*) FROM student_state "
                "WHERE school_code = ? AND on_roster = 1 AND delivered_at != '') "
                "WHERE school_code = ?",
                (code, code),
            )

    def progress(self, school_code: str | None = None) -> list[SchoolProgress]:
        """Per school: expected, roster, photographed, missing, retakes, flagged."""
        where = "" if school_code is None else " WHERE code = :code"
        self.catch_up()
        with self.db.read() as conn:
            rows = conn.execute(
                _PROGRESS_SQL + where + " ORDER BY code", {"code": school_code}
            ).fetchall()
            colliding: dict[str, int] = {}
            for collision in _collisions(conn, school_code):
                colliding[collision.school_code] = colliding.get(collision.school_code, 0) + 1
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
                    collisions=colliding.get(r["code"], 0),
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
        self.catch_up()
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT ro.category, ro.department, count(*) AS roster, count(s.id_number) AS done "
                "FROM roster ro LEFT JOIN student_state s ON s.school_code = :code "
                "AND s.id_number = ro.id_number AND s.delivered_at != '' "
                "WHERE ro.school_code = :code GROUP BY ro.category, ro.department",
                {"code": school_code},
            ).fetchall()
            # Students not on the roster (walk-ins; everyone in 采集码 mode) count too.
            off = conn.execute(
                f"SELECT s.category, s.department, count(*) AS done FROM ({_off_roster_sql(self.db)}) s "
                "GROUP BY s.category, s.department",
                {"code": school_code},
            ).fetchall()
        counts: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            counts[(r["category"] or "", r["department"] or "")] = [r["roster"], r["done"]]
        for r in off:
            counts.setdefault((r["category"] or "", r["department"] or ""), [0, 0])[1] += r["done"]
        return group_progress(
            GroupProgress(category, department, roster, done)
            for (category, department), (roster, done) in counts.items()
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
        self.catch_up()
        conditions = ["1 = 1"]  # a boolean in both databases
        params: dict[str, Any] = {"code": school_code, "limit": limit, "offset": offset}
        if query:
            conditions.append(
                "(s.name LIKE :like OR s.student_number LIKE :prefix OR s.id_number = upper(:q) "
                "OR s.collection_code = :q)"
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
                f"SELECT s.* FROM ({_students_sql(self.db)}) s WHERE {where} "
                "ORDER BY s.category, s.department, s.student_number, s.key "
                "LIMIT :limit OFFSET :offset",
                params,
            ).fetchall()
            delivered: dict[str, Any] = {}
            for column, shown in (
                ("r.id_number", [r["id_number"] for r in rows if r["id_number"]]),
                ("r.collection_code", [c for r in rows if (c := key_code(r["key"]))]),
            ):
                if not shown:
                    continue
                marks = ", ".join("?" for _ in shown)
                # Oldest first, so the newest delivered record of each student wins.
                for d in conn.execute(
                    f"SELECT {key_sql('r')} AS key, "
                    "r.uuid, r.status, h.seq FROM records r "
                    "LEFT JOIN seq_holders h ON h.record_id = r.id "
                    f"WHERE {column} IN ({marks}) AND r.status IN {DELIVERED_SQL} "
                    "ORDER BY r.taken_at, r.id",
                    shown,
                ):
                    delivered[d["key"]] = d
            decided = {
                (d["id_number"], d["field"])
                for d in conn.execute(
                    "SELECT id_number, field FROM decisions WHERE school_code = ? "
                    "AND kind = 'erratum' AND withdrawn_at IS NULL",
                    (school_code,),
                )
            }
            pending = {d.id_number for d in self._pending_retakes(conn, school_code)}
        views = []
        for r in rows:
            d = delivered.get(r["key"])
            views.append(
                StudentView(
                    key=r["key"],
                    name=r["name"] or "",
                    student_number=r["student_number"] or "",
                    id_number=r["id_number"] or "",
                    collection_code=r["collection_code"] or "",
                    sex=r["sex"] or "",
                    department=r["department"] or "",
                    major=r["major"] or "",
                    category=r["category"] or "",
                    degree=r["degree"] or "",
                    record=d["uuid"] if d else None,
                    status=d["status"] if d else None,
                    seq=d["seq"] if d else None,
                    retake_requested=r["key"] in pending,
                    corrected=tuple(sorted(f for (i, f) in decided if i == r["key"])),
                )
            )
        return views, int(total)

    def _pending_retakes(self, conn: Connection, school_code: str) -> list[Decision]:
        rows = conn.execute(
            "SELECT d.* FROM decisions d WHERE d.school_code = ? AND d.kind = 'retake' "
            "AND d.withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM records r "
            f"WHERE {records_of('d.id_number')} AND r.status IN {DELIVERED_SQL} "
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

    def student_school(self, key: str) -> str | None:
        """The school of a student (their key: ID number, or code:<采集码>)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT school_code FROM roster WHERE id_number = :key "
                f"UNION ALL SELECT school_code FROM records r WHERE {records_of(':key')} LIMIT 1",
                {"key": key},
            ).fetchone()
        return row[0] if row else None

    # -- station changes and the school's review ------------------------------------------

    def station_proposals(self, school_code: str) -> list[Proposal]:
        """Walk-ins and corrections the stations sent, against the office's roster.

        SQL picks each student's latest record that differs from the roster at
        all; :func:`central.campaign.proposals` decides what each one proposes.
        """
        differs = " OR ".join(
            f"{_station_value(self.db, f)} IS DISTINCT FROM ro.{f}" for f in CORRECTABLE
        )
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT r.uuid, r.kiosk_id, r.id_number, r.body, r.received_at, "
                "ro.id_number AS on_roster, "
                + ", ".join(f"ro.{f} AS ro_{f}" for f in CORRECTABLE)
                + " FROM records r LEFT JOIN roster ro ON ro.id_number = r.id_number "
                "WHERE r.school_code = ? AND r.id = (SELECT max(r2.id) FROM records r2 "
                "WHERE r2.id_number IS NOT DISTINCT FROM r.id_number AND r2.school_code = r.school_code) "
                f"AND (ro.id_number IS NULL OR {_station_value(self.db, 'origin')} = 'walk_in' OR {differs}) "
                "ORDER BY r.id_number, r.uuid",
                (school_code,),
            ).fetchall()
        result = []
        for r in rows:
            student = json.loads(r["body"])["student"]
            roster = {f: r[f"ro_{f}"] for f in CORRECTABLE} if r["on_roster"] is not None else None
            for name, old, new in proposals(roster, student):
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
        return result

    @retried
    def decide(self, decision: Decision) -> int:
        with self.db.write() as conn:
            # A second correction of the same field, or a second retake request (another
            # reason), replaces the first: one live mark of each to show and withdraw.
            conn.execute(
                "UPDATE decisions SET withdrawn_at = ?, withdrawn_by = ? WHERE school_code = ? "
                "AND id_number = ? AND kind = ? AND field = ? AND withdrawn_at IS NULL",
                (
                    now(),
                    decision.user,
                    decision.school_code,
                    decision.id_number,
                    decision.kind,
                    decision.field,
                ),
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

    @retried
    def withdraw(self, school_code: str, decision_id: int, user: str) -> str:
        """Take back one of the school's live decisions: ``withdrawn``, or ``finished``
        (the review is marked finished: reopen it first), or ``unknown`` (no such live
        decision of this school). The row stays, with who withdrew it and when."""
        with self.db.write() as conn:
            if conn.execute(
                "SELECT 1 FROM reviews_finished WHERE school_code = ?", (school_code,)
            ).fetchone():
                return "finished"
            found = conn.execute(
                "UPDATE decisions SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ? "
                "AND school_code = ? AND withdrawn_at IS NULL RETURNING id",
                (now(), user, decision_id, school_code),
            ).fetchone()
        return "withdrawn" if found else "unknown"

    @retried
    def reopen_review(self, school_code: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM reviews_finished WHERE school_code = ?", (school_code,))

    def review(self, school_code: str) -> ReviewState:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM decisions WHERE school_code = ? ORDER BY id", (school_code,)
            ).fetchall()
            done = conn.execute(
                'SELECT "user", at FROM reviews_finished WHERE school_code = ?', (school_code,)
            ).fetchone()
        decisions = [_decision(r) for r in rows]
        return ReviewState(
            school_code,
            [d for d in decisions if d.withdrawn_at is None],
            done["at"] if done else None,
            done["user"] if done else "",
            sorted(
                (d for d in decisions if d.withdrawn_at is not None),
                key=lambda d: (d.withdrawn_at or "", d.id),
                reverse=True,
            ),
        )

    # -- the export's records ----------------------------------------------------------

    def export_rows(
        self, school_code: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Decision]]:
        """(roster rows, received records with their student, live decisions) in one snapshot.

        A record's ``seq`` is the package's 拍摄序号 (kiosk/shot_number.py).
        """
        self.catch_up()
        with self.db.read() as conn:
            roster = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM roster WHERE school_code = ? ORDER BY id", (school_code,)
                )
            ]
            records = []
            for r in conn.execute(
                "SELECT r.uuid, r.kiosk_id, r.session_uuid, h.seq, r.sha256, r.status, "
                "r.taken_at, r.received_at, r.id_number, r.body, se.opened_at AS session_opened "
                "FROM records r JOIN sessions se ON se.uuid = r.session_uuid "
                "JOIN seq_holders h ON h.record_id = r.id "
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


def _numbers(conn: Connection, kiosk_ids: list[str]) -> dict[str, int]:
    """These kiosks' numbers, handing out the next ones (in the order given) to those
    without: a kiosk that never pulled gets its number at its first sync."""
    numbers: dict[str, int] = {}
    for kiosk_id in kiosk_ids:
        row = conn.execute(
            "SELECT number FROM kiosk_numbers WHERE kiosk_id = ?", (kiosk_id,)
        ).fetchone()
        if row is None:
            number = int(
                conn.execute("SELECT coalesce(max(number), 0) + 1 FROM kiosk_numbers").fetchone()[0]
            )
            conn.execute(
                "INSERT INTO kiosk_numbers (kiosk_id, number, at) VALUES (?, ?, ?)",
                (kiosk_id, number, now()),
            )
            row = (number,)
        numbers[kiosk_id] = int(row[0])
    return numbers


def _fold_numbers(conn: Connection) -> None:
    """Records received since the last fold into seq_holders, collisions marked.

    Its own watermark (the highest record folded), so a database from before
    this table catches up on its first fold.
    """
    mark = int(conn.execute("SELECT coalesce(max(record_id), 0) FROM seq_holders").fetchone()[0])
    new = conn.execute(
        "SELECT id, school_code, kiosk_id, seq FROM records WHERE id > ? ORDER BY id", (mark,)
    ).fetchall()
    if not new:
        return
    numbers = _numbers(conn, list(dict.fromkeys(r["kiosk_id"] for r in new)))
    conn.executemany(
        "INSERT INTO seq_holders (record_id, school_code, seq, kiosk_id) VALUES (?, ?, ?, ?)",
        [
            (
                r["id"],
                r["school_code"],
                package_seq(r["seq"], numbers[r["kiosk_id"]]),
                r["kiosk_id"],
            )
            for r in new
        ],
    )
    shared = conn.execute(
        "SELECT DISTINCT n.school_code, n.seq FROM seq_holders n JOIN seq_holders o "
        "ON o.school_code = n.school_code AND o.seq = n.seq AND o.kiosk_id != n.kiosk_id "
        "WHERE n.record_id > ?",
        (mark,),
    ).fetchall()
    conn.executemany(
        "UPDATE seq_holders SET collides = 1 WHERE school_code = ? AND seq = ?",
        [(r[0], r[1]) for r in shared],
    )


def _collisions(conn: Connection, school_code: str | None) -> list[SeqCollision]:
    """Shared numbers among the photos each student's package delivers (few rows: only
    marked ones are read)."""
    where = "" if school_code is None else " AND h.school_code = :code"
    rows = conn.execute(
        "SELECT h.school_code, h.seq, h.kiosk_id, r.uuid, r.taken_at, s.delivered_at "
        "FROM seq_holders h JOIN records r ON r.id = h.record_id "
        "LEFT JOIN student_state s ON s.school_code = h.school_code "
        f"AND s.id_number = {key_sql('r')} "
        f"WHERE h.collides = 1{where} AND r.status IN {DELIVERED_SQL} "
        "ORDER BY h.school_code, h.seq, r.taken_at, r.id",
        {"code": school_code},
    ).fetchall()
    groups: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for r in rows:
        # A student's older photo (a later one replaced it) is history, not in the package.
        if r["delivered_at"] is None or r["taken_at"] == r["delivered_at"]:
            groups.setdefault((r["school_code"], r["seq"]), []).append((r["kiosk_id"], r["uuid"]))
    return [
        SeqCollision(code, seq, tuple(holders))
        for (code, seq), holders in groups.items()
        if len({k for k, _ in holders}) > 1
    ]


def _station_value(db: Database, field: str) -> str:
    """A student field of a received record, as the station sent it."""
    return db.json_text("r.body", "student", field)


def _state(row: Any) -> StudentState:
    values = {f.name: row[f.name] for f in dataclasses.fields(StudentState)}
    return StudentState(**(values | {"on_roster": bool(row["on_roster"])}))


def _decision(row: Any) -> Decision:
    return Decision(**{f.name: row[f.name] for f in dataclasses.fields(Decision)})


# Every (school, student) that counts: roster rows, and anyone received who is not on one.
def _students_sql(db: Database) -> str:
    """The school's roster rows, then everyone received who is not on it."""
    return (
        "SELECT id_number AS key, id_number, CAST(NULL AS TEXT) AS collection_code, name, "
        "student_number, sex, department, major, category, degree "
        "FROM roster WHERE school_code = :code UNION ALL " + _off_roster_sql(db)
    )


def _off_roster_sql(db: Database) -> str:
    """Walk-ins (an ID number not on the roster: few) and 采集码 students (no ID number;
    a whole school in 采集码 mode), each with their latest record's values."""
    values = (
        f"{_station_value(db, 'name')} AS name, r.student_number, "
        f"{_station_value(db, 'sex')} AS sex, coalesce(r.department, '') AS department, "
        "r.major, coalesce(r.category, '') AS category, "
        f"{_station_value(db, 'degree')} AS degree"
    )
    return (
        f"SELECT w.id_number AS key, r.id_number, r.collection_code, {values} "
        "FROM student_state w JOIN records r "
        "ON r.id = (SELECT max(r2.id) FROM records r2 WHERE r2.id_number = w.id_number) "
        "WHERE w.school_code = :code AND w.on_roster = 0 UNION ALL "
        f"SELECT w.id_number AS key, r.id_number, r.collection_code, {values} "
        "FROM student_state w JOIN records r "
        "ON r.id = (SELECT max(r2.id) FROM records r2 WHERE r2.id_number IS NULL "
        f"AND r2.collection_code = substr(w.id_number, {len(CODE_KEY) + 1})) "
        f"WHERE w.school_code = :code AND w.on_roster = 0 AND w.id_number LIKE '{CODE_KEY}%'"
    )


# The school's totals (kept by catch_up and roster imports) plus its open 重拍 requests:
# only small tables, however many records the campaign holds.
_PROGRESS_SQL = f"""
WITH requested AS (
    SELECT DISTINCT d.school_code, d.id_number FROM decisions d
    WHERE d.kind = 'retake' AND d.withdrawn_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM records r WHERE {records_of("d.id_number")}
        AND r.status IN {DELIVERED_SQL} AND r.taken_at > d.at)
),
extra AS (  -- requests for students the crews' verdict does not already list
    SELECT q.school_code, count(*) AS n FROM requested q
    LEFT JOIN student_state s ON s.school_code = q.school_code AND s.id_number = q.id_number
    WHERE s.latest_status IS NULL OR s.latest_status NOT IN ('refused', 'flagged')
    GROUP BY q.school_code
),
planned AS MATERIALIZED (
    SELECT school_code, min(school_name) AS name, min(dates) AS dates, sum(expected) AS expected
    FROM schedule WHERE school_code != '' GROUP BY school_code
),
codes AS (
    SELECT school_code AS code FROM planned UNION SELECT school_code FROM school_totals
)
SELECT * FROM (
SELECT c.code AS code,
    coalesce(pl.name,
             (SELECT school_name FROM roster WHERE school_code = c.code LIMIT 1),
             (SELECT school_name FROM records WHERE school_code = c.code LIMIT 1)) AS name,
    pl.dates AS dates, pl.expected AS expected,
    coalesce(t.roster, 0) AS roster,
    coalesce(t.photographed, 0) AS photographed,
    coalesce(t.on_roster, 0) AS on_roster,
    coalesce(t.retakes, 0) + coalesce(e.n, 0) AS retakes,
    coalesce(t.flagged, 0) AS flagged,
    (SELECT 1 FROM reviews_finished WHERE school_code = c.code) AS finished
FROM codes c
LEFT JOIN planned pl ON pl.school_code = c.code
LEFT JOIN school_totals t ON t.school_code = c.code
LEFT JOIN extra e ON e.school_code = c.code) AS progress
"""
