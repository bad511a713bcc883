"""The sync protocol's facts, shared by the kiosk's client and ``central``.

Everything here is pure (no I/O), so both sides agree by construction: the
manifest's shape and its validation, the identifiers allowed in URLs, the
``Content-Digest`` header (RFC 9530), the order-independent session digest
used by reconciliation, how an answer is classified (success, retry, refuse,
authentication) and the backoff delay. docs/sync-protocol.md explains why.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
import random
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.student import DESCRIPTION_FIELDS

PROTOCOL = 1
SERVICE = "kiosk-central"
API = "/v1"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SCHOOL_CODE_RE = re.compile(r"^[0-9]{5}$")  # 院校代码
# Kiosk ids end up in file names and log lines: letters, digits, dot, dash,
# underscore, not starting with a dot (no "..", no "/").
KIOSK_ID_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")

DELIVERED_STATUSES = ("accepted", "flagged")
# How the kiosk found the student (kiosk.db's students.origin).
ORIGINS = ("roster", "walk_in", "collection_code")

# Error codes in a refusal's JSON body ({"error": code, "message": ...}).
ERR_AUTH = "unauthorized"
ERR_FORBIDDEN = "forbidden"
ERR_BAD_ID = "bad_identifier"
ERR_DIGEST = "digest_mismatch"
ERR_TOO_LARGE = "too_large"
ERR_BAD_JSON = "bad_json"
ERR_BAD_MANIFEST = "bad_manifest"
ERR_BATCH_CONFLICT = "batch_conflict"
ERR_PHOTOS_MISSING = "photos_missing"
ERR_RECORD_CONFLICT = "record_conflict"
ERR_NOT_FOUND = "not_found"
ERR_SUPERSEDE = "supersede_conflict"  # 409: a retake names another student's record
ERR_TIMEOUT = "timeout"  # 408: the request head or body stopped arriving
ERR_BUSY = "busy"  # 503: too many connections; honour Retry-After


class ManifestError(ValueError):
    """A manifest that breaks the protocol; the message names the field."""


class ManifestJSONError(ManifestError):
    """The body is not JSON at all."""


# --------------------------------------------------------------------------
# Records and manifests
# --------------------------------------------------------------------------

# Student fields carried with every record: what the registry and the
# delivery package need, so the receiver's copy is complete on its own.
STUDENT_FIELDS = DESCRIPTION_FIELDS
SESSION_FIELDS = (
    "uuid",
    "station_id",
    "school_code",
    "school_name",
    "category",
    "department",
    "opened_at",
    "closed_at",
)


@dataclass(frozen=True, slots=True)
class Record:
    """One shot as it travels: its id, its photo's digest and its metadata."""

    uuid: str
    session: str
    sha256: str
    size: int
    body: Mapping[str, Any]  # the whole record object, as sent

    def canonical(self) -> str:
        """Same id + same canonical text = the same record (a duplicate, not a conflict)."""
        return canonical_json(self.body)


@dataclass(frozen=True, slots=True)
class Manifest:
    batch: str
    kiosk: str
    sessions: Mapping[str, Mapping[str, Any]]
    records: tuple[Record, ...]


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def encode_manifest(
    *, batch: str, kiosk: str, sessions: Iterable[Mapping[str, Any]], records: Iterable[Mapping]
) -> bytes:
    """The bytes of a batch, built once and stored, so every retry sends the same."""
    document = {
        "protocol": PROTOCOL,
        "batch": batch,
        "kiosk": kiosk,
        "sessions": list(sessions),
        "records": list(records),
    }
    return canonical_json(document).encode("utf-8")


