"""The receiver's HTTP API (Starlette); docs/sync-protocol.md and docs/openapi.yaml.

Every refusal is a JSON body ``{"error": code, "message": text}`` with a
4xx status; bad input never reaches a 500. Identifiers from the URL are
checked against the protocol's patterns before they touch storage, so a
path with traversal characters is refused, not resolved. Storage work
(fsync, SQLite) runs in the thread pool so one slow disk write does not
stall the other connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central.storage import CampaignStore, Metadata, PhotoStore, Refusal
from central.verify import unproven
from kiosk.student import key_code
from kiosk.sync import protocol

log = logging.getLogger("central")

MAX_LISTED_PROBLEMS = 100  # the count says how many; the list names the first ones


@dataclass(frozen=True)
class Limits:
    # A registry photo is 480 x 640 JPEG, 30-60 KB; 4 MiB leaves room for
    # other formats and still stops a runaway upload early.
    max_photo_bytes: int = 4 * 1024 * 1024
    # 5,000 records of ~1 KB each is a whole day in one batch.
    max_manifest_bytes: int = 8 * 1024 * 1024
    max_records: int = 5000
    max_missing_query: int = 10_000
    # A body that stops arriving holds a temp file and a slot: no byte for
    # this long ends it with 408 (the kiosk retries; nothing is kept).
    body_timeout: float = 20.0


def create_app(
    photos: PhotoStore,
    metadata: Metadata,
    limits: Limits | None = None,
    campaign: CampaignStore | None = None,
    web_routes: list[Any] | None = None,
) -> Starlette:
    """The sync API; with ``campaign`` also the roster pull, with ``web_routes`` the pages."""
    limits = limits or Limits()

    async def authenticate(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refusal(401, protocol.ERR_AUTH, "send Authorization: Bearer <kiosk token>")
        kiosk = await run_in_threadpool(metadata.kiosk_for_token, token.strip())
        if kiosk is None:
            raise Refusal(401, protocol.ERR_AUTH, "unknown or revoked token")
        return kiosk

    def identifier(request: Request, name: str, pattern: Any, what: str) -> str:
        value = request.path_params[name]
        if not pattern.fullmatch(value):
            raise Refusal(400, protocol.ERR_BAD_ID, f"{what} must be {pattern.pattern}")
        return value

    async def body_chunks(request: Request) -> AsyncIterator[bytes]:
        """The body's chunks; 408 when the client stops sending mid-body."""
        stream = request.stream()
        while True:
            try:
                chunk = await asyncio.wait_for(anext(stream), limits.body_timeout)
            except StopAsyncIteration:
                return
            except TimeoutError:
                log.warning("%s %s: body stalled; dropped", request.method, request.url.path)
                raise Refusal(
                    408,
                    protocol.ERR_TIMEOUT,
                    f"no body bytes for {limits.body_timeout:.0f} s; send again",
                ) from None
            yield chunk

    async def read_body(request: Request, limit: int) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit() or len(declared) > 18:
                raise Refusal(400, protocol.ERR_BAD_JSON, "bad Content-Length")
            if int(declared) > limit:
                raise Refusal(413, protocol.ERR_TOO_LARGE, f"the limit is {limit} bytes")
        chunks: list[bytes] = []
        total = 0
        async for chunk in body_chunks(request):
            total += len(chunk)
            if total > limit:
                raise Refusal(413, protocol.ERR_TOO_LARGE, f"the limit is {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def health(request: Request) -> Response:
        return JSONResponse({"service": protocol.SERVICE, "protocol": protocol.PROTOCOL})

    async def whoami(request: Request) -> Response:
        kiosk = await authenticate(request)
        return JSONResponse(
            {"service": protocol.SERVICE, "protocol": protocol.PROTOCOL, "kiosk": kiosk}
        )

    async def missing_photos(request: Request) -> Response:
        await authenticate(request)
        body = await read_body(request, limits.max_missing_query * 70 + 1024)
        try:
            document = protocol.parse_json(body)
        except protocol.ManifestJSONError as exc:
            raise Refusal(400, protocol.ERR_BAD_JSON, str(exc)) from None
        digests = document.get("sha256") if isinstance(document, dict) else None
        if not isinstance(digests, list) or not all(
            isinstance(d, str) and protocol.SHA256_RE.fullmatch(d) for d in digests
        ):
            raise Refusal(422, protocol.ERR_BAD_MANIFEST, 'expected {"sha256": [hex digests]}')
        if len(digests) > limits.max_missing_query:
            raise Refusal(
                422,
                protocol.ERR_BAD_MANIFEST,
                f"at most {limits.max_missing_query} digests per question; ask in parts",
            )

        def lacking() -> list[str]:
            return [d for d in dict.fromkeys(digests) if photos.size(d) is None]

        return JSONResponse({"missing": await run_in_threadpool(lacking)})

    async def put_photo(request: Request) -> Response:
        if request.path_params["sha256"] == "missing":
            # /photos/missing is the question (POST), not a photo id: wrong method.
            raise HTTPException(405, "use POST to ask which photos are missing", {"Allow": "POST"})
        await authenticate(request)
        sha = identifier(request, "sha256", protocol.SHA256_RE, "the photo id")
        claimed = protocol.parse_content_digest(request.headers.get("content-digest"))
        if claimed is None:
            raise Refusal(
                400, protocol.ERR_BAD_ID, "send Content-Digest: sha-256=:<base64>: (RFC 9530)"
            )
        if claimed != sha:
            raise Refusal(400, protocol.ERR_BAD_ID, "Content-Digest does not name this photo")
        declared = request.headers.get("content-length")
        if declared is not None and (
            not declared.isdigit() or len(declared) > 18 or int(declared) > limits.max_photo_bytes
        ):
            raise Refusal(413, protocol.ERR_TOO_LARGE, f"the limit is {limits.max_photo_bytes}")
        upload = photos.begin()
        try:
            total = 0
            async for chunk in body_chunks(request):
                total += len(chunk)
                if total > limits.max_photo_bytes:
                    raise Refusal(
                        413, protocol.ERR_TOO_LARGE, f"the limit is {limits.max_photo_bytes}"
                    )
                upload.write(chunk)
            if total == 0:
                raise Refusal(400, protocol.ERR_DIGEST, "empty body")
            created = await run_in_threadpool(upload.finish, sha)
        except BaseException:
            upload.abort()
            raise
        return JSONResponse(
            {"sha256": sha, "size": total, "stored": "created" if created else "existing"},
            status_code=201 if created else 200,
        )

    async def put_batch(request: Request) -> Response:
        kiosk = await authenticate(request)
        batch = identifier(request, "batch", protocol.UUID_RE, "the batch id")
        body = await read_body(request, limits.max_manifest_bytes)
        digest = hashlib.sha256(body).hexdigest()
        header = request.headers.get("content-digest")
        if header is not None and protocol.parse_content_digest(header) != digest:
            # Damaged on the way (or a bad header): retried by the kiosk, never quarantined.
            raise Refusal(
                400, protocol.ERR_DIGEST, "the manifest does not match its Content-Digest"
            )
        try:
            manifest = protocol.decode_manifest(body, max_records=limits.max_records)
        except protocol.ManifestJSONError as exc:
            raise Refusal(400, protocol.ERR_BAD_JSON, str(exc)) from None
        except protocol.ManifestError as exc:
            raise Refusal(422, protocol.ERR_BAD_MANIFEST, str(exc)) from None
        if manifest.batch != batch:
            raise Refusal(422, protocol.ERR_BAD_MANIFEST, "the manifest's batch is not the URL's")
        if manifest.kiosk != kiosk:
            raise Refusal(403, protocol.ERR_FORBIDDEN, "a kiosk can only send its own batches")
        result = await run_in_threadpool(
            metadata.commit_batch, kiosk, manifest, digest, photos.size
        )
        receipt = dict(result.receipt, repeated=result.repeated)
        if campaign is not None:
            # A kiosk that never pulled (its roster from a USB stick) learns its number here.
            receipt["kiosk_number"] = await run_in_threadpool(campaign.kiosk_number, kiosk)
        return JSONResponse(receipt, status_code=200 if result.repeated else 201)

    async def session_summary(request: Request) -> Response:
        kiosk = await authenticate(request)
        session = identifier(request, "session", protocol.UUID_RE, "the session id")
        summary = await run_in_threadpool(metadata.session_summary, kiosk, session)
        # A match is the kiosk's licence to delete its copy: prove the bytes are here.
        problems = await run_in_threadpool(unproven, photos, summary.photos)
        return JSONResponse(
            {
                "session": summary.session,
                "count": summary.count,
                "digest": summary.digest,
                "verified": summary.count - len(problems),
                "unverified": [
                    {"uuid": p.record, "sha256": p.sha256, "problem": p.problem}
                    for p in problems[:MAX_LISTED_PROBLEMS]
                ],
            }
        )

    async def roster(request: Request) -> Response:
        kiosk = await authenticate(request)
        school = identifier(request, "school", protocol.SCHOOL_CODE_RE, "the 院校代码")
        if campaign is None:
            raise Refusal(404, protocol.ERR_NOT_FOUND, "this receiver keeps no rosters")

        def answer() -> dict[str, Any]:
            assert campaign is not None
            students = campaign.roster(school)
            planned = campaign.planned(school)
            if not students and planned is None:
                # A scheduled school without a roster is a 采集码 school: 0 students.
                raise Refusal(
                    404,
                    protocol.ERR_NOT_FOUND,
                    f"no roster for {school}; the office imports it first",
                )
            return {
                "school_code": school,
                "school_name": campaign.school_name(school) or "",
                "expected": None if planned is None else planned.expected,
                "version": campaign.roster_version(school),
                "kiosk": kiosk,
                "kiosk_number": campaign.kiosk_number(kiosk),
                "highest_seq": campaign.highest_seq(kiosk, school),
                "students": students,
                "retakes": [
                    # A 采集码 student (no ID number) is named by their code.
                    {
                        "id_number": None if key_code(d.id_number) else d.id_number,
                        "collection_code": key_code(d.id_number),
                        "reason": d.reason,
                        "requested_at": d.at,
                    }
                    for d in campaign.retake_requests(school)
                ],
            }

        return JSONResponse(await run_in_threadpool(answer))

    async def on_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return JSONResponse(
            {"error": exc.error, "message": exc.message, **exc.extra}, status_code=exc.status
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = protocol.ERR_NOT_FOUND if exc.status_code == 404 else "http_error"
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # The kiosk went away mid-body; nothing was kept. Nobody reads this answer.
        return Response(status_code=400)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal", "message": "the receiver failed; retry later"}, status_code=500
        )

    api = protocol.API
    return Starlette(
        routes=[
            Route(f"{api}/health", health, methods=["GET"]),
            Route(f"{api}/whoami", whoami, methods=["GET"]),
            Route(f"{api}/photos/missing", missing_photos, methods=["POST"]),
            Route(f"{api}/photos/{{sha256}}", put_photo, methods=["PUT"]),
            Route(f"{api}/batches/{{batch}}", put_batch, methods=["PUT"]),
            Route(f"{api}/sessions/{{session}}/summary", session_summary, methods=["GET"]),
            Route(f"{api}/rosters/{{school}}", roster, methods=["GET"]),
            *(web_routes or []),
        ],
        exception_handlers={
            Refusal: on_refusal,
            HTTPException: on_http,
            ClientDisconnect: on_disconnect,
            Exception: on_crash,
        },
    )
