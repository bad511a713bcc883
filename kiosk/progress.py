"""How the open session is going, for the crew's queue screen.

Read from the database by the app's records thread every couple of seconds
(never on the UI thread); the screen only draws the snapshot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.store import Store


@dataclass(frozen=True)
class DepartmentProgress:
    department: str
    total: int
    done: int  # students with a delivered (accepted or flagged) shot
    retakes: int  # refused at least once and nothing delivered yet
    refused: int  # refused stills this session
    # Not photographed at all although their 院系 has started (someone of it has
    # a shot): the students the crew calls for. Before a 院系 starts, 0.
    absent: int = 0

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def percent_done(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0


def added_up(rows: tuple[DepartmentProgress, ...], name: str = "") -> DepartmentProgress:
    """Several departments' rows as one."""
    return DepartmentProgress(
        name,
        sum(d.total for d in rows),
        sum(d.done for d in rows),
        sum(d.retakes for d in rows),
        sum(d.refused for d in rows),
        sum(d.absent for d in rows),
    )


@dataclass(frozen=True)
class RecentShot:
    seq: int | None
    file: Path  # absolute
    name: str


@dataclass(frozen=True)
class Progress:
    departments: tuple[DepartmentProgress, ...] = ()
    per_hour_10: float = 0.0  # delivered shots in the last 10 minutes, x 6
    per_hour_60: float = 0.0  # delivered shots in the last 60 minutes
    recent: tuple[RecentShot, ...] = ()
    disk_free: int = 0  # bytes free in the data folder
    sync_backlog: int = 0  # outbox entries not yet synced
    shots: int = 0  # delivered shots this session
    extra: dict[str, int] = field(default_factory=dict)
    # A 采集码 session (the school has no roster rows): no name list, so the
    # whole is the office schedule's headcount (None: not known to this kiosk).
    collection_codes: bool = False
    expected: int | None = None

    @property
    def totals(self) -> DepartmentProgress:
        """The 合计 row: every department of the session added up; in a 采集码
        session, the photographed against the expected headcount."""
        whole = added_up(self.departments)
        if self.collection_codes:
            whole = dataclasses.replace(whole, total=max(whole.done, self.expected or 0))
        return whole

    @property
    def headcount_known(self) -> bool:
        """Is there a whole to count against (a roster, or the expected headcount)?"""
        return not self.collection_codes or self.expected is not None

    @property
    def rate(self) -> float:
        """Students an hour now: the last 10 minutes once there are any, else the hour."""
        return self.per_hour_10 or self.per_hour_60

    def hours_left(self) -> float | None:
        """Time to photograph everyone left at the current rate; None with no rate
        yet or no headcount to count against."""
        if not self.headcount_known:
            return None
        left = self.totals.remaining
        if left == 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None


def read_progress(
    store: Store,
    session_id: int,
    *,
    now: dt.datetime | None = None,
    recent: int = 4,
) -> Progress:
    conn = store.conn
    session = store.session(session_id)
    scope = "s.school_code = ?" + (" AND s.category = ?" if session.category else "")
    args: list[object] = [session.school_code]
    if session.category:
        args.append(session.category)
    if session.department:
        scope += " AND s.department = ?"
        args.append(session.department)
    rows = conn.execute(
        f"""
        SELECT s.department AS department,
               count(*) AS total,
               sum(EXISTS (SELECT 1 FROM shots h WHERE h.student_id = s.id
                           AND h.status IN ('accepted', 'flagged'))) AS done,
               sum(NOT EXISTS (SELECT 1 FROM shots h WHERE h.student_id = s.id
                               AND h.status IN ('accepted', 'flagged'))
                   AND EXISTS (SELECT 1 FROM shots h WHERE h.student_id = s.id
                               AND h.status = 'refused')) AS retakes,
               sum(NOT EXISTS (SELECT 1 FROM shots h WHERE h.student_id = s.id)) AS unseen,
               (SELECT count(*) FROM shots h JOIN students t ON t.id = h.student_id
                 WHERE h.session_id = ? AND h.status = 'refused'
                   AND t.department = s.department) AS refused
        FROM students s WHERE {scope}
        GROUP BY s.department ORDER BY s.department
        """,
        [session_id, *args],
    ).fetchall()
    departments = tuple(
        DepartmentProgress(
            r["department"] or "—",
            r["total"],
            r["done"] or 0,
            r["retakes"] or 0,
            r["refused"] or 0,
            absent=(r["unseen"] or 0) if (r["unseen"] or 0) < r["total"] else 0,
        )
        for r in rows
    )
    collection_codes, expected = _collection_codes(store, session.school_code)
    if collection_codes:
        # The students are the scanned codes, all photographed: one line, whose
        # whole is the headcount (Progress.totals).
        departments = (added_up(departments),)
    now = now or dt.datetime.now(dt.UTC)

    def since(minutes: int) -> int:
        start = (now - dt.timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
        return int(
            conn.execute(
                "SELECT count(*) FROM shots WHERE session_id = ? AND status IN ('accepted', 'flagged') "
                "AND taken_at >= ?",
                (session_id, start),
            ).fetchone()[0]
        )

    last = conn.execute(
        "SELECT h.seq, h.file, s.name FROM shots h JOIN students s ON s.id = h.student_id "
        "WHERE h.session_id = ? AND h.status IN ('accepted', 'flagged') ORDER BY h.id DESC LIMIT ?",
        (session_id, recent),
    ).fetchall()
    shots = int(
        conn.execute(
            "SELECT count(*) FROM shots WHERE session_id = ? AND status IN ('accepted', 'flagged')",
            (session_id,),
        ).fetchone()[0]
    )
    backlog = int(conn.execute("SELECT count(*) FROM outbox WHERE state != 'synced'").fetchone()[0])
    try:
        free = shutil.disk_usage(store.data_dir).free
    except OSError:
        free = 0
    return Progress(
        departments=departments,
        per_hour_10=since(10) * 6.0,
        per_hour_60=float(since(60)),
        recent=tuple(RecentShot(r["seq"], store.data_dir / r["file"], r["name"]) for r in last),
        disk_free=free,
        sync_backlog=backlog,
        shots=shots,
        collection_codes=collection_codes,
        expected=expected,
    )


def _collection_codes(store: Store, school_code: str) -> tuple[bool, int | None]:
    """(a 采集码 session: the school has no roster rows, its expected headcount)."""
    rostered = store.conn.execute(
        "SELECT 1 FROM students WHERE school_code = ? AND origin = 'roster' LIMIT 1",
        (school_code,),
    ).fetchone()
    if rostered is not None:
        return False, None
    row = store.conn.execute(
        "SELECT expected FROM school_plans WHERE school_code = ?", (school_code,)
    ).fetchone()
    return True, None if row is None or row[0] is None else int(row[0])


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
