"""How the open session is going, for the crew's queue screen.

Read from the database by the app's records thread every couple of seconds
(never on the UI thread); the screen only draws the snapshot.
"""

from __future__ import annotations

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

    @property
    def remaining(self) -> int:
        return self.total - self.done


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
            r["department"] or "—", r["total"], r["done"] or 0, r["retakes"] or 0, r["refused"] or 0
        )
        for r in rows
    )
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
    )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
