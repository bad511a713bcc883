import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from kiosk import idnumber, roster
from kiosk.cli import main
from kiosk.sample import HEADERS, sample_rows
from kiosk.store import Store, now

from .conftest import ROSTERS, need_shared

KIND_TO_CODE = {
    "bad_check_digit": (idnumber.BAD_CHECK, "身份证号"),
    "id_as_float": (roster.ID_AS_NUMBER, "身份证号"),
    "sex_mismatch": (roster.SEX_MISMATCH, "性别"),
    "missing_name": (roster.MISSING_VALUE, "姓名"),
    "missing_id": (roster.MISSING_VALUE, "身份证号"),
    "missing_major": (roster.MISSING_VALUE, "专业名称"),
    "school_code_not_5_digits": (roster.SCHOOL_CODE_FORMAT, "院校代码"),
    "impossible_birth_date": (idnumber.BAD_BIRTH_DATE, "身份证号"),
    "legacy_15_digit_id": (idnumber.LEGACY_15, "身份证号"),
    "sex_not_男_or_女": (roster.SEX_INVALID, "性别"),
    "duplicate_id": (roster.DUPLICATE_ID, "身份证号"),
    "duplicate_student_number": (roster.DUPLICATE_STUDENT_NUMBER, "学号"),
}

SCHOOLS = ["10730", "10732", "10739"]


def write_xlsx(path: Path, rows: list[list], headers=HEADERS, merge: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


@pytest.mark.parametrize("school", SCHOOLS)
def test_dirty_roster_matches_answer_key(store, school):
    dirty = need_shared(ROSTERS / f"roster-{school}-dirty.xlsx")
    key = json.loads((ROSTERS / f"roster-{school}-dirty.key.json").read_text())
    report = roster.import_roster(store, dirty)
    assert report.rows == key["rows"]

    codes_by_row: dict[int, set[tuple[str, str]]] = {}
    for p in report.rejected:
        codes_by_row.setdefault(p.row, set()).add((p.code, p.column))

    expected_rejected: set[int] = set()
    for row_text, entry in key["planted"].items():
        row = int(row_text)
        if entry["expect"] == "reject":
            expected_rejected.add(row)
            assert KIND_TO_CODE[entry["kind"]] in codes_by_row.get(row, set()), (row, entry)
            if "dup_of" in entry:
                # Both rows of a duplicate are refused: nothing says which is right.
                expected_rejected.add(entry["dup_of"])
                assert KIND_TO_CODE[entry["kind"]] in codes_by_row[entry["dup_of"]]
        else:
            canonical = entry["expect"].removeprefix("accept:")
            found = roster.Roster(store).by_id_number(canonical)
            assert found is not None, (row, entry)
            assert (
                store.conn.execute(
                    "SELECT source_row FROM students WHERE id_number = ?", (canonical,)
                ).fetchone()[0]
                == row
            )
    assert set(codes_by_row) == expected_rejected  # no clean row rejected
    assert report.imported == key["rows"] - len(expected_rejected)
    assert roster.Roster(store).count() == report.imported


@pytest.mark.parametrize("school", SCHOOLS)
def test_clean_roster_imports_every_row(store, school):
    clean = need_shared(ROSTERS / f"roster-{school}.xlsx")
    report = roster.import_roster(store, clean)
    assert report.rejected == []
    assert report.imported == report.rows == 800


def test_reimport_updates_in_place_and_keeps_shots(store, tmp_path):
    rows = sample_rows(5)
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    roster.import_roster(store, path)
    student = roster.Roster(store).by_id_number(rows[0][6])
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sessions (uuid, station_id, school_code, opened_at) VALUES ('s', 'k', ?, ?)",
            (rows[0][2], now()),
        )
        conn.execute(
            "INSERT INTO shots (uuid, student_id, session_id, seq, file, sha256, size, width, height,"
            " taken_at, status) VALUES ('u1', ?, 1, 1, 'f.jpg', 'x', 1, 480, 640, ?, 'accepted')",
            (student.id, now()),
        )
    rows[0][4] = "改名"
    path2 = write_xlsx(tmp_path / "r2.xlsx", rows)
    report = roster.import_roster(store, path2)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 4)
    again = roster.Roster(store).by_id_number(rows[0][6])
    assert again.id == student.id and again.name == "改名"
    shot = store.conn.execute("SELECT student_id, status FROM shots WHERE uuid='u1'").fetchone()
    assert tuple(shot) == (student.id, "accepted")


