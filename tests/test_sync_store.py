"""Durable shots, `kiosk verify`, and the outbox's batch bookkeeping."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import sqlite_utils

from kiosk.export import from_store
from kiosk.shot_number import SEQ_SPAN, package_seq
from kiosk.store import Store
from kiosk.sync import outbox, protocol
from tests.sync_support import BIN, REPO, SOAK, make_kiosk

CHILD = """
import os, sys
from kiosk.store import Store
store = Store(sys.argv[1])
session, student = int(sys.argv[2]), int(sys.argv[3])
i = 0
while True:
    i += 1
    status = ("accepted", "refused", "flagged")[i % 3]
    shot = store.save_shot(student_id=student, session_id=session,
                           jpeg=b"\\xff\\xd8" + os.urandom(150_000), status=status)
    print(shot.uuid, flush=True)
"""


def test_save_shot_survives_sigkill_at_random_moments(tmp_path):
    store = make_kiosk(tmp_path, shots=0, students=2)
    session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
    student = store.conn.execute("SELECT id FROM students").fetchone()[0]
    store.close()
    rng = random.Random(3)
    confirmed: set[str] = set()
    for _ in range(10 * SOAK):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path / "kiosk.db"), str(session), str(student)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        first = child.stdout.readline()  # it is in the saving loop now
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        confirmed |= set((first + out).split())
        with Store(tmp_path / "kiosk.db") as reopened:
            report = reopened.verify()
            assert report.ok, report.problems
            held = {r[0] for r in reopened.conn.execute("SELECT uuid FROM shots")}
            assert confirmed <= held  # every save that returned is there
            reopened.remove_orphans()  # what the station does at start
            files = {
                p.relative_to(tmp_path).as_posix()
                for p in (tmp_path / "photos").rglob("*")
                if p.is_file()
            }
            rows = {r[0] for r in reopened.conn.execute("SELECT file FROM shots")}
            assert files == rows  # no shot half there: no file without a row, no row without a file
    assert len(confirmed) > 10
    result = subprocess.run(
        [str(BIN / "kiosk"), "--data", str(tmp_path), "verify"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_verify_finds_missing_changed_and_truncated_photos(tmp_path):
    store = make_kiosk(tmp_path, shots=4)
    files = [tmp_path / r[0] for r in store.conn.execute("SELECT file FROM shots ORDER BY id")]
    assert store.verify().ok
    files[0].unlink()
    data = bytearray(files[1].read_bytes())
    data[100] ^= 0xFF
    files[1].write_bytes(bytes(data))
    files[2].write_bytes(files[2].read_bytes()[:-1])
    (tmp_path / "photos" / "stray.jpg").write_bytes(b"x")
    report = store.verify()
    assert len(report.problems) == 3
    assert "missing" in report.problems[0]
    assert "sha256" in report.problems[1]
    assert "bytes" in report.problems[2]
    assert report.leftovers == ["photos/stray.jpg"]
    store.close()
    result = subprocess.run(
        [str(BIN / "kiosk"), "--data", str(tmp_path), "verify", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and len(json.loads(result.stdout)["problems"]) == 3


def test_verify_finds_a_delivered_shot_missing_from_the_outbox(tmp_path):
    store = make_kiosk(tmp_path, shots=2)
    store.conn.execute("DELETE FROM outbox WHERE id = 1")
    assert any("not in the outbox" in p for p in store.verify().problems)


def test_remove_orphans_spares_young_files_when_asked(tmp_path):
    store = make_kiosk(tmp_path, shots=1)
    young = tmp_path / "photos" / "young.jpg"
    old = tmp_path / "photos" / "old.jpg"
    young.write_bytes(b"y")
    old.write_bytes(b"o")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert store.remove_orphans(older_than=600) == [old]
    assert young.exists()
    assert store.remove_orphans() == [young]
    assert store.verify().ok


def test_batches_are_fixed_once_formed_and_receipts_mark_only_named_records(tmp_path):
    store = make_kiosk(tmp_path, shots=10)
    first = outbox.form_batch(store, kiosk_id="kiosk-01", max_records=4, max_bytes=10**9)
    assert first is not None and first.records == 4
    assert outbox.open_batch(store) == first  # the same bytes on every retry
    manifest = protocol.decode_manifest(first.manifest)
    assert [r.uuid for r in manifest.records] == first.record_uuids()
    record = manifest.records[0].body
    assert record["student"]["name"] and record["student"]["id_number"]
    assert record["student"]["school_code"] == "19999" and record["seq"] == 1
    uuids = first.record_uuids()
    synced, quarantined = outbox.apply_receipt(
        store, first.uuid, held=uuids[:2], conflicts={uuids[2]: "record_conflict"}
    )
    assert (synced, quarantined) == (2, 1)
    states = dict(store.conn.execute("SELECT shot_uuid, state FROM outbox").fetchall())
    assert [states[u] for u in uuids] == ["synced", "synced", "quarantined", "pending"]
    assert outbox.open_batch(store) is None
    # Byte limit: at least one record per batch, then stop before the limit.
    size = store.conn.execute("SELECT size FROM shots LIMIT 1").fetchone()[0]
    small = outbox.form_batch(store, kiosk_id="kiosk-01", max_records=50, max_bytes=size)
    assert small.records == 1
    assert outbox.requeue_quarantined(store) == 1
    assert outbox.counts(store)["quarantined"] == 0


def test_a_record_the_receiver_would_refuse_is_quarantined_alone(tmp_path):
    store = make_kiosk(tmp_path, shots=3)
    store.conn.execute(
        "UPDATE students SET name = '' WHERE id = (SELECT student_id FROM shots LIMIT 1)"
    )
    batch = outbox.form_batch(store, kiosk_id="kiosk-01", max_records=10, max_bytes=10**9)
    assert batch.records == 2
    [bad] = outbox.quarantined(store)
    assert "student.name" in bad["last_error"]


def test_a_collection_code_student_without_a_name_is_sent(tmp_path):
    """In 采集码 mode the crew has no name list: the code alone identifies the student."""
    store = make_kiosk(tmp_path, shots=2)
    store.conn.execute(
        "UPDATE students SET name = '', id_number = NULL, collection_code = 'XC000001', "
        "origin = 'collection_code' WHERE id = (SELECT student_id FROM shots LIMIT 1)"
    )
    batch = outbox.form_batch(store, kiosk_id="kiosk-01", max_records=10, max_bytes=10**9)
    assert batch.records == 2 and not outbox.quarantined(store)


def test_session_tally_is_order_independent_and_covers_delivered_shots(tmp_path):
    store = make_kiosk(tmp_path, shots=6)
    session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
    tally = outbox.session_tally(store, session)
    pairs = store.conn.execute("SELECT uuid, sha256 FROM shots").fetchall()
    assert tally.count == 6
    assert tally.digest == protocol.session_digest(reversed([tuple(p) for p in pairs]))


def test_a_version_1_database_upgrades_to_the_current_schema(tmp_path, monkeypatch):
    from kiosk import store as store_module

    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    with Store(tmp_path / "kiosk.db") as old:
        assert old.version == 1
    monkeypatch.undo()
    with Store(tmp_path / "kiosk.db") as upgraded:
        assert upgraded.version == len(store_module.MIGRATIONS) >= 3
        assert {"batches", "reconciliations"} <= set(
            sqlite_utils.Database(upgraded.conn).table_names()
        )
        assert {"purged_at", "collection_code_raw"} <= set(
            sqlite_utils.Database(upgraded.conn)["shots"].columns_dict
        )


def test_a_version_2_database_upgrades_and_keeps_its_shots(tmp_path):
    from kiosk import store as store_module

    old = make_kiosk(tmp_path, shots=3)
    # Take it back to what a version-2 kiosk wrote: no collection_code_raw.
    old.conn.execute("ALTER TABLE shots DROP COLUMN collection_code_raw")
    # ... and none of the campaign's tables (migration 4).
    for table in ("school_counters", "station_identity", "roster_pulls", "retake_requests"):
        old.conn.execute(f"DROP TABLE {table}")
    old.conn.execute("DROP TABLE school_plans")  # ... nor the schedule's headcounts (5)
    old.conn.execute("PRAGMA user_version = 2")
    old.close()
    with Store(tmp_path / "kiosk.db") as upgraded:
        assert upgraded.version == len(store_module.MIGRATIONS) == 5
        assert "collection_code_raw" in sqlite_utils.Database(upgraded.conn)["shots"].columns_dict
        assert upgraded.verify().ok and upgraded.verify().checked == 3
        assert outbox.counts(upgraded)["pending"] == 3


def test_saving_a_shot_uuid_twice_keeps_the_first_photo(tmp_path):
    import pytest

    from kiosk.store import StoreError

    store = make_kiosk(tmp_path, shots=1)
    shot = store.conn.execute("SELECT uuid, file, session_id, student_id FROM shots").fetchone()
    before = (tmp_path / shot["file"]).read_bytes()
    with pytest.raises(StoreError, match="already saved"):
        store.save_shot(
            student_id=shot["student_id"],
            session_id=shot["session_id"],
            jpeg=b"other",
            status="accepted",
            shot_uuid=shot["uuid"],
        )
    assert (tmp_path / shot["file"]).read_bytes() == before
    assert store.verify().ok


def test_numbers_stay_unique_when_the_kiosk_number_arrives_mid_shooting_and_crashes(tmp_path):
    """A USB-roster kiosk counts from 1; its first receipt brings its number while the
    station saves shots; SIGKILLs land anywhere. The package's numbers never repeat."""
    store = make_kiosk(tmp_path, shots=0, students=2)
    session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
    student = store.conn.execute("SELECT id FROM students").fetchone()[0]
    rng = random.Random(5)
    for round_ in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path / "kiosk.db"), str(session), str(student)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.2))
        if round_ == 2:  # the receipt is applied while the station is saving
            outbox.apply_receipt(store, "no-batch", (), {}, kiosk_number=7)
            time.sleep(rng.uniform(0.0, 0.2))
        child.send_signal(signal.SIGKILL)
        child.communicate()
    seqs = [
        r[0] for r in store.conn.execute("SELECT seq FROM shots WHERE seq IS NOT NULL ORDER BY id")
    ]
    numbers = [package_seq(s, 7) for s in seqs]
    assert any(s < SEQ_SPAN for s in seqs) and any(s > 7 * SEQ_SPAN for s in seqs)
    assert numbers == sorted(set(numbers)) and len(numbers) == len(seqs)  # rising, none twice
    # A second receipt with another number changes nothing (only the pull replaces one).
    outbox.apply_receipt(store, "no-batch", (), {}, kiosk_number=9)
    assert store.seq_base() == 7 * SEQ_SPAN
    store.close()


def test_a_kiosks_own_export_prints_earlier_numbers_as_the_office_does(tmp_path):
    store = make_kiosk(tmp_path, shots=3, students=4)  # a USB roster: numbered 1, 2, 3
    outbox.apply_receipt(store, "no-batch", (), {}, kiosk_number=4)
    session = store.conn.execute("SELECT id FROM sessions").fetchone()[0]
    student = store.conn.execute("SELECT id FROM students ORDER BY id LIMIT 1 OFFSET 3").fetchone()
    shot = store.save_shot(
        student_id=student[0],
        session_id=session,
        jpeg=b"\xff\xd8" + os.urandom(900),
        status="accepted",
    )
    assert shot.seq == 4 * SEQ_SPAN + 4
    [package] = from_store.packages(store)
    assert sorted(p.take.seq for p in package.photos) == [4 * SEQ_SPAN + n for n in (1, 2, 3, 4)]
    store.close()
