"""Barcode scanners in serial mode (CDC-ACM / virtual COM) through pyserial.

In serial mode the scanner writes the payload bytes followed by its suffix
(CR by default, LF or CRLF when configured). Unlike the keyboard wedge this
passes any byte, so a QR collection code arrives byte-exact and Chinese text
arrives in whatever encoding the scanner uses.

:class:`LineSplitter` is the pure part: bytes in, payloads out, with the
configured terminator, a cap on line length and a timeout that drops a partial
line (a scan cut short by an unplug must not glue onto the next one).
:class:`SerialLineScanner` owns the port and reconnects when the device goes
away (an unplugged CDC-ACM device makes reads fail; ``/dev/serial/by-id``
names come back when it is replugged).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Literal

from kiosk.scanner.base import DeviceStatus, Event, Scan
from kiosk.scanner.emit import ThreadedBackend

log = logging.getLogger(__name__)

TERMINATORS: dict[str, bytes] = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}
MAX_LINE = 8192  # bytes; the biggest QR code holds ~3 KB


class LineSplitter:
    """Bytes -> payloads split at the terminator. ``feed`` never raises.

    A line longer than ``max_line`` is garbage (a scanner in the wrong mode,
    line noise, a hostile device): everything up to its terminator is
    discarded, so its tail never becomes a scan, and it is logged once.
    """

    def __init__(
        self,
        terminator: Literal["cr", "lf", "crlf"] = "cr",
        line_timeout: float = 0.5,
        max_line: int = MAX_LINE,
    ) -> None:
        self.terminator = TERMINATORS[terminator]
        self.line_timeout = line_timeout
        self.max_line = max_line
        self.buffer = bytearray()
        self.last_byte_at: float | None = None
        self.dropped = 0
        self.discarding = False  # inside an overlong line: skip to its terminator

    def expire(self, now: float) -> bool:
        if self.last_byte_at is None or now - self.last_byte_at <= self.line_timeout:
            return False
        had = bool(self.buffer)
        self.buffer.clear()
        self.last_byte_at = None
        self.dropped += had
        self.discarding = False  # a pause ends a line, even an overlong one
        return had

    def feed(self, data: bytes, now: float) -> list[bytes]:
        if not data:
            return []
        self.expire(now)
        self.last_byte_at = now
        self.buffer += data
        lines: list[bytes] = []
        while True:
            at = self.buffer.find(self.terminator)
            if at < 0:
                break
            line = bytes(self.buffer[:at])
            del self.buffer[: at + len(self.terminator)]
            if self.discarding:
                self.discarding = False  # the overlong line's tail ends here
                continue
            if len(line) > self.max_line:
                self._overlong(len(line))
                self.discarding = False
                continue
            if self.terminator == b"\r" and line.startswith(b"\n"):
                line = line[1:]  # a scanner set to CRLF while we expect CR
            if line:
                lines.append(line)
        if len(self.buffer) > self.max_line:
            if not self.discarding:
                self._overlong(len(self.buffer))
                self.discarding = True
            self.buffer.clear()
        if not self.buffer and not self.discarding:
            self.last_byte_at = None
        return lines

    def _overlong(self, length: int) -> None:
        self.dropped += 1
        log.warning(
            "scanner sent a line of more than %d bytes (%d so far); discarded up to its end",
            self.max_line,
            length,
        )


class SerialLineScanner(ThreadedBackend):
    """ScannerBackend for a barcode scanner on a serial port."""

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        terminator: Literal["cr", "lf", "crlf"] = "cr",
        line_timeout: float = 0.5,
        reconnect_interval: float = 1.0,
    ) -> None:
        self.port = port
        self.baud = baud
        self.source = f"serial:{port}"
        self.splitter = LineSplitter(terminator, line_timeout)
        self.reconnect_interval = reconnect_interval
        self.last_byte_at = 0.0  # perf_counter() of the last read that returned bytes
        super().__init__()

    def _run(self, emit: Callable[[Event], None]) -> None:
        import serial

        announced = False
        while not self._stop.is_set():
            try:
                port = serial.Serial(self.port, self.baud, timeout=0.05)
            except (serial.SerialException, OSError, ValueError) as exc:
                if not announced:
                    emit(DeviceStatus(self.source, "lost", f"cannot open {self.port}: {exc}"))
                    announced = True
                self._stop.wait(self.reconnect_interval)
                continue
            announced = False
            emit(DeviceStatus(self.source, "ok", f"{self.port} open at {self.baud} baud"))
            try:
                self._serve(port, emit)
            except (serial.SerialException, OSError) as exc:
                emit(DeviceStatus(self.source, "lost", f"{self.port} went away ({exc})"))
                announced = True
            except Exception as exc:  # a bug must not stop the station
                log.exception("%s: unexpected error", self.source)
                emit(DeviceStatus(self.source, "error", f"unexpected error: {exc}"))
            finally:
                with contextlib.suppress(Exception):
                    port.close()
            self.splitter.buffer.clear()
            if not self._stop.is_set():
                self._stop.wait(self.reconnect_interval)

    def _serve(self, port: object, emit: Callable[[Event], None]) -> None:
        while not self._stop.is_set():
            data = port.read(max(1, port.in_waiting))  # type: ignore[attr-defined]
            now = time.monotonic()
            if not data:
                self.splitter.expire(now)
                continue
            self.last_byte_at = time.perf_counter()
            for line in self.splitter.feed(data, now):
                emit(Scan(line, self.source))