def test_header_variants_and_column_order(store, tmp_path):
    headers = [
        "性 别",
        "身份证号码 ",
        "姓名",
        "学号",
        "院校代码",
        "院校名称",
        "学历",
        "专业",
        "拍摄序号",
    ]
    src = sample_rows(3)
    rows = [[r[5], r[6], r[4], r[3], r[2], r[1], r[7], r[8], ""] for r in src]
    report = roster.import_roster(store, write_xlsx(tmp_path / "v.xlsx", rows, headers=headers))
    assert report.imported == 3 and not report.rejected
    assert roster.Roster(store).by_id_number(src[2][6]).major == src[2][8]


def test_missing_column_lists_what_was_found(store, tmp_path):
    headers = [h for h in HEADERS if h != "性别"]
    rows = [[c for i, c in enumerate(r) if HEADERS[i] != "性别"] for r in sample_rows(2)]
    with pytest.raises(roster.RosterError, match=r"lacks the column.*性别.*found: 拍摄序号"):
        roster.import_roster(store, write_xlsx(tmp_path / "m.xlsx", rows, headers=headers))


def test_merged_school_name_cells_apply_to_every_row(store, tmp_path):
    rows = sample_rows(6)
    for r in rows[1:]:
        r[1] = None
    path = write_xlsx(tmp_path / "merged.xlsx", rows, merge="B2:B7")
    report = roster.import_roster(store, path)
    assert report.imported == 6, report.rejected
    assert any("merged" in w for w in report.warnings)
    names = {r[0] for r in store.conn.execute("SELECT school_name FROM students")}
    assert names == {rows[0][1]}
    # the crew reads the warning in Chinese; the JSON report keeps the English
    result = run_cli(tmp_path, "roster", "import", str(path))
    assert "提醒：院校名称：第 2-7 行是合并单元格" in result.output, result.output
    assert "merged cells" not in result.output


def test_blank_cell_without_merge_is_still_refused(store, tmp_path):
    rows = sample_rows(2)
    rows[1][1] = None
    report = roster.import_roster(store, write_xlsx(tmp_path / "b.xlsx", rows))
    assert [(p.row, p.code) for p in report.rejected] == [(3, roster.MISSING_VALUE)]


def test_csv_in_utf8_bom_and_gb18030(store, tmp_path):
    rows = sample_rows(4)
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"r-{encoding}.csv"
        lines = [",".join(HEADERS)] + [",".join(r) for r in rows]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        report = roster.import_roster(store, path)
        assert report.imported == 4 and not report.rejected, encoding
    assert roster.Roster(store).by_id_number(rows[3][6]).name == rows[3][4]


def test_csv_scientific_notation_id_is_refused(store, tmp_path):
    rows = sample_rows(2)
    rows[0][6] = "6.20123E+17"
    path = tmp_path / "sci.csv"
    path.write_text("\n".join([",".join(HEADERS)] + [",".join(r) for r in rows]), encoding="utf-8")
    report = roster.import_roster(store, path)
    assert [(p.row, p.code) for p in report.rejected] == [(2, roster.ID_AS_NUMBER)]


@pytest.mark.parametrize("kind", ["truncated", "not_excel", "zero_bytes", "empty_sheet", "binary"])
def test_unreadable_files_change_nothing(store, tmp_path, kind):
    good = write_xlsx(tmp_path / "good.xlsx", sample_rows(3))
    roster.import_roster(store, good)
    before = store.conn.execute("SELECT * FROM students ORDER BY id").fetchall()
    bad = tmp_path / "bad.xlsx"
    if kind == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "not_excel":
        bad = tmp_path / "notes.xlsx"
        bad.write_text("这不是表格 just some notes\n", encoding="utf-8")
    elif kind == "zero_bytes":
        bad.write_bytes(b"")
    elif kind == "empty_sheet":
        Workbook().save(bad)
    else:
        bad.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(roster.RosterError) as info:
        roster.import_roster(store, bad)
    assert str(info.value)  # a message for people
    after = store.conn.execute("SELECT * FROM students ORDER BY id").fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]


def test_find_by_any_spelling_and_student_number(store, tmp_path):
    rows = sample_rows(3)
    rows[1][6] = rows[1][6][:-1] + rows[1][6][-1]  # unchanged, for clarity
    roster.import_roster(store, write_xlsx(tmp_path / "r.xlsx", rows))
    lookup = roster.Roster(store)
    number = rows[1][6]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    for query in (number, f" {number[:6]} {number[6:]} ", fullwidth, number.lower()):
        assert [s.name for s in lookup.find(query)] == [rows[1][4]]
    assert [s.id_number for s in lookup.find(rows[2][3])] == [rows[2][6]]
    assert lookup.find("nobody") == []


