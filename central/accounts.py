"""Web accounts: who may see what, passwords, sessions, the login limit.

Passwords are argon2id hashes (argon2-cffi, its default parameters); the
session cookie holds a random token of which the store keeps only the
sha256, so a copy of the database opens no session. Each session has its
own CSRF token that every form posts back. After ``MAX_FAILURES`` failed
logins for one name within ``FAILURE_WINDOW`` the name is locked for the
rest of that window, whatever password is tried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.lang import Said

MAX_FAILURES = 5
# A typed password: long enough not to be guessed inside the login limit's
# windows, short enough that hashing it costs nothing unusual.
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
FAILURE_WINDOW = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
NAME_RE = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
SCHOOL_CODE_RE = re.compile(r"^\d{5}$")

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str  # office | school
    school_code: str = ""  # a school account's one school
    # Set by `central user reset`: every page is the change-password page until it is.
    must_change_password: bool = False

    def may_see(self, school_code: str) -> bool:
        """The office sees every school; a school account only its own."""
        return self.role == "office" or (self.role == "school" and self.school_code == school_code)


def check_account(name: str, role: str, school_code: str | None) -> Account:
    """An account from the command line's values, or ValueError saying what to fix."""
    if not NAME_RE.fullmatch(name):
        raise ValueError(Said.of("account.bad_name", name=name))
    if role == "office":
        if school_code:
            raise ValueError(Said.of("account.office_no_school"))
        return Account(name, "office")
    if role == "school":
        if not school_code or not SCHOOL_CODE_RE.fullmatch(school_code):
            raise ValueError(Said.of("account.needs_school"))
        return Account(name, "school", school_code)
    raise ValueError(Said.of("account.bad_role", role=role))


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What `central user list` shows of an account (never its hash)."""

    name: str
    role: str
    school_code: str
    disabled: bool
    must_change_password: bool
    created_at: str
    last_login_at: str | None


def password_problem(new: str, repeated: str, old: str) -> str | None:
    """Why ``new`` cannot be the account's password (said to the user), or None."""
    if new != repeated:
        return "两次输入的新密码不一致，请重新输入。"
    if len(new) < MIN_PASSWORD_LENGTH:
        return f"新密码太短：至少 {MIN_PASSWORD_LENGTH} 个字符（可以用几个词或一句话）。"
    if len(new) > MAX_PASSWORD_LENGTH:
        return f"新密码太长：最多 {MAX_PASSWORD_LENGTH} 个字符。"
    if any(ord(c) < 32 or ord(c) == 127 for c in new):
        return "新密码不能包含控制字符（如换行、制表符）。"
    if new == old:
        return "新密码不能与原密码相同。"
    return None


def new_password() -> str:
    """An initial password people can type from a printout: 4 groups of 4."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Checked against when the name is unknown, so an unknown name takes as long
# as a wrong password and the answer's timing does not tell which names exist.
_UNKNOWN = _hasher.hash("no such account")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; None (no such account) costs the same and is False."""
    if password_hash is None:
        _verify(_UNKNOWN, password)
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
