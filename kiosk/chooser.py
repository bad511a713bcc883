"""The session chooser on the crew screen: school, then 类型, then 院系 or 全部.

Why here and pure: the crew starts a day on the kiosk itself (``kiosk.service``
runs a bare ``kiosk run``), so the choice is made with the crew's keys or a
finger, from what the roster in the database holds, each choice showing how
many students it covers. What the choices are and what a key does to them is
decided here without I/O; the records thread reads the counts
(:meth:`kiosk.roster.Roster.scope_counts`), the crew screen draws
(kiosk/display/chooser.py), and the station opens the session chosen.

A school with no roster rows is refused, except in 采集码 mode: the crew types
the school's 院校代码 (or picks a school the office's schedule lists, see
:class:`SchoolPlan`) and confirms that students will scan their 学信网
图像采集码 instead of a roster card; the schedule's expected headcount is
shown when the kiosk knows it.

A crew with a touchscreen and no keyboard uses on-screen buttons (the digit
pad of kiosk/pad.py: digits, delete, accept, back); :func:`press` decides
what each does here, the same rules the keys follow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kiosk.pad import ACCEPT, BACK, DELETE, WITH_BACK, is_digit, typed_after
from kiosk.student import category_rank

Level = Literal["school", "category", "department", "code"]
SCHOOL_CODE_DIGITS = 5
ALL = ""  # the option "全部" (every 院系 / every 类型)


@dataclass(frozen=True)
class ScopeCount:
    """Roster students of one school, 类型 and 院系."""

    school_code: str
    school_name: str
    category: str
    department: str
    students: int


@dataclass(frozen=True)
class SchoolPlan:
    """What the office's schedule says of a school (``kiosk roster pull``):
    its name and expected headcount (None: the schedule gives none)."""

    school_code: str
    school_name: str
    expected: int | None


@dataclass(frozen=True)
class Option:
    """One line of the chooser: the value it picks, its label and its students.
    ``collection``: a scheduled school without roster rows (采集码 mode)."""

    value: str
    label: str
    students: int
    collection: bool = False


@dataclass(frozen=True)
class Choice:
    """The session the crew chose. ``collection_codes``: a school with no roster
    rows, shot from 学信网 图像采集码 scans (the crew confirmed it)."""

    school_code: str
    category: str = ""
    department: str = ""
    collection_codes: bool = False


@dataclass(frozen=True)
class Chooser:
    scopes: tuple[ScopeCount, ...]
    level: Level = "school"
    cursor: int = 0
    school: str = ""
    category: str = ALL
    typed: str = ""  # digits of a 院校代码 being typed at the school level
    refused: str = ""  # why the last pick was refused (a catalogue key), shown once
    plans: tuple[SchoolPlan, ...] = ()  # the schools the office's schedule names


def plan_of(chooser: Chooser, school_code: str) -> SchoolPlan | None:
    return next((p for p in chooser.plans if p.school_code == school_code), None)


def _sum(scopes: Sequence[ScopeCount]) -> int:
    return sum(s.students for s in scopes)


def options(chooser: Chooser) -> list[Option]:
    """The lines of the current level, in order, with their student counts."""
    scopes = chooser.scopes
    if chooser.level == "school":
        schools: dict[str, list[ScopeCount]] = {}
        for s in scopes:
            schools.setdefault(s.school_code, []).append(s)
        listed = [
            Option(
                code,
                f"{code} {next((s.school_name for s in rows if s.school_name), '')}".strip(),
                _sum(rows),
            )
            for code, rows in schools.items()
        ]
        # Scheduled schools the roster lacks: 采集码 schools, confirmed on picking.
        listed += [
            Option(p.school_code, f"{p.school_code} {p.school_name}".strip(), 0, collection=True)
            for p in chooser.plans
            if p.school_code not in schools
        ]
        return sorted(listed, key=lambda o: o.value)
    mine = [s for s in scopes if s.school_code == chooser.school]
    if chooser.level == "category":
        categories = sorted({s.category for s in mine}, key=category_rank)
        found = [
            Option(c, c or "—", _sum([s for s in mine if s.category == c])) for c in categories
        ]
        return found if len(found) == 1 else [Option(ALL, "全部", _sum(mine)), *found]
    if chooser.level == "department":
        mine = [s for s in mine if chooser.category == ALL or s.category == chooser.category]
        departments = sorted({s.department for s in mine})
        return [Option(ALL, "全部", _sum(mine))] + [
            Option(d, d or "—", _sum([s for s in mine if s.department == d])) for d in departments
        ]
    return []


def move(chooser: Chooser, delta: int) -> Chooser:
    count = len(options(chooser))
    if count == 0:
        return chooser
    return dataclasses.replace(chooser, cursor=(chooser.cursor + delta) % count, refused="")


def type_digit(chooser: Chooser, digit: str) -> Chooser:
    """A digit typed at the school level: a 院校代码, for a school not listed
    (采集码 mode) or to jump to a listed one."""
    if chooser.level != "school" or not digit.isdigit():
        return chooser
    typed = (chooser.typed + digit)[-SCHOOL_CODE_DIGITS:]
    codes = [o.value for o in options(chooser)]
    cursor = next((i for i, c in enumerate(codes) if c.startswith(typed)), chooser.cursor)
    return dataclasses.replace(chooser, typed=typed, cursor=cursor, refused="")


def pick(chooser: Chooser, index: int | None = None) -> Chooser | Choice:
    """Accept the line under the cursor (or the line ``index``, touched)."""
    if chooser.level == "code":
        return Choice(chooser.school, collection_codes=True)
    lines = options(chooser)
    typed_unlisted = (
        chooser.level == "school"
        and index is None
        and len(chooser.typed) == SCHOOL_CODE_DIGITS
        and chooser.typed not in {o.value for o in lines}
    )
    if typed_unlisted:
        # a school with no roster rows: only in 采集码 mode, which the crew confirms
        return dataclasses.replace(chooser, level="code", school=chooser.typed, cursor=0)
    if not lines:
        return dataclasses.replace(chooser, refused="chooser.no_roster")
    at = chooser.cursor if index is None else index
    if not 0 <= at < len(lines):
        return chooser
    option = lines[at]
    if option.collection:
        return dataclasses.replace(chooser, level="code", school=option.value, cursor=0, typed="")
    if option.students == 0:
        return dataclasses.replace(chooser, refused="chooser.empty")
    if chooser.level == "school":
        return _descend(dataclasses.replace(chooser, school=option.value, typed=""), "category")
    if chooser.level == "category":
        return _descend(dataclasses.replace(chooser, category=option.value), "department")
    return Choice(chooser.school, chooser.category, option.value)


def delete_digit(chooser: Chooser) -> Chooser:
    """The last typed digit of the 院校代码 off (the touch pad's delete)."""
    typed = typed_after(chooser.typed, DELETE, SCHOOL_CODE_DIGITS)
    return dataclasses.replace(chooser, typed=typed, refused="")


def buttons(chooser: Chooser) -> tuple[str, ...]:
    """The touch buttons of this step: the digit pad where a 院校代码 is typed,
    accept where the crew confirms, back everywhere (a tap on a line picks it)."""
    if chooser.level == "school":
        return WITH_BACK
    if chooser.level == "code":
        return (ACCEPT, BACK)
    return (BACK,)


def press(chooser: Chooser, button: str) -> Chooser | Choice | None:
    """A touch button, with the meaning of the matching key."""
    if button not in buttons(chooser):
        return chooser
    if is_digit(button):
        return type_digit(chooser, button)
    if button == DELETE:
        return delete_digit(chooser)
    if button == ACCEPT:
        return pick(chooser)
    return back(chooser)


def expected_students(chooser: Chooser) -> int | None:
    """The schedule's headcount of the school being confirmed (None: not known)."""
    plan = plan_of(chooser, chooser.school)
    return None if plan is None else plan.expected


def _descend(chooser: Chooser, level: Level) -> Chooser | Choice:
    chooser = dataclasses.replace(chooser, level=level, cursor=0, refused="")
    if level == "category" and len(options(chooser)) == 1:
        # one 类型 only: nothing to choose
        only = options(chooser)[0]
        return _descend(dataclasses.replace(chooser, category=only.value), "department")
    return chooser


def back(chooser: Chooser) -> Chooser | None:
    """One level up; None when the crew leaves the chooser."""
    if chooser.level == "school":
        if chooser.typed:
            return dataclasses.replace(chooser, typed="", refused="")
        return None
    if chooser.level in ("category", "code"):
        return dataclasses.replace(
            chooser, level="school", cursor=0, school="", typed="", refused=""
        )
    if len(options(dataclasses.replace(chooser, level="category"))) == 1:
        return dataclasses.replace(chooser, level="school", cursor=0, school="", category=ALL)
    return dataclasses.replace(chooser, level="category", cursor=0, category=ALL, refused="")


def school_students(scopes: Sequence[ScopeCount], school_code: str) -> int:
    """Roster students of a school (0: refuse it, unless in 采集码 mode)."""
    return _sum([s for s in scopes if s.school_code == school_code])


def scope_students(
    scopes: Sequence[ScopeCount], school_code: str, category: str = ALL, department: str = ALL
) -> int:
    """Roster students a session of this school, 类型 and 院系 covers ("" = all)."""
    return _sum(
        [
            s
            for s in scopes
            if s.school_code == school_code
            and category in (ALL, s.category)
            and department in (ALL, s.department)
        ]
    )
