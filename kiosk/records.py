"""The records thread: the one thread that touches the database while the station runs.

Why a thread of its own: a look-up, a shot's fsyncs and commit, or a crew
screen snapshot must never stall the preview. Work arrives as typed commands:
the station's own effects (:class:`~kiosk.station.SaveShot`,
:class:`~kiosk.station.LogEvent`, :class:`~kiosk.station.AddWalkIn`,
:class:`~kiosk.station.OpenSession`, :class:`~kiosk.station.CloseSession`),
scans straight from the scanner threads (:class:`LookUp`), and the loop's own
requests (:class:`ResumeSession`, :class:`RefreshProgress`). Each result goes
back to the main loop as a station event; nothing here decides what the
station does next.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk import station as st
from kiosk.config import Config
from kiosk.crewpin import save_pin
from kiosk.inbox import Failure, Post, ProgressUpdated
from kiosk.progress import read_progress
from kiosk.roster import Roster
from kiosk.scanner.base import Identity, Scan
from kiosk.store import Session, Shot, Store
from kiosk.student import Student
from kiosk.timings import Timings

log = logging.getLogger(__name__)

Identify = Callable[[Scan], Identity]


@dataclass(frozen=True)
class SessionPlan:
    """The session the station opens when the crew asks (or at start): school, 类型, 院系."""

    school_code: str
    category: str
    department: str = ""


@dataclass(frozen=True)
class LookUp:
    """A scan, to be identified and looked up in the roster."""

    scan: Scan


@dataclass(frozen=True)
class ResumeSession:
    session_id: int


@dataclass(frozen=True)
class RefreshProgress:
    """Read the crew screen's counts again (after a shot, and every few seconds)."""


# The station's effects carried out here, as a tuple for isinstance().
RECORDED = (
    st.SaveShot,
    st.LogEvent,
    st.AddWalkIn,
    st.OpenSession,
    st.CloseSession,
    st.LoadScopes,
    st.SavePin,
)
Command = (
    st.SaveShot
    | st.LogEvent
    | st.AddWalkIn
    | st.OpenSession
    | st.CloseSession
    | st.LoadScopes
    | st.SavePin
    | LookUp
    | ResumeSession
    | RefreshProgress
)


