"""The school's roster: read an Excel/CSV sheet, check every row, import, look up.

The roster is the only source of the ID numbers that end up on the national
registry, so its rules are strict and every refusal says exactly which Excel
row and column is wrong and what the school must change. Reading (I/O) is kept
apart from the rules (:func:`check_rows`, pure) so the rules are plain unit
tests.

Duplicates: when an ID number or a 学号 occurs in two rows, both rows are
refused. One of them is wrong and nothing in the sheet says which; importing
either could put a photo under somebody else's ID number.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import hashlib
import io
import re
import sqlite3
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import idnumber
from kiosk.lang import Said
from kiosk.store import Store, now
from kiosk.student import (
    CATEGORIES,
    COMPARED_FIELDS,
    DESCRIPTION_FIELDS,
    ROSTER_FIELDS,
    Student,
)

if TYPE_CHECKING:
    from kiosk.chooser import SchoolPlan, ScopeCount

# -- the columns ----------------------------------------------------------------

# Field name -> (the notice's header, accepted header spellings after
# normalisation). Normalisation folds full-width forms and drops all spaces,
# so "性 别" and "身份证号 " match too.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "roster_seq": ("拍摄序号", ("拍摄序号", "序号", "拍照序号")),
    "school_name": ("院校名称", ("院校名称", "学校名称", "学校")),
    "school_code": ("院校代码", ("院校代码", "学校代码", "院校代号")),
    "student_number": ("学号", ("学号", "学生号", "学生编号")),
    "name": ("姓名", ("姓名", "学生姓名")),
    "sex": ("性别", ("性别",)),
    "id_number": ("身份证号", ("身份证号", "身份证号码", "公民身份号码", "证件号码", "证件号")),
    "degree": ("学历", ("学历", "学历层次", "层次")),
    "major": ("专业名称", ("专业名称", "专业")),
    "department": ("院系", ("院系", "院系名称", "学院", "系别")),
    "category": ("类型", ("类型", "学生类型", "类别")),
}
# The notice's school-database sheet (附件2), in its order: the roster's core
# columns and the delivery package's index sheet.
NOTICE_FIELDS = (
    "roster_seq",
    "school_name",
    "school_code",
    "student_number",
    "name",
    "sex",
    "id_number",
    "degree",
    "major",
)
NOTICE_HEADERS = tuple(COLUMNS[f][0] for f in NOTICE_FIELDS)
REQUIRED = ("school_name", "school_code", "student_number", "name", "id_number", "major")
# Columns the sheet must have: the notice's, but 拍摄序号 (the kiosk assigns it);
# 院系 and 类型 are optional extras.
REQUIRED_COLUMNS = NOTICE_FIELDS[1:]


# Problem codes (stable strings, in the report JSON).
MISSING_VALUE = "missing_value"
SCHOOL_CODE_FORMAT = "school_code_format"
SEX_INVALID = "sex_invalid"
SEX_MISMATCH = "sex_mismatch"
ID_AS_NUMBER = "id_stored_as_number"
DUPLICATE_ID = "duplicate_id_number"
DUPLICATE_STUDENT_NUMBER = "duplicate_student_number"

_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+]?\d+$")


class RosterError(RuntimeError):
    """The file as a whole cannot be used (exit code 2); nothing was changed.

    Made with :meth:`of`, its argument is a :class:`~kiosk.lang.Said`, so the
    CLI says it in the crew's language.
    """

    @classmethod
    def of(cls, key: str, **values: Any) -> RosterError:
        return cls(Said.of(key, **values))


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # Excel row number (1-based, as Excel shows it)
    column: str  # the notice's header name
    value: str
    code: str
    message: str


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    imported: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.rejected})

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": [asdict(p) for p in self.rejected],
            "warnings": self.warnings,
        }


@dataclass
class Table:
    """A sheet as read: cell values as the file holds them, with Excel row numbers."""

    name: str
    rows: list[tuple[int, list[Any]]]  # (excel_row, cells)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based r0,c0,r1,c1
    warnings: list[str] = field(default_factory=list)


# -- reading -------------------------------------------------------------------


# What is read is bounded, so a hostile or broken file cannot take the
# kiosk's memory (a 200 MB cell once peaked at 1.8 GB). A whole university's
# roster (25,000 rows) is ~3 MB as .xlsx and ~4 MB as CSV; its sheet XML
# unpacks to ~25 MB.
MAX_ROSTER_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
# No roster cell (a name, a major, a school) comes near this; the csv
# module's own limit is 131,072 characters.
MAX_CELL_CHARS = 4096
# An Office file encrypted with a password is an OLE2 container with this
# stream instead of a zip (ECMA-376 / MS-OFFCRYPTO).
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def read_table(
    path: Path,
    has_header: Callable[[Table], bool] | None = None,
    header_names: Sequence[str] = (),
) -> Table:
    """Read the first sheet that has a roster header row (or the header ``has_header``
    recognises, named by ``header_names`` in the error). Raises RosterError."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > MAX_ROSTER_BYTES:
            raise RosterError.of("roster.error.too_big", file=path.name, mb=f"{size / 1e6:.0f}")
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError.of(
            "roster.error.unreadable", path=path, detail=exc.strerror or exc
        ) from exc
    if not data:
        raise RosterError.of("roster.error.empty_file", path=path)
    if data.startswith(_OLE2_MAGIC) and _ENCRYPTED_PACKAGE in data:
        raise RosterError.of("roster.error.password", file=path.name)
    if suffix == ".csv" or (
        suffix not in (".xlsx", ".xlsm", ".xls", ".ods") and _looks_like_text(data)
    ):
        return _read_csv(path, data)
    _check_unpacked_size(path, data)
    return _read_workbook(path, data, has_header, header_names)


