"""The station's state machine: what the kiosk does next, decided without I/O.

Why pure: every path a student, a card or a crew key can take through the
shooting room is a plain unit test here, and the main loop (kiosk/app.py)
stays a dumb pump. :func:`step` takes the current :class:`State` and one
event (a scan already looked up in the roster, a judged preview frame, a
judged still, a crew key, a timer tick, a device status) and returns the next
state plus a tuple of effects for the app to carry out (take a still, save a
shot, add a walk-in, log an event ...). Results of effects come back as
events. Time is whatever ``now`` the events carry (monotonic seconds), so
countdowns and timeouts are data, never sleeps.

This module imports no pygame, picamera2, evdev or mediapipe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk import chooser as choosing
from kiosk import pad
from kiosk.capture.verdict import HOLD_STILL_ZH, RETAKE_ZH, Assessment, Reason
from kiosk.config import StationConfig
from kiosk.crewpin import MAX_DIGITS, check_new_pin
from kiosk.scanner.base import DeviceStatus, Identity
from kiosk.student import Student


class Phase(StrEnum):
    CLOSED = "closed"  # no session open: the crew opens one
    IDLE = "idle"  # attract screen: 请扫描学生证或身份证
    IDENTIFIED = "identified"  # roster row shown; crew may confirm
    FRAMING = "framing"  # live preview, hints, head guide
    COUNTDOWN = "countdown"
    CAPTURING = "capturing"  # still requested, waiting for it and its verdict
    REVIEW = "review"  # refused still shown with its reasons, then retake
    CREW_DECISION = "crew_decision"  # too many refusals: accept anyway, retake or skip
    SAVING = "saving"  # accepted still shown while it is written
    SAVED = "saved"  # green tick, 拍摄序号
    UNKNOWN = "unknown"  # scan not in the roster: walk-in or send away
    WRONG_SESSION = "wrong_session"  # other school or 类型 than the open session
    ALREADY_DONE = "already_done"  # earlier photo shown: retake or skip
    FAILSAFE = "failsafe"  # a handler failed; the student is kept


class Action(StrEnum):
    """Crew keys, after the app has mapped the physical key (config) to a meaning."""

    SHUTTER = "shutter"
    ACCEPT = "accept"
    RETAKE = "retake"
    SKIP = "skip"
    WALK_IN = "walk_in"
    SESSION = "session"  # open or close the session
    QUIT = "quit"  # asks for the crew PIN
    DIGIT = "digit"  # a PIN digit (Key.text)
    DELETE = "delete"  # the last typed digit off (backspace, the pad's delete)
    CANCEL = "cancel"
    UP = "up"  # the session chooser's cursor
    DOWN = "down"


# -- what the station knows -------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    id: int
    school_code: str
    category: str
    department: str = ""
    school_name: str = ""


@dataclass(frozen=True)
class EarlierShot:
    """The student's last delivered shot, shown when they come back."""

    uuid: str
    seq: int | None
    file: str  # relative to the data folder
    taken_at: str


@dataclass(frozen=True)
class Subject:
    """Who is in front of the camera: a roster student, or only a collection code."""

    identity: Identity
    student: Student | None
    collection_code: str | None = None

    @property
    def key(self) -> str:
        """Same person, same key: two scans of one student compare equal."""
        if self.student is not None and self.student.id is not None:
            return f"student:{self.student.id}"
        return f"{self.identity.kind}:{self.identity.value}"

    @property
    def student_id(self) -> int | None:
        return self.student.id if self.student is not None else None


@dataclass(frozen=True)
class Notice:
    """A message for the screens: ``code`` picks the text, ``detail`` fills it."""

    code: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StillResult:
    """A still, judged and (if a face was found) cropped to the official photo."""

    assessment: Assessment
    jpeg: bytes | None  # the official 480 x 640 JPEG; None when cropping failed
    camera: dict[str, Any] = field(default_factory=dict)  # exposure, gain, lens position
    error: str = ""  # why there is no jpeg (crop error)


@dataclass(frozen=True)
class Refusal:
    """A refused still, kept for the crew screen after the student has moved on."""

    name: str  # the student's name, or a masked collection code
    reasons: tuple[Reason, ...]
    error: str = ""  # no crop was possible (no reasons to show)


@dataclass(frozen=True)
class NewPin:
    """The crew setting this kiosk's PIN: typed twice; ``problem`` is a catalogue key."""

    first: str = ""
    typed: str = ""
    problem: str = ""


@dataclass(frozen=True)
class State:
    phase: Phase = Phase.CLOSED
    session: SessionInfo | None = None
    subject: Subject | None = None
    notice: Notice | None = None
    hint: str | None = None  # the one Chinese hint shown now
    reasons: tuple[Reason, ...] = ()  # of the last judged frame or still
    steady: int = 0  # consecutive good, still frames
    deadline: float | None = None  # when the current phase times out / fires
    countdown_end: float | None = None
    crew_triggered: bool = False
    tries: int = 0  # refused stills in a row for this subject
    still: StillResult | None = None  # last still (review / saving / saved)
    seq: int | None = None  # 拍摄序号 of the saved shot
    earlier: EarlierShot | None = None
    waiting: tuple[Subject, ...] = ()  # scanned ahead, in order
    devices: dict[str, DeviceStatus] = field(default_factory=dict)
    pin_entry: str | None = None  # digits typed after QUIT; None when not asked
    pin_wrong: bool = False  # the last PIN typed was wrong (said until the next digit)
    resume: Phase | None = None  # where FAILSAFE goes back to
    exiting: bool = False
    chooser: choosing.Chooser | None = None  # the crew is choosing a session
    refusal: Refusal | None = None  # the last refused still: who and why (crew screen)
    new_pin: NewPin | None = None  # the factory PIN must be replaced before a session
    end_asked: float | None = None  # 结束 tapped once: a second tap before this time ends it


