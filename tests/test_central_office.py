"""The central office end to end: schedule, rosters, three kiosks, review, export, access.

Real processes on 127.0.0.1: ``central serve``, three kiosks with their own
tokens running ``kiosk roster pull``, ``kiosk demo --school`` and ``kiosk
sync``, and the web pages over real HTTP.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kiosk import sample
from tests.backends import central_db, central_storage
from tests.office_support import (
    SCHEDULE,
    SCHOOL_A,
    SCHOOL_B,
    Office,
    central,
    csrf_of,
    login_csrf,
    make_office,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def office(tmp_path_factory, module_backend):  # on both back ends (tests/backends.py)
    root = tmp_path_factory.mktemp("office")
    made = make_office(root)
    # Two crews at school A at once, offline, then a make-up day kiosk at the office
    # that photographs student 1 again (a second photo of the same student).
    made.shoot("kiosk-01", SCHOOL_A, 0, 3)
    made.shoot("kiosk-02", SCHOOL_A, 3, 3)
    made.shoot("kiosk-03", SCHOOL_A, 0, 1)
    made.shoot("kiosk-02", SCHOOL_B, 0, 2)
    yield made
    made.receiver.stop()


def status(office: Office) -> dict:
    done = central(office.data, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sheet_rows(path: Path) -> list[dict]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_status_counts_every_kiosk_against_roster_and_schedule(office):
    report = status(office)
    schools = {s["code"]: s for s in report["schools"]}
    a, b = schools[SCHOOL_A], schools[SCHOOL_B]
    assert (a["roster"], a["photographed"], a["missing"]) == (12, 6, 6)
    assert (b["roster"], b["photographed"], b["missing"]) == (6, 2, 4)
    assert b["expected"] == 4400 and a["expected"] is None  # 兰州大学's 人数 in the notice
    # A school in the schedule with neither roster nor photos (采集码 mode yardstick).
    assert schools["10731"]["expected"] == 6600 and schools["10731"]["missing"] == 6600
    with SCHEDULE.with_suffix(".csv").open(encoding="utf-8-sig") as f:
        planned = {r["院校代码"] for r in csv.DictReader(f) if r["院校代码"]}
    assert len(planned) == 44 and planned | {SCHOOL_A, ""} == set(schools)
    assert schools[""]["name"] == "西北师范大学知行学院"  # the notice prints no code for it
    assert sum(s["expected"] or 0 for s in report["schools"]) == 143026
    kiosks = {k["id"]: k for k in report["kiosks"]}
    assert {k: kiosks[k]["shots_today"] for k in kiosks} == {
        "kiosk-01": 3,
        "kiosk-02": 5,
        "kiosk-03": 1,
    }
    assert all(k["last_sync"] for k in kiosks.values())


def test_shot_numbers_are_unique_across_kiosks_and_latest_photo_is_delivered(office, tmp_path):
    done = central(office.data, "export", "--school", SCHOOL_A, "--out", str(tmp_path))
    assert done.returncode == 1, done.stderr  # written, with missing students
    package = tmp_path / SCHOOL_A
    with (package / "index.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    numbers = [int(r["拍摄序号"]) for r in rows]
    assert len(rows) == 6 and len(set(numbers)) == 6
    # Each kiosk counts from its own number x 100000.
    assert {n // 100_000 for n in numbers} == {1, 2, 3}
    db = central_db(office.data)
    first = sample.sample_rows(12)[0][6]
    history = db.execute(
        "SELECT kiosk_id, sha256 FROM records WHERE id_number = ? ORDER BY taken_at", (first,)
    ).fetchall()
    assert [k for k, _ in history] == ["kiosk-01", "kiosk-03"]  # both kept
    delivered = (package / "photos" / f"{first}.jpg").read_bytes()
    import hashlib

    assert hashlib.sha256(delivered).hexdigest() == history[-1][1]
    missing = {r["身份证号"] for r in sheet_rows(package / "missing.xlsx")}
    assert missing == {r[6] for r in sample.sample_rows(12)[6:]}


def test_reexport_is_byte_identical(office, tmp_path):
    for out in ("one", "two"):
        central(office.data, "export", "--school", SCHOOL_B, "--out", str(tmp_path / out))
    one, two = tmp_path / "one" / SCHOOL_B, tmp_path / "two" / SCHOOL_B
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)


def test_a_crashed_kiosk_rebuilt_from_scratch_never_reuses_a_number(office, tmp_path):
    """The pull brings the highest 拍摄序号 the office holds from this kiosk."""
    import shutil

    shutil.rmtree(office.root / "kiosk-03")  # the SD card is lost
    pulled = office.kiosk("kiosk-03", "roster", "pull", "--school", SCHOOL_A)
    assert pulled.returncode == 0 and "下一个拍摄序号 300002" in pulled.stdout, pulled.stdout


def test_station_walk_ins_and_corrections_are_proposals_in_the_export(office, tmp_path):
    storage = central_storage(office.data)
    campaign = storage.campaign
    try:
        # A station's copy that differs from the office's roster (a name fixed on site).
        db = central_db(office.data)
        uuid, body = db.execute(
            "SELECT uuid, body FROM records WHERE school_code = ? ORDER BY id LIMIT 1", (SCHOOL_B,)
        ).fetchone()
        record = json.loads(body)
        record["student"]["name"] = "改正名"
        db.execute("UPDATE records SET body = ? WHERE uuid = ?", (json.dumps(record), uuid))
        db.commit()
        db.close()
        proposals = campaign.station_proposals(SCHOOL_B)
    finally:
        storage.close()
    assert [(p.field, p.new_value, p.kiosk) for p in proposals] == [("name", "改正名", "kiosk-02")]
    # The office (and the school) see it on the school's page.
    page = office.login("office1").get(f"/school/{SCHOOL_B}")
    assert "现场登记的勘误（1）" in page.text and "改正名" in page.text
    central(office.data, "export", "--school", SCHOOL_B, "--out", str(tmp_path))
    errata = sheet_rows(tmp_path / SCHOOL_B / "errata.xlsx")
    assert [(r["勘误项目"], r["更正内容"]) for r in errata] == [("姓名", "改正名")]


def test_review_feeds_export_and_kiosks_photograph_again_without_override(office, tmp_path):
    client = office.login("registrar-a")
    review = client.get(f"/school/{SCHOOL_A}/review")
    assert review.status_code == 200
    csrf = csrf_of(review.text)
    rows = sample.sample_rows(12)
    retake_id, erratum_id = rows[4][6], rows[5][6]  # photographed by kiosk-02
    answer = client.post(
        f"/school/{SCHOOL_A}/review/retake",
        data={"csrf": csrf, "student": retake_id, "reason": "eyes_closed"},
    )
    assert answer.status_code == 303
    answer = client.post(
        f"/school/{SCHOOL_A}/review/erratum",
        data={"csrf": csrf, "student": erratum_id, "field": "major", "value": "软件工程"},
    )
    assert answer.status_code == 303
    finished = client.post(f"/school/{SCHOOL_A}/review/finish", data={"csrf": csrf})
    assert finished.status_code == 303
    assert "审核已完成" in client.get(f"/school/{SCHOOL_A}/review").text

    central(office.data, "export", "--school", SCHOOL_A, "--out", str(tmp_path / "before"))
    package = tmp_path / "before" / SCHOOL_A
    retakes = sheet_rows(package / "retakes.xlsx")
    assert [(r["身份证号"], r["最近一次"], r["原因"]) for r in retakes] == [
        (retake_id, "学校要求重拍", "学校审核：闭眼")
    ]
    errata = [r for r in sheet_rows(package / "errata.xlsx") if r["身份证号"] == erratum_id]
    assert [(r["勘误项目"], r["更正内容"]) for r in errata] == [("专业名称", "软件工程")]
    assert status(office)["schools"][0]["code"]  # still answers

    # Every kiosk that pulls gets the request.
    assert office.kiosk("kiosk-01", "roster", "pull", "--school", SCHOOL_A).returncode == 0
    kiosk_db = sqlite3.connect(office.root / "kiosk-01" / "kiosk.db")
    assert kiosk_db.execute("SELECT id_number FROM retake_requests").fetchall() == [(retake_id,)]
    # kiosk-02 holds the student's photo: after the pull, the student scanning there is
    # photographed at once (no "already photographed" for the crew to override).
    office.shoot("kiosk-02", SCHOOL_A, 4, 1)
    kiosk_db = sqlite3.connect(office.root / "kiosk-02" / "kiosk.db")
    overrides = kiosk_db.execute(
        "SELECT count(*) FROM events WHERE kind = 'already_photographed'"
    ).fetchone()[0]
    assert overrides == 0
    assert (
        kiosk_db.execute(
            "SELECT count(*) FROM shots sh JOIN students s ON s.id = sh.student_id "
            "WHERE s.id_number = ? AND sh.status = 'accepted'",
            (retake_id,),
        ).fetchone()[0]
        == 2
    )
    central(office.data, "export", "--school", SCHOOL_A, "--out", str(tmp_path / "after"))
    assert sheet_rows(tmp_path / "after" / SCHOOL_A / "retakes.xlsx") == []
    # The request is answered: the next pull brings none.
    pulled = office.kiosk("kiosk-02", "roster", "pull", "--school", SCHOOL_A)
    assert "重拍要求 0 个" in pulled.stdout


def test_package_zip_is_the_export(office, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    client = office.login("registrar-b")
    # Two downloads at once (a double click): one build after the other, the same bytes.
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(client.get, [f"/school/{SCHOOL_B}/package.zip"] * 2))
    answer = both[0]
    assert [a.status_code for a in both] == [200, 200] and both[0].content == both[1].content
    assert answer.headers["content-type"] == "application/zip"
    # Nothing left behind (the zip is removed just after it was sent).
    import time

    deadline = time.monotonic() + 10
    while any((office.data / "tmp-web").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any((office.data / "tmp-web").iterdir())
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert f"{SCHOOL_B}/SHA256SUMS" in names and f"{SCHOOL_B}/proofs.pdf" in names
    assert len([n for n in names if n.startswith(f"{SCHOOL_B}/photos/")]) == 2


def _urls(office: Office, school: str) -> list[str]:
    db = central_db(office.data)
    record = db.execute(
        "SELECT uuid FROM records WHERE school_code = ? LIMIT 1", (school,)
    ).fetchone()[0]
    return [
        f"/school/{school}",
        f"/school/{school}?q=2021",
        f"/school/{school}/review",
        f"/school/{school}/review?department=信息学院",
        f"/school/{school}/package.zip",
        f"/photos/{record}.jpg",
        f"/photos/{record}.jpg?size=full",
    ]


def test_a_school_account_is_refused_on_another_schools_urls(office):
    own = office.login("registrar-b")
    for url in _urls(office, SCHOOL_B):
        assert own.get(url).status_code == 200, url
    for url in [*_urls(office, SCHOOL_A), "/office"]:
        answer = own.get(url)
        assert answer.status_code == 403, url
        assert "示例大学" not in answer.text and "信息学院" not in answer.text
    csrf = csrf_of(own.get(f"/school/{SCHOOL_B}/review").text)
    student_a = sample.sample_rows(12)[0][6]
    for kind, extra in (
        ("retake", {"reason": "other"}),
        ("erratum", {"field": "name", "value": "x"}),
    ):
        # Another school's URL, and another school's student under its own URL.
        for url in (f"/school/{SCHOOL_A}/review/{kind}", f"/school/{SCHOOL_B}/review/{kind}"):
            answer = own.post(url, data={"csrf": csrf, "student": student_a, **extra})
            assert answer.status_code == 403, url
    assert own.post(f"/school/{SCHOOL_A}/review/finish", data={"csrf": csrf}).status_code == 403
    db = central_db(office.data)
    assert (
        db.execute("SELECT count(*) FROM decisions WHERE \"user\" = 'registrar-b'").fetchone()[0]
        == 0
    )
    # Nobody signed in: to the login page, nothing shown.
    import httpx

    anonymous = httpx.Client(base_url=office.url)
    for url in _urls(office, SCHOOL_A):
        answer = anonymous.get(url)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", url
    # The office sees both.
    boss = office.login("office1")
    assert all(boss.get(u).status_code == 200 for u in _urls(office, SCHOOL_A))


def test_forms_need_the_sessions_csrf_token(office):
    client = office.login("registrar-b")
    student = sample.sample_rows(6, seed=99)[0][6]
    for csrf in (None, "forged", login_csrf(client)):
        data = {"student": student, "reason": "other"} | ({"csrf": csrf} if csrf else {})
        assert client.post(f"/school/{SCHOOL_B}/review/retake", data=data).status_code == 403
    # Logging in needs the login form's own token (cookie + field).
    import httpx

    fresh = httpx.Client(base_url=office.url)
    answer = fresh.post(
        "/login", data={"name": "registrar-b", "password": office.passwords["registrar-b"]}
    )
    assert answer.status_code == 403 and "office_session" not in answer.cookies


def test_login_attempts_are_limited_and_cookies_are_safe(office):
    good = office.login("registrar-b")
    cookie = next(c for c in good.cookies.jar if c.name == "office_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    for _ in range(5):
        assert office.login("office1", "wrong").last_status == 401
    # Locked now, even with the right password.
    assert office.login("office1").last_status == 429
    db = central_db(office.data)
    stored = db.execute("SELECT password_hash FROM users WHERE name = 'office1'").fetchone()[0]
    assert stored.startswith("$argon2id$") and office.passwords["office1"] not in stored
    assert db.execute(
        "SELECT count(*) FROM web_sessions WHERE length(token_sha256) = 64"
    ).fetchone()[0]
    db.execute("DELETE FROM login_failures WHERE name = 'office1'")
    db.commit()


def test_school_page_masks_id_numbers_and_serves_small_thumbnails(office):
    client = office.login("registrar-b")
    rows = sample.sample_rows(6, seed=99)
    csrf = csrf_of(client.get(f"/school/{SCHOOL_B}").text)
    page = client.post(f"/school/{SCHOOL_B}", data={"q": rows[0][6], "csrf": csrf})
    assert page.status_code == 200
    assert rows[0][4] in page.text and rows[0][6] not in page.text
    assert f"{rows[0][6][:6]}********{rows[0][6][-4:]}" in page.text
    record = re.search(r"/photos/([0-9a-f-]{36})\.jpg", page.text).group(1)
    thumb = client.get(f"/photos/{record}.jpg")
    full = client.get(f"/photos/{record}.jpg", params={"size": "full"})
    from PIL import Image

    assert Image.open(io.BytesIO(thumb.content)).size == (120, 160)
    assert len(thumb.content) < len(full.content) / 3
    by_name = client.get(f"/school/{SCHOOL_B}", params={"q": rows[1][4]})
    assert rows[1][3] in by_name.text


def test_central_roster_import_has_the_kiosks_rules_report_and_exit_codes(tmp_path, backend):
    bad = tmp_path / "bad.csv"
    rows = sample.sample_rows(4)
    rows[2][6] = rows[2][6][:-1] + ("0" if rows[2][6][-1] != "0" else "1")  # bad check digit
    with bad.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(sample.HEADERS)
        writer.writerows(rows)
    from tests.sync_support import kiosk

    config = tmp_path / "k.toml"
    config.write_text('[station]\nstation_id = "k"\n', encoding="utf-8")
    kiosk_run = kiosk(config, tmp_path / "k", "roster", "import", str(bad))
    central_run = central(
        tmp_path / "c", "roster", "import", str(bad), "--report", str(tmp_path / "r.json")
    )
    assert kiosk_run.returncode == central_run.returncode == 1

    def strip(text: str) -> str:
        return re.sub(r"\[[0-9.]+ (s|秒)\]", "", text)

    assert strip(kiosk_run.stdout) == strip(central_run.stdout)
    assert json.loads((tmp_path / "r.json").read_text())["rejected"][0]["row"] == 4
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert central(tmp_path / "c", "roster", "import", str(tmp_path / "empty.xlsx")).returncode == 2


def test_schedule_import_reads_the_notice_and_refuses_a_broken_sheet(tmp_path, backend):
    done = central(tmp_path / "c", "schedule", "import", str(SCHEDULE))
    assert done.returncode == 0 and "47 schools, 79 rows, 143026 students expected" in done.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("院校名称,院校代码,类型,人数\n某大学,1234,普通生,abc\n", encoding="utf-8")
    refused = central(tmp_path / "c", "schedule", "import", str(broken))
    assert refused.returncode == 2 and "院校代码" in refused.stderr
    # Nothing already imported was lost.
    assert json.loads(central(tmp_path / "c", "status", "--json").stdout)["schools"][0]["expected"]


def test_pull_errors_leave_the_kiosk_as_it_was(tmp_path, backend):
    office = make_office(tmp_path, students_a=3, students_b=2)
    try:
        unknown = office.kiosk("kiosk-01", "roster", "pull", "--school", "12345")
        assert unknown.returncode == 2 and "no roster for 12345" in unknown.stderr
        bad = office.kiosk("kiosk-01", "roster", "pull", "--school", "../x")
        assert bad.returncode == 2
        nothing = central(office.data, "export", "--school", "12345", "--out", str(tmp_path / "x"))
        assert nothing.returncode == 2 and "12345" in nothing.stderr
        assert not (tmp_path / "x").exists()
    finally:
        office.receiver.stop()
    offline = office.kiosk("kiosk-01", "roster", "pull", "--school", SCHOOL_A)
    assert offline.returncode == 1 and "连不上办公室" in offline.stderr


def test_a_scheduled_school_without_roster_comes_down_for_collection_codes(office):
    # 10732 is on the notice's schedule (5000 + 1000 + 200 expected) with no roster
    pulled = office.kiosk("kiosk-03", "roster", "pull", "--school", "10732")
    assert pulled.returncode == 0, pulled.stderr
    assert "10732 预计 6200 人" in pulled.stdout and "采集码模式" in pulled.stdout
    again = office.kiosk("kiosk-03", "roster", "pull", "--school", SCHOOL_A)  # not scheduled
    assert again.returncode == 0 and "没有给出 19999 的预计人数" in again.stdout
    kiosk_db = sqlite3.connect(office.root / "kiosk-03" / "kiosk.db")
    plans = kiosk_db.execute("SELECT school_code, school_name, expected FROM school_plans")
    assert sorted(plans) == [("10732", "兰州交通大学", 6200), (SCHOOL_A, "示例大学", None)]
    assert not kiosk_db.execute("SELECT 1 FROM students WHERE school_code = '10732'").fetchall()


def test_behind_a_tls_proxy_session_cookies_are_secure_and_logout_ends_the_session(tmp_path):
    from tests.sync_support import Receiver

    data = tmp_path / "central"
    done = central(data, "user", "add", "boss", "--role", "office")
    password = done.stdout.strip().splitlines()[-1]
    receiver = Receiver(data, extra=("--behind-tls-proxy",)).start()
    try:
        import httpx

        # httpx keeps Secure cookies for https only: they go back by hand over loopback http.
        form = httpx.get(receiver.url + "/login")
        assert "Secure" in form.headers["set-cookie"]
        answer = httpx.post(
            receiver.url + "/login",
            data={"name": "boss", "password": password, "csrf": csrf_of(form.text)},
            cookies={"office_login": form.cookies["office_login"]},
        )
        set_cookie = ",".join(answer.headers.get_list("set-cookie"))
        assert "office_session=" in set_cookie and "Secure" in set_cookie
        assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
        token = answer.cookies["office_session"]
        cookies = {"office_session": token}
        page = httpx.get(receiver.url + "/office", cookies=cookies)
        assert page.status_code == 200
        out = httpx.post(
            receiver.url + "/logout", cookies=cookies, data={"csrf": csrf_of(page.text)}
        )
        assert out.status_code == 303
        assert httpx.get(receiver.url + "/office", cookies=cookies).status_code == 303
    finally:
        receiver.stop()


def test_a_roster_reimported_at_the_office_reaches_a_kiosk_at_its_next_pull(office, tmp_path):
    from tests.office_support import SCHOOL_B_NAME, write_roster

    fixed = write_roster(tmp_path / "b.csv", 6, seed=99, code=SCHOOL_B, name=SCHOOL_B_NAME)
    rows = fixed.read_text(encoding="utf-8-sig").splitlines()
    last = rows[-1].split(",")
    last[4] = "更正后"  # the school corrected a name in its sheet
    rows[-1] = ",".join(last)
    fixed.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    imported = central(office.data, "roster", "import", str(fixed))
    assert imported.returncode == 0 and "（新增 0，更新 1，未变 5）" in imported.stdout
    pulled = office.kiosk("kiosk-02", "roster", "pull", "--school", SCHOOL_B)
    assert pulled.returncode == 0 and "（新增 0，更新 1，未变 5）" in pulled.stdout
    kiosk_db = sqlite3.connect(office.root / "kiosk-02" / "kiosk.db")
    assert kiosk_db.execute(
        "SELECT name FROM students WHERE id_number = ?", (last[6],)
    ).fetchone() == ("更正后",)
