"""No manifest field, however hostile, gets a 5xx from a real receiver.

The hostile review found two 500s: JSON integers over 4,300 digits (a bare
ValueError) and lone surrogates ("\\ud800") in a student or school name
(SQLite cannot store them). Both must be 400 with a clear message; a
hypothesis run over every manifest field checks nothing else reaches 500.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.sync import protocol
from tests.sync_support import Receiver, add_token, manifest_document

HUGE = "HUGE-INTEGER-PLACEHOLDER"
SESSION = "6bdc48c3-2251-44ac-939b-084eee3716a6"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, module_backend
) -> Iterator[tuple[Receiver, httpx.Client]]:
    receiver = Receiver(Path(tmp_path_factory.mktemp("central"))).start()
    token = add_token(receiver.data, "kiosk-a")
    client = httpx.Client(
        base_url=receiver.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    yield receiver, client
    client.close()
    log = receiver.stop()
    assert "Traceback" not in log, log


def valid_manifest() -> dict[str, Any]:
    document = manifest_document(session=SESSION)
    document["records"][0]["student"]["school_name"] = "示例大学"  # type: ignore[index]
    return document


def body_of(document: Any) -> bytes:
    """JSON text, with the placeholder turned into a 5,000-digit integer literal."""
    text = json.dumps(document, ensure_ascii=True)  # lone surrogates become \\udXXX escapes
    return text.replace(f'"{HUGE}"', "9" * 5000).encode("utf-8")


def put_batch(client: httpx.Client, document: Any) -> httpx.Response:
    batch = document.get("batch") if isinstance(document, dict) else None
    if not isinstance(batch, str) or not protocol.UUID_RE.fullmatch(batch):
        batch = str(uuid.uuid4())
    return client.put(f"/v1/batches/{batch}", content=body_of(document))


def refused_clearly(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == "bad_json" and body["message"]
    return str(body["message"])


def test_a_5000_digit_integer_is_a_400(server):
    _, client = server
    for where in ("size", "seq", "width"):
        document = valid_manifest()
        document["records"][0][where] = HUGE
        assert "too many digits" in refused_clearly(put_batch(client, document), 400)
    missing = client.post("/v1/photos/missing", content=body_of({"sha256": HUGE}))
    assert "too many digits" in refused_clearly(missing, 400)


def test_a_lone_surrogate_in_a_name_is_a_400(server):
    _, client = server
    for path in (("records", 0, "student", "name"), ("sessions", 0, "school_name")):
        document = valid_manifest()
        target: Any = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = "王\ud800"
        assert "surrogate" in refused_clearly(put_batch(client, document), 400)


# Any JSON value, including the two the review found.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.just(HUGE)
    | st.just("\udfff")
    | st.sampled_from(["", "0" * 64, SESSION, "kiosk-a", "accepted", "19999"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
FIELD_PATHS: list[tuple[Any, ...]] = (
    [(key,) for key in ("protocol", "batch", "kiosk", "sessions", "records")]
    + [("sessions", 0, key) for key in protocol.SESSION_FIELDS]
    + [
        ("records", 0, key)
        for key in [
            "uuid",
            "session",
            "seq",
            "sha256",
            "size",
            "width",
            "height",
            "taken_at",
            "status",
            "reasons",
            "supersedes",
            "collection_code",
            "student",
        ]
    ]
    + [("records", 0, "student", key) for key in protocol.STUDENT_FIELDS]
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.sampled_from(FIELD_PATHS), json_values), min_size=1, max_size=3)
)
def test_no_manifest_field_gets_a_5xx(server, changes):
    _, client = server
    document = copy.deepcopy(valid_manifest())
    for path, value in changes:
        target: Any = document
        for key in path[:-1]:
            if (isinstance(target, dict) and key in target) or (
                isinstance(target, list) and isinstance(key, int) and len(target) > key
            ):
                target = target[key]
            else:
                target = None
                break
        if isinstance(target, dict):
            target[path[-1]] = value
    response = put_batch(client, document)
    assert response.status_code < 500, response.text
    assert response.json()["error"] if response.status_code >= 400 else True