class Records(threading.Thread):
    """Owns a Store connection; every database job of the station runs here."""

    def __init__(
        self,
        config: Config,
        post: Post,
        identify: Identify,
        timings: Timings,
        plan: SessionPlan | None = None,
    ) -> None:
        super().__init__(name="records", daemon=True)
        self.config = config
        self.post = post
        self.identify = identify
        self.timings = timings
        self.plan = plan or SessionPlan(config.station.school_code, config.station.category)
        self.jobs: queue.Queue[tuple[Command, float] | None] = queue.Queue()
        self.session_id: int | None = None

    def submit(self, command: Command) -> None:
        """Queue a command (any thread); its result arrives as an event."""
        self.jobs.put((command, time.monotonic()))

    def close(self) -> None:
        self.jobs.put(None)
        self.join(timeout=5)

    def run(self) -> None:
        store = Store(self.config.db_path)
        roster = Roster(store)
        try:
            while (job := self.jobs.get()) is not None:
                command, submitted = job
                try:
                    self._do(store, roster, command, submitted)
                except Exception as exc:  # never let the records thread die
                    log.exception("records: %s failed", type(command).__name__)
                    if isinstance(command, st.SaveShot):
                        message = f"{type(exc).__name__}: {exc}"
                        self.post(st.SaveFailed(message, time.monotonic(), command.status))
                    else:
                        self.post(Failure(exc))
        finally:
            store.close()

    def _do(self, store: Store, roster: Roster, command: Command, submitted: float) -> None:
        if isinstance(command, LookUp):
            self.post(self._look_up(store, roster, command.scan))
        elif isinstance(command, st.SaveShot):
            self.post(self._save(store, roster, command, submitted))
        elif isinstance(command, st.AddWalkIn):
            student = roster.add_walk_in(
                walk_in_student(command), command.session.id, command.identity.kind
            )
            self.post(st.WalkInAdded(student, now=time.monotonic()))
        elif isinstance(command, st.LogEvent):
            with store.transaction():
                store.log_event(
                    command.kind,
                    command.message,
                    level=command.level,
                    session_id=self.session_id,
                    student_id=command.student_id,
                    detail=command.detail,
                )
        elif isinstance(command, st.SavePin):
            save_pin(self.config, command.pin)
            self.post(st.PinSaved(now=time.monotonic()))
        elif isinstance(command, st.LoadScopes):
            self.post(
                st.ScopesLoaded(
                    tuple(roster.scope_counts()),
                    plans=tuple(roster.school_plans()),
                    now=time.monotonic(),
                )
            )
        elif isinstance(command, st.OpenSession):
            choice = command.choice
            plan = (
                self.plan
                if choice is None
                else SessionPlan(choice.school_code, choice.category, choice.department)
            )
            self._opened(
                store.open_session(
                    station_id=self.config.station.station_id,
                    school_code=plan.school_code,
                    school_name=roster.school_name(plan.school_code),
                    category=plan.category,
                    department=plan.department,
                )
            )
        elif isinstance(command, ResumeSession):
            self._opened(store.session(command.session_id))
        elif isinstance(command, st.CloseSession):
            store.close_session(command.session_id)
            self.session_id = None
            self.post(st.SessionClosed(now=time.monotonic()))
        elif isinstance(command, RefreshProgress) and self.session_id is not None:
            self.post(ProgressUpdated(read_progress(store, self.session_id)))

    def _look_up(self, store: Store, roster: Roster, scan: Scan) -> st.Event:
        identity = self.identify(scan)
        candidates = roster.lookup(identity.kind, identity.value)
        earlier = {
            s.id: _earlier(shot)
            for s in candidates
            if s.id is not None and (shot := store.standing_photo(s.id))
        }
        self.timings.lookup.append(time.monotonic() - scan.at)
        return st.Scanned(identity, tuple(candidates), earlier, now=time.monotonic())

    def _opened(self, session: Session) -> None:
        self.session_id = session.id
        info = st.SessionInfo(
            session.id,
            session.school_code,
            session.category,
            session.department,
            session.school_name,
        )
        self.post(st.SessionOpened(info, now=time.monotonic()))

    def _save(self, store: Store, roster: Roster, effect: st.SaveShot, started: float) -> st.Event:
        subject = effect.subject
        student_id = subject.student_id
        if student_id is None:
            code = subject.collection_code or subject.identity.value
            student_id = roster.collection_code_student(code, effect.session_id)
        assert effect.result.jpeg is not None
        shot = store.save_shot(
            student_id=student_id,
            session_id=effect.session_id,
            jpeg=effect.result.jpeg,
            status=effect.status,  # type: ignore[arg-type]
            reasons=[str(r) for r in effect.result.assessment.reasons],
            measures=effect.result.assessment.measures,
            camera=effect.result.camera,
            collection_code=subject.collection_code,
            collection_code_raw=collection_code_bytes(subject),
        )
        self.timings.save.append(time.monotonic() - started)
        return st.ShotSaved(shot.seq, shot.uuid, shot.status, now=time.monotonic())


def _earlier(shot: Shot) -> st.EarlierShot:
    return st.EarlierShot(shot.uuid, shot.seq, shot.file, shot.taken_at)


def walk_in_student(effect: st.AddWalkIn) -> Student:
    """The student the crew adds for an unknown scan: what the scan told, in the open session."""
    identity, session = effect.identity, effect.session
    return Student(
        id_number=identity.value if identity.kind == "id_number" else None,
        student_number=identity.value if identity.kind == "student_number" else "",
        name=identity.name or identity.fields.get("name", ""),
        sex=identity.fields.get("sex", ""),
        school_name=session.school_name,
        school_code=session.school_code,
        department=session.department,
        category=session.category,
        origin="walk_in",
    )


def collection_code_bytes(subject: st.Subject) -> bytes | None:
    """The collection code exactly as scanned, when this shot was opened by one."""
    identity = subject.identity
    if identity is not None and identity.kind == "collection_code":
        return bytes(identity.raw)
    return None
