"""Purge deletes the last copy only after the receiver proves it holds the bytes.

The hostile review's case: delete one photo file at the receiver, reconcile
("match"), purge — and the photo was gone everywhere. Real `central serve`,
real `kiosk` and `central verify` subprocesses, real files or objects: every
test runs on both back ends (tests/backends.py).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.sync_support import BIN, Receiver, add_token, kiosk, make_kiosk, write_config

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def receiver(tmp_path: Path, backend: Backend):  # type: ignore[no-untyped-def]
    server = Receiver(tmp_path / "central").start()
    yield server
    server.stop()


def central(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "central"), *args], capture_output=True, text=True, timeout=60)


def synced_kiosk(tmp_path: Path, receiver: Receiver, shots: int = 12) -> tuple[Path, str, list]:
    store = make_kiosk(tmp_path / "k", shots=shots)
    session_uuid = store.conn.execute("SELECT uuid FROM sessions").fetchone()[0]
    shas = [r[0] for r in store.conn.execute("SELECT sha256 FROM shots ORDER BY id")]
    store.close()
    config = write_config(tmp_path / "k.toml", receiver.url, add_token(receiver.data))
    assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
    return config, session_uuid, shas


def local_photos(tmp_path: Path) -> int:
    return len(list((tmp_path / "k" / "photos").rglob("*.jpg")))


@pytest.mark.parametrize("damage", ["deleted", "same size, other bytes", "truncated"])
def test_purge_refuses_when_a_photo_is_lost_at_the_receiver(tmp_path, receiver, backend, damage):
    config, session_uuid, shas = synced_kiosk(tmp_path, receiver)
    held = backend.photo(receiver.data, shas[3])
    if damage == "deleted":
        backend.delete_photo(receiver.data, shas[3])
    elif damage == "truncated":
        backend.put_photo(receiver.data, shas[3], held[:-10])
    else:
        data = bytearray(held)
        data[len(data) // 2] ^= 0xFF
        backend.put_photo(receiver.data, shas[3], bytes(data))

    refused = kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes")
    assert refused.returncode == 1, refused.stderr
    assert "服务器缺少或损坏了 1 条记录的照片" in refused.stderr
    assert local_photos(tmp_path) == 12  # nothing deleted on the kiosk

    found = central("verify", "--data", str(receiver.data), "--json")
    assert found.returncode == 1, found.stdout
    report = json.loads(found.stdout)
    assert report["records"] == 12 and len(report["problems"]) == 1
    assert shas[3][:12] in report["problems"][0]

    # Reconcile sends the photo again from the kiosk's copy; then all is proven.
    reconciled = kiosk(config, tmp_path / "k", "sync", "--reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    [result] = json.loads(reconciled.stdout)
    assert result["matched"] and result["remote_verified"] == 12
    assert central("verify", "--data", str(receiver.data)).returncode == 0

    done = kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes")
    assert done.returncode == 0, done.stderr
    assert local_photos(tmp_path) == 0


def test_after_a_purge_a_lost_photo_is_a_mismatch_not_a_match(tmp_path, receiver, backend):
    config, session_uuid, shas = synced_kiosk(tmp_path, receiver, shots=6)
    assert (
        kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes").returncode == 0
    )
    backend.delete_photo(receiver.data, shas[0])
    reconciled = kiosk(config, tmp_path / "k", "sync", "--reconcile")
    assert reconciled.returncode == 1
    # The crew reads it in Chinese (the default crew language).
    assert "不一致：服务器缺少或损坏了 1 条记录的照片" in reconciled.stdout


def test_central_verify_checks_the_database_and_collects_unreferenced_photos(
    tmp_path, receiver, backend
):
    synced_kiosk(tmp_path, receiver, shots=4)
    # Uploads whose batch never came (a kiosk lost for good), just now.
    strays = ("ab" * 32, "cd" * 32)
    for sha in strays:
        if backend.embedded:
            (receiver.data / "photos" / sha[:2] / sha[2:4]).mkdir(parents=True, exist_ok=True)
        backend.put_photo(receiver.data, sha, b"orphan")

    kept = json.loads(central("verify", "--data", str(receiver.data), "--json").stdout)
    assert kept["ok"] and kept["photos"] == 6 and kept["unreferenced"] == 2
    # Inside the grace period nothing goes; past it (here: none) both go, photos named stay.
    for grace, collected in (("7", 0), ("0", 2)):
        done = central(
            "verify", "--data", str(receiver.data), "--gc", "--grace-days", grace, "--json"
        )
        assert done.returncode == 0, done.stdout
        assert json.loads(done.stdout)["collected"] == collected
    assert all(backend.photo(receiver.data, sha) is None for sha in strays)
    assert len(backend.photos(receiver.data)) == 4
    assert central("verify", "--data", str(receiver.data)).returncode == 0

    if not backend.embedded:
        return  # PostgreSQL's own files are the server's; the damage below is SQLite's
    # A damaged database is a problem too (not a traceback).
    db = receiver.data / "central.db"
    receiver.stop()
    with contextlib.closing(sqlite3.connect(db)) as conn:  # everything into the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(db.read_bytes())
    for offset in range(4096, len(data), 4096):  # every b-tree page's header
        data[offset : offset + 8] = b"\x07" * 8
    db.write_bytes(bytes(data))
    broken = central("verify", "--data", str(receiver.data))
    assert broken.returncode in (1, 2), broken.stdout
    assert "Traceback" not in broken.stderr


def test_status_and_verify_refuse_a_folder_that_is_not_a_receivers(tmp_path):
    """A mistyped --data (or an empty database): exit 2, nothing created."""
    missing = tmp_path / "DOES-NOT-EXIST"
    for command in ("status", "verify"):
        result = central(command, "--data", str(missing))
        assert result.returncode == 2 and "holds no receiver data" in result.stderr
    assert not missing.exists()