# -- events -------------------------------------------------------------------


@dataclass(frozen=True)
class Scanned:
    """A scan, looked up: every roster row the identity matches (any school).

    ``earlier`` is the student's last delivered shot, when there is one.
    """

    identity: Identity
    candidates: tuple[Student, ...]
    earlier: dict[int, EarlierShot] = field(default_factory=dict)  # by student id
    now: float = 0.0


@dataclass(frozen=True)
class FrameJudged:
    assessment: Assessment
    motion: float | None = None  # face movement since the last judged frame, x frame width
    now: float = 0.0


@dataclass(frozen=True)
class StillJudged:
    result: StillResult
    now: float = 0.0


@dataclass(frozen=True)
class StillFailed:
    message: str
    now: float = 0.0


@dataclass(frozen=True)
class ShotSaved:
    seq: int | None
    uuid: str
    status: str
    now: float = 0.0


@dataclass(frozen=True)
class SaveFailed:
    message: str
    now: float = 0.0
    status: str = ""  # of the shot that failed (refused ones do not stop the student)


@dataclass(frozen=True)
class WalkInAdded:
    student: Student
    now: float = 0.0


@dataclass(frozen=True)
class SessionOpened:
    session: SessionInfo
    now: float = 0.0


@dataclass(frozen=True)
class SessionClosed:
    now: float = 0.0


@dataclass(frozen=True)
class Key:
    action: Action
    text: str = ""
    now: float = 0.0


@dataclass(frozen=True)
class Tick:
    now: float


@dataclass(frozen=True)
class ScopesLoaded:
    """The roster's schools, 类型 and 院系 with counts, for the session chooser."""

    scopes: tuple[choosing.ScopeCount, ...]
    plans: tuple[choosing.SchoolPlan, ...] = ()
    now: float = 0.0


@dataclass(frozen=True)
class PinRequired:
    """A real kiosk still has the factory PIN: the crew sets one before shooting."""

    now: float = 0.0


@dataclass(frozen=True)
class PinSaved:
    now: float = 0.0


@dataclass(frozen=True)
class Touched:
    """A tap on line ``index`` of the session chooser (touchscreen or mouse)."""

    index: int
    now: float = 0.0


@dataclass(frozen=True)
class Pressed:
    """A touch button: the session chooser's (kiosk/chooser.py ``buttons``), the
    digit pad of a crew PIN screen (kiosk/pad.py), a crew key's button
    (:func:`crew_actions`), ``OPEN`` (a tap on a closed station's screen: the
    chooser for a touch-only crew) or ``ELSEWHERE`` (a tap on no button)."""

    button: str
    now: float = 0.0


OPEN = "open"
ELSEWHERE = "elsewhere"
# 结束 on the touch row asks once more: a second tap within this many seconds
# ends the session, anything else (another tap, a key, a scan) keeps it open.
END_CONFIRM_S = 4.0


@dataclass(frozen=True)
class DeviceChanged:
    status: DeviceStatus
    now: float = 0.0


Event = (
    Scanned
    | FrameJudged
    | StillJudged
    | StillFailed
    | ShotSaved
    | SaveFailed
    | WalkInAdded
    | SessionOpened
    | SessionClosed
    | Key
    | Tick
    | DeviceChanged
    | ScopesLoaded
    | Touched
    | Pressed
    | PinRequired
    | PinSaved
)


# -- effects ------------------------------------------------------------------


@dataclass(frozen=True)
class TakeStill:
    pass


@dataclass(frozen=True)
class LockExposure:
    """The face is good: hold exposure and white balance for this student's shot."""


@dataclass(frozen=True)
class UnlockExposure:
    pass


@dataclass(frozen=True)
class RestartCamera:
    reason: str


@dataclass(frozen=True)
class SaveShot:
    subject: Subject
    session_id: int
    result: StillResult
    status: str  # accepted | refused | flagged (crew accepted a refused still)


@dataclass(frozen=True)
class AddWalkIn:
    identity: Identity
    session: SessionInfo


@dataclass(frozen=True)
class OpenSession:
    """Open the crew's choice, or (None) the session the station was started with."""

    choice: choosing.Choice | None = None


@dataclass(frozen=True)
class SavePin:
    """Keep the crew's new PIN for this kiosk (answered by PinSaved)."""

    pin: str


@dataclass(frozen=True)
class LoadScopes:
    """Read the roster's choices for the session chooser (answered by ScopesLoaded)."""


@dataclass(frozen=True)
class CloseSession:
    session_id: int


@dataclass(frozen=True)
class LogEvent:
    kind: str
    message: str = ""
    level: str = "info"
    student_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Exit:
    pass


Effect = (
    TakeStill
    | LockExposure
    | UnlockExposure
    | RestartCamera
    | SaveShot
    | AddWalkIn
    | OpenSession
    | LoadScopes
    | SavePin
    | CloseSession
    | LogEvent
    | Exit
)


@dataclass(frozen=True)
class Transition:
    state: State
    effects: tuple[Effect, ...] = ()


