"""HTTP client for the receiver: every answer checked, every failure classified.

Never trust a bare 2xx: a hotel-style captive portal or a proxy answers 200
with an HTML page. Every call expects JSON of a known shape and treats
anything else as "offline" (retried later), never as success.

Every failure's message is a :class:`~kiosk.lang.Said` (catalogue key
``sync.*``): plain English in logs and JSON reports, and in the crew's
language where ``kiosk sync`` and ``kiosk roster pull`` print it
(``Words.text``). The receiver's own ``error`` code and ``message`` travel
inside it as they came.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiosk.config import Config
from kiosk.lang import Said
from kiosk.shot_number import MAX_KIOSK_NUMBER
from kiosk.sync import protocol


class SyncProblem(Exception):
    """Base of the client's failures; ``str()`` is a line for the crew's log, and
    ``args[0]`` a :class:`Said` the CLI says in the crew's language."""


class SetupProblem(SyncProblem):
    """Configuration or authentication: no retry helps (exit 2)."""


class Offline(SyncProblem):
    """Network, timeout, 408/429/5xx, digest mismatch, not-our-service: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Refused(SyncProblem):
    """The receiver refused this payload (4xx): the records go to quarantine."""

    def __init__(self, message: str, status: int, error: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class PhotosMissing(SyncProblem):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(Said.of("sync.photos_missing", count=len(missing)))
        self.missing = missing


@dataclass(frozen=True, slots=True)
class Receipt:
    batch: str
    held: tuple[str, ...]
    conflicts: dict[str, str]
    repeated: bool  # the receiver had committed this batch before
    kiosk_number: int | None = None  # the office's number for this kiosk (base of its 拍摄序号)


@dataclass(frozen=True, slots=True)
class RemoteSummary:
    """The receiver's view of one session (docs/sync-protocol.md, Reconciliation)."""

    count: int
    digest: str
    verified: int | None  # records whose photo the receiver read back intact just now
    unverified: tuple[str, ...]  # sha256 of photos it lacks or holds damaged (first ones)


