"""What the receiver needs from storage: two small interfaces.

The HTTP layer (central/app.py) talks only to :class:`PhotoStore` (blobs by
sha256) and :class:`Metadata` (tokens, batches, records, sessions). The
embedded default is a content-addressed folder (central/local.py) plus one
SQLite file; a national deployment uses an S3-compatible bucket
(central/s3.py) and PostgreSQL, the same SQL stores on either database
(central/database.py, docs/scale.md). The rules
that make sync idempotent live in the metadata store's ``commit_batch``:
``UNIQUE(batch uuid)`` and ``UNIQUE(record uuid)`` enforced by the database,
same id + same content = success again, same id + other content = conflict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from central.accounts import Account, AccountSummary
from central.campaign import (
    Decision,
    GroupProgress,
    KioskActivity,
    PlannedSchool,
    Proposal,
    ReviewState,
    ScheduleEntry,
    SchoolProgress,
    SeqCollision,
    StudentView,
)
from kiosk.roster import CheckedRoster, ImportReport
from kiosk.sync import protocol
from kiosk.sync.protocol import Manifest


class Refusal(Exception):
    """A 4xx answer: HTTP status, protocol error code, a message for people."""

    def __init__(
        self, status: int, error: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra or {}


class DigestingUpload:
    """An upload's bytes written to ``file`` and hashed on the way in (both stores' base).

    Nothing is stored under a sha256 the bytes do not hash to: ``verify``
    comes first in every ``finish``.
    """

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.hash = hashlib.sha256()
        self.length = 0

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.hash.update(chunk)
        self.length += len(chunk)

    def verify(self, sha256: str) -> None:
        if self.hash.hexdigest() != sha256:
            raise Refusal(
                400,
                protocol.ERR_DIGEST,
                f"the {self.length} bytes received do not match sha256 {sha256}",
            )


def held_problem(held: int, digest: str, sha256: str, size: int) -> str | None:
    """What is wrong with a held photo read back (``held`` bytes hashing to ``digest``)."""
    if held != size:
        return f"{held} bytes, the record says {size}"
    if digest != sha256:
        return "its bytes do not hash to its sha256"
    return None


class Upload(Protocol):
    """A photo being received: bytes streamed in, then verified and kept (or not)."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self, sha256: str) -> bool:
        """Verify and store; True if new, False if already held. Raises Refusal on mismatch."""
        ...

    def abort(self) -> None: ...


class PhotoStore(Protocol):
    def size(self, sha256: str) -> int | None:
        """Size of a held photo, None if absent."""
        ...

    def begin(self) -> Upload: ...

    def read(self, sha256: str) -> bytes: ...

    def path(self, sha256: str) -> Path:
        """A local file with the photo (the export reads files; a bucket caches one)."""

    def check(self, sha256: str, size: int) -> str | None:
        """Read the held photo now: None if it has ``size`` bytes hashing to ``sha256``,
        else what is wrong (missing, wrong size, other bytes)."""
        ...

    def digests(self) -> Iterator[tuple[str, float]]:
        """Every held photo's sha256 and modification time (for verify and GC)."""
        ...

    def remove(self, sha256: str) -> None:
        """Delete a held photo (garbage collection of photos no record names)."""
        ...


@dataclass(frozen=True, slots=True)
class CommitResult:
    receipt: dict[str, Any]
    repeated: bool


@dataclass(frozen=True, slots=True)
class SessionSummary:
    session: str
    count: int
    digest: str
    # Each record's photo as the database describes it, so the caller can
    # prove the bytes are held (read them) before it answers a match.
    photos: tuple[tuple[str, str, int], ...] = ()  # (record uuid, sha256, size)


@dataclass(frozen=True, slots=True)
class SessionStatus:
    school_code: str
    school_name: str
    session: str
    kiosk: str
    category: str
    department: str
    records: int
    current: int
    superseded: int
    bytes: int
    last_received: str | None
    kiosks: list[str] = field(default_factory=list)


