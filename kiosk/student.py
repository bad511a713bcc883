"""Who is photographed: the student as the roster, the station, the sync and the package see them.

Pure: no I/O and no import beyond the standard library, so the station's state
machine and the sync protocol can share it without loading the database code.
The field lists below are the one place that says which facts a student has;
the roster import, the sync manifest and the delivery package derive theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# The columns a school's roster row gives, keyed by the ID number.
ROSTER_FIELDS = (
    "id_number",
    "student_number",
    "name",
    "sex",
    "school_name",
    "school_code",
    "degree",
    "major",
    "department",
    "category",
    "roster_seq",
)
# What a re-import compares to call a row "updated" rather than "unchanged":
# every roster column but the key it is matched on.
COMPARED_FIELDS = ROSTER_FIELDS[1:]


@dataclass(frozen=True, slots=True)
class Student:
    """One student as the kiosk trusts them (a roster row, a walk-in, a collection code)."""

    id_number: str | None
    student_number: str
    name: str
    sex: str = ""
    school_name: str = ""
    school_code: str = ""
    degree: str = ""
    major: str = ""
    department: str = ""
    category: str = ""
    roster_seq: str = ""
    birth_date: str | None = None
    collection_code: str | None = None
    origin: str = "roster"  # roster | walk_in | collection_code
    id: int | None = None  # database id once stored

    @classmethod
    def from_row(cls, row: Any) -> Student:
        """From a database row (anything with ``keys()`` and ``row[name]``)."""
        keys = row.keys()
        return cls(**{f: row[f] for f in STUDENT_FIELDS if f in keys})


STUDENT_FIELDS = tuple(f.name for f in fields(Student))
# Every fact about the student, without the kiosk's own database id: what a
# sync record carries so the receiver's copy is complete on its own.
DESCRIPTION_FIELDS = tuple(f for f in STUDENT_FIELDS if f != "id")

# The notice's three 类型, in the order schools, proofs and the chooser list them.
CATEGORIES = ("普通生", "成人生", "研究生")


def category_rank(category: str) -> tuple[int, str]:
    """Sort key: the notice's 类型 first, in its order, then any other by name."""
    if category in CATEGORIES:
        return (CATEGORIES.index(category), category)
    return (len(CATEGORIES), category)


# A student is their ID number, or (photographed from a 学信网 图像采集码, no ID
# number) their code behind this prefix: how the office keys its per-student
# state and the school's decisions, and how a kiosk keys the retake requests
# it pulls.
CODE_KEY = "code:"


def student_key(id_number: str | None, collection_code: str | None) -> str:
    return id_number or (CODE_KEY + collection_code if collection_code else "")


def key_code(key: str) -> str | None:
    """The 采集码 of a 采集码 student's key (None for an ID number)."""
    return key[len(CODE_KEY) :] if key.startswith(CODE_KEY) else None
