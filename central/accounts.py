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

MAX_FAILURES = 5
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

    def may_see(self, school_code: str) -> bool:
        """The office sees every school; a school account only its own."""
        return self.role == "office" or (self.role == "school" and self.school_code == school_code)


def check_account(name: str, role: str, school_code: str | None) -> Account:
    """An account from the command line's values, or ValueError saying what to fix."""
    if not NAME_RE.fullmatch(name):
        raise ValueError(f"{name!r}: a user name is 2-64 letters, digits or . _ @ -")
    if role == "office":
        if school_code:
            raise ValueError("an office account sees every school; leave out --school")
        return Account(name, "office")
    if role == "school":
        if not school_code or not SCHOOL_CODE_RE.fullmatch(school_code):
            raise ValueError("a school account needs --school CODE (the 5-digit 院校代码)")
        return Account(name, "school", school_code)
    raise ValueError(f"role {role!r}: use office or school")


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
