"""Made-up sessions with shots for the export tests and bench/export_bench.py.

The students come from kiosk.sample (nobody real); the photos are synthetic
480 x 640 JPEGs drawn with Pillow (a head-and-shoulders shape on a plain
background, different for every index) so the export never depends on the
capture code being built in parallel.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from kiosk.idnumber import check_character
from kiosk.roster import import_roster
from kiosk.sample import write_sample_roster
from kiosk.store import Store

_NOISE: Image.Image | None = None
# The walk-in of mixed_school(): made up, with a correct check character.
WALK_IN_ID = "62010220020304001" + check_character("62010220020304001")


def make_photo(index: int, size: tuple[int, int] = (480, 640), *, texture: bool = False) -> bytes:
    """A distinct portrait-like JPEG. ``texture`` adds grain so the file is as big
    as a real photo (~40 KB instead of ~8 KB), for the benchmark."""
    global _NOISE
    rng = random.Random(index)
    w, h = size
    background = (rng.randrange(150, 230), rng.randrange(180, 235), rng.randrange(210, 255))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    skin = (rng.randrange(200, 240), rng.randrange(160, 200), rng.randrange(130, 170))
    cx = w // 2 + rng.randrange(-10, 11)
    draw.ellipse((cx - 95, 130, cx + 95, 390), fill=skin)
    draw.rectangle((cx - 170, 430, cx + 170, h), fill=(rng.randrange(20, 90),) * 3)
    for ex in (cx - 40, cx + 40):
        draw.ellipse((ex - 12, 235, ex + 12, 251), fill=(30, 30, 30))
    draw.line((cx - 30, 330, cx + 30, 330), fill=(150, 60, 60), width=4)
    draw.text((10, 10), f"{index}", fill=(0, 0, 0))
    if texture:
        if _NOISE is None:
            _NOISE = Image.effect_noise((w + 64, h + 64), 40).convert("RGB")
        dx, dy = index % 64, (index // 64) % 64
        image = Image.blend(image, _NOISE.crop((dx, dy, dx + w, dy + h)), 0.10)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass
class School:
    """What was made, for the tests to compare the export against."""

    session_id: int
    student_ids: list[int]  # roster order
    photographed: set[int] = field(default_factory=set)
    walk_in_id: int | None = None


def roster_students(store: Store, tmp_path: Path, count: int) -> list[int]:
    path = write_sample_roster(tmp_path / "roster.xlsx", count=count)
    report = import_roster(store, path)
    assert report.imported == count, report.rejected[:3]
    return [r[0] for r in store.conn.execute("SELECT id FROM students ORDER BY source_row")]


def shoot_everyone(store: Store, tmp_path: Path, count: int, *, texture: bool = False) -> School:
    """A roster of ``count`` and one session in which everybody gets one accepted shot."""
    ids = roster_students(store, tmp_path, count)
    session = store.open_session(
        station_id="kiosk-01", school_code="19999", school_name="示例大学", category="普通生"
    )
    for i, student_id in enumerate(ids):
        store.save_shot(
            student_id=student_id,
            session_id=session.id,
            jpeg=make_photo(i, texture=texture),
            status="accepted",
            taken_at=f"2026-06-03T0{1 + i // 3600}:{(i // 60) % 60:02d}:{i % 60:02d}.000+00:00",
        )
    return School(session.id, ids, set(ids))


def mixed_school(store: Store, tmp_path: Path, count: int = 40) -> School:
    """A session with every case the export must tell apart (see the comments)."""
    assert count >= 32
    ids = roster_students(store, tmp_path, count)
    session = store.open_session(
        station_id="kiosk-01", school_code="19999", school_name="示例大学", category="普通生"
    )
    clock = iter(range(10_000))

    def shot(i: int, status: str, reasons: tuple[str, ...] = ()) -> None:
        t = next(clock)
        store.save_shot(
            student_id=ids[i],
            session_id=session.id,
            jpeg=make_photo(i * 10 + t % 10),
            status=status,  # type: ignore[arg-type]
            reasons=list(reasons),
            taken_at=f"2026-06-03T02:{t // 60:02d}:{t % 60:02d}.000+00:00",
        )

    for i in range(25):
        shot(i, "accepted")
    shot(25, "refused", ("eyes_closed",))  # refused, then a good retake: delivered, no retake
    shot(25, "accepted")
    shot(26, "accepted")  # good, then refused: delivered (the first), listed for a retake
    shot(26, "refused", ("blurry", "mouth_open"))
    shot(27, "flagged")  # delivered but marked by the crew: delivered and listed
    shot(28, "refused", ("eyes_closed",))  # refused twice: missing and listed
    shot(28, "refused", ("head_pose",))
    shot(29, "accepted")  # photographed twice: the second is delivered
    shot(29, "accepted")
    # 30 .. count-1: never photographed -> missing

    # A walk-in added at the station, and a name corrected by the crew.
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO students (id_number, student_number, name, sex, school_name, "
            "school_code, degree, major, department, category, origin, imported_at, updated_at) "
            "VALUES (?, '2021999001', '补录生', '男', '示例大学', '19999', "
            "'本科', '英语', '外国语学院', '普通生', 'walk_in', '2026-06-03', '2026-06-03')",
            (WALK_IN_ID,),
        )
        walk_in = int(cursor.lastrowid or 0)
        conn.execute(
            "INSERT INTO corrections (student_id, session_id, field, old_value, new_value, note, at) "
            "VALUES (?, ?, 'walk_in', NULL, NULL, '名单外，持学生证', '2026-06-03T02:30:00.000+00:00')",
            (walk_in, session.id),
        )
        conn.execute(
            "INSERT INTO corrections (student_id, session_id, field, old_value, new_value, note, at) "
            "SELECT id, ?, 'name', name, name || '改', '本人核对', '2026-06-03T02:31:00.000+00:00' "
            "FROM students WHERE id = ?",
            (session.id, ids[3]),
        )
    store.save_shot(
        student_id=walk_in,
        session_id=session.id,
        jpeg=make_photo(9999),
        status="accepted",
        taken_at="2026-06-03T02:32:00.000+00:00",
    )
    photographed = {ids[i] for i in range(30) if i != 28} | {walk_in}
    return School(session.id, ids, photographed, walk_in)
