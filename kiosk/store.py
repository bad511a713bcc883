"""The kiosk's one SQLite file: schema, migrations, transactions.

Why SQLite in WAL mode with ``synchronous=FULL``: one process writes (the
station), others read (the crew screen, ``kiosk sync``, ``kiosk export``);
WAL lets them read while it writes, and FULL makes a commit survive a power
cut, which NORMAL does not promise in WAL mode. At one shot every 15-30 s the
extra fsync costs nothing.

Schema changes are appended to :data:`MIGRATIONS` and never edited once they
have shipped: a kiosk in the field upgrades by running the ones it lacks, in
one transaction each, and ``PRAGMA user_version`` records how far it got.

Transactions: :meth:`Store.transaction` is ``BEGIN IMMEDIATE`` ... ``COMMIT``
on a connection in autocommit mode (kiosk/durable.py), so what belongs
together (a shot row and its outbox entry; a whole roster import) commits
together or not at all. Every write is plain SQL on ``store.conn``: a helper
that commits on its own (as sqlite-utils' write helpers do) would end an
outer transaction early, so none is used here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
import uuid as uuid_module
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kiosk import durable
from kiosk.durable import now, write_durably
from kiosk.shot_number import SEQ_SPAN, adopted_counter
from kiosk.student import CODE_KEY

# Each entry is one schema version; index 0 takes a new database to version 1.
MIGRATIONS: list[str] = [
    # 1: the foundation.
    """
    CREATE TABLE students (
        id              INTEGER PRIMARY KEY,
        id_number       TEXT UNIQUE,          -- canonical 18 chars; NULL for walk-ins without one
        student_number  TEXT,                 -- 学号, kept as text (leading zeros, letters)
        name            TEXT NOT NULL DEFAULT '',
        sex             TEXT NOT NULL DEFAULT '',
        school_name     TEXT NOT NULL DEFAULT '',
        school_code     TEXT NOT NULL DEFAULT '',
        degree          TEXT NOT NULL DEFAULT '',   -- 学历
        major           TEXT NOT NULL DEFAULT '',   -- 专业名称
        department      TEXT NOT NULL DEFAULT '',   -- 院系
        category        TEXT NOT NULL DEFAULT '',   -- 类型: 普通生 / 成人生 / 研究生
        roster_seq      TEXT NOT NULL DEFAULT '',   -- 拍摄序号 as given by the school
        birth_date      TEXT,
        collection_code TEXT UNIQUE,          -- 学信网 图像采集码, byte-exact
        origin          TEXT NOT NULL DEFAULT 'roster',  -- roster | walk_in | collection_code
        source_file     TEXT,
        source_row      INTEGER,
        imported_at     TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX students_student_number ON students(student_number);
    CREATE INDEX students_school ON students(school_code, category, department);

    CREATE TABLE roster_imports (
        id          INTEGER PRIMARY KEY,
        file        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        rows        INTEGER NOT NULL,
        imported    INTEGER NOT NULL,
        rejected    INTEGER NOT NULL,
        at          TEXT NOT NULL
    );

    CREATE TABLE sessions (
        id          INTEGER PRIMARY KEY,
        uuid        TEXT NOT NULL UNIQUE,
        station_id  TEXT NOT NULL,
        school_code TEXT NOT NULL,
        school_name TEXT NOT NULL DEFAULT '',
        category    TEXT NOT NULL DEFAULT '',
        department  TEXT NOT NULL DEFAULT '',
        opened_at   TEXT NOT NULL,
        closed_at   TEXT,
        next_seq    INTEGER NOT NULL DEFAULT 1  -- 拍摄序号 counter; bumped in the shot's transaction
    );

    CREATE TABLE shots (
        id              INTEGER PRIMARY KEY,
        uuid            TEXT NOT NULL UNIQUE,   -- made when the shot is taken; the sync's record id
        student_id      INTEGER NOT NULL REFERENCES students(id),
        session_id      INTEGER NOT NULL REFERENCES sessions(id),
        seq             INTEGER,                -- 拍摄序号 within the session (accepted shots)
        collection_code TEXT,
        file            TEXT NOT NULL,          -- path relative to the data folder
        sha256          TEXT NOT NULL,
        size            INTEGER NOT NULL,
        width           INTEGER NOT NULL,
        height          INTEGER NOT NULL,
        taken_at        TEXT NOT NULL,
        status          TEXT NOT NULL,          -- accepted | refused | flagged
        reasons         TEXT NOT NULL DEFAULT '[]',
        measures        TEXT NOT NULL DEFAULT '{}',
        camera          TEXT NOT NULL DEFAULT '{}',
        supersedes      TEXT,                   -- uuid of the shot this retake replaces
        UNIQUE (session_id, seq)
    );
    CREATE INDEX shots_student ON shots(student_id, taken_at);

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        shot_uuid       TEXT NOT NULL UNIQUE REFERENCES shots(uuid),
        state           TEXT NOT NULL DEFAULT 'pending',  -- pending | batched | synced | quarantined
        batch_uuid      TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        next_attempt_at TEXT,
        synced_at       TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, id);

    CREATE TABLE corrections (
        id          INTEGER PRIMARY KEY,
        student_id  INTEGER NOT NULL REFERENCES students(id),
        session_id  INTEGER REFERENCES sessions(id),
        field       TEXT NOT NULL,      -- column of students, or 'walk_in' for an added student
        old_value   TEXT,
        new_value   TEXT,
        note        TEXT NOT NULL DEFAULT '',
        at          TEXT NOT NULL
    );

    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        level       TEXT NOT NULL DEFAULT 'info',
        kind        TEXT NOT NULL,
        session_id  INTEGER,
        student_id  INTEGER,
        message     TEXT NOT NULL DEFAULT '',
        detail      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_at ON events(at);
    """,
    # 2: sync. A batch is fixed when it is formed: its uuid and the exact
    # manifest bytes are stored before the first byte is sent, so every retry
    # is the same batch. Reconciliations record what the receiver confirmed;
    # purged_at marks shots whose local photo was deleted after a match.
    """
    CREATE TABLE batches (
        id              INTEGER PRIMARY KEY,
        uuid            TEXT NOT NULL UNIQUE,
        created_at      TEXT NOT NULL,
        manifest        BLOB NOT NULL,          -- the bytes sent, unchanged on every retry
        records         INTEGER NOT NULL,
        bytes           INTEGER NOT NULL,       -- photo bytes of its records
        state           TEXT NOT NULL DEFAULT 'open',   -- open | done | refused
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        done_at         TEXT
    );
    CREATE INDEX batches_state ON batches(state, id);
    CREATE INDEX outbox_batch ON outbox(batch_uuid);

    ALTER TABLE shots ADD COLUMN purged_at TEXT;

    CREATE TABLE reconciliations (
        id              INTEGER PRIMARY KEY,
        session_id      INTEGER NOT NULL REFERENCES sessions(id),
        at              TEXT NOT NULL,
        local_count     INTEGER NOT NULL,
        local_digest    TEXT NOT NULL,
        remote_count    INTEGER,
        remote_digest   TEXT,
        matched         INTEGER NOT NULL
    );
    CREATE INDEX reconciliations_session ON reconciliations(session_id, at);
    """,
    # 3: the collection code's bytes exactly as scanned (collection_code holds
    # the decoded, trimmed text used for look-ups and file names).
    """
    ALTER TABLE shots ADD COLUMN collection_code_raw BLOB;
    """,
    # 4: the campaign. 拍摄序号 is counted per school (not per session) from
    # this kiosk's base (its number from the central office x SEQ_SPAN), so
    # two crews shooting one school offline never print the same number
    # (docs/architecture.md). Rosters pulled from the office and the
    # school's retake requests come down with the pull.
    """
    CREATE TABLE school_counters (
        school_code TEXT PRIMARY KEY,
        next_seq    INTEGER NOT NULL            -- bumped in the shot's transaction
    );
    CREATE TABLE station_identity (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        kiosk_number INTEGER NOT NULL,          -- handed out by the central office
        at          TEXT NOT NULL
    );
    CREATE TABLE roster_pulls (
        id          INTEGER PRIMARY KEY,
        school_code TEXT NOT NULL,
        server      TEXT NOT NULL,
        version     TEXT NOT NULL,              -- the office's roster version
        students    INTEGER NOT NULL,
        at          TEXT NOT NULL
    );
    CREATE TABLE retake_requests (
        id_number    TEXT PRIMARY KEY,
        school_code  TEXT NOT NULL,
        reason       TEXT NOT NULL DEFAULT '',
        requested_at TEXT NOT NULL              -- a shot taken after this answers it
    );
    """,
    # 5: what the office's schedule says of a school, from the roster pull: its
    # name and expected headcount. A 采集码 school has no roster rows, so the
    # chooser and the crew screen count against this headcount instead.
    """
    CREATE TABLE school_plans (
        school_code TEXT PRIMARY KEY,
        school_name TEXT NOT NULL DEFAULT '',
        expected    INTEGER,                    -- NULL: the schedule gives no headcount
        at          TEXT NOT NULL
    );
    """,
]


class StoreError(RuntimeError):
    """The database cannot be used; the message says what to do."""


ShotStatus = Literal["accepted", "refused", "flagged"]
# Statuses whose photo is delivered: they get a 拍摄序号 and an outbox entry.
DELIVERED: tuple[ShotStatus, ...] = ("accepted", "flagged")


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    uuid: str
    station_id: str
    school_code: str
    school_name: str
    category: str
    department: str
    opened_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class Shot:
    """A saved shot as stored (``file`` is relative to the data folder)."""

    id: int
    uuid: str
    student_id: int
    session_id: int
    seq: int | None
    file: str
    sha256: str
    size: int
    taken_at: str
    status: str
    supersedes: str | None


class Store:
    """One connection to the kiosk database. Not shared between threads."""

    def __init__(self, path: Path | str, *, migrate: bool = True) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        self.conn = conn
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            if migrate:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"{path} is not a usable kiosk database ({exc}); "
                "point --data at the right folder or restore it from the backup"
            ) from exc

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Run the migrations this file lacks; returns the new version."""
        current = self.version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer kiosk (schema {current}, this one knows "
                f"{len(MIGRATIONS)}); update the kiosk software"
            )
        for number in range(current, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")
        return self.version

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (:func:`kiosk.durable.transaction`)."""
        return durable.transaction(self.conn)

    # -- small shared helpers ----------------------------------------------

    def log_event(
        self,
        kind: str,
        message: str = "",
        *,
        level: str = "info",
        session_id: int | None = None,
        student_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """An event row for the crew's history; never put ID numbers in ``message``."""
        self.conn.execute(
            "INSERT INTO events (at, level, kind, session_id, student_id, message, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now(), level, kind, session_id, student_id, message, json.dumps(detail or {})),
        )

    # -- sessions ------------------------------------------------------------

    def open_session(
        self,
        *,
        station_id: str,
        school_code: str,
        school_name: str = "",
        category: str = "",
        department: str = "",
    ) -> Session:
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (uuid, station_id, school_code, school_name, category, "
                "department, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuid_module.uuid4()),
                    station_id,
                    school_code,
                    school_name,
                    category,
                    department,
                    now(),
                ),
            )
            self.log_event(
                "session_opened",
                f"{school_code} {category} {department}".strip(),
                session_id=cursor.lastrowid,
            )
        return self.session(int(cursor.lastrowid or 0))

    def close_session(self, session_id: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (now(), session_id),
            )
            self.log_event("session_closed", session_id=session_id)

    def session(self, session_id: int) -> Session:
        row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise StoreError(f"no session {session_id}")
        return Session(**{k: row[k] for k in Session.__dataclass_fields__})

    def open_sessions(self) -> list[Session]:
        rows = self.conn.execute("SELECT * FROM sessions WHERE closed_at IS NULL ORDER BY id")
        return [Session(**{k: r[k] for k in Session.__dataclass_fields__}) for r in rows]

    # -- shots ---------------------------------------------------------------

    def save_shot(
        self,
        *,
        student_id: int,
        session_id: int,
        jpeg: bytes,
        status: ShotStatus,
        width: int = 480,
        height: int = 640,
        reasons: list[str] | tuple[str, ...] = (),
        measures: dict[str, Any] | None = None,
        camera: dict[str, Any] | None = None,
        collection_code: str | None = None,
        collection_code_raw: bytes | None = None,
        shot_uuid: str | None = None,
        taken_at: str | None = None,
    ) -> Shot:
        """Store a photo so that a crash at any instant leaves all of it or none.

        The file goes to a temporary name, is fsynced, renamed to its final
        name and the directory fsynced; only then one transaction writes the
        shot row, bumps the school's 拍摄序号 counter and (for delivered
        shots) the outbox entry. A crash before the commit leaves an orphan
        file, which :meth:`remove_orphans` deletes at start; never a row
        without its file.
        """
        shot_uuid = shot_uuid or str(uuid_module.uuid4())
        if self.conn.execute("SELECT 1 FROM shots WHERE uuid = ?", (shot_uuid,)).fetchone():
            # Checked before the file is written: its name is the uuid, and
            # writing it would replace a saved shot's photo.
            raise StoreError(f"shot {shot_uuid} is already saved; a new shot needs a new uuid")
        taken_at = taken_at or now()
        session = self.session(session_id)
        relative = Path("photos") / session.uuid / f"{shot_uuid}.jpg"
        final = self.data_dir / relative
        write_durably(final, jpeg)
        digest = hashlib.sha256(jpeg).hexdigest()
        delivered = status in DELIVERED
        try:
            with self.transaction() as conn:
                seq = None
                supersedes = None
                if delivered:
                    seq = self._next_seq(conn, session.school_code)
                    previous = self.last_delivered_shot(student_id)
                    supersedes = previous.uuid if previous else None
                cursor = conn.execute(
                    "INSERT INTO shots (uuid, student_id, session_id, seq, collection_code, file, "
                    "sha256, size, width, height, taken_at, status, reasons, measures, camera, "
                    "supersedes, collection_code_raw) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        shot_uuid,
                        student_id,
                        session_id,
                        seq,
                        collection_code,
                        relative.as_posix(),
                        digest,
                        len(jpeg),
                        width,
                        height,
                        taken_at,
                        status,
                        json.dumps(list(reasons)),
                        json.dumps(measures or {}, default=float),
                        json.dumps(camera or {}),
                        supersedes,
                        collection_code_raw,
                    ),
                )
                if delivered:
                    conn.execute("INSERT INTO outbox (shot_uuid) VALUES (?)", (shot_uuid,))
                self.log_event(
                    "shot_saved",
                    status,
                    session_id=session_id,
                    student_id=student_id,
                    detail={"seq": seq, "uuid": shot_uuid},
                )
        except BaseException:
            # Unlink only if the row really is absent: an interrupt that lands
            # after COMMIT must not take a committed shot's file with it.
            with contextlib.suppress(sqlite3.Error, OSError):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                held = self.conn.execute(
                    "SELECT 1 FROM shots WHERE uuid = ?", (shot_uuid,)
                ).fetchone()
                if held is None:
                    final.unlink()
            raise
        return Shot(
            id=int(cursor.lastrowid or 0),
            uuid=shot_uuid,
            student_id=student_id,
            session_id=session_id,
            seq=seq,
            file=relative.as_posix(),
            sha256=digest,
            size=len(jpeg),
            taken_at=taken_at,
            status=status,
            supersedes=supersedes,
        )

    def kiosk_number(self) -> int | None:
        """The office's number for this kiosk (None until a pull or a sync brought it)."""
        row = self.conn.execute("SELECT kiosk_number FROM station_identity").fetchone()
        return int(row[0]) if row else None

    def seq_base(self) -> int:
        """The first 拍摄序号 of this kiosk in any school (0 + 1 before the office numbered it)."""
        return (self.kiosk_number() or 0) * SEQ_SPAN

    def adopt_kiosk_number(
        self, conn: sqlite3.Connection, number: int, *, replace: bool = False
    ) -> bool:
        """Take the office's number for this kiosk, inside the caller's transaction.

        A kiosk without one (a roster from a USB stick, never synced) moves each
        school's counter to number x SEQ_SPAN + its count so far + 1 in the same
        transaction, so the numbers it gave before (which the office reads as
        number x SEQ_SPAN + n) and after never meet. ``replace`` (the roster
        pull) also takes a number that differs from the one held; the sync's
        receipt never changes a number once held. True when anything changed.
        """
        row = conn.execute("SELECT kiosk_number FROM station_identity").fetchone()
        if row is not None and (int(row[0]) == number or not replace):
            return False
        conn.execute(
            "INSERT INTO station_identity (id, kiosk_number, at) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET kiosk_number = excluded.kiosk_number, at = excluded.at",
            (number, now()),
        )
        if row is None:
            counters = conn.execute("SELECT school_code, next_seq FROM school_counters").fetchall()
            conn.executemany(
                "UPDATE school_counters SET next_seq = ? WHERE school_code = ?",
                [(adopted_counter(int(c[1]), number), c[0]) for c in counters],
            )
            self.log_event("kiosk_number", f"kiosk number {number}", detail={"number": number})
        return True

    def _next_seq(self, conn: sqlite3.Connection, school_code: str) -> int:
        conn.execute(
            "INSERT INTO school_counters (school_code, next_seq) VALUES (?, ?) "
            "ON CONFLICT(school_code) DO NOTHING",
            (school_code, self.seq_base() + 1),
        )
        return int(
            conn.execute(
                "UPDATE school_counters SET next_seq = next_seq + 1 WHERE school_code = ? "
                "RETURNING next_seq - 1",
                (school_code,),
            ).fetchone()[0]
        )

    def last_delivered_shot(self, student_id: int) -> Shot | None:
        """The student's latest delivered shot: the one a retake supersedes, shown on a rescan."""
        row = self.conn.execute(
            "SELECT * FROM shots WHERE student_id = ? AND status IN ('accepted', 'flagged') "
            "ORDER BY taken_at DESC, id DESC LIMIT 1",
            (student_id,),
        ).fetchone()
        return Shot(**{k: row[k] for k in Shot.__dataclass_fields__}) if row else None

    def standing_photo(self, student_id: int) -> Shot | None:
        """The delivered shot a rescan shows ("already photographed"), unless the school
        asked for a retake after it (pulled from the office): then the student is
        photographed again without the crew having to override."""
        shot = self.last_delivered_shot(student_id)
        if shot is None:
            return None
        # Keyed by ID number, or a 采集码 student's code (kiosk.student.student_key).
        requested = self.conn.execute(
            "SELECT rr.requested_at FROM retake_requests rr JOIN students s "
            "ON rr.id_number = coalesce(s.id_number, ? || s.collection_code) WHERE s.id = ?",
            (CODE_KEY, student_id),
        ).fetchone()
        return None if requested and requested[0] > shot.taken_at else shot

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    def remove_orphans(self, older_than: float = 0.0) -> list[Path]:
        """Delete photo files with no shot row and leftover temporary files.

        A crash between the file's rename and the commit leaves such a file;
        it holds no data the kiosk ever confirmed, so it goes. The station
        calls this at start with ``older_than=0`` (nobody else saves shots);
        any other process passes an age in seconds, so a shot being saved
        right now (file renamed, commit pending) is never taken for an orphan.
        """
        photos = self.data_dir / "photos"
        if not photos.exists():
            return []
        cutoff = time.time() - older_than
        known = {row[0] for row in self.conn.execute("SELECT file FROM shots")}
        removed = []
        for path in photos.rglob("*"):
            if not path.is_file():
                continue
            relative = path.relative_to(self.data_dir).as_posix()
            if path.name.startswith(".tmp-") or relative not in known:
                try:
                    if older_than and path.stat().st_mtime > cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
                removed.append(path)
        return removed

    def verify(self) -> VerifyReport:
        """Check every shot row against its file and the database against itself.

        Read-only. Problems are things that lose or damage data (a missing or
        changed photo, a delivered shot with no outbox entry, a broken
        database); leftovers are orphan or temporary files, which
        :meth:`remove_orphans` clears at the station's start.
        """
        problems = list(self.integrity_problems())
        checked = 0
        files: set[str] = set()
        rows = self.conn.execute(
            "SELECT s.uuid, s.file, s.sha256, s.size, s.status, s.purged_at, o.state "
            "FROM shots s LEFT JOIN outbox o ON o.shot_uuid = s.uuid ORDER BY s.id"
        ).fetchall()
        for row in rows:
            files.add(row["file"])
            if row["status"] in DELIVERED and row["state"] is None:
                problems.append(f"shot {row['uuid']}: delivered but not in the outbox")
            if row["purged_at"]:
                continue
            checked += 1
            path = self.data_dir / row["file"]
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                problems.append(f"shot {row['uuid']}: file {row['file']} is missing")
                continue
            except OSError as exc:
                problems.append(f"shot {row['uuid']}: cannot read {row['file']}: {exc.strerror}")
                continue
            if len(data) != row["size"]:
                problems.append(
                    f"shot {row['uuid']}: {row['file']} has {len(data)} bytes, expected {row['size']}"
                )
            elif hashlib.sha256(data).hexdigest() != row["sha256"]:
                problems.append(f"shot {row['uuid']}: {row['file']} does not match its sha256")
        for row in self.conn.execute(
            "SELECT o.shot_uuid, o.batch_uuid FROM outbox o LEFT JOIN batches b "
            "ON b.uuid = o.batch_uuid WHERE o.state = 'batched' AND b.uuid IS NULL"
        ):
            problems.append(f"outbox {row[0]}: in batch {row[1]}, which does not exist")
        leftovers: list[str] = []
        photos = self.data_dir / "photos"
        if photos.exists():
            for path in photos.rglob("*"):
                if path.is_file():
                    relative = path.relative_to(self.data_dir).as_posix()
                    if relative not in files:
                        leftovers.append(relative)
        return VerifyReport(
            shots=len(rows), checked=checked, problems=problems, leftovers=leftovers
        )

    def integrity_problems(self) -> list[str]:
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        problems = [row[0] for row in rows if row[0] != "ok"]
        problems += [
            f"foreign key: {row[0]} row {row[1]} points at missing {row[2]}"
            for row in self.conn.execute("PRAGMA foreign_key_check").fetchall()
        ]
        return problems


@dataclass(frozen=True, slots=True)
class VerifyReport:
    shots: int
    checked: int  # shots whose file was read (purged ones are not)
    problems: list[str]
    leftovers: list[str]  # files with no shot row (orphans, temporary files)

    @property
    def ok(self) -> bool:
        return not self.problems


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (``sqlite3.complete_statement``)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement:
                yield statement
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def open_store(data_dir: Path) -> Store:
    return Store(Path(data_dir) / "kiosk.db")
