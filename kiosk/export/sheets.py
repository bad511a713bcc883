"""The package's sheets: index (xlsx + csv), missing, retakes, errata.

Format rules from the notice's attachment 2 (the school-database sheet): one
header row, one row per student, 宋体 10 pt, left-aligned, no merged cells,
ID numbers (and every other code) stored as *text* so Excel never turns
``620102200101011234`` into ``6.20102E+17``. 拍摄序号 is the one number.

Byte-identical output: openpyxl stamps the workbook's ``modified`` time and
zip's entry times with "now"; :func:`write_xlsx` writes the workbook with the
package's fixed stamp and then rewrites the zip with that time on every entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.export.package import Package, Photo, Take
from kiosk.lang import has, say
from kiosk.roster import COLUMNS, NOTICE_HEADERS

FONT_NAME = "宋体"
FONT_SIZE = 10
TEXT_FORMAT = "@"  # Excel's "Text" number format
TEXT_STYLE = "宋体10 文本"
NUMBER_STYLE = "宋体10 数字"

# The notice's school-database columns first, in its order (a school's
# database import reads them by position), then what explains the order of the
# rows: they are grouped by 类型 and 院系, and 拍摄序号 restarts in every
# session, so a whole-school index names the session beside the number.
INDEX_HEADERS = (*NOTICE_HEADERS, "院系", "类型", "拍摄场次", "采集码")
MISSING_HEADERS = (
    "院校名称", "院校代码", "学号", "姓名", "性别", "身份证号", "学历", "专业名称", "院系", "类型", "情况",
)  # fmt: skip
RETAKE_HEADERS = (
    "拍摄序号", "院校名称", "院校代码", "学号", "姓名", "性别", "身份证号", "专业名称", "院系", "类型",
    "最近一次", "原因", "最近拍摄时间", "已交付照片", "采集码",
)  # fmt: skip
ERRATA_HEADERS = (
    "序号", "院校名称", "院校代码", "学号", "姓名", "身份证号", "勘误项目", "原内容", "更正内容", "备注",
    "更正时间", "采集码",
)  # fmt: skip

STATUS_ZH = {
    "refused": "未通过",
    "flagged": "待复核",
    "accepted": "已通过",
    "requested": "学校要求重拍",
}
WALK_IN = "walk_in"

Cell = str | int | None


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


# -- rows (pure) ---------------------------------------------------------------


def index_rows(photos: Iterable[Photo]) -> list[list[Cell]]:
    return [
        [
            p.take.seq,
            p.student.school_name,
            p.student.school_code,
            p.student.student_number,
            p.student.name,
            p.student.sex,
            p.student.id_number or "",
            p.student.degree,
            p.student.major,
            p.student.department,
            p.student.category,
            session_text(p.take),
            p.student.collection_code or p.take.collection_code or "",
        ]
        for p in photos
    ]


def session_text(take: Take) -> str:
    """第 3 场（2026-06-03）: the session and its local date, as far as known."""
    if not take.session_date:
        return take.session_label
    return (
        f"{take.session_label}（{take.session_date}）" if take.session_label else take.session_date
    )


def missing_rows(package: Package) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for m in package.missing:
        s = m.student
        state = "未拍摄" if m.refused == 0 else f"照片未通过（{m.refused} 次）"
        rows.append(
            [
                s.school_name,
                s.school_code,
                s.student_number,
                s.name,
                s.sex,
                s.id_number or "",
                s.degree,
                s.major,
                s.department,
                s.category,
                state,
            ]
        )
    return rows


def reason_text(reasons: Sequence[str], status: str) -> str:
    """Why the photo failed, as the registrar reads it ("嘴巴张开"), not the
    instruction the student heard ("请闭上嘴巴"); an unknown code stays as it is."""
    names = [
        say("zh", f"reason.{code}") if has("zh", f"reason.{code}") else code for code in reasons
    ]
    if not names and status == "flagged":
        return say("zh", "reason.flagged")
    return "；".join(names)


def retake_rows(package: Package) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for r in package.retakes:
        s = r.student
        rows.append(
            [
                r.delivered.seq if r.delivered is not None else None,
                s.school_name,
                s.school_code,
                s.student_number,
                s.name,
                s.sex,
                s.id_number or "",
                s.major,
                s.department,
                s.category,
                STATUS_ZH.get(r.latest.status, r.latest.status),
                reason_text(r.latest.reasons, r.latest.status),
                package.local_text(r.latest.taken_at),
                "是" if r.delivered is not None else "否",
                s.collection_code or "",  # a 学信网 图像采集码 student has no ID number
            ]
        )
    return rows


def field_label(name: str) -> str:
    if name == WALK_IN:
        return "新增学生（名单外现场补录）"
    if name in COLUMNS:
        return COLUMNS[name][0]
    return name


def _value_text(value: str | None) -> str:
    """A correction's value as the school reads it (JSON objects become 标签 值 pairs)."""
    if value is None:
        return ""
    try:
        parsed = json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value
    if isinstance(parsed, dict):
        return "；".join(
            f"{field_label(str(k))} {v}" for k, v in parsed.items() if v not in (None, "")
        )
    return value


