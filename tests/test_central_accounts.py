"""Accounts the office runs itself, and a school's decisions taken back, over real HTTP.

One receiver per back end (``central serve`` on 127.0.0.1), a kiosk that
shoots and pulls, the ``central user ...`` commands as the office types them.
"""

from __future__ import annotations

import json
import sqlite3

import httpx
import openpyxl
import pytest

from central import accounts as acc
from kiosk import sample
from tests.backends import central_db
from tests.office_support import SCHOOL_A, SCHOOL_B, Office, central, csrf_of, make_office

pytestmark = pytest.mark.slow

STUDENTS = [r[6] for r in sample.sample_rows(3)]  # school A's ID numbers


@pytest.fixture(scope="module")
def office(tmp_path_factory, module_backend):  # on both back ends (tests/backends.py)
    made = make_office(tmp_path_factory.mktemp("accounts"), students_a=3, students_b=2)
    yield made
    made.receiver.stop()


def add_user(office: Office, name: str, *args: str) -> str:
    done = central(office.data, "user", "add", name, *args)
    assert done.returncode == 0, done.stderr
    office.passwords[name] = done.stdout.strip().splitlines()[-1]
    return office.passwords[name]


def users(office: Office) -> dict[str, dict]:
    return users_of(office.data)


def change_password(client: httpx.Client, old: str, new: str, repeat: str | None = None):
    csrf = csrf_of(client.get("/password").text)
    return client.post(
        "/password", data={"csrf": csrf, "old": old, "new": new, "repeat": repeat or new}
    )


def signed_out(client: httpx.Client) -> bool:
    answer = client.get("/")
    return answer.status_code == 303 and answer.headers["location"] == "/login"


# -- the rules, pure ---------------------------------------------------------------------


def test_password_rules_say_what_to_fix():
    long_enough = "x" * acc.MIN_PASSWORD_LENGTH
    assert acc.password_problem(long_enough, long_enough, "old-password") is None
    assert "不一致" in (acc.password_problem(long_enough, long_enough + "y", "o") or "")
    assert "太短" in (acc.password_problem("short", "short", "o") or "")
    too_long = "x" * (acc.MAX_PASSWORD_LENGTH + 1)
    assert "太长" in (acc.password_problem(too_long, too_long, "o") or "")
    tabbed = "abc\tdefghijk"
    assert "控制字符" in (acc.password_problem(tabbed, tabbed, "o") or "")
    assert "相同" in (acc.password_problem(long_enough, long_enough, long_enough) or "")


# -- accounts ------------------------------------------------------------------------


def test_a_user_changes_their_password_and_their_other_sessions_end(office):
    old = add_user(office, "changer", "--role", "school", "--school", SCHOOL_A)
    here, elsewhere = office.login("changer"), office.login("changer")
    assert here.last_status == elsewhere.last_status == 303
    assert "修改密码" in here.get(f"/school/{SCHOOL_A}").text  # the way there, on every page
    new = "北京-春天-2026-好"
    for problem, data in (
        ("原密码不正确", ("wrong-password", new, new)),
        ("不一致", (old, new, new + "x")),
        ("太短", (old, "abc", "abc")),
    ):
        answer = change_password(here, *data)
        assert answer.status_code == 400 and problem in answer.text, problem
    forged = here.post("/password", data={"csrf": "forged", "old": old, "new": new, "repeat": new})
    assert forged.status_code == 403
    assert office.login("changer").last_status == 303  # nothing changed so far
    answer = change_password(here, old, new)
    assert answer.status_code == 303 and answer.headers["location"] == "/password?done=1"
    assert "密码已修改" in here.get("/password?done=1").text
    assert here.get(f"/school/{SCHOOL_A}").status_code == 200  # this session goes on
    assert signed_out(elsewhere)
    assert office.login("changer", old).last_status == 401
    assert office.login("changer", new).last_status == 303
    stored = (
        central_db(office.data)
        .execute("SELECT password_hash FROM users WHERE name = 'changer'")
        .fetchone()[0]
    )
    assert stored.startswith("$argon2id$") and new not in stored


