"""Payload -> Identity: ID numbers, 学号 by school patterns, collection codes."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.config import ConfigError, ScannerConfig, from_dict
from kiosk.sample import sample_rows
from kiosk.scanner.base import Scan
from kiosk.scanner.parse import Identifier

ID = sample_rows(1)[0][6]  # a made-up, valid ID number


def identify(payload: bytes, config: ScannerConfig | None = None, **fields: str):
    return Identifier(config or ScannerConfig()).identify(Scan(payload, "test", fields=fields))


def test_id_number_is_normalised_and_validated() -> None:
    spelled = ID[:6] + " " + ID[6:-1] + ID[-1].lower()
    identity = identify(spelled.encode())
    assert identity.kind == "id_number"
    assert identity.value == ID.upper()
    assert identity.raw == spelled.encode()


def test_full_width_id_number_from_a_chinese_input_method() -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) for c in ID)
    assert identify(wide.encode()).value == ID


def test_id_number_with_wrong_check_character_is_not_an_id_number() -> None:
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    identity = identify(wrong.encode(), ScannerConfig(payload_patterns=()))
    assert identity.kind == "unrecognised"


def test_student_number_keeps_leading_zeros_and_letters() -> None:
    assert identify(b"0020210007").value == "0020210007"
    identity = identify(b"B20210007x")
    assert identity.kind == "student_number"
    assert identity.value == "B20210007x"


def test_school_pattern_strips_a_card_prefix_in_order() -> None:
    config = ScannerConfig(
        payload_patterns=(
            r"XSZ(?P<student_number>\d{10})",
            r"https://card\.example\.edu\.cn/\?sno=(?P<student_number>[0-9A-Z]+)&.*",
            r"(?P<student_number>\d{8,12})",
        )
    )
    first = identify(b"XSZ2021000007", config)
    assert (first.kind, first.value, first.fields["rule"]) == ("student_number", "2021000007", "0")
    second = identify(b"https://card.example.edu.cn/?sno=00A17&t=9", config)
    assert (second.value, second.fields["rule"]) == ("00A17", "1")
    assert identify(b"YZ2021", config).kind == "unrecognised"


def test_pattern_with_an_id_number_group_still_checks_the_number() -> None:
    config = ScannerConfig(
        payload_patterns=(r"SFZ:(?P<id_number>.{18})", r"(?P<student_number>SFZ:.*)")
    )
    assert identify(f"SFZ:{ID}".encode(), config).value == ID
    bad = identify(b"SFZ:123456789012345678", config)
    assert bad.kind == "student_number"  # the first rule's number failed; the next rule won


def test_collection_code_is_kept_byte_exact() -> None:
    code = b"QzE3NjQ2Mjk4MTI0NTY3ODkwYWJjZGVmZ2hpams1MjM0NTY3ODkwMTIzNDU2Nzg5MA=="
    identity = identify(code + b"\r\n".strip())
    assert identity.kind == "collection_code"
    assert identity.raw == code
    assert identity.value == code.decode()


def test_collection_code_pattern_is_configurable() -> None:
    config = ScannerConfig(collection_code_pattern=r"CJM-[0-9A-F]{16}")
    assert identify(b"CJM-00FF00FF00FF00FF", config).kind == "collection_code"
    assert identify(b"CJM-00FF", config).kind == "unrecognised"  # too short, and not a 学号


def test_undecodable_bytes_are_unrecognised_not_an_error() -> None:
    raw = b"\xff\xfe\x00garbage\x80"
    identity = identify(raw)
    assert identity.kind == "unrecognised"
    assert identity.raw == raw


def test_gb18030_text_from_a_serial_scanner() -> None:
    identity = identify("学号：示例".encode("gb18030"))
    assert identity.kind == "unrecognised"
    assert identity.value == "学号：示例"


def test_id_card_scan_gives_the_name_and_fields() -> None:
    identity = identify(ID.encode(), id_number=ID, name="张三", card_type="resident")
    assert (identity.kind, identity.value, identity.name) == ("id_number", ID, "张三")
    assert identity.fields["card_type"] == "resident"


def test_old_foreigners_card_number_is_unrecognised_with_a_reason() -> None:
    identity = identify(
        b"CAN110019810803", id_number="CAN110019810803", name_en="SMITH, JOHN",
        card_type="foreign_permanent",
    )  # fmt: skip
    assert identity.kind == "unrecognised"
    assert identity.name == "SMITH, JOHN"
    assert "18-character" in identity.fields["problem"]


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (("(?P<student_number>[0-9]",), "not a valid regular expression"),
        ((r"\d+",), "needs exactly one named group"),
        ((r"(?P<student_number>\d+)(?P<id_number>X)",), "needs exactly one named group"),
    ],
)
def test_bad_patterns_are_config_errors_naming_the_key(
    patterns: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=r"scanner\.payload_patterns\[0\].*" + message):
        Identifier(ScannerConfig(payload_patterns=patterns))


def test_patterns_come_from_the_toml_config() -> None:
    config = from_dict({"scanner": {"payload_patterns": [r"NO\.(?P<student_number>\d+)"]}})
    assert identify(b"NO.0042", config.scanner).value == "0042"
    with pytest.raises(ConfigError, match=r"scanner\.idcard_baud"):
        from_dict({"scanner": {"idcard_baud": 300}})


def test_config_is_frozen_and_has_the_documented_defaults() -> None:
    config = ScannerConfig()
    assert config.idcard_baud == 115200
    assert config.hid_terminator == "enter"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.idcard_baud = 9600  # type: ignore[misc]
