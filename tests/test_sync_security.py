"""Every refusal the receiver promises, against a real `central serve` process.

Each answer must be a clear 4xx with a JSON error code, never a 500, and
nothing refused may be stored.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import uuid

import httpx
import pytest

from kiosk.sync import protocol
from tests.backends import central_db
from tests.sync_support import BIN, Receiver, add_token, jpeg, manifest_bytes, manifest_document

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, module_backend):
    data = tmp_path_factory.mktemp("central")
    receiver = Receiver(
        data, extra=("--max-photo-bytes", str(LIMIT), "--max-manifest-bytes", str(LIMIT))
    ).start()
    receiver.tokens = {"a": add_token(data, "kiosk-a"), "b": add_token(data, "kiosk-b")}
    yield receiver
    log = receiver.stop()
    assert "Traceback" not in log, log  # no bad input reached an internal error


def call(server, method, path, token="a", raw_path=False, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {server.tokens.get(token, token)}"
    response = httpx.request(method, server.url + path, headers=headers, timeout=10, **kwargs)
    assert response.status_code < 500, response.text
    return response


def refused(response, status, error):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["message"]
    return body


def upload(server, data, token="a"):
    sha = hashlib.sha256(data).hexdigest()
    headers = {"Content-Digest": protocol.content_digest(data)}
    response = call(server, "PUT", f"/v1/photos/{sha}", token, content=data, headers=headers)
    assert response.status_code in (200, 201), response.text
    return sha


def manifest(kiosk="kiosk-a", batch=None, photo=None, size=1, record_uuid=None, **record):
    document = manifest_document(
        kiosk=kiosk,
        batch=batch,
        photo=photo or "0" * 64,
        size=size,
        record_uuid=record_uuid,
        **record,
    )
    return document["batch"], manifest_bytes(document)


def test_health_needs_no_token_but_everything_else_does(server):
    assert call(server, "GET", "/v1/health", token=None).json()["service"] == protocol.SERVICE
    refused(call(server, "GET", "/v1/whoami", token=None), 401, "unauthorized")
    refused(call(server, "GET", "/v1/whoami", token="wrong-token"), 401, "unauthorized")
    refused(
        call(server, "GET", "/v1/whoami", token=None, headers={"Authorization": "Basic eDp5"}),
        401,
        "unauthorized",
    )
    batch, body = manifest()
    refused(
        call(server, "PUT", f"/v1/batches/{batch}", token="nope", content=body), 401, "unauthorized"
    )
    assert call(server, "GET", "/v1/whoami").json()["kiosk"] == "kiosk-a"


def test_a_kiosk_cannot_write_another_kiosks_batch_or_read_its_session(server, tmp_path):
    import random

    data = jpeg(random.Random(1))
    sha = upload(server, data)
    batch, first = manifest(photo=sha, size=len(data))
    assert call(server, "PUT", f"/v1/batches/{batch}", content=first).status_code == 201
    # kiosk-b resends kiosk-a's batch (same bytes): refused.
    refused(call(server, "PUT", f"/v1/batches/{batch}", "b", content=first), 403, "forbidden")
    # kiosk-b sends a manifest that claims to be kiosk-a's.
    other, body = manifest(kiosk="kiosk-a", photo=sha, size=len(data))
    refused(call(server, "PUT", f"/v1/batches/{other}", "b", content=body), 403, "forbidden")
    # kiosk-b writes into kiosk-a's session with its own batch.
    other, body = manifest(kiosk="kiosk-b", photo=sha, size=len(data))
    refused(call(server, "PUT", f"/v1/batches/{other}", "b", content=body), 403, "forbidden")
    session = "6bdc48c3-2251-44ac-939b-084eee3716a6"
    refused(call(server, "GET", f"/v1/sessions/{session}/summary", "b"), 403, "forbidden")
    # A reused batch uuid with a different body is refused, the first one stands.
    _, changed = manifest(batch=batch, photo=sha, size=len(data))
    refused(call(server, "PUT", f"/v1/batches/{batch}", content=changed), 409, "batch_conflict")
    again = call(server, "PUT", f"/v1/batches/{batch}", content=first)
    assert again.status_code == 200 and again.json()["repeated"]
    db = central_db(server.data)
    assert db.execute("SELECT count(*) FROM records WHERE kiosk_id = 'kiosk-b'").fetchone()[0] == 0


def test_a_photo_whose_bytes_do_not_match_is_refused_and_not_stored(server):
    import random

    data = jpeg(random.Random(2))
    sha = hashlib.sha256(data).hexdigest()
    damaged = data[:-10] + b"\x00" * 10
    response = call(
        server,
        "PUT",
        f"/v1/photos/{sha}",
        content=damaged,
        headers={"Content-Digest": protocol.content_digest(data)},
    )
    refused(response, 400, "digest_mismatch")
    assert protocol.classify(400, "digest_mismatch") == "retry"
    assert call(server, "POST", "/v1/photos/missing", json={"sha256": [sha]}).json() == {
        "missing": [sha]
    }
    # No Content-Digest, or one naming another photo.
    refused(call(server, "PUT", f"/v1/photos/{sha}", content=data), 400, "bad_identifier")
    response = call(
        server,
        "PUT",
        f"/v1/photos/{sha}",
        content=data,
        headers={"Content-Digest": protocol.content_digest(b"other")},
    )
    refused(response, 400, "bad_identifier")
    # A record pointing at a photo that was never uploaded: its list comes back.
    batch, body = manifest(photo=sha, size=len(data))
    answer = refused(
        call(server, "PUT", f"/v1/batches/{batch}", content=body), 424, "photos_missing"
    )
    assert answer["missing"] == [sha]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        (lambda b: b"{not json", 400, "bad_json"),
        (lambda b: b"\xff\xfe", 400, "bad_json"),
        (lambda b: b"[" * 50_000, 400, "bad_json"),
        (lambda b: b"[]", 422, "bad_manifest"),
        (lambda b: b.replace(b'"protocol":1', b'"protocol":9'), 422, "bad_manifest"),
        (lambda b: b.replace(b'"sha256":"', b'"sha":"'), 422, "bad_manifest"),
        (lambda b: b.replace(b'"taken_at":', b'"taken":'), 422, "bad_manifest"),
        (lambda b: b.replace(b'"status":"accepted"', b'"status":"refused"'), 422, "bad_manifest"),
        (
            lambda b: b.replace(b'"name":"\xe6\xb5\x8b\xe8\xaf\x95"', b'"name":""'),
            422,
            "bad_manifest",
        ),
        (lambda b: b.replace(b'"size":1', b'"size":"1"'), 422, "bad_manifest"),
        (lambda b: b.replace(b'"seq":1', b'"seq":100000000000000000000000'), 422, "bad_manifest"),
        (lambda b: b.replace(b'"records":[', b'"records":[],"x":['), 422, "bad_manifest"),
    ],
    ids=[
        "garbage",
        "not-utf8",
        "deep",
        "array",
        "protocol",
        "no-sha",
        "no-taken-at",
        "refused-status",
        "no-name",
        "size-text",
        "huge-seq",
        "no-records",
    ],
)
def test_bad_manifests_are_refused(server, change, status, error):
    batch, body = manifest()
    refused(call(server, "PUT", f"/v1/batches/{batch}", content=change(body)), status, error)


def test_a_manifest_for_another_url_is_refused(server):
    _, body = manifest()
    other = str(uuid.uuid4())
    refused(call(server, "PUT", f"/v1/batches/{other}", content=body), 422, "bad_manifest")


def test_oversized_bodies_are_refused(server):
    big = b"\xff\xd8" + b"x" * (LIMIT + 10)
    sha = hashlib.sha256(big).hexdigest()
    headers = {"Content-Digest": protocol.content_digest(big)}
    refused(
        call(server, "PUT", f"/v1/photos/{sha}", content=big, headers=headers), 413, "too_large"
    )

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(20):
            yield b"y" * 8192

    refused(
        call(server, "PUT", f"/v1/photos/{sha}", content=chunks(), headers=headers),
        413,
        "too_large",
    )
    assert call(server, "POST", "/v1/photos/missing", json={"sha256": [sha]}).json()["missing"] == [
        sha
    ]
    batch, _ = manifest()
    refused(
        call(server, "PUT", f"/v1/batches/{batch}", content=b" " * (LIMIT + 1)), 413, "too_large"
    )


def raw_request(server, request_line: str) -> tuple[int, bytes]:
    """Send a path exactly as written (httpx would normalise the dots)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        token = server.tokens["a"]
        sock.sendall(
            f"{request_line} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize(
    "request_line",
    [
        "PUT /v1/photos/../../../etc/passwd",
        "PUT /v1/photos/..%2F..%2Fcentral.db",
        "PUT /v1/photos/%2e%2e",
        "PUT /v1/photos/" + "A" * 64,
        "PUT /v1/batches/..",
        "PUT /v1/batches/..%2Fx",
        "PUT /v1/batches/6bdc48c3-2251-44ac-939b-084eee3716a6%00",
        "GET /v1/sessions/..%2F..%2F/summary",
        "GET /v1/sessions/not-a-uuid/summary",
    ],
)
def test_traversal_and_bad_identifiers_are_refused(server, request_line):
    status, body = raw_request(server, request_line)
    assert 400 <= status < 500
    assert json.loads(body)["error"] in ("bad_identifier", "not_found", "http_error")


