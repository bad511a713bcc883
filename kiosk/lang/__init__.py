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


class Said(str):
    """A sentence for people that is also plain English text (logs, JSON reports,
    ``str()`` of an error) and still knows its catalogue key and values, so the
    CLI can say it in the crew's language (:meth:`Words.text`)."""

    key: str
    values: dict[str, Any]

    @classmethod
    def of(cls, key: str, **values: Any) -> Said:
        said = cls(say("en", key, **values))
        said.key = key
        said.values = values
        return said


class Words:
    """``say`` bound to one language: ``words = Words(config.station.crew_language)``."""

    def __init__(self, language: str) -> None:
        self.language: Language = "en" if language == "en" else "zh"

    def __call__(self, key: str, **values: Any) -> str:
        # A value that is itself a sentence (an error's cause) is said in this language too.
        said = {k: self.text(v) for k, v in values.items() if isinstance(v, Said | BaseException)}
        return say(self.language, key, **(values | said))

    def has(self, key: str) -> bool:
        return has(self.language, key)

    def text(self, text: object) -> str:
        """``text`` in this language when it is :class:`Said` (or an error made of
        one); anything else as it is."""
        if isinstance(text, BaseException) and text.args and isinstance(text.args[0], Said):
            text = text.args[0]
        if isinstance(text, Said):
            return self(text.key, **text.values)
        return str(text)

    @property
    def zh(self) -> bool:
        return self.language == "zh"
