"""Roster text that looks like a formula stays text in every sheet we write.

The hostile review imported a name =cmd|' /C calc'!A0 and a major =1+2, and
missing.xlsx carried them as live formula cells. Real roster import and
export subprocesses; the sheets are read back with openpyxl.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from kiosk import sample
from kiosk.export import sheets

HOSTILE = ["=cmd|' /C calc'!A0", "=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]


def run_kiosk(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_xlsx_from_a_hostile_roster_has_no_formula(tmp_path: Path) -> None:
    rows = sample.sample_rows(4)
    name_at = sample.HEADERS.index("姓名")
    major_at = sample.HEADERS.index("专业名称")
    rows[0][name_at] = HOSTILE[0]
    rows[1][major_at] = HOSTILE[1]
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(sample.HEADERS)
        writer.writerows(rows)
    imported = run_kiosk(tmp_path / "k", "roster", "import", str(roster))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    exported = run_kiosk(tmp_path / "k", "export", "--out", str(tmp_path / "out"))
    assert exported.returncode == 1, exported.stdout + exported.stderr  # everyone missing
    [missing] = (tmp_path / "out").rglob("missing.xlsx")
    cells = [c for row in openpyxl.load_workbook(missing).active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert HOSTILE[0] in values and HOSTILE[1] in values


@pytest.mark.parametrize(
    "title, headers",
    [
        ("照片索引", sheets.INDEX_HEADERS),
        ("缺拍名单", ("姓名", "专业名称", "院系")),
        ("重拍名单", ("姓名", "原因")),
        ("勘误表", ("字段", "原值", "新值")),
    ],
)
def test_every_sheet_keeps_formula_like_text_literal(tmp_path: Path, title, headers) -> None:
    rows = [[text] * len(headers) for text in HOSTILE]
    data = sheets.xlsx_bytes(sheets.Sheet(title, headers, rows), dt.datetime(2026, 6, 1))
    (tmp_path / "sheet.xlsx").write_bytes(data)
    sheet = openpyxl.load_workbook(tmp_path / "sheet.xlsx").active
    body = list(sheet.iter_rows(min_row=2))
    # XML reads a bare CR back as LF; the text is otherwise exactly what was written.
    assert [[c.value for c in row] for row in body] == [
        [text.replace("\r", "\n") for text in row] for row in rows
    ]
    assert all(c.data_type == "s" for row in body for c in row)


def test_csv_cells_that_would_run_as_formulas_get_an_apostrophe() -> None:
    data = sheets.csv_bytes(("姓名", "学号"), [[text, "2020001"] for text in HOSTILE])
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row[0] for row in read[1:]] == ["'" + text for text in HOSTILE]
    assert all(row[1] == "2020001" for row in read[1:])  # ordinary text unchanged
