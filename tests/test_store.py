import sqlite3

import pytest

from kiosk.store import MIGRATIONS, Store, StoreError


def test_new_database_is_wal_full_and_migrated(tmp_path):
    with Store(tmp_path / "k.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.version == len(MIGRATIONS)
        tables = set(store.db.table_names())
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