def test_a_reset_password_ends_sessions_and_must_be_changed_at_the_next_login(office):
    old = add_user(office, "forgetful", "--role", "school", "--school", SCHOOL_B)
    open_session = office.login("forgetful")
    done = central(office.data, "user", "reset", "forgetful")
    assert done.returncode == 0, done.stderr
    assert "已重置" in done.stdout and "须先改成自己的密码" in done.stdout
    initial = done.stdout.strip().splitlines()[-1]
    assert signed_out(open_session)
    assert office.login("forgetful", old).last_status == 401
    client = office.login("forgetful", initial)
    assert client.last_status == 303
    assert users(office)["forgetful"]["must_change_password"] is True
    # Every page leads to the change-password page until the user has chosen one.
    for url in ("/", f"/school/{SCHOOL_B}", f"/school/{SCHOOL_B}/review"):
        answer = client.get(url)
        assert answer.status_code == 303 and answer.headers["location"] == "/password", url
    assert "已由省教育厅重置" in client.get("/password").text
    assert change_password(client, initial, "my-own-password-1").status_code == 303
    assert client.get(f"/school/{SCHOOL_B}").status_code == 200
    listed = users(office)["forgetful"]
    assert listed["must_change_password"] is False and listed["last_login"]
    unknown = central(office.data, "user", "reset", "nobody")
    assert unknown.returncode == 2 and "没有名为 nobody 的账号" in unknown.stderr


def test_a_disabled_account_cannot_log_in_and_its_sessions_end_at_once(office):
    add_user(office, "leaver", "--role", "school", "--school", SCHOOL_A)
    client = office.login("leaver")
    csrf = csrf_of(client.get(f"/school/{SCHOOL_A}/review").text)
    done = central(office.data, "user", "disable", "leaver")
    assert done.returncode == 0 and "已停用" in done.stdout, done.stderr
    assert signed_out(client)
    # The cookie of the ended session posts nothing, and the page says why.
    answer = client.post(
        f"/school/{SCHOOL_A}/review/retake",
        data={"csrf": csrf, "student": STUDENTS[0], "reason": "other"},
    )
    assert answer.status_code == 401 and "账号已停用" in answer.text
    again = office.login("leaver")
    assert again.last_status == 403 and signed_out(again)
    assert users(office)["leaver"]["disabled"] is True
    assert central(office.data, "user", "enable", "leaver").returncode == 0
    assert office.login("leaver").last_status == 303
    listing = central(office.data, "user", "list")
    assert listing.returncode == 0 and "用户名" in listing.stdout and "leaver" in listing.stdout
    assert "$argon2" not in listing.stdout + central(office.data, "user", "list", "--json").stdout
    listed = users(office)
    assert listed["leaver"]["disabled"] is False
    assert (listed["registrar-b"]["role"], listed["registrar-b"]["school"]) == ("school", SCHOOL_B)
    assert listed["office1"]["school"] is None and "password_hash" not in listed["office1"]
    db = central_db(office.data)
    assert db.execute("SELECT count(*) FROM decisions WHERE \"user\" = 'leaver'").fetchone()[0] == 0


# -- withdrawing a school's decision -------------------------------------------------------


def sheet_ids(path) -> list[str]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    column = rows[0].index("身份证号")
    return [r[column] for r in rows[1:]]


def retake_requests(office: Office, kiosk_id: str) -> list[str]:
    pulled = office.kiosk(kiosk_id, "roster", "pull", "--school", SCHOOL_A)
    assert pulled.returncode == 0, pulled.stderr
    db = sqlite3.connect(office.root / kiosk_id / "kiosk.db")
    try:
        return [r[0] for r in db.execute("SELECT id_number FROM retake_requests")]
    finally:
        db.close()


