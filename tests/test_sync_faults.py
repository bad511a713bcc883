"""Fault injection with real processes. Each ends with the receiver holding
exactly the delivered shots, each once, bytes matching, and the kiosk's
outbox all synced. Repetitions are bounded; KIOSK_SOAK=N multiplies them."""

from __future__ import annotations

import json
import random
import shutil
import signal
import threading
import time

import pytest

from kiosk.store import Store
from kiosk.sync import outbox
from kiosk.sync.client import ReceiverClient
from tests.backends import central_db
from tests.sync_support import (
    SOAK,
    Proxy,
    Receiver,
    add_token,
    assert_receiver_holds_exactly,
    kiosk,
    kiosk_process,
    make_kiosk,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]


@pytest.fixture
def receiver(tmp_path, backend):
    server = Receiver(tmp_path / "central").start()
    yield server
    server.stop()


def test_sigkill_the_client_at_random_points_then_resume(tmp_path, receiver):
    make_kiosk(tmp_path / "k", shots=240, students=120, size=(96, 128)).close()
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token, batch_max_records=10)
    rng = random.Random(6)
    kills = mid_batch = 0
    for _ in range(8 * SOAK):
        process = kiosk_process(config, tmp_path / "k", "sync", "--once")
        # Wait until the client is at work (a batch formed), however slow the
        # machine is at starting Python, then kill at a random point within it.
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            with Store(tmp_path / "k" / "kiosk.db") as store:
                if outbox.open_batch(store) is not None:
                    break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(30)
        if process.returncode == 0:
            break
        with Store(tmp_path / "k" / "kiosk.db") as store:
            if outbox.open_batch(store) is not None:
                mid_batch += 1  # killed between forming a batch and its receipt
    assert kills >= 1
    assert mid_batch >= 1, "no kill landed inside a batch"
    done = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
    assert done.returncode == 0, done.stderr
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 240
    assert kiosk(config, tmp_path / "k", "verify").returncode == 0


def test_sigkill_the_receiver_mid_upload_and_restart(tmp_path, receiver, backend):
    make_kiosk(tmp_path / "k", shots=300, students=150, size=(160, 200)).close()
    token = add_token(receiver.data)
    config = write_config(
        tmp_path / "k.toml", receiver.url, token, batch_max_records=20, once_attempts=100
    )
    client = kiosk_process(config, tmp_path / "k", "sync", "--once", "--json")
    store = Store(tmp_path / "k" / "kiosk.db")
    deadline = time.monotonic() + 30
    while outbox.counts(store)["synced"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    receiver.kill()  # mid-run: some batches synced, the rest not
    killed_at = outbox.counts(store)["synced"]
    time.sleep(0.5)
    receiver.start()
    out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    assert 0 < killed_at < 300
    assert json.loads(out)["retries"] >= 1
    store.close()
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 300
    if backend.embedded:  # a bucket holds no half-written object
        assert not list((receiver.data / "tmp").iterdir())  # unfinished uploads cleaned at start


@pytest.mark.parametrize(
    "plan",
    [
        {"error_first": 5, "status": 500},
        {"error_first": 3, "status": 503, "retry_after": 1},
        {"error_first": 2, "status": 429},
        {"stall_first": 2, "stall_seconds": 3.0},
    ],
    ids=["500", "503-retry-after", "429", "stall"],
)
def test_receiver_errors_and_stalls_are_retried(tmp_path, plan):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    server = Receiver(tmp_path / "central", faulty_plan=plan_file).start()
    try:
        make_kiosk(tmp_path / "k", shots=30).close()
        token = add_token(server.data)
        config = write_config(
            tmp_path / "k.toml",
            server.url,
            token,
            batch_max_records=10,
            io_timeout=1.0,
            once_attempts=10,
        )
        started = time.monotonic()
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["retries"] >= 1
        if "retry_after" in plan:
            assert time.monotonic() - started >= 1.0  # Retry-After honoured
    finally:
        server.stop()
    assert assert_receiver_holds_exactly(server.data, tmp_path / "k") == 30


def test_captive_portal_counts_as_offline(tmp_path):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"portal": True}))
    server = Receiver(tmp_path / "central", faulty_plan=plan_file).start()
    try:
        make_kiosk(tmp_path / "k", shots=10).close()
        token = add_token(server.data)
        config = write_config(tmp_path / "k.toml", server.url, token, once_attempts=2)
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 1
        assert "网页认证或代理" in result.stderr
        assert json.loads(result.stdout)["synced"] == 0
        # The portal lets us through for the manifest only: still nothing marked synced.
        plan_file.write_text(json.dumps({"portal": True, "only": "/batches/"}))
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 1 and json.loads(result.stdout)["synced"] == 0
        plan_file.write_text("{}")
        assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
    finally:
        server.stop()
    assert_receiver_holds_exactly(server.data, tmp_path / "k")


