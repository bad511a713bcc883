"""The pure domain module and the station's purity, checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from kiosk import roster, student
from kiosk.export.package import Person
from kiosk.student import Student
from kiosk.sync import protocol

HEAVY = ("sqlite3", "sqlite_utils", "click", "numpy", "pygame", "mediapipe", "cv2", "evdev")


def _loaded_after(module: str) -> list[str]:
    code = (
        f"import sys, json; import {module}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)


def test_importing_the_station_loads_no_io_library():
    assert _loaded_after("kiosk.station") == []


def test_importing_the_domain_module_loads_no_io_library():
    assert _loaded_after("kiosk.student") == []


def test_every_side_derives_its_fields_from_the_one_list():
    assert set(roster.COLUMNS) == set(student.ROSTER_FIELDS)
    assert protocol.STUDENT_FIELDS == student.DESCRIPTION_FIELDS
    assert "id" not in protocol.STUDENT_FIELDS
    person = Person(key="s1", id_number=None, student_number="1", name="某")
    assert isinstance(person, Student) and person.origin == "roster"


def test_student_from_a_database_row():
    row = {"id": 7, "id_number": "x", "student_number": "1", "name": "某", "origin": "walk_in"}

    class Row(dict):
        pass

    made = Student.from_row(Row(row))
    assert (made.id, made.origin, made.sex) == (7, "walk_in", "")