def check_url(url: str, allow_http: bool) -> str:
    """The base URL without a trailing slash; refuses plain http unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise SetupProblem(Said.of("sync.url_not_http", url=url))
    if parts.scheme == "http" and not allow_http:
        raise SetupProblem(Said.of("sync.url_plain_http", url=url))
    return url.rstrip("/")


def client_for(
    config: Config, server: str | None = None, token: str | None = None
) -> ReceiverClient:
    """This kiosk's client from its config, ``server``/``token`` overriding the config's.

    Raises :class:`SetupProblem` with the fix when no client can be made: no
    receiver URL, a station id the receiver would refuse, an unreadable token
    file, no token, plain http, an unloadable CA file.
    """
    settings = config.sync
    url = server or settings.server_url
    if not url:
        raise SetupProblem(Said.of("sync.no_receiver"))
    station_id = config.station.station_id
    if not protocol.KIOSK_ID_RE.fullmatch(station_id):
        raise SetupProblem(Said.of("sync.bad_station_id", station_id=station_id))
    secret = token or settings.token
    if not secret and settings.token_file is not None:
        try:
            secret = settings.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SetupProblem(
                Said.of("sync.token_file", path=settings.token_file, error=exc.strerror or exc)
            ) from exc
    return ReceiverClient(
        url,
        secret or "",
        allow_http=settings.allow_http,
        ca_file=settings.ca_file,
        connect_timeout=settings.connect_timeout,
        io_timeout=settings.io_timeout,
        connections=settings.parallel_uploads + 1,
    )


class ReceiverClient:
    """One kiosk's connection pool to the receiver; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        allow_http: bool = False,
        ca_file: Path | None = None,
        connect_timeout: float = 10.0,
        io_timeout: float = 30.0,
        connections: int = 4,
    ) -> None:
        if not token:
            raise SetupProblem(Said.of("sync.no_token"))
        self.base_url = check_url(base_url, allow_http)
        verify: ssl.SSLContext | bool = True
        if self.base_url.startswith("https"):
            try:
                verify = ssl.create_default_context(
                    cafile=str(ca_file) if ca_file is not None else None
                )
            except (OSError, ssl.SSLError) as exc:
                raise SetupProblem(Said.of("sync.ca_file", path=ca_file, error=exc)) from exc
        self.http = httpx.Client(
            base_url=self.base_url + protocol.API,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "kiosk-sync/1"},
            timeout=httpx.Timeout(io_timeout, connect=connect_timeout),
            verify=verify,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            follow_redirects=False,  # a redirect is a portal or a misconfiguration: offline
            trust_env=False,  # no surprise proxies from the environment
        )

    def close(self) -> None:
        self.http.close()

    # -- calls ---------------------------------------------------------------

    def whoami(self) -> str:
        """The kiosk id the token belongs to (checks the service and the token)."""
        answer = self._call("GET", "/whoami")
        if answer.get("service") != protocol.SERVICE or not isinstance(answer.get("kiosk"), str):
            raise Offline(Said.of("sync.not_a_receiver"))
        if answer.get("protocol") != protocol.PROTOCOL:
            raise SetupProblem(
                Said.of(
                    "sync.protocol_mismatch", theirs=answer.get("protocol"), ours=protocol.PROTOCOL
                )
            )
        return answer["kiosk"]

    def missing(self, digests: list[str]) -> list[str]:
        answer = self._call("POST", "/photos/missing", json_body={"sha256": digests})
        missing = answer.get("missing")
        if not isinstance(missing, list) or not set(missing) <= set(digests):
            raise Offline(malformed("POST", "/photos/missing"))
        return missing

    def put_photo(self, sha256: str, data: bytes) -> None:
        answer = self._call(
            "PUT",
            f"/photos/{sha256}",
            content=data,
            headers={
                "Content-Type": "image/jpeg",
                "Content-Digest": protocol.content_digest(data),
            },
        )
        if answer.get("sha256") != sha256:
            raise Offline(malformed("PUT", f"/photos/{sha256}"))

    def put_batch(self, batch_uuid: str, manifest: bytes) -> Receipt:
        answer = self._call(
            "PUT",
            f"/batches/{batch_uuid}",
            content=manifest,
            headers={
                "Content-Type": "application/json",
                "Content-Digest": protocol.content_digest(manifest),
            },
        )
        held = answer.get("held")
        conflicts = answer.get("conflicts")
        if (
            answer.get("batch") != batch_uuid
            or not isinstance(held, list)
            or not isinstance(conflicts, list)
            or not all(isinstance(c, dict) and isinstance(c.get("uuid"), str) for c in conflicts)
        ):
            raise Offline(malformed("PUT", f"/batches/{batch_uuid}"))
        return Receipt(
            batch=batch_uuid,
            held=tuple(str(u) for u in held),
            conflicts={c["uuid"]: str(c.get("message", c.get("error", ""))) for c in conflicts},
            repeated=bool(answer.get("repeated")),
            kiosk_number=_kiosk_number(answer.get("kiosk_number")),
        )

    def session_summary(self, session_uuid: str) -> RemoteSummary:
        answer = self._call("GET", f"/sessions/{session_uuid}/summary")
        count, digest = answer.get("count"), answer.get("digest")
        if answer.get("session") != session_uuid or not isinstance(count, int):
            raise Offline(malformed("GET", f"/sessions/{session_uuid}/summary"))
        verified = answer.get("verified")
        unverified = answer.get("unverified")
        return RemoteSummary(
            count=count,
            digest=str(digest),
            # A receiver that does not say it read the photos proves nothing about them.
            verified=verified if isinstance(verified, int) else None,
            unverified=tuple(
                str(p["sha256"])
                for p in (unverified if isinstance(unverified, list) else [])
                if isinstance(p, dict) and protocol.SHA256_RE.fullmatch(str(p.get("sha256")))
            ),
        )

    def roster(self, school_code: str) -> dict[str, Any]:
        """The school's roster, this kiosk's number and the school's retake requests."""
        if not protocol.SCHOOL_CODE_RE.fullmatch(school_code):
            raise SetupProblem(Said.of("sync.bad_school_code", school=school_code))
        answer = self._call("GET", f"/rosters/{school_code}")
        if answer.get("school_code") != school_code or not isinstance(answer.get("students"), list):
            raise Offline(malformed("GET", f"/rosters/{school_code}"))
        return answer

    # -- one request ---------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self.http.request(
                method, path, content=content, json=json_body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise Offline(
                Said.of("sync.timed_out", call=f"{method} {path}", kind=type(exc).__name__)
            ) from None
        except httpx.TransportError as exc:
            raise Offline(
                Said.of(
                    "sync.unreachable",
                    call=f"{method} {path}",
                    kind=type(exc).__name__,
                    error=str(exc),
                )
            ) from None
        body: Any = None
        if response.headers.get("content-type", "").split(";")[0].strip() == "application/json":
            try:
                body = response.json()
            except ValueError:
                body = None
        retry_after = protocol.retry_after_seconds(response.headers.get("retry-after"))
        if not isinstance(body, dict):
            # HTML from a captive portal, a proxy's error page, an empty body.
            raise Offline(
                Said.of("sync.not_json", call=f"{method} {path}", status=response.status_code),
                retry_after,
            )
        error = body.get("error") if isinstance(body.get("error"), str) else None
        outcome = protocol.classify(response.status_code, error)
        message = Said.of(
            "sync.http",
            call=f"{method} {path}",
            status=response.status_code,
            answer=f"{error or ''} {body.get('message', '')}".strip(),
        )
        if outcome == "ok":
            return body
        if outcome == "photos_missing":
            missing = body.get("missing")
            if isinstance(missing, list) and all(isinstance(m, str) for m in missing):
                raise PhotosMissing(missing)
            raise Offline(message)
        if outcome == "auth":
            raise SetupProblem(Said.of("sync.token_refused", detail=message))
        if outcome == "retry":
            raise Offline(message, retry_after)
        raise Refused(message, response.status_code, error)


def malformed(method: str, path: str) -> Said:
    """An answer of the wrong shape: a proxy or another service, not our receiver."""
    return Said.of("sync.malformed", call=f"{method} {path}")


def _kiosk_number(value: object) -> int | None:
    """A receipt's kiosk number, if it is one (an older receiver sends none)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_KIOSK_NUMBER:
        return value
    return None
