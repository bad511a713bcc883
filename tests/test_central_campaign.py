"""The office's pure rules: a student's standing, station proposals, masking, accounts."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.accounts import Account, check_account
from central.campaign import StudentState, mask_code, mask_id_number, missing_count, proposals

takes = st.lists(
    st.tuples(
        st.sampled_from(["accepted", "refused", "flagged"]),
        st.integers(0, 59).map(lambda m: f"2026-10-09T08:{m:02d}:00.000+00:00"),
    ),
    max_size=6,
    unique_by=lambda t: t[1],
)


@given(takes)
def test_a_students_standing_does_not_depend_on_the_order_records_arrive(records):
    folded = [_fold(order) for order in itertools.islice(itertools.permutations(records), 24)]
    assert all(f == folded[0] for f in folded)
    state = folded[0]
    latest = max(records, key=lambda r: r[1]) if records else None
    delivered = [r for r in records if r[0] != "refused"]
    assert state.counts()[0] == int(bool(delivered))
    assert state.counts()[2] == int(latest is not None and latest[0] != "accepted")
    newest_delivered = max(delivered, key=lambda r: r[1]) if delivered else None
    assert state.counts()[3] == int(
        newest_delivered is not None and newest_delivered[0] == "flagged"
    )


def _fold(records):
    state = StudentState(on_roster=True)
    for status, at in records:
        state = state.add(status, at)
    return state


def test_missing_counts_against_the_roster_or_else_the_expected_headcount():
    assert (
        missing_count(roster=300, photographed_on_roster=280, photographed=290, expected=310) == 20
    )
    # 采集码 mode: no roster; the schedule's 人数 is the yardstick.
    assert missing_count(roster=0, photographed_on_roster=0, photographed=250, expected=300) == 50
    assert missing_count(roster=0, photographed_on_roster=0, photographed=350, expected=300) == 0


def test_station_changes_become_proposals():
    roster = {"name": "张三", "sex": "男", "student_number": "2021001", "major": "法学"}
    assert proposals(roster, dict(roster)) == []
    assert proposals(roster, {**roster, "name": "张叁", "major": ""}) == [("name", "张三", "张叁")]
    assert proposals(None, {"name": "李四"}) == [("walk_in", "", "李四")]
    assert proposals(roster, {**roster, "origin": "walk_in"}) == [("walk_in", "", "张三")]
    # 采集码 mode has no roster: a student photographed from their code is no walk-in.
    assert proposals(None, {"name": "王五", "origin": "collection_code"}) == []


def test_id_numbers_are_masked_on_screen():
    assert mask_id_number("62010220030101123X") == "620102********123X"
    assert mask_id_number("") == ""
    assert "1234" not in mask_id_number("H1234567")
    code = "https://xz.chsi.com.cn/c/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert mask_code(code) == "https:********6789"  # a 采集码: as short, however long the code


def test_accounts_see_their_own_school_only():
    assert check_account("office1", "office", None) == Account("office1", "office")
    school = check_account("reg-a", "school", "10730")
    assert school.may_see("10730") and not school.may_see("10731")
    assert Account("x", "office").may_see("10731")
    assert not Account("x", "visitor").may_see("10730")
    for args in (
        ("a b", "office", None),
        ("reg", "school", None),
        ("reg", "school", "1073"),
        ("boss", "office", "10730"),
        ("reg", "admin", None),
        ("reg", "school", "10730\n"),
    ):
        with pytest.raises(ValueError):
            check_account(*args)


def test_passwords_are_argon2id_and_an_unknown_name_is_checked_all_the_same():
    import time

    from central.accounts import hash_password, verify_password

    stored = hash_password("k7pm-2xq9-hd4a-wr3n")
    assert stored.startswith("$argon2id$") and "k7pm" not in stored
    assert verify_password(stored, "k7pm-2xq9-hd4a-wr3n")
    assert not verify_password(stored, "k7pm-2xq9-hd4a-wr3m")
    started = time.perf_counter()
    assert not verify_password(None, "anything")
    # An argon2 check (tens of ms), not an instant "no such user".
    assert time.perf_counter() - started > 0.005


def test_stamps_show_in_the_offices_local_time():
    from central.campaign import local_time

    assert local_time("2026-11-30T13:54:27.061+00:00", 8.0) == "11-30 21:54"
    assert local_time("2026-12-31T20:00:00", 8.0) == "01-01 04:00"  # naive = UTC
    assert local_time(None, 8.0) == ""
    assert local_time("yesterday", 8.0) == "yesterday"
