"""Serial-mode barcode scanners: the line splitter, and the backend on a real pty."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.scanner.serial_line import LineSplitter, SerialLineScanner
from kiosk.scanner.sim import SimulatedSerialScanner
from tests.scanner_util import Events


def test_cr_terminated_lines_split_in_any_chunks() -> None:
    splitter = LineSplitter("cr")
    assert splitter.feed(b"20210", 0.0) == []
    assert splitter.feed(b"007\rB1", 0.01) == [b"20210007"]
    assert splitter.feed(b"\r", 0.02) == [b"B1"]


def test_crlf_and_lf() -> None:
    assert LineSplitter("crlf").feed(b"a\r\nb\r\n", 0) == [b"a", b"b"]
    assert LineSplitter("lf").feed(b"a\nb\n", 0) == [b"a", b"b"]
    # a scanner sending CRLF while CR is configured still gives clean payloads
    assert LineSplitter("cr").feed(b"a\r\nb\r\n", 0) == [b"a", b"b"]


def test_payload_bytes_are_kept_exactly() -> None:
    raw = bytes(range(1, 256)).replace(b"\r", b"")
    assert LineSplitter("cr").feed(raw + b"\r", 0) == [raw]


def test_partial_line_is_dropped_after_the_timeout() -> None:
    splitter = LineSplitter("cr", line_timeout=0.2)
    splitter.feed(b"999", 0.0)
    assert splitter.feed(b"123\r", 1.0) == [b"123"]
    assert splitter.dropped == 1


def test_overlong_line_is_dropped() -> None:
    splitter = LineSplitter("cr", max_line=16)
    assert splitter.feed(b"x" * 40, 0) == []
    assert splitter.feed(b"ok\r", 0) == []  # still the overlong line: its tail is dropped
    assert splitter.feed(b"ok\r", 0) == [b"ok"]


def test_the_tail_of_an_overlong_line_never_becomes_a_scan(caplog) -> None:
    # The hostile review: 1 MB of "A" became a collection code of 8,781 characters.
    splitter = LineSplitter("cr", max_line=16)
    out: list[bytes] = []
    with caplog.at_level("WARNING", logger="kiosk.scanner.serial_line"):
        for _ in range(0, 1000, 7):
            out += splitter.feed(b"A" * 7, 0.0)
        out += splitter.feed(b"AAAA\rnext\r", 0.0)
        out += splitter.feed(b"B" * 40 + b"\rlast\r", 0.0)  # overlong inside one chunk
    assert out == [b"next", b"last"]
    assert len([r for r in caplog.records if "more than 16 bytes" in r.message]) == 2


def test_a_pause_ends_an_overlong_line() -> None:
    splitter = LineSplitter("cr", max_line=16, line_timeout=0.2)
    splitter.feed(b"A" * 40, 0.0)
    assert splitter.feed(b"ok\r", 1.0) == [b"ok"]  # a new scan after the pause


@given(st.lists(st.binary(max_size=50), max_size=30))
def test_arbitrary_bytes_never_raise(chunks: list[bytes]) -> None:
    splitter = LineSplitter("crlf")
    for i, chunk in enumerate(chunks):
        for line in splitter.feed(chunk, i * 0.01):
            assert b"\r\n" not in line and line


@given(st.lists(st.binary(min_size=1, max_size=40).filter(lambda b: b"\r" not in b), max_size=8),
       st.integers(1, 7))  # fmt: skip
def test_lines_survive_any_chunking(lines: list[bytes], cut: int) -> None:
    stream = b"".join(line + b"\r" for line in lines)
    splitter = LineSplitter("cr")
    out: list[bytes] = []
    for i in range(0, len(stream), cut):
        out += splitter.feed(stream[i : i + cut], 0.0)
    assert out == [line.lstrip(b"\n") for line in lines if line.lstrip(b"\n")]


# -- the backend on a pseudo-terminal ----------------------------------------------


@pytest.fixture
def scanner(tmp_path: Path):
    twin = SimulatedSerialScanner(link_dir=tmp_path)
    yield twin
    twin.close()


def test_backend_reads_scans_from_the_pty(scanner: SimulatedSerialScanner) -> None:
    backend = SerialLineScanner(scanner.port, baud=9600, reconnect_interval=0.05)
    got = Events()
    backend.start(got)
    try:
        got.wait_status("ok")
        scanner.scan("0020210007")
        scan = got.wait_scan()
        assert scan.payload == b"0020210007"
        assert scan.source == f"serial:{scanner.port}"
        code = b"https://example.chsi.com.cn/c?x=Zm9vYmFy/+=" + bytes([0xE4, 0xB8, 0xAD])
        mark = len(got.items)
        scanner.scan(code)
        assert got.wait_scan(after=mark).payload == code
    finally:
        backend.stop()


def test_a_megabyte_line_on_the_pty_gives_no_scan(scanner, caplog) -> None:
    backend = SerialLineScanner(scanner.port, baud=9600, reconnect_interval=0.05)
    got = Events()
    with caplog.at_level("WARNING", logger="kiosk.scanner.serial_line"):
        backend.start(got)
        try:
            got.wait_status("ok")
            mark = len(got.items)
            scanner.scan(b"A" * (1 << 20))
            scanner.scan("0020210007")
            assert got.wait_scan(after=mark).payload == b"0020210007"
            time.sleep(0.1)
            scans = [e for e in got.items[mark:] if hasattr(e, "payload")]
            assert [s.payload for s in scans] == [b"0020210007"]
        finally:
            backend.stop()
    assert len([r for r in caplog.records if "discarded up to its end" in r.message]) == 1


def test_backend_reconnects_after_unplug(scanner: SimulatedSerialScanner) -> None:
    backend = SerialLineScanner(scanner.port, reconnect_interval=0.05)
    got = Events()
    backend.start(got)
    try:
        got.wait_status("ok")
        mark = len(got.items)
        scanner.unplug()
        got.wait_status("lost", after=mark)
        time.sleep(0.2)  # a few failed reopen attempts
        scanner.plug()
        got.wait_status("ok", after=mark)
        scanner.scan("A17")
        assert got.wait_scan(after=mark).payload == b"A17"
    finally:
        backend.stop()


def test_missing_port_is_a_status_not_an_exception(tmp_path: Path) -> None:
    backend = SerialLineScanner(str(tmp_path / "ttyNOPE"), reconnect_interval=0.05)
    got = Events()
    backend.start(got)
    try:
        status = got.wait_status("lost")
        assert "ttyNOPE" in status.message
        time.sleep(0.2)
        assert len(got.statuses) == 1  # announced once while polling
    finally:
        backend.stop()


def test_a_raising_event_handler_does_not_stop_the_backend(
    scanner: SimulatedSerialScanner,
) -> None:
    got = Events()

    def handler(event: object) -> None:
        got(event)
        if len(got.scans) == 1:
            raise RuntimeError("station bug")

    backend = SerialLineScanner(scanner.port, reconnect_interval=0.05)
    backend.start(handler)
    try:
        got.wait_status("ok")
        scanner.scan("first")
        got.wait_scan()
        scanner.scan("second")
        got.wait_for(lambda e: getattr(e, "payload", None) == b"second")
    finally:
        backend.stop()
