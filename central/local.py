"""Photos in a content-addressed folder; the receiver's metadata in SQLite or PostgreSQL.

Photos are written the way the kiosk writes them (temp file, fsync, link to
the final name, directory fsync), so a receiver killed mid-upload keeps
either the whole photo or none; the final name is its sha256, so a photo
sent twice is stored once. ``os.link`` makes "create if absent" atomic when
two uploads of the same photo race.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from central.database import FOLD_LOCK, GC_LOCK, Connection, Database, retried
from central.retakes import Shot, supersede_refusal
from central.storage import (
    CommitResult,
    DigestingUpload,
    Refusal,
    SessionStatus,
    SessionSummary,
    held_problem,
)
from kiosk.durable import fsync_dir, make_dirs_durably, now
from kiosk.sync import protocol


class FolderPhotoStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "photos"
        self.tmp = root / "tmp"
        make_dirs_durably(self.root)
        make_dirs_durably(self.tmp)

    def path(self, sha256: str) -> Path:
        if not protocol.SHA256_RE.fullmatch(sha256):  # never a path from unchecked input
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def check(self, sha256: str, size: int) -> str | None:
        # Read, not a flag set at upload: what the purge guarantee needs is
        # that the bytes are here now, and a flag cannot see a file deleted or
        # damaged after it was written (docs/sync-protocol.md).
        try:
            with open(self.path(sha256), "rb") as file:
                digest = hashlib.file_digest(file, "sha256")
                held = file.tell()
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        return held_problem(held, digest.hexdigest(), sha256, size)

    def digests(self) -> Iterator[tuple[str, float]]:
        for path in self.root.glob("??/??/*.jpg"):
            if protocol.SHA256_RE.fullmatch(path.stem):
                with contextlib.suppress(FileNotFoundError):
                    yield path.stem, path.stat().st_mtime

    def remove(self, sha256: str) -> None:
        path = self.path(sha256)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)

    def begin(self) -> FolderUpload:
        return FolderUpload(self)

    def clean_temporary(self) -> int:
        """Uploads cut short by a crash leave temp files; none is a photo anyone confirmed."""
        removed = 0
        for path in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed


class FolderUpload(DigestingUpload):
    def __init__(self, store: FolderPhotoStore) -> None:
        self.store = store
        self.temp = store.tmp / f"{uuid_module.uuid4()}.part"
        super().__init__(open(self.temp, "wb"))  # noqa: SIM115 (closed in finish/abort)

    def finish(self, sha256: str) -> bool:
        try:
            self.verify(sha256)
            final = self.store.path(sha256)
            if final.exists() and self.store.check(sha256, self.length) is None:
                with contextlib.suppress(OSError):
                    os.utime(final)  # sent again: its batch is coming, restart the GC grace
                return False
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            make_dirs_durably(final.parent)
            if final.exists():
                # The held copy is damaged (found by verify or a reconcile):
                # these verified bytes replace it atomically.
                os.replace(self.temp, final)
                fsync_dir(final.parent)
                return True
            try:
                os.link(self.temp, final)
            except FileExistsError:
                return False  # the same photo arrived on another connection first
            fsync_dir(final.parent)
            return True
        finally:
            self.abort()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id            INTEGER PRIMARY KEY,
    kiosk_id      TEXT NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,   -- the token itself is never stored
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE TABLE IF NOT EXISTS kiosk_schools (  -- schools a kiosk may act for (retakes)
    kiosk_id      TEXT NOT NULL,
    school_code   TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, school_code)
);
CREATE TABLE IF NOT EXISTS batches (
    uuid          TEXT PRIMARY KEY,
    kiosk_id      TEXT NOT NULL,
    body_sha256   TEXT NOT NULL,
    records       INTEGER NOT NULL,
    received_at   TEXT NOT NULL,
    receipt       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    uuid          TEXT PRIMARY KEY,
    kiosk_id      TEXT NOT NULL,
    station_id    TEXT NOT NULL,
    school_code   TEXT NOT NULL,
    school_name   TEXT NOT NULL,
    category      TEXT NOT NULL,
    department    TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    first_seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    kiosk_id      TEXT NOT NULL,
    batch_uuid    TEXT NOT NULL REFERENCES batches(uuid),
    session_uuid  TEXT NOT NULL REFERENCES sessions(uuid),
    seq           INTEGER,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    taken_at      TEXT NOT NULL,
    status        TEXT NOT NULL,
    supersedes    TEXT,
    superseded_by TEXT,                 -- a later retake of the same student; history kept
    id_number     TEXT,
    student_number TEXT,
    name          TEXT NOT NULL,
    school_code   TEXT NOT NULL,
    school_name   TEXT,
    category      TEXT,
    department    TEXT,
    major         TEXT,
    collection_code TEXT,
    received_at   TEXT NOT NULL,
    body          TEXT NOT NULL         -- the record as sent (canonical JSON)
);
CREATE INDEX IF NOT EXISTS records_session ON records(session_uuid);
CREATE INDEX IF NOT EXISTS records_student ON records(school_code, id_number);
CREATE INDEX IF NOT EXISTS records_supersedes ON records(supersedes);
"""


