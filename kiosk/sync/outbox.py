"""The kiosk side of store-and-forward: batches formed from the outbox, receipts applied.

Every function is one short transaction and none does network I/O, so the
sync never holds the database's write lock while it waits on Wi-Fi. A batch
is fixed when formed: its uuid and the exact manifest bytes are committed
before the first byte is sent, so a retry (after a timeout, a kill, a power
cut) is the same batch and the receiver can answer it idempotently.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.store import Store, now
from kiosk.sync import protocol

_SESSION_COLUMNS = ", ".join(f"se.{name} AS se_{name}" for name in protocol.SESSION_FIELDS)
_STUDENT_COLUMNS = ", ".join(f"st.{name} AS st_{name}" for name in protocol.STUDENT_FIELDS)


@dataclass(frozen=True, slots=True)
class Photo:
    record_uuid: str
    sha256: str
    size: int
    file: str  # relative to the data folder


@dataclass(frozen=True, slots=True)
class Batch:
    uuid: str
    manifest: bytes
    records: int
    bytes: int
    attempts: int

    def record_uuids(self) -> list[str]:
        return [r["uuid"] for r in json.loads(self.manifest)["records"]]


def counts(store: Store) -> dict[str, int]:
    """Outbox entries per state (pending, batched, synced, quarantined)."""
    result = {"pending": 0, "batched": 0, "synced": 0, "quarantined": 0}
    for state, n in store.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
        result[state] = n
    return result


@dataclass(frozen=True, slots=True)
class SyncHealth:
    """What the crew screen shows about the sync (no personal data)."""

    pending: int  # waiting to be sent (pending + in an open batch)
    synced: int
    quarantined: int  # refused by the receiver: the crew must look
    last_synced_at: str | None
    last_error: str | None  # of the open batch, while it is being retried


def health(store: Store) -> SyncHealth:
    tally = counts(store)
    last = store.conn.execute("SELECT max(synced_at) FROM outbox").fetchone()[0]
    error = store.conn.execute(
        "SELECT last_error FROM batches WHERE state = 'open' ORDER BY id LIMIT 1"
    ).fetchone()
    return SyncHealth(
        pending=tally["pending"] + tally["batched"],
        synced=tally["synced"],
        quarantined=tally["quarantined"],
        last_synced_at=last,
        last_error=error[0] if error else None,
    )


def remaining(store: Store) -> int:
    """Entries still to send (quarantined ones wait for the crew, not for the sync)."""
    return int(
        store.conn.execute(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'batched')"
        ).fetchone()[0]
    )


def open_batch(store: Store) -> Batch | None:
    row = store.conn.execute(
        "SELECT uuid, manifest, records, bytes, attempts FROM batches "
        "WHERE state = 'open' ORDER BY id LIMIT 1"
    ).fetchone()
    return _batch(row) if row else None


def _batch(row: Any) -> Batch:
    return Batch(
        uuid=row["uuid"],
        manifest=bytes(row["manifest"]),
        records=row["records"],
        bytes=row["bytes"],
        attempts=row["attempts"],
    )


def form_batch(store: Store, *, kiosk_id: str, max_records: int, max_bytes: int) -> Batch | None:
    """Group the oldest pending entries into a new batch; None when nothing is pending.

    A record the receiver would refuse (checked with the protocol's own
    rules) is quarantined here instead, so it cannot take a whole batch down
    with it.
    """
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT o.id AS outbox_id, s.uuid, s.seq, s.sha256, s.size, s.width, s.height, "
            "s.taken_at, s.status, s.reasons, s.supersedes, s.collection_code AS shot_code, "
            f"{_SESSION_COLUMNS}, {_STUDENT_COLUMNS} "
            "FROM outbox o JOIN shots s ON s.uuid = o.shot_uuid "
            "JOIN sessions se ON se.id = s.session_id JOIN students st ON st.id = s.student_id "
            "WHERE o.state = 'pending' ORDER BY o.id LIMIT ?",
            (max_records,),
        ).fetchall()
        if not rows:
            return None
        sessions: dict[str, dict[str, Any]] = {}
        records: list[dict[str, Any]] = []
        total = 0
        for row in rows:
            if records and total + row["size"] > max_bytes:
                break
            session = {name: row[f"se_{name}"] for name in protocol.SESSION_FIELDS}
            record = record_body(row)
            try:
                protocol.check_record(record, {session["uuid"]: session})
            except protocol.ManifestError as exc:
                conn.execute(
                    "UPDATE outbox SET state = 'quarantined', last_error = ? WHERE shot_uuid = ?",
                    (f"not sendable: {exc}", row["uuid"]),
                )
                store.log_event("sync_quarantined", str(exc), level="warning")
                continue
            sessions[session["uuid"]] = session
            records.append(record)
            total += row["size"]
        if not records:
            return None
        batch_uuid = str(uuid_module.uuid4())
        manifest = protocol.encode_manifest(
            batch=batch_uuid, kiosk=kiosk_id, sessions=sessions.values(), records=records
        )
        conn.execute(
            "INSERT INTO batches (uuid, created_at, manifest, records, bytes) VALUES (?, ?, ?, ?, ?)",
            (batch_uuid, now(), manifest, len(records), total),
        )
        conn.executemany(
            "UPDATE outbox SET state = 'batched', batch_uuid = ? WHERE shot_uuid = ?",
            [(batch_uuid, r["uuid"]) for r in records],
        )
    return Batch(uuid=batch_uuid, manifest=manifest, records=len(records), bytes=total, attempts=0)


def record_body(row: Any) -> dict[str, Any]:
    """A shot row (joined with its student and session) as the protocol's record."""
    return {
        "uuid": row["uuid"],
        "session": row["se_uuid"],
        "seq": row["seq"],
        "sha256": row["sha256"],
        "size": row["size"],
        "width": row["width"],
        "height": row["height"],
        "taken_at": row["taken_at"],
        "status": row["status"],
        "reasons": json.loads(row["reasons"] or "[]"),
        "supersedes": row["supersedes"],
        "collection_code": row["shot_code"],
        "student": {name: row[f"st_{name}"] for name in protocol.STUDENT_FIELDS},
    }