def errata_rows(package: Package) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for number, c in enumerate(package.corrections, start=1):
        s, e = c.student, c.erratum
        old = (
            "（名单中无此人）"
            if e.field == WALK_IN and not e.old_value
            else _value_text(e.old_value)
        )
        new = _value_text(e.new_value)
        if e.field == WALK_IN and not new:
            new = f"姓名 {s.name}；身份证号 {s.id_number or ''}；学号 {s.student_number}"
        rows.append(
            [
                number,
                s.school_name,
                s.school_code,
                s.student_number,
                s.name,
                s.id_number or "",
                field_label(e.field),
                old,
                new,
                e.note,
                package.local_text(e.at),
                s.collection_code or "",
            ]
        )
    return rows


# -- writing -------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns a text takes in a 宋体 cell: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def xlsx_bytes(sheet: Sheet, stamp: dt.datetime) -> bytes:
    """The sheet as an .xlsx file whose bytes depend only on its content and ``stamp``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, NamedStyle
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook(write_only=True)
    fixed = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "kiosk"
    # Two named styles set once: styling each cell by Font/Alignment objects
    # costs a hash lookup per cell (~3x slower on 45,000 cells).
    font = Font(name=FONT_NAME, size=FONT_SIZE)
    align = Alignment(horizontal="left", vertical="center")
    workbook.add_named_style(
        NamedStyle(name=TEXT_STYLE, font=font, alignment=align, number_format=TEXT_FORMAT)
    )
    workbook.add_named_style(NamedStyle(name=NUMBER_STYLE, font=font, alignment=align))
    worksheet = workbook.create_sheet(sheet.title)

    widths = [display_width(h) for h in sheet.headers]
    for row in sheet.rows:
        for i, value in enumerate(row):
            if value is not None:
                widths[i] = max(widths[i], display_width(str(value)))
    for i, width in enumerate(widths):
        worksheet.column_dimensions[get_column_letter(i + 1)].width = min(60, width + 2)
    worksheet.freeze_panes = "A2"

    def cell(value: Cell) -> WriteOnlyCell:
        c = WriteOnlyCell(worksheet, value=value)
        if isinstance(value, str):
            # openpyxl makes any text starting with "=" a live formula; a
            # roster name like =cmd|' /C calc'!A0 must stay the text it is.
            c.data_type = "s"
        c.style = NUMBER_STYLE if isinstance(value, int) else TEXT_STYLE
        return c

    worksheet.append([cell(h) for h in sheet.headers])
    for row in sheet.rows:
        worksheet.append([cell(v) for v in row])

    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(workbook, archive).save()
    return _fixed_zip(raw.getvalue(), stamp)


def _fixed_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite a zip with one fixed time and fixed attributes on every entry."""
    when = stamp.astimezone(dt.UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            target.writestr(entry, source.read(info), compresslevel=6)
    return out.getvalue()


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads it as UTF-8), CRLF lines as Excel writes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else csv_literal(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


# What Excel (and LibreOffice) read as the start of a formula in a CSV cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_literal(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula, kept as text.

    A CSV cell has no type, so the only defence is the one OWASP gives: a
    leading apostrophe, which Excel shows and never evaluates. Only such
    cells change; every ID number, name and code the registry uses starts
    with a letter, digit or CJK character.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
