"""采集码 mode at the office: no roster, progress against the schedule's expected headcount.

Records go in through the receiver's own ``commit_batch`` (the code a real
sync runs); students photographed with a 学信网 图像采集码 carry no ID number.
"""

from __future__ import annotations

import random
import uuid

from central.campaign import ScheduleEntry
from kiosk.sync import protocol
from tests.backends import central_storage


def _record(rng: random.Random, session: str, student: dict, minute: int) -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "session": session,
        "seq": 100_000 + minute,
        "sha256": f"{rng.getrandbits(256):064x}",
        "size": 40_000,
        "width": 480,
        "height": 640,
        "taken_at": f"2026-10-09T02:{minute:02d}:00.000+00:00",
        "status": "accepted",
        "reasons": [],
        "supersedes": None,
        "collection_code": student.get("collection_code"),
        "student": student,
    }


def test_collection_code_shots_count_against_the_expected_headcount(tmp_path, backend):
    storage = central_storage(tmp_path, create=True)  # on both back ends
    metadata, campaign = storage.metadata, storage.campaign
    try:
        campaign.import_schedule([ScheduleEntry("某学院", "12345", "成人生", expected=10)])
        rng = random.Random(3)
        session = str(uuid.uuid4())
        students = [
            {
                "name": f"学生{i}" if i else "",  # the crew types no names in 采集码 mode
                "school_code": "12345",
                "collection_code": f"XC{i:06d}",
                "origin": "collection_code",
            }
            for i in range(3)
        ]
        records = [_record(rng, session, s, i) for i, s in enumerate(students)]
        # The same student photographed again: still one student.
        records.append(_record(rng, session, students[0], 30))
        manifest = protocol.decode_manifest(
            protocol.encode_manifest(
                batch=str(uuid.uuid4()),
                kiosk="kiosk-01",
                sessions=[
                    {
                        "uuid": session,
                        "station_id": "kiosk-01",
                        "school_code": "12345",
                        "school_name": "某学院",
                        "category": "成人生",
                        "department": "",
                        "opened_at": "2026-10-09T01:00:00.000+00:00",
                        "closed_at": None,
                    }
                ],
                records=records,
            )
        )
        sizes = {r.sha256: r.size for r in manifest.records}
        metadata.commit_batch("kiosk-01", manifest, "0" * 64, sizes.get)
        [school] = campaign.progress("12345")
        assert (school.roster, school.expected, school.photographed, school.missing) == (
            0,
            10,
            3,
            7,
        )
        assert round(school.percent_done) == 30
    finally:
        storage.close()
