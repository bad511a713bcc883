"""One SQL vocabulary, two databases: the embedded SQLite file and PostgreSQL.

The receiver's, the campaign's and the accounts' stores (central/local*.py)
are written once, in SQL both databases understand, against :class:`Database`.
This module holds what differs: how a transaction starts, placeholders
(``?`` and ``:name`` in the stores' SQL; psycopg wants ``%s``/``%(name)s``),
JSON paths, the schema's types, which errors mean "another writer won, run
it again", and how the schema is brought up to date.

SQLite: one connection behind a process lock, every write ``BEGIN
IMMEDIATE`` (one writer at a time by design; one receiver process).
PostgreSQL: a psycopg connection pool, every write ``SERIALIZABLE``, so
concurrent receiver processes are kept apart by the server alone; a write
that loses a race (unique key, serialization failure, deadlock) is rolled
back whole and run again by :func:`retried`. No lock lives in one process.
"""

from __future__ import annotations

import contextlib
import functools
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from kiosk import durable
from kiosk.durable import make_dirs_durably

Params = Sequence[Any] | Mapping[str, Any]


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Params], /) -> Any: ...


class Database(Protocol):
    """A transaction-scoped connection to the central's one database."""

    # Errors that mean a concurrent writer won: the whole write is run again.
    transient: tuple[type[BaseException], ...]
    # A UNIQUE or foreign key refused the write (a caller's mistake, not a race).
    integrity: tuple[type[BaseException], ...]
    # Any error of the database (full disk, lost connection): nothing was saved.
    failure: type[Exception]
    url: str

    def write(self) -> contextlib.AbstractContextManager[Connection]: ...

    def read(self) -> contextlib.AbstractContextManager[Connection]:
        """One snapshot: every query of a page or an export sees the same moment."""
        ...

    def json_text(self, column: str, *path: str) -> str:
        """SQL for the text at ``path`` inside the JSON document in ``column``."""
        ...

    def hold(self, conn: Connection, lock: int, *, exclusive: bool) -> None:
        """A lock for this transaction: shared ones coexist, an exclusive one waits for them.

        Batch commits hold ``GC_LOCK`` and ``FOLD_LOCK`` shared; the photo
        collector and the progress fold hold one of them alone.
        """
        ...

    def serial(self, lock: int) -> contextlib.AbstractContextManager[Connection]:
        """A write that runs alone against everyone holding ``lock`` shared, and sees
        every row committed before it got the lock."""
        ...

    def integrity_problems(self) -> list[str]: ...

    def close(self) -> None: ...


F = TypeVar("F", bound=Callable[..., Any])

MAX_ATTEMPTS = 30


def retried(method: F) -> F:
    """Run a store's write again when the database says a concurrent writer won.

    The method's transaction was rolled back whole, so running it again is
    safe; the second run sees the winner's rows (a repeat, a conflict, the
    next kiosk number). Never used to hide a real error: only ``transient``.
    """

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        transient: tuple[type[BaseException], ...] = self.db.transient
        for attempt in range(MAX_ATTEMPTS):
            try:
                return method(self, *args, **kwargs)
            except transient:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 8)))
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]


class SqliteDatabase:
    """central.db: WAL, synchronous=FULL, foreign keys on; one writer at a time.

    ``schema`` is the first version (``CREATE ... IF NOT EXISTS``, so a file
    made by any earlier receiver opens); ``upgrades`` are the changes made
    since, in SQL both databases read, applied once (in one transaction)
    and counted in ``PRAGMA user_version`` (PostgreSQL runs the
    same texts as its numbered migrations 2, 3, ...).
    """

    transient: tuple[type[BaseException], ...] = ()
    integrity: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)
    failure: type[Exception] = sqlite3.Error

    def __init__(self, path: Path, schema: str, upgrades: Sequence[str] = ()) -> None:
        make_dirs_durably(path.parent)
        self.url = f"sqlite:///{path}"
        self.path = path
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.lock:
            self.conn.executescript(schema)
            self._upgrade(upgrades)

    def _upgrade(self, upgrades: Sequence[str]) -> None:
        if int(self.conn.execute("PRAGMA user_version").fetchone()[0]) == len(upgrades):
            return  # up to date: no write lock taken
        with durable.transaction(self.conn) as conn:  # one writer: two processes wait
            done = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if done > len(upgrades):
                raise ValueError(
                    f"{self.path} is at schema {done + 1}, newer than this software "
                    f"({len(upgrades) + 1}); update the receiver"
                )
            for number in range(done, len(upgrades)):
                for statement in _statements(upgrades[number]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(upgrades)}")

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self.lock, durable.transaction(self.conn) as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def json_text(self, column: str, *path: str) -> str:
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def hold(self, conn: Connection, lock: int, *, exclusive: bool) -> None:
        """Nothing to do: every write already holds SQLite's one write lock."""

    def serial(self, lock: int) -> contextlib.AbstractContextManager[Connection]:
        return self.write()

    def integrity_problems(self) -> list[str]:
        with self.lock:
            integrity = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
            foreign = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        problems = [line for line in integrity if line != "ok"]
        problems += [f"{r[0]} row {r[1]} refers to a missing {r[2]} row" for r in foreign]
        return problems


