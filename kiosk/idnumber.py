"""GB 11643-1999 citizen identity numbers: normalise, validate, parse.

An 18-character number is: a 6-digit address code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence (odd = male, even = female) and a check
character computed with ISO 7064 MOD 11-2 (``0``-``9`` or ``X``).

The same layout is used by the Hong Kong/Macau/Taiwan residence permits
(address codes 810000 / 820000 / 830000) and by the 2023 foreigners'
permanent residence card (first digit 9, then the province of issue), so they
validate here too and :attr:`IdNumber.kind` says which it is.

Why so strict: a wrong digit in the registry sends a student's degree
record to somebody else; refusing at import time costs the school one
corrected cell, accepting costs an errata form later.
"""

from __future__ import annotations

import datetime as dt
import operator
import unicodedata
from dataclasses import dataclass
from typing import Literal

# ISO 7064 MOD 11-2 weights for positions 1..17 (2^(18-i) mod 11).
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"

# First two digits of the address code: the provinces of GB/T 2260, plus the
# codes the residence permits use (81 Hong Kong, 82 Macau, 83 Taiwan).
PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)

Kind = Literal["resident", "hmt_permit", "foreign_permanent"]
Sex = Literal["男", "女"]

# Problem codes, stable strings (also used in the roster report).
EMPTY = "id_missing"
LEGACY_15 = "id_legacy_15_digit"
BAD_LENGTH = "id_bad_length"
BAD_CHARACTERS = "id_bad_characters"
BAD_ADDRESS = "id_bad_address_code"
BAD_BIRTH_DATE = "id_bad_birth_date"
BAD_CHECK = "id_bad_check_digit"

_MESSAGES = {
    EMPTY: "the ID number is empty",
    LEGACY_15: "a 15-digit ID number from before 1999; ask the student for the 18-digit number",
    BAD_LENGTH: "an ID number has 18 characters",
    BAD_CHARACTERS: "an ID number has 17 digits and a final digit or X",
    BAD_ADDRESS: "the first digits are not a region code",
    BAD_BIRTH_DATE: "the birth date in digits 7-14 is not a real date in the past",
    BAD_CHECK: "the check character (last) does not match: a digit was mistyped",
}


class InvalidIdNumber(ValueError):
    """Raised by :func:`parse`; ``code`` is one of the problem codes above."""

    def __init__(self, code: str, value: str) -> None:
        self.code = code
        self.value = value
        super().__init__(f"{_MESSAGES[code]} ({value!r})")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid, canonical 18-character number and what it says."""

    value: str
    birth_date: dt.date
    sex: Sex
    kind: Kind

    def __str__(self) -> str:
        return self.value

    @property
    def masked(self) -> str:
        """For screens and captions where the whole number need not show."""
        return self.value[:6] + "********" + self.value[14:]


def normalise(raw: str) -> str:
    """Canonical spelling: ASCII digits, uppercase X, no spaces of any width.

    NFKC folds full-width digits and the full-width X (as typed by Chinese
    input methods) to ASCII; every kind of white space is dropped because
    Excel users pad numbers with spaces to keep them as text.
    """
    if raw.isascii():
        return "".join(raw.split()).upper()
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def problem(raw: str, today: dt.date | None = None, min_birth_year: int = 1900) -> str | None:
    """The problem code of ``raw``, or ``None`` when it is valid."""
    try:
        parse(raw, today=today, min_birth_year=min_birth_year)
    except InvalidIdNumber as exc:
        return exc.code
    return None


def parse(raw: str, today: dt.date | None = None, min_birth_year: int = 1900) -> IdNumber:
    value = normalise(raw)
    if not value:
        raise InvalidIdNumber(EMPTY, raw)
    if len(value) == 15 and value.isdigit():
        raise InvalidIdNumber(LEGACY_15, raw)
    if len(value) != 18:
        raise InvalidIdNumber(BAD_LENGTH, raw)
    if not (value[:17].isascii() and value[:17].isdigit()) or value[17] not in "0123456789X":
        raise InvalidIdNumber(BAD_CHARACTERS, raw)
    kind: Kind
    if value[0] == "9" and value[1:3] in PROVINCE_CODES:
        kind = "foreign_permanent"
    elif value[:2] in PROVINCE_CODES:
        kind = "hmt_permit" if value[:2] in {"81", "82", "83"} else "resident"
    else:
        raise InvalidIdNumber(BAD_ADDRESS, raw)
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(BAD_BIRTH_DATE, raw) from None
    if birth > (today or dt.date.today()) or birth.year < min_birth_year:
        raise InvalidIdNumber(BAD_BIRTH_DATE, raw)
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber(BAD_CHECK, raw)
    sex: Sex = "男" if int(value[16]) % 2 == 1 else "女"
    return IdNumber(value=value, birth_date=birth, sex=sex, kind=kind)


def message(code: str) -> str:
    return _MESSAGES[code]