def batch_photos(store: Store, batch_uuid: str) -> list[Photo]:
    rows = store.conn.execute(
        "SELECT s.uuid, s.sha256, s.size, s.file FROM outbox o JOIN shots s "
        "ON s.uuid = o.shot_uuid WHERE o.batch_uuid = ? ORDER BY o.id",
        (batch_uuid,),
    )
    return [Photo(r[0], r[1], r[2], r[3]) for r in rows]


def apply_receipt(
    store: Store,
    batch_uuid: str,
    held: Iterable[str],
    conflicts: dict[str, str],
    kiosk_number: int | None = None,
) -> tuple[int, int]:
    """Mark synced exactly the records the receipt names; returns (synced, quarantined).

    Conflicts are quarantined with the receiver's reason. Records of the
    batch the receipt names neither way go back to pending for a new batch.
    A kiosk that has no number yet adopts the receipt's in the same
    transaction (:meth:`Store.adopt_kiosk_number`).
    """
    held = set(held)
    at = now()
    with store.transaction() as conn:
        members = [
            r[0]
            for r in conn.execute(
                "SELECT shot_uuid FROM outbox WHERE batch_uuid = ? AND state = 'batched'",
                (batch_uuid,),
            )
        ]
        synced = quarantined = 0
        for record_uuid in members:
            if record_uuid in held:
                conn.execute(
                    "UPDATE outbox SET state = 'synced', synced_at = ?, last_error = NULL "
                    "WHERE shot_uuid = ?",
                    (at, record_uuid),
                )
                synced += 1
            elif record_uuid in conflicts:
                conn.execute(
                    "UPDATE outbox SET state = 'quarantined', last_error = ? WHERE shot_uuid = ?",
                    (conflicts[record_uuid], record_uuid),
                )
                quarantined += 1
            else:
                conn.execute(
                    "UPDATE outbox SET state = 'pending', batch_uuid = NULL WHERE shot_uuid = ?",
                    (record_uuid,),
                )
        conn.execute(
            "UPDATE batches SET state = 'done', done_at = ?, last_error = NULL WHERE uuid = ?",
            (at, batch_uuid),
        )
        if kiosk_number is not None:
            store.adopt_kiosk_number(conn, kiosk_number)
        if quarantined:
            store.log_event(
                "sync_quarantined",
                f"{quarantined} records refused by the receiver",
                level="warning",
                detail={"batch": batch_uuid},
            )
    return synced, quarantined


