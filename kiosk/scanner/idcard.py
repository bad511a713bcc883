"""The SAM ID-card reader: second-generation resident ID cards over a serial line.

The reader is a SAM (security access module) behind a USB-serial bridge,
115200 8N1 by default (some are strapped to 9600). It speaks one framing in
both directions::

    AA AA AA 96 69 | LEN1 LEN2 | body ... | CHK
    command body:  CMD PARA [data]
    answer body:   SW1 SW2 SW3 [data]

LEN (big-endian) counts the body plus the checksum byte; CHK is the XOR of
LEN1, LEN2 and the body. SW3 is the status (0x90 success, 0x9F card found,
0x80 no card, 0x81 select failed, 0x41 read failed, 0x10/0x11 the reader got a
bad checksum/length from us, …; :data:`STATUS`).

One read is three commands: find card (20 01), select card (20 02), read base
text+photo (30 01). The read answer carries two big-endian lengths (text 256,
photo 1024), a 256-byte text block in UCS-2 little-endian with fixed-width,
space-padded fields, and the photo in the vendor's encrypted wavelet format
(skipped here: the kiosk takes its own photo). The whole answer is 1295 bytes,
~0.11 s on the wire at 115200 baud.

Text block layouts (byte offsets; :data:`LAYOUTS`):

- resident card: name 30, sex code 2, nation code 4, birth 16 (YYYYMMDD),
  address 70, ID number 36, issuing authority 30, valid from 16, valid to 16
  (a date or 长期), reserved 36;
- Hong Kong/Macau/Taiwan residence permit (type 'J' at offset 248): as the
  resident card, but the nation field is reserved and the tail holds the
  pass number 18 and the issue count 4;
- foreigners' permanent residence card, 2017 version (type 'I'): English name
  120, sex 2, a 15-character card number 30, nationality code 6, Chinese name
  30, valid from 16, valid to 16, birth 16, version 4, authority code 8;
- the 2023 foreigners' card (type 'Y') carries an 18-character number that
  validates like a resident ID number (first digit 9, then province and the
  3-digit country code, so no separate nationality field). No public source
  we found gives its byte layout; we read it as the 'I' layout with the 36
  bytes of number (15 characters) + nationality (3) holding the 18-character
  number, which keeps every other field at its 'I' offset. The scan is
  flagged ``layout=provisional`` until a real card confirms it.

Sources read for the layout (public implementations; no code copied):

- ``hev-dbus-object-idcard-reader.c`` by Heiher (a D-Bus service for these
  readers; command bytes 11 FF / 20 01 / 20 02 / 30 01, text field widths,
  the 56-entry nation code table), found through the code search, which did
  not name its repository;
- waitingsong/node-idcard-reader, ``README.md`` (field list, 长期 as the end
  date, a card must leave the field before it is found again);
- yechangpeng/Paperless, ``XXbgService/XXbgService/Centerm/IDCardDef.h``
  (foreigners' card field widths: English name 120, number 30, nationality 6,
  version 4, authority code 8, type flag 2);
- Android/Java reader samples that document the frame (``Preamble | Len1 |
  Len2 | SW1 | SW2 | SW3 | Data | CHK_SUM``, CHK = XOR of all but preamble
  and checksum) and the answers ``AA AA AA 96 69 00 08 00 00 9F 00 00 00 00
  97`` (card found) and ``… 00 04 00 00 80 84`` (no card), and a Qt sample
  documenting ``05 08 00 00 90 01 00 04 00 + 256 + 1024 + CHK`` and the
  300 ms polling advice (found through the code search; their repositories
  were not named by the index);
- vendor C headers of the HK/Macau/Taiwan permit text structure (pass number
  18, issue count 4, reserved 6, type flag 2, reserved 6).

The pure parts (framing, text block) are separate from :class:`IdCardReader`,
which polls the reader on its own thread and emits one Scan per card
presentation, plus DeviceStatus events when the reader goes away or a read
fails.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.scanner.base import DeviceStatus, Event, Scan
from kiosk.scanner.emit import ThreadedBackend

log = logging.getLogger(__name__)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MAX_LENGTH = 4096  # the longest answer (text + photo + fingerprints) is 2321

# Commands: (CMD, PARA).
SAM_STATUS = (0x11, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE = (0x30, 0x01)

# SW3 status codes -> what they mean for the crew.
SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81
SW_READ_FAILED = 0x41
STATUS: dict[int, str] = {
    0x90: "success",
    0x9F: "card found",
    0x80: "no card on the reader",
    0x81: "select card failed (hold the card still on the reader)",
    0x41: "read card failed (hold the card still on the reader)",
    0x10: "the reader received a bad checksum from the kiosk (line noise)",
    0x11: "the reader received a bad length from the kiosk (line noise)",
    0x21: "the reader does not know this command",
    0x23: "operation not allowed by the reader",
    0x24: "the reader reports an unknown error",
    0x31: "card authentication of the SAM failed",
    0x32: "SAM authentication of the card failed",
    0x33: "card data failed verification",
    0x40: "not an ID card (unknown card type)",
    0x60: "the SAM module failed its self-test; power-cycle the reader",
    0x66: "the SAM module is not authorised",
    0x91: "the card has no such data",
}

CardType = Literal["resident", "hmt_permit", "foreign_permanent", "foreign_permanent_2023"]
_TYPE_FLAGS: dict[str, CardType] = {
    "J": "hmt_permit",
    "I": "foreign_permanent",
    "Y": "foreign_permanent_2023",
}
_FLAG_FOR_TYPE = {v: k for k, v in _TYPE_FLAGS.items()}
TYPE_FLAG_OFFSET = 248  # byte offset of the type flag character in the text block
TEXT_SIZE = 256
PHOTO_SIZE = 1024

# Field name, width in bytes. A leading underscore marks a reserved field.
Layout = tuple[tuple[str, int], ...]
_RESIDENT: Layout = (
    ("name", 30), ("sex_code", 2), ("nation_code", 4), ("birth_date", 16),
    ("address", 70), ("id_number", 36), ("authority", 30), ("valid_from", 16),
    ("valid_to", 16), ("_reserved", 36),
)  # fmt: skip
_HMT: Layout = (
    ("name", 30), ("sex_code", 2), ("_reserved1", 4), ("birth_date", 16),
    ("address", 70), ("id_number", 36), ("authority", 30), ("valid_from", 16),
    ("valid_to", 16), ("pass_number", 18), ("issue_count", 4), ("_reserved2", 6),
    ("_type", 2), ("_reserved3", 6),
)  # fmt: skip
_FOREIGN: Layout = (
    ("name_en", 120), ("sex_code", 2), ("id_number", 30), ("nationality", 6),
    ("name", 30), ("valid_from", 16), ("valid_to", 16), ("birth_date", 16),
    ("card_version", 4), ("authority_code", 8), ("_type", 2), ("_reserved", 6),
)  # fmt: skip
_FOREIGN_2023: Layout = (
    ("name_en", 120), ("sex_code", 2), ("id_number", 36), ("name", 30),
    ("valid_from", 16), ("valid_to", 16), ("birth_date", 16), ("card_version", 4),
    ("authority_code", 8), ("_type", 2), ("_reserved", 6),
)  # fmt: skip
LAYOUTS: dict[CardType, Layout] = {
    "resident": _RESIDENT,
    "hmt_permit": _HMT,
    "foreign_permanent": _FOREIGN,
    "foreign_permanent_2023": _FOREIGN_2023,
}
for _layout in LAYOUTS.values():
    assert sum(width for _, width in _layout) == TEXT_SIZE

SEX = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
# GB/T 3304 nation codes 01-56 (97 other, 98 naturalised).
NATIONS = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
]
NATION_NAMES = {f"{i:02d}": n for i, n in enumerate(NATIONS, start=1)} | {
    "97": "其他",
    "98": "外国血统中国籍人士",
}


# -- framing -----------------------------------------------------------------


def checksum(data: bytes | bytearray) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(body: bytes) -> bytes:
    """Wrap a body (command or answer) in preamble, length and checksum."""
    head = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + head + body + bytes([checksum(head + body)])


def command(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return frame(bytes(cmd) + data)


def answer(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True, slots=True)
class Frame:
    body: bytes

    @property
    def status(self) -> int:
        """SW3 of an answer (the byte that says what happened)."""
        return self.body[2] if len(self.body) >= 3 else -1

    @property
    def data(self) -> bytes:
        return self.body[3:]


@dataclass(frozen=True, slots=True)
class FrameError:
    reason: Literal["checksum", "length"]


class FrameParser:
    """Bytes -> frames, resynchronising on the preamble after noise or damage.

    ``feed`` never raises: garbage is skipped, a frame with a bad checksum or an
    impossible length is reported as a FrameError and the search resumes one
    byte after its preamble (so a good frame hidden behind a damaged one is
    still found).
    """

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self.buffer = bytearray()
        self.skipped = 0  # garbage bytes dropped

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        self.buffer += data
        out: list[Frame | FrameError] = []
        buf = self.buffer
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                keep = _partial_preamble(buf)
                self.skipped += len(buf) - keep
                del buf[: len(buf) - keep]
                return out
            if start:
                self.skipped += start
                del buf[:start]
            if len(buf) < 7:
                return out
            length = int.from_bytes(buf[5:7], "big")
            if length < 2 or length > self.max_length:
                out.append(FrameError("length"))
                del buf[:1]
                continue
            end = 7 + length
            if len(buf) < end:
                # A noise byte run that looks like a preamble may claim a long
                # frame and hold back a real one behind it: skip to a later
                # preamble when a complete, valid frame starts there.
                later = _complete_frame_after(buf, self.max_length)
                if later < 0:
                    return out
                out.append(FrameError("length"))
                del buf[:later]
                continue
            if checksum(buf[5 : end - 1]) != buf[end - 1]:
                out.append(FrameError("checksum"))
                del buf[:1]
                continue
            out.append(Frame(bytes(buf[7 : end - 1])))
            del buf[:end]


def _complete_frame_after(buf: bytearray, max_length: int) -> int:
    """Index of the first later preamble that starts a complete valid frame, or -1."""
    at = buf.find(PREAMBLE, 1)
    while at >= 0 and len(buf) - at >= 7:
        length = int.from_bytes(buf[at + 5 : at + 7], "big")
        end = at + 7 + length
        complete = 2 <= length <= max_length and end <= len(buf)
        if complete and checksum(buf[at + 5 : end - 1]) == buf[end - 1]:
            return at
        at = buf.find(PREAMBLE, at + 1)
    return -1


def _partial_preamble(buf: bytearray) -> int:
    """How many trailing bytes of ``buf`` could start a preamble."""
    for keep in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf.endswith(PREAMBLE[:keep]):
            return keep
    return 0


# -- the text block ------------------------------------------------------------


def card_type_of(block: bytes) -> CardType:
    flag = block[TYPE_FLAG_OFFSET : TYPE_FLAG_OFFSET + 2].decode("utf-16-le", errors="replace")
    return _TYPE_FLAGS.get(flag, "resident")


def parse_text(block: bytes) -> dict[str, str]:
    """The 256-byte UCS-2 LE block -> named fields (padding stripped).

    Never raises on damaged input: undecodable characters become U+FFFD and a
    short block is padded, so a bad card gives an empty or odd field that the
    ID number check then refuses.
    """
    block = bytes(block[:TEXT_SIZE]).ljust(TEXT_SIZE, b"\x00")
    kind = card_type_of(block)
    fields: dict[str, str] = {"card_type": kind}
    offset = 0
    for name, width in LAYOUTS[kind]:
        raw = block[offset : offset + width]
        offset += width
        if name.startswith("_"):
            continue
        fields[name] = raw.decode("utf-16-le", errors="replace").strip(" \x00")
    if "sex_code" in fields:
        fields["sex"] = SEX.get(fields["sex_code"], "")
    if "nation_code" in fields:
        fields["nation"] = NATION_NAMES.get(fields["nation_code"], "")
    if kind == "foreign_permanent_2023":
        fields["layout"] = "provisional"
    return fields


def build_text(fields: dict[str, str], card_type: CardType = "resident") -> bytes:
    """The inverse of :func:`parse_text` (for the simulated reader and tests)."""
    out = bytearray()
    for name, width in LAYOUTS[card_type]:
        value = _FLAG_FOR_TYPE.get(card_type, " ") if name == "_type" else fields.get(name, "")
        encoded = value.encode("utf-16-le")[:width]
        out += encoded + " ".encode("utf-16-le") * ((width - len(encoded)) // 2)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class CardRead:
    """A successful read: the fields and the text block as the card gave it."""

    fields: dict[str, str]
    text: bytes


def parse_read_answer(data: bytes) -> CardRead:
    """The data of a 30 01 answer (after SW1-3) -> fields. Raises ValueError."""
    if len(data) < 4:
        raise ValueError("read answer too short")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len < TEXT_SIZE or 4 + text_len + photo_len > len(data):
        raise ValueError(f"read answer lengths {text_len}+{photo_len} do not fit {len(data)}")
    text = data[4 : 4 + TEXT_SIZE]
    return CardRead(parse_text(text), text)


def wire_seconds(n_bytes: int, baud: int) -> float:
    """Time ``n_bytes`` take on an 8N1 line (10 bits a byte)."""
    return n_bytes * 10 / baud


READ_ANSWER_SIZE = 7 + 3 + 4 + TEXT_SIZE + PHOTO_SIZE + 1  # 1295


# -- the backend ---------------------------------------------------------------


class ReaderSilent(Exception):
    """The reader stopped answering (unplugged, powered off, wrong baud)."""


@dataclass(frozen=True, slots=True)
class Answer:
    frame: Frame | None
    problem: str | None = None


class IdCardReader(ThreadedBackend):
    """ScannerBackend polling a SAM reader; one Scan per card presentation."""

    def __init__(
        self,
        port: str,
        *,
        baud: int = 115200,
        poll_interval: float = 0.3,
        answer_timeout: float = 1.0,
        missed_answers: int = 3,
        reconnect_interval: float = 1.0,
    ) -> None:
        self.port_name = port
        self.baud = baud
        self.source = f"idcard:{port}"
        self.poll_interval = poll_interval
        self.answer_timeout = answer_timeout
        self.missed_answers = missed_answers
        self.reconnect_interval = reconnect_interval
        super().__init__()
        self.join_timeout = 3.0
        self._status: tuple[str, str] | None = None
        self._card_read = False  # the card on the reader was already read
        self.reads = 0
        self.last_byte_at = 0.0  # perf_counter() of the last read that returned bytes

    # -- status, emitted on change only (the crew screen shows the latest)
    def _set_status(
        self, emit: Callable[[Event], None], state: Literal["ok", "lost", "error"], msg: str
    ) -> None:
        if self._status != (state, msg):
            self._status = (state, msg)
            emit(DeviceStatus(self.source, state, msg))

    def _run(self, emit: Callable[[Event], None]) -> None:
        import serial

        while not self._stop.is_set():
            try:
                port = serial.Serial(self.port_name, self.baud, timeout=0.01)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set_status(emit, "lost", f"cannot open {self.port_name}: {exc}")
                self._stop.wait(self.reconnect_interval)
                continue
            try:
                self._serve(port, emit)
            except ReaderSilent as exc:
                self._set_status(emit, "lost", str(exc))
            except (serial.SerialException, OSError) as exc:
                self._set_status(emit, "lost", f"{self.port_name} went away ({exc})")
            except Exception as exc:  # a bug must not stop the station
                log.exception("%s: unexpected error", self.source)
                self._set_status(emit, "error", f"unexpected error: {exc}")
            finally:
                with contextlib.suppress(Exception):
                    port.close()
            self._card_read = False
            if not self._stop.is_set():
                self._stop.wait(self.reconnect_interval)

    def _serve(self, port: Any, emit: Callable[[Event], None]) -> None:
        missed = 0
        hello = self.transact(port, SAM_STATUS, 15)
        if hello.frame is None and hello.problem is None:
            raise ReaderSilent(
                f"no answer from a SAM reader on {self.port_name} at {self.baud} baud "
                "(check the cable, the power and scanner.idcard_baud)"
            )
        self._set_status(emit, "ok", "ID-card reader ready")
        while not self._stop.is_set():
            started = time.monotonic()
            outcome = self.poll_once(port, emit)
            if outcome == "silent":
                missed += 1
                if missed >= self.missed_answers:
                    raise ReaderSilent(
                        f"the ID-card reader stopped answering ({missed} commands in a row)"
                    )
            else:
                missed = 0
            self._stop.wait(max(0.0, self.poll_interval - (time.monotonic() - started)))

    def poll_once(self, port: Any, emit: Callable[[Event], None]) -> str:
        """One find/select/read cycle. Returns 'silent', 'absent', 'present', 'read' or 'failed'."""
        found = self.transact(port, FIND_CARD, 15)
        if found.frame is None:
            if found.problem:
                self._set_status(emit, "error", found.problem)
                return "failed"
            return "silent"
        status = found.frame.status
        if status == SW_NO_CARD:
            self._card_read = False
            self._set_status(emit, "ok", "ID-card reader ready")
            return "absent"
        if status != SW_FOUND:
            self._set_status(emit, "error", _describe(status))
            return "failed"
        if self._card_read:
            return "present"  # still lying on the reader: one Scan per presentation
        selected = self.transact(port, SELECT_CARD, 19)
        if selected.frame is None or selected.frame.status != SW_OK:
            self._set_status(emit, "error", _failure(selected, "select card failed"))
            return "failed" if selected.frame or selected.problem else "silent"
        read = self.transact(port, READ_BASE, READ_ANSWER_SIZE)
        if read.frame is None or read.frame.status != SW_OK:
            self._set_status(emit, "error", _failure(read, "the card was removed during the read"))
            return "failed"
        try:
            card = parse_read_answer(read.frame.data)
        except ValueError as exc:
            self._set_status(emit, "error", f"unreadable card data ({exc})")
            return "failed"
        self._card_read = True
        self.reads += 1
        self._set_status(emit, "ok", "ID-card reader ready")
        number = card.fields.get("id_number", "")
        emit(Scan(number.encode("ascii", errors="replace"), self.source, fields=card.fields))
        return "read"

    def transact(self, port: Any, cmd: tuple[int, int], expected: int) -> Answer:
        """Send one command, wait for its answer frame (or a damaged one, or nothing)."""
        port.reset_input_buffer()
        port.write(command(cmd))
        parser = FrameParser()
        wire = wire_seconds(expected + 10, self.baud)
        deadline = time.monotonic() + wire + self.answer_timeout
        problem: str | None = None
        while time.monotonic() < deadline:
            data = port.read(max(1, port.in_waiting))
            if not data:
                continue
            self.last_byte_at = time.perf_counter()
            for item in parser.feed(data):
                if isinstance(item, Frame):
                    return Answer(item)
                problem = (
                    "bad checksum on the reader's answer (line noise or a loose cable)"
                    if item.reason == "checksum"
                    else "the reader's answer had an impossible length (line noise)"
                )
            if problem is not None and not parser.buffer:
                return Answer(None, problem)
        if problem is None and parser.buffer:
            problem = "the reader's answer was cut short (card removed during the read?)"
        return Answer(None, problem)


def _describe(status: int) -> str:
    return STATUS.get(status, f"the reader answered with unknown status 0x{status:02X}")


def _failure(answer_: Answer, silent: str) -> str:
    if answer_.frame is not None:
        return _describe(answer_.frame.status)
    return answer_.problem or silent
