"""What the receiver needs from storage: two small interfaces.

The HTTP layer (central/app.py) talks only to :class:`PhotoStore` (blobs by
sha256) and :class:`Metadata` (tokens, batches, records, sessions). The
embedded default (central/local.py) is a content-addressed folder plus one
SQLite file; a national deployment can implement the same two interfaces on
an S3-compatible bucket and PostgreSQL without touching the API. The rules
that make sync idempotent live in the metadata store's ``commit_batch``:
``UNIQUE(batch uuid)`` and ``UNIQUE(record uuid)`` enforced by the database,
same id + same content = success again, same id + other content = conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

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
