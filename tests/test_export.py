"""The delivery package, read back file by file against the database."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw, ImageFont

from kiosk import idnumber
from kiosk.config import ExportConfig
from kiosk.export import from_store, proofs, sheets, writer
from kiosk.fonts import cjk_font
from kiosk.store import Store
from tests.export_data import WALK_IN_ID, School, make_photo, mixed_school, roster_students

FILES = {"index.xlsx", "index.csv", "proofs.pdf", "missing.xlsx", "retakes.xlsx", "errata.xlsx"}


@dataclasses.dataclass
class Exported:
    store: Store
    school: School
    root: Path
    out: Path  # the package folder
    result: writer.PackageResult


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("export")
    store = Store(base / "data" / "kiosk.db")
    school = mixed_school(store, base, count=40)
    [package] = from_store.packages(store)
    result = writer.write_package(package, base / "out", ExportConfig())
    yield Exported(store, school, base, result.path, result)
    store.close()


def delivered_in_db(store: Store) -> dict[int, tuple[str | None, str, int]]:
    """student id -> (ID number, stored file, 拍摄序号) of the latest delivered shot, by SQL."""
    rows = store.conn.execute(
        """
        SELECT st.id, st.id_number, sh.file, sh.seq FROM shots sh
        JOIN students st ON st.id = sh.student_id
        WHERE sh.id = (SELECT x.id FROM shots x WHERE x.student_id = sh.student_id
                       AND x.status IN ('accepted', 'flagged')
                       ORDER BY x.taken_at DESC, x.id DESC LIMIT 1)
        """
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def sheet_rows(path: Path) -> tuple[list[str], list[tuple]]:
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


# -- photos --------------------------------------------------------------------


def test_package_has_every_file_and_only_those(exported: Exported):
    names = {p.name for p in exported.out.iterdir()}
    assert names == FILES | {"photos", "SHA256SUMS"}
    assert not [p for p in exported.root.joinpath("out").iterdir() if p.name.startswith(".")]


def test_photos_are_the_latest_delivered_shots_named_by_id_number(exported: Exported):
    expected = delivered_in_db(exported.store)
    assert set(expected) == exported.school.photographed
    photos = sorted((exported.out / "photos").iterdir())
    assert len(photos) == len(expected)
    by_name = {p.name: p for p in photos}
    data_dir = exported.store.data_dir
    for id_number, file, _ in expected.values():
        assert id_number is not None
        path = by_name[f"{id_number}.jpg"]
        assert idnumber.parse(path.stem).value == path.stem
        assert path.read_bytes() == (data_dir / file).read_bytes()
        with Image.open(path) as image:
            assert (image.format, image.size) == ("JPEG", (480, 640))


def test_sha256sums_covers_every_file_and_verifies(exported: Exported):
    listed = {}
    for line in (exported.out / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = {
        p.relative_to(exported.out).as_posix()
        for p in exported.out.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((exported.out / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        subprocess.run(
            ["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=exported.out, check=True
        )


# -- sheets --------------------------------------------------------------------


def test_index_xlsx_is_the_school_database_format(exported: Exported):
    headers, rows = sheet_rows(exported.out / "index.xlsx")
    assert headers == [
        "拍摄序号",
        "院校名称",
        "院校代码",
        "学号",
        "姓名",
        "性别",
        "身份证号",
        "学历",
        "专业名称",
        "院系",
        "类型",
        "拍摄场次",
        "采集码",
    ]
    expected = delivered_in_db(exported.store)
    assert len(rows) == len(expected)
    assert sorted((r[6], r[0]) for r in rows) == sorted((v[0], v[2]) for v in expected.values())
    photos = {p.stem for p in (exported.out / "photos").iterdir()}
    assert {r[6] for r in rows} == photos

    sheet = load_workbook(exported.out / "index.xlsx").worksheets[0]
    assert not sheet.merged_cells.ranges
    for row in sheet.iter_rows(min_row=1):
        for cell in row:
            assert (cell.font.name, cell.font.sz) == ("宋体", 10)
            assert cell.alignment.horizontal == "left"
    for cell in sheet["G"][1:] + sheet["D"][1:] + sheet["C"][1:]:  # 身份证号, 学号, 院校代码
        assert cell.data_type == "s" and isinstance(cell.value, str)
        assert cell.number_format == "@"
    assert all(isinstance(c.value, int) for c in sheet["A"][1:])
    # The rows are grouped by 类型 and 院系, which the sheet now shows, so the
    # order of 拍摄序号 is explained: within a department it only rises.
    departments = {
        r[0]: r[1]
        for r in exported.store.conn.execute("SELECT id_number, department FROM students")
    }
    assert [r[9] for r in rows] == [departments[r[6]] for r in rows]
    assert {r[10] for r in rows} == {"普通生"}
    for department in set(departments.values()):
        numbers = [r[0] for r in rows if r[9] == department]
        assert numbers == sorted(numbers)
    session = f"第 {exported.school.session_id} 场"
    assert all(re.fullmatch(session + r"（\d{4}-\d\d-\d\d）", r[11]) for r in rows)


def test_index_csv_round_trips_through_csv_module(exported: Exported):
    raw = (exported.out / "index.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    headers, xlsx_rows = sheet_rows(exported.out / "index.xlsx")
    assert rows[0] == headers
    assert rows[1:] == [["" if v is None else str(v) for v in r] for r in xlsx_rows]
    for row in rows[1:]:
        assert idnumber.parse(row[6]).value == row[6]  # 18 characters, nothing lost


def test_missing_lists_roster_students_without_a_delivered_photo(exported: Exported):
    headers, rows = sheet_rows(exported.out / "missing.xlsx")
    assert headers[-1] == "情况"
    delivered = set(delivered_in_db(exported.store))
    expected = {
        r[0]
        for r in exported.store.conn.execute(
            f"SELECT id_number FROM students WHERE id NOT IN ({','.join(map(str, delivered))})"
        )
    }
    id_column = headers.index("身份证号")
    assert {r[id_column] for r in rows} == expected
    assert len(rows) == 40 - 29  # 10 never photographed + 1 refused twice
    states = [r[-1] for r in rows]
    assert states.count("未拍摄") == 10
    assert "照片未通过（2 次）" in states


def test_retakes_lists_students_whose_latest_shot_was_refused_or_flagged(exported: Exported):
    headers, rows = sheet_rows(exported.out / "retakes.xlsx")
    ids = exported.school.student_ids
    numbers = {
        r[0]: r[1] for r in exported.store.conn.execute("SELECT id, id_number FROM students")
    }
    column = {h: i for i, h in enumerate(headers)}
    by_id = {r[column["身份证号"]]: r for r in rows}
    assert set(by_id) == {numbers[ids[26]], numbers[ids[27]], numbers[ids[28]]}
    good_then_refused = by_id[numbers[ids[26]]]
    assert good_then_refused[column["最近一次"]] == "未通过"
    assert good_then_refused[column["已交付照片"]] == "是"
    # the reason itself, not the instruction the student heard ("请保持不动")
    assert "照片不清晰" in good_then_refused[column["原因"]].split("；")  # blurry
    assert "请" not in good_then_refused[column["原因"]]
    assert by_id[numbers[ids[27]]][column["最近一次"]] == "待复核"
    assert by_id[numbers[ids[28]]][column["已交付照片"]] == "否"
    assert by_id[numbers[ids[28]]][column["拍摄序号"]] is None


def test_errata_has_walk_in_and_correction(exported: Exported):
    headers, rows = sheet_rows(exported.out / "errata.xlsx")
    column = {h: i for i, h in enumerate(headers)}
    assert len(rows) == 2
    walk_in, corrected = rows
    assert walk_in[column["身份证号"]] == WALK_IN_ID
    assert "新增学生" in walk_in[column["勘误项目"]]
    assert "补录生" in walk_in[column["更正内容"]]
    assert corrected[column["勘误项目"]] == "姓名"
    old = corrected[column["原内容"]]
    assert corrected[column["更正内容"]] == old + "改"
    assert corrected[column["更正时间"]] == "2026-06-03 10:31"  # UTC+8


# -- proofs --------------------------------------------------------------------


def test_proofs_page_count_and_every_caption_in_the_text(exported: Exported):
    from pypdf import PdfReader

    reader = PdfReader(exported.out / "proofs.pdf")
    # 4 departments (sample roster: student i is in department i % 4), 16 per page.
    departments = {}
    for row in exported.store.conn.execute(
        f"SELECT department, count(*) FROM students WHERE id IN "
        f"({','.join(map(str, exported.school.photographed))}) GROUP BY department"
    ):
        departments[row[0]] = row[1]
    per_page = ExportConfig().columns * ExportConfig().rows
    expected_pages = sum(math.ceil(n / per_page) for n in departments.values())
    assert len(reader.pages) == expected_pages == exported.result.pages
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert f"第 1 / {expected_pages} 页" in reader.pages[0].extract_text()
    delivered = delivered_in_db(exported.store)
    for student_id, (id_number, _, seq) in delivered.items():
        name, number, school = exported.store.conn.execute(
            "SELECT name, student_number, school_name FROM students WHERE id = ?", (student_id,)
        ).fetchone()
        for value in (school, name, f"学号 {number}", id_number, f"拍摄序号 {seq}"):
            assert value in text, value
    assert reader.metadata is not None
    assert reader.metadata.creation_date.year == 2026


def _glyph_template(text: str, points: float, dpi: int) -> np.ndarray:
    font_file = cjk_font()
    font = ImageFont.truetype(
        str(font_file.path), size=round(points * dpi / 72), index=font_file.index
    )
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 8, bottom - top + 8), 255)
    ImageDraw.Draw(image).text((4 - left, 4 - top), text, font=font, fill=0)
    return np.asarray(image)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_first_proof_page_renders_with_cjk_glyphs_in_poppler(exported: Exported, tmp_path: Path):
    import cv2

    dpi = 150
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-gray", "-png",
         str(exported.out / "proofs.pdf"), str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    page = np.asarray(Image.open(tmp_path / "page-1.png").convert("L"))
    height, width = page.shape  # A4 portrait
    assert abs(height - 297 / 25.4 * dpi) <= 1.5 and abs(width - 210 / 25.4 * dpi) <= 1.5
    dark = (page < 128).mean()
    assert 0.01 < dark < 0.5, "page is blank or black"
    # The photos were drawn: the grid area differs from white paper.
    grid = page[int(page.shape[0] * 0.1) : int(page.shape[0] * 0.3)]
    assert grid.std() > 20
    # The header's Chinese text is drawn with real glyphs: it matches the same
    # text rendered from the font, and text that is not there does not.
    header = page[: int(page.shape[0] * 0.1)]

    def best(text: str) -> float:
        template = _glyph_template(text, proofs.TITLE_PT, dpi)
        return float(cv2.matchTemplate(header, template, cv2.TM_CCOEFF_NORMED).max())

    assert best("示例大学") > 0.8
    assert best("照片校对表") > 0.8
    assert best("北京理工") < 0.6


def test_masked_id_numbers_in_captions(exported: Exported, tmp_path: Path):
    from pypdf import PdfReader

    [package] = from_store.packages(exported.store)
    settings = ExportConfig(mask_id_number=True, captions=("学生姓名", "身份证号码"))
    result = writer.write_package(package, tmp_path, settings)
    text = "".join(p.extract_text() for p in PdfReader(result.path / "proofs.pdf").pages)
    for id_number, _, _ in delivered_in_db(exported.store).values():
        assert id_number not in text
        assert f"{id_number[:6]}********{id_number[-4:]}" in text
    # The photos and sheets still carry the full number.
    assert {p.stem for p in (result.path / "photos").iterdir()} == {
        v[0] for v in delivered_in_db(exported.store).values()
    }


# -- determinism and atomicity ---------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_second_export_is_byte_identical(exported: Exported, tmp_path: Path):
    [package] = from_store.packages(exported.store)
    again = writer.write_package(package, tmp_path, ExportConfig())
    first, second = _tree(exported.out), _tree(again.path)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    # Exporting over the earlier package replaces it in place, same bytes.
    replaced = writer.write_package(package, tmp_path, ExportConfig())
    assert _tree(replaced.path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["19999"]


def test_damaged_photo_stops_the_export_and_keeps_the_old_package(tmp_path: Path):
    with Store(tmp_path / "data" / "kiosk.db") as store:
        ids = roster_students(store, tmp_path, 32)
        session = store.open_session(station_id="k", school_code="19999", school_name="示例大学")
        shots = [
            store.save_shot(
                student_id=i, session_id=session.id, jpeg=make_photo(n), status="accepted"
            )
            for n, i in enumerate(ids[:5])
        ]
        [package] = from_store.packages(store)
        first = writer.write_package(package, tmp_path / "out", ExportConfig())
        before = _tree(first.path)
        (store.data_dir / shots[2].file).write_bytes(make_photo(99))
        with pytest.raises(writer.ExportError, match="changed or is damaged") as caught:
            writer.write_package(package, tmp_path / "out", ExportConfig())
        assert "Nothing was exported" in str(caught.value)
        assert _tree(first.path) == before
        assert [p.name for p in (tmp_path / "out").iterdir()] == ["19999"]


def test_progress_reports_exactly_the_announced_steps(exported: Exported, tmp_path: Path):
    [package] = from_store.packages(exported.store)
    done: list[int] = []
    writer.write_package(package, tmp_path, ExportConfig(), progress=done.append)
    assert sum(done) == writer.steps(package, ExportConfig())


def test_a_folder_that_is_not_a_package_is_not_replaced(exported: Exported, tmp_path: Path):
    (tmp_path / "19999").mkdir()
    (tmp_path / "19999" / "notes.txt").write_text("the crew's own file")
    [package] = from_store.packages(exported.store)
    with pytest.raises(writer.ExportError, match="not a package"):
        writer.write_package(package, tmp_path, ExportConfig())
    assert (tmp_path / "19999" / "notes.txt").read_text() == "the crew's own file"


def test_leftover_partial_folder_of_a_dead_export_is_removed(exported: Exported, tmp_path: Path):
    stale = tmp_path / ".19999.partial-999999999"
    (stale / "photos").mkdir(parents=True)
    [package] = from_store.packages(exported.store)
    writer.write_package(package, tmp_path, ExportConfig())
    assert not stale.exists()


# -- file names ----------------------------------------------------------------


def test_student_number_template(exported: Exported, tmp_path: Path):
    [package] = from_store.packages(exported.store)
    result = writer.write_package(package, tmp_path, ExportConfig(file_name="{学号}.jpg"))
    numbers = {
        r[0]
        for r in exported.store.conn.execute(
            f"SELECT student_number FROM students WHERE id IN "
            f"({','.join(map(str, exported.school.photographed))})"
        )
    }
    assert {p.stem for p in (result.path / "photos").iterdir()} == numbers


def test_collection_code_template_for_a_roster_less_session(tmp_path: Path):
    with Store(tmp_path / "kiosk.db") as store:
        session = store.open_session(station_id="k", school_code="10730", school_name="兰州大学")
        codes = [f"CJ{n:08d}" for n in range(3)]
        for n, code in enumerate(codes):
            with store.transaction() as conn:
                student = conn.execute(
                    "INSERT INTO students (collection_code, name, school_code, origin, "
                    "imported_at, updated_at) VALUES (?, ?, '10730', 'collection_code', '', '')",
                    (code, f"学生{n}"),
                ).lastrowid
            store.save_shot(
                student_id=int(student or 0),
                session_id=session.id,
                jpeg=make_photo(n),
                status="accepted",
                collection_code=code,
            )
        [package] = from_store.packages(store, session_id=session.id)
        assert package.folder == f"10730-session{session.id}"
        # With the default settings they are named by 拍摄序号, and the index
        # ties each file to its code.
        result = writer.write_package(package, tmp_path / "default", ExportConfig())
        _, rows = sheet_rows(result.path / "index.xlsx")
        files = {p.stem for p in (result.path / "photos").iterdir()}
        assert files == {str(r[0]) for r in rows} and len(files) == 3
        assert sorted(r[-1] for r in rows) == codes
        with pytest.raises(writer.ExportError, match=r"no 身份证号"):
            writer.write_package(
                package, tmp_path / "out", ExportConfig(file_name_without_id="{身份证号}.jpg")
            )
        result = writer.write_package(
            package, tmp_path / "out", ExportConfig(file_name="{采集码}.jpg")
        )
        assert sorted(p.stem for p in (result.path / "photos").iterdir()) == codes
        # The school's name comes from the session where the students lack it.
        _, rows = sheet_rows(result.path / "index.xlsx")
        assert {(r[1], r[2]) for r in rows} == {("兰州大学", "10730")}
        assert not (tmp_path / "out" / "10730").exists()


def test_duplicate_names_are_refused(exported: Exported, tmp_path: Path):
    [package] = from_store.packages(exported.store)
    with pytest.raises(writer.ExportError, match="would both be"):
        writer.write_package(package, tmp_path, ExportConfig(file_name="{院校代码}.jpg"))
    assert not any(tmp_path.iterdir())


# -- scope ---------------------------------------------------------------------


def test_every_school_gets_its_own_folder_and_sessions_narrow_the_group(tmp_path: Path):
    with Store(tmp_path / "kiosk.db") as store:
        ids = roster_students(store, tmp_path, 32)
        with store.transaction() as conn:
            other = conn.execute(
                "INSERT INTO students (id_number, student_number, name, sex, school_name, "
                "school_code, category, imported_at, updated_at) VALUES "
                "('62010220010101001X', 'X1', '外校生', '男', '另一大学', '10732', '研究生', '', '')"
            ).lastrowid
        department = store.conn.execute(
            "SELECT department FROM students WHERE id = ?", (ids[0],)
        ).fetchone()[0]
        session = store.open_session(
            station_id="k", school_code="19999", category="普通生", department=department
        )
        store.save_shot(
            student_id=ids[0], session_id=session.id, jpeg=make_photo(0), status="accepted"
        )
        later = store.open_session(station_id="k", school_code="19999", category="普通生")
        store.save_shot(
            student_id=ids[1], session_id=later.id, jpeg=make_photo(1), status="accepted"
        )
        packages = from_store.packages(store)
        assert [p.folder for p in packages] == ["10732", "19999"]
        # 拍摄序号 runs on across the kiosk's sessions in one school (unique in the
        # package); the index's 拍摄场次 column still says which session took each
        index = sheets.index_rows(packages[1].photos)
        assert sorted((r[0], str(r[11]).split("（")[0]) for r in index) == [
            (1, f"第 {session.id} 场"),
            (2, f"第 {later.id} 场"),
        ]
        assert packages[0].school_name == "另一大学"
        assert [m.student.key for m in packages[0].missing] == [f"{other:012d}"]
        assert len(packages[1].photos) == 2 and len(packages[1].missing) == 30

        [narrow] = from_store.packages(store, session_id=session.id)
        in_department = store.conn.execute(
            "SELECT count(*) FROM students WHERE department = ? AND school_code = '19999'",
            (department,),
        ).fetchone()[0]
        assert len(narrow.photos) + len(narrow.missing) == in_department == 8
        assert {m.student.department for m in narrow.missing} == {department}

        with pytest.raises(from_store.ScopeError, match="no session 99"):
            from_store.packages(store, session_id=99)
        with pytest.raises(from_store.ScopeError, match="known: 10732, 19999"):
            from_store.packages(store, school_code="12345")


def test_sheet_writer_output_depends_only_on_content_and_stamp(exported: Exported):
    [package] = from_store.packages(exported.store)
    sheet = sheets.Sheet("照片索引", sheets.INDEX_HEADERS, sheets.index_rows(package.photos))
    one = sheets.xlsx_bytes(sheet, package.stamp)
    assert one == sheets.xlsx_bytes(sheet, package.stamp)
    later = package.stamp.replace(year=2027)
    assert one != sheets.xlsx_bytes(sheet, later)
    assert load_workbook(io.BytesIO(one)).properties.modified.year == package.stamp.year


def test_other_grid_and_paper(exported: Exported, tmp_path: Path):
    from pypdf import PdfReader

    [package] = from_store.packages(exported.store)
    settings = ExportConfig(columns=3, rows=2, paper="A3")
    result = writer.write_package(package, tmp_path, settings)
    reader = PdfReader(result.path / "proofs.pdf")
    sizes = writer.group_sizes(package)
    assert len(reader.pages) == sum(math.ceil(n / 6) for n in sizes) == result.pages
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (297, 420)


def test_long_captions_shrink_then_cut_to_fit_the_cell():
    from fpdf import FPDF

    font = cjk_font()
    pdf = FPDF()
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    pdf.set_font("cjk", size=proofs.CAPTION_PT)
    room = 60.0
    assert proofs._fit(pdf, "示例大学", room)[:2] == ("示例大学", proofs.CAPTION_PT)
    pdf.set_font("cjk", size=proofs.CAPTION_PT)
    text, size, width = proofs._fit(pdf, "新疆维吾尔自治区某某职业技术学院继续教育", room)
    assert proofs.CAPTION_MIN_PT <= size < proofs.CAPTION_PT and width <= room
    assert text == "新疆维吾尔自治区某某职业技术学院继续教育"
    pdf.set_font("cjk", size=proofs.CAPTION_PT)
    text, size, width = proofs._fit(pdf, "很长的名字" * 10, room)
    assert text.endswith("…") and size == proofs.CAPTION_MIN_PT and width <= room


def test_a_grid_too_dense_for_the_paper_is_a_config_error():
    from kiosk.config import ConfigError, from_dict
    from kiosk.export.fields import check_settings

    with pytest.raises(ConfigError, match=r"export\.columns / export\.rows: .* do not fit on A4"):
        check_settings(from_dict({"export": {"columns": 12, "rows": 12}}).export)
    check_settings(
        from_dict(
            {"export": {"columns": 12, "rows": 12, "paper": "A3", "captions": ["学号"]}}
        ).export
    )


def test_a_bad_export_setting_stops_every_command_at_start(tmp_path: Path):
    """The [export] section is checked when any command loads the config, not at the export's end."""
    from click.testing import CliRunner

    from kiosk.cli import main

    config = tmp_path / "kiosk.toml"
    config.write_text('[export]\nfile_name = "photo.jpg"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "--data", str(tmp_path), "verify"])
    assert result.exit_code == 2
    assert "export.file_name" in result.output and "no placeholder" in result.output
    assert not (tmp_path / "kiosk.db").exists()


def test_shared_roster_whole_school(tmp_path: Path):
    """A school's real-format roster (../shared): 3 类型, 16 院系, 学号 shared across 类型."""
    from pypdf import PdfReader

    from kiosk.roster import import_roster
    from tests.conftest import ROSTERS, need_shared

    roster = need_shared(ROSTERS / "roster-10730.xlsx")
    with Store(tmp_path / "data" / "kiosk.db") as store:
        report = import_roster(store, roster)
        assert report.imported == 800
        rows = store.conn.execute("SELECT id, category FROM students ORDER BY id").fetchall()
        sessions = {
            category: store.open_session(station_id="k", school_code="10730", category=category)
            for category in ("普通生", "成人生", "研究生")
        }
        shot = [r for n, r in enumerate(rows) if n % 4 == 0]
        for n, row in enumerate(shot):
            store.save_shot(
                student_id=row["id"],
                session_id=sessions[row["category"]].id,
                jpeg=make_photo(n),
                status="accepted",
            )
        [package] = from_store.packages(store, school_code="10730")
        result = writer.write_package(package, tmp_path / "out", ExportConfig())
        names = [p.stem for p in (result.path / "photos").iterdir()]
        assert len(names) == len(shot) == 200
        assert all(idnumber.parse(n).value == n for n in names)
        _, missing = sheet_rows(result.path / "missing.xlsx")
        assert len(missing) == 600
        groups = store.conn.execute(
            f"SELECT count(*) FROM students WHERE id IN ({','.join(str(r['id']) for r in shot)}) "
            "GROUP BY category, department"
        ).fetchall()
        assert len(PdfReader(result.path / "proofs.pdf").pages) == sum(
            math.ceil(g[0] / (ExportConfig().columns * ExportConfig().rows)) for g in groups
        )
        # 学号 shared by a 普通生 and a 研究生: {学号}.jpg cannot name both in one package.
        shared = store.conn.execute(
            "SELECT student_number FROM students GROUP BY student_number HAVING count(*) > 1"
        ).fetchall()
        assert shared
        both = [
            r["id"]
            for r in store.conn.execute(
                "SELECT id FROM students WHERE student_number = ?", (shared[0][0],)
            )
        ]
        for student_id in both:
            row = store.conn.execute(
                "SELECT category FROM students WHERE id = ?", (student_id,)
            ).fetchone()
            store.save_shot(
                student_id=student_id,
                session_id=sessions[row[0]].id,
                jpeg=make_photo(student_id),
                status="accepted",
            )
        [package] = from_store.packages(store, school_code="10730")
        with pytest.raises(writer.ExportError, match=f"would both be {shared[0][0]}.jpg"):
            writer.write_package(package, tmp_path / "out", ExportConfig(file_name="{学号}.jpg"))


def test_every_caption_is_labelled_and_legible_on_a4():
    """The notice's five fields, labelled, at 8 pt or more on the default A4 grid (no cut)."""
    from fpdf import FPDF

    from kiosk.export import fields
    from kiosk.export.package import Person, Photo, Take

    settings = ExportConfig()
    grid = proofs.layout(settings.paper, settings.columns, settings.rows, len(settings.captions))
    photo = Photo(
        Person(
            key="1",
            id_number="62010220010101123X",
            student_number="2022123456789012",
            name="欧阳娜娜",
            school_name="某某理工大学继续教育学院",
            school_code="19999",
        ),
        Take(key="1", student_key="1", status="accepted", taken_at="", seq=1234),
    )
    lines = fields.caption_lines(photo, settings.captions)
    assert [line.split(" ")[0] for line in lines] == [
        "学校",
        "姓名",
        "学号",
        "身份证号",
        "拍摄序号",
    ]
    font = cjk_font()
    pdf = FPDF()
    pdf.add_font("cjk", "", str(font.path), collection_font_number=font.index)
    for line in lines:
        pdf.set_font("cjk", size=proofs.CAPTION_PT)
        text, size, _ = proofs._fit(pdf, line, grid.cell_w - 1.0)
        assert text == line and size >= 8.0, (line, size)
    # a photo as big as a 1-inch print (25 x 35 mm) or more
    assert grid.photo_w >= 25 and grid.photo_h >= 35
