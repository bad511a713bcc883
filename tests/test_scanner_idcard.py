"""The SAM ID-card reader: framing, the text block, and the backend against the
simulated reader on a real pseudo-terminal (with its fault modes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kiosk.config import ScannerConfig
from kiosk.sample import make_id_number, sample_rows
from kiosk.scanner import idcard
from kiosk.scanner.idcard import Frame, FrameError, FrameParser, IdCardReader
from kiosk.scanner.parse import Identifier
from kiosk.scanner.sim import Card, SimulatedSamReader
from kiosk.student import Student
from tests.scanner_util import Events


def student(i: int = 0) -> Student:
    row = sample_rows(i + 1)[i]
    return Student(
        id_number=row[6], student_number=row[3], name=row[4], sex=row[5],
        school_name=row[1], school_code=row[2],
    )  # fmt: skip


# -- framing -------------------------------------------------------------------------


def test_commands_match_the_published_byte_strings() -> None:
    assert idcard.command(idcard.FIND_CARD).hex(" ") == "aa aa aa 96 69 00 03 20 01 22"
    assert idcard.command(idcard.SELECT_CARD).hex(" ") == "aa aa aa 96 69 00 03 20 02 21"
    assert idcard.command(idcard.READ_BASE).hex(" ") == "aa aa aa 96 69 00 03 30 01 32"
    assert idcard.command(idcard.SAM_STATUS).hex(" ") == "aa aa aa 96 69 00 03 11 ff ed"


def test_answers_match_the_published_byte_strings() -> None:
    found = bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")
    none = bytes.fromhex("AAAAAA9669 0004 000080 84")
    assert idcard.answer(0x9F, bytes(4)) == found
    assert idcard.answer(0x80) == none
    (frame,) = FrameParser().feed(found)
    assert isinstance(frame, Frame) and frame.status == 0x9F and frame.data == bytes(4)


def read_answer(text: bytes, photo: bytes = bytes(1024)) -> bytes:
    return idcard.answer(0x90, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + text + photo)


def test_read_answer_is_1295_bytes_and_parses() -> None:
    text = Card.from_student(student()).text()
    raw = read_answer(text)
    assert len(raw) == idcard.READ_ANSWER_SIZE == 1295
    assert raw[5:7] == b"\x05\x08"
    (frame,) = FrameParser().feed(raw)
    assert idcard.parse_read_answer(frame.data).fields["id_number"] == student().id_number


def test_parser_byte_by_byte_and_noise_between_frames() -> None:
    a, b = idcard.answer(0x80), idcard.answer(0x9F, bytes(4))
    stream = b"\x00\xaa\xaa" + a + b"garbage\xaa\xaa\xaa\x96" + b + b"\xaa"
    parser = FrameParser()
    out = [item for byte in stream for item in parser.feed(bytes([byte]))]
    assert [f.status for f in out if isinstance(f, Frame)] == [0x80, 0x9F]
    assert parser.skipped > 0


def test_bad_checksum_is_reported_and_the_next_frame_found() -> None:
    bad = idcard.answer(0x90, b"abc")
    bad = bad[:-1] + bytes([bad[-1] ^ 1])
    out = FrameParser().feed(bad + idcard.answer(0x80))
    assert out[0] == FrameError("checksum")
    assert out[-1].status == 0x80


def test_impossible_length_is_reported_and_skipped() -> None:
    out = FrameParser().feed(idcard.PREAMBLE + b"\xff\xff" + idcard.answer(0x80))
    assert FrameError("length") in out and out[-1].status == 0x80


def test_spurious_preamble_claiming_a_long_frame_does_not_hold_back_a_real_one() -> None:
    out = FrameParser().feed(idcard.PREAMBLE + b"\x05\x08noise" + idcard.answer(0x80))
    assert out and out[-1].status == 0x80  # found now, not after 1288 more bytes


def test_truncated_frame_does_not_hide_the_next_one() -> None:
    cut = read_answer(bytes(256))[:300]
    out = FrameParser().feed(cut + idcard.answer(0x80))
    assert out[-1].status == 0x80


@settings(max_examples=300)
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_arbitrary_bytes_never_raise(data: bytes, cut: int) -> None:
    parser = FrameParser()
    for i in range(0, len(data), cut):
        for item in parser.feed(data[i : i + cut]):
            assert isinstance(item, (Frame, FrameError))
    assert len(parser.buffer) <= max(len(data), 7)


@settings(max_examples=300)
@given(
    st.binary(max_size=200),
    st.binary(max_size=300),
    st.binary(max_size=200),
    st.integers(1, 97),
    st.sampled_from(
        [b"", b"\xaa", b"\xaa\xaa\xaa", b"\xaa\xaa\xaa\x96", idcard.PREAMBLE + b"\x0f\xff"]
    ),
)
def test_valid_frames_in_noise_are_found(
    before: bytes, body: bytes, after: bytes, cut: int, lure: bytes
) -> None:
    assume(idcard.PREAMBLE not in before)
    wanted = idcard.frame(b"\x00\x00\x90" + body)
    stream = before + lure + wanted + after
    parser = FrameParser()
    frames: list[bytes] = []
    for i in range(0, len(stream), cut):
        frames += [f.body for f in parser.feed(stream[i : i + cut]) if isinstance(f, Frame)]
    assert b"\x00\x00\x90" + body in frames


# -- the text block --------------------------------------------------------------


def test_resident_card_fields() -> None:
    card = Card.from_student(student(), valid_to="长期")
    fields = idcard.parse_text(card.text())
    assert fields["card_type"] == "resident"
    assert fields["name"] == student().name
    assert fields["id_number"] == student().id_number
    assert fields["sex"] == student().sex
    assert fields["nation"] == "汉"
    assert fields["valid_to"] == "长期"
    assert fields["birth_date"] == student().id_number[6:14]
    assert "photo" not in fields


def test_fixed_offsets_of_the_resident_block() -> None:
    text = Card.from_student(student()).text()
    assert len(text) == 256
    assert text[0:30].decode("utf-16-le").strip() == student().name
    assert text[122:158].decode("utf-16-le") == student().id_number


@pytest.mark.parametrize(
    ("region", "card_type", "flag"),
    [("810000", "hmt_permit", "J"), ("932682", "foreign_permanent_2023", "Y")],
)
def test_newer_card_types_give_number_and_name(region: str, card_type: str, flag: str) -> None:
    import datetime as dt
    import random

    number = region + make_id_number(random.Random(3), dt.date(1999, 5, 6), True)[6:17]
    from kiosk.idnumber import check_character

    number = number[:17] + check_character(number[:17])
    s = Student(number, "X001", "陈示例", "男", "示例大学", "19999")
    card = Card.from_student(s)
    assert card.card_type == card_type
    text = card.text()
    assert text[248:250].decode("utf-16-le") == flag
    identity = Identifier(ScannerConfig()).identify(idcard_scan(text))
    assert (identity.kind, identity.value, identity.name) == ("id_number", number, "陈示例")
    assert identity.fields["card_type"] == card_type


def test_2017_foreigners_card_number_and_names() -> None:
    card = Card(
        {"name_en": "SAMPLE, ALEX", "name": "示例", "id_number": "CAN110019810803",
         "nationality": "CAN", "sex_code": "1"},
        "foreign_permanent",
    )  # fmt: skip
    fields = idcard.parse_text(card.text())
    assert fields["card_type"] == "foreign_permanent"
    assert (fields["id_number"], fields["name_en"], fields["nationality"]) == (
        "CAN110019810803", "SAMPLE, ALEX", "CAN",
    )  # fmt: skip


@given(st.binary(max_size=300))
def test_any_text_block_parses_without_raising(block: bytes) -> None:
    assert "card_type" in idcard.parse_text(block)


def idcard_scan(text: bytes):
    from kiosk.scanner.base import Scan

    fields = idcard.parse_text(text)
    return Scan(fields["id_number"].encode(), "idcard:test", fields=fields)


# -- the backend against the simulated reader ---------------------------------------


@pytest.fixture
def reader(tmp_path: Path):
    twin = SimulatedSamReader(pace=False, link_dir=tmp_path)
    yield twin
    twin.close()


def backend(port: str, **kw) -> IdCardReader:
    options = {"poll_interval": 0.02, "answer_timeout": 0.15, "reconnect_interval": 0.05}
    return IdCardReader(port, **(options | kw))


@pytest.fixture
def running(reader: SimulatedSamReader):
    got = Events()
    b = backend(reader.port)
    b.start(got)
    got.wait_status("ok")
    yield b, got
    b.stop()


def test_one_scan_per_presentation(reader, running) -> None:
    _backend, got = running
    reader.present(student(0))
    scan = got.wait_scan()
    assert scan.payload == student(0).id_number.encode()
    assert scan.fields["name"] == student(0).name
    polls = len(reader.commands)
    time.sleep(0.25)  # the card lies on the reader for many polls
    assert len(reader.commands) > polls + 5
    assert len(got.scans) == 1
    reader.remove()
    time.sleep(0.08)
    reader.present(student(1))
    mark = len(got.items)
    assert got.wait_scan(after=mark).fields["name"] == student(1).name
    assert len(got.scans) == 2


def test_reader_that_stops_finding_a_read_card(tmp_path: Path) -> None:
    twin = SimulatedSamReader(pace=False, link_dir=tmp_path, refind_after_read=False)
    got = Events()
    b = backend(twin.port)
    b.start(got)
    try:
        twin.present(student(2))
        got.wait_scan()
        time.sleep(0.2)
        assert len(got.scans) == 1
    finally:
        b.stop()
        twin.close()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("bad_checksum", "checksum"),
        ("truncated", "cut short"),
        ("wrong_length", ""),
        ("remove_mid_read", "cut short"),
    ],
)
def test_damaged_read_gives_a_status_then_recovers(reader, running, fault, message) -> None:
    _backend, got = running
    reader.inject(fault)
    reader.present(student(3))
    status = got.wait_status("error")
    assert message in status.message
    if fault == "remove_mid_read":
        assert reader.card is None
        reader.present(student(3))
    scan = got.wait_scan()
    assert scan.fields["id_number"] == student(3).id_number
    got.wait_status("ok", after=got.items.index(status))
    assert len(got.scans) == 1


def test_garbage_between_frames_is_tolerated(reader, running) -> None:
    _backend, got = running
    reader.inject("garbage", times=-1)
    reader.present(student(4))
    assert got.wait_scan().fields["name"] == student(4).name
    assert not [s for s in got.statuses if s.state != "ok"]


def test_silent_reader_is_lost_then_found_again(reader, running) -> None:
    _backend, got = running
    reader.inject("silent", times=-1)
    status = got.wait_status("lost")
    assert "stopped answering" in status.message
    reader.inject(None)
    got.wait_status("ok", after=got.items.index(status))
    reader.present(student(5))
    assert got.wait_scan().fields["name"] == student(5).name


def test_unplugged_reader_reconnects(reader, running) -> None:
    _backend, got = running
    mark = len(got.items)
    reader.unplug()
    got.wait_status("lost", after=mark)
    reader.plug()
    got.wait_status("ok", after=mark)
    reader.present(student(6))
    assert got.wait_scan().fields["name"] == student(6).name


def test_no_reader_on_the_port_is_reported(tmp_path: Path) -> None:
    from kiosk.scanner.sim import SimulatedSerialScanner

    dumb = SimulatedSerialScanner(link_dir=tmp_path)  # a pty where nothing answers
    got = Events()
    b = backend(dumb.port)
    b.start(got)
    try:
        status = got.wait_status("lost")
        assert "no answer from a SAM reader" in status.message
    finally:
        b.stop()
        dumb.close()


def test_paced_read_cycle_takes_its_wire_time(tmp_path: Path) -> None:
    twin = SimulatedSamReader(baud=115200, pace=True, link_dir=tmp_path)
    got = Events()
    b = backend(twin.port, poll_interval=0.01)
    b.start(got)
    try:
        got.wait_status("ok")
        twin.present(student(7))
        started = time.monotonic()
        got.wait_scan()
        elapsed = time.monotonic() - started
        floor = idcard.wire_seconds(idcard.READ_ANSWER_SIZE + 15 + 19 + 30, 115200)
        assert elapsed >= floor * 0.9
    finally:
        b.stop()
        twin.close()


def test_9600_baud_is_configurable(tmp_path: Path) -> None:
    from kiosk.scanner.devices import DeviceSpec, backend_for

    b = backend_for(DeviceSpec.parse("idcard:/dev/ttyUSB0@9600"), ScannerConfig())
    assert isinstance(b, IdCardReader) and b.baud == 9600
    assert backend_for(DeviceSpec.parse("idcard:/dev/ttyUSB0"), ScannerConfig()).baud == 115200


class ScriptedLine:
    """A serial line whose far end says whatever the test scripted (for the
    property test: the real pty path is covered above)."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = list(replies)
        self.pending = b""

    @property
    def in_waiting(self) -> int:
        return len(self.pending)

    def reset_input_buffer(self) -> None:
        self.pending = b""

    def write(self, data: bytes) -> None:
        self.pending += self.replies.pop(0) if self.replies else b""

    def read(self, n: int) -> bytes:
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


reply = st.one_of(
    st.binary(max_size=64),
    st.builds(
        lambda sw, data: idcard.answer(sw, data), st.integers(0, 255), st.binary(max_size=40)
    ),
    st.builds(
        lambda text, cut: read_answer(text)[:cut],
        st.binary(min_size=256, max_size=256),
        st.integers(0, 1400),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(reply, min_size=1, max_size=6))
def test_any_reader_answers_never_raise_out_of_a_poll(replies: list[bytes]) -> None:
    b = IdCardReader("scripted", baud=10_000_000, answer_timeout=0.0005)
    got = Events()
    line = ScriptedLine(replies)
    for _ in range(3):
        outcome = b.poll_once(line, got)
        assert outcome in ("silent", "absent", "present", "read", "failed")
    for scan in got.scans:
        assert isinstance(scan.payload, bytes)