class Metadata(Protocol):
    def kiosk_for_token(self, token: str) -> str | None: ...

    def add_token(self, kiosk_id: str, schools: Iterable[str] = ()) -> str: ...

    def commit_batch(
        self,
        kiosk_id: str,
        manifest: Manifest,
        body_sha256: str,
        photo_size: Callable[[str], int | None],
    ) -> CommitResult:
        """One transaction: the batch and its new records, or a Refusal and nothing."""
        ...

    def session_summary(self, kiosk_id: str, session_uuid: str) -> SessionSummary: ...

    def status(self) -> list[SessionStatus]: ...

    def records(self, session_uuid: str | None = None) -> list[dict[str, Any]]:
        """Every record as received (for the export), oldest first."""
        ...

    def photo_references(self) -> Iterator[tuple[str, str, int]]:
        """(record uuid, sha256, size) of every record: what ``central verify`` checks."""
        ...

    def collect_photos(self, candidates: list[str], remove: Callable[[str], None]) -> int:
        """Remove those candidates no record names, holding the write lock so no
        batch naming one commits meanwhile (that batch gets 424 and re-uploads)."""
        ...

    def integrity_problems(self) -> list[str]:
        """The database's own checks (integrity, foreign keys); empty when sound."""
        ...

    def close(self) -> None: ...


class CampaignStore(Protocol):
    """Rosters, the schedule, kiosk numbers, progress and the schools' review decisions.

    Everything the office's CLI and web pages read or write about the
    campaign goes through here (central/local_campaign.py is the SQLite one).
    """

    def import_roster(self, checked: CheckedRoster) -> ImportReport: ...

    def import_schedule(self, entries: list[ScheduleEntry]) -> int: ...

    def schedule(self) -> list[ScheduleEntry]: ...

    def roster(self, school_code: str) -> list[dict[str, Any]]: ...

    def roster_version(self, school_code: str) -> str: ...

    def school_name(self, school_code: str) -> str | None: ...

    def planned(self, school_code: str) -> PlannedSchool | None: ...

    def school_codes(self) -> list[str]: ...

    def kiosk_number(self, kiosk_id: str) -> int: ...

    def highest_seq(self, kiosk_id: str, school_code: str) -> int: ...

    def seq_collisions(self, school_code: str | None = None) -> list[SeqCollision]: ...

    def retake_requests(self, school_code: str) -> list[Decision]: ...

    def kiosk_activity(self) -> list[KioskActivity]: ...

    def progress(self, school_code: str | None = None) -> list[SchoolProgress]: ...

    def groups(self, school_code: str) -> list[GroupProgress]: ...

    def students(
        self,
        school_code: str,
        *,
        query: str = "",
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[StudentView], int]: ...

    def record_school(self, record_uuid: str) -> tuple[str, str] | None: ...

    def student_school(self, key: str) -> str | None: ...

    def station_proposals(self, school_code: str) -> list[Proposal]: ...

    def decide(self, decision: Decision) -> int: ...

    def finish_review(self, school_code: str, user: str) -> None: ...

    def withdraw(self, school_code: str, decision_id: int, user: str) -> str:
        """``withdrawn``, ``finished`` (reopen the review first) or ``unknown``."""
        ...

    def reopen_review(self, school_code: str) -> None: ...

    def review(self, school_code: str) -> ReviewState: ...

    def export_rows(
        self, school_code: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Decision]]: ...

    def close(self) -> None: ...


class AccountStore(Protocol):
    """Web accounts, their sessions and failed logins (central/local_accounts.py)."""

    def add_user(self, user: Account, password_hash: str) -> None: ...

    def user(self, name: str) -> tuple[Account, str] | None:
        """The account and its password hash."""
        ...

    def disabled(self, name: str) -> bool: ...

    def users(self) -> list[AccountSummary]: ...

    def set_password_hash(self, name: str, password_hash: str) -> None: ...

    def replace_password(
        self, name: str, password_hash: str, *, must_change: bool, keep_session: str = ""
    ) -> bool:
        """False: no such account."""
        ...

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """False: no such account."""
        ...

    def record_login(self, name: str, at: str) -> None: ...

    def add_session(self, token_sha256: str, name: str, csrf: str, expires_at: str) -> None: ...

    def session(self, token_sha256: str, at: str) -> tuple[Account, str] | None:
        """The signed-in account and the session's CSRF token, if the session is live."""
        ...

    def end_session(self, token_sha256: str) -> None: ...

    def record_failure(self, name: str, at: str) -> None: ...

    def failures_since(self, name: str, since: str) -> int: ...

    def close(self) -> None: ...
