"""The export's pure parts: who is delivered/missing/retaken, names, masking, metadata."""

from __future__ import annotations

import datetime as dt
import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from kiosk import config as config_module
from kiosk.cli import main
from kiosk.config import ConfigError, ExportConfig
from kiosk.export import fields, from_store, writer
from kiosk.export.package import EPOCH, Erratum, Person, Photo, Take, assemble
from kiosk.store import Store
from tests.export_data import make_photo, mixed_school, roster_students


def person(key: str, **kw: object) -> Person:
    values: dict[str, object] = {"id_number": None, "student_number": key, "name": "某"}
    values.update(kw)
    return Person(key=key, **values)  # type: ignore[arg-type]


def take(key: str, student: str, status: str, minute: int, seq: int | None = None) -> Take:
    return Take(key, student, status, f"2026-06-03T02:{minute:02d}:00.000+00:00", seq=seq)


def build(students: list[Person], takes: list[Take], errata: tuple[Erratum, ...] = ()):
    return assemble(
        students,
        takes,
        errata,
        folder="f",
        school_code="19999",
        school_name="示例大学",
        scope="全校",
    )


# -- assemble ---------------------------------------------------------------------


def test_latest_delivered_take_is_the_photo_even_after_a_refusal():
    package = build(
        [person("a")],
        [
            take("1", "a", "accepted", 1, 1),
            take("2", "a", "accepted", 2, 2),
            take("3", "a", "refused", 3),
        ],
    )
    [photo] = package.photos
    assert photo.take.key == "2"
    [retake] = package.retakes
    assert retake.latest.key == "3" and retake.delivered is not None
    assert package.missing == ()


def test_flagged_is_delivered_and_listed_for_a_retake():
    package = build(
        [person("a")], [take("1", "a", "accepted", 1, 1), take("2", "a", "flagged", 2, 2)]
    )
    assert [p.take.key for p in package.photos] == ["2"]
    assert [r.latest.status for r in package.retakes] == ["flagged"]


def test_refused_only_is_missing_and_retake_never_photographed_is_missing_only():
    package = build(
        [person("a"), person("b")],
        [take("1", "a", "refused", 1), take("2", "a", "refused", 2)],
    )
    assert package.photos == ()
    assert {(m.student.key, m.refused) for m in package.missing} == {("a", 2), ("b", 0)}
    assert [r.student.key for r in package.retakes] == ["a"]


def test_takes_of_students_outside_the_scope_are_ignored():
    package = build([person("a")], [take("1", "zz", "accepted", 1, 1)])
    assert package.photos == () and len(package.missing) == 1


def test_order_is_category_then_department_then_seq_and_stamp_is_newest_record():
    students = [
        person("1", category="研究生", department="医学院"),
        person("2", category="普通生", department="医学院"),
        person("3", category="普通生", department="信息学院"),
        person("4", category="成人生", department="信息学院"),
        person("5", category="普通生", department="信息学院"),
    ]
    takes = [
        take("a", "1", "accepted", 1, 1),
        take("b", "2", "accepted", 2, 2),
        take("c", "3", "accepted", 9, 9),
        take("d", "4", "accepted", 4, 4),
        take("e", "5", "accepted", 3, 3),
    ]
    erratum = Erratum("x", "2", "name", "甲", "乙", "", "2026-06-03T02:30:00+00:00")
    package = build(students, takes, (erratum,))
    assert [p.student.key for p in package.photos] == ["5", "3", "2", "4", "1"]
    assert package.stamp == dt.datetime(2026, 6, 3, 2, 30, tzinfo=dt.UTC)
    assert build([person("a")], []).stamp == EPOCH
    # Input order does not matter.
    shuffled = build(students[::-1], takes[::-1], (erratum,))
    assert shuffled == package


# -- file names and captions ----------------------------------------------------


def photo_of(**kw: object) -> Photo:
    seq = kw.pop("seq", 7)
    return Photo(
        person("k", **kw), Take("t", "k", "accepted", "2026-06-03T00:00:00+00:00", seq=seq)
    )  # type: ignore[arg-type]