def _check_unpacked_size(path: Path, data: bytes) -> None:
    """A zip bomb (or one huge cell) is refused before calamine unpacks it."""
    if not data.startswith(b"PK"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return  # calamine names the damage better
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterError.of(
            "roster.error.unpacks_too_big", file=path.name, mb=f"{unpacked / 1e6:.0f}"
        )


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and not head.startswith(b"PK")


def _read_workbook(
    path: Path,
    data: bytes,
    has_header: Callable[[Table], bool] | None = None,
    header_names: Sequence[str] = (),
) -> Table:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several private error types
        raise RosterError.of(
            "roster.error.not_workbook", file=path.name, detail=_short(exc)
        ) from exc
    first_error: str | None = None
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            cells = sheet.to_python(skip_empty_area=False)
        except Exception as exc:
            first_error = first_error or _short(exc)
            continue
        if not any(any(row) for row in cells):
            continue
        table = Table(name=name, rows=list(enumerate(cells, start=1)))
        try:
            ranges = sheet.merged_cell_ranges or []
        except Exception:
            ranges = []
        table.merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in ranges]
        if has_header(table) if has_header else _find_header(table) is not None:
            return table
    if first_error:
        raise RosterError.of("roster.error.damaged", file=path.name, detail=first_error)
    if all(_sheet_empty(workbook, n) for n in workbook.sheet_names):
        raise RosterError.of("roster.error.empty_sheets", file=path.name)
    names = header_names or [COLUMNS[c][0] for c in REQUIRED_COLUMNS]
    raise RosterError.of("roster.error.no_header_sheet", file=path.name, columns=", ".join(names))


def _sheet_empty(workbook: Any, name: str) -> bool:
    try:
        rows = workbook.get_sheet_by_name(name).to_python()
    except Exception:
        return False
    return not any(any(_present(v) for v in row) for row in rows)