# Phases in which a student is being photographed: a new scan queues behind.
BUSY = frozenset(
    {
        Phase.FRAMING,
        Phase.COUNTDOWN,
        Phase.CAPTURING,
        Phase.REVIEW,
        Phase.CREW_DECISION,
        Phase.SAVING,
        Phase.FAILSAFE,
    }
)
# Phases with a subject on screen that a new scan simply replaces.
REPLACEABLE = frozenset(
    {
        Phase.IDLE,
        Phase.IDENTIFIED,
        Phase.SAVED,
        Phase.UNKNOWN,
        Phase.WRONG_SESSION,
        Phase.ALREADY_DONE,
    }
)


# The crew screen's touch buttons during a session, per phase: what a crew
# without a keyboard needs mid-session (docs/station.md). Each is a key's action.
_PHASE_ACTIONS: dict[Phase, tuple[Action, ...]] = {
    Phase.IDENTIFIED: (Action.ACCEPT, Action.SKIP),
    Phase.FRAMING: (Action.SHUTTER, Action.SKIP),
    Phase.COUNTDOWN: (Action.SKIP,),
    Phase.REVIEW: (Action.RETAKE, Action.SKIP),
    Phase.CREW_DECISION: (Action.ACCEPT, Action.RETAKE, Action.SKIP),
    Phase.UNKNOWN: (Action.SKIP,),
    Phase.WRONG_SESSION: (Action.SKIP,),
    Phase.ALREADY_DONE: (Action.RETAKE, Action.SKIP),
}


def crew_actions(state: State) -> tuple[Action, ...]:
    """The keys the crew screen offers as touch buttons now: the phase's own,
    then ending the session (never under a student being photographed) and
    leaving (asks the PIN). While a session is chosen, only leaving (beside the
    chooser's own buttons); none while a PIN is asked (the pad's), nor on a
    closed station's screen (a tap opens the chooser, which has 退出)."""
    if state.new_pin is not None or state.pin_entry is not None:
        return ()
    if state.chooser is not None:
        return (Action.QUIT,)
    if state.session is None:
        return ()
    actions = _PHASE_ACTIONS.get(state.phase, ())
    if state.phase is Phase.UNKNOWN and _walk_in_possible(state):
        actions = (Action.WALK_IN, *actions)
    if state.phase not in BUSY:
        actions = (*actions, Action.SESSION)
    return (*actions, Action.QUIT)


def hold_done(pressed_at: float | None, now: float, config: StationConfig) -> float:
    """How far a finger on the student's screen is towards showing the crew's
    (0 to 1; the screen draws it as a bar, so the crew sees the press count).

    The student stands at the screen and may touch it: a brief tap must not
    hide their preview mid-framing, a press held ``crew_hold_s`` is the crew's
    deliberate gesture (the crew screen's key help says so). ``pressed_at``:
    when the finger (or mouse button) went down, None when it is up."""
    if pressed_at is None:
        return 0.0
    return min(1.0, max(0.0, (now - pressed_at) / config.crew_hold_s))


def holds_for_crew(pressed_at: float | None, now: float, config: StationConfig) -> bool:
    """Has a finger held the student's screen long enough to show the crew's?"""
    return hold_done(pressed_at, now, config) >= 1.0


def _end_tapped(state: State, event: Pressed) -> Transition | None:
    """结束 tapped: the first tap asks (the crew screen says tap again); a second
    one in time is the session key. None: not 结束, or a second tap in time."""
    if event.button != Action.SESSION or Action.SESSION not in crew_actions(state):
        return None
    if state.end_asked is not None and event.now <= state.end_asked:
        return None
    asked = dataclasses.replace(state, end_asked=event.now + END_CONFIRM_S)
    return Transition(asked, (LogEvent("session_end_asked"),))


def _end_kept(state: State, event: Event) -> bool:
    """Anything but 结束 tapped again (another tap, a key, a scan, time up)
    cancels a 结束 asked once."""
    if state.end_asked is None:
        return False
    if isinstance(event, Tick):
        return event.now > state.end_asked
    if isinstance(event, Pressed) and event.button == Action.SESSION:
        return False
    return isinstance(event, Key | Pressed | Touched | Scanned | SessionClosed)


def _walk_in_possible(state: State) -> bool:
    subject = state.subject
    return subject is not None and subject.identity.kind in ("id_number", "student_number")


# -- the transition function ----------------------------------------------


def step(state: State, event: Event, config: StationConfig) -> Transition:
    """The next state and what to do, for one event."""
    if isinstance(event, DeviceChanged):
        return _device(state, event)
    if isinstance(event, PinRequired):
        return Transition(dataclasses.replace(state, new_pin=NewPin()))
    if isinstance(event, PinSaved):
        return Transition(state, (LogEvent("crew_pin_set", "the factory PIN was replaced"),))
    if _end_kept(state, event):
        state = dataclasses.replace(state, end_asked=None)
    if state.new_pin is not None and isinstance(event, Key | Pressed):
        key = _as_key(event)
        return Transition(state) if key is None else _new_pin(state, state.new_pin, key)
    if state.pin_entry is not None and isinstance(event, Key | Pressed):
        key = _as_key(event)
        return Transition(state) if key is None else _pin(state, key, config)
    if isinstance(event, Pressed) and event.button in crew_actions(state):
        # a crew screen's touch button: the key it names, under the keys' rules
        # (结束 asks once more first; 退出 asks the PIN, from the chooser too)
        asking = _end_tapped(state, event)
        if asking is not None:
            return asking
        if event.button == Action.QUIT:
            return _pin(dataclasses.replace(state, end_asked=None), Key(Action.QUIT), config)
        event = Key(Action(event.button), now=event.now)
        state = dataclasses.replace(state, end_asked=None)
    if state.chooser is not None and isinstance(event, (Key, Touched, Pressed)):
        return _choosing(state, state.chooser, event)
    if isinstance(event, ScopesLoaded):
        if state.session is not None or state.phase is not Phase.CLOSED:
            return Transition(state)
        chooser = choosing.Chooser(event.scopes, plans=event.plans)
        return Transition(dataclasses.replace(state, chooser=chooser))
    if isinstance(event, Pressed):
        opening = (
            event.button == OPEN
            and state.session is None
            and state.pin_entry is None
            and state.new_pin is None
        )
        return _session_key(state) if opening else Transition(state)
    if isinstance(event, Key) and event.action is Action.QUIT:
        return _pin(state, event, config)
    if isinstance(event, Key) and event.action is Action.SESSION:
        return _session_key(state)
    if isinstance(event, SessionOpened):
        return Transition(
            _idle(dataclasses.replace(state, session=event.session, waiting=())),
            (LogEvent("station_ready", f"session {event.session.id}"),),
        )
    if isinstance(event, SessionClosed):
        return Transition(_clear(state, Phase.CLOSED, session=None, waiting=()))
    if isinstance(event, Scanned):
        return _scanned(state, event, config)
    handler = _HANDLERS.get(state.phase)
    if handler is None:
        return Transition(state)
    return handler(state, event, config)


