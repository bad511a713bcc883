"""Who may mark whose record as replaced by a retake.

A record's ``supersedes`` names the earlier delivered shot of the same
student; the receiver then marks that record ``superseded_by`` the retake
and the delivery package drops it. The hostile review sent a batch from
kiosk-02 superseding kiosk-01's record, and it was accepted. The rule
(pure, so both arrival orders use it):

- the retake and the original are of the same school (院校代码) and the
  same student (the same ID number, or without one the same 图像采集码);
  otherwise 409: the retake names the wrong record;
- and the retake's kiosk sent the original, or is granted that school
  (``central token add KIOSK --school CODE``; the central office's schedule
  replaces this grant when it merges a school's kiosks); otherwise 403.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from central.storage import Refusal
from kiosk.sync import protocol


@dataclass(frozen=True, slots=True)
class Shot:
    """What the rule looks at in one record."""

    uuid: str
    kiosk: str
    school_code: str
    id_number: str | None
    collection_code: str | None


def same_student(a: Shot, b: Shot) -> bool:
    if a.id_number or b.id_number:
        return a.id_number == b.id_number
    return bool(a.collection_code) and a.collection_code == b.collection_code


def supersede_refusal(
    retake: Shot, original: Shot, granted_schools: Collection[str]
) -> Refusal | None:
    """Why ``retake`` may not supersede ``original``; None when it may."""
    if retake.school_code != original.school_code or not same_student(retake, original):
        return Refusal(
            409,
            protocol.ERR_SUPERSEDE,
            f"record {retake.uuid} supersedes {original.uuid}, a record of another "
            "student or school; a retake may only replace the same student's photo",
        )
    if retake.kiosk != original.kiosk and original.school_code not in granted_schools:
        return Refusal(
            403,
            protocol.ERR_FORBIDDEN,
            f"record {retake.uuid} supersedes {original.uuid} of another kiosk, and kiosk "
            f"{retake.kiosk} is not granted school {original.school_code} "
            f"(central token add {retake.kiosk} --school {original.school_code})",
        )
    return None