def _read_csv(path: Path, data: bytes) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise RosterError.of("roster.error.encoding", file=path.name)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for i, row in enumerate(reader):
            rows.append((i + 1, list(row)))
    except csv.Error:
        raise RosterError.of(
            "roster.error.csv_long_cell",
            file=path.name,
            line=reader.line_num,
            limit=f"{csv.field_size_limit():,}",
        ) from None
    for number, row in rows:
        for value in row:
            if len(value) > MAX_CELL_CHARS:
                raise RosterError.of(
                    "roster.error.long_cell",
                    file=path.name,
                    row=number,
                    chars=f"{len(value):,}",
                    limit=f"{MAX_CELL_CHARS:,}",
                )
    if not any(any(_present(v) for v in r) for _, r in rows):
        raise RosterError.of("roster.error.no_data", file=path.name)
    return Table(name=path.name, rows=rows)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# -- headers -------------------------------------------------------------------


def header_key(text: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in folded if not ch.isspace())


_SYNONYMS = {alias: name for name, (_, aliases) in COLUMNS.items() for alias in aliases}


def _find_header(table: Table) -> int | None:
    """Index into ``table.rows`` of the header row (searched in the first 20 rows)."""
    for index, (_, cells) in enumerate(table.rows[:20]):
        found = {_SYNONYMS.get(header_key(v)) for v in cells}
        if "id_number" in found and "name" in found:
            return index
    return None