def test_a_registrar_withdraws_a_decision_and_export_and_kiosks_follow(office, tmp_path):
    client = office.login("registrar-a")
    page = client.get(f"/school/{SCHOOL_A}/review")
    csrf = csrf_of(page.text)
    retake, erratum = STUDENTS[0], STUDENTS[1]
    for kind, data in (
        ("retake", {"student": retake, "reason": "eyes_closed"}),
        ("erratum", {"student": erratum, "field": "major", "value": "软件工程"}),
    ):
        answer = client.post(f"/school/{SCHOOL_A}/review/{kind}", data={"csrf": csrf, **data})
        assert answer.status_code == 303
    assert retake_requests(office, "kiosk-01") == [retake]
    db = central_db(office.data)
    ids = dict(
        db.execute(
            "SELECT kind, id FROM decisions WHERE school_code = ? AND withdrawn_at IS NULL",
            (SCHOOL_A,),
        ).fetchall()
    )
    pages = [
        f"/school/{SCHOOL_A}/review?department={department}"
        for (department,) in db.execute(
            "SELECT DISTINCT department FROM roster WHERE id_number IN (?, ?)", (retake, erratum)
        ).fetchall()
    ]

    def buttons() -> int:
        return sum(client.get(url).text.count("/review/withdraw") for url in pages)

    assert buttons() == 2  # one beside each mark
    assert client.post(f"/school/{SCHOOL_A}/review/finish", data={"csrf": csrf}).status_code == 303
    assert buttons() == 0

    def withdraw(number: int, school: str = SCHOOL_A, token: str = csrf) -> httpx.Response:
        return client.post(
            f"/school/{school}/review/withdraw", data={"csrf": token, "decision": str(number)}
        )

    # Finished: reopen first (the page says so).
    refused = withdraw(ids["retake"])
    assert refused.status_code == 409 and "重新打开审核" in refused.text
    # Another school's URL, a forged token, a number that is no live decision of A.
    assert withdraw(ids["retake"], SCHOOL_B).status_code == 403
    assert withdraw(ids["retake"], token="forged").status_code == 403
    assert client.post(f"/school/{SCHOOL_A}/review/reopen", data={"csrf": csrf}).status_code == 303
    assert withdraw(10**9).status_code == 404
    assert withdraw(ids["retake"], SCHOOL_B).status_code == 403
    other = office.login("registrar-b")
    other_csrf = csrf_of(other.get(f"/school/{SCHOOL_B}/review").text)
    foreign = other.post(
        f"/school/{SCHOOL_B}/review/withdraw",
        data={"csrf": other_csrf, "decision": str(ids["erratum"])},
    )
    assert foreign.status_code == 404  # A's decision under B's URL: not B's to touch
    assert (
        db.execute("SELECT count(*) FROM decisions WHERE withdrawn_at IS NOT NULL").fetchone()[0]
        == 0
    )

    for kind in ("retake", "erratum"):
        answer = withdraw(ids[kind])
        assert answer.status_code == 303 and "withdraw" not in answer.headers["location"]
    assert withdraw(ids["retake"]).status_code == 404  # once only
    history = db.execute(
        "SELECT kind, withdrawn_by, withdrawn_at FROM decisions WHERE school_code = ? ORDER BY id",
        (SCHOOL_A,),
    ).fetchall()
    assert [(k, by) for k, by, _ in history] == [
        ("retake", "registrar-a"),
        ("erratum", "registrar-a"),
    ]
    assert all(at for *_, at in history)
    assert buttons() == 0
    for url in pages:
        page = client.get(url).text
        assert "撤销记录" in page and "已要求重拍" not in page and "已更正" not in page

    assert retake_requests(office, "kiosk-01") == []
    done = central(office.data, "export", "--school", SCHOOL_A, "--out", str(tmp_path))
    assert done.returncode in (0, 1), done.stderr
    assert retake not in sheet_ids(tmp_path / SCHOOL_A / "retakes.xlsx")
    assert erratum not in sheet_ids(tmp_path / SCHOOL_A / "errata.xlsx")


def test_a_database_of_the_previous_release_is_brought_up_to_date(tmp_path, backend):
    """central.db files and PostgreSQL databases made before accounts could be
    disabled open with every account and decision kept."""
    from central.backends import MIGRATIONS, SCHEMA
    from central.database import PostgresDatabase, SqliteDatabase

    data = tmp_path / "central"
    old = (
        SqliteDatabase(data / "central.db", SCHEMA)
        if backend.embedded
        else PostgresDatabase(backend.db_url, MIGRATIONS[:1], create=True)
    )
    with old.write() as conn:
        conn.execute(
            "INSERT INTO users (name, role, school_code, password_hash, created_at) "
            "VALUES ('kept', 'office', '', 'x', '2026-01-01T00:00:00Z')"
        )
    old.close()
    assert central(data, "user", "disable", "kept").returncode == 0
    listed = users_of(data)
    assert listed == {"kept": listed["kept"]} and listed["kept"]["disabled"] is True
    # A second open finds nothing left to do.
    assert central(data, "user", "enable", "kept").returncode == 0
    assert users_of(data)["kept"]["disabled"] is False


