"""Accounts, web sessions and failed logins in SQLite or PostgreSQL (see central/accounts.py)."""

from __future__ import annotations

from typing import Any

from central.accounts import Account, AccountSummary
from central.database import Database, retried
from kiosk.durable import now
from kiosk.lang import Said

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
            raise ValueError(Said.of("account.exists", name=user.name))

    def user(self, name: str) -> tuple[Account, str] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return _account(row), row["password_hash"]

    def disabled(self, name: str) -> bool:
        with self.db.read() as conn:
            row = conn.execute("SELECT disabled_at FROM users WHERE name = ?", (name,)).fetchone()
        return row is not None and row["disabled_at"] is not None

    def users(self) -> list[AccountSummary]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM users ORDER BY role, school_code, name").fetchall()
        return [
            AccountSummary(
                r["name"],
                r["role"],
                r["school_code"],
                r["disabled_at"] is not None,
                bool(r["must_change_password"]),
                r["created_at"],
                r["last_login_at"],
            )
            for r in rows
        ]

    def set_password_hash(self, name: str, password_hash: str) -> None:
        self._write("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))

    @retried
    def replace_password(
        self, name: str, password_hash: str, *, must_change: bool, keep_session: str = ""
    ) -> bool:
        """A new password; every session of the account but ``keep_session`` ends with the
        old one, and so does a lock from failed logins. False: no such account."""
        with self.db.write() as conn:
            found = conn.execute(
                "UPDATE users SET password_hash = ?, must_change_password = ? WHERE name = ? "
                "RETURNING name",
                (password_hash, 1 if must_change else 0, name),
            ).fetchone()
            if found is None:
                return False
            conn.execute(
                "DELETE FROM web_sessions WHERE name = ? AND token_sha256 != ?",
                (name, keep_session),
            )
            conn.execute("DELETE FROM login_failures WHERE name = ?", (name,))
        return True

    @retried
    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disabling ends the account's sessions at once. False: no such account."""
        with self.db.write() as conn:
            found = conn.execute(
                "UPDATE users SET disabled_at = CASE WHEN ? THEN coalesce(disabled_at, ?) END "
                "WHERE name = ? RETURNING name",
                (disabled, now(), name),
            ).fetchone()
            if found is not None and disabled:
                conn.execute("DELETE FROM web_sessions WHERE name = ?", (name,))
        return found is not None

    def record_login(self, name: str, at: str) -> None:
        self._write("UPDATE users SET last_login_at = ? WHERE name = ?", (at, name))

    def add_session(self, token_sha256: str, name: str, csrf: str, expires_at: str) -> None:
        self._write(
            "INSERT INTO web_sessions (token_sha256, name, csrf, expires_at) VALUES (?, ?, ?, ?)",
            (token_sha256, name, csrf, expires_at),
        )

    def session(self, token_sha256: str, at: str) -> tuple[Account, str] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT u.name, u.role, u.school_code, u.must_change_password, s.csrf "
                "FROM web_sessions s JOIN users u ON u.name = s.name "
                "WHERE s.token_sha256 = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
                (token_sha256, at),
            ).fetchone()
        if row is None:
            return None
        return _account(row), row["csrf"]

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


def _account(row: Any) -> Account:
    return Account(row["name"], row["role"], row["school_code"], bool(row["must_change_password"]))
