"""The session chooser's rules (pure): levels, counts, refusals, 采集码 mode."""

from __future__ import annotations

from kiosk import chooser as ch
from kiosk import pad

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


PLANS = (
    ch.SchoolPlan("10055", "南开大学", 320),
    ch.SchoolPlan("10730", "兰州大学", 240),  # has roster rows: stays a roster school
    ch.SchoolPlan("10001", "北京大学", None),
)


def test_a_scheduled_school_without_roster_is_listed_for_collection_codes() -> None:
    c = ch.Chooser(SCOPES, plans=PLANS)
    lines = ch.options(c)
    assert [(o.value, o.students, o.collection) for o in lines] == [
        ("10001", 0, True),
        ("10055", 0, True),
        ("10730", 230, False),
        ("10732", 50, False),
    ]
    confirm = ch.pick(c, index=1)
    assert isinstance(confirm, ch.Chooser) and confirm.level == "code"
    assert ch.expected_students(confirm) == 320
    unknown = ch.pick(c, index=0)
    assert isinstance(unknown, ch.Chooser) and ch.expected_students(unknown) is None
    assert ch.pick(confirm) == ch.Choice("10055", collection_codes=True)
    typed = ch.Chooser(SCOPES, plans=PLANS)
    for digit in "99999":  # typed, not scheduled: confirmed, headcount unknown
        typed = ch.type_digit(typed, digit)
    confirm = ch.pick(typed)
    assert isinstance(confirm, ch.Chooser) and ch.expected_students(confirm) is None


def test_touch_buttons_type_delete_confirm_and_go_back() -> None:
    c: ch.Chooser | ch.Choice | None = ch.Chooser(SCOPES, plans=PLANS)
    assert isinstance(c, ch.Chooser) and set(pad.PAD) <= set(ch.buttons(c))
    for button in ("1", "0", "0", "5", "6", pad.DELETE, "5"):
        c = ch.press(c, button)  # type: ignore[arg-type]
    assert isinstance(c, ch.Chooser) and c.typed == "10055"
    c = ch.press(c, pad.ACCEPT)
    assert isinstance(c, ch.Chooser) and c.level == "code"
    assert ch.buttons(c) == (pad.ACCEPT, pad.BACK)
    assert ch.press(c, "7") == c  # no digits while confirming
    back = ch.press(c, pad.BACK)
    assert isinstance(back, ch.Chooser) and back.level == "school" and back.typed == ""
    assert ch.press(back, pad.BACK) is None  # leaving the chooser
    assert ch.press(c, pad.ACCEPT) == ch.Choice("10055", collection_codes=True)
    listed = ch.press(ch.Chooser(SCOPES), pad.ACCEPT)  # accept takes the line under the cursor
    assert isinstance(listed, ch.Chooser) and listed.school == "10730"
    assert ch.buttons(listed) == (pad.BACK,)