def test_file_name_templates():
    photo = photo_of(
        id_number="62010220010101001X",
        student_number="2021001",
        collection_code="CJ1",
        school_code="19999",
    )
    assert fields.render_file_name("{身份证号}.jpg", photo) == "62010220010101001X.jpg"
    assert fields.render_file_name("{学号}.jpg", photo) == "2021001.jpg"
    assert fields.render_file_name("{采集码}.jpg", photo) == "CJ1.jpg"
    assert fields.render_file_name("{院校代码}_{拍摄序号}.JPG", photo) == "19999_7.JPG"
    with pytest.raises(ValueError, match="no 身份证号"):
        fields.render_file_name("{身份证号}.jpg", photo_of(id_number=None))
    with pytest.raises(ValueError, match="not allowed"):
        fields.render_file_name("{学号}.jpg", photo_of(student_number="a/b"))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{身份证}.jpg", "unknown placeholder"),
        ("photo.jpg", "no placeholder"),
        ("{学号}.png", "must end in .jpg"),
        ("a/{学号}.jpg", "not allowed"),
        ("{学号!r}.jpg", "unknown placeholder"),
        ("{学号.jpg", "not a valid template"),
    ],
)
def test_bad_templates_are_config_errors(template: str, message: str):
    settings = config_module.from_dict({"export": {"file_name": template}}).export
    with pytest.raises(ConfigError, match=f"export.file_name: .*{message}"):
        fields.check_settings(settings)


def test_captions_are_checked_and_rendered():
    with pytest.raises(ConfigError, match=r"export\.captions: unknown caption field '学生'"):
        fields.check_settings(ExportConfig(captions=("学生",)))
    with pytest.raises(ConfigError, match="at least one"):
        fields.check_settings(ExportConfig(captions=()))
    photo = photo_of(
        id_number="62010220010101001X", student_number="2021001", school_name="示例大学"
    )
    assert fields.caption_lines(photo, ExportConfig().captions) == [
        "学校 示例大学", "姓名 某", "学号 2021001", "身份证号 62010220010101001X", "拍摄序号 7",
    ]  # fmt: skip
    assert fields.caption_lines(photo, ("身份证号码",), mask=True) == [
        "身份证号 620102********001X"
    ]
    # a 采集码 student: the code where the ID number would be, and no name said so
    coded = photo_of(
        id_number=None, name="", student_number="", collection_code="XC0001", school_name="示例大学"
    )
    assert fields.caption_lines(coded, ExportConfig().captions)[1:4] == [
        "姓名 （无姓名）", "", "采集码 XC0001",
    ]  # fmt: skip


def test_masking_always_hides_the_birth_date():
    number = "62010220010101001X"
    assert fields.mask_id_number(number, 6, 4) == "620102********001X"
    assert fields.mask_id_number(number, 17, 17).count("*") == 8
    assert fields.mask_id_number(number, 0, 0) == "*" * 18
    assert fields.mask_id_number("H1234567", 6, 4).count("*") >= 4
    assert fields.mask_id_number("", 6, 4) == ""


# -- photo metadata ---------------------------------------------------------------


def jpeg_with_metadata() -> bytes:
    plain = Image.open(io.BytesIO(make_photo(1)))
    exif = Image.Exif()
    exif[0x010F] = "SomeCamera"
    exif[0x0132] = "2026:06:03 10:00:00"
    out = io.BytesIO()
    plain.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=b"taken by crew 3")
    return out.getvalue()


def test_strip_metadata_removes_exif_and_comments_and_keeps_pixels():
    original = jpeg_with_metadata()
    assert b"Exif" in original and b"crew 3" in original
    stripped = writer.strip_metadata(original)
    assert b"Exif" not in stripped and b"crew 3" not in stripped
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stripped)) as b:
        assert "exif" not in b.info and "comment" not in b.info
        assert a.tobytes() == b.tobytes()
    clean = make_photo(2)
    assert writer.strip_metadata(clean) is clean
    assert writer.strip_metadata(b"not a jpeg") == b"not a jpeg"
    assert writer.strip_metadata(original[:30]) == original[:30]  # truncated: left alone


def test_exported_photo_has_no_exif(tmp_path: Path):
    with Store(tmp_path / "kiosk.db") as store:
        [student, *_] = roster_students(store, tmp_path, 32)
        session = store.open_session(station_id="k", school_code="19999", school_name="示例大学")
        store.save_shot(
            student_id=student, session_id=session.id, jpeg=jpeg_with_metadata(), status="accepted"
        )
        [package] = from_store.packages(store)
        result = writer.write_package(package, tmp_path / "out", ExportConfig())
        [photo] = list((result.path / "photos").iterdir())
        with Image.open(photo) as image:
            assert "exif" not in image.info and image.size == (480, 640)


def test_a_photo_of_the_wrong_size_is_not_delivered(tmp_path: Path):
    with Store(tmp_path / "kiosk.db") as store:
        [student, *_] = roster_students(store, tmp_path, 32)
        session = store.open_session(station_id="k", school_code="19999")
        store.save_shot(
            student_id=student,
            session_id=session.id,
            jpeg=make_photo(1, (600, 800)),
            status="accepted",
        )
        [package] = from_store.packages(store)
        with pytest.raises(writer.ExportError, match="600 x 800, not the official 480 x 640"):
            writer.write_package(package, tmp_path / "out", ExportConfig())
        assert not any((tmp_path / "out").iterdir())


