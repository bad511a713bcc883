"""Rosters that cannot be read exit 2 with a sentence, never a traceback; nothing changes.

The hostile review's cases: a CSV cell over 131,072 characters, a 200 MB
cell (which also took 1.8 GB of memory), a full disk during the import, and
a password-protected workbook. Each runs `kiosk roster import` as a real
process on real files; the roster imported before must be untouched.
"""

from __future__ import annotations

import csv
import io
import resource
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kiosk import sample


def import_roster(data: Path, roster: Path, **popen: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data", str(data), "roster", "import", str(roster)],
        capture_output=True,
        text=True,
        timeout=300,
        **popen,  # type: ignore[arg-type]
    )


def students(data: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(data / "kiosk.db")
    try:
        return db.execute("SELECT id_number, name FROM students ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.fixture
def kiosk_with_roster(tmp_path: Path) -> Path:
    data = tmp_path / "k"
    first = import_roster(data, sample.write_sample_roster(tmp_path / "first.xlsx", count=30))
    assert first.returncode == 0, first.stderr
    return data


def csv_roster(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(sample.HEADERS)
        writer.writerows(rows)
    return path


def refused_cleanly(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_csv_cell_over_the_csv_modules_limit(tmp_path, kiosk_with_roster):
    before = students(kiosk_with_roster)
    rows = sample.sample_rows(5, seed=3)
    rows[2][sample.HEADERS.index("专业名称")] = "计" * 200_000
    result = import_roster(kiosk_with_roster, csv_roster(tmp_path / "long.csv", rows))
    refused_cleanly(result, "第 4 行", "字符")
    assert students(kiosk_with_roster) == before


def test_a_long_cell_under_the_csv_limit_names_its_row(tmp_path, kiosk_with_roster):
    rows = sample.sample_rows(5, seed=3)
    rows[1][sample.HEADERS.index("姓名")] = "A" * 100_000
    result = import_roster(kiosk_with_roster, csv_roster(tmp_path / "long.csv", rows))
    refused_cleanly(result, "第 3 行", "100,000 个字符")


# Runs the import and records its own peak memory (VmHWM belongs to the
# process image after exec; ru_maxrss of a child also counts the forked
# parent's pages, which in a long test session are hundreds of MB).
PEAK_PROBE = """
import atexit, sys
from pathlib import Path
def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(sys.argv[1]).write_text(line.split()[1])
atexit.register(peak)
from kiosk.cli import main
main(sys.argv[2:], prog_name="kiosk")
"""


def import_measured(data: Path, roster: Path, tmp: Path) -> tuple[int, str, float]:
    """Exit code, stderr and this one import's peak memory (MB)."""
    peak = tmp / "peak-kb"
    command = ["--data", str(data), "roster", "import", str(roster)]
    result = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, str(peak), *command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stderr, int(peak.read_text()) / 1024


def test_a_200_mb_cell_is_refused_without_reading_it(tmp_path, kiosk_with_roster):
    before = students(kiosk_with_roster)
    big = tmp_path / "huge.csv"
    header = io.StringIO()
    csv.writer(header).writerow(sample.HEADERS)
    with big.open("w", encoding="utf-8") as file:
        file.write(header.getvalue() + '1,示例大学,19999,2020001,"')
        block = "A" * (1 << 20)
        for _ in range(200):
            file.write(block)
        file.write('",男,11010519491231002X,本科,计算机,信息学院,普通生\n')
    refused_cleanly(import_roster(kiosk_with_roster, big), "210 MB", "这不是学校的名单")

    # The same cell inside a workbook: 200 MB that zip squeezes to ~200 KB.
    book = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/sharedStrings.xml", "w") as member:
            member.write(b"<sst><si><t>")
            for _ in range(200):
                member.write(b"A" * (1 << 20))
            member.write(b"</t></si></sst>")
    assert book.stat().st_size < 2_000_000
    code, stderr, peak_mb = import_measured(kiosk_with_roster, book, tmp_path)
    assert code == 2 and "解压后有" in stderr and "Traceback" not in stderr, stderr
    assert peak_mb < 300, peak_mb  # reading it all took 1.8 GB
    assert students(kiosk_with_roster) == before


def test_a_full_disk_during_the_import_changes_nothing(tmp_path, kiosk_with_roster):
    before = students(kiosk_with_roster)
    bigger = sample.write_sample_roster(tmp_path / "bigger.xlsx", count=3000, seed=11)
    size = (kiosk_with_roster / "kiosk.db").stat().st_size

    def small_disk() -> None:  # writes past this size fail as on a full SD card
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64 * 1024, resource.RLIM_INFINITY))

    result = import_roster(kiosk_with_roster, bigger, preexec_fn=small_disk)
    refused_cleanly(result, "没有做任何改动", "清理 SD 卡空间")
    assert students(kiosk_with_roster) == before
    db = sqlite3.connect(kiosk_with_roster / "kiosk.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_password_protected_workbook_is_named_as_such(tmp_path, kiosk_with_roster):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = sample.write_sample_roster(tmp_path / "plain.xlsx", count=5)
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("学校密码", target)
    refused_cleanly(import_roster(kiosk_with_roster, locked), "设置了密码")
