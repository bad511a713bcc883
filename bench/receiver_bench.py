"""Receiver benchmark: the cost of proving a session's photos, and idle-connection pressure.

    .venv/bin/python bench/receiver_bench.py [--shots 700] [--idle 1100]

Prints: the time of one session summary (which reads every photo of the
session back and hashes it: the purge guarantee, docs/sync-protocol.md)
for a session of ``--shots`` photos of 30-60 KB, the same over the database
alone for comparison, and `/v1/health` latency and a `kiosk sync --once`
while ``--idle`` connections hold one byte of a request head each, with the
receiver under systemd's default descriptor limit (1024).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync_bench import make_shots, run_sync  # noqa: E402
from central.backends import sqlite_database  # noqa: E402
from central.local import SqlMetadata  # noqa: E402
from tests.sync_support import (  # noqa: E402
    BIN,
    add_token,
    free_port,
    wait_ready,
    write_config,
)


def median_ms(call: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=700)
    parser.add_argument("--idle", type=int, default=1100)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.idle + 500), hard))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        total = make_shots(root / "k", args.shots)
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "central"), "serve", "--data", str(root / "c"), "--port", str(port)],
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)),
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server)
            token = add_token(root / "c", "kiosk-01")
            config = write_config(root / "k.toml", url, token)
            run_sync(config, root / "k")
            metadata = SqlMetadata(sqlite_database(root / "c" / "central.db"))
            [session] = metadata.status()
            headers = {"Authorization": f"Bearer {token}"}
            summary_url = f"{url}/v1/sessions/{session.session}/summary"
            with httpx.Client(headers=headers, timeout=60) as client:
                proved = median_ms(lambda: client.get(summary_url).raise_for_status())
            database = median_ms(lambda: metadata.session_summary("kiosk-01", session.session))
            metadata.close()
            print(
                f"session summary, {args.shots} photos ({total / 1e6:.1f} MB) read back and "
                f"hashed: median {proved:.0f} ms of 5; the database part alone {database:.1f} ms"
            )

            idle = []
            started = time.perf_counter()
            for _ in range(args.idle):
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(b"G")
                idle.append(sock)
            opened = time.perf_counter() - started
            health = median_ms(lambda: httpx.get(url + "/v1/health", timeout=10).raise_for_status())
            make_shots(root / "k2", 50, seed=9)
            started = time.perf_counter()
            run_sync(write_config(root / "k2.toml", url, token), root / "k2")
            synced = time.perf_counter() - started
            for sock in idle:
                sock.close()
            print(
                f"{args.idle} idle one-byte connections opened in {opened:.2f} s; /v1/health "
                f"median {health:.1f} ms; `kiosk sync --once` of 50 shots {synced:.2f} s"
            )
        finally:
            server.terminate()
            server.wait(10)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


if __name__ == "__main__":
    main()
