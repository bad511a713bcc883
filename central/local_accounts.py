"""Accounts, web sessions and failed logins in SQLite or PostgreSQL (see central/accounts.py)."""

from __future__ import annotations

from central.accounts import Account
from central.database import Database, retried
from kiosk.durable import now

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('office', 'school')),
    school_code   TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_sha256  TEXT PRIMARY KEY,        -- the cookie's token itself is never stored
    name          TEXT NOT NULL REFERENCES users(name),
    csrf          TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_name ON login_failures(name, at);
"""


class SqlAccounts:
    """Accounts in SQLite or PostgreSQL (central/database.py), one SQL text."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()

    @retried
    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self.db.write() as conn:
            conn.execute(sql, params)

    @retried
    def add_user(self, user: Account, password_hash: str) -> None:
        with self.db.write() as conn:
            added = conn.execute(
                "INSERT INTO users (name, role, school_code, password_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
                (user.name, user.role, user.school_code, password_hash, now()),
            ).fetchone()
        if added is None:
            raise ValueError(f"user {user.name!r} exists already")

    def user(self, name: str) -> tuple[Account, str] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return Account(row["name"], row["role"], row["school_code"]), row["password_hash"]

    def set_password_hash(self, name: str, password_hash: str) -> None:
        self._write("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))

    def add_session(self, token_sha256: str, name: str, csrf: str, expires_at: str) -> None:
        self._write(
            "INSERT INTO web_sessions (token_sha256, name, csrf, expires_at) VALUES (?, ?, ?, ?)",
            (token_sha256, name, csrf, expires_at),
        )

    def session(self, token_sha256: str, at: str) -> tuple[Account, str] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT u.name, u.role, u.school_code, s.csrf FROM web_sessions s "
                "JOIN users u ON u.name = s.name WHERE s.token_sha256 = ? AND s.expires_at > ?",
                (token_sha256, at),
            ).fetchone()
        if row is None:
            return None
        return Account(row["name"], row["role"], row["school_code"]), row["csrf"]

    def end_session(self, token_sha256: str) -> None:
        self._write("DELETE FROM web_sessions WHERE token_sha256 = ?", (token_sha256,))

    def record_failure(self, name: str, at: str) -> None:
        self._write("INSERT INTO login_failures (name, at) VALUES (?, ?)", (name, at))

    def failures_since(self, name: str, since: str) -> int:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM login_failures WHERE name = ? AND at > ?", (name, since)
            ).fetchone()
        return int(row[0])
