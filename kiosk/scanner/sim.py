"""Simulated twins of the scanners, driving the real backends' code paths.

- :class:`SimulatedSamReader`: a SAM ID-card reader on the far end of a real
  pseudo-terminal. The :class:`~kiosk.scanner.idcard.IdCardReader` opens the
  pty's slave path with pyserial exactly as it opens /dev/ttyUSB0. Cards are
  built from roster rows; fault modes cover what real readers and cables do.
  Its answers are paced at the configured baud rate (10 bits a byte), so a
  read cycle takes as long as on the wire.
- :class:`SimulatedSerialScanner`: a barcode scanner in serial mode on a pty.
- :class:`SimulatedKeyboard`: a USB-HID wedge scanner. It hands the
  :class:`~kiosk.scanner.hid.HidScanner` real ``evdev.InputEvent`` objects
  through a pollable file descriptor, the way an evdev node does; where
  /dev/uinput exists the tests also drive a real kernel device.

Unplugging: the serial twins sit behind a symlink (like /dev/serial/by-id);
``unplug()`` closes the pty and removes the link, ``replug()`` makes a new pty
and points the link at it, so the backend's reconnect loop is exercised for
real.

Driving them from Python (the demo and the station's tests)::

    reader = SimulatedSamReader()            # 115200 baud, paced
    backend = IdCardReader(reader.port, poll_interval=0.05)
    backend.start(events.append)
    reader.present(Card.from_student(student))   # -> one Scan with the fields
    reader.remove()
    ...
    backend.stop(); reader.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import random
import select
import tempfile
import threading
import time
import tty
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kiosk import idnumber
from kiosk.scanner import idcard
from kiosk.scanner.hid import HidSelector, keystrokes

if TYPE_CHECKING:
    from kiosk.student import Student


# -- pseudo-terminal plumbing -----------------------------------------------


class _Pty:
    """A pty pair; the slave stays open here so the master never sees EIO."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.slave_path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class _SerialTwin:
    """What both serial twins share: a pty behind a stable symlink."""

    def __init__(self, link_dir: Path | str | None, link_name: str) -> None:
        self._own_dir = None
        if link_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="kiosk-sim-")
            link_dir = self._own_dir.name
        self.port = str(Path(link_dir) / link_name)
        self.pty: _Pty | None = None
        self.lock = threading.RLock()
        self.plug()

    def plug(self) -> None:
        with self.lock:
            self.pty = _Pty()
            tmp = self.port + ".new"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.pty.slave_path, tmp)
            os.replace(tmp, self.port)

    def unplug(self) -> None:
        """The device goes away: the pty closes and the by-id link disappears."""
        with self.lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.port)
            if self.pty is not None:
                self.pty.close()
                self.pty = None

    def replug(self) -> None:
        self.unplug()
        self.plug()

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.pty is None:
                return
            view = memoryview(data)
            while view:
                try:
                    sent = os.write(self.pty.master, view)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                except OSError as exc:
                    if exc.errno in (errno.EIO, errno.EBADF):
                        return
                    raise
                view = view[sent:]

    def close(self) -> None:
        self.unplug()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None


class SimulatedSerialScanner(_SerialTwin):
    """A barcode scanner in serial mode. ``scan(text)`` sends text + suffix."""

    def __init__(
        self,
        link_dir: Path | str | None = None,
        terminator: bytes = b"\r",
        link_name: str = "scanner-serial",
    ) -> None:
        self.terminator = terminator
        super().__init__(link_dir, link_name)

    def scan(self, payload: str | bytes) -> None:
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        self.write(data + self.terminator)


# -- the SAM reader twin -------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """What a card's chip holds (made up; built from a roster row)."""

    fields: dict[str, str]
    card_type: idcard.CardType = "resident"

    @classmethod
    def from_student(cls, student: Student, **overrides: str) -> Card:
        number = student.id_number or ""
        kind: idcard.CardType = "resident"
        birth = ""
        try:
            parsed = idnumber.parse(number)
        except idnumber.InvalidIdNumber:
            parsed = None
        if parsed is not None:
            birth = f"{parsed.birth_date:%Y%m%d}"
            kinds: dict[str, idcard.CardType] = {
                "resident": "resident",
                "hmt_permit": "hmt_permit",
                "foreign_permanent": "foreign_permanent_2023",
            }
            kind = kinds[parsed.kind]
        issued = dt.date(2020, 9, 1)
        fields = {
            "name": student.name,
            "name_en": "SAMPLE, STUDENT",
            "sex_code": {"男": "1", "女": "2"}.get(student.sex, "0"),
            "nation_code": "01",
            "birth_date": birth,
            "address": "示例省示例市示例区示例路1号",
            "id_number": number,
            "authority": "示例市公安局示例分局",
            "valid_from": f"{issued:%Y%m%d}",
            "valid_to": f"{issued.replace(year=issued.year + 10):%Y%m%d}",
            "pass_number": "H00000000",
            "issue_count": "01",
        }
        fields.update(overrides)
        return cls(fields, kind)

    def text(self) -> bytes:
        return idcard.build_text(self.fields, self.card_type)


