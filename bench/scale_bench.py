"""Receiver ingest with 20 kiosks syncing at once, three set-ups side by side.

    .venv/bin/python bench/scale_bench.py [--kiosks 20] [--shots 50]

1. SQLite + a folder (the embedded default), one ``central serve``;
2. PostgreSQL + S3, one ``central serve``;
3. PostgreSQL + S3, two ``central serve`` (kiosks alternate between them).

Each kiosk is a real ``kiosk sync --once`` process with its own database of
``--shots`` photos (synthetic JPEGs of 40-60 KB, like a registry photo). The
figure is shots per second between the first and the last record the
database received (commit timestamps), and the wall time until every kiosk
finished. PostgreSQL is Debian's, started in a temporary folder; the S3
endpoint is moto's server mode (a Python process: slower than a real object
store, which the figures include). Everything runs on this one machine, so
clients, receivers, database and object store share its cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.backends import Backend, Servers, environment  # noqa: E402
from tests.sync_support import (  # noqa: E402
    Receiver,
    add_token,
    kiosk_process,
    make_kiosk,
    write_config,
)

SETUPS = (
    ("SQLite + folder, 1 process", "embedded", 1),
    ("PostgreSQL + S3, 1 process", "postgres+s3", 1),
    ("PostgreSQL + S3, 2 processes", "postgres+s3", 2),
)


def prepare(root: Path, kiosks: int, shots: int) -> list[str]:
    ids = []
    for i in range(kiosks):
        kiosk_id = f"kiosk-{i + 1:02d}"
        make_kiosk(
            root / kiosk_id,
            students=shots,
            shots=shots,
            seed=500 + i,
            station_id=kiosk_id,
            size=(200, 260),
        ).close()
        ids.append(kiosk_id)
    return ids


def run(
    label: str, backend: Backend, processes: int, template: Path, ids: list[str], work: Path
) -> dict[str, float]:
    with environment(backend.env):
        receivers = [Receiver(work / f"central-{n}") for n in range(processes)]
        configs = []
        for i, kiosk_id in enumerate(ids):
            shutil.copytree(template / kiosk_id, work / kiosk_id)
            receiver = receivers[i % processes]
            token = add_token(receiver.data, kiosk_id)
            configs.append(
                write_config(
                    work / f"{kiosk_id}.toml",
                    receiver.url,
                    token,
                    station_id=kiosk_id,
                    batch_max_records=25,
                    io_timeout=120.0,  # a loaded machine is slow, not offline
                    once_attempts=10,
                )
            )
        try:
            for receiver in receivers:
                receiver.start()
            started = time.monotonic()
            clients = [
                kiosk_process(config, work / kiosk_id, "sync", "--once", "--json")
                for config, kiosk_id in zip(configs, ids, strict=True)
            ]
            for client in clients:
                _, err = client.communicate(timeout=1800)
                if client.returncode != 0:
                    raise RuntimeError(f"{label}: a kiosk failed: {err}")
            wall = time.monotonic() - started
        finally:
            for receiver in receivers:
                receiver.stop()
        with backend.connect(work / "central-0") as db:
            count, first, last, size = db.execute(
                "SELECT count(*), min(received_at), max(received_at), sum(size) FROM records"
            ).fetchone()
    span = (dt.datetime.fromisoformat(last) - dt.datetime.fromisoformat(first)).total_seconds()
    return {
        "shots": count,
        "span": span,
        "wall": wall,
        "rate": count / max(span, 1e-3),
        "wall_rate": count / wall,
        "mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--shots", type=int, default=50, help="per kiosk")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    servers = Servers()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as folder:
        root = Path(folder)
        ids = prepare(root / "template", args.kiosks, args.shots)
        print(f"{args.kiosks} kiosks x {args.shots} shots, each kiosk its own `kiosk sync --once`")
        try:
            for n, (label, kind, processes) in enumerate(SETUPS):
                figures = run(
                    label,
                    servers.backend(kind),
                    processes,
                    root / "template",
                    ids,
                    root / f"run-{n}",
                )
                print(
                    f"  {label:30s} {figures['rate']:6.1f} shots/s between first and last "
                    f"commit ({figures['shots']} shots, {figures['mb']:.0f} MB in "
                    f"{figures['span']:.1f} s); wall {figures['wall']:.1f} s = "
                    f"{figures['wall_rate']:.1f} shots/s"
                )
        finally:
            servers.stop()


if __name__ == "__main__":
    main()
