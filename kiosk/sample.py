"""A made-up school for the demo and the tests: names, 学号 and valid ID numbers.

Nobody in it exists: names are drawn from common surname and given-name
characters, ID numbers are built with a real region code, a plausible birth
date and a correct check character. Deterministic for a given seed, so the
demo and the tests see the same roster every time.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from kiosk import idnumber
from kiosk.roster import COLUMNS
from kiosk.student import Student

HEADERS = tuple(header for header, _ in COLUMNS.values())  # notice columns + 院系, 类型

SCHOOL_NAME = "示例大学"
SCHOOL_CODE = "19999"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞玉萍红鹏辉婷宇浩文博子轩雨欣怡梓涵思佳晨阳一诺可馨俊凯"
_REGIONS = (
    "620102",
    "620103",
    "620104",
    "620121",
    "620402",
    "620403",
    "621002",
    "640104",
    "650102",
    "410102",
    "510107",
    "630102",
)
_DEPARTMENTS = (
    ("信息学院", ("计算机科学与技术", "通信工程", "电子信息工程")),
    ("经济管理学院", ("市场营销", "会计学")),
    ("外国语学院", ("英语", "日语")),
    ("医学院", ("临床医学", "护理学")),
)


def make_id_number(rng: random.Random, birth: dt.date, male: bool) -> str:
    region = rng.choice(_REGIONS)
    seq = rng.randrange(0, 100) * 10 + (
        rng.choice((1, 3, 5, 7, 9)) if male else rng.choice((0, 2, 4, 6, 8))
    )
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + idnumber.check_character(first17)


def sample_rows(count: int = 40, seed: int = 7, category: str = "普通生") -> list[list[str]]:
    rng = random.Random(seed)
    rows: list[list[str]] = []
    used: set[str] = set()
    for i in range(count):
        male = rng.random() < 0.5
        birth = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(0, 1400))
        while True:
            number = make_id_number(rng, birth, male)
            if number not in used:
                used.add(number)
                break
        department, majors = _DEPARTMENTS[i % len(_DEPARTMENTS)]
        name = rng.choice(_SURNAMES) + "".join(
            rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))
        )
        rows.append(
            [
                "",
                SCHOOL_NAME,
                SCHOOL_CODE,
                f"2021{i + 1:07d}",
                name,
                "男" if male else "女",
                number,
                "本科",
                rng.choice(majors),
                department,
                category,
            ]
        )
    return rows


def sample_students(count: int = 40, seed: int = 7) -> list[Student]:
    """The same made-up people as :func:`sample_rows`, as students (fields by name)."""
    fields = list(COLUMNS)  # the row's columns, in HEADERS order
    return [
        Student.from_row(dict(zip(fields, row, strict=True))) for row in sample_rows(count, seed)
    ]


def write_sample_roster(path: Path, count: int = 40, seed: int = 7) -> Path:
    """Write the sample roster as .xlsx with every column stored as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "毕业生数据"
    sheet.append(list(HEADERS))
    for row in sample_rows(count, seed):
        sheet.append(row)
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            cell.number_format = "@"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
