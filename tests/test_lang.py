"""The text catalogues: every line people read exists in Chinese and in English."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from kiosk import idnumber, lang, roster
from kiosk.capture.verdict import Reason
from kiosk.lang import en, zh

KIOSK = Path(__file__).resolve().parent.parent / "kiosk"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Callables that take a catalogue key: words(key, ...), say(language, key, ...),
# crew_text(language, key, ...), Said.of(key, ...); the position of the key argument.
KEY_ARGUMENT = {"words": 0, "say": 1, "crew_text": 1, "has": 1, "of": 0}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys():
    assert sorted(set(zh.TEXTS) - set(en.TEXTS)) == []
    assert sorted(set(en.TEXTS) - set(zh.TEXTS)) == []


@pytest.mark.parametrize("key", sorted(zh.TEXTS))
def test_same_placeholders_in_both_languages(key: str):
    assert placeholders(zh.TEXTS[key]) == placeholders(en.TEXTS[key])


def test_chinese_texts_are_chinese():
    # a line copied over untranslated would have no Chinese character at all
    def words_of(text: str) -> str:  # the text without its placeholders
        return "".join(literal for literal, *_ in string.Formatter().parse(text))

    untranslated = [
        k
        for k, text in zh.TEXTS.items()
        if not CJK.search(text) and re.search(r"[A-Za-z]", words_of(text))
    ]
    assert untranslated == []


def test_every_reason_and_roster_code_has_its_words():
    for reason in Reason:
        assert lang.has("zh", f"reason.{reason.value}") and lang.has("en", f"reason.{reason.value}")
    codes = [
        v
        for module in (roster, idnumber)
        for k, v in vars(module).items()
        if k.isupper()
        and isinstance(v, str)
        and re.fullmatch(r"[a-z0-9_]+", v)
        and (module is idnumber or k in _ROSTER_CODES)
    ]
    assert len(codes) >= 14
    for code in codes:
        assert lang.has("zh", f"problem.{code}"), code
        assert lang.has("en", f"problem.{code}"), code


_ROSTER_CODES = {
    "MISSING_VALUE",
    "SCHOOL_CODE_FORMAT",
    "SEX_INVALID",
    "SEX_MISMATCH",
    "ID_AS_NUMBER",
    "DUPLICATE_ID",
    "DUPLICATE_STUDENT_NUMBER",
}


def _keys_named_in_code() -> list[tuple[str, str]]:
    found = []
    for path in KIOSK.rglob("*.py"):
        if path.parent.name == "lang":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            position = KEY_ARGUMENT.get(name)
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((f"{path.relative_to(KIOSK)}:{node.lineno}", arg.value))
    return found


def test_every_key_the_code_names_is_in_both_catalogues():
    named = _keys_named_in_code()
    assert len(named) > 60  # the scan sees the CLI, doctor and screens
    missing = [
        (where, key)
        for where, key in named
        if not (lang.has("zh", key) or lang.has("zh", f"crew.{key}"))
    ]
    assert missing == []


def test_say_formats_and_falls_back_to_chinese():
    assert lang.say("en", "find.none", query="x") == "no student matches 'x'"
    assert lang.say("zh", "find.none", query="x") == "没有找到与“x”相符的学生"
    assert lang.say("fr", "find.none", query="x") == lang.say("zh", "find.none", query="x")
    words = lang.Words("en")
    assert not words.zh and words("reason.mouth_open") == en.TEXTS["reason.mouth_open"]