def failsafe(
    state: State, error: BaseException | str, now: float, config: StationConfig
) -> Transition:
    """A handler or an effect raised: keep the student, show it, resume shortly.

    The app calls this instead of :func:`step` when anything throws, so no
    exception ever ends the main loop.
    """
    resume = state.resume if state.phase is Phase.FAILSAFE else state.phase
    if resume in (Phase.CAPTURING, Phase.COUNTDOWN, Phase.SAVING, Phase.REVIEW):
        resume = Phase.FRAMING
    if resume is Phase.FRAMING and state.subject is None:
        resume = Phase.IDLE
    next_state = dataclasses.replace(
        state,
        phase=Phase.FAILSAFE,
        resume=resume,
        notice=Notice("failsafe", {"error": _short(error)}),
        deadline=now + config.failsafe_s,
        countdown_end=None,
        steady=0,
    )
    return Transition(
        next_state,
        (
            LogEvent(
                "station_error",
                _short(error),
                level="error",
                student_id=state.subject.student_id if state.subject else None,
                detail={"phase": str(state.phase)},
            ),
            UnlockExposure(),
        ),
    )


def _short(error: BaseException | str) -> str:
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"[:200]
    return str(error)[:200]


# -- helpers -------------------------------------------------------------------


def _subject_name(subject: Subject) -> str:
    if subject.student is not None:
        return subject.student.name
    code = subject.collection_code or subject.identity.value
    return code if len(code) <= 8 else f"{code[:4]}…{code[-4:]}"


def _clear(state: State, phase: Phase, **changes: Any) -> State:
    """Enter ``phase`` with the per-student fields reset."""
    base: dict[str, Any] = dict(
        phase=phase,
        subject=None,
        notice=None,
        hint=None,
        reasons=(),
        steady=0,
        deadline=None,
        countdown_end=None,
        crew_triggered=False,
        tries=0,
        still=None,
        seq=None,
        earlier=None,
        resume=None,
    )
    base.update(changes)
    return dataclasses.replace(state, **base)


def _idle(state: State) -> State:
    return _clear(state, Phase.IDLE if state.session is not None else Phase.CLOSED)


def _next_or_idle(state: State, now: float, config: StationConfig) -> Transition:
    """The current student is done: take the next one who scanned ahead, or idle."""
    if state.waiting:
        first, rest = state.waiting[0], state.waiting[1:]
        return _identified(dataclasses.replace(state, waiting=rest), first, now, config)
    return Transition(_idle(state), (UnlockExposure(),))


def _identified(state: State, subject: Subject, now: float, config: StationConfig) -> Transition:
    deadline = now + config.confirm_s if config.confirm_s > 0 else now + config.notice_timeout_s
    return Transition(
        _clear(state, Phase.IDENTIFIED, subject=subject, deadline=deadline),
        (
            UnlockExposure(),
            LogEvent("student_identified", subject.identity.kind, student_id=subject.student_id),
        ),
    )


def _framing(state: State, now: float, config: StationConfig, **changes: Any) -> State:
    values: dict[str, Any] = dict(
        phase=Phase.FRAMING,
        notice=None,
        hint=None,
        reasons=(),
        steady=0,
        deadline=now + config.framing_timeout_s,
        countdown_end=None,
        crew_triggered=False,
        still=None,
        seq=None,
        earlier=None,
        resume=None,
    )
    values.update(changes)
    return dataclasses.replace(state, **values)


def _countdown(state: State, now: float, config: StationConfig, crew: bool) -> Transition:
    end = now + config.countdown_s
    effects: tuple[Effect, ...] = () if crew else (LockExposure(),)
    return Transition(
        dataclasses.replace(
            state, phase=Phase.COUNTDOWN, countdown_end=end, deadline=end, crew_triggered=crew
        ),
        effects,
    )


def _capture(state: State, now: float, config: StationConfig) -> Transition:
    return Transition(
        dataclasses.replace(
            state,
            phase=Phase.CAPTURING,
            countdown_end=None,
            deadline=now + config.capture_timeout_s,
        ),
        (TakeStill(),),
    )


# -- scans ------------------------------------------------------------------


