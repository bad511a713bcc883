"""`kiosk sync` against a real `central serve` on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from kiosk.sync import outbox
from tests.backends import central_db, central_storage
from tests.sync_support import (
    Receiver,
    add_token,
    assert_receiver_holds_exactly,
    free_port,
    kiosk,
    kiosk_process,
    make_kiosk,
    write_config,
)

# Every test here runs on both back ends (tests/backends.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def receiver(tmp_path, backend):
    server = Receiver(tmp_path / "central").start()
    yield server
    server.stop()


def test_sync_once_delivers_everything_once_and_reconciles(tmp_path, receiver):
    store = make_kiosk(tmp_path / "k", shots=60)
    store.close()
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token, batch_max_records=16)

    first = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["synced"] == 60 and report["remaining"] == 0 and report["batches"] == 4
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 60

    again = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["synced"] == 0

    reconciled = kiosk(config, tmp_path / "k", "sync", "--reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stderr
    [result] = json.loads(reconciled.stdout)
    assert result["matched"] and result["local_count"] == result["remote_count"] == 60

    # Retakes: 40 students, 60 shots -> 20 earlier shots superseded, history kept.
    db = central_db(receiver.data)
    assert (
        db.execute("SELECT count(*) FROM records WHERE superseded_by IS NOT NULL").fetchone()[0]
        == 20
    )
    status = subprocess.run(
        [sys.executable, "-m", "central.cli", "status", "--data", str(receiver.data), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [session] = json.loads(status.stdout)["sessions"]
    assert (session["records"], session["current"], session["superseded"]) == (60, 40, 20)
    text = subprocess.run(
        [sys.executable, "-m", "central.cli", "status", "--data", str(receiver.data)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "示例大学 (19999)" in text and "60 records (40 current, 20 superseded" in text

    # What the export builds the delivery package from: complete records and photos.
    storage = central_storage(receiver.data)
    records = storage.metadata.records()
    photos = storage.photos
    current = [r for r in records if r["superseded_by"] is None]
    assert len(records) == 60 and len(current) == 40
    assert len({r["student"]["id_number"] for r in current}) == 40
    for r in current:
        assert r["student"]["name"] and r["student"]["student_number"] and r["seq"]
        assert r["student"]["school_code"] == "19999" and r["kiosk"] == "kiosk-01"
        assert hashlib.sha256(photos.read(r["sha256"])).hexdigest() == r["sha256"]
    storage.close()


def test_purge_only_after_a_match(tmp_path, receiver):
    store = make_kiosk(tmp_path / "k", shots=12)
    session_uuid = store.conn.execute("SELECT uuid FROM sessions").fetchone()[0]
    store.close()
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token)

    refused = kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes")
    assert refused.returncode == 1 and "还有 12 张照片没有同步" in refused.stderr
    assert len(list((tmp_path / "k" / "photos").rglob("*.jpg"))) == 12

    assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
    # The receiver loses a record (an operator's mistake): the digests differ, nothing goes.
    db = central_db(receiver.data)
    db.execute("DELETE FROM records WHERE id = (SELECT max(id) FROM records)")
    db.commit()
    mismatch = kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes")
    assert mismatch.returncode == 1 and "服务器有本场 11 条记录" in mismatch.stderr
    assert len(list((tmp_path / "k" / "photos").rglob("*.jpg"))) == 12
    assert kiosk(config, tmp_path / "k", "sync", "--reconcile").returncode == 1

    # Put it back (requeue everything: the receiver treats the 11 as duplicates).
    k = sqlite3.connect(tmp_path / "k" / "kiosk.db")
    k.execute("UPDATE outbox SET state = 'pending', batch_uuid = NULL")
    k.commit()
    assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
    done = kiosk(config, tmp_path / "k", "purge", "--session", session_uuid, "--yes")
    assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "k" / "photos").rglob("*.jpg"))
    verify = kiosk(config, tmp_path / "k", "verify")
    assert verify.returncode == 0, verify.stdout


def test_configuration_and_auth_errors_exit_2(tmp_path, receiver):
    make_kiosk(tmp_path / "k", shots=3).close()
    token = add_token(receiver.data)
    wrong = write_config(tmp_path / "wrong.toml", receiver.url, "not-a-token")
    result = kiosk(wrong, tmp_path / "k", "sync", "--once")
    assert result.returncode == 2 and "不接受本机的令牌" in result.stderr
    no_server = write_config(tmp_path / "none.toml", "", token)
    assert kiosk(no_server, tmp_path / "k", "sync", "--once").returncode == 2
    plain = write_config(tmp_path / "plain.toml", receiver.url, token, allow_http=False)
    result = kiosk(plain, tmp_path / "k", "sync", "--once")
    assert result.returncode == 2 and "明文 http" in result.stderr
    other = add_token(receiver.data, "kiosk-02")
    result = kiosk(
        write_config(tmp_path / "o.toml", receiver.url, other), tmp_path / "k", "sync", "--once"
    )
    assert result.returncode == 2 and "令牌属于 'kiosk-02'" in result.stderr
    # --server and --token override the config.
    ok = kiosk(wrong, tmp_path / "k", "sync", "--once", "--server", receiver.url, "--token", token)
    assert ok.returncode == 0, ok.stderr
    assert outbox.counts(make_store(tmp_path))["synced"] == 3


def make_store(tmp_path):
    from kiosk.store import Store

    return Store(tmp_path / "k" / "kiosk.db")


def test_offline_leaves_work_and_exits_1(tmp_path):
    make_kiosk(tmp_path / "k", shots=3).close()
    config = write_config(
        tmp_path / "k.toml", f"http://127.0.0.1:{free_port()}", "t", once_attempts=2
    )
    result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["remaining"] == 3


def test_continuous_mode_sends_new_shots_and_stops_on_sigterm(tmp_path, receiver):
    store = make_kiosk(tmp_path / "k", shots=5)
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token)
    process = kiosk_process(config, tmp_path / "k", "sync")
    try:
        deadline = time.monotonic() + 30
        while outbox.counts(store)["synced"] < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox.counts(store)["synced"] == 5
        session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
        student = store.conn.execute("SELECT id FROM students LIMIT 1").fetchone()[0]
        store.save_shot(
            student_id=student, session_id=session, jpeg=b"\xff\xd8new", status="accepted"
        )
        while outbox.counts(store)["synced"] < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox.counts(store)["synced"] == 6
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0
    store.close()
    assert_receiver_holds_exactly(receiver.data, tmp_path / "k")


def _certificates(folder):
    """A throw-away CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        return subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        *key,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=kiosk test CA",
    )
    run("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


def test_https_with_a_configured_ca_file(tmp_path):
    ca, cert, key = _certificates(tmp_path)
    server = Receiver(
        tmp_path / "central", extra=("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    ).start()
    try:
        make_kiosk(tmp_path / "k", shots=6).close()
        token = add_token(server.data)
        # Without the CA the certificate is not trusted: offline, nothing sent.
        untrusted = write_config(
            tmp_path / "u.toml", server.url, token, allow_http=False, once_attempts=1
        )
        result = kiosk(untrusted, tmp_path / "k", "sync", "--once")
        assert result.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in result.stderr
        trusted = write_config(
            tmp_path / "t.toml", server.url, token, allow_http=False, ca_file=str(ca)
        )
        result = kiosk(trusted, tmp_path / "k", "sync", "--once")
        assert result.returncode == 0, result.stderr
    finally:
        server.stop()
    assert assert_receiver_holds_exactly(server.data, tmp_path / "k") == 6


def test_refused_shots_are_quarantined_then_requeued(tmp_path):
    server = Receiver(tmp_path / "central", extra=("--max-photo-bytes", "1000")).start()
    try:
        store = make_kiosk(tmp_path / "k", shots=8)
        token = add_token(server.data)
        config = write_config(tmp_path / "k.toml", server.url, token, batch_max_records=4)
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 1
        assert "--requeue" in result.stderr and "too_large" in result.stderr
        health = outbox.health(store)
        assert (health.quarantined, health.pending, health.synced) == (8, 0, 0)
        assert all("413" in q["last_error"] for q in outbox.quarantined(store))
    finally:
        server.stop()
    server = Receiver(tmp_path / "central", port=server.port).start()  # default limit
    try:
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--requeue")
        assert result.returncode == 0, result.stderr
        assert outbox.health(store).synced == 8
    finally:
        server.stop()
        store.close()
    assert_receiver_holds_exactly(server.data, tmp_path / "k")
