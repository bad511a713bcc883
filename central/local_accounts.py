"""Accounts, web sessions and failed logins in central.db (see central/accounts.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from central.accounts import Account
from central.local_campaign import Database
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


class SqliteAccounts(Database):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._transaction() as conn:
            conn.execute(sql, params)

    def add_user(self, user: Account, password_hash: str) -> None:
        try:
            self._write(
                "INSERT INTO users (name, role, school_code, password_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user.name, user.role, user.school_code, password_hash, now()),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"user {user.name!r} exists already") from None

    def user(self, name: str) -> tuple[Account, str] | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
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
        with self.lock:
            row = self.conn.execute(
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
        with self.lock:
            row = self.conn.execute(
                "SELECT count(*) FROM login_failures WHERE name = ? AND at > ?", (name, since)
            ).fetchone()
        return int(row[0])
