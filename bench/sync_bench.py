"""Sync benchmark: 5,000 shots of 30-60 KB to `central serve` on loopback.

    .venv/bin/python bench/sync_bench.py [--shots 5000] [--batch 50]

Prints: shots/s and MB/s of `kiosk sync --once` (a fresh process, as the
timer runs it), the same files copied with `cp -r` (with and without a
final `sync`, since the receiver fsyncs every photo), and the resume check:
the sync is SIGKILLed half way and restarted; the work redone is the
records the receiver had committed but the kiosk had not yet marked synced
(at most one batch) and any photo uploaded twice (expected: none, the
receiver is asked which it lacks).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk import sample  # noqa: E402
from kiosk.store import Store, now  # noqa: E402
from tests.sync_support import Receiver, add_token, write_config  # noqa: E402

BIN = Path(sys.executable).parent


def make_shots(data: Path, count: int, seed: int = 5) -> int:
    """``count`` delivered shots of 30-60 KB (noise JPEGs); returns their total bytes."""
    rng = random.Random(seed)
    store = Store(data / "kiosk.db")
    rows = sample.sample_rows(count, seed=seed)
    at = now()
    with store.transaction() as conn:
        for row in rows:
            conn.execute(
                "INSERT INTO students (student_number, name, sex, school_name, school_code, "
                "id_number, degree, major, department, category, imported_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row[3:6], row[1], row[2], *row[6:11], at, at),
            )
    session = store.open_session(
        station_id="kiosk-01", school_code=sample.SCHOOL_CODE, school_name=sample.SCHOOL_NAME
    )
    ids = [r[0] for r in store.conn.execute("SELECT id FROM students ORDER BY id")]
    total = 0
    for i in range(count):
        width = rng.randrange(180, 240)
        size = (width, width * 5 // 4)
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        total += len(out.getvalue())
        store.save_shot(
            student_id=ids[i], session_id=session.id, jpeg=out.getvalue(), status="accepted"
        )
    store.close()
    return total


def run_sync(config: Path, data: Path) -> dict:
    result = subprocess.run(
        [
            str(BIN / "kiosk"),
            "--config",
            str(config),
            "--data",
            str(data),
            "sync",
            "--once",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"sync failed ({result.returncode}): {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        total = make_shots(tmp / "kiosk", args.shots)
        made = time.perf_counter() - started
        print(
            f"made {args.shots} shots, {total / 1e6:.1f} MB ({total / args.shots / 1e3:.0f} KB "
            f"average) with save_shot in {made:.1f} s ({args.shots / made:.0f} shots/s)"
        )
        pristine = tmp / "pristine"
        shutil.copytree(tmp / "kiosk", pristine)

        # -- full sync ---------------------------------------------------------
        receiver = Receiver(tmp / "central").start()
        try:
            token = add_token(receiver.data)
            config = write_config(
                tmp / "k.toml",
                receiver.url,
                token,
                batch_max_records=args.batch,
                parallel_uploads=args.parallel,
            )
            started = time.perf_counter()
            report = run_sync(config, tmp / "kiosk")
            elapsed = time.perf_counter() - started
        finally:
            receiver.stop()
        assert report["synced"] == args.shots, report
        print(
            f"kiosk sync --once: {args.shots} shots in {elapsed:.2f} s = "
            f"{args.shots / elapsed:.0f} shots/s, {total / elapsed / 1e6:.1f} MB/s "
            f"(process start included; in-run {report['seconds']:.2f} s = "
            f"{args.shots / report['seconds']:.0f} shots/s)"
        )

        # -- cp baseline ---------------------------------------------------------
        started = time.perf_counter()
        subprocess.run(["cp", "-r", str(tmp / "kiosk" / "photos"), str(tmp / "cp1")], check=True)
        cp_plain = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(["cp", "-r", str(tmp / "kiosk" / "photos"), str(tmp / "cp2")], check=True)
        subprocess.run(["sync"], check=True)
        cp_sync = time.perf_counter() - started
        print(
            f"cp -r of the same files: {cp_plain:.2f} s ({args.shots / cp_plain:.0f} files/s, "
            f"{total / cp_plain / 1e6:.1f} MB/s); cp -r + sync: {cp_sync:.2f} s "
            f"({args.shots / cp_sync:.0f} files/s)"
        )
        print(
            f"sync vs cp: {elapsed / cp_plain:.1f}x the time of cp, "
            f"{elapsed / cp_sync:.1f}x the time of cp + sync"
        )

        # -- resume after a kill ----------------------------------------------------
        receiver = Receiver(tmp / "central2").start()
        try:
            token = add_token(receiver.data)
            config = write_config(
                tmp / "k2.toml",
                receiver.url,
                token,
                batch_max_records=args.batch,
                parallel_uploads=args.parallel,
            )
            kiosk_db = sqlite3.connect(pristine / "kiosk.db", timeout=30)
            central_db = sqlite3.connect(receiver.data / "central.db", timeout=30)
            rng = random.Random(9)
            kills = []
            for k in range(args.kills):
                process = subprocess.Popen(
                    [
                        str(BIN / "kiosk"),
                        "--config",
                        str(config),
                        "--data",
                        str(pristine),
                        "sync",
                        "--once",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                target = (k + 1) * args.shots // (args.kills + 1)
                while process.poll() is None:
                    synced = kiosk_db.execute(
                        "SELECT count(*) FROM outbox WHERE state = 'synced'"
                    ).fetchone()[0]
                    if synced >= target:
                        break
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.2))  # land anywhere within a batch
                process.send_signal(signal.SIGKILL)
                process.wait()
                synced = kiosk_db.execute(
                    "SELECT count(*) FROM outbox WHERE state = 'synced'"
                ).fetchone()[0]
                held = central_db.execute("SELECT count(*) FROM records").fetchone()[0]
                kills.append((synced, held))
            photos_held = sum(1 for _ in (receiver.data / "photos").rglob("*.jpg"))
            report = run_sync(config, pristine)
            held_after = central_db.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            receiver.stop()
        redone = [held - synced for synced, held in kills]
        reuploaded = report["photos_sent"] - (args.shots - photos_held)
        print(
            f"resume after {args.kills} SIGKILLs at random points: (synced at kiosk, held at "
            f"receiver) = {kills}; records re-committed per kill: {redone} (max "
            f"{max(redone)}, batch size {args.batch}); photos uploaded twice by the final "
            f"run: {reuploaded}; receiver holds {held_after} records at the end"
        )
        recommitted = max(redone)
        assert held_after == args.shots and recommitted <= args.batch


if __name__ == "__main__":
    main()
