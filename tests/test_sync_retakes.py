"""Which retake may replace which record, against a real `central serve`.

The hostile review: a batch from kiosk-02 naming kiosk-01's record in
`supersedes` was accepted and marked kiosk-01's photo replaced.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.sync import protocol
from tests.backends import central_db
from tests.sync_support import BIN, Receiver, add_token, jpeg, manifest_bytes, manifest_document

ALICE = "11010519491231002X"
BOB = "110105194912310037"


# Every test here runs on both back ends (tests/backends.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def server(tmp_path: Path, backend):  # type: ignore[no-untyped-def]
    receiver = Receiver(tmp_path / "central").start()
    granted = subprocess.run(
        [str(BIN / "central"), "token", "add", "kiosk-c", "--school", "19999", "--data", "."],
        cwd=receiver.data,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    receiver.tokens = {  # type: ignore[attr-defined]
        "kiosk-a": add_token(receiver.data, "kiosk-a"),
        "kiosk-b": add_token(receiver.data, "kiosk-b"),
        "kiosk-c": granted,
    }
    receiver.sessions = {}  # type: ignore[attr-defined]
    yield receiver
    assert "Traceback" not in receiver.stop()


def send(server: Any, kiosk: str, id_number: str, supersedes: str | None = None, **extra: Any):
    """One record of ``id_number`` from ``kiosk`` (its own session); returns (response, uuid)."""
    data = jpeg(random.Random())
    headers = {"Authorization": f"Bearer {server.tokens[kiosk]}"}
    digest = hashlib.sha256(data).hexdigest()
    put = httpx.put(
        f"{server.url}/v1/photos/{digest}",
        content=data,
        headers=headers | {"Content-Digest": protocol.content_digest(data)},
    )
    assert put.status_code in (200, 201)
    session = server.sessions.setdefault(kiosk, str(uuid.uuid4()))
    document = manifest_document(
        kiosk=kiosk,
        session=session,
        record_uuid=extra.pop("record_uuid", None),
        photo=digest,
        size=len(data),
        supersedes=supersedes,
        student={"id_number": id_number, **extra},
    )
    batch = str(document["batch"])
    record_uuid = document["records"][0]["uuid"]  # type: ignore[index]
    body = manifest_bytes(document)
    response = httpx.put(f"{server.url}/v1/batches/{batch}", content=body, headers=headers)
    assert response.status_code < 500, response.text
    return response, record_uuid


def superseded_by(server: Any, record_uuid: str) -> str | None:
    db = central_db(server.data)
    try:
        return db.execute(
            "SELECT superseded_by FROM records WHERE uuid = ?", (record_uuid,)
        ).fetchone()[0]
    finally:
        db.close()


def test_another_kiosk_cannot_supersede_a_record_without_a_grant(server):
    first, original = send(server, "kiosk-a", ALICE)
    assert first.status_code == 201
    answer, retake = send(server, "kiosk-b", ALICE, supersedes=original)
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    assert "--school 19999" in answer.json()["message"]
    assert superseded_by(server, original) is None

    # A kiosk granted the school may (the office merged its crews), same student only.
    other, _ = send(server, "kiosk-c", BOB, supersedes=original)
    assert other.status_code == 409 and other.json()["error"] == "supersede_conflict"
    granted, retake = send(server, "kiosk-c", ALICE, supersedes=original)
    assert granted.status_code == 201, granted.text
    assert superseded_by(server, original) == retake


def test_a_retake_names_only_the_same_students_record(server):
    _, alice = send(server, "kiosk-a", ALICE)
    wrong, _ = send(server, "kiosk-a", BOB, supersedes=alice)
    assert wrong.status_code == 409 and wrong.json()["error"] == "supersede_conflict"
    other_school, _ = send(server, "kiosk-a", ALICE, supersedes=alice, school_code="10001")
    assert other_school.status_code == 409
    assert superseded_by(server, alice) is None
    right, retake = send(server, "kiosk-a", ALICE, supersedes=alice)
    assert right.status_code == 201 and superseded_by(server, alice) == retake


def test_a_retake_that_arrives_first_replaces_only_what_the_rule_allows(server):
    early = str(uuid.uuid4())
    # kiosk-b names a record nobody has sent yet: stored, but it cannot replace
    # kiosk-a's record when that arrives.
    sneaky, _ = send(server, "kiosk-b", ALICE, supersedes=early)
    assert sneaky.status_code == 201
    late, _ = send(server, "kiosk-a", ALICE, record_uuid=early)
    assert late.status_code == 201 and superseded_by(server, early) is None

    # kiosk-a's own retake arriving before its original does replace it.
    original = str(uuid.uuid4())
    _, retake = send(server, "kiosk-a", BOB, supersedes=original)
    send(server, "kiosk-a", BOB, record_uuid=original)
    assert superseded_by(server, original) == retake


def test_a_record_cannot_supersede_itself(server):
    me = str(uuid.uuid4())
    answer, _ = send(server, "kiosk-a", ALICE, supersedes=me, record_uuid=me)
    assert answer.status_code == 422 and "itself" in answer.json()["message"]
