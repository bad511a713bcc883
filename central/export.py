"""``central export --school CODE``: the school's one package from every kiosk, session and phase.

The same package as ``kiosk export`` (kiosk/export's model and writer); only
the records come from the office's store:

- students: the office's roster of the school, plus anyone a station sent
  who is not on it (a walk-in), keyed by ID number;
- takes: every received record of the school, whichever kiosk, session or
  phase; the latest delivered one is the photo (``assemble``'s rule), the
  others stay in the store as history;
- the school's 重拍 requests become ``requested`` takes at the moment of the
  request, so a photo taken after it answers it and one taken before does not;
- errata: the stations' walk-ins and corrections (against the roster) and the
  school's 信息有误 corrections.

Keys are ID numbers, record uuids and decision ids, all stable, so a second
export of unchanged data is byte-identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from central.campaign import RETAKE_REASONS, Decision, proposals
from central.storage import CampaignStore
from kiosk.export.package import Erratum, Package, Person, Take, assemble
from kiosk.student import key_code, student_key

# A student received without an ID number (a 采集码 shot) is keyed by its code.
_NO_ID = "~"


def _student_key(id_number: str | None, student: dict[str, Any], record_uuid: str) -> str:
    if id_number:
        return id_number
    code = student.get("collection_code")
    return f"{_NO_ID}{student_key(None, code)}" if code else f"{_NO_ID}record:{record_uuid}"


def _person(key: str, values: dict[str, Any], origin: str) -> Person:
    return Person(
        key=key,
        id_number=values.get("id_number") or None,
        student_number=values.get("student_number") or "",
        name=values.get("name") or "",
        sex=values.get("sex") or "",
        school_name=values.get("school_name") or "",
        school_code=values.get("school_code") or "",
        degree=values.get("degree") or "",
        major=values.get("major") or "",
        department=values.get("department") or "",
        category=values.get("category") or "",
        collection_code=values.get("collection_code") or None,
        origin=origin,
    )


def school_package(
    campaign: CampaignStore,
    photo_path: Callable[[str], Path],
    school_code: str,
    *,
    utc_offset_hours: float = 8.0,
) -> Package:
    """Decide the school's package from the office's store (reads only)."""
    offset = dt.timedelta(hours=utc_offset_hours)
    roster, records, decisions = campaign.export_rows(school_code)
    school_name = campaign.school_name(school_code) or ""
    people: dict[str, Person] = {
        r["id_number"]: _person(r["id_number"], r, "roster") for r in roster
    }
    on_roster = {r["id_number"]: r for r in roster}
    takes: list[Take] = []
    latest_student: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for record in records:
        body = record["body"]
        student = dict(body.get("student") or {})
        key = _student_key(record["id_number"], student, record["uuid"])
        latest_student[key] = (student, record)
        if key not in people:
            people[key] = _person(key, student, student.get("origin") or "walk_in")
        opened = dt.datetime.fromisoformat(record["session_opened"])
        if opened.tzinfo is None:
            opened = opened.replace(tzinfo=dt.UTC)
        takes.append(
            Take(
                key=record["uuid"],
                student_key=key,
                status=record["status"],
                taken_at=record["taken_at"],
                seq=record["seq"],
                session_key=record["session_uuid"],
                session_date=(opened + offset).date().isoformat(),
                source=photo_path(record["sha256"]),
                sha256=record["sha256"],
                reasons=tuple(str(r) for r in body.get("reasons") or ()),
                collection_code=body.get("collection_code") or student.get("collection_code"),
            )
        )
    # A decision names its student by key (central.campaign.student_key): a 采集码
    # student's is "code:<采集码>", here behind _NO_ID like their takes.
    decisions = [dataclasses.replace(d, id_number=_decision_key(d.id_number)) for d in decisions]
    takes += [_requested(d) for d in decisions if d.kind == "retake" and d.id_number in people]
    errata: list[Erratum] = []
    for key, (student, record) in sorted(latest_student.items()):
        for number, (field, old, new) in enumerate(proposals(on_roster.get(key), student)):
            errata.append(
                Erratum(
                    key=f"station:{record['uuid']}:{number}",
                    student_key=key,
                    field=field,
                    old_value=old,
                    new_value=new if field != "walk_in" else "",
                    note=f"现场登记（{record['kiosk_id']}）",
                    at=record["taken_at"],
                )
            )
    errata += [_erratum(d) for d in decisions if d.kind == "erratum" and d.id_number in people]
    return assemble(
        people.values(),
        takes,
        errata,
        folder=school_code,
        school_code=school_code,
        school_name=school_name,
        scope="全校",
        utc_offset=offset,
    )


def _decision_key(key: str) -> str:
    return _NO_ID + key if key_code(key) is not None else key


def repeated_numbers(package: Package) -> list[int]:
    """拍摄序号 the package would print for more than one photo (it must not)."""
    counts = Counter(p.take.seq for p in package.photos if p.take.seq is not None)
    return sorted(seq for seq, n in counts.items() if n > 1)


def _requested(decision: Decision) -> Take:
    reason = RETAKE_REASONS.get(decision.reason, decision.reason)
    return Take(
        key=f"review:{decision.id:012d}",
        student_key=decision.id_number,
        status="requested",
        taken_at=decision.at,
        reasons=(f"学校审核：{reason}",),
    )


def _erratum(decision: Decision) -> Erratum:
    return Erratum(
        key=f"review:{decision.id:012d}",
        student_key=decision.id_number,
        field=decision.field,
        old_value=decision.old_value,
        new_value=decision.new_value,
        note=f"学校审核（{decision.user}）",
        at=decision.at,
    )