# -- PostgreSQL ------------------------------------------------------------------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """The stores' ``?``/``:name`` placeholders as psycopg's ``%s``/``%(name)s``.

    Quoted literals are kept (their ``%`` doubled, as psycopg reads every
    ``%``); ``::`` casts are not placeholders.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return f"%({match.group(1)})s"

    return _TOKEN.sub(replace, sql)


def postgres_ddl(sqlite_schema: str) -> str:
    """The stores' SQLite schema in PostgreSQL's types (one text, two databases).

    SQLite's ``INTEGER PRIMARY KEY`` is its row id: an identity column in
    PostgreSQL; ``WITHOUT ROWID`` is SQLite's storage choice. Everything else
    in the schema is standard SQL both read alike.
    """
    return sqlite_schema.replace(
        "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    ).replace(") WITHOUT ROWID;", ");")


class Row(tuple[Any, ...]):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


class _PostgresConnection:
    """A pooled psycopg connection speaking the stores' placeholders."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = (), /) -> Cursor:
        cursor: Cursor = self.conn.execute(pyformat(sql), params or None)
        return cursor

    def executemany(self, sql: str, rows: Sequence[Params], /) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(pyformat(sql), rows)


# Migrations: appended, never edited. Each runs in one transaction under an
# advisory lock, so two receivers starting at once apply each exactly once.
MIGRATION_LOCK = 0x6B696F736B  # any constants every process agrees on
GC_LOCK = MIGRATION_LOCK + 1  # photo collection against batch commits
FOLD_LOCK = MIGRATION_LOCK + 2  # the progress fold against batch commits


class PostgresDatabase:
    """PostgreSQL through a psycopg connection pool; migrations numbered and locked."""

    def __init__(
        self,
        conninfo: str,
        migrations: Sequence[str],
        *,
        create: bool,
        max_connections: int = 16,
    ) -> None:
        import psycopg
        import psycopg_pool

        self.url = conninfo
        self.psycopg = psycopg
        self.transient: tuple[type[BaseException], ...] = (
            psycopg.errors.SerializationFailure,
            psycopg.errors.DeadlockDetected,
            psycopg.errors.UniqueViolation,
        )
        self.integrity: tuple[type[BaseException], ...] = (psycopg.errors.IntegrityError,)
        self.failure: type[Exception] = psycopg.Error
        self.pool = psycopg_pool.ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"row_factory": _row_factory, "autocommit": False},
            open=False,
        )
        self.pool.open(wait=True, timeout=30)
        try:
            self._migrate(migrations, create=create)
        except BaseException:
            self.pool.close()
            raise

    def close(self) -> None:
        self.pool.close()

    def version(self) -> int:
        with self.read() as conn:
            exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if not exists[0]:
                return 0
            return int(conn.execute("SELECT max(number) FROM schema_version").fetchone()[0] or 0)

    def _migrate(self, migrations: Sequence[str], *, create: bool) -> None:
        current = self.version()
        if current == 0 and not create:
            raise LookupError(f"{self.url} holds no receiver data (no schema)")
        if current > len(migrations):
            raise LookupError(
                f"{self.url} is at schema {current}, newer than this software "
                f"({len(migrations)}); update the receiver"
            )
        if current == len(migrations):
            return
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(number INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT number FROM schema_version")}
            for number, script in enumerate(migrations, start=1):
                if number in done:
                    continue  # the other process applied it while this one waited
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (number) VALUES (%s)", (number,))

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self.pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            yield _PostgresConnection(conn)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _PostgresConnection(conn)

    def json_text(self, column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    def hold(self, conn: Connection, lock: int, *, exclusive: bool) -> None:
        which = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(f"SELECT {which}(?)", (lock,))

    @contextlib.contextmanager
    def serial(self, lock: int) -> Iterator[Connection]:
        # READ COMMITTED: each statement after the lock sees what committed
        # while it waited (a SERIALIZABLE snapshot would predate the wait).
        with self.pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            wrapped = _PostgresConnection(conn)
            self.hold(wrapped, lock, exclusive=True)
            yield wrapped

    def integrity_problems(self) -> list[str]:
        """PostgreSQL enforces the foreign keys at every write; check what it cannot."""
        with self.read() as conn:
            orphans = conn.execute(
                "SELECT count(*) FROM records r WHERE NOT EXISTS "
                "(SELECT 1 FROM batches b WHERE b.uuid = r.batch_uuid)"
            ).fetchone()[0]
        return [f"{orphans} records name a missing batch"] if orphans else []


def _statements(script: str) -> list[str]:
    """A migration's statements (the schema texts hold no ``;`` inside a statement)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