def test_find_by_name_lists_every_namesake(store, tmp_path):
    rows = sample_rows(4)
    rows[3][4] = rows[1][4]  # two students share a name
    roster.import_roster(store, write_xlsx(tmp_path / "r.xlsx", rows))
    lookup = roster.Roster(store)
    namesakes = lookup.find(f" {rows[1][4]} ")
    assert sorted(s.id_number or "" for s in namesakes) == sorted([rows[1][6], rows[3][6]])
    assert [s.id_number for s in lookup.find(rows[2][4])] == [rows[2][6]]
    # nobody has the typed text as a whole name: every name containing it
    part = rows[2][4][-2:]
    assert rows[2][6] in {s.id_number for s in lookup.find(part)}
    assert lookup.find("%") == []


# -- the command line ------------------------------------------------------------


def run_cli(tmp_path, *args):
    return CliRunner().invoke(main, ["--data", str(tmp_path / "data"), *args])


def run_cli_english(tmp_path, *args):
    """The same, for a crew whose config says crew_language = "en"."""
    english = tmp_path / "en.toml"
    english.write_text('[station]\ncrew_language = "en"\n', encoding="utf-8")
    return run_cli(tmp_path, "--config", str(english), *args)


def test_cli_import_exit_codes_and_report(tmp_path):
    dirty = need_shared(ROSTERS / "roster-10730-dirty.xlsx")
    report_path = tmp_path / "report.json"
    result = run_cli(tmp_path, "roster", "import", str(dirty), "--report", str(report_path))
    assert result.exit_code == 1, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert set(report) == {"file", "rows", "imported", "rejected", "warnings"}
    assert report["rows"] == 800
    first = report["rejected"][0]
    assert set(first) == {"row", "column", "value", "code", "message"}
    assert "拒绝" in result.output and "rejected" not in result.output
    # every problem line is Chinese, keeps its stable code, and names a fix
    problem_lines = [line for line in result.output.splitlines() if line.startswith("  第 ")]
    assert problem_lines and all(line.rstrip().endswith("]") for line in problem_lines)
    assert "[sex_mismatch]" in result.output
    mismatch = next(line for line in problem_lines if "[sex_mismatch]" in line)
    assert "身份证号第 17 位" in mismatch and "says" not in mismatch
    result = run_cli_english(tmp_path, "roster", "import", str(dirty))
    assert "rejected" in result.output and "17th digit" in result.output
    assert "[sex_mismatch]" in result.output

    clean = write_xlsx(tmp_path / "clean.xlsx", sample_rows(3))
    assert run_cli(tmp_path, "roster", "import", str(clean)).exit_code == 0

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")
    result = run_cli(tmp_path, "roster", "import", str(broken))
    assert result.exit_code == 2
    assert "不是可读的 Excel 工作簿" in result.output and "另存为 .xlsx" in result.output
    english_run = run_cli_english(tmp_path, "roster", "import", str(broken))
    assert english_run.exit_code == 2 and "not a readable Excel workbook" in english_run.output


def test_cli_find_json(tmp_path):
    rows = sample_rows(2)
    run_cli(tmp_path, "roster", "import", str(write_xlsx(tmp_path / "r.xlsx", rows)))
    result = run_cli(tmp_path, "roster", "find", rows[0][6].lower(), "--json")
    assert result.exit_code == 0
    found = json.loads(result.output)
    assert found[0]["id_number"] == rows[0][6] and found[0]["name"] == rows[0][4]
    assert run_cli(tmp_path, "roster", "find", "000").exit_code == 1


def test_cli_find_by_name_says_how_many(tmp_path):
    rows = sample_rows(3)
    rows[2][4] = rows[0][4]
    run_cli(tmp_path, "roster", "import", str(write_xlsx(tmp_path / "r.xlsx", rows)))
    result = run_cli(tmp_path, "roster", "find", rows[0][4])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("有 2 名学生符合")
    assert {rows[0][6], rows[2][6]} <= set(result.output.split())
    missing = run_cli(tmp_path, "roster", "find", "查无此人")
    assert missing.exit_code == 1 and "没有找到" in missing.output


def test_console_script_and_env_data(tmp_path):
    exe = Path(sys.executable).parent / "kiosk"
    if not exe.exists():
        exe = shutil.which("kiosk")
    rows = sample_rows(2)
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    env = {"KIOSK_DATA": str(tmp_path / "envdata"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(exe), "roster", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "envdata" / "kiosk.db").exists()
    with Store(tmp_path / "envdata" / "kiosk.db") as s:
        assert roster.Roster(s).count() == 2