def parse_json(body: bytes) -> Any:
    """UTF-8 JSON whose every text can be stored; :class:`ManifestJSONError` says why not.

    Two things the standard parser lets through or raises oddly: integers of
    more than 4,300 digits (a bare ValueError, CVE-2020-10735's limit) and
    lone UTF-16 surrogates such as ``"\\ud800"`` (a str that cannot be encoded
    to UTF-8, so SQLite refuses it later).
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestJSONError(f"not valid UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ManifestJSONError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ManifestJSONError("JSON nested too deeply") from None
    except ValueError:
        raise ManifestJSONError(
            "a number has too many digits (the limit is 4,300); send numbers as the "
            "protocol describes them"
        ) from None
    try:
        canonical_json(document).encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestJSONError(
            "a text holds a lone UTF-16 surrogate (like \\ud800), which is not a character"
        ) from None
    except RecursionError:
        raise ManifestJSONError("JSON nested too deeply") from None
    return document


def decode_manifest(body: bytes, *, max_records: int = 10_000) -> Manifest:
    """Parse and check a manifest; :class:`ManifestError` names what is wrong."""
    document = parse_json(body)
    if not isinstance(document, dict):
        raise ManifestError("the manifest must be a JSON object")
    if document.get("protocol") != PROTOCOL:
        raise ManifestError(f"protocol must be {PROTOCOL}, got {document.get('protocol')!r}")
    batch = _uuid(document, "batch", "manifest")
    kiosk = document.get("kiosk")
    if not isinstance(kiosk, str) or not KIOSK_ID_RE.fullmatch(kiosk):
        raise ManifestError("kiosk: missing or not a valid kiosk id")
    sessions_raw = document.get("sessions")
    records_raw = document.get("records")
    if not isinstance(sessions_raw, list):
        raise ManifestError("sessions: missing or not a list")
    if not isinstance(records_raw, list) or not records_raw:
        raise ManifestError("records: missing, empty or not a list")
    if len(records_raw) > max_records:
        raise ManifestError(f"records: {len(records_raw)} records, the limit is {max_records}")
    sessions: dict[str, Mapping[str, Any]] = {}
    for index, session in enumerate(sessions_raw):
        where = f"sessions[{index}]"
        if not isinstance(session, dict):
            raise ManifestError(f"{where}: not an object")
        session_uuid = _uuid(session, "uuid", where)
        for name in SESSION_FIELDS[1:]:
            value = session.get(name)
            if name == "closed_at" and value is None:
                continue
            if not isinstance(value, str):
                raise ManifestError(f"{where}.{name}: missing or not text")
        sessions[session_uuid] = session
    records: list[Record] = []
    seen: set[str] = set()
    for index, raw in enumerate(records_raw):
        record = _record(raw, f"records[{index}]", sessions)
        if record.uuid in seen:
            raise ManifestError(f"records[{index}].uuid: {record.uuid} appears twice")
        seen.add(record.uuid)
        records.append(record)
    return Manifest(batch=batch, kiosk=kiosk, sessions=sessions, records=tuple(records))


def check_record(raw: Any, sessions: Mapping[str, Any], where: str = "record") -> Record:
    """One record against the protocol (the kiosk checks before it batches)."""
    return _record(raw, where, sessions)


def _record(raw: Any, where: str, sessions: Mapping[str, Any]) -> Record:
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: not an object")
    record_uuid = _uuid(raw, "uuid", where)
    session = _uuid(raw, "session", where)
    if session not in sessions:
        raise ManifestError(f"{where}.session: {session} is not in the manifest's sessions")
    sha = raw.get("sha256")
    if not isinstance(sha, str) or not SHA256_RE.fullmatch(sha):
        raise ManifestError(f"{where}.sha256: missing or not 64 lowercase hex digits")
    size: Any = raw.get("size")  # an int, or a float that is one (JSON has one number type)
    if not _whole(size, MAX_INT):
        raise ManifestError(f"{where}.size: missing or not a whole number from 1 to {MAX_INT}")
    for name in ("width", "height"):
        if not _whole(raw.get(name), MAX_INT):
            raise ManifestError(
                f"{where}.{name}: missing or not a whole number from 1 to {MAX_INT}"
            )
    seq = raw.get("seq")
    if seq is not None and not _whole(seq, MAX_INT):
        raise ManifestError(f"{where}.seq: not a whole number from 1 to {MAX_INT}")
    taken_at = raw.get("taken_at")
    if not isinstance(taken_at, str) or not taken_at:
        raise ManifestError(f"{where}.taken_at: missing or not text")
    if raw.get("status") not in DELIVERED_STATUSES:
        raise ManifestError(f"{where}.status: must be one of {', '.join(DELIVERED_STATUSES)}")
    supersedes = raw.get("supersedes")
    if supersedes is not None and (
        not isinstance(supersedes, str) or not UUID_RE.fullmatch(supersedes)
    ):
        raise ManifestError(f"{where}.supersedes: not a record uuid")
    if supersedes == record_uuid:
        raise ManifestError(f"{where}.supersedes: a record cannot supersede itself")
    reasons = raw.get("reasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise ManifestError(f"{where}.reasons: not a list of reason codes")
    code = raw.get("collection_code")
    if code is not None and not isinstance(code, str):
        raise ManifestError(f"{where}.collection_code: not text")
    student = raw.get("student")
    if not isinstance(student, dict):
        raise ManifestError(f"{where}.student: missing or not an object")
    for name in STUDENT_FIELDS:
        value = student.get(name)
        if value is not None and not isinstance(value, str):
            raise ManifestError(f"{where}.student.{name}: not text")
    if student.get("origin") not in (None, *ORIGINS):
        raise ManifestError(f"{where}.student.origin: must be one of {', '.join(ORIGINS)}")
    # A 采集码 student's name is 学信网's, not the kiosk's: in 采集码 mode the crew
    # has no name list, and such a photo must still reach the office.
    if not student.get("name") and not student.get("collection_code"):
        raise ManifestError(f"{where}.student.name: missing (needed without a collection_code)")
    if not student.get("school_code"):
        raise ManifestError(f"{where}.student.school_code: missing")
    if not student.get("id_number") and not student.get("collection_code"):
        raise ManifestError(f"{where}.student: needs an id_number or a collection_code")
    return Record(uuid=record_uuid, session=session, sha256=sha, size=int(size), body=raw)


# Sizes, dimensions and 拍摄序号 fit comfortably; bigger is garbage (and
# would overflow a database integer).
MAX_INT = 2**31 - 1


def _whole(value: Any, maximum: int) -> bool:
    # JSON has one number type: 33729.0 is the integer 33729 to a JSON Schema
    # validator too. Booleans are not numbers.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= maximum


def _uuid(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not UUID_RE.fullmatch(value):
        raise ManifestError(f"{where}.{key}: missing or not a lowercase UUID")
    return value


# --------------------------------------------------------------------------
# Digests
# --------------------------------------------------------------------------


def content_digest(data: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value for ``data`` (sha-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + ":"


def parse_content_digest(header: str | None) -> str | None:
    """The sha-256 in a ``Content-Digest`` header as lowercase hex, or None."""
    if not header:
        return None
    for member in header.split(","):
        name, _, value = member.strip().partition("=")
        if name.strip().lower() != "sha-256":
            continue
        value = value.strip()
        if len(value) < 2 or value[0] != ":" or value[-1] != ":":
            return None
        try:
            raw = base64.b64decode(value[1:-1], validate=True)
        except (binascii.Error, ValueError):
            return None
        return raw.hex() if len(raw) == 32 else None
    return None


def session_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """Order-independent digest of a session's records: (uuid, sha256) pairs.

    Both sides sort, so arrival order does not matter; including the photo's
    sha256 means a match also proves the bytes are the same.
    """
    digest = hashlib.sha256()
    for record_uuid, sha in sorted(pairs):
        digest.update(f"{record_uuid} {sha}\n".encode("ascii"))
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Answers and retries
# --------------------------------------------------------------------------

Outcome = Literal["ok", "retry", "refuse", "auth", "photos_missing"]


def classify(status: int, error: str | None = None) -> Outcome:
    """What the client does with an HTTP answer (the body already checked for JSON).

    Retried: 408, 429, 5xx, digest mismatches (bytes damaged on the way) and
    anything that is not a plain answer (1xx, 3xx: a captive portal's
    redirect). Not retried: other 4xx; 401 stops the whole run because no
    record is at fault.
    """
    if error == ERR_DIGEST:
        return "retry"
    if error == ERR_PHOTOS_MISSING and status == 424:
        return "photos_missing"
    if 200 <= status < 300:
        return "ok"
    if status == 401:
        return "auth"
    if status in (408, 429) or status >= 500:
        return "retry"
    if 400 <= status < 500:
        return "refuse"
    return "retry"


def retry_after_seconds(header: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    attempt: int,
    *,
    initial: float,
    maximum: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with jitter; a server's Retry-After wins when longer.

    The jitter (half to full of the exponential step) keeps kiosks that went
    offline together from coming back in lockstep.
    """
    rng = rng or random.Random()
    step = min(maximum, initial * (2 ** max(0, attempt - 1)))
    delay = step * (0.5 + rng.random() / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(maximum, 3600.0)))
    return delay
