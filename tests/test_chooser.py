"""The session chooser's rules (pure): levels, counts, refusals, 采集码 mode."""

from __future__ import annotations

from kiosk import chooser as ch

SCOPES = (
    ch.ScopeCount("10730", "兰州大学", "普通生", "信息学院", 120),
    ch.ScopeCount("10730", "兰州大学", "普通生", "化学学院", 80),
    ch.ScopeCount("10730", "兰州大学", "研究生", "信息学院", 30),
    ch.ScopeCount("10732", "兰州理工大学", "普通生", "机电学院", 50),
)


def test_school_then_category_then_department_with_counts() -> None:
    c = ch.Chooser(SCOPES)
    assert [(o.label, o.students) for o in ch.options(c)] == [
        ("10730 兰州大学", 230),
        ("10732 兰州理工大学", 50),
    ]
    c = ch.pick(c)
    assert isinstance(c, ch.Chooser) and c.level == "category"
    assert [(o.label, o.students) for o in ch.options(c)] == [
        ("全部", 230),
        ("普通生", 200),
        ("研究生", 30),
    ]
    c = ch.pick(ch.move(c, 1))  # 普通生
    assert isinstance(c, ch.Chooser) and c.level == "department"
    assert [(o.label, o.students) for o in ch.options(c)] == [
        ("全部", 200),
        ("信息学院", 120),
        ("化学学院", 80),
    ]
    assert ch.pick(c) == ch.Choice("10730", "普通生", "")
    assert ch.pick(c, index=2) == ch.Choice("10730", "普通生", ch.options(c)[2].value)


def test_one_category_is_not_asked_and_back_goes_to_the_schools() -> None:
    c = ch.pick(ch.Chooser(SCOPES), index=1)
    assert isinstance(c, ch.Chooser) and c.level == "department" and c.category == "普通生"
    up = ch.back(c)
    assert up is not None and up.level == "school"
    assert ch.back(up) is None  # leaving the chooser


def test_cursor_wraps_and_digits_jump_to_a_listed_school() -> None:
    c = ch.move(ch.Chooser(SCOPES), -1)
    assert c.cursor == 1
    for digit in "10730":
        c = ch.type_digit(c, digit)
    assert c.cursor == 0
    after = ch.pick(c)
    assert isinstance(after, ch.Chooser) and after.school == "10730"


def test_a_school_without_roster_rows_only_in_collection_code_mode() -> None:
    c = ch.Chooser(SCOPES)
    for digit in "99999":
        c = ch.type_digit(c, digit)
    confirm = ch.pick(c)
    assert isinstance(confirm, ch.Chooser) and confirm.level == "code"
    assert confirm.school == "99999"
    assert ch.pick(confirm) == ch.Choice("99999", collection_codes=True)
    assert ch.back(confirm) is not None and ch.back(confirm).level == "school"  # type: ignore[union-attr]
    assert ch.school_students(SCOPES, "99999") == 0
    assert ch.school_students(SCOPES, "10730") == 230


def test_an_empty_roster_is_refused_with_a_reason() -> None:
    c = ch.pick(ch.Chooser(()))
    assert isinstance(c, ch.Chooser) and c.refused == "chooser.no_roster"


def test_scope_counts_for_the_command_line() -> None:
    assert ch.scope_students(SCOPES, "10730") == 230
    assert ch.scope_students(SCOPES, "10730", "研究生") == 30
    assert ch.scope_students(SCOPES, "10730", "普通生", "化学学院") == 80
    assert ch.scope_students(SCOPES, "10730", "成人生") == 0
