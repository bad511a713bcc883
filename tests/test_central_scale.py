"""Several receiver processes on one PostgreSQL and one bucket behave as one receiver.

Real processes on 127.0.0.1 only: two ``central serve`` sharing a database
and an S3 bucket (tests/backends.py), twenty ``kiosk sync`` clients
alternating between them, and SIGKILL for clients and servers at random
moments (a fixed seed, a bounded number of rounds). Afterwards every photo
is in the bucket once, byte for byte, and every record in the database once.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.backends import environment
from tests.sync_support import BIN, Receiver, add_token, kiosk_process, make_kiosk, write_config

pytestmark = pytest.mark.slow

KIOSKS = 20
SHOTS = 10
CHAOS_ROUNDS = 4
CLEAN_ROUNDS = 4


def unsynced(kiosk_dir: Path) -> int:
    with sqlite3.connect(kiosk_dir / "kiosk.db") as db:
        return int(db.execute("SELECT count(*) FROM outbox WHERE state != 'synced'").fetchone()[0])


def kiosk_shots(kiosk_dir: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(kiosk_dir / "kiosk.db") as db:
        return {
            r[0]: (r[1], r[2])
            for r in db.execute(
                "SELECT uuid, sha256, file FROM shots WHERE status IN ('accepted', 'flagged')"
            )
        }


def test_twenty_kiosks_two_receivers_under_sigkill_keep_everything_once(tmp_path, servers):
    rng = random.Random(15)
    backend = servers.backend("postgres+s3")
    logs: list[str] = []
    interrupted = 0  # kiosks a chaos round left with work to do
    with environment(backend.env):
        # Each process has its own scratch folder: nothing shared but the database and bucket.
        receivers = [Receiver(tmp_path / f"central-{name}") for name in "ab"]
        kiosks: list[tuple[Path, list[Path]]] = []
        for i in range(KIOSKS):
            kiosk_id = f"kiosk-{i + 1:02d}"
            folder = tmp_path / kiosk_id
            make_kiosk(
                folder, students=SHOTS, shots=SHOTS, seed=100 + i, station_id=kiosk_id
            ).close()
            token = add_token(receivers[i % 2].data, kiosk_id)
            configs = [
                write_config(
                    tmp_path / f"{kiosk_id}-{n}.toml",
                    receiver.url,
                    token,
                    station_id=kiosk_id,
                    batch_max_records=3,
                    once_attempts=3,
                )
                for n, receiver in enumerate(receivers)
            ]
            kiosks.append((folder, configs))
        for receiver in receivers:
            receiver.start()
        try:
            for round_number in range(CHAOS_ROUNDS + CLEAN_ROUNDS):
                chaos = round_number < CHAOS_ROUNDS
                waiting = [(f, c) for f, c in kiosks if unsynced(f)]
                if not waiting and not chaos:
                    break
                clients = [
                    kiosk_process(configs[(i + round_number) % 2], folder, "sync", "--once")
                    for i, (folder, configs) in enumerate(waiting)
                ]
                if chaos:
                    time.sleep(rng.uniform(0.5, 2.5))
                    for client in rng.sample(clients, k=min(5, len(clients))):
                        client.send_signal(signal.SIGKILL)
                    victim = receivers[rng.randrange(2)]
                    victim.kill()
                    logs.append(victim.stop())
                    time.sleep(rng.uniform(0.05, 0.5))
                    victim.start()
                for client in clients:
                    client.communicate(timeout=300)
                if chaos:
                    interrupted += sum(1 for folder, _ in kiosks if unsynced(folder))
        finally:
            logs += [receiver.stop() for receiver in receivers]

        assert interrupted > 0  # the kills did land mid-sync
        assert all(unsynced(folder) == 0 for folder, _ in kiosks), [
            (folder.name, unsynced(folder)) for folder, _ in kiosks
        ]
        expected: dict[str, tuple[str, Path]] = {}
        for folder, _ in kiosks:
            for record, (sha, file) in kiosk_shots(folder).items():
                expected[record] = (sha, folder / file)
        assert len(expected) == KIOSKS * SHOTS

        with backend.connect(tmp_path) as db:
            rows = db.execute("SELECT uuid, sha256 FROM records").fetchall()
            batches = db.execute("SELECT count(*), count(DISTINCT uuid) FROM batches").fetchone()
        assert len(rows) == len(expected) == len({r[0] for r in rows})  # each record once
        assert {r[0]: r[1] for r in rows} == {k: v[0] for k, v in expected.items()}
        assert batches[0] == batches[1]

        held = backend.photos(tmp_path)
        assert sorted(held) == sorted({sha for sha, _ in expected.values()})  # each photo once
        for sha, file in expected.values():
            assert backend.photo(tmp_path, sha) == file.read_bytes()

        verified = subprocess.run(
            [str(BIN / "central"), "verify", "--data", str(tmp_path / "central-a")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
    for log in logs:
        assert "internal error" not in log and "Traceback" not in log, log


def test_two_receivers_starting_at_once_migrate_the_database_once(tmp_path, servers):
    backend = servers.backend("postgres+s3")
    with environment(backend.env):
        starts: list[subprocess.Popen[Any]] = [
            subprocess.Popen(
                [str(BIN / "central"), "token", "add", f"kiosk-{n}", "--data", str(tmp_path / n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in ("a", "b", "c")
        ]
        for start in starts:
            _, err = start.communicate(timeout=120)
            assert start.returncode == 0, err
        with backend.connect(tmp_path) as db:
            applied = db.execute("SELECT number FROM schema_version ORDER BY number").fetchall()
            kiosks = db.execute("SELECT kiosk_id FROM tokens ORDER BY kiosk_id").fetchall()
        from central.backends import MIGRATIONS

        assert [r[0] for r in applied] == list(range(1, len(MIGRATIONS) + 1))
        assert [r[0] for r in kiosks] == ["kiosk-a", "kiosk-b", "kiosk-c"]


def test_a_pg_dump_restored_elsewhere_verifies_against_the_bucket(tmp_path, servers):
    """docs/scale.md's restore test: dump, restore into an empty database, verify."""
    from tests.backends import postgres_bin
    from tests.sync_support import kiosk

    backend = servers.backend("postgres+s3")
    bin_dir = postgres_bin()
    assert bin_dir is not None
    with environment(backend.env):
        receiver = Receiver(tmp_path / "central").start()
        try:
            make_kiosk(tmp_path / "k", shots=8).close()
            config = write_config(tmp_path / "k.toml", receiver.url, add_token(receiver.data))
            assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
        finally:
            receiver.stop()
        dump = tmp_path / "central.dump"
        subprocess.run(
            [str(bin_dir / "pg_dump"), "-Fc", "-f", str(dump), backend.db_url], check=True
        )
        restored = servers.postgres.create_database()
        subprocess.run(
            [str(bin_dir / "pg_restore"), "--no-owner", "-d", restored, str(dump)], check=True
        )
        checked = subprocess.run(
            [
                str(BIN / "central"),
                "verify",
                "--json",
                "--data",
                str(tmp_path / "scratch"),
                "--db",
                restored,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert '"records": 8' in checked.stdout and '"problems": []' in checked.stdout
        # The restored schema is at the current migration: a receiver starts on it as is.
        with backend.connect(tmp_path) as db:
            before = db.execute("SELECT count(*) FROM records").fetchone()[0]
        assert before == 8
