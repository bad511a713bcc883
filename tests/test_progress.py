"""The crew screen's numbers: every 院系, totals, % done, time left, absent, refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk.progress import read_progress
from kiosk.store import Store
from tests.export_data import make_photo, roster_students


def test_totals_absent_refused_and_time_left(tmp_path: Path) -> None:
    with Store(tmp_path / "kiosk.db") as store:
        ids = roster_students(store, tmp_path, 40)  # 4 院系 of 10 (student i in 院系 i % 4)
        session = store.open_session(station_id="k", school_code="19999", category="普通生")
        now = dt.datetime.now(dt.UTC)
        first_department = ids[0::4]
        for n, student_id in enumerate(first_department[:6]):
            store.save_shot(
                student_id=student_id,
                session_id=session.id,
                jpeg=make_photo(n),
                status="accepted",
                taken_at=(now - dt.timedelta(minutes=3 * n)).isoformat(timespec="milliseconds"),
            )
        store.save_shot(
            student_id=first_department[6],
            session_id=session.id,
            jpeg=make_photo(7),
            status="refused",
            reasons=["mouth_open"],
        )
        progress = read_progress(store, session.id, now=now)
    assert len(progress.departments) == 4  # every 院系, not the first 8 or fewer
    started = [d for d in progress.departments if d.done]
    [department] = started
    assert (department.total, department.done, department.refused) == (10, 6, 1)
    assert department.retakes == 1
    # 3 of the started 院系 never came; the refused student came
    assert department.absent == 3
    assert sum(d.absent for d in progress.departments) == 3  # 院系 not started: none absent
    totals = progress.totals
    assert (totals.total, totals.done, totals.refused, totals.absent) == (40, 6, 1, 3)
    assert round(totals.percent_done) == 15
    # 4 shots in the last 10 minutes: 24 an hour; 34 left: 1.42 hours
    assert progress.per_hour_10 == 24.0
    hours = progress.hours_left()
    assert hours is not None and abs(hours - 34 / 24) < 1e-9


def test_a_collection_code_session_counts_against_the_expected_headcount(tmp_path: Path) -> None:
    from kiosk.roster import Roster

    with Store(tmp_path / "kiosk.db") as store:
        roster_students(store, tmp_path, 4)  # another school's roster: not this one's
        session = store.open_session(station_id="k", school_code="10055")
        roster = Roster(store)
        for n in range(3):
            student_id = roster.collection_code_student("Zx9+/" + str(n) * 45, session.id)
            store.save_shot(
                student_id=student_id, session_id=session.id, jpeg=make_photo(n), status="accepted"
            )
        unknown = read_progress(store, session.id)
        # as a roster pull of a 采集码 school stores it: the schedule's headcount
        store.conn.execute(
            "INSERT INTO school_plans (school_code, school_name, expected, at) "
            "VALUES ('10055', '南开大学', 120, 'now')"
        )
        known = read_progress(store, session.id)
    assert unknown.collection_codes and not unknown.headcount_known
    assert unknown.hours_left() is None  # not "everyone done": nobody knows how many come
    assert known.collection_codes and known.expected == 120
    totals = known.totals
    assert (totals.total, totals.done, totals.remaining) == (120, 3, 117)
    assert round(totals.percent_done, 1) == 2.5
    hours = known.hours_left()
    assert hours is not None and abs(hours - 117 / 18) < 1e-9  # 3 in 10 minutes: 18 an hour