class SqlMetadata:
    """Tokens, batches, sessions and records in SQLite or PostgreSQL (central/database.py).

    Every write is one transaction; under PostgreSQL a batch that loses a
    race with another receiver process (same batch or record uuid) is run
    again whole and then answers as a repeat or a conflict.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()

    # -- tokens ------------------------------------------------------------------

    @retried
    def add_token(self, kiosk_id: str, schools: Iterable[str] = ()) -> str:
        if not protocol.KIOSK_ID_RE.fullmatch(kiosk_id):
            raise ValueError(f"{kiosk_id!r}: a kiosk id is letters, digits, . _ - (max 64)")
        granted = list(schools)
        for school in granted:
            if not school.strip() or not school.isprintable():
                raise ValueError(f"{school!r} is not a school code (院校代码)")
        token = secrets.token_urlsafe(32)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO tokens (kiosk_id, token_sha256, created_at) VALUES (?, ?, ?)",
                (kiosk_id, _token_hash(token), now()),
            )
            conn.executemany(
                "INSERT INTO kiosk_schools (kiosk_id, school_code) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                [(kiosk_id, school.strip()) for school in granted],
            )
        return token

    def kiosk_for_token(self, token: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT kiosk_id FROM tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
                (_token_hash(token),),
            ).fetchone()
        return row[0] if row else None

    # -- batches -------------------------------------------------------------------

    @retried
    def commit_batch(
        self,
        kiosk_id: str,
        manifest: protocol.Manifest,
        body_sha256: str,
        photo_size: Callable[[str], int | None],
    ) -> CommitResult:
        with self.db.write() as conn:
            self.db.hold(conn, GC_LOCK, exclusive=False)  # no photo collected meanwhile
            self.db.hold(conn, FOLD_LOCK, exclusive=False)  # ids below commit before a fold
            known = conn.execute(
                "SELECT kiosk_id, body_sha256, receipt FROM batches WHERE uuid = ?",
                (manifest.batch,),
            ).fetchone()
            if known is not None:
                if known["kiosk_id"] != kiosk_id:
                    raise Refusal(
                        403, protocol.ERR_FORBIDDEN, "this batch belongs to another kiosk"
                    )
                if known["body_sha256"] != body_sha256:
                    raise Refusal(
                        409,
                        protocol.ERR_BATCH_CONFLICT,
                        "this batch uuid was committed with a different body; "
                        "a batch's bytes never change",
                    )
                return CommitResult(receipt=json.loads(known["receipt"]), repeated=True)
            # Each photo asked once (a bucket answers over the network).
            sizes = {sha: photo_size(sha) for sha in {r.sha256 for r in manifest.records}}
            missing = sorted(sha for sha, size in sizes.items() if size is None)
            if missing:
                raise Refusal(
                    424,
                    protocol.ERR_PHOTOS_MISSING,
                    f"{len(missing)} photos of this batch have not been uploaded",
                    {"missing": missing},
                )
            for record in manifest.records:
                size = sizes[record.sha256]
                if size != record.size:
                    raise Refusal(
                        422,
                        protocol.ERR_BAD_MANIFEST,
                        f"record {record.uuid}: size {record.size} but photo has {size} bytes",
                    )
            at = now()
            for session_uuid, session in manifest.sessions.items():
                owner = conn.execute(
                    "SELECT kiosk_id FROM sessions WHERE uuid = ?", (session_uuid,)
                ).fetchone()
                if owner is None:
                    conn.execute(
                        "INSERT INTO sessions (uuid, kiosk_id, station_id, school_code, "
                        "school_name, category, department, opened_at, closed_at, first_seen_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            session_uuid,
                            kiosk_id,
                            session["station_id"],
                            session["school_code"],
                            session["school_name"],
                            session["category"],
                            session["department"],
                            session["opened_at"],
                            session.get("closed_at"),
                            at,
                        ),
                    )
                elif owner[0] != kiosk_id:
                    raise Refusal(
                        403,
                        protocol.ERR_FORBIDDEN,
                        f"session {session_uuid} belongs to another kiosk",
                    )
                elif session.get("closed_at"):
                    conn.execute(
                        "UPDATE sessions SET closed_at = ? WHERE uuid = ? AND closed_at IS NULL",
                        (session["closed_at"], session_uuid),
                    )
            conn.execute(
                "INSERT INTO batches (uuid, kiosk_id, body_sha256, records, received_at, receipt) "
                "VALUES (?, ?, ?, ?, ?, '{}')",
                (manifest.batch, kiosk_id, body_sha256, len(manifest.records), at),
            )
            held: list[str] = []
            conflicts: list[dict[str, str]] = []
            for record in manifest.records:
                body = record.canonical()
                existing = conn.execute(
                    "SELECT kiosk_id, body FROM records WHERE uuid = ?", (record.uuid,)
                ).fetchone()
                if existing is not None:
                    if existing["kiosk_id"] == kiosk_id and existing["body"] == body:
                        held.append(record.uuid)  # a duplicate: success again
                    else:
                        conflicts.append(
                            {
                                "uuid": record.uuid,
                                "error": protocol.ERR_RECORD_CONFLICT,
                                "message": "this record uuid is held with different content",
                            }
                        )
                    continue
                self._insert_record(conn, kiosk_id, manifest.batch, record, body, at)
                held.append(record.uuid)
            receipt = {
                "protocol": protocol.PROTOCOL,
                "batch": manifest.batch,
                "kiosk": kiosk_id,
                "received_at": at,
                "held": held,
                "conflicts": conflicts,
            }
            conn.execute(
                "UPDATE batches SET receipt = ? WHERE uuid = ?",
                (json.dumps(receipt), manifest.batch),
            )
        return CommitResult(receipt=receipt, repeated=False)

    def _insert_record(
        self,
        conn: Connection,
        kiosk_id: str,
        batch: str,
        record: protocol.Record,
        body: str,
        at: str,
    ) -> None:
        raw: dict[str, Any] = dict(record.body)
        student = raw["student"]
        this = Shot(
            uuid=record.uuid,
            kiosk=kiosk_id,
            school_code=student["school_code"],
            id_number=student.get("id_number"),
            collection_code=raw.get("collection_code") or student.get("collection_code"),
        )
        # A retake that arrived earlier than this record already names it; it
        # replaces this one only if the rule allows (it was not checkable then).
        later = None
        for candidate in conn.execute(
            "SELECT uuid, kiosk_id, school_code, id_number, collection_code FROM records "
            "WHERE supersedes = ? ORDER BY taken_at DESC",
            (record.uuid,),
        ).fetchall():
            retake = _shot(candidate)
            if supersede_refusal(retake, this, self._granted(conn, retake.kiosk)) is None:
                later = retake.uuid
                break
        supersedes = raw.get("supersedes")
        if supersedes:
            original = conn.execute(
                "SELECT uuid, kiosk_id, school_code, id_number, collection_code FROM records "
                "WHERE uuid = ?",
                (supersedes,),
            ).fetchone()
            if original is not None:
                refusal = supersede_refusal(this, _shot(original), self._granted(conn, kiosk_id))
                if refusal is not None:
                    raise refusal
        conn.execute(
            "INSERT INTO records (uuid, kiosk_id, batch_uuid, session_uuid, seq, sha256, size, "
            "taken_at, status, supersedes, superseded_by, id_number, student_number, name, "
            "school_code, school_name, category, department, major, collection_code, "
            "received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            (
                record.uuid,
                kiosk_id,
                batch,
                record.session,
                raw.get("seq"),
                record.sha256,
                record.size,
                raw["taken_at"],
                raw["status"],
                supersedes,
                later,
                student.get("id_number"),
                student.get("student_number"),
                student.get("name") or "",
                student["school_code"],
                student.get("school_name"),
                student.get("category"),
                student.get("department"),
                student.get("major"),
                this.collection_code,
                at,
                body,
            ),
        )
        if supersedes:
            conn.execute(
                "UPDATE records SET superseded_by = ? WHERE uuid = ? AND superseded_by IS NULL",
                (record.uuid, supersedes),
            )

    @staticmethod
    def _granted(conn: Connection, kiosk_id: str) -> frozenset[str]:
        return frozenset(
            r[0]
            for r in conn.execute(
                "SELECT school_code FROM kiosk_schools WHERE kiosk_id = ?", (kiosk_id,)
            )
        )

    # -- reading -------------------------------------------------------------------

    def session_summary(self, kiosk_id: str, session_uuid: str) -> SessionSummary:
        with self.db.read() as conn:
            owner = conn.execute(
                "SELECT kiosk_id FROM sessions WHERE uuid = ?", (session_uuid,)
            ).fetchone()
            if owner is not None and owner[0] != kiosk_id:
                raise Refusal(403, protocol.ERR_FORBIDDEN, "this session belongs to another kiosk")
            photos = tuple(
                (r[0], r[1], r[2])
                for r in conn.execute(
                    "SELECT uuid, sha256, size FROM records WHERE session_uuid = ? ORDER BY id",
                    (session_uuid,),
                )
            )
        return SessionSummary(
            session=session_uuid,
            count=len(photos),
            digest=protocol.session_digest((p[0], p[1]) for p in photos),
            photos=photos,
        )

    def status(self) -> list[SessionStatus]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT se.school_code, se.school_name, se.uuid, se.kiosk_id, se.category, "
                "se.department, count(r.id) AS records, "
                "sum(CASE WHEN r.id IS NOT NULL AND r.superseded_by IS NULL THEN 1 ELSE 0 END) "
                "AS current, "
                "sum(CASE WHEN r.superseded_by IS NOT NULL THEN 1 ELSE 0 END) AS superseded, "
                "coalesce(sum(r.size), 0) AS bytes, max(r.received_at) AS last_received "
                "FROM sessions se LEFT JOIN records r ON r.session_uuid = se.uuid "
                "GROUP BY se.uuid ORDER BY se.school_code, se.opened_at"
            ).fetchall()
        return [
            SessionStatus(
                school_code=r["school_code"],
                school_name=r["school_name"],
                session=r["uuid"],
                kiosk=r["kiosk_id"],
                category=r["category"],
                department=r["department"],
                records=r["records"],
                current=r["current"] or 0,
                superseded=r["superseded"] or 0,
                bytes=r["bytes"],
                last_received=r["last_received"],
            )
            for r in rows
        ]

    def records(self, session_uuid: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT kiosk_id, batch_uuid, superseded_by, received_at, body FROM records"
        args: tuple[Any, ...] = ()
        if session_uuid is not None:
            query += " WHERE session_uuid = ?"
            args = (session_uuid,)
        with self.db.read() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        result = []
        for r in rows:
            body = json.loads(r["body"])
            body.update(
                kiosk=r["kiosk_id"],
                batch=r["batch_uuid"],
                superseded_by=r["superseded_by"],
                received_at=r["received_at"],
            )
            result.append(body)
        return result

    def photo_references(self) -> Iterator[tuple[str, str, int]]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT uuid, sha256, size FROM records ORDER BY id").fetchall()
        for row in rows:
            yield row[0], row[1], row[2]

    def collect_photos(self, candidates: list[str], remove: Callable[[str], None]) -> int:
        removed = 0
        with self.db.write() as conn:
            self.db.hold(conn, GC_LOCK, exclusive=True)
            for sha in candidates:
                if conn.execute("SELECT 1 FROM records WHERE sha256 = ?", (sha,)).fetchone():
                    continue
                remove(sha)
                removed += 1
        return removed

    def integrity_problems(self) -> list[str]:
        return self.db.integrity_problems()


def _shot(row: Any) -> Shot:
    return Shot(
        uuid=row["uuid"],
        kiosk=row["kiosk_id"],
        school_code=row["school_code"],
        id_number=row["id_number"],
        collection_code=row["collection_code"],
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
