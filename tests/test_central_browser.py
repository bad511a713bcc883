"""The office's pages in a real headless Chromium (Debian's chromium + chromium-driver).

Three flows: the office's overview matches the database; a registrar marks a
retake and an erratum (and withdraws a third mark), after which ``central
export`` lists both and a kiosk that pulls sees the retake; a school account
is refused on another school's pages and photos. ``OFFICE_SCREENSHOTS=DIR`` keeps a PNG of each page (the
ones in docs/ come from here).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from kiosk import sample
from tests.backends import central_db
from tests.office_support import SCHOOL_A, SCHOOL_B, Office, central, make_office

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):  # pragma: no cover - install.sh --dev installs both
    pytest.skip(
        "needs Debian's chromium and chromium-driver (./install.sh --dev)", allow_module_level=True
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def office(tmp_path_factory, module_backend) -> Iterator[Office]:  # both back ends
    made = make_office(tmp_path_factory.mktemp("browser"), students_a=12, students_b=4)
    made.shoot("kiosk-01", SCHOOL_A, 0, 3)
    made.shoot("kiosk-02", SCHOOL_A, 3, 2)
    made.shoot("kiosk-02", SCHOOL_B, 0, 2)
    yield made
    made.receiver.stop()


@pytest.fixture
def browser(tmp_path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in (
        "--headless=new",
        "--no-sandbox",  # as root in CI
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1200,900",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def screenshot(driver: webdriver.Chrome, name: str, *, width: int = 1200) -> None:
    folder = os.environ.get("OFFICE_SCREENSHOTS")
    if not folder:
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(int(height) + 100, 600), 2400))
    Path(folder).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))
    driver.set_window_size(1200, 900)


def log_in(driver: webdriver.Chrome, office: Office, name: str) -> None:
    driver.get(office.url + "/login")
    screenshot(driver, "central-login", width=420)
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(office.passwords[name])
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(driver, 30).until(lambda d: not d.current_url.endswith("/login"))


def after_post(browser, element_id: str, text: str) -> bool:
    """Whether the page after a form's POST and redirect shows ``text`` in the
    element: a click on a submit button returns before the next page has loaded
    (and the page before may hold an element of the same id), so wait for it."""

    def shown(driver) -> bool:
        found = driver.find_elements(By.ID, element_id)
        return bool(found) and text in found[0].text

    try:
        # The old page may go away between finding the element and reading it.
        WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
            shown
        )
    except TimeoutException:
        return False
    return True


def test_office_overview_numbers_match_the_database(office, browser):
    log_in(browser, office, "office1")
    assert browser.current_url.endswith("/office")
    db = central_db(office.data)
    for code in (SCHOOL_A, SCHOOL_B):
        row = browser.find_element(By.CSS_SELECTOR, f'#schools tr[data-code="{code}"]')
        shown = {
            field: int(row.find_element(By.CLASS_NAME, field).text)
            for field in ("roster", "photographed", "missing")
        }
        roster = db.execute(
            "SELECT count(*) FROM roster WHERE school_code = ?", (code,)
        ).fetchone()[0]
        photographed = db.execute(
            "SELECT count(DISTINCT id_number) FROM records WHERE school_code = ? "
            "AND status IN ('accepted', 'flagged')",
            (code,),
        ).fetchone()[0]
        assert shown == {
            "roster": roster,
            "photographed": photographed,
            "missing": roster - photographed,
        }
    kiosks = {
        r.get_attribute("data-kiosk"): int(r.find_element(By.CLASS_NAME, "today").text)
        for r in browser.find_elements(By.CSS_SELECTOR, "#kiosks tr[data-kiosk]")
    }
    per_kiosk = dict(
        db.execute("SELECT kiosk_id, count(*) FROM records GROUP BY kiosk_id").fetchall()
    )
    assert kiosks == {
        "kiosk-01": per_kiosk["kiosk-01"],
        "kiosk-02": per_kiosk["kiosk-02"],
        "kiosk-03": 0,
    }
    expected = int(browser.find_element(By.ID, "total-expected").text)
    assert expected == db.execute("SELECT sum(expected) FROM schedule").fetchone()[0]
    screenshot(browser, "central-office")


def test_registrar_marks_retake_and_erratum_then_export_and_kiosk_see_them(
    office, browser, tmp_path
):
    log_in(browser, office, "registrar-a")
    assert browser.current_url.endswith(f"/school/{SCHOOL_A}")
    screenshot(browser, "central-school")
    rows = sample.sample_rows(12)
    # Searching by a full ID number: found, shown masked, never in the URL.
    box = browser.find_element(By.NAME, "q")
    box.send_keys(rows[2][6])
    box.submit()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "results"))
    results = browser.find_element(By.ID, "results").text
    assert rows[2][4] in results and rows[2][6] not in browser.page_source
    assert rows[2][6] not in browser.current_url
    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys("2021")
    box.submit()
    WebDriverWait(browser, 30).until(lambda d: "找到 12 人" in d.page_source)
    screenshot(browser, "central-school-search")
    browser.find_element(By.LINK_TEXT, "照片审核（校对）").click()
    retake, erratum = rows[0], rows[1]  # 信息学院 and 经济管理学院
    browser.find_element(By.PARTIAL_LINK_TEXT, retake[9]).click()
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-student-number="{retake[3]}"]')
    card.find_element(By.XPATH, ".//summary[text()='重拍']").click()
    Select(card.find_element(By.NAME, "reason")).select_by_visible_text("闭眼")
    card.find_element(By.XPATH, ".//button[text()='要求重拍']").click()
    assert after_post(browser, "message", "已标记重拍")
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-student-number="{retake[3]}"]')
    assert "已要求重拍" in card.text
    screenshot(browser, "central-review")

    browser.find_element(By.PARTIAL_LINK_TEXT, erratum[9]).click()
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-student-number="{erratum[3]}"]')
    card.find_element(By.XPATH, ".//summary[text()='信息有误']").click()
    Select(card.find_element(By.NAME, "field")).select_by_visible_text("姓名")
    card.find_element(By.NAME, "value").send_keys("欧阳正名")
    card.find_element(By.XPATH, ".//button[text()='提交更正']").click()
    assert after_post(browser, "message", "已记录信息更正")
    # A retake marked by mistake is withdrawn beside its tag: the export below lists none.
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-student-number="{erratum[3]}"]')
    card.find_element(By.XPATH, ".//summary[text()='重拍']").click()
    card.find_element(By.XPATH, ".//button[text()='要求重拍']").click()
    assert after_post(browser, "message", "已标记重拍")
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-student-number="{erratum[3]}"]')
    card.find_element(By.CSS_SELECTOR, "form[action$='/review/withdraw'] button").click()
    assert after_post(browser, "message", "已撤销标记")
    browser.find_element(By.ID, "finish").click()
    assert after_post(browser, "finished", "审核已完成")

    done = central(office.data, "export", "--school", SCHOOL_A, "--out", str(tmp_path))
    assert done.returncode == 1, done.stderr
    package = tmp_path / SCHOOL_A

    def rows_of(name: str) -> list[dict]:
        cells = list(openpyxl.load_workbook(package / name).active.iter_rows(values_only=True))
        return [dict(zip(cells[0], r, strict=True)) for r in cells[1:]]

    assert [(r["身份证号"], r["原因"]) for r in rows_of("retakes.xlsx")] == [
        (retake[6], "学校审核：闭眼")
    ]
    assert [(r["身份证号"], r["勘误项目"], r["更正内容"]) for r in rows_of("errata.xlsx")] == [
        (erratum[6], "姓名", "欧阳正名")
    ]
    pulled = office.kiosk("kiosk-01", "roster", "pull", "--school", SCHOOL_A)
    assert pulled.returncode == 0 and "重拍要求 1 个" in pulled.stdout
    kiosk_db = sqlite3.connect(office.root / "kiosk-01" / "kiosk.db")
    assert kiosk_db.execute("SELECT id_number FROM retake_requests").fetchall() == [(retake[6],)]


def test_school_account_is_refused_on_another_schools_pages_and_photos(office, browser):
    log_in(browser, office, "registrar-b")
    db = central_db(office.data)
    record = db.execute(
        "SELECT uuid FROM records WHERE school_code = ? LIMIT 1", (SCHOOL_A,)
    ).fetchone()[0]
    for path in (f"/school/{SCHOOL_A}", f"/school/{SCHOOL_A}/review", "/office"):
        browser.get(office.url + path)
        assert "无权访问此页面" in browser.page_source, path
        assert "示例大学" not in browser.page_source
    screenshot(browser, "central-refused", width=420)
    browser.get(office.url + "/password")
    assert browser.find_elements(By.ID, "change-password")
    screenshot(browser, "central-password", width=420)
    # A photo of school A in an <img> on school B's own page: the browser gets no image.
    browser.get(office.url + f"/school/{SCHOOL_B}")
    loaded = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const img = new Image();"
        "img.onload = () => done(img.naturalWidth);"
        "img.onerror = () => done(-1);"
        f"img.src = '/photos/{record}.jpg';"
    )
    assert loaded == -1
    own = db.execute(
        "SELECT uuid FROM records WHERE school_code = ? LIMIT 1", (SCHOOL_B,)
    ).fetchone()[0]
    loaded = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const img = new Image();"
        "img.onload = () => done(img.naturalWidth);"
        "img.onerror = () => done(-1);"
        f"img.src = '/photos/{own}.jpg';"
    )
    assert loaded == 120
    # The phone-sized school page (one column, nothing cut off).
    browser.set_window_size(390, 844)
    browser.get(office.url + f"/school/{SCHOOL_B}/review")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390 + 1
    if os.environ.get("OFFICE_SCREENSHOTS"):
        browser.save_screenshot(
            str(Path(os.environ["OFFICE_SCREENSHOTS"]) / "central-review-phone.png")
        )