def map_columns(headers: Sequence[Any]) -> dict[str, int]:
    """Field name -> column index. Raises RosterError naming what is missing."""
    mapping: dict[str, int] = {}
    for index, text in enumerate(headers):
        name = _SYNONYMS.get(header_key(text))
        if name is not None and name not in mapping:
            mapping[name] = index
    missing = [COLUMNS[c][0] for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        found = ", ".join(str(h).strip() for h in headers if _present(h)) or "(none)"
        raise RosterError.of("roster.error.columns", missing=", ".join(missing), found=found)
    return mapping


# -- the rules (pure) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedRow:
    excel_row: int
    student: Student


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text; integral floats lose their '.0' (a code typed as a number)."""
    if type(value) is str:
        if value.isascii():
            return value.strip()
        return unicodedata.normalize("NFKC", value).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def _shown(value: Any) -> str:
    """The value as the school sees it in the cell, for messages."""
    if isinstance(value, float):
        return f"{value:.15g}"
    return "" if value is None else str(value)


def check_rows(
    rows: Iterable[tuple[int, Sequence[Any]]],
    mapping: dict[str, int],
    *,
    today: dt.date | None = None,
    min_birth_year: int = 1900,
) -> tuple[list[CheckedRow], list[RowProblem], list[str], int]:
    """Apply every row rule. Returns (good rows, problems, warnings, rows seen)."""
    today = today or dt.date.today()
    good: list[CheckedRow] = []
    problems: list[RowProblem] = []
    warnings: list[str] = []
    seen = 0
    by_id: dict[str, list[int]] = defaultdict(list)
    # 学号 by school; duplicates are judged after the loop (see _student_number_clashes).
    by_number: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    candidates: list[tuple[int, Student]] = []
    numeric_student_numbers: list[int] = []

    wanted = [(name, mapping.get(name)) for name in COLUMNS]

    def cell(cells: Sequence[Any], name: str) -> Any:
        index = mapping.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for excel_row, cells in rows:
        width = len(cells)
        values = {
            name: _text(cells[i]) if i is not None and i < width else "" for name, i in wanted
        }
        if not any(values.values()):
            continue  # an empty row (or one with text only in unknown columns)
        seen += 1
        row_problems: list[RowProblem] = []

        def refuse(
            name: str,
            value: Any,
            code: str,
            message: str,
            row: int = excel_row,
            into: list[RowProblem] = row_problems,
        ) -> None:
            into.append(RowProblem(row, COLUMNS[name][0], _shown(value), code, message))

        for name in REQUIRED:
            if not values[name]:
                refuse(
                    name,
                    cell(cells, name),
                    MISSING_VALUE,
                    f"{COLUMNS[name][0]} is empty; fill it in",
                )

        if values["school_code"] and not re.fullmatch(r"\d{5}", values["school_code"]):
            refuse(
                "school_code",
                cell(cells, "school_code"),
                SCHOOL_CODE_FORMAT,
                "院校代码 must be exactly 5 digits (the Ministry's school code)",
            )

        raw_sex = values["sex"]
        if raw_sex not in ("男", "女"):
            refuse("sex", cell(cells, "sex"), SEX_INVALID, "性别 must be 男 or 女")

        raw_id = cell(cells, "id_number")
        parsed: idnumber.IdNumber | None = None
        if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
            refuse(
                "id_number",
                raw_id,
                ID_AS_NUMBER,
                "身份证号 is stored as a number, so Excel has lost its last digits; "
                "format the column as text and type or re-export the numbers",
            )
        elif "E" in values["id_number"].upper() and _SCIENTIFIC.fullmatch(
            idnumber.normalise(values["id_number"])
        ):
            refuse(
                "id_number",
                raw_id,
                ID_AS_NUMBER,
                "身份证号 is in scientific notation, so its last digits are lost; "
                "format the column as text and re-export",
            )
        elif values["id_number"]:
            try:
                parsed = idnumber.parse(
                    values["id_number"], today=today, min_birth_year=min_birth_year
                )
            except idnumber.InvalidIdNumber as exc:
                refuse("id_number", raw_id, exc.code, f"身份证号: {idnumber.message(exc.code)}")
        if parsed is not None and raw_sex in ("男", "女") and parsed.sex != raw_sex:
            refuse(
                "sex",
                raw_sex,
                SEX_MISMATCH,
                f"性别 says {raw_sex} but the ID number's 17th digit says {parsed.sex}; "
                "check both cells",
            )

        raw_number = cell(cells, "student_number")
        if isinstance(raw_number, float):
            numeric_student_numbers.append(excel_row)

        if parsed is not None:
            by_id[parsed.value].append(excel_row)
        if values["student_number"]:
            by_number[(values["school_code"], values["student_number"])].append(
                (excel_row, values["category"], values["major"])
            )

        if row_problems:
            problems.extend(row_problems)
            continue
        assert parsed is not None
        category = values["category"]
        if category and category not in CATEGORIES:
            warnings.append(
                Said.of(
                    "roster.note.category",
                    row=excel_row,
                    category=category,
                    known="/".join(CATEGORIES),
                )
            )
        candidates.append(
            (
                excel_row,
                Student(
                    id_number=parsed.value,
                    student_number=values["student_number"],
                    name=values["name"],
                    sex=raw_sex,
                    school_name=values["school_name"],
                    school_code=values["school_code"],
                    degree=values["degree"],
                    major=values["major"],
                    department=values["department"],
                    category=category,
                    roster_seq=values["roster_seq"],
                    birth_date=parsed.birth_date.isoformat(),
                ),
            )
        )

    duplicate_rows: set[int] = set()

    def refuse_all(excel_rows: list[int], value: str, code: str, column: str, label: str) -> None:
        for r in excel_rows:
            others = ", ".join(str(o) for o in excel_rows if o != r)
            problems.append(
                RowProblem(
                    r,
                    column,
                    value,
                    code,
                    f"the same {label} is also in row {others}; one of them is wrong: "
                    "correct it and import again",
                )
            )
            duplicate_rows.add(r)

    for key, excel_rows in by_id.items():
        if len(excel_rows) > 1:
            refuse_all(excel_rows, key, DUPLICATE_ID, "身份证号", "ID number")
    for (_, number), entries in by_number.items():
        if len(entries) < 2:
            continue
        clashing, shared = _student_number_clashes(entries)
        if clashing:
            refuse_all(clashing, number, DUPLICATE_STUDENT_NUMBER, "学号", "学号")
        if shared:
            warnings.append(
                Said.of(
                    "roster.note.shared_number", number=number, rows=", ".join(map(str, shared))
                )
            )
    good = [CheckedRow(r, s) for r, s in candidates if r not in duplicate_rows]
    problems.sort(key=lambda p: (p.row, p.column, p.code))
    if numeric_student_numbers:
        rows_text = _row_list(numeric_student_numbers)
        warnings.append(Said.of("roster.note.numeric_number", rows=rows_text))
    return good, problems, warnings, seen


def _student_number_clashes(
    entries: list[tuple[int, str, str]],
) -> tuple[list[int], list[int]]:
    """Split rows sharing one 学号 into (refused rows, legitimately shared rows).

    普通生, 成人生 and 研究生 are numbered by different offices, and schools
    build 学号 from the year, a major code and a serial; so the same 学号 can
    belong to two students of different 类型 in the same 专业. Any other repeat
    (same 类型, or a different 专业) means one of the rows is mistyped.
    """
    clashing: set[int] = set()
    for i, (row_a, category_a, major_a) in enumerate(entries):
        for row_b, category_b, major_b in entries[i + 1 :]:
            if category_a == category_b or major_a != major_b:
                clashing.update((row_a, row_b))
    shared = [row for row, _, _ in entries if row not in clashing]
    return sorted(clashing), shared if len(shared) > 1 else []


def _row_list(rows: list[int], limit: int = 10) -> str:
    text = ", ".join(str(r) for r in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _fill_merged(table: Table, header_index: int, mapping: dict[str, int]) -> None:
    """Give every cell of a merged range the value of its top-left cell.

    Registrars merge the 院校名称 column over a block of rows for looks; the
    value only sits in the first cell, and the school obviously means it for
    every row of the block.
    """
    if not table.merged:
        return
    names = {index: COLUMNS[name][0] for name, index in mapping.items()}
    by_excel_row = {excel_row: cells for excel_row, cells in table.rows}
    for r0, c0, r1, c1 in table.merged:
        top = by_excel_row.get(r0 + 1)
        if top is None or r0 + 1 <= table.rows[header_index][0] or c0 >= len(top):
            continue
        value = top[c0]
        for r in range(r0, r1 + 1):
            cells = by_excel_row.get(r + 1)
            if cells is None:
                continue
            for c in range(c0, min(c1, len(cells) - 1) + 1):
                cells[c] = value
        columns = ", ".join(sorted({names[c] for c in range(c0, c1 + 1) if c in names}))
        if columns:
            table.warnings.append(
                Said.of("roster.note.merged", columns=columns, first=r0 + 1, last=r1 + 1)
            )


# -- import and lookup ---------------------------------------------------------

# The roster fields an import writes, in the order of _UPSERT's first values.
UPSERTED = (*ROSTER_FIELDS, "birth_date")

_UPSERT = """
INSERT INTO students (id_number, student_number, name, sex, school_name, school_code, degree,
                      major, department, category, roster_seq, birth_date, origin,
                      source_file, source_row, imported_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'roster', ?, ?, ?, ?)
ON CONFLICT(id_number) DO UPDATE SET
    student_number = excluded.student_number, name = excluded.name, sex = excluded.sex,
    school_name = excluded.school_name, school_code = excluded.school_code,
    degree = excluded.degree, major = excluded.major, department = excluded.department,
    category = excluded.category, roster_seq = excluded.roster_seq,
    birth_date = excluded.birth_date, source_file = excluded.source_file,
    source_row = excluded.source_row, updated_at = excluded.updated_at
"""


def import_roster(
    store: Store,
    path: Path,
    *,
    min_birth_year: int = 1900,
    today: dt.date | None = None,
    progress: Callable[[list[tuple[int, list[Any]]]], Iterable[tuple[int, list[Any]]]]
    | None = None,
) -> ImportReport:
    """Read, check and import ``path``. Good rows are upserted in one transaction.

    Raises :class:`RosterError` (nothing changed) when the file cannot be read.
    Re-importing updates rows in place, keyed on the ID number; shots point at
    the student's database id, so they are never disturbed.
    """
    # The sheet becomes ~300,000 small objects that all live until the end;
    # the cyclic GC would scan them again and again for nothing (~30 % of the
    # time of a 25,000-row import). Nothing here makes reference cycles.
    return _import(store, path, min_birth_year=min_birth_year, today=today, progress=progress)


@dataclass
class CheckedRoster:
    """A roster file read and checked, not yet stored: what every store imports.

    The kiosk's database and the central office's both take their rows from
    here, so a school's sheet passes the same rules wherever it is imported.
    """

    report: ImportReport
    good: list[CheckedRow]
    file_name: str
    sha256: str

    def count_changes(self, existing: Mapping[str, tuple[Any, ...]]) -> None:
        """Fill new/updated/unchanged from what the store holds (id number -> compared values)."""
        for checked in self.good:
            s = checked.student
            before = existing.get(s.id_number or "")
            if before is None:
                self.report.new += 1
            elif tuple(before) == compared_values(s):
                self.report.unchanged += 1
            else:
                self.report.updated += 1
        self.report.imported = len(self.good)

    def upsert_values(self, stamp: str) -> list[tuple[Any, ...]]:
        """Parameters of an upsert per good row: UPSERTED, source file and row, times."""
        return [
            (*(getattr(c.student, f) for f in UPSERTED), self.file_name, c.excel_row, stamp, stamp)
            for c in self.good
        ]

    def log_values(self, stamp: str) -> tuple[Any, ...]:
        """Parameters of :data:`IMPORT_LOG_INSERT` (the import's own record)."""
        report = self.report
        return (
            self.file_name,
            self.sha256,
            report.rows,
            report.imported,
            len(report.rejected_rows),
            stamp,
        )


IMPORT_LOG_INSERT = (
    "INSERT INTO roster_imports (file, sha256, rows, imported, rejected, at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def compared_values(student: Student) -> tuple[Any, ...]:
    return tuple(getattr(student, c) for c in COMPARED_FIELDS)


def check_roster(
    path: Path,
    *,
    min_birth_year: int = 1900,
    today: dt.date | None = None,
    progress: Callable[[list[tuple[int, list[Any]]]], Iterable[tuple[int, list[Any]]]]
    | None = None,
) -> CheckedRoster:
    """Read ``path`` and apply the row rules. Raises :class:`RosterError` when unusable."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        table = read_table(path)
        header_index = _find_header(table)
        if header_index is None:
            raise RosterError.of(
                "roster.error.no_header",
                file=path.name,
                first=", ".join(_shown(v) for v in table.rows[0][1] if _present(v)),
            )
        mapping = map_columns(table.rows[header_index][1])
        _fill_merged(table, header_index, mapping)
        data_rows: Iterable[tuple[int, list[Any]]] = table.rows[header_index + 1 :]
        if progress is not None:
            data_rows = progress(table.rows[header_index + 1 :])
        good, problems, warnings, seen = check_rows(
            data_rows, mapping, today=today, min_birth_year=min_birth_year
        )
    finally:
        if gc_was_enabled:
            gc.enable()
    report = ImportReport(
        file=str(path), rows=seen, rejected=problems, warnings=table.warnings + warnings
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return CheckedRoster(report=report, good=good, file_name=path.name, sha256=digest)


def _import(
    store: Store,
    path: Path,
    *,
    min_birth_year: int,
    today: dt.date | None,
    progress: Callable[[list[tuple[int, list[Any]]]], Iterable[tuple[int, list[Any]]]] | None,
) -> ImportReport:
    checked = check_roster(path, min_birth_year=min_birth_year, today=today, progress=progress)
    return store_checked(store, checked)


def saving_failed(exc: Exception) -> RosterError:
    """A failed save (full disk, locked database): the transaction rolled back."""
    return RosterError.of("roster.error.save_failed", detail=exc)


def store_checked(store: Store, checked: CheckedRoster) -> ImportReport:
    """Upsert the good rows in one transaction (keyed on the ID number).

    Raises :class:`RosterError` when the save fails; the roster is then as it was.
    """
    try:
        return _store(store, checked)
    except sqlite3.Error as exc:
        raise saving_failed(exc) from exc


def _store(store: Store, checked: CheckedRoster) -> ImportReport:
    report = checked.report
    stamp = now()
    with store.transaction() as conn:
        checked.count_changes(
            {
                row["id_number"]: tuple(row[c] for c in COMPARED_FIELDS)
                for row in conn.execute(
                    f"SELECT id_number, {', '.join(COMPARED_FIELDS)} FROM students "
                    "WHERE id_number IS NOT NULL"
                )
            }
        )
        conn.executemany(_UPSERT, checked.upsert_values(stamp))
        conn.execute(IMPORT_LOG_INSERT, checked.log_values(stamp))
        store.log_event(
            "roster_import",
            f"{checked.file_name}: {report.imported} of {report.rows} rows imported",
            level="warning" if report.rejected else "info",
            detail={
                "new": report.new,
                "updated": report.updated,
                "rejected_rows": len(report.rejected_rows),
            },
        )
    return report


class Roster:
    """Lookups on the imported roster, with prepared statements (the scan hot path)."""

    _SELECT = "SELECT * FROM students WHERE "

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    def lookup(self, kind: str, value: str) -> list[Student]:
        """Every row a scanned identity of ``kind`` names (any school; the station decides)."""
        if kind == "id_number":
            found = self.by_id_number(value)
            return [found] if found else []
        if kind == "student_number":
            return self.by_student_number(value)
        if kind == "collection_code":
            found = self.by_collection_code(value)
            return [found] if found else []
        return []

    def school_name(self, school_code: str) -> str:
        """The school's name as its roster spells it, else as the office's schedule
        does (a 采集码 school); "" when neither names it."""
        row = self.conn.execute(
            "SELECT school_name FROM students WHERE school_code = ? AND school_name != '' "
            "UNION ALL SELECT school_name FROM school_plans WHERE school_code = ? "
            "AND school_name != '' LIMIT 1",
            (school_code, school_code),
        ).fetchone()
        return row[0] if row else ""

    def school_plans(self) -> list[SchoolPlan]:
        """The schools the office's schedule named at the roster pulls, with their
        expected headcount: the chooser lists the ones without roster rows for
        采集码 mode and shows the headcount."""
        from kiosk.chooser import SchoolPlan

        rows = self.conn.execute(
            "SELECT school_code, school_name, expected FROM school_plans ORDER BY school_code"
        ).fetchall()
        return [SchoolPlan(r[0], r[1], r[2]) for r in rows]

    def scope_counts(self) -> list[ScopeCount]:
        """Roster students per school, 类型 and 院系: the session chooser's choices.

        Only roster rows count: students added at the station (walk-ins,
        collection codes) do not make a school's roster.
        """
        from kiosk.chooser import ScopeCount

        rows = self.conn.execute(
            "SELECT school_code, max(school_name), category, department, count(*) FROM students "
            "WHERE origin = 'roster' GROUP BY school_code, category, department "
            "ORDER BY school_code, category, department"
        ).fetchall()
        return [ScopeCount(r[0] or "", r[1] or "", r[2] or "", r[3] or "", r[4]) for r in rows]

    def add_walk_in(self, student: Student, session_id: int, scanned: str) -> Student:
        """A student the roster lacks, added at the station; exported on the errata list.

        ``scanned`` names what identified them (``id_number``, ``student_number``);
        it goes into the correction and the event, never the value itself.
        """
        with self.store.transaction() as conn:
            student_id = self._insert(dataclasses.replace(student, origin="walk_in"))
            conn.execute(
                "INSERT INTO corrections (student_id, session_id, field, old_value, new_value, "
                "note, at) VALUES (?, ?, 'walk_in', NULL, ?, ?, ?)",
                (student_id, session_id, scanned, "added at the station by the crew", now()),
            )
            self.store.log_event(
                "walk_in_added", scanned, session_id=session_id, student_id=student_id
            )
        added = self.by_db_id(student_id)
        assert added is not None
        return added

    def collection_code_student(self, code: str, session_id: int) -> int:
        """Roster-less mode: the student row keyed by the 图像采集码 alone (made on first use)."""
        row = self.conn.execute(
            "SELECT id FROM students WHERE collection_code = ?", (code,)
        ).fetchone()
        if row:
            return int(row[0])
        session = self.store.session(session_id)
        keyed = Student(
            id_number=None,
            student_number="",
            name="",
            school_name=session.school_name,
            school_code=session.school_code,
            department=session.department,
            category=session.category,
            collection_code=code,
            origin="collection_code",
        )
        with self.store.transaction():
            return self._insert(keyed)

    def _insert(self, student: Student) -> int:
        """One student row added outside a roster import (a walk-in, a collection code)."""
        stamp = now()
        cursor = self.conn.execute(
            f"INSERT INTO students ({', '.join(DESCRIPTION_FIELDS)}, imported_at, updated_at) "
            f"VALUES ({', '.join('?' * len(DESCRIPTION_FIELDS))}, ?, ?)",
            (*(getattr(student, name) for name in DESCRIPTION_FIELDS), stamp, stamp),
        )
        return int(cursor.lastrowid or 0)

    def by_id_number(self, value: str) -> Student | None:
        row = self.conn.execute(self._SELECT + "id_number = ?", (value,)).fetchone()
        return Student.from_row(row) if row else None

    def by_student_number(self, value: str, school_code: str | None = None) -> list[Student]:
        if school_code:
            rows = self.conn.execute(
                self._SELECT + "student_number = ? AND school_code = ?", (value, school_code)
            ).fetchall()
        else:
            rows = self.conn.execute(self._SELECT + "student_number = ?", (value,)).fetchall()
        return [Student.from_row(r) for r in rows]

    def by_collection_code(self, value: str) -> Student | None:
        row = self.conn.execute(self._SELECT + "collection_code = ?", (value,)).fetchone()
        return Student.from_row(row) if row else None

    def by_db_id(self, student_id: int) -> Student | None:
        row = self.conn.execute(self._SELECT + "id = ?", (student_id,)).fetchone()
        return Student.from_row(row) if row else None

    def by_name(self, value: str) -> list[Student]:
        """Students of this name; when nobody has it exactly, names containing it.

        A student without a card is found by name at the desk; several may share
        one, so all are returned (school, 类型, 院系, 学号 order) for the crew to
        tell apart by 学号 or ID number.
        """
        name = "".join(unicodedata.normalize("NFKC", value).split())
        if not name:
            return []
        order = " ORDER BY school_code, category, department, student_number, id"
        rows = self.conn.execute(self._SELECT + "name = ?" + order, (name,)).fetchall()
        if not rows and len(name) >= 2:
            pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.conn.execute(
                self._SELECT + "name LIKE ? ESCAPE '\\'" + order, (pattern,)
            ).fetchall()
        return [Student.from_row(r) for r in rows]

    def find(self, query: str) -> list[Student]:
        """By ID number (any accepted spelling), by 学号, else by name."""
        text = query.strip()
        canonical = idnumber.normalise(text)
        if len(canonical) == 18:
            student = self.by_id_number(canonical)
            if student is not None:
                return [student]
        found = self.by_student_number(unicodedata.normalize("NFKC", text).strip())
        return found or self.by_name(text)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM students").fetchone()[0])

    def in_roster_order(self, school_code: str, limit: int, offset: int = 0) -> list[Student]:
        """The school's roster rows as the sheet (or the office's pull) listed them."""
        rows = self.conn.execute(
            self._SELECT + "school_code = ? AND origin = 'roster' AND id_number IS NOT NULL "
            "ORDER BY source_row, id LIMIT ? OFFSET ?",
            (school_code, limit, offset),
        ).fetchall()
        return [Student.from_row(r) for r in rows]
