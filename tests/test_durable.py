"""The durable-file and transaction rules both the kiosk and the receiver use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk import durable


def _conn(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER)")
    return conn


def test_transaction_commits_together_or_not_at_all(tmp_path: Path):
    conn = _conn(tmp_path / "db")
    with durable.transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(RuntimeError), durable.transaction(conn):
        conn.execute("INSERT INTO t VALUES (3)")
        raise RuntimeError("crash half way")
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    assert not conn.in_transaction


def test_nested_transaction_joins_the_outer_one(tmp_path: Path):
    conn = _conn(tmp_path / "db")
    with pytest.raises(RuntimeError), durable.transaction(conn):
        with durable.transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction  # the inner block did not commit
        raise RuntimeError("outer fails")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_write_durably_makes_folders_and_leaves_no_temporary(tmp_path: Path):
    target = tmp_path / "a" / "b" / "photo.jpg"
    durable.write_durably(target, b"jpeg bytes")
    durable.write_durably(target, b"replaced")
    assert target.read_bytes() == b"replaced"
    assert [p.name for p in target.parent.iterdir()] == ["photo.jpg"]


def test_timestamps_sort_as_text_in_time_order():
    first = durable.now()
    second = durable.now()
    assert first <= second and first.endswith("+00:00")
