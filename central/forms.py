"""What the pages' forms accept: small, urlencoded, UTF-8, no control characters.

Every form the office's and the schools' pages post is a handful of short
fields. Anything else (a body of megabytes, a field of thousands of
characters, a NUL or an escape in a name, bytes that are not UTF-8) is
refused whole with a 4xx page before any of it is looked at, so nothing of
it reaches the database, an export's spreadsheet (openpyxl refuses control
characters: one stored would break the school's package) or a log.
"""

from __future__ import annotations

import unicodedata
import urllib.parse

URLENCODED = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024  # the largest real form (an erratum) is under 1 KB
MAX_FIELD_CHARS = 1000
MAX_FIELDS = 20
# Cc: controls (NUL, ESC, tab, newline ...); Zl/Zp: line and paragraph separators.
_FORBIDDEN = {"Cc", "Zl", "Zp"}


class FormProblem(Exception):
    """The form is refused whole; ``message`` says what to do (Chinese, for the page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


TOO_LARGE = FormProblem(413, "提交的内容太长，没有保存。请返回页面，缩短填写的内容后重试。")


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a posted form, or FormProblem."""
    if content_type.split(";", 1)[0].strip().lower() != URLENCODED:
        raise FormProblem(415, "表单格式不对，没有保存。请在页面上填写后点按钮提交。")
    if len(body) > MAX_FORM_BYTES:
        raise TOO_LARGE
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormProblem(400, "表单内容无法读取，没有保存。请返回页面重新填写。") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise FormProblem(400, "表单内容重复，没有保存。请返回页面重新填写。")
        if len(value) > MAX_FIELD_CHARS:
            raise TOO_LARGE
        if has_control_characters(name) or has_control_characters(value):
            raise FormProblem(
                400,
                "填写的内容含有控制字符（如换行、制表符或不可见字符），没有保存。"
                "请删除这些字符后重试。",
            )
        fields[name] = value
    return fields


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) in _FORBIDDEN for c in text)
