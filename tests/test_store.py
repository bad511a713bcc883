import sqlite3

import pytest
import sqlite_utils

from kiosk.store import MIGRATIONS, Store, StoreError


def test_new_database_is_wal_full_and_migrated(tmp_path):
    with Store(tmp_path / "k.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.version == len(MIGRATIONS)
        tables = set(sqlite_utils.Database(store.conn).table_names())
        assert {"students", "sessions", "shots", "outbox", "events", "corrections"} <= tables


def test_transaction_rolls_back_everything(tmp_path):
    with Store(tmp_path / "k.db") as store:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            conn.execute(
                "INSERT INTO students (id_number, name, imported_at, updated_at) "
                "VALUES ('x', 'a', '', '')"
            )
            raise RuntimeError("boom")
        assert store.conn.execute("SELECT count(*) FROM students").fetchone()[0] == 0


def test_reopening_does_not_migrate_again(tmp_path):
    Store(tmp_path / "k.db").close()
    with Store(tmp_path / "k.db") as store:
        assert store.version == len(MIGRATIONS)
        assert store.integrity_problems() == []


def test_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "k.db")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer kiosk"):
        Store(tmp_path / "k.db")


def test_garbage_file_is_refused(tmp_path):
    (tmp_path / "k.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable kiosk database"):
        Store(tmp_path / "k.db")


def _student(store, id_number="11010519491231002X"):
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO students (id_number, name, school_code, imported_at, updated_at) "
            "VALUES (?, '测试', '19999', '', '')",
            (id_number,),
        )
    return cursor.lastrowid


def test_save_shot_numbers_delivered_shots_and_queues_them(tmp_path):
    with Store(tmp_path / "k.db") as store:
        student = _student(store)
        session = store.open_session(station_id="k1", school_code="19999", category="普通生")
        first = store.save_shot(
            student_id=student, session_id=session.id, jpeg=b"\xff\xd8one", status="accepted"
        )
        refused = store.save_shot(
            student_id=student,
            session_id=session.id,
            jpeg=b"\xff\xd8two",
            status="refused",
            reasons=["eyes_closed"],
        )
        retake = store.save_shot(
            student_id=student, session_id=session.id, jpeg=b"\xff\xd8three", status="accepted"
        )
        assert (first.seq, refused.seq, retake.seq) == (1, None, 2)
        assert retake.supersedes == first.uuid and first.supersedes is None
        queued = [r[0] for r in store.conn.execute("SELECT shot_uuid FROM outbox ORDER BY id")]
        assert queued == [first.uuid, retake.uuid]
        assert (tmp_path / first.file).read_bytes() == b"\xff\xd8one"
        other = store.open_session(station_id="k1", school_code="19999", category="成人生")
        assert (
            store.save_shot(
                student_id=student, session_id=other.id, jpeg=b"x", status="accepted"
            ).seq
            == 3  # 拍摄序号 run on across the school's sessions: unique in its package
        )


def test_failed_commit_leaves_no_file(tmp_path):
    with Store(tmp_path / "k.db") as store:
        session = store.open_session(station_id="k1", school_code="19999")
        with pytest.raises(sqlite3.IntegrityError):
            store.save_shot(student_id=999, session_id=session.id, jpeg=b"x", status="accepted")
        assert not any(p.is_file() for p in (tmp_path / "photos").rglob("*"))
        assert store.conn.execute("SELECT count(*) FROM shots").fetchone()[0] == 0


def test_orphans_are_removed_and_saved_shots_kept(tmp_path):
    with Store(tmp_path / "k.db") as store:
        student = _student(store)
        session = store.open_session(station_id="k1", school_code="19999")
        shot = store.save_shot(
            student_id=student, session_id=session.id, jpeg=b"keep", status="accepted"
        )
        orphan = tmp_path / "photos" / session.uuid / "orphan.jpg"
        orphan.write_bytes(b"half")
        temp = tmp_path / "photos" / session.uuid / ".tmp-x.jpg-1"
        temp.write_bytes(b"half")
        assert sorted(store.remove_orphans()) == sorted([orphan, temp])
        assert (tmp_path / shot.file).exists()
