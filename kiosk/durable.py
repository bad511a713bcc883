"""Durable files and SQLite transactions: the few rules that keep data through a power cut.

Why one module: the kiosk's store, the export writer, the sync's purge and
the central receiver all write files that must be whole or absent after a
crash, and all commit SQLite writes that belong together. Each rule lives
here once, with no import of the kiosk's own modules, so both sides (kiosk
and ``central/``) can lean on it without pulling in the other's code.

- A file is written to a temporary name, fsynced, renamed to its final name,
  and its directory fsynced (the rename itself is only durable then).
- A folder made on the way is fsynced into its parent.
- A transaction is ``BEGIN IMMEDIATE`` ... ``COMMIT`` on a connection in
  autocommit mode (``isolation_level=None``), rolled back on any exception.
- Timestamps are ISO 8601 in UTC with milliseconds, so text order is time order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path


def now() -> str:
    """The timestamp every stored row carries (UTC, milliseconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` survive power loss."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def make_dirs_durably(directory: Path) -> None:
    """mkdir -p, fsyncing the parent of every folder made, so it survives power loss."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        fsync_dir(folder.parent)


def write_durably(path: Path, data: bytes) -> None:
    """temp file + fsync + rename + directory fsync: the file is whole or absent."""
    make_dirs_durably(path.parent)
    temporary = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    os.close(fd)
    os.replace(temporary, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception.

    IMMEDIATE takes the write lock at the start, so two writers queue on the
    busy timeout instead of failing half way with SQLITE_BUSY. Nested use
    joins the outer transaction: it commits with it.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
