import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import idnumber

VALID = "11010519491231002X"  # the standard's own example


def test_standard_example_is_valid_and_parsed():
    parsed = idnumber.parse(VALID)
    assert parsed.value == VALID
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "女"  # 17th digit 2 is even
    assert parsed.kind == "resident"
    assert parsed.masked == "110105********002X"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "110105\u300019491231002X",
        "\t11010519491231002X\n",
    ],
)
def test_normalise_accepts_common_spellings(raw):
    assert idnumber.parse(raw).value == VALID


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", idnumber.EMPTY),
        ("   ", idnumber.EMPTY),
        ("110105491231002", idnumber.LEGACY_15),
        ("1101051949123100", idnumber.BAD_LENGTH),
        ("11010519491231002Y", idnumber.BAD_CHARACTERS),
        ("1101051949123A002X", idnumber.BAD_CHARACTERS),
        ("00010519491231002X", idnumber.BAD_ADDRESS),
        ("110105194902300021", idnumber.BAD_BIRTH_DATE),
        ("110105189912310021", idnumber.BAD_BIRTH_DATE),
        ("110105194912310021", idnumber.BAD_CHECK),
    ],
)
def test_problems_have_codes(raw, code):
    assert idnumber.problem(raw) == code


def test_birth_date_in_the_future_is_refused():
    first17 = "11010520300101001"
    value = first17 + idnumber.check_character(first17)
    assert idnumber.problem(value, today=dt.date(2026, 1, 1)) == idnumber.BAD_BIRTH_DATE
    assert idnumber.problem(value, today=dt.date(2031, 1, 1)) is None


def test_sex_from_17th_digit():
    first17 = "11010519900101003"
    assert idnumber.parse(first17 + idnumber.check_character(first17)).sex == "男"


def test_permit_and_foreigner_kinds():
    hk = "81000019900101002"
    assert idnumber.parse(hk + idnumber.check_character(hk)).kind == "hmt_permit"
    foreign = "93105619900101002"
    assert idnumber.parse(foreign + idnumber.check_character(foreign)).kind == "foreign_permanent"


birth_dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2010, 12, 31))


@given(
    region=st.sampled_from(["110105", "620102", "650102", "440304"]),
    birth=birth_dates,
    seq=st.integers(0, 999),
)
def test_any_well_formed_number_validates_and_any_single_digit_change_fails(region, birth, seq):
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    value = first17 + idnumber.check_character(first17)
    assert idnumber.parse(value).birth_date == birth
    # MOD 11-2 catches every single-digit substitution in the sequence part.
    for pos in (14, 15, 16):
        digit = int(value[pos])
        changed = value[:pos] + str((digit + 1) % 10) + value[pos + 1 :]
        assert idnumber.problem(changed) == idnumber.BAD_CHECK


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_invalid(raw):
    try:
        idnumber.parse(raw)
    except idnumber.InvalidIdNumber as exc:
        assert exc.code in idnumber._MESSAGES