def resolve(event: Scanned, session: SessionInfo) -> tuple[str, Subject | None, Any]:
    """Decide what a looked-up scan means for the open session.

    Returns (outcome, subject, extra): outcome is ``student`` (photograph
    them), ``already_done`` (extra: the earlier shot), ``collection_code``
    (roster-less shot keyed by the code), ``wrong_session`` (extra: the
    student who belongs elsewhere), ``ambiguous`` (several matches in this
    session) or ``unknown``.
    """
    identity = event.identity
    here = [
        s
        for s in event.candidates
        if s.school_code == session.school_code
        and (not session.category or s.category == session.category)
    ]
    if len(here) == 1:
        student = here[0]
        subject = Subject(identity, student, student.collection_code)
        earlier = event.earlier.get(student.id) if student.id is not None else None
        if earlier is not None:
            return "already_done", subject, earlier
        return "student", subject, None
    if len(here) > 1:
        return "ambiguous", None, len(here)
    if event.candidates:
        return "wrong_session", None, event.candidates[0]
    if identity.kind == "collection_code":
        return "collection_code", Subject(identity, None, identity.value), None
    return "unknown", None, None


def _scanned(state: State, event: Scanned, config: StationConfig) -> Transition:
    now = event.now
    if state.session is None:
        return Transition(
            dataclasses.replace(state, notice=Notice("no_session")),
            (LogEvent("scan_without_session", event.identity.kind, level="warning"),),
        )
    outcome, subject, extra = resolve(event, state.session)
    log_id = subject.student_id if subject else None

    if state.phase in BUSY and state.subject is not None:
        # Someone is being photographed: the same student again is a double
        # scan; anyone else waits their turn (shown on the crew screen).
        if subject is not None and subject.key == state.subject.key:
            return Transition(
                state, (LogEvent("scanned_twice", "while being photographed", student_id=log_id),)
            )
        if outcome in ("student", "collection_code") and subject is not None:
            if any(w.key == subject.key for w in state.waiting):
                return Transition(
                    state, (LogEvent("scanned_twice", "already waiting", student_id=log_id),)
                )
            return Transition(
                dataclasses.replace(state, waiting=(*state.waiting, subject)),
                (LogEvent("student_queued", str(len(state.waiting) + 1), student_id=log_id),),
            )
        # Problems with a scan made ahead are shown to the crew without
        # interrupting the shot in progress.
        return Transition(
            state,
            (LogEvent(f"scan_{outcome}", event.identity.kind, level="warning", student_id=log_id),),
        )

    deadline = now + config.notice_timeout_s
    if outcome == "student" or outcome == "collection_code":
        assert subject is not None
        if (
            state.phase is Phase.SAVED
            and state.subject is not None
            and subject.key == state.subject.key
        ):
            # Scanned again right after the shot: nothing to do.
            return Transition(state, (LogEvent("scanned_twice", "just saved", student_id=log_id),))
        return _identified(state, subject, now, config)
    if outcome == "already_done":
        assert subject is not None
        return Transition(
            _clear(
                state,
                Phase.ALREADY_DONE,
                subject=subject,
                earlier=extra,
                deadline=deadline,
                notice=Notice("already_photographed", {"seq": extra.seq}),
            ),
            (LogEvent("already_photographed", "", level="warning", student_id=log_id),),
        )
    if outcome == "wrong_session":
        other: Student = extra
        notice = Notice(
            "wrong_session",
            {
                "school_code": other.school_code,
                "school_name": other.school_name,
                "category": other.category,
                "session_school": state.session.school_code,
                "session_category": state.session.category,
            },
        )
        return Transition(
            _clear(state, Phase.WRONG_SESSION, notice=notice, deadline=deadline),
            (
                LogEvent(
                    "wrong_session",
                    f"{other.school_code} {other.category}",
                    level="warning",
                    student_id=other.id,
                ),
            ),
        )
    if outcome == "ambiguous":
        return Transition(
            _clear(
                state,
                Phase.UNKNOWN,
                notice=Notice("ambiguous", {"count": extra}),
                deadline=deadline,
                subject=Subject(event.identity, None),
            ),
            (LogEvent("scan_ambiguous", f"{extra} matches", level="warning"),),
        )
    return Transition(
        _clear(
            state,
            Phase.UNKNOWN,
            subject=Subject(event.identity, None),
            deadline=deadline,
            notice=Notice("unknown", {"kind": event.identity.kind}),
        ),
        (LogEvent("scan_unknown", event.identity.kind, level="warning"),),
    )


# -- per-phase handlers ------------------------------------------------------


def _on_closed(state: State, event: Event, config: StationConfig) -> Transition:
    return Transition(state)


def _on_idle(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Tick) and state.notice is not None and state.deadline is None:
        return Transition(dataclasses.replace(state, deadline=event.now + config.review_s))
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return Transition(dataclasses.replace(state, notice=None, deadline=None))
    return Transition(state)


def _on_identified(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Key):
        if event.action in (Action.ACCEPT, Action.SHUTTER):
            return Transition(_framing(state, event.now, config, tries=0))
        if event.action is Action.SKIP:
            return Transition(_idle(state), (LogEvent("student_skipped", student_id=_sid(state)),))
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        if config.confirm_s > 0:
            return Transition(_framing(state, event.now, config, tries=0))
        return Transition(
            _idle(state), (LogEvent("timeout", "identified", student_id=_sid(state)),)
        )
    return Transition(state)