def test_connection_cut_mid_body(tmp_path, receiver, backend):
    make_kiosk(tmp_path / "k", shots=40, size=(200, 260)).close()
    token = add_token(receiver.data)
    proxy = Proxy(receiver.port, cut_connections=4, cut_after=30_000)
    try:
        config = write_config(
            tmp_path / "k.toml", proxy.url, token, batch_max_records=10, once_attempts=20
        )
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["retries"] >= 1
    finally:
        log = proxy.stop()
    assert "cutting connection 4" in log
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 40
    if backend.embedded:
        assert not list((receiver.data / "tmp").iterdir())  # cut uploads left nothing behind


def test_duplicate_commits_are_answered_idempotently(tmp_path, receiver):
    make_kiosk(tmp_path / "k", shots=25).close()
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token, batch_max_records=10)
    assert kiosk(config, tmp_path / "k", "sync", "--once").returncode == 0
    store = Store(tmp_path / "k" / "kiosk.db")
    client = ReceiverClient(receiver.url, token, allow_http=True)
    try:
        for uuid, manifest in store.conn.execute("SELECT uuid, manifest FROM batches"):
            receipt = client.put_batch(uuid, bytes(manifest))
            assert receipt.repeated and not receipt.conflicts
            assert set(receipt.held) == {r["uuid"] for r in json.loads(manifest)["records"]}
        # The same records in a new batch (a kiosk that lost its receipt): held, not doubled.
        store.conn.execute("UPDATE outbox SET state = 'pending', batch_uuid = NULL")
        batch = outbox.form_batch(store, kiosk_id="kiosk-01", max_records=100, max_bytes=10**9)
        receipt = client.put_batch(batch.uuid, batch.manifest)
        assert not receipt.repeated and len(receipt.held) == 25 and not receipt.conflicts
        outbox.apply_receipt(store, batch.uuid, receipt.held, receipt.conflicts)
    finally:
        client.close()
        store.close()
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 25
    db = central_db(receiver.data)
    assert db.execute("SELECT count(*) FROM batches").fetchone()[0] == 4


def test_the_same_batches_from_two_client_processes_at_once(tmp_path, receiver):
    store = make_kiosk(tmp_path / "k", shots=120, size=(96, 128))
    # Form every batch first, so both processes find the same open batches.
    while outbox.form_batch(store, kiosk_id="kiosk-01", max_records=15, max_bytes=10**9):
        pass
    store.close()
    # One data folder allows one sync at a time (tests/test_sync_lock.py); the
    # same batches from two processes at once is a copy of the folder (a kiosk
    # restored from its backup while the original still runs).
    shutil.copytree(tmp_path / "k", tmp_path / "copy")
    token = add_token(receiver.data)
    config = write_config(tmp_path / "k.toml", receiver.url, token, parallel_uploads=2)
    results = []

    def run(folder: str) -> None:
        results.append(kiosk(config, tmp_path / folder, "sync", "--once", "--json"))

    threads = [threading.Thread(target=run, args=(folder,)) for folder in ("k", "copy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 120
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "copy") == 120


def test_bytes_damaged_on_the_way_are_retried_not_quarantined(tmp_path, receiver):
    make_kiosk(tmp_path / "k", shots=20, size=(200, 260)).close()
    token = add_token(receiver.data)
    # One upload at a time: connection 1 carries whoami, the missing query, then
    # photo bodies; byte 6000 is inside the first photo.
    proxy = Proxy(receiver.port, cut_connections=2, corrupt_at=6000)
    try:
        config = write_config(
            tmp_path / "k.toml", proxy.url, token, batch_max_records=10, parallel_uploads=1
        )
        result = kiosk(config, tmp_path / "k", "sync", "--once", "--json")
        assert result.returncode == 0, result.stderr
        assert "digest_mismatch" in result.stderr
        assert json.loads(result.stdout)["quarantined"] == 0
    finally:
        log = proxy.stop()
    assert "corrupting connection 1" in log
    assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 20


def test_no_write_lock_is_held_while_waiting_on_the_network(tmp_path):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"stall_first": 1, "stall_seconds": 3.0, "only": "/batches/"}))
    server = Receiver(tmp_path / "central", faulty_plan=plan_file).start()
    try:
        store = make_kiosk(tmp_path / "k", shots=5)
        token = add_token(server.data)
        config = write_config(tmp_path / "k.toml", server.url, token, io_timeout=10.0)
        process = kiosk_process(config, tmp_path / "k", "sync", "--once")
        deadline = time.monotonic() + 20
        while outbox.open_batch(store) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # the manifest is now stalled at the receiver
        assert process.poll() is None
        session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
        student = store.conn.execute("SELECT id FROM students LIMIT 1").fetchone()[0]
        started = time.monotonic()
        store.save_shot(
            student_id=student, session_id=session, jpeg=b"\xff\xd8x", status="accepted"
        )
        assert time.monotonic() - started < 1.0  # the station is never blocked by the sync
        process.wait(30)
        assert process.returncode == 0  # --once also took the shot saved meanwhile
        store.close()
    finally:
        server.stop()
    assert assert_receiver_holds_exactly(server.data, tmp_path / "k") == 6
