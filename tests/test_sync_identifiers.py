"""An identifier with a trailing newline is not an identifier.

`$` also matches before a final newline, so `PUT /v1/batches/<uuid>%0A`
passed the check and was stored with a newline in its ids. Real receiver,
real `central` and `kiosk` subprocesses.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from kiosk.sync import protocol
from tests.backends import central_db
from tests.sync_support import (
    BIN,
    Receiver,
    add_token,
    jpeg,
    kiosk,
    make_kiosk,
    manifest_bytes,
    manifest_document,
    write_config,
)

# Every test here runs on both back ends (tests/backends.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def server(tmp_path: Path, backend):  # type: ignore[no-untyped-def]
    receiver = Receiver(tmp_path / "central").start()
    receiver.token = add_token(receiver.data, "kiosk-a")  # type: ignore[attr-defined]
    yield receiver
    assert "Traceback" not in receiver.stop()


def manifest(batch: str, record: str, session: str, sha: str, size: int) -> bytes:
    return manifest_bytes(
        manifest_document(batch=batch, record_uuid=record, session=session, photo=sha, size=size)
    )


def test_urls_and_manifests_with_a_trailing_newline_are_refused(server):
    headers = {"Authorization": f"Bearer {server.token}"}
    data = jpeg(random.Random(5))
    sha = hashlib.sha256(data).hexdigest()
    digest = {"Content-Digest": protocol.content_digest(data)}
    photo = httpx.put(f"{server.url}/v1/photos/{sha}%0A", content=data, headers=headers | digest)
    assert photo.status_code == 400 and photo.json()["error"] == "bad_identifier"
    assert httpx.put(
        f"{server.url}/v1/photos/{sha}", content=data, headers=headers | digest
    ).is_success

    batch, record, session = (str(uuid.uuid4()) for _ in range(3))
    body = manifest(batch + "\n", record, session, sha, len(data))
    url = f"{server.url}/v1/batches/{batch}%0A"
    answer = httpx.put(url, content=body, headers=headers)
    assert answer.status_code == 400 and answer.json()["error"] == "bad_identifier"
    for bad in (
        manifest(batch, record + "\n", session, sha, len(data)),
        manifest(batch, record, session + "\n", sha, len(data)),
        manifest(batch, record, session, sha + "\n", len(data)),
    ):
        answer = httpx.put(f"{server.url}/v1/batches/{batch}", content=bad, headers=headers)
        assert answer.status_code == 422, answer.text
    summary = httpx.get(f"{server.url}/v1/sessions/{session}%0A/summary", headers=headers)
    assert summary.status_code == 400

    db = central_db(server.data)
    stored = db.execute("SELECT uuid FROM batches UNION ALL SELECT uuid FROM records").fetchall()
    assert not [row for row in stored if "\n" in row[0]]


def test_kiosk_ids_with_a_trailing_newline_are_refused_on_both_sides(tmp_path, server):
    added = subprocess.run(
        [str(BIN / "central"), "token", "add", "kiosk-01\n", "--data", str(server.data)],
        capture_output=True,
        text=True,
    )
    assert added.returncode == 2 and "kiosk id" in added.stderr
    make_kiosk(tmp_path / "k", shots=1).close()
    config = write_config(tmp_path / "k.toml", server.url, server.token)
    config.write_text(
        config.read_text(encoding="utf-8").replace('"kiosk-01"', '"kiosk-01\\n"'), encoding="utf-8"
    )
    result = kiosk(config, tmp_path / "k", "sync", "--once")
    assert result.returncode == 2 and "不能作为本机编号" in result.stderr
