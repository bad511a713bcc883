"""Schemathesis hooks: make generated *valid* requests obey the rules across fields.

JSON Schema cannot say "a record's session is one of the manifest's
sessions" or "the Content-Digest names the URL's sha256"; docs/openapi.yaml
states those rules in words (`x-cross-field-rules`). A request generated as
valid from the schema alone breaks them by chance, and the receiver rightly
refuses it. For positive cases only, these hooks apply exactly the
documented rules, so the positive checks test the rest of the contract;
negative cases are sent untouched.
"""

from __future__ import annotations

import copy
import hashlib
import os
import uuid
from typing import Any

import schemathesis

from kiosk.sync import protocol

KIOSK = os.environ.get("CONTRACT_KIOSK", "kiosk-a")


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and not meta.generation.mode.is_negative


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if not _positive(case):
        return case
    path = case.operation.path
    photo = getattr(case.body, "data", case.body)  # binary bodies come wrapped
    if path == "/v1/photos/{sha256}" and isinstance(photo, bytes) and photo:
        case.path_parameters["sha256"] = hashlib.sha256(photo).hexdigest()
        case.headers = dict(case.headers or {})
        case.headers["Content-Digest"] = protocol.content_digest(photo)
    elif path == "/v1/batches/{batch}" and isinstance(case.body, dict):
        # Generated cases share nested objects: change a copy, never another case's body.
        case.body = copy.deepcopy(case.body)
        _obey_manifest_rules(case.body, case.path_parameters["batch"])
    return case


def _obey_manifest_rules(manifest: dict[str, Any], batch: str) -> None:
    manifest["batch"] = batch
    manifest["kiosk"] = KIOSK
    sessions = manifest.get("sessions")
    records = manifest.get("records")
    if not isinstance(sessions, list) or not isinstance(records, list) or not records:
        return
    if not sessions:
        sessions.append(
            {
                "uuid": str(uuid.uuid4()),
                "station_id": KIOSK,
                "school_code": "19999",
                "school_name": "示例大学",
                "category": "普通生",
                "department": "",
                "opened_at": "2026-06-01T08:00:00+00:00",
            }
        )
    known = {s.get("uuid") for s in sessions if isinstance(s, dict)}
    seen: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        if record.get("session") not in known:
            record["session"] = sessions[0]["uuid"]
        if record.get("uuid") in seen:
            record["uuid"] = str(uuid.uuid4())
        seen.add(record["uuid"])
        if record.get("supersedes") == record["uuid"]:
            record["supersedes"] = None
