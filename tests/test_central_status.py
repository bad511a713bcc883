"""`central status` counts what is there, including sessions that hold nothing yet."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid

import httpx

from kiosk.sync import protocol
from tests.sync_support import BIN, Receiver, add_token, manifest_bytes, manifest_document


def test_an_empty_session_shows_zero_current_records(tmp_path, backend):
    receiver = Receiver(tmp_path / "central").start()
    try:
        token = add_token(receiver.data, "kiosk-a")
        data = b"\xff\xd8 a photo"
        sha = hashlib.sha256(data).hexdigest()
        headers = {"Authorization": f"Bearer {token}"}
        put = httpx.put(
            f"{receiver.url}/v1/photos/{sha}",
            content=data,
            headers=headers | {"Content-Digest": protocol.content_digest(data)},
        )
        assert put.is_success
        # A manifest may list a session none of its records belong to (yet).
        batch, session, empty = (str(uuid.uuid4()) for _ in range(3))
        document = manifest_document(batch=batch, session=session, photo=sha, size=len(data))
        sessions = document["sessions"]
        sessions.append(dict(sessions[0], uuid=empty))  # type: ignore[attr-defined,index]
        body = manifest_bytes(document)
        answer = httpx.put(f"{receiver.url}/v1/batches/{batch}", content=body, headers=headers)
        assert answer.status_code == 201, answer.text
    finally:
        receiver.stop()
    shown = subprocess.run(
        [str(BIN / "central"), "status", "--data", str(receiver.data), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    by_session = {s["session"]: s for s in json.loads(shown.stdout)["sessions"]}
    assert (by_session[empty]["records"], by_session[empty]["current"]) == (0, 0)
    assert (by_session[session]["records"], by_session[session]["current"]) == (1, 1)
    text = subprocess.run(
        [str(BIN / "central"), "status", "--data", str(receiver.data)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "0 records (0 current" in text and "(1 current" in text
