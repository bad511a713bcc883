"""The words of the delivery package: file-name placeholders, caption fields, masking.

Pure and light (no PDF or Excel imports): every ``kiosk`` command checks the
``[export]`` section against these names right after loading the config
(:func:`check_settings`), so a typo in ``file_name`` or ``captions`` is an
error at start naming the setting, not a failed export at the end of a
school. The check lives here, with the vocabulary, rather than in the config
module, which stays below everything that reads it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk.config import ConfigError, ExportConfig
from kiosk.export import proofs

if TYPE_CHECKING:
    from kiosk.export.package import Photo

# Placeholder -> value for one delivered photo. The three the issue names come
# first: {身份证号} (the notice's workflow), {学号}, {采集码} (roster-less
# sessions keyed by 学信网's 图像采集码).
FILE_NAME_FIELDS: dict[str, Callable[[Photo], str]] = {
    "身份证号": lambda p: p.student.id_number or "",
    "学号": lambda p: p.student.student_number,
    "采集码": lambda p: p.student.collection_code or p.take.collection_code or "",
    "姓名": lambda p: p.student.name,
    "拍摄序号": lambda p: "" if p.take.seq is None else str(p.take.seq),
    "院校代码": lambda p: p.student.school_code,
}

# Caption field -> (label printed before the value, value). Every line is
# labelled, so a registrar reading a printout never has to guess which number
# is the 学号 and which the 拍摄序号. The notice's five are the default.
CAPTION_FIELDS: dict[str, tuple[str, Callable[[Photo], str]]] = {
    "学校名称": ("学校 ", lambda p: p.student.school_name),
    "学生姓名": ("姓名 ", lambda p: p.student.name),
    "学号": ("学号 ", lambda p: p.student.student_number),
    "身份证号码": ("身份证号 ", lambda p: p.student.id_number or ""),
    "拍摄序号": ("拍摄序号 ", lambda p: "" if p.take.seq is None else str(p.take.seq)),
    "院校代码": ("院校代码 ", lambda p: p.student.school_code),
    "性别": ("性别 ", lambda p: p.student.sex),
    "学历": ("学历 ", lambda p: p.student.degree),
    "专业名称": ("专业 ", lambda p: p.student.major),
    "院系": ("院系 ", lambda p: p.student.department),
    "类型": ("类型 ", lambda p: p.student.category),
    "采集码": ("采集码 ", lambda p: p.student.collection_code or p.take.collection_code or ""),
}

# Characters a file name on a school's Windows PC or a disc may not hold.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_SUFFIXES = (".jpg", ".jpeg")


def template_fields(template: str) -> list[str]:
    """The placeholders of a file-name template; ValueError naming a bad one."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"{template!r} is not a valid template ({exc}); write e.g. {{身份证号}}.jpg"
        ) from exc
    fields = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FILE_NAME_FIELDS or spec or conversion:
            known = " ".join(f"{{{n}}}" for n in FILE_NAME_FIELDS)
            raise ValueError(f"unknown placeholder {{{name}}} in {template!r}; known: {known}")
        fields.append(name)
    return fields


def check_file_name_template(template: str) -> None:
    """Raise ValueError unless ``template`` makes safe .jpg names from some field."""
    fields = template_fields(template)
    if not fields:
        raise ValueError(
            f"{template!r} has no placeholder, so every photo would get the same name; "
            "use e.g. {身份证号}.jpg"
        )
    literal = "".join(text for text, *_ in string.Formatter().parse(template))
    if _UNSAFE.search(literal):
        raise ValueError(
            f'{template!r} contains a character not allowed in file names (\\ / : * ? " < > |)'
        )
    if not template.lower().endswith(_SUFFIXES):
        raise ValueError(f"{template!r} must end in .jpg (the photos are JPEG files)")


def render_file_name(template: str, photo: Photo) -> str:
    """The file name of ``photo``; ValueError saying which field is empty or unsafe."""
    values = {}
    for name in template_fields(template):
        value = FILE_NAME_FIELDS[name](photo).strip()
        if not value:
            raise ValueError(f"no {name}")
        if _UNSAFE.search(value) or value in (".", ".."):
            raise ValueError(f"{name} {value!r} has characters not allowed in a file name")
        values[name] = value
    return template.format_map(values)


def check_captions(captions: Sequence[str]) -> None:
    unknown = [c for c in captions if c not in CAPTION_FIELDS]
    if unknown:
        raise ValueError(f"unknown caption field {unknown[0]!r}; known: {' '.join(CAPTION_FIELDS)}")
    if not captions:
        raise ValueError("list at least one caption field (the notice's five are the default)")


def mask_id_number(value: str, keep_start: int, keep_end: int) -> str:
    """``620102200101011234`` -> ``620102********1234`` (keep 6 and 4).

    At least eight characters (an 18-character number's birth date), or half
    of a shorter number, stay hidden whatever the settings say, so a setting
    that keeps nearly everything cannot pass for masking.
    """
    if not value:
        return value
    hidden_min = min(8, (len(value) + 1) // 2)
    keep_start = max(0, min(keep_start, len(value) - hidden_min))
    keep_end = max(0, min(keep_end, len(value) - hidden_min - keep_start))
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def caption_lines(
    photo: Photo,
    captions: Sequence[str],
    *,
    mask: bool = False,
    keep_start: int = 6,
    keep_end: int = 4,
) -> list[str]:
    """Labelled lines under a proof photo. A 采集码 student (no ID number, maybe
    no name: 学信网 holds it) gets the code on the ID number's line and says it
    has no name, so the registrar can still tell whose photo it is."""
    lines = []
    for name in captions:
        label, value_of = CAPTION_FIELDS[name]
        value = value_of(photo)
        if name == "身份证号码" and not value and "采集码" not in captions:
            label, value_of = CAPTION_FIELDS["采集码"]
            value = value_of(photo)
        elif name == "身份证号码" and mask:
            value = mask_id_number(value, keep_start, keep_end)
        elif name == "学生姓名" and not value:
            value = "（无姓名）"
        lines.append(f"{label}{value}" if value else "")
    return lines


def check_settings(settings: ExportConfig) -> None:
    """Raise :class:`ConfigError` naming the ``[export]`` key whose value the export cannot use."""
    try:
        check_file_name_template(settings.file_name)
    except ValueError as exc:
        raise ConfigError(f"export.file_name: {exc}") from exc
    try:
        check_file_name_template(settings.file_name_without_id)
    except ValueError as exc:
        raise ConfigError(f"export.file_name_without_id: {exc}") from exc
    try:
        check_captions(settings.captions)
    except ValueError as exc:
        raise ConfigError(f"export.captions: {exc}") from exc
    try:
        proofs.layout(settings.paper, settings.columns, settings.rows, len(settings.captions))
    except ValueError as exc:
        raise ConfigError(f"export.columns / export.rows: {exc}") from exc