def _on_framing(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, FrameJudged):
        a = event.assessment
        still_enough = event.motion is None or event.motion <= config.steady_max_motion
        steady = state.steady + 1 if a.accepted and still_enough else 0
        hint = a.hint_zh if not a.accepted else (HOLD_STILL_ZH if not still_enough else None)
        next_state = dataclasses.replace(state, steady=steady, hint=hint, reasons=a.reasons)
        if steady >= config.steady_frames:
            return _countdown(next_state, event.now, config, crew=False)
        return Transition(next_state)
    if isinstance(event, Key):
        if event.action is Action.SHUTTER:
            return _countdown(state, event.now, config, crew=True)
        if event.action is Action.SKIP:
            return _next_or_idle(state, event.now, config)
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        gone = _next_or_idle(state, event.now, config)
        return Transition(
            gone.state,
            (*gone.effects, LogEvent("timeout", "framing", student_id=_sid(state))),
        )
    return Transition(state)


def _on_countdown(state: State, event: Event, config: StationConfig) -> Transition:
    if (
        isinstance(event, FrameJudged)
        and not state.crew_triggered
        and not event.assessment.accepted
    ):
        # The face went bad during an automatic countdown: back to framing.
        return Transition(
            _framing(
                state,
                event.now,
                config,
                hint=event.assessment.hint_zh,
                reasons=event.assessment.reasons,
                tries=state.tries,
            ),
            (UnlockExposure(),),
        )
    if (
        isinstance(event, Tick)
        and state.countdown_end is not None
        and event.now >= state.countdown_end
    ):
        return _capture(state, event.now, config)
    if isinstance(event, Key):
        if event.action is Action.SHUTTER:
            return _capture(state, event.now, config)
        if event.action is Action.SKIP:
            return _next_or_idle(state, event.now, config)
    return Transition(state)


def _on_capturing(state: State, event: Event, config: StationConfig) -> Transition:
    assert state.session is not None and state.subject is not None
    if isinstance(event, StillJudged):
        result = event.result
        if result.assessment.accepted and result.jpeg is not None:
            return Transition(
                dataclasses.replace(
                    state, phase=Phase.SAVING, still=result, reasons=(), hint=None, deadline=None
                ),
                (SaveShot(state.subject, state.session.id, result, "accepted"),),
            )
        tries = state.tries + 1
        reasons = result.assessment.reasons
        effects: list[Effect] = [
            LogEvent(
                "shot_refused",
                ",".join(reasons) or result.error,
                student_id=_sid(state),
                detail={"try": tries, "reasons": list(reasons), "error": result.error},
            ),
            UnlockExposure(),
        ]
        if result.jpeg is not None:
            effects.insert(0, SaveShot(state.subject, state.session.id, result, "refused"))
        hint = result.assessment.hint_zh or RETAKE_ZH
        state = dataclasses.replace(
            state, refusal=Refusal(_subject_name(state.subject), reasons, result.error)
        )
        if tries >= config.max_auto_tries:
            return Transition(
                dataclasses.replace(
                    state,
                    phase=Phase.CREW_DECISION,
                    still=result,
                    tries=tries,
                    reasons=reasons,
                    hint=hint,
                    deadline=event.now + config.notice_timeout_s,
                    notice=Notice("crew_decision", {"tries": tries}),
                ),
                tuple(effects),
            )
        return Transition(
            dataclasses.replace(
                state,
                phase=Phase.REVIEW,
                still=result,
                tries=tries,
                reasons=reasons,
                hint=hint,
                deadline=event.now + config.review_s,
            ),
            tuple(effects),
        )
    if isinstance(event, StillFailed):
        return Transition(
            _framing(
                state,
                event.now,
                config,
                tries=state.tries,
                notice=Notice("camera_problem", {"error": event.message}),
            ),
            (LogEvent("still_failed", event.message, level="error", student_id=_sid(state)),),
        )
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return Transition(
            _framing(
                state,
                event.now,
                config,
                tries=state.tries,
                notice=Notice("camera_problem", {"error": "capture timed out"}),
            ),
            (
                RestartCamera("capture timed out"),
                LogEvent("capture_timeout", level="error", student_id=_sid(state)),
            ),
        )
    return Transition(state)


