"""拍摄序号 unique in a school's package even from kiosks that never pulled.

Real processes on 127.0.0.1: ``central serve`` and kiosks whose roster came
from a USB stick (``kiosk roster import``), shooting offline with ``kiosk
demo --school`` and then syncing; the office's package, status and verify.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from kiosk import sample
from kiosk.shot_number import SEQ_SPAN
from tests.office_support import SCHOOL_A, Office, central
from tests.sync_support import Receiver, add_token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def office(tmp_path_factory, module_backend):  # on both back ends (tests/backends.py)
    root = tmp_path_factory.mktemp("numbers")
    data = root / "central"
    stick = sample.write_sample_roster(root / "a.xlsx", count=12)
    assert central(data, "roster", "import", str(stick)).returncode == 0
    made = Office(root, Receiver(data))
    for kiosk_id in ("usb-1", "usb-2", "usb-3"):
        made.tokens[kiosk_id] = add_token(data, kiosk_id)
    added = central(data, "user", "add", "office1", "--role", "office")
    assert added.returncode == 0, added.stderr
    made.passwords["office1"] = added.stdout.strip().splitlines()[-1]
    made.receiver.start()
    for kiosk_id in ("usb-1", "usb-2"):
        done = made.kiosk(kiosk_id, "roster", "import", str(stick))
        assert done.returncode == 0, done.stderr
    yield made
    made.receiver.stop()


def demo(office: Office, kiosk_id: str, start: int, students: int) -> None:
    done = office.kiosk(
        kiosk_id,
        *("demo", "--school", SCHOOL_A, "--start", str(start), "--students", str(students)),
        "--headless",
        "--fast",
    )
    assert done.returncode == 0, (done.stdout, done.stderr)


def sync(office: Office, kiosk_id: str) -> None:
    done = office.kiosk(kiosk_id, "sync", "--once")
    assert done.returncode == 0, (done.stdout, done.stderr)


def kiosk_seqs(office: Office, kiosk_id: str) -> list[int]:
    with sqlite3.connect(office.root / kiosk_id / "kiosk.db") as db:
        return [r[0] for r in db.execute("SELECT seq FROM shots WHERE seq IS NOT NULL ORDER BY id")]


def kiosk_number(office: Office, kiosk_id: str) -> int | None:
    with sqlite3.connect(office.root / kiosk_id / "kiosk.db") as db:
        row = db.execute("SELECT kiosk_number FROM station_identity").fetchone()
    return row[0] if row else None


def export(office: Office, out: Path) -> tuple[int, list[int], str]:
    done = central(office.data, "export", "--school", SCHOOL_A, "--out", str(out))
    index = out / SCHOOL_A / "index.csv"
    if not index.exists():
        return done.returncode, [], done.stderr
    with index.open(encoding="utf-8-sig") as f:
        return done.returncode, [int(r["拍摄序号"]) for r in csv.DictReader(f)], done.stderr


def collisions(office: Office) -> list[dict]:
    done = central(office.data, "status", "--json")
    assert done.returncode == 0, done.stderr
    [school] = [s for s in json.loads(done.stdout)["schools"] if s["code"] == SCHOOL_A]
    return school["collisions"]


def test_usb_roster_kiosks_shooting_offline_get_unique_stable_numbers(office, tmp_path):
    # Two crews at one school, rosters from a USB stick, no network: both count from 1.
    demo(office, "usb-1", 0, 3)
    demo(office, "usb-2", 3, 2)
    assert kiosk_seqs(office, "usb-1") == [1, 2, 3] and kiosk_seqs(office, "usb-2") == [1, 2]
    sync(office, "usb-1")
    sync(office, "usb-2")
    # The first sync's receipt gave each its number; it continues after its count so far.
    one, two = kiosk_number(office, "usb-1"), kiosk_number(office, "usb-2")
    assert one and two and one != two
    demo(office, "usb-1", 5, 1)
    assert kiosk_seqs(office, "usb-1") == [1, 2, 3, one * SEQ_SPAN + 4]
    sync(office, "usb-1")
    code, numbers, err = export(office, tmp_path / "one")
    assert code == 1, err  # written, with students missing
    assert sorted(numbers) == [one * SEQ_SPAN + n for n in (1, 2, 3, 4)] + [
        two * SEQ_SPAN + n for n in (1, 2)
    ]
    export(office, tmp_path / "two")
    first, second = tmp_path / "one" / SCHOOL_A, tmp_path / "two" / SCHOOL_A
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert collisions(office) == []


def test_a_copied_data_folder_is_a_collision_the_export_refuses_until_resolved(office, tmp_path):
    """A kiosk set up from a copy of another's data folder numbers in the other's range."""
    shutil.copytree(office.root / "usb-1", office.root / "usb-3")
    demo(office, "usb-1", 6, 1)
    demo(office, "usb-3", 7, 1)
    clash = kiosk_seqs(office, "usb-1")[-1]
    assert kiosk_seqs(office, "usb-3")[-1] == clash
    sync(office, "usb-1")
    sync(office, "usb-3")
    assert collisions(office) == [{"seq": clash, "kiosks": ["usb-1", "usb-3"]}]
    code, numbers, err = export(office, tmp_path / "refused")
    assert code == 2 and numbers == [] and "nothing written" in err, err
    assert "usb-1 and usb-3" in err and "kiosk roster pull" in err
    verify = central(office.data, "verify")
    assert verify.returncode == 1 and f"拍摄序号 {clash}" in verify.stdout, verify.stdout
    web = office.login("office1")
    assert "拍摄序号重复" in web.get("/office").text
    assert web.get(f"/school/{SCHOOL_A}/package.zip").status_code == 409  # nor as a zip
    # The advice: the copied kiosk takes its own number, the student is photographed again.
    pulled = office.kiosk("usb-3", "roster", "pull", "--school", SCHOOL_A)
    assert pulled.returncode == 0, pulled.stderr
    demo(office, "usb-3", 7, 1)
    sync(office, "usb-3")
    assert kiosk_seqs(office, "usb-3")[-1] // SEQ_SPAN == kiosk_number(office, "usb-3") != 1
    assert collisions(office) == [] and "拍摄序号重复" not in web.get("/office").text
    code, numbers, err = export(office, tmp_path / "resolved")
    assert code == 1 and len(numbers) == 8 and len(set(numbers)) == 8, err
