"""采集码 students (no ID number) on the school's pages, in its review and back at the kiosks.

Real processes on 127.0.0.1: ``central serve``, a kiosk whose shots of
students who presented a 学信网 图像采集码 go up with ``kiosk sync``, the
registrars' pages over HTTP, ``central export`` and ``kiosk roster pull``.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from central.campaign import mask_code
from kiosk.roster import Roster
from kiosk.store import Store
from tests.office_support import SCHEDULE, SCHOOL_B, Office, central, csrf_of, write_roster
from tests.sync_support import Receiver, add_token, jpeg

pytestmark = pytest.mark.slow

SCHOOL = "10731"  # in the notice's schedule (6,600 expected); 采集码 mode: no roster
CODES = [f"{'ABCDEFGH'[i]}{i}x" + "7q" * 20 for i in range(3)]  # 43 characters, like a real one


@pytest.fixture(scope="module")
def office(tmp_path_factory, module_backend):  # on both back ends (tests/backends.py)
    root = tmp_path_factory.mktemp("codes")
    data = root / "central"
    assert central(data, "schedule", "import", str(SCHEDULE)).returncode == 0
    other = write_roster(root / "b.csv", 2, seed=99, code=SCHOOL_B, name="兰州大学")
    assert central(data, "roster", "import", str(other)).returncode == 0
    made = Office(root, Receiver(data))
    made.tokens["kiosk-01"] = add_token(data, "kiosk-01")
    for name, school in (("registrar-c", SCHOOL), ("registrar-b", SCHOOL_B)):
        done = central(data, "user", "add", name, "--role", "school", "--school", school)
        assert done.returncode == 0, done.stderr
        made.passwords[name] = done.stdout.strip().splitlines()[-1]
    made.receiver.start()
    shoot_codes(root / "kiosk-01")
    synced = made.kiosk("kiosk-01", "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    yield made
    made.receiver.stop()


def shoot_codes(data: Path) -> None:
    """Three students photographed from their 采集码 (the station's own store calls)."""
    rng = random.Random(4)
    with Store(data / "kiosk.db") as store:
        session = store.open_session(
            station_id="kiosk-01", school_code=SCHOOL, school_name="兰州理工大学", category="成人生"
        )
        roster = Roster(store)
        for i, code in enumerate(CODES):
            student = roster.collection_code_student(code, session.id)
            # The crew may type the name the student gives (the code carries none);
            # the third is sent without one, as a busy crew would.
            if i < 2:
                store.conn.execute(
                    "UPDATE students SET name = ? WHERE id = ?", (f"采集{i}", student)
                )
            store.save_shot(
                student_id=student,
                session_id=session.id,
                jpeg=jpeg(rng, (480, 640)),
                status="accepted",
                collection_code=code,
            )


def student_ids(data: Path) -> dict[str, int]:
    with Store(data / "kiosk.db") as store:
        return {
            r[0]: r[1]
            for r in store.conn.execute(
                "SELECT collection_code, id FROM students WHERE collection_code IS NOT NULL"
            )
        }


def test_codes_are_listed_searched_masked_and_reviewed_and_reach_the_kiosk(office, tmp_path):
    client = office.login("registrar-c")
    page = client.get(f"/school/{SCHOOL}")
    assert page.status_code == 200
    assert "已拍 3" in page.text and "成人生" in page.text  # counted, and by 类型 and 院系
    found = client.post(f"/school/{SCHOOL}", data={"q": CODES[1], "csrf": csrf_of(page.text)})
    assert found.status_code == 200 and "找到 1 人" in found.text, found.text
    assert "采集1" in found.text and mask_code(CODES[1]) in found.text
    assert CODES[1] not in found.text.replace(f'value="code:{CODES[1]}"', "")  # masked on screen
    assert "/photos/" in found.text

    review = client.get(f"/school/{SCHOOL}/review")
    assert review.status_code == 200
    assert all(f"采集{i}" in review.text for i in range(2)) and review.text.count("<img") == 3
    assert "（无姓名）" in review.text  # the unnamed one arrived, and says so
    csrf = csrf_of(review.text)
    retake = client.post(
        f"/school/{SCHOOL}/review/retake",
        data={"csrf": csrf, "student": f"code:{CODES[0]}", "reason": "eyes_closed"},
    )
    assert retake.status_code == 303 and "已标记重拍" in unquote(retake.headers["location"])
    fix = client.post(
        f"/school/{SCHOOL}/review/erratum",
        data={"csrf": csrf, "student": f"code:{CODES[1]}", "field": "name", "value": "李四"},
    )
    assert fix.status_code == 303 and "已记录信息更正" in unquote(fix.headers["location"])
    review = client.get(f"/school/{SCHOOL}/review")
    assert "已要求重拍" in review.text and "已更正姓名" in review.text

    # The default settings name photos without an ID number by 拍摄序号; the
    # index's 采集码 column ties each file to its student.
    done = central(office.data, "export", "--school", SCHOOL, "--out", str(tmp_path))
    assert done.returncode == 1, done.stderr  # written; a retake is due
    index = sheet(tmp_path / SCHOOL / "index.xlsx")
    files = sorted(p.name for p in (tmp_path / SCHOOL / "photos").iterdir())
    assert files == sorted(f"{r['拍摄序号']}.jpg" for r in index)
    assert {r["采集码"] for r in index} <= set(CODES) and len(index) == len(files) > 0
    # and the registrar downloads the same package from the page
    package = client.get(f"/school/{SCHOOL}/package.zip")
    assert package.status_code == 200, package.text
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert sorted(n.rsplit("/", 1)[-1] for n in archive.namelist() if "/photos/" in n) == files
    retakes = sheet(tmp_path / SCHOOL / "retakes.xlsx")
    assert [(r["姓名"], r["采集码"], r["原因"]) for r in retakes] == [
        ("采集0", CODES[0], "学校审核：闭眼")
    ]
    errata = sheet(tmp_path / SCHOOL / "errata.xlsx")
    assert [(r["采集码"], r["原内容"], r["更正内容"]) for r in errata] == [
        (CODES[1], "采集1", "李四")
    ]

    # The kiosk pulls the school (no roster in 采集码 mode) and gets the request: the
    # student scanning the same code again is photographed, not "already photographed".
    pulled = office.kiosk("kiosk-01", "roster", "pull", "--school", SCHOOL)
    assert pulled.returncode == 0 and "重拍要求 1 个" in pulled.stdout, (
        pulled.stdout + pulled.stderr
    )
    ids = student_ids(office.root / "kiosk-01")
    with Store(office.root / "kiosk-01" / "kiosk.db") as store:
        assert store.standing_photo(ids[CODES[0]]) is None
        assert store.standing_photo(ids[CODES[1]]) is not None


def test_another_school_never_sees_the_code_students(office):
    client = office.login("registrar-b")
    assert client.get(f"/school/{SCHOOL}").status_code == 403
    assert client.get(f"/school/{SCHOOL}/review").status_code == 403
    own = client.get(f"/school/{SCHOOL_B}")
    found = client.post(f"/school/{SCHOOL_B}", data={"q": CODES[2], "csrf": csrf_of(own.text)})
    assert found.status_code == 200 and "找到 0 人" in found.text and "采集2" not in found.text
    retake = client.post(
        f"/school/{SCHOOL_B}/review/retake",
        data={"csrf": csrf_of(own.text), "student": f"code:{CODES[2]}", "reason": "other"},
    )
    assert retake.status_code == 403
    staff = office.login("registrar-c")
    review = staff.get(f"/school/{SCHOOL}/review").text
    photos = sorted(set(part.split(".jpg")[0] for part in review.split("/photos/")[1:]))
    assert len(photos) == 3
    assert all(client.get(f"/photos/{p}.jpg").status_code == 403 for p in photos)
    assert all(staff.get(f"/photos/{p}.jpg").status_code == 200 for p in photos)


def sheet(path: Path) -> list[dict]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
