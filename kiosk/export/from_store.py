"""Packages from the kiosk's SQLite file: the scope of an export and its records.

Scope:

- a school (``--school CODE``): its roster students, plus anyone photographed
  in one of its sessions (a walk-in added at the station);
- a session (``--session ID``): the session's group of students (its school,
  and its 类型 and 院系 where the session names them) plus anyone photographed
  in it. Their *whole* history counts, so a student retaken in a later session
  shows their newest photo; a session export is "where this group stands";
- nothing: every school in the data folder, one package each.

Only reads: the export never changes the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from kiosk.export.package import Erratum, Package, Person, Take, assemble
from kiosk.lang import Said
from kiosk.shot_number import package_seq
from kiosk.store import Store
from kiosk.student import DESCRIPTION_FIELDS


class ScopeError(ValueError):
    """The session or school asked for is not in this data folder."""


def _key(number: int) -> str:
    # Zero-padded so text order is number order (a stable last tie-break).
    return f"{number:012d}"


def school_codes(store: Store) -> list[str]:
    rows = store.conn.execute(
        "SELECT school_code FROM students WHERE school_code != '' "
        "UNION SELECT school_code FROM sessions WHERE school_code != '' ORDER BY 1"
    )
    return [row[0] for row in rows]


def packages(
    store: Store,
    *,
    session_id: int | None = None,
    school_code: str | None = None,
    utc_offset_hours: float = 8.0,
) -> list[Package]:
    """The packages an export writes, in folder order."""
    offset = dt.timedelta(hours=utc_offset_hours)
    with _snapshot(store.conn):
        if session_id is not None:
            return [session_package(store, session_id, offset)]
        if school_code is not None:
            if school_code not in school_codes(store):
                known = ", ".join(school_codes(store))
                key = "export.no_school" if known else "export.no_school_none"
                raise ScopeError(Said.of(key, school=school_code, known=known))
            return [school_package(store, school_code, offset)]
        return [school_package(store, code, offset) for code in school_codes(store)]


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so every query sees the same moment while the
    station goes on saving shots (WAL readers do not block the writer)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def school_package(store: Store, school_code: str, offset: dt.timedelta) -> Package:
    scope_sql = (
        "SELECT id FROM students WHERE school_code = :code "
        "UNION SELECT sh.student_id FROM shots sh JOIN sessions se ON se.id = sh.session_id "
        "WHERE se.school_code = :code"
    )
    params = {"code": school_code}
    return _package(
        store,
        scope_sql,
        params,
        folder=school_code,
        school_code=school_code,
        scope="全校",
        offset=offset,
    )


def session_package(store: Store, session_id: int, offset: dt.timedelta) -> Package:
    row = store.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        last = store.conn.execute("SELECT max(id) FROM sessions").fetchone()[0]
        key = "export.no_session" if last else "export.no_sessions"
        raise ScopeError(Said.of(key, session=session_id, last=last))
    scope_sql = (
        "SELECT id FROM students WHERE school_code = :code "
        "AND (:category = '' OR category = :category) "
        "AND (:department = '' OR department = :department) "
        "UNION SELECT student_id FROM shots WHERE session_id = :session"
    )
    params = {
        "code": row["school_code"],
        "category": row["category"],
        "department": row["department"],
        "session": session_id,
    }
    label = " ".join(p for p in (row["category"], row["department"]) if p)
    return _package(
        store,
        scope_sql,
        params,
        folder=f"{row['school_code']}-session{session_id}",
        school_code=row["school_code"],
        scope=f"{label} (第 {session_id} 场)".strip(),
        offset=offset,
        school_name=row["school_name"],
    )


def _package(
    store: Store,
    scope_sql: str,
    params: Mapping[str, object],
    *,
    folder: str,
    school_code: str,
    scope: str,
    offset: dt.timedelta,
    school_name: str = "",
) -> Package:
    conn = store.conn
    students = [
        _person(r)
        for r in conn.execute(
            f"SELECT * FROM students WHERE id IN ({scope_sql}) ORDER BY id", params
        )
    ]
    number = store.kiosk_number()
    takes = [
        _take(r, store.data_dir, offset, number)
        for r in conn.execute(
            "SELECT sh.*, se.uuid AS session_uuid, se.opened_at AS session_opened "
            "FROM shots sh JOIN sessions se ON se.id = sh.session_id "
            f"WHERE sh.student_id IN ({scope_sql}) ORDER BY sh.id",
            params,
        )
    ]
    errata = [
        _erratum(r)
        for r in conn.execute(
            f"SELECT * FROM corrections WHERE student_id IN ({scope_sql}) ORDER BY id", params
        )
    ]
    if not school_name:
        names = [s.school_name for s in students if s.school_code == school_code and s.school_name]
        session_names = conn.execute(
            "SELECT school_name FROM sessions WHERE school_code = ? AND school_name != '' "
            "ORDER BY id",
            (school_code,),
        ).fetchall()
        school_name = (
            max(set(names), key=lambda n: (names.count(n), n))
            if names
            else (session_names[0][0] if session_names else "")
        )
    # Students added at the station may lack the school's name or code; they
    # are the package's school (that is how they got into its scope).
    students = [
        dataclasses.replace(
            s,
            school_name=s.school_name or school_name,
            school_code=s.school_code or school_code,
        )
        for s in students
    ]
    return assemble(
        students,
        takes,
        errata,
        folder=folder,
        school_code=school_code,
        school_name=school_name,
        scope=scope,
        utc_offset=offset,
    )


def _person(row: sqlite3.Row) -> Person:
    values = {name: row[name] for name in DESCRIPTION_FIELDS}
    values["student_number"] = values["student_number"] or ""
    return Person(key=_key(row["id"]), **values)


def _take(row: sqlite3.Row, data_dir: Path, offset: dt.timedelta, kiosk_number: int | None) -> Take:
    opened = dt.datetime.fromisoformat(row["session_opened"])
    if opened.tzinfo is None:
        opened = opened.replace(tzinfo=dt.UTC)
    return Take(
        key=_key(row["id"]),
        student_key=_key(row["student_id"]),
        status=row["status"],
        taken_at=row["taken_at"],
        # Numbers given before the kiosk had its number print as the office prints them.
        seq=package_seq(row["seq"], kiosk_number),
        session_key=row["session_uuid"],
        session_date=(opened + offset).date().isoformat(),
        session_label=f"第 {row['session_id']} 场",
        source=data_dir / row["file"],
        sha256=row["sha256"],
        reasons=tuple(_reasons(row["reasons"])),
        collection_code=row["collection_code"],
    )


def _reasons(text: str | None) -> Iterable[str]:
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError:
        return ()
    return [str(v) for v in value] if isinstance(value, list) else ()


def _erratum(row: sqlite3.Row) -> Erratum:
    return Erratum(
        key=_key(row["id"]),
        student_key=_key(row["student_id"]),
        field=row["field"],
        old_value=row["old_value"],
        new_value=row["new_value"],
        note=row["note"],
        at=row["at"],
    )