def _on_review(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return Transition(_framing(state, event.now, config, tries=state.tries))
    if isinstance(event, Key):
        if event.action is Action.RETAKE:
            return Transition(_framing(state, event.now, config, tries=state.tries))
        if event.action is Action.SKIP:
            return _next_or_idle(state, event.now, config)
        if event.action is Action.ACCEPT:
            return _crew_accept(state)
    return Transition(state)


def _crew_accept(state: State) -> Transition:
    """The crew overrides a refusal: saved as ``flagged`` (delivered, marked)."""
    assert state.session is not None and state.subject is not None
    if state.still is None or state.still.jpeg is None:
        return Transition(state)  # nothing to accept: no face was cropped
    # An accepted still whose save failed is saved again as accepted.
    status = "accepted" if state.still.assessment.accepted else "flagged"
    return Transition(
        dataclasses.replace(state, phase=Phase.SAVING, deadline=None, notice=None),
        (
            SaveShot(state.subject, state.session.id, state.still, status),
            LogEvent(
                "crew_accepted", ",".join(state.still.assessment.reasons), student_id=_sid(state)
            ),
        ),
    )


def _on_crew_decision(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Key):
        if event.action is Action.ACCEPT:
            return _crew_accept(state)
        if event.action in (Action.RETAKE, Action.SHUTTER):
            return Transition(_framing(state, event.now, config, tries=0))
        if event.action is Action.SKIP:
            skipped = _next_or_idle(state, event.now, config)
            return Transition(
                skipped.state,
                (
                    *skipped.effects,
                    LogEvent("student_skipped", "after refusals", student_id=_sid(state)),
                ),
            )
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        timed_out = _next_or_idle(state, event.now, config)
        return Transition(
            timed_out.state,
            (*timed_out.effects, LogEvent("timeout", "crew_decision", student_id=_sid(state))),
        )
    return Transition(state)


def _on_saving(state: State, event: Event, config: StationConfig) -> Transition:
    # A refused still is saved in the background too; its result may arrive
    # while the retake is being saved and must not be mistaken for it.
    if isinstance(event, ShotSaved | SaveFailed) and event.status == "refused":
        return Transition(state)
    if isinstance(event, ShotSaved):
        return Transition(
            dataclasses.replace(
                state,
                phase=Phase.SAVED,
                seq=event.seq,
                deadline=event.now + config.saved_s,
                notice=None,
            ),
            (UnlockExposure(),),
        )
    if isinstance(event, SaveFailed):
        # Nothing was committed (store.save_shot is all or nothing): keep the
        # student and the photo on screen; the crew retakes or tries again.
        return Transition(
            dataclasses.replace(
                state,
                phase=Phase.CREW_DECISION,
                notice=Notice("save_failed", {"error": event.message}),
                deadline=event.now + config.notice_timeout_s,
            ),
            (LogEvent("save_failed", event.message, level="error", student_id=_sid(state)),),
        )
    return Transition(state)


def _on_saved(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return _next_or_idle(state, event.now, config)
    if isinstance(event, Key) and event.action in (Action.ACCEPT, Action.SKIP):
        return _next_or_idle(state, event.now, config)
    return Transition(state)


def _on_notice(state: State, event: Event, config: StationConfig) -> Transition:
    """UNKNOWN and WRONG_SESSION: the crew adds a walk-in or sends the student away."""
    if isinstance(event, Key):
        if (
            event.action is Action.WALK_IN
            and state.phase is Phase.UNKNOWN
            and state.subject is not None
            and state.session is not None
            and _walk_in_possible(state)
        ):
            return Transition(state, (AddWalkIn(state.subject.identity, state.session),))
        if event.action in (Action.SKIP, Action.CANCEL):
            return _next_or_idle(state, event.now, config)
    if isinstance(event, WalkInAdded):
        subject = Subject(
            state.subject.identity if state.subject else _no_identity(), event.student
        )
        transition = _identified(state, subject, event.now, config)
        return Transition(
            transition.state,
            (*transition.effects, LogEvent("walk_in_added", student_id=event.student.id)),
        )
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return _next_or_idle(state, event.now, config)
    return Transition(state)


def _no_identity() -> Identity:
    return Identity("unrecognised", "", b"", "crew")


def _on_already_done(state: State, event: Event, config: StationConfig) -> Transition:
    if isinstance(event, Key):
        if event.action in (Action.RETAKE, Action.SHUTTER):
            return Transition(
                _framing(state, event.now, config, tries=0),
                (LogEvent("retake_requested", student_id=_sid(state)),),
            )
        if event.action in (Action.SKIP, Action.CANCEL, Action.ACCEPT):
            return _next_or_idle(state, event.now, config)
    if isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline:
        return _next_or_idle(state, event.now, config)
    return Transition(state)


def _on_failsafe(state: State, event: Event, config: StationConfig) -> Transition:
    recover = (
        isinstance(event, Tick) and state.deadline is not None and event.now >= state.deadline
    ) or (isinstance(event, Key) and event.action in (Action.RETAKE, Action.ACCEPT))
    if not recover:
        return Transition(state)
    now = event.now
    resume = state.resume or Phase.IDLE
    if resume is Phase.FRAMING and state.subject is not None:
        return Transition(
            _framing(state, now, config, tries=state.tries), (LogEvent("station_recovered"),)
        )
    if resume in (
        Phase.IDENTIFIED,
        Phase.UNKNOWN,
        Phase.ALREADY_DONE,
        Phase.WRONG_SESSION,
        Phase.CREW_DECISION,
        Phase.SAVED,
    ) and (state.subject is not None or resume is Phase.WRONG_SESSION):
        return Transition(
            dataclasses.replace(
                state,
                phase=resume,
                resume=None,
                deadline=now + config.notice_timeout_s,
                notice=None if resume is not Phase.WRONG_SESSION else state.notice,
            ),
            (LogEvent("station_recovered"),),
        )
    return Transition(_idle(state), (LogEvent("station_recovered"),))


def _sid(state: State) -> int | None:
    return state.subject.student_id if state.subject is not None else None


# -- cross-cutting: devices, session key, PIN --------------------------------


def _device(state: State, event: DeviceChanged) -> Transition:
    status = event.status
    previous = state.devices.get(status.source)
    devices = {**state.devices, status.source: status}
    effects: tuple[Effect, ...] = ()
    if previous is None or previous.state != status.state:
        level = "info" if status.state == "ok" else "error"
        effects = (
            LogEvent(
                f"device_{status.state}", f"{status.source} {status.message}".strip(), level=level
            ),
        )
    # The station keeps its phase and student: a lost scanner only stops new
    # scans, a lost camera only stops new frames; both recover on their own.
    return Transition(dataclasses.replace(state, devices=devices), effects)


def _session_key(state: State) -> Transition:
    if state.phase in BUSY:
        return Transition(state)  # never close under a student being photographed
    if state.session is None:
        return Transition(state, (LoadScopes(),))  # the chooser opens with the roster's choices
    return Transition(state, (CloseSession(state.session.id),))


PIN_PAD = pad.WITH_BACK  # the touch buttons of both crew PIN screens
# What a pad button means on a PIN screen: the key it stands for.
_PAD_ACTIONS = {pad.DELETE: Action.DELETE, pad.ACCEPT: Action.ACCEPT, pad.BACK: Action.CANCEL}


def _as_key(event: Key | Pressed) -> Key | None:
    """A PIN screen's pad button as the key it stands for (keys and taps, one
    set of rules); None: a button the PIN screens do not have."""
    if isinstance(event, Key):
        return event
    if pad.is_digit(event.button):
        return Key(Action.DIGIT, event.button, event.now)
    action = _PAD_ACTIONS.get(event.button)
    return None if action is None else Key(action, now=event.now)


def _new_pin(state: State, entry: NewPin, event: Key) -> Transition:
    """Digits, accept, and accept again with the same digits: the kiosk's own PIN."""
    if event.action in (Action.DIGIT, Action.DELETE):
        button = pad.DELETE if event.action is Action.DELETE else event.text
        typed = pad.typed_after(entry.typed, button, MAX_DIGITS)
        return Transition(dataclasses.replace(state, new_pin=NewPin(entry.first, typed)))
    if event.action in (Action.CANCEL, Action.QUIT):
        return Transition(dataclasses.replace(state, new_pin=NewPin()))
    if event.action is not Action.ACCEPT:
        return Transition(state)
    if not entry.first:
        problem = check_new_pin(entry.typed)
        if problem:
            return Transition(dataclasses.replace(state, new_pin=NewPin(problem=problem)))
        return Transition(dataclasses.replace(state, new_pin=NewPin(first=entry.typed)))
    if entry.typed != entry.first:
        return Transition(dataclasses.replace(state, new_pin=NewPin(problem="pin.mismatch")))
    return Transition(dataclasses.replace(state, new_pin=None), (SavePin(entry.typed),))


def _choosing(
    state: State, current: choosing.Chooser, event: Key | Touched | Pressed
) -> Transition:
    """Keys (and taps) while the crew chooses a session: nothing else reacts to them."""
    result: choosing.Chooser | choosing.Choice | None = current
    if isinstance(event, Touched):
        result = choosing.pick(current, event.index)
    elif isinstance(event, Pressed):
        result = choosing.press(current, event.button)
    elif event.action is Action.UP:
        result = choosing.move(current, -1)
    elif event.action is Action.DOWN:
        result = choosing.move(current, 1)
    elif event.action is Action.DIGIT:
        result = choosing.type_digit(current, event.text)
    elif event.action is Action.DELETE:
        result = choosing.delete_digit(current)
    elif event.action in (Action.ACCEPT, Action.SHUTTER):
        result = choosing.pick(current)
    elif event.action in (Action.CANCEL, Action.QUIT, Action.SESSION, Action.SKIP):
        result = choosing.back(current)
    if isinstance(result, choosing.Choice):
        detail = {
            "school_code": result.school_code,
            "category": result.category,
            "department": result.department,
            "collection_codes": result.collection_codes,
        }
        return Transition(
            dataclasses.replace(state, chooser=None),
            (LogEvent("session_chosen", result.school_code, detail=detail), OpenSession(result)),
        )
    return Transition(dataclasses.replace(state, chooser=result))


def _pin(state: State, event: Key, config: StationConfig) -> Transition:
    """The PIN to leave: it is checked as soon as it is as long as the PIN (or on
    accept); a wrong one is cleared and logged, and the crew types again."""
    if state.pin_entry is None:
        return Transition(dataclasses.replace(state, pin_entry="", pin_wrong=False))
    length = max(len(config.crew_pin), 1)
    if event.action is Action.DIGIT and event.text.isdigit():
        entry = pad.typed_after(state.pin_entry, event.text, length)
        if entry == config.crew_pin:
            return _leave(state)
        if len(entry) >= length:
            return _wrong_pin(state)
        return Transition(dataclasses.replace(state, pin_entry=entry, pin_wrong=False))
    if event.action is Action.DELETE:
        entry = pad.typed_after(state.pin_entry, pad.DELETE, length)
        return Transition(dataclasses.replace(state, pin_entry=entry))
    if event.action is Action.ACCEPT and state.pin_entry:
        return _leave(state) if state.pin_entry == config.crew_pin else _wrong_pin(state)
    if event.action in (Action.CANCEL, Action.QUIT):
        return Transition(dataclasses.replace(state, pin_entry=None, pin_wrong=False))
    return Transition(state)


def _leave(state: State) -> Transition:
    return Transition(
        dataclasses.replace(state, pin_entry=None, exiting=True),
        (LogEvent("station_exit", "crew PIN"), Exit()),
    )


def _wrong_pin(state: State) -> Transition:
    return Transition(
        dataclasses.replace(state, pin_entry="", pin_wrong=True),
        (LogEvent("wrong_pin", level="warning"),),
    )


_HANDLERS = {
    Phase.CLOSED: _on_closed,
    Phase.IDLE: _on_idle,
    Phase.IDENTIFIED: _on_identified,
    Phase.FRAMING: _on_framing,
    Phase.COUNTDOWN: _on_countdown,
    Phase.CAPTURING: _on_capturing,
    Phase.REVIEW: _on_review,
    Phase.CREW_DECISION: _on_crew_decision,
    Phase.SAVING: _on_saving,
    Phase.SAVED: _on_saved,
    Phase.UNKNOWN: _on_notice,
    Phase.WRONG_SESSION: _on_notice,
    Phase.ALREADY_DONE: _on_already_done,
    Phase.FAILSAFE: _on_failsafe,
}
