"""Central office benchmark: pages of a 50-school x 3,000-student campaign, and one export.

    .venv/bin/python bench/central_bench.py [--schools 50] [--students 3000]
        [--requests 40] [--export-students 5000] [--data DIR]

Pages: builds (once; reused from --data) a central store with the notice's
schedule, a roster per school and every student's record received, through
the receiver's own ``commit_batch`` (batches of 500, two kiosks per school,
a retake and a flagged shot every 50 students). Photos are not stored for
this part: the pages measured are HTML (thumbnails are separate requests).
Then serves ``central serve`` on 127.0.0.1 and times the office overview and
a school's page and review page over real HTTP, logged in; prints p50/p95.
Target: p95 < 300 ms on 2 cores.

Export: a kiosk with ``--export-students`` accepted shots (synthetic
480 x 640 JPEGs with grain, ~40-60 KB) syncs them to a fresh receiver with
``kiosk sync --once``; then ``central export --school`` is timed as a whole
command. Target: < 30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from central.backends import Locations, open_storage
from kiosk import idnumber, sample
from kiosk.roster import CheckedRoster, CheckedRow, ImportReport
from kiosk.student import Student
from kiosk.sync import protocol
from tests.office_support import SCHEDULE, central
from tests.sync_support import BIN, Receiver, add_token, free_port, write_config

DEPARTMENTS = ("信息学院", "经济管理学院", "外国语学院", "医学院", "法学院", "化学化工学院")


def id_number(rng: random.Random, used: set[str]) -> str:
    while True:
        first17 = f"620102{2000 + rng.randrange(5)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}{rng.randrange(1000):03d}"
        value = first17 + idnumber.check_character(first17)
        if value not in used:
            used.add(value)
            return value


def build_pages(data: Path, schools: int, students: int) -> str:
    """Returns a school code to measure. Reuses a store built before."""
    marker = data / f"built-{schools}x{students}"
    codes = [f"{20000 + i}" for i in range(schools)]
    if marker.exists():
        print(f"reusing {data}")
        return codes[0]
    started = time.perf_counter()
    assert central(data, "schedule", "import", str(SCHEDULE)).returncode == 0
    storage = open_storage(Locations(data), create=True)
    metadata, campaign = storage.metadata, storage.campaign
    rng = random.Random(5)
    used: set[str] = set()
    stamp = "2026-10-09T01:00:00.000+00:00"
    for s, code in enumerate(codes):
        name = f"测试大学{s:02d}"
        roster = [
            Student(
                id_number=id_number(rng, used),
                student_number=f"2022{s:02d}{i:06d}",
                name=f"学生{i:05d}",
                sex="男" if i % 2 else "女",
                school_name=name,
                school_code=code,
                degree="本科",
                major="专业",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                category="普通生" if i % 10 else "成人生",
            )
            for i in range(students)
        ]
        campaign.import_roster(
            CheckedRoster(
                report=ImportReport(file=f"{code}.xlsx", rows=students),
                good=[CheckedRow(i + 2, st) for i, st in enumerate(roster)],
                file_name=f"{code}.xlsx",
                sha256="0" * 64,
            )
        )
        for crew in (1, 2):
            kiosk = f"k{s:02d}-{crew}"
            session = str(uuid.uuid4())
            session_row = {
                "uuid": session,
                "station_id": kiosk,
                "school_code": code,
                "school_name": name,
                "category": "",
                "department": "",
                "opened_at": stamp,
                "closed_at": None,
            }
            mine = [st for i, st in enumerate(roster) if i % 2 == crew - 1]
            records = []
            for n, st in enumerate(mine):
                body = {
                    "uuid": str(uuid.uuid4()),
                    "session": session,
                    "seq": crew * 100_000 + n + 1,
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "size": 45_000,
                    "width": 480,
                    "height": 640,
                    "taken_at": f"2026-10-09T0{1 + n // 1000}:{(n // 20) % 60:02d}:{n % 60:02d}.000+00:00",
                    "status": "flagged" if n % 50 == 7 else "accepted",
                    "reasons": [],
                    "supersedes": None,
                    "collection_code": None,
                    "student": {
                        **{k: getattr(st, k) for k in protocol.STUDENT_FIELDS if hasattr(st, k)},
                        "origin": "roster",
                    },
                }
                records.append(body)
            for start in range(0, len(records), 500):
                batch = str(uuid.uuid4())
                manifest_bytes = protocol.encode_manifest(
                    batch=batch,
                    kiosk=kiosk,
                    sessions=[session_row],
                    records=records[start : start + 500],
                )
                manifest = protocol.decode_manifest(manifest_bytes)
                sizes = {r.sha256: r.size for r in manifest.records}
                metadata.commit_batch(kiosk, manifest, "0" * 64, sizes.get)
            metadata.add_token(kiosk)
        print(f"  school {s + 1}/{schools} built", end="\r", flush=True)
    storage.close()
    marker.touch()
    print(f"built {schools} x {students} in {time.perf_counter() - started:.0f} s")
    return codes[0]


def login(client: httpx.Client, name: str, password: str) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"name": name, "password": password, "csrf": csrf})
    assert answer.status_code == 303, answer.text


def timed(client: httpx.Client, url: str, requests: int) -> list[float]:
    client.get(url).raise_for_status()  # warm
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def pages(data: Path, schools: int, students: int, requests: int) -> None:
    code = build_pages(data, schools, students)
    password = {}
    for name, role in (("bench-office", "office"), ("bench-school", "school")):
        done = central(
            data,
            "user",
            "add",
            name,
            "--role",
            role,
            *(["--school", code] if role == "school" else []),
        )
        if done.returncode == 0:
            (data / f"{name}.pw").write_text(done.stdout.strip().splitlines()[-1])
        password[name] = (data / f"{name}.pw").read_text()
    receiver = Receiver(data).start()
    try:
        office = httpx.Client(base_url=receiver.url, timeout=60)
        login(office, "bench-office", password["bench-office"])
        school = httpx.Client(base_url=receiver.url, timeout=60)
        login(school, "bench-school", password["bench-school"])
        results = {
            "office overview (/office)": timed(office, "/office", requests),
            f"school page (/school/{code})": timed(school, f"/school/{code}", requests),
            "review page, one 院系 (60 students)": timed(
                school, f"/school/{code}/review", requests
            ),
        }
    finally:
        receiver.stop()
    print(
        f"\n{schools} schools x {students} students received ({schools * students} records), {requests} requests each:"
    )
    for label, times in results.items():
        print(
            f"  {label:40s} p50 {statistics.median(times):6.0f} ms   p95 {p95(times):6.0f} ms   max {max(times):6.0f} ms"
        )


def export(data: Path, students: int) -> None:
    from kiosk.store import Store
    from tests.export_data import shoot_everyone

    central_dir = data / "export-central"
    kiosk_dir = data / "export-kiosk"
    if not (central_dir / "central.db").exists():
        started = time.perf_counter()
        store = Store(kiosk_dir / "kiosk.db")
        shoot_everyone(store, kiosk_dir, students, texture=True)
        store.close()
        roster = sample.write_sample_roster(data / "export-roster.xlsx", count=students)
        assert central(central_dir, "roster", "import", str(roster)).returncode in (0, 1)
        receiver = Receiver(central_dir, port=free_port()).start()
        try:
            token = add_token(central_dir, "kiosk-01")
            config = write_config(data / "export-kiosk.toml", receiver.url, token)
            done = subprocess.run(
                [
                    str(BIN / "kiosk"),
                    "--config",
                    str(config),
                    "--data",
                    str(kiosk_dir),
                    "sync",
                    "--once",
                ],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
        finally:
            receiver.stop()
        print(f"built and synced {students} shots in {time.perf_counter() - started:.0f} s")
    runs = []
    for _ in range(3):
        out = Path(tempfile.mkdtemp(prefix="central-export-"))
        started = time.perf_counter()
        done = central(central_dir, "export", "--school", sample.SCHOOL_CODE, "--out", str(out))
        runs.append(time.perf_counter() - started)
        assert done.returncode in (0, 1), done.stderr
        shutil.rmtree(out)
    print(
        f"central export --school, {students} students (whole command): median "
        f"{statistics.median(runs):.1f} s (min {min(runs):.1f}, max {max(runs):.1f}); target < 30 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--export-students", type=int, default=5000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="central-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; data in {data}"
    )
    pages(data / "pages", args.schools, args.students, args.requests)
    if not args.skip_export:
        export(data, args.export_students)


if __name__ == "__main__":
    main()