def test_traversal_inside_the_manifest_is_refused(server):
    batch, body = manifest(record_uuid="../../../etc/passwd")
    refused(call(server, "PUT", f"/v1/batches/{batch}", content=body), 422, "bad_manifest")
    batch, body = manifest(kiosk="../kiosk-a")
    refused(call(server, "PUT", f"/v1/batches/{batch}", content=body), 422, "bad_manifest")
    batch, body = manifest(photo="../" * 21 + "x")
    refused(call(server, "PUT", f"/v1/batches/{batch}", content=body), 422, "bad_manifest")


def test_token_add_refuses_a_bad_kiosk_id_and_stores_only_a_hash(server):
    result = subprocess.run(
        [str(BIN / "central"), "token", "add", "../evil", "--data", str(server.data)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "kiosk id" in result.stderr
    db = central_db(server.data)
    stored = {r[0] for r in db.execute("SELECT token_sha256 FROM tokens")}
    assert server.tokens["a"] not in stored
    assert hashlib.sha256(server.tokens["a"].encode()).hexdigest() in stored


def test_a_bad_missing_query_is_refused(server):
    refused(call(server, "POST", "/v1/photos/missing", content=b"[" * 100_000), 400, "bad_json")
    refused(
        call(server, "POST", "/v1/photos/missing", json={"sha256": ["../x"]}), 422, "bad_manifest"
    )
    refused(call(server, "POST", "/v1/photos/missing", json=["a"]), 422, "bad_manifest")