# -- command line ---------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    with Store(base / "data" / "kiosk.db") as store:
        mixed_school(store, base, count=32)
    return base / "data"


def test_cli_export_exit_codes(data_dir: Path, tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["--data", str(data_dir), "export", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output  # written, with students missing
    assert "照片 30 张，缺拍 3 人，待重拍 3 人，勘误 2 条" in result.output
    assert (tmp_path / "19999" / "SHA256SUMS").is_file()
    both = runner.invoke(
        main, ["--data", str(data_dir), "export", "--session", "1", "--school", "19999"]
    )
    assert both.exit_code == 2 and "只能给一个" in both.output
    english = tmp_path / "en.toml"
    english.write_text('[station]\ncrew_language = "en"\n', encoding="utf-8")
    result = runner.invoke(
        main,
        ["--config", str(english), "--data", str(data_dir), "export", "--out", str(tmp_path)],
    )
    assert "30 photos, 3 missing, 3 to retake, 2 corrections" in result.output
    wrong = runner.invoke(main, ["--data", str(data_dir), "export", "--school", "10000"])
    assert wrong.exit_code == 2 and "本机有：19999" in wrong.output


def test_cli_draws_a_progress_bar_on_a_terminal(data_dir: Path, tmp_path: Path):
    master, slave = pty.openpty()
    command = [
        sys.executable,
        "-m",
        "kiosk.cli",
        "--data",
        str(data_dir),
        "export",
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdin=slave, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = process.communicate(timeout=60)
    os.close(master)
    assert process.returncode == 1
    assert b"19999" in seen and b"100%" in seen
    assert "照片 30 张" in stdout.decode()


def test_errata_values_and_times_read_as_the_school_reads_them():
    from kiosk.export import sheets

    student = person("a", id_number="62010220010101001X", name="张三", school_code="19999")
    walk_in = Erratum(
        "1", "a", "walk_in", None, '{"name": "张三", "id_number": "62010220010101001X"}', "",
        "2026-06-03T16:30:00.000+00:00",
    )  # fmt: skip
    typo = Erratum("2", "a", "student_number", "2021001", "2021010", "学生证", "yesterday")
    package = build([student], [], (walk_in, typo))
    rows = sheets.errata_rows(package)
    assert rows[0][6].startswith("新增学生") and rows[0][7] == "（名单中无此人）"
    assert rows[0][8] == "姓名 张三；身份证号 62010220010101001X"
    assert rows[0][10] == "2026-06-04 00:30"  # UTC+8 crosses midnight
    assert rows[1][6:10] == ["学号", "2021001", "2021010", "学生证"]
    assert rows[1][10] == "yesterday"  # not a timestamp: shown as it is, no crash


def test_byte_identical_across_processes_with_different_hash_seeds(data_dir: Path, tmp_path: Path):
    """Set order depends on PYTHONHASHSEED; nothing in the package may."""
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-m", "kiosk.cli", "--data", str(data_dir), "export"]
        subprocess.run([*command, "--out", str(out)], env=env, capture_output=True, timeout=120)
        files = sorted(p for p in (out / "19999").rglob("*") if p.is_file())
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in files})
    assert len(trees[0]) == 30 + 7
    assert trees[0] == trees[1]


def test_unwritable_destination_is_a_clear_error(data_dir: Path, tmp_path: Path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"  # root ignores permissions; a file in the way fails for all
        blocker.write_text("x")
        out = blocker / "out"
    else:
        out = tmp_path / "ro"
        out.mkdir(mode=0o500)
    with Store(data_dir / "kiosk.db") as store:
        [package] = from_store.packages(store)
    with pytest.raises(writer.ExportError, match=r"cannot (create|write the package)"):
        writer.write_package(package, out, ExportConfig())


def test_a_name_the_font_cannot_draw_is_reported(tmp_path: Path):
    with Store(tmp_path / "kiosk.db") as store:
        [student, *_] = roster_students(store, tmp_path, 32)
        with store.transaction() as conn:
            conn.execute("UPDATE students SET name = '吉𠮷' WHERE id = ?", (student,))
        session = store.open_session(station_id="k", school_code="19999", school_name="示例大学")
        store.save_shot(
            student_id=student, session_id=session.id, jpeg=make_photo(1), status="accepted"
        )
        [package] = from_store.packages(store)
        result = writer.write_package(package, tmp_path / "out", ExportConfig())
        [warning] = result.warnings
        assert "𠮷 (U+20BB7)" in warning and "吉𠮷" in warning
        assert "吉" not in warning.split("glyph for")[1].split(";")[0]
        clean = writer.write_package(
            package, tmp_path / "out2", ExportConfig(captions=("学号", "身份证号码"))
        )
        assert clean.warnings == ()