def users_of(data) -> dict[str, dict]:
    done = central(data, "user", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {u["name"]: u for u in json.loads(done.stdout)}


# -- hostile forms ---------------------------------------------------------------------


def test_forms_parse_only_short_clean_urlencoded_fields():
    from central.forms import FormProblem, parse_form

    form = "application/x-www-form-urlencoded"
    assert parse_form(form + "; charset=utf-8", b"csrf=t&value=%E8%BD%AF%E4%BB%B6") == {
        "csrf": "t",
        "value": "软件",
    }
    for content_type, body, status in (
        ("multipart/form-data; boundary=x", b"csrf=t", 415),
        (form, b"value=" + b"x" * 20_000, 413),
        (form, b"value=" + b"x" * 1_001, 413),
        (form, b"value=a%00b", 400),
        (form, b"value=a%1Bb", 400),
        (form, b"value=a%E2%80%A8b", 400),  # U+2028, a line separator
        (form, b"value=%FF%FE", 400),  # not UTF-8
        (form, b"a=1&a=2", 400),
        (form, b"&".join(b"f%d=1" % i for i in range(30)), 400),
    ):
        with pytest.raises(FormProblem) as refused:
            parse_form(content_type, body)
        assert refused.value.status == status, body[:40]


def snapshot(office: Office) -> list:
    db = central_db(office.data)
    return [
        db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        for table in ("decisions", "reviews_finished", "users", "web_sessions")
    ]


def test_every_form_refuses_hostile_input_with_a_clear_page_and_changes_nothing(office):
    """Overlong fields, control characters, another school's code, a forged token and a
    disabled account's cookie, on every form route: a 4xx page that says what happened."""
    password = add_user(office, "hostile", "--role", "school", "--school", SCHOOL_B)
    add_user(office, "gone", "--role", "school", "--school", SCHOOL_B)
    client, gone = office.login("hostile"), office.login("gone")
    csrf = csrf_of(client.get(f"/school/{SCHOOL_B}/review").text)
    gone_csrf = csrf_of(gone.get(f"/school/{SCHOOL_B}/review").text)
    assert central(office.data, "user", "disable", "gone").returncode == 0
    student = sample.sample_rows(2, seed=99)[0][6]
    forms = {
        "/school/{code}": {"q": "2021"},
        "/school/{code}/review/retake": {"student": student, "reason": "other"},
        "/school/{code}/review/erratum": {"student": student, "field": "name", "value": "新名"},
        "/school/{code}/review/finish": {},
        "/school/{code}/review/reopen": {},
        "/school/{code}/review/withdraw": {"decision": "1"},
        "/password": {"old": password, "new": "new-password-1", "repeat": "new-password-1"},
        "/logout": {},
    }
    before = snapshot(office)
    attempts = 0
    for route, fields in forms.items():
        own, other = route.format(code=SCHOOL_B), route.format(code=SCHOOL_A)
        hostile = [
            (own, {**fields, "csrf": "forged"}, 403, "表单已过期"),
            (own, {**fields, "csrf": csrf, "extra": "x" * 20_000}, 413, "太长"),
            (own, {**fields, "csrf": csrf, "department": "x" * 1_001}, 413, "太长"),
            (own, {**fields, "csrf": csrf, "department": "信息\x00学院"}, 400, "控制字符"),
            (own, {**fields, "csrf": csrf, "department": "信息\x1b[2J"}, 400, "控制字符"),
        ]
        if own != other:
            hostile.append((other, {**fields, "csrf": csrf}, 403, "无权访问"))
        for url, data, status, words in hostile:
            answer = client.post(url, data=data)
            assert (answer.status_code, words in answer.text) == (status, True), (url, status)
            assert 'class="err"' in answer.text
            attempts += 1
        ended = gone.post(own, data={**fields, "csrf": gone_csrf})
        assert ended.status_code == 401 and "请重新登录" in ended.text, own
    for kind, fields in (
        ("retake", {"reason": "bogus"}),
        ("erratum", {"field": "password_hash", "value": "x"}),
        ("erratum", {"field": "name", "value": "x" * 101}),
        ("erratum", {"field": "name", "value": "   "}),
    ):
        url = f"/school/{SCHOOL_B}/review/{kind}"
        answer = client.post(url, data={"csrf": csrf, "student": student, **fields})
        assert answer.status_code == 400 and "请" in answer.text and 'class="err"' in answer.text
    assert client.post(f"/school/{SCHOOL_B}/review/bogus", data={"csrf": csrf}).status_code == 403
    # The login form too: an overlong name, a control character, no token.
    import httpx

    fresh = httpx.Client(base_url=office.url)
    login_token = csrf_of(fresh.get("/login").text)
    for data, status in (
        ({"name": "x" * 5_000, "password": "p", "csrf": login_token}, 413),
        ({"name": "hostile\x00", "password": password, "csrf": login_token}, 400),
        ({"name": "hostile", "password": password, "csrf": "forged"}, 403),
    ):
        answer = fresh.post("/login", data=data)
        assert answer.status_code == status and 'class="err"' in answer.text
        assert "office_session" not in answer.cookies
    assert attempts >= 40
    assert snapshot(office) == before
    assert client.get(f"/school/{SCHOOL_B}").status_code == 200  # still signed in