def refuse_batch(store: Store, batch_uuid: str, error: str) -> int:
    """The receiver refused the batch as a whole: its records wait for the crew."""
    with store.transaction() as conn:
        cursor = conn.execute(
            "UPDATE outbox SET state = 'quarantined', last_error = ? "
            "WHERE batch_uuid = ? AND state = 'batched'",
            (error, batch_uuid),
        )
        conn.execute(
            "UPDATE batches SET state = 'refused', last_error = ?, done_at = ? WHERE uuid = ?",
            (error, now(), batch_uuid),
        )
        store.log_event("sync_refused", error, level="warning", detail={"batch": batch_uuid})
    return cursor.rowcount


def dissolve_batch(store: Store, batch_uuid: str, damaged: dict[str, str]) -> None:
    """A batch that cannot be sent as formed (a local photo is damaged).

    The damaged records are quarantined; the others go back to pending and
    travel in a new batch (the receiver treats a record it already holds,
    same bytes, as a duplicate, so nothing doubles).
    """
    with store.transaction() as conn:
        for record_uuid, error in damaged.items():
            conn.execute(
                "UPDATE outbox SET state = 'quarantined', last_error = ? WHERE shot_uuid = ?",
                (error, record_uuid),
            )
        conn.execute(
            "UPDATE outbox SET state = 'pending', batch_uuid = NULL "
            "WHERE batch_uuid = ? AND state = 'batched'",
            (batch_uuid,),
        )
        conn.execute(
            "UPDATE batches SET state = 'refused', last_error = ?, done_at = ? WHERE uuid = ?",
            ("local photo damaged", now(), batch_uuid),
        )
        store.log_event(
            "sync_local_damage",
            f"{len(damaged)} photos do not match their sha256",
            level="error",
            detail={"batch": batch_uuid},
        )


def note_failure(store: Store, batch_uuid: str, error: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE batches SET attempts = attempts + 1, last_error = ? WHERE uuid = ?",
            (error, batch_uuid),
        )
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE batch_uuid = ? "
            "AND state = 'batched'",
            (error, batch_uuid),
        )


def requeue_quarantined(store: Store) -> int:
    """Send quarantined records again (after the cause was fixed); returns how many."""
    with store.transaction() as conn:
        cursor = conn.execute(
            "UPDATE outbox SET state = 'pending', batch_uuid = NULL, attempts = 0 "
            "WHERE state = 'quarantined'"
        )
        store.log_event("sync_requeued", f"{cursor.rowcount} records")
    return cursor.rowcount


def quarantined(store: Store) -> list[dict[str, Any]]:
    """What the crew screen shows: quarantined shots and why (no personal data)."""
    rows = store.conn.execute(
        "SELECT o.shot_uuid, o.last_error, s.seq, se.uuid AS session FROM outbox o "
        "JOIN shots s ON s.uuid = o.shot_uuid JOIN sessions se ON se.id = s.session_id "
        "WHERE o.state = 'quarantined' ORDER BY o.id"
    )
    return [dict(r) for r in rows]


# -- reconciliation -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionTally:
    session_id: int
    session_uuid: str
    count: int
    digest: str
    uuids: tuple[str, ...]


def session_tally(store: Store, session_id: int) -> SessionTally:
    """Count and order-independent digest of a session's delivered records."""
    row = store.conn.execute("SELECT uuid FROM sessions WHERE id = ?", (session_id,)).fetchone()
    pairs = [
        (r[0], r[1])
        for r in store.conn.execute(
            "SELECT uuid, sha256 FROM shots WHERE session_id = ? AND status IN "
            "('accepted', 'flagged')",
            (session_id,),
        )
    ]
    return SessionTally(
        session_id=session_id,
        session_uuid=row[0],
        count=len(pairs),
        digest=protocol.session_digest(pairs),
        uuids=tuple(p[0] for p in pairs),
    )


def record_reconciliation(
    store: Store,
    tally: SessionTally,
    remote_count: int | None,
    remote_digest: str | None,
    remote_verified: int | None = None,
) -> bool:
    """A match needs the same records (count, digest) and every photo proven held."""
    matched = (
        remote_count == tally.count
        and remote_digest == tally.digest
        and remote_verified == remote_count
    )
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO reconciliations (session_id, at, local_count, local_digest, "
            "remote_count, remote_digest, matched) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tally.session_id,
                now(),
                tally.count,
                tally.digest,
                remote_count,
                remote_digest,
                int(matched),
            ),
        )
    return matched
