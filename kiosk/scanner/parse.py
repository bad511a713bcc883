"""Scan -> Identity: what a payload says about who is in front of the camera.

Student cards differ by school (a bare 学号, a card prefix, a URL with the
学号 as a parameter …), so their meaning is configured as an ordered list of
regular expressions with named groups (``scanner.payload_patterns``). Two
things are recognised before those patterns because they carry their own
proof:

1. the 学信网 图像采集码 (collection code), by ``scanner.collection_code_pattern``;
   it is opaque and stored with the shot, so its bytes are kept exactly;
2. an 18-character resident ID number whose check character is right
   (kiosk/idnumber.py); a 学号 that happens to pass that check would need a
   real region code, a real past birth date and a 1-in-11 check hit.

An ID card read (``Scan.fields`` from kiosk/scanner/idcard.py) is an ID number
with the name the chip gives. Anything else is ``unrecognised`` with the text
kept for the log, so the station can say "unknown code" on screen.

Pure: no I/O, so every rule is a plain unit test.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kiosk import idnumber
from kiosk.config import Config, ConfigError, ScannerConfig
from kiosk.scanner.base import Identity, Scan

GROUPS = ("student_number", "id_number")


@dataclass(frozen=True, slots=True)
class PayloadRule:
    """One configured pattern; ``index`` names it in errors and in the log."""

    index: int
    pattern: re.Pattern[str]
    group: str


def compile_rules(config: ScannerConfig) -> tuple[re.Pattern[str], tuple[PayloadRule, ...]]:
    """Compile the school's patterns; a bad one is a ConfigError naming its key."""
    try:
        collection = re.compile(config.collection_code_pattern)
    except re.error as exc:
        raise ConfigError(
            f"scanner.collection_code_pattern: not a valid regular expression ({exc})"
        ) from exc
    rules = []
    for i, text in enumerate(config.payload_patterns):
        key = f"scanner.payload_patterns[{i}]"
        try:
            pattern = re.compile(text)
        except re.error as exc:
            raise ConfigError(f"{key}: not a valid regular expression ({exc})") from exc
        named = [g for g in GROUPS if g in pattern.groupindex]
        if len(named) != 1:
            raise ConfigError(
                f"{key}: needs exactly one named group, (?P<student_number>...) or "
                f"(?P<id_number>...); {text!r} has {len(named) or 'none'}"
            )
        rules.append(PayloadRule(i, pattern, named[0]))
    return collection, tuple(rules)


def payload_text(payload: bytes) -> str:
    """The payload as text for matching: UTF-8 where it is, GB18030 else.

    Scanners in serial mode pass Chinese text in the school's encoding; QR
    payloads are usually UTF-8. Undecodable bytes never raise: they come out
    as backslash escapes, which no pattern for a 学号 matches.
    """
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return payload.decode("gb18030")
    except UnicodeDecodeError:
        return payload.decode("utf-8", errors="backslashreplace")


class Identifier:
    """Turns scans into identities with one school's rules (build once, reuse)."""

    def __init__(self, config: ScannerConfig, min_birth_year: int = 1900) -> None:
        self.collection, self.rules = compile_rules(config)
        self.min_birth_year = min_birth_year

    @classmethod
    def for_config(cls, config: Config) -> Identifier:
        """The school's rules from the config: scanner patterns and the roster's birth-year floor."""
        return cls(config.scanner, min_birth_year=config.roster.min_birth_year)

    def identify(self, scan: Scan) -> Identity:
        if scan.fields.get("id_number") or scan.fields.get("card_type"):
            return self._from_card(scan)
        text = payload_text(scan.payload)
        stripped = text.strip()
        if self.collection.fullmatch(stripped):
            return Identity("collection_code", stripped, scan.payload, scan.source)
        number = self._id_number(stripped)
        if number is not None:
            return Identity("id_number", number, scan.payload, scan.source)
        folded = unicodedata.normalize("NFKC", stripped)
        for rule in self.rules:
            match = rule.pattern.fullmatch(folded)
            if match is None:
                continue
            value = match.group(rule.group)
            if value is None:
                continue
            if rule.group == "id_number":
                number = self._id_number(value)
                if number is None:
                    continue  # the pattern matched, the number did not: try the next rule
                return Identity("id_number", number, scan.payload, scan.source)
            return Identity(
                "student_number",
                value,
                scan.payload,
                scan.source,
                fields={"rule": str(rule.index)},
            )
        return Identity("unrecognised", text, scan.payload, scan.source)

    def _from_card(self, scan: Scan) -> Identity:
        fields = dict(scan.fields)
        name = fields.get("name") or fields.get("name_en") or None
        number = self._id_number(fields.get("id_number", ""))
        if number is None:
            # e.g. the 2017 foreigners' card: a 15-character number no roster holds.
            fields.setdefault("problem", "the card's number is not an 18-character ID number")
            return Identity(
                "unrecognised",
                fields.get("id_number", ""),
                scan.payload,
                scan.source,
                name=name,
                fields=fields,
            )
        return Identity("id_number", number, scan.payload, scan.source, name=name, fields=fields)

    def _id_number(self, text: str) -> str | None:
        canonical = idnumber.normalise(text)
        if len(canonical) != 18:
            return None
        try:
            return idnumber.parse(canonical, min_birth_year=self.min_birth_year).value
        except idnumber.InvalidIdNumber:
            return None
