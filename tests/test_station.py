"""Every state and edge case of the station, as plain transitions (no devices)."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk import station as st
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import StationConfig
from kiosk.scanner.base import DeviceStatus, Identity
from kiosk.student import Student

CONFIG = StationConfig(
    steady_frames=3,
    countdown_s=2.0,
    confirm_s=1.0,
    framing_timeout_s=60.0,
    notice_timeout_s=30.0,
    review_s=2.0,
    saved_s=2.0,
    capture_timeout_s=5.0,
    failsafe_s=3.0,
    max_auto_tries=2,
    crew_pin="1234",
)
SESSION = st.SessionInfo(id=7, school_code="19999", category="普通生", department="信息学院")
GOOD = Assessment.of([])
SMILE = Assessment.of([Reason.EXPRESSION])


def student(n: int = 1, **changes: object) -> Student:
    base = Student(
        id_number=f"62010220010101{n:03d}X"[-18:],
        student_number=f"2021{n:07d}",
        name=f"学生{n}",
        sex="男",
        school_name="示例大学",
        school_code="19999",
        major="通信工程",
        department="信息学院",
        category="普通生",
        id=n,
    )
    return dataclasses.replace(base, **changes)


def identity(value: str = "x", kind: str = "id_number") -> Identity:
    return Identity(kind, value, value.encode(), "sim")  # type: ignore[arg-type]


def scan(
    s: Student | None,
    now: float = 0.0,
    *,
    kind: str = "id_number",
    value: str | None = None,
    earlier: st.EarlierShot | None = None,
    candidates: tuple[Student, ...] | None = None,
) -> st.Scanned:
    ident = identity(value or (s.id_number if s else "110101199001011234") or "", kind)
    found = candidates if candidates is not None else ((s,) if s else ())
    return st.Scanned(ident, found, {s.id: earlier} if (earlier and s and s.id) else {}, now=now)


def run(
    state: st.State, *events: st.Event, config: StationConfig = CONFIG
) -> tuple[st.State, list]:
    effects: list = []
    for event in events:
        t = st.step(state, event, config)
        state = t.state
        effects.extend(t.effects)
    return state, effects


def kinds(effects: list, cls: type) -> list:
    return [e for e in effects if isinstance(e, cls)]


def logs(effects: list) -> list[str]:
    return [e.kind for e in effects if isinstance(e, st.LogEvent)]


def opened() -> st.State:
    state, _ = run(st.State(), st.SessionOpened(SESSION))
    return state


def framing(s: Student | None = None) -> st.State:
    state, _ = run(opened(), scan(s or student()), st.Tick(1.0))
    assert state.phase is st.Phase.FRAMING
    return state


def good_frames(n: int, now: float = 1.0, motion: float | None = 0.0) -> list[st.Event]:
    return [st.FrameJudged(GOOD, motion, now=now) for _ in range(n)]


def still(assessment: Assessment = GOOD, jpeg: bytes | None = b"jpeg") -> st.StillJudged:
    return st.StillJudged(st.StillResult(assessment, jpeg, {"ExposureTime": 10000}), now=5.0)


def capturing(s: Student | None = None) -> st.State:
    state, effects = run(framing(s), *good_frames(3), st.Tick(3.5))
    assert state.phase is st.Phase.CAPTURING
    assert kinds(effects, st.TakeStill)
    return state


# -- session ------------------------------------------------------------------


def test_closed_until_a_session_opens_and_scans_say_so() -> None:
    state, effects = run(st.State(), scan(student()))
    assert state.phase is st.Phase.CLOSED
    assert state.notice == st.Notice("no_session")
    assert "scan_without_session" in logs(effects)
    state, _ = run(state, st.SessionOpened(SESSION))
    assert state.phase is st.Phase.IDLE and state.session == SESSION


def test_session_key_opens_and_closes_but_never_under_a_student() -> None:
    _, effects = run(st.State(), st.Key(st.Action.SESSION))
    assert kinds(effects, st.LoadScopes)  # the chooser opens on the roster's choices
    _, effects = run(opened(), st.Key(st.Action.SESSION))
    assert kinds(effects, st.CloseSession) == [st.CloseSession(7)]
    _, effects = run(framing(), st.Key(st.Action.SESSION))
    assert not effects
    state, _ = run(opened(), st.SessionClosed())
    assert state.phase is st.Phase.CLOSED and state.session is None


# -- the happy path -----------------------------------------------------------


def test_scan_shows_the_roster_row_then_frames_after_confirm_time() -> None:
    s = student()
    state, effects = run(opened(), scan(s, now=0.0))
    assert state.phase is st.Phase.IDENTIFIED
    assert state.subject is not None and state.subject.student == s
    assert "student_identified" in logs(effects)
    state, _ = run(state, st.Tick(0.5))
    assert state.phase is st.Phase.IDENTIFIED
    state, _ = run(state, st.Tick(1.0))
    assert state.phase is st.Phase.FRAMING


def test_crew_confirms_early_or_skips() -> None:
    state, _ = run(opened(), scan(student()), st.Key(st.Action.ACCEPT, now=0.1))
    assert state.phase is st.Phase.FRAMING
    state, effects = run(opened(), scan(student()), st.Key(st.Action.SKIP))
    assert state.phase is st.Phase.IDLE and state.subject is None
    assert "student_skipped" in logs(effects)


def test_confirm_required_waits_for_the_crew_and_times_out_to_idle() -> None:
    config = dataclasses.replace(CONFIG, confirm_s=0.0)
    state, _ = run(opened(), scan(student()), st.Tick(5.0), config=config)
    assert state.phase is st.Phase.IDENTIFIED
    state, effects = run(state, st.Tick(31.0), config=config)
    assert state.phase is st.Phase.IDLE
    assert "timeout" in logs(effects)


def test_framing_shows_the_first_hint_and_counts_steady_frames() -> None:
    state, _ = run(
        framing(), st.FrameJudged(Assessment.of([Reason.EYES_CLOSED, Reason.OFF_CENTER]))
    )
    assert state.hint == "请站到画面中间"  # off_center comes first in fix order
    assert state.steady == 0
    state, _ = run(state, *good_frames(2))
    assert state.phase is st.Phase.FRAMING and state.steady == 2 and state.hint is None
    state, _ = run(state, st.FrameJudged(SMILE))
    assert state.steady == 0 and state.hint == "请保持自然表情，平视镜头"


def test_moving_face_is_not_steady() -> None:
    state, _ = run(framing(), *good_frames(2), st.FrameJudged(GOOD, motion=0.05))
    assert state.steady == 0 and state.hint == "请保持不动"
    assert state.phase is st.Phase.FRAMING


def test_steady_frames_start_the_countdown_and_lock_exposure() -> None:
    state, effects = run(framing(), *good_frames(3, now=2.0))
    assert state.phase is st.Phase.COUNTDOWN
    assert state.countdown_end == pytest.approx(4.0)
    assert kinds(effects, st.LockExposure)
    state, effects = run(state, st.Tick(3.9))
    assert state.phase is st.Phase.COUNTDOWN and not kinds(effects, st.TakeStill)
    state, effects = run(state, st.Tick(4.0))
    assert state.phase is st.Phase.CAPTURING and kinds(effects, st.TakeStill)


def test_exposure_locks_when_the_automatic_countdown_starts_not_at_the_first_good_frame() -> None:
    """docs/station.md: the lock comes with the countdown; a crew countdown locks nothing."""
    steady = CONFIG.steady_frames
    state, effects = run(framing(), *good_frames(steady - 1))
    assert state.phase is st.Phase.FRAMING and not kinds(effects, st.LockExposure)
    state, effects = run(state, *good_frames(1, now=2.0))
    assert state.phase is st.Phase.COUNTDOWN and len(kinds(effects, st.LockExposure)) == 1
    state, effects = run(framing(), st.Key(st.Action.SHUTTER, now=1.0))
    assert state.phase is st.Phase.COUNTDOWN and not kinds(effects, st.LockExposure)


def test_bad_frame_cancels_an_automatic_countdown_but_not_a_crew_one() -> None:
    state, effects = run(framing(), *good_frames(3), st.FrameJudged(SMILE, now=1.5))
    assert state.phase is st.Phase.FRAMING and kinds(effects, st.UnlockExposure)
    state, _ = run(framing(), st.Key(st.Action.SHUTTER, now=1.0), st.FrameJudged(SMILE))
    assert state.phase is st.Phase.COUNTDOWN and state.crew_triggered


def test_shutter_key_in_countdown_fires_at_once() -> None:
    state, effects = run(framing(), st.Key(st.Action.SHUTTER), st.Key(st.Action.SHUTTER))
    assert state.phase is st.Phase.CAPTURING and kinds(effects, st.TakeStill)


def test_accepted_still_is_saved_then_shown_then_idle() -> None:
    state, effects = run(capturing(), still())
    assert state.phase is st.Phase.SAVING
    (save,) = kinds(effects, st.SaveShot)
    assert save.status == "accepted" and save.session_id == 7 and save.result.jpeg == b"jpeg"
    assert save.subject.student_id == 1
    state, _ = run(state, st.ShotSaved(seq=12, uuid="u", status="accepted", now=5.1))
    assert state.phase is st.Phase.SAVED and state.seq == 12
    state, _ = run(state, st.Tick(6.0))
    assert state.phase is st.Phase.SAVED
    state, _ = run(state, st.Tick(7.2))
    assert state.phase is st.Phase.IDLE and state.subject is None


# -- refusals and retakes -------------------------------------------------------


def test_refused_still_shows_reasons_and_goes_back_to_framing() -> None:
    state, effects = run(capturing(), still(SMILE))
    assert state.phase is st.Phase.REVIEW
    assert state.reasons == (Reason.EXPRESSION,) and state.tries == 1
    (save,) = kinds(effects, st.SaveShot)
    assert save.status == "refused"  # kept for the record, without a 拍摄序号
    assert "shot_refused" in logs(effects)
    # the crew sees who was refused and why, after the student has moved on
    assert state.refusal is not None and state.refusal.reasons == (Reason.EXPRESSION,)
    assert state.refusal.name == state.subject.student.name  # type: ignore[union-attr]
    state, _ = run(state, st.Tick(7.0))
    assert state.phase is st.Phase.FRAMING and state.tries == 1
    assert state.refusal is not None
    state, effects = run(state, *good_frames(3), st.Tick(9.0), still())
    assert state.phase is st.Phase.SAVING
    assert kinds(effects, st.SaveShot)[0].status == "accepted"


def test_still_without_a_face_is_refused_without_a_file() -> None:
    state, effects = run(capturing(), still(Assessment.of([Reason.NO_FACE]), jpeg=None))
    assert state.phase is st.Phase.REVIEW
    assert not kinds(effects, st.SaveShot)
    assert state.hint == "请站到镜头前"


def test_too_many_refusals_ask_the_crew() -> None:
    state, _ = run(
        capturing(), still(SMILE), st.Tick(7.0), *good_frames(3), st.Tick(9.5), still(SMILE)
    )
    assert state.phase is st.Phase.CREW_DECISION and state.tries == 2
    assert state.notice == st.Notice("crew_decision", {"tries": 2})
    # no more automatic retakes
    after, effects = run(state, st.Tick(20.0), *good_frames(5))
    assert after.phase is st.Phase.CREW_DECISION and not kinds(effects, st.TakeStill)


def test_crew_accepts_a_refused_still_as_flagged() -> None:
    state, _ = run(
        capturing(), still(SMILE), st.Tick(7.0), *good_frames(3), st.Tick(9.5), still(SMILE)
    )
    state, effects = run(state, st.Key(st.Action.ACCEPT))
    assert state.phase is st.Phase.SAVING
    (save,) = kinds(effects, st.SaveShot)
    assert save.status == "flagged"
    assert "crew_accepted" in logs(effects)


def test_crew_retake_resets_tries_and_skip_moves_on() -> None:
    decision, _ = run(
        capturing(), still(SMILE), st.Tick(7.0), *good_frames(3), st.Tick(9.5), still(SMILE)
    )
    state, _ = run(decision, st.Key(st.Action.RETAKE, now=10.0))
    assert state.phase is st.Phase.FRAMING and state.tries == 0
    state, effects = run(decision, st.Key(st.Action.SKIP))
    assert state.phase is st.Phase.IDLE and "student_skipped" in logs(effects)


def test_crew_decision_times_out_to_idle() -> None:
    decision, _ = run(
        capturing(), still(SMILE), st.Tick(7.0), *good_frames(3), st.Tick(9.5), still(SMILE)
    )
    state, effects = run(decision, st.Tick(100.0))
    assert state.phase is st.Phase.IDLE and "timeout" in logs(effects)


def test_crew_accept_without_a_photo_does_nothing() -> None:
    state, _ = run(capturing(), still(Assessment.of([Reason.NO_FACE]), jpeg=None))
    after, effects = run(state, st.Key(st.Action.ACCEPT))
    assert after == state and not effects


# -- timeouts and camera faults ---------------------------------------------------


def test_framing_times_out_to_idle() -> None:
    state, effects = run(framing(), st.Tick(62.0))
    assert state.phase is st.Phase.IDLE and "timeout" in logs(effects)


def test_capture_timeout_restarts_the_camera_and_keeps_the_student() -> None:
    state, effects = run(capturing(), st.Tick(9.0))
    assert state.phase is st.Phase.FRAMING
    assert state.subject is not None and state.subject.student_id == 1
    assert kinds(effects, st.RestartCamera)
    assert state.notice is not None and state.notice.code == "camera_problem"


def test_still_failure_goes_back_to_framing_with_a_notice() -> None:
    state, effects = run(capturing(), st.StillFailed("sensor gone", now=4.0))
    assert state.phase is st.Phase.FRAMING and state.notice.code == "camera_problem"
    assert "still_failed" in logs(effects)


def test_device_lost_keeps_state_and_recovers() -> None:
    before = framing()
    lost = DeviceStatus("camera", "lost", "no frames")
    state, effects = run(before, st.DeviceChanged(lost))
    assert state.phase is st.Phase.FRAMING and state.subject == before.subject
    assert state.devices["camera"].state == "lost"
    assert logs(effects) == ["device_lost"]
    # the same status again is not logged twice
    _, effects = run(state, st.DeviceChanged(lost))
    assert not effects
    state, effects = run(state, st.DeviceChanged(DeviceStatus("camera", "ok")))
    assert state.devices["camera"].state == "ok" and logs(effects) == ["device_ok"]
    state, _ = run(state, st.DeviceChanged(DeviceStatus("serial:/dev/ttyACM0", "lost")))
    assert state.phase is st.Phase.FRAMING


def test_save_failure_keeps_the_photo_for_the_crew() -> None:
    state, _ = run(capturing(), still())
    state, effects = run(state, st.SaveFailed("disk full"))
    assert state.phase is st.Phase.CREW_DECISION
    assert state.still is not None and state.still.jpeg == b"jpeg"
    assert state.notice.code == "save_failed" and "save_failed" in logs(effects)
    state, effects = run(state, st.Key(st.Action.ACCEPT))
    (again,) = kinds(effects, st.SaveShot)  # the crew can try again
    assert again.status == "accepted" and state.phase is st.Phase.SAVING


# -- failsafe -----------------------------------------------------------------------


def test_failsafe_keeps_the_student_and_resumes_framing() -> None:
    before = capturing()
    t = st.failsafe(before, RuntimeError("boom"), now=10.0, config=CONFIG)
    assert t.state.phase is st.Phase.FAILSAFE
    assert t.state.subject == before.subject
    assert t.state.notice.code == "failsafe" and "boom" in t.state.notice.detail["error"]
    assert "station_error" in logs(list(t.effects))
    state, _ = run(t.state, st.Tick(11.0))
    assert state.phase is st.Phase.FAILSAFE
    state, effects = run(state, st.Tick(13.0))
    assert state.phase is st.Phase.FRAMING and state.subject == before.subject
    assert "station_recovered" in logs(effects)


def test_failsafe_without_a_student_returns_to_idle_and_twice_keeps_resume() -> None:
    t = st.failsafe(opened(), "bad", now=0.0, config=CONFIG)
    t2 = st.failsafe(t.state, "again", now=1.0, config=CONFIG)
    assert t2.state.resume is st.Phase.IDLE
    state, _ = run(t2.state, st.Key(st.Action.RETAKE, now=1.5))
    assert state.phase is st.Phase.IDLE


def test_failsafe_in_identified_resumes_there() -> None:
    before, _ = run(opened(), scan(student()))
    t = st.failsafe(before, "x", now=0.0, config=CONFIG)
    state, _ = run(t.state, st.Tick(5.0))
    assert state.phase is st.Phase.IDENTIFIED and state.subject == before.subject


# -- edge cases of scans ----------------------------------------------------------


def test_unknown_id_shows_a_notice_and_times_out() -> None:
    state, effects = run(opened(), scan(None, now=0.0))
    assert state.phase is st.Phase.UNKNOWN
    assert state.notice.code == "unknown" and "scan_unknown" in logs(effects)
    state, _ = run(state, st.Tick(31.0))
    assert state.phase is st.Phase.IDLE


def test_unknown_student_added_as_walk_in() -> None:
    state, _ = run(opened(), scan(None, value="110101199001011234"))
    state, effects = run(state, st.Key(st.Action.WALK_IN))
    (add,) = kinds(effects, st.AddWalkIn)
    assert add.identity.value == "110101199001011234" and add.session == SESSION
    walk_in = student(99)
    state, effects = run(state, st.WalkInAdded(walk_in, now=1.0))
    assert state.phase is st.Phase.IDENTIFIED and state.subject.student == walk_in
    assert "walk_in_added" in logs(effects)


def test_unknown_student_sent_away() -> None:
    state, _ = run(opened(), scan(None), st.Key(st.Action.SKIP))
    assert state.phase is st.Phase.IDLE


def test_unrecognised_payload_cannot_become_a_walk_in() -> None:
    state, _ = run(opened(), scan(None, kind="unrecognised", value="hello"))
    assert state.phase is st.Phase.UNKNOWN
    _, effects = run(state, st.Key(st.Action.WALK_IN))
    assert not kinds(effects, st.AddWalkIn)


def test_student_of_another_school_or_category() -> None:
    other_school = student(2, school_code="10001", school_name="别的大学")
    state, effects = run(opened(), scan(other_school))
    assert state.phase is st.Phase.WRONG_SESSION
    assert state.notice.detail["school_code"] == "10001"
    assert "wrong_session" in logs(effects)
    adult = student(3, category="成人生")
    state, _ = run(opened(), scan(adult))
    assert state.phase is st.Phase.WRONG_SESSION
    assert state.notice.detail["category"] == "成人生"


def test_shared_student_number_matched_by_session_category() -> None:
    regular = student(4, category="普通生")
    adult = student(5, category="成人生", student_number=regular.student_number)
    state, _ = run(
        opened(),
        scan(
            regular,
            kind="student_number",
            value=regular.student_number,
            candidates=(adult, regular),
        ),
    )
    assert state.phase is st.Phase.IDENTIFIED and state.subject.student == regular


def test_two_matches_in_the_session_are_ambiguous() -> None:
    a, b = student(4), student(5)
    state, _ = run(opened(), scan(a, kind="student_number", value="x", candidates=(a, b)))
    assert state.phase is st.Phase.UNKNOWN and state.notice.code == "ambiguous"


def test_already_photographed_shows_earlier_photo_and_crew_chooses() -> None:
    earlier = st.EarlierShot("uuid-1", 3, "photos/s/uuid-1.jpg", "2026-06-01T10:00:00")
    state, effects = run(opened(), scan(student(), earlier=earlier))
    assert state.phase is st.Phase.ALREADY_DONE and state.earlier == earlier
    assert state.notice == st.Notice("already_photographed", {"seq": 3})
    assert "already_photographed" in logs(effects)
    retake, effects = run(state, st.Key(st.Action.RETAKE, now=1.0))
    assert retake.phase is st.Phase.FRAMING and "retake_requested" in logs(effects)
    skipped, _ = run(state, st.Key(st.Action.SKIP))
    assert skipped.phase is st.Phase.IDLE
    timed_out, _ = run(state, st.Tick(40.0))
    assert timed_out.phase is st.Phase.IDLE


def test_same_student_scanned_twice_while_photographed_is_ignored() -> None:
    before = framing()
    state, effects = run(before, scan(student()))
    assert state == before and logs(effects) == ["scanned_twice"]


def test_other_students_scanning_ahead_wait_in_order() -> None:
    state, effects = run(framing(), scan(student(2)), scan(student(3)), scan(student(2)))
    assert [w.student_id for w in state.waiting] == [2, 3]
    assert logs(effects) == ["student_queued", "student_queued", "scanned_twice"]
    assert state.subject.student_id == 1
    # when the current student is done, the next one comes up by itself
    state, _ = run(
        state,
        *good_frames(3),
        st.Tick(3.5),
        still(),
        st.ShotSaved(1, "u", "accepted", now=5.0),
        st.Tick(8.0),
    )
    assert state.phase is st.Phase.IDENTIFIED and state.subject.student_id == 2
    assert [w.student_id for w in state.waiting] == [3]


def test_bad_scan_ahead_does_not_interrupt_the_shot() -> None:
    before = framing()
    state, effects = run(before, scan(None))
    assert state == before and logs(effects) == ["scan_unknown"]


def test_new_scan_replaces_a_notice_or_a_finished_student() -> None:
    state, _ = run(opened(), scan(None), scan(student(2)))
    assert state.phase is st.Phase.IDENTIFIED and state.subject.student_id == 2
    saved, _ = run(capturing(), still(), st.ShotSaved(1, "u", "accepted", now=5.0))
    state, _ = run(saved, scan(student(2), now=5.5))
    assert state.phase is st.Phase.IDENTIFIED and state.subject.student_id == 2
    state, effects = run(saved, scan(student(1), now=5.5))
    assert state.phase is st.Phase.SAVED and logs(effects) == ["scanned_twice"]


def test_collection_code_without_roster_opens_a_shot_keyed_by_the_code() -> None:
    code = "ABC123xyz-Ü"
    state, _ = run(opened(), scan(None, kind="collection_code", value=code))
    assert state.phase is st.Phase.IDENTIFIED
    assert state.subject.student is None and state.subject.collection_code == code
    state, effects = run(state, st.Tick(2.0), *good_frames(3, now=2.0), st.Tick(4.0), still())
    (save,) = kinds(effects, st.SaveShot)
    assert save.subject.collection_code == code and save.subject.identity.raw == code.encode()


def test_collection_code_found_in_roster_uses_the_student() -> None:
    s = student(8, collection_code="CODE8")
    state, _ = run(opened(), scan(s, kind="collection_code", value="CODE8"))
    assert state.subject.student == s and state.subject.collection_code == "CODE8"


# -- crew PIN ------------------------------------------------------------------------


def test_leaving_needs_the_crew_pin() -> None:
    before = framing()
    state, effects = run(before, st.Key(st.Action.QUIT))
    assert state.pin_entry == "" and not effects
    state, effects = run(state, *[st.Key(st.Action.DIGIT, d) for d in "1299"])
    assert state.pin_entry == "" and "wrong_pin" in logs(effects) and not kinds(effects, st.Exit)
    # other keys do not reach the station while the PIN is asked
    state2, _ = run(state, st.Key(st.Action.SHUTTER))
    assert state2.phase is st.Phase.FRAMING
    state, effects = run(state, *[st.Key(st.Action.DIGIT, d) for d in "1234"])
    assert kinds(effects, st.Exit) and state.exiting


def test_pin_entry_can_be_cancelled() -> None:
    state, _ = run(
        framing(), st.Key(st.Action.QUIT), st.Key(st.Action.DIGIT, "1"), st.Key(st.Action.CANCEL)
    )
    assert state.pin_entry is None and not state.exiting


def test_the_pin_to_leave_on_the_touch_pad_follows_the_keys_rules() -> None:
    from kiosk import pad

    asked, _ = run(framing(), st.Key(st.Action.QUIT))
    # a slip deleted, then the right PIN: the station exits
    state, effects = run(asked, *[st.Pressed(b) for b in ("1", "9", pad.DELETE, "2", "3", "4")])
    assert kinds(effects, st.Exit) and state.exiting and state.pin_entry is None
    # a wrong PIN, full length or confirmed short, is cleared and logged; nothing else moves
    state, effects = run(asked, *[st.Pressed(d) for d in "1299"])
    assert state.pin_entry == "" and "wrong_pin" in logs(effects) and not kinds(effects, st.Exit)
    # the crew is told it was wrong until it types again
    assert state.pin_wrong and not run(state, st.Pressed("1"))[0].pin_wrong
    assert not run(state, st.Pressed(pad.BACK))[0].pin_wrong
    state, effects = run(asked, st.Pressed("1"), st.Pressed(pad.ACCEPT))
    assert state.pin_entry == "" and "wrong_pin" in logs(effects)
    assert state.phase is st.Phase.FRAMING
    # back leaves the PIN screen; a button the pad has not is ignored
    assert run(asked, st.Pressed("1"), st.Pressed(pad.BACK))[0].pin_entry is None
    assert run(asked, st.Pressed(st.OPEN))[0] == asked
    # backspace on a keyboard does what the pad's delete does
    state, _ = run(asked, st.Key(st.Action.DIGIT, "7"), st.Key(st.Action.DELETE))
    assert state.pin_entry == ""


def test_the_crew_screens_touch_buttons_are_the_keys_that_do_something_now() -> None:
    A = st.Action
    assert st.crew_actions(st.State()) == ()  # closed: a tap opens the chooser instead
    assert st.crew_actions(opened()) == (A.SESSION, A.QUIT)
    assert st.crew_actions(framing()) == (A.SHUTTER, A.SKIP, A.QUIT)  # never end mid-shot
    refused, _ = run(capturing(), still(SMILE))
    assert st.crew_actions(refused) == (A.RETAKE, A.SKIP, A.QUIT)
    # a button does what its key does; one not offered now does nothing
    assert run(framing(), st.Pressed("session"))[0] == framing()
    assert run(framing(), st.Pressed("skip"))[0].phase is st.Phase.IDLE
    retaken, _ = run(refused, st.Pressed("retake"))
    assert retaken.phase is st.Phase.FRAMING and retaken.tries == 1
    _, effects = run(opened(), st.Pressed("session"), st.Pressed("session"))
    assert kinds(effects, st.CloseSession) == [st.CloseSession(SESSION.id)]
    asked, _ = run(framing(), st.Pressed("quit"))
    assert asked.pin_entry == "" and st.crew_actions(asked) == ()  # the PIN pad instead


def test_end_on_the_touch_row_asks_once_more_and_anything_else_keeps_the_session() -> None:
    end = st.Pressed("session", now=10.0)
    asked, effects = run(opened(), end)
    assert asked.end_asked == 10.0 + st.END_CONFIRM_S and not kinds(effects, st.CloseSession)
    _, effects = run(asked, st.Tick(12.0), st.Pressed("session", now=12.0))
    assert kinds(effects, st.CloseSession) == [st.CloseSession(SESSION.id)]
    # too late, another tap, a key or a scan cancel: the next 结束 asks again
    for other in (
        st.Tick(10.0 + st.END_CONFIRM_S + 0.1),
        st.Pressed(st.ELSEWHERE, now=11.0),
        st.Pressed("crew", now=11.0),  # 学生屏
        st.Key(st.Action.SKIP, now=11.0),
        scan(student(2), now=11.0),
    ):
        kept, _ = run(asked, other)
        assert kept.end_asked is None, other
        again, effects = run(kept, st.Pressed("session", now=12.0))
        assert again.end_asked is not None and not kinds(effects, st.CloseSession), other
    # the keyboard's session key is one deliberate press: it closes at once
    _, effects = run(opened(), st.Key(st.Action.SESSION))
    assert kinds(effects, st.CloseSession) == [st.CloseSession(SESSION.id)]


def test_a_touch_only_crew_leaves_from_the_chooser_with_the_pin() -> None:
    from kiosk import pad

    choosing, _ = run(st.State(), st.ScopesLoaded(SCOPES))
    assert st.crew_actions(choosing) == (st.Action.QUIT,)
    asked, _ = run(choosing, st.Pressed("quit"))
    assert asked.pin_entry == "" and asked.chooser == choosing.chooser
    assert st.crew_actions(asked) == ()  # the PIN pad's buttons instead
    back, _ = run(asked, st.Pressed("1"), st.Pressed(pad.BACK))
    assert back.pin_entry is None and back.chooser == choosing.chooser
    wrong, effects = run(asked, *[st.Key(st.Action.DIGIT, d) for d in "1299"])
    assert wrong.pin_wrong and wrong.chooser == choosing.chooser and not kinds(effects, st.Exit)
    left, effects = run(asked, *[st.Pressed(d) for d in CONFIG.crew_pin])
    assert left.exiting and kinds(effects, st.Exit)
    # escape on a keyboard still steps back out of the chooser (no PIN asked there)
    assert run(choosing, st.Key(st.Action.QUIT))[0] == st.State()


def test_only_a_long_press_on_the_students_screen_shows_the_crew_screen() -> None:
    hold = CONFIG.crew_hold_s
    assert 1.0 <= hold <= 3.0
    assert not st.holds_for_crew(None, 100.0, CONFIG)  # no finger down
    assert not st.holds_for_crew(100.0, 100.0 + hold * 0.5, CONFIG)  # a student's brief tap
    assert st.holds_for_crew(100.0, 100.0 + hold, CONFIG)
    # the bar the student's screen draws while the finger stays
    assert st.hold_done(None, 100.0, CONFIG) == 0.0
    assert st.hold_done(100.0, 100.0 + hold / 2, CONFIG) == pytest.approx(0.5)
    assert st.hold_done(100.0, 100.0 + hold * 3, CONFIG) == 1.0


def test_late_result_of_a_refused_save_is_not_taken_for_the_retake() -> None:
    state, _ = run(capturing(), still())
    assert state.phase is st.Phase.SAVING
    late, _ = run(
        state, st.ShotSaved(None, "refused-uuid", "refused"), st.SaveFailed("x", status="refused")
    )
    assert late.phase is st.Phase.SAVING
    done, _ = run(late, st.ShotSaved(4, "u", "accepted"))
    assert done.phase is st.Phase.SAVED and done.seq == 4


# -- the session chooser ---------------------------------------------------------

SCOPES = (
    st.choosing.ScopeCount("10730", "兰州大学", "普通生", "信息学院", 120),
    st.choosing.ScopeCount("10730", "兰州大学", "研究生", "信息学院", 30),
)


def test_session_key_opens_the_chooser_and_keys_choose_a_session() -> None:
    state, effects = run(st.State(), st.Key(st.Action.SESSION))
    state, _ = run(state, st.ScopesLoaded(SCOPES))
    assert state.chooser is not None and state.chooser.level == "school"
    state, _ = run(state, st.Key(st.Action.ACCEPT))  # the one school
    assert state.chooser is not None and state.chooser.level == "category"
    state, _ = run(state, st.Key(st.Action.DOWN))
    state, _ = run(state, st.Key(st.Action.DOWN))  # 研究生
    state, _ = run(state, st.Key(st.Action.ACCEPT))
    assert state.chooser is not None and state.chooser.level == "department"
    state, _ = run(state, st.Key(st.Action.QUIT))  # escape: one level back, no PIN asked
    assert state.chooser is not None and state.chooser.level == "category"
    assert state.pin_entry is None
    state, _ = run(state, st.Key(st.Action.ACCEPT))  # 全部 类型
    state, effects = run(state, st.Touched(0))  # 全部 院系, tapped
    assert state.chooser is None
    assert kinds(effects, st.OpenSession) == [st.OpenSession(st.choosing.Choice("10730", "", ""))]


def test_a_school_without_roster_rows_needs_the_crew_to_confirm_collection_codes() -> None:
    state, _ = run(st.State(), st.ScopesLoaded(SCOPES))
    for digit in "99999":
        state, _ = run(state, st.Key(st.Action.DIGIT, digit))
    state, effects = run(state, st.Key(st.Action.ACCEPT))
    assert state.chooser is not None and state.chooser.level == "code" and not effects
    state, effects = run(state, st.Key(st.Action.ACCEPT))
    [opened_session] = kinds(effects, st.OpenSession)
    assert opened_session.choice == st.choosing.Choice("99999", collection_codes=True)


def test_a_touch_only_crew_opens_the_chooser_and_confirms_collection_codes() -> None:
    state, effects = run(st.State(), st.Pressed(st.OPEN))  # a tap on the closed screen
    assert kinds(effects, st.LoadScopes)
    plans = (st.choosing.SchoolPlan("10055", "南开大学", 320),)
    state, _ = run(state, st.ScopesLoaded(SCOPES, plans=plans))
    assert state.chooser is not None and state.chooser.plans == plans
    for button in "10055":
        state, _ = run(state, st.Pressed(button))
    state, effects = run(state, st.Pressed("accept"))
    assert state.chooser is not None and state.chooser.level == "code" and not effects
    state, effects = run(state, st.Pressed("accept"))
    [opened_session] = kinds(effects, st.OpenSession)
    assert opened_session.choice == st.choosing.Choice("10055", collection_codes=True)
    _, effects = run(opened(), st.Pressed(st.OPEN))  # a session is open: a tap does nothing
    assert not effects
    state, _ = run(st.State(), st.PinRequired())
    _, effects = run(state, st.Pressed(st.OPEN))  # no session before a new PIN
    assert not effects


def test_scopes_arriving_with_a_session_open_do_not_open_the_chooser() -> None:
    state, _ = run(opened(), st.ScopesLoaded(SCOPES))
    assert state.chooser is None


# -- the factory PIN on a real kiosk ------------------------------------------------


def test_a_real_kiosk_with_the_factory_pin_makes_the_crew_set_one_first() -> None:
    state, _ = run(st.State(), st.PinRequired())
    assert state.new_pin is not None
    state, effects = run(state, st.Key(st.Action.SESSION))
    assert state.new_pin is not None and not effects  # no session before a new PIN

    def type_in(state: st.State, digits: str) -> tuple[st.State, tuple[st.Effect, ...]]:
        for digit in digits:
            state, _ = run(state, st.Key(st.Action.DIGIT, digit))
        return run(state, st.Key(st.Action.ACCEPT))

    state, _ = type_in(state, "0000")
    assert state.new_pin is not None and state.new_pin.problem == "pin.too_simple"
    state, _ = type_in(state, "4821")
    state, _ = type_in(state, "4822")
    assert state.new_pin is not None and state.new_pin.problem == "pin.mismatch"
    state, _ = type_in(state, "4821")
    state, effects = type_in(state, "4821")
    assert state.new_pin is None and kinds(effects, st.SavePin) == [st.SavePin("4821")]
    state, effects = run(state, st.PinSaved())
    assert "crew_pin_set" in logs(effects)
    _, effects = run(state, st.Key(st.Action.SESSION))
    assert kinds(effects, st.LoadScopes)


def test_the_new_pin_is_set_on_the_touch_pad() -> None:
    from kiosk import pad

    state, _ = run(st.State(), st.PinRequired())
    typed = [st.Pressed(b) for b in ("4", "8", "9", pad.DELETE, "2", "1", pad.ACCEPT)]
    state, _ = run(state, *typed)
    assert state.new_pin == st.NewPin(first="4821")
    state, _ = run(state, st.Pressed("4"), st.Pressed(pad.BACK))  # back: start again
    assert state.new_pin == st.NewPin()
    state, _ = run(state, *[st.Pressed(d) for d in "1111"], st.Pressed(pad.ACCEPT))
    assert state.new_pin is not None and state.new_pin.problem == "pin.too_simple"
    state, _ = run(state, *[st.Pressed(d) for d in "123456789"])
    assert state.new_pin is not None and state.new_pin.typed == "12345678"  # 8 digits at most
    state, effects = run(
        state, st.Pressed(pad.ACCEPT), st.Pressed("1"), st.Pressed("2"), st.Pressed(st.OPEN)
    )
    assert state.new_pin is not None and not effects  # no chooser before a new PIN
    state, effects = run(state, *[st.Pressed(d) for d in "345678"], st.Pressed(pad.ACCEPT))
    assert state.new_pin is None and kinds(effects, st.SavePin) == [st.SavePin("12345678")]


def test_needs_new_pin_only_on_a_real_kiosk_with_the_factory_pin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kiosk import crewpin
    from kiosk.config import from_dict

    desk = from_dict({"camera": {"backend": "sim"}}).with_data_dir(tmp_path)
    real = from_dict({"scanner": {"simulate": False}}).with_data_dir(tmp_path)
    assert not crewpin.needs_new_pin(desk) and crewpin.needs_new_pin(real)
    crewpin.save_pin(real, "4821")
    assert not crewpin.needs_new_pin(real)
    assert crewpin.with_pin_in_force(real).station.crew_pin == "4821"
