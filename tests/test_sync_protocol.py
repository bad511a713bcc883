"""The protocol's pure rules: digests, classification, backoff, manifest checks."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest

from kiosk.sync import protocol


def test_content_digest_round_trip_and_rejects():
    data = b"\xff\xd8photo"
    header = protocol.content_digest(data)
    assert header == "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"
    assert protocol.parse_content_digest(header) == hashlib.sha256(data).hexdigest()
    assert (
        protocol.parse_content_digest("sha-512=:AAAA:, " + header)
        == hashlib.sha256(data).hexdigest()
    )
    for bad in (
        None,
        "",
        "sha-256=abc",
        "sha-256=:!!!:",
        "sha-256=:" + base64.b64encode(b"short").decode() + ":",
    ):
        assert protocol.parse_content_digest(bad) is None


def test_session_digest_ignores_order_but_not_content():
    pairs = [(f"{i:08d}-0000-0000-0000-000000000000", f"{i:064x}") for i in range(50)]
    shuffled = pairs[:]
    random.Random(1).shuffle(shuffled)
    assert protocol.session_digest(pairs) == protocol.session_digest(shuffled)
    changed = [*pairs[:-1], (pairs[-1][0], "f" * 64)]
    assert protocol.session_digest(changed) != protocol.session_digest(pairs)
    assert protocol.session_digest(pairs[:-1]) != protocol.session_digest(pairs)


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, "ok"),
        (201, None, "ok"),
        (301, None, "retry"),
        (302, None, "retry"),
        (400, None, "refuse"),
        (400, "digest_mismatch", "retry"),
        (401, "unauthorized", "auth"),
        (403, "forbidden", "refuse"),
        (408, None, "retry"),
        (409, "batch_conflict", "refuse"),
        (413, "too_large", "refuse"),
        (422, "bad_manifest", "refuse"),
        (424, "photos_missing", "photos_missing"),
        (429, None, "retry"),
        (500, None, "retry"),
        (502, None, "retry"),
        (503, None, "retry"),
    ],
)
def test_classification(status, error, outcome):
    assert protocol.classify(status, error) == outcome


def test_backoff_grows_with_jitter_and_honours_retry_after():
    rng = random.Random(0)
    delays = [protocol.backoff_delay(n, initial=1, maximum=60, rng=rng) for n in range(1, 10)]
    for n, d in enumerate(delays, start=1):
        step = min(60, 2 ** (n - 1))
        assert step / 2 <= d <= step
    assert len({round(d, 6) for d in delays}) == len(delays)
    assert protocol.backoff_delay(1, initial=1, maximum=60, retry_after=30, rng=rng) == 30
    assert protocol.retry_after_seconds("120") == 120
    assert protocol.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert protocol.retry_after_seconds("soon") is None


def _manifest(**record):
    session = {
        "uuid": "6bdc48c3-2251-44ac-939b-084eee3716a6",
        "station_id": "k",
        "school_code": "1",
        "school_name": "",
        "category": "",
        "department": "",
        "opened_at": "t",
        "closed_at": None,
    }
    body = {
        "uuid": "11111111-2222-3333-4444-555555555555",
        "session": session["uuid"],
        "seq": 1,
        "sha256": "a" * 64,
        "size": 10,
        "width": 480,
        "height": 640,
        "taken_at": "t",
        "status": "accepted",
        "supersedes": None,
        "student": {"name": "测试", "school_code": "1", "id_number": "x"},
    } | record
    return protocol.encode_manifest(
        batch="6bdc48c3-2251-44ac-939b-000000000000", kiosk="k", sessions=[session], records=[body]
    )


def test_manifest_round_trip_and_field_errors():
    manifest = protocol.decode_manifest(_manifest())
    assert manifest.kiosk == "k" and manifest.records[0].size == 10
    assert json.loads(_manifest()) == json.loads(_manifest())  # canonical: same bytes each time
    assert _manifest() == _manifest()
    cases = {
        "uuid": ("../../x", "records[0].uuid"),
        "sha256": ("A" * 64, "sha256"),
        "size": (0, "size"),
        "status": ("refused", "status"),
        "supersedes": ("x", "supersedes"),
        "session": ("6bdc48c3-2251-44ac-939b-999999999999", "not in the manifest's sessions"),
        "student": ({"name": "a", "school_code": "1"}, "id_number or a collection_code"),
    }
    for field, (value, message) in cases.items():
        with pytest.raises(
            protocol.ManifestError, match=message.replace("[", r"\[").replace("]", r"\]")
        ):
            protocol.decode_manifest(_manifest(**{field: value}))
    with pytest.raises(protocol.ManifestJSONError):
        protocol.decode_manifest(b"{")
    with pytest.raises(protocol.ManifestError, match="limit"):
        protocol.decode_manifest(_manifest(), max_records=0)


def test_openapi_file_names_every_route_and_error_code():
    from pathlib import Path

    from central.app import create_app

    text = (Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml").read_text("utf-8")
    app = create_app(photos=None, metadata=None)  # type: ignore[arg-type]
    paths = [route.path for route in app.routes]
    assert len(paths) == 7  # the web pages join only with web_routes (central serve)
    for path in paths:
        assert f"\n  {path}:\n" in text, path
    for name in dir(protocol):
        if name.startswith("ERR_"):
            assert getattr(protocol, name) in text, name