Fault = Literal[
    "bad_checksum",  # the read answer's checksum byte is wrong
    "truncated",  # the read answer stops half-way
    "wrong_length",  # the read answer's length field is wrong
    "remove_mid_read",  # the card leaves the field during the read answer
    "garbage",  # noise bytes before every answer
    "silent",  # the reader stops answering
]


class SimulatedSamReader(_SerialTwin):
    """The SAM reader on a pty; see the module docstring.

    ``refind_after_read``: real readers differ after a read while the card
    still lies there; some answer "no card" until it is lifted, some find it
    again. The default (find again) is the case the backend must deduplicate.
    """

    def __init__(
        self,
        baud: int = 115200,
        *,
        pace: bool = True,
        link_dir: Path | str | None = None,
        link_name: str = "idcard-reader",
        refind_after_read: bool = True,
        seed: int = 1,
    ) -> None:
        self.baud = baud
        self.pace = pace
        self.refind_after_read = refind_after_read
        self.card: Card | None = None
        self.read_done = False
        self.fault: Fault | None = None
        self.fault_times = 0  # how many more answers the fault applies to (-1: always)
        self.commands: list[tuple[int, int]] = []
        self.bytes_out = 0
        self.bytes_in = 0
        self.last_write_at = 0.0  # perf_counter() when the last answer's last byte was written
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        super().__init__(link_dir, link_name)
        self._thread = threading.Thread(target=self._serve, name="sim-sam-reader", daemon=True)
        self._thread.start()

    # -- driving it
    def present(self, card: Card | Student) -> None:
        """Lay a card on the reader (a roster Student is turned into a Card)."""
        self.card = card if isinstance(card, Card) else Card.from_student(card)
        self.read_done = False

    def remove(self) -> None:
        self.card = None
        self.read_done = False

    def inject(self, fault: Fault | None, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` answers it concerns (-1: until cleared)."""
        self.fault = fault
        self.fault_times = times

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        super().close()

    # -- the reader's side of the protocol
    def _serve(self) -> None:
        parser = idcard.FrameParser()
        while not self._stop.is_set():
            with self.lock:
                fd = self.pty.master if self.pty else None
            if fd is None:
                self._stop.wait(0.02)
                parser = idcard.FrameParser()
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.02)
                if not ready:
                    continue
                data = os.read(fd, 4096)
            except (OSError, ValueError):
                self._stop.wait(0.02)
                continue
            self.bytes_in += len(data)
            for item in parser.feed(data):
                if isinstance(item, idcard.FrameError):
                    self._send(idcard.answer(0x10 if item.reason == "checksum" else 0x11), 10)
                    continue
                self._answer(item.body)

    def _fault_applies(self, kinds: tuple[str, ...]) -> bool:
        if self.fault not in kinds or self.fault_times == 0:
            return False
        if self.fault_times > 0:
            self.fault_times -= 1
        return True

    def _answer(self, body: bytes) -> None:
        cmd = (body[0], body[1]) if len(body) >= 2 else (0, 0)
        self.commands.append(cmd)
        if self._fault_applies(("silent",)):
            return
        card = self.card
        reply: bytes | None
        if cmd == idcard.SAM_STATUS:
            reply = idcard.answer(idcard.SW_OK)
        elif cmd == idcard.FIND_CARD:
            present = card is not None and (self.refind_after_read or not self.read_done)
            reply = idcard.answer(idcard.SW_FOUND, bytes(4)) if present else idcard.answer(0x80)
        elif cmd == idcard.SELECT_CARD:
            reply = idcard.answer(idcard.SW_OK, bytes(8)) if card else idcard.answer(0x81)
        elif cmd == idcard.READ_BASE:
            if card is None:
                reply = idcard.answer(idcard.SW_READ_FAILED)
            else:
                photo = bytes(self._rng.randrange(256) for _ in range(idcard.PHOTO_SIZE))
                data = (
                    idcard.TEXT_SIZE.to_bytes(2, "big")
                    + idcard.PHOTO_SIZE.to_bytes(2, "big")
                    + card.text()
                    + photo
                )
                reply = idcard.answer(idcard.SW_OK, data)
                reply = self._damage(reply)
                if reply is not None:
                    self.read_done = True
        else:
            reply = idcard.answer(0x21)
        if reply is not None:
            self._send(reply, len(body) + 8)

    def _damage(self, reply: bytes) -> bytes | None:
        """Apply a read-answer fault; None when the card left mid-read."""
        if self._fault_applies(("bad_checksum",)):
            return reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if self._fault_applies(("truncated",)):
            return reply[: len(reply) // 2]
        if self._fault_applies(("wrong_length",)):
            length = int.from_bytes(reply[5:7], "big") + 7
            return reply[:5] + length.to_bytes(2, "big") + reply[7:]
        if self._fault_applies(("remove_mid_read",)):
            self._send(reply[: len(reply) * 2 // 5], 10)
            self.card = None
            return None
        return reply

    def _send(self, reply: bytes, inbound: int) -> None:
        """Write an answer, paced at the baud rate after the command's own wire time."""
        if self._fault_applies(("garbage",)):
            noise = bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(1, 24)))
            reply = noise + b"\xaa\xaa" + reply
        if not self.pace:
            self.write(reply)
            self.last_write_at = time.perf_counter()
            self.bytes_out += len(reply)
            return
        byte_time = 10 / self.baud
        start = time.perf_counter() + inbound * byte_time
        chunk = 32
        for i in range(0, len(reply), chunk):
            due = start + i * byte_time
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.write(reply[i : i + chunk])
        self.last_write_at = time.perf_counter()
        # the last chunk is on the wire until its last bit has left
        tail = start + len(reply) * byte_time - time.perf_counter()
        if tail > 0:
            time.sleep(tail)
        self.bytes_out += len(reply)


# -- the HID twin -----------------------------------------------------------------


class SimulatedKeyboard:
    """A wedge scanner as the HidScanner sees an evdev node.

    ``read()`` returns real ``evdev.InputEvent`` objects with SYN reports
    between keys, ``fileno()`` is a pipe that select() sees readable when
    events are queued, ``grab()`` is recorded. ``unplug()`` makes the next
    read fail with ENODEV and hides the device until ``replug()``.
    """

    def __init__(
        self,
        name: str = "Simulated Barcode Scanner",
        path: str = "/dev/input/by-id/usb-Simulated_Barcode_Scanner-event-kbd",
        key_interval: float = 0.002,
    ) -> None:
        self.name = name
        self.path = path
        self.key_interval = key_interval
        self.grabbed = False
        self.grabs = 0
        self.plugged = True
        self._events: list[Any] = []
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._dead = False

    # the opener the HidScanner calls
    def open(self, selector: HidSelector) -> SimulatedKeyboard | None:
        if not self.plugged:
            return None
        if selector.path and selector.path != self.path:
            return None
        if selector.name and selector.name.lower() not in self.name.lower():
            return None
        self._dead = False
        return self

    def scan(self, text: str, terminator: Literal["enter", "tab"] = "enter") -> None:
        """Type ``text`` and the terminator, as a scanner does."""
        self.send(keystrokes(text, terminator))

    def send(self, pairs: list[tuple[int, int]], start: float | None = None) -> None:
        """Queue key (code, value) pairs with a SYN report after each."""
        from evdev import InputEvent, ecodes

        at = time.time() if start is None else start
        events = []
        for i, (code, value) in enumerate(pairs):
            t = at + i * self.key_interval
            sec, usec = int(t), int((t - int(t)) * 1_000_000)
            events.append(InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code))
            events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, value))
            events.append(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        with self._lock:
            self._events.extend(events)
        os.write(self._write_fd, b"x")

    def unplug(self) -> None:
        self.plugged = False
        self._dead = True
        os.write(self._write_fd, b"x")

    def replug(self) -> None:
        self.plugged = True

    # InputDeviceLike
    def fileno(self) -> int:
        return self._read_fd

    def read(self) -> list[Any]:
        with contextlib.suppress(BlockingIOError):
            os.read(self._read_fd, 4096)
        if self._dead:
            raise OSError(errno.ENODEV, "No such device")
        with self._lock:
            events, self._events = self._events, []
        if not events:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return events

    def grab(self) -> None:
        self.grabbed = True
        self.grabs += 1

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        pass

    def destroy(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Simulation:
    """The twins the demo runs when no scanner is configured."""

    reader: SimulatedSamReader
    barcode: SimulatedSerialScanner
    keyboard: SimulatedKeyboard
    backends: list[Any] = field(default_factory=list)

    def drive(self, students: Sequence[Student], interval: float = 0.7) -> threading.Event:
        """Scan ``students`` on the twins in turn, until the returned event is set.

        Each student shows up a different way, one after another: an ID card
        laid on the reader, a 学号 barcode on the serial scanner, a 学号 typed by
        the USB-HID keyboard scanner (``kiosk scan`` with no device configured).
        """
        stop = threading.Event()

        def run() -> None:
            turn = 0
            while not stop.wait(interval):
                student = students[turn % len(students)]
                way = turn % 3
                if way == 0:
                    self.reader.present(student)
                elif way == 1:
                    self.reader.remove()
                    self.barcode.scan(student.student_number)
                else:
                    self.keyboard.scan(student.student_number)
                turn += 1

        threading.Thread(target=run, name="scan-demo", daemon=True).start()
        return stop

    def close(self) -> None:
        for backend in self.backends:
            backend.stop()
        self.reader.close()
        self.barcode.close()
        self.keyboard.destroy()
