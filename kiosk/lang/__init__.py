"""Every text a crew member or a registrar reads, one catalogue per language.

Why catalogues: the crew and the school's registrar read Chinese; an English
crew config (``station.crew_language = "en"``) must get every line in English,
not a mix. Each language is one module (:mod:`kiosk.lang.zh`,
:mod:`kiosk.lang.en`) holding ``TEXTS``: key -> ``str.format`` template. The
code names a key, never a sentence, so a missing translation is a test failure
(tests/test_lang.py checks both catalogues hold the same keys with the same
placeholders, and that every key the code names exists).

Stable codes (``[sex_mismatch]``, reason codes) are not text: they stay as
they are in both languages. The student screen is Chinese only and keeps its
own short lines in ``kiosk/display/texts.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from kiosk.lang import en, zh

Language = Literal["zh", "en"]
CATALOGUES: dict[str, Mapping[str, str]] = {"zh": zh.TEXTS, "en": en.TEXTS}


def say(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (Chinese for anything but "en")."""
    template = CATALOGUES["en" if language == "en" else "zh"][key]
    return template.format(**values)


def has(language: str, key: str) -> bool:
    return key in CATALOGUES["en" if language == "en" else "zh"]


class Words:
    """``say`` bound to one language: ``words = Words(config.station.crew_language)``."""

    def __init__(self, language: str) -> None:
        self.language: Language = "en" if language == "en" else "zh"

    def __call__(self, key: str, **values: Any) -> str:
        return say(self.language, key, **values)

    def has(self, key: str) -> bool:
        return has(self.language, key)

    @property
    def zh(self) -> bool:
        return self.language == "zh"
