"""USB-HID keyboard-wedge barcode scanners through python-evdev.

A wedge scanner pretends to be a keyboard and "types" the barcode followed by
Enter (or Tab). Reading it as a keyboard through the console would put its
keystrokes into whatever has focus, so the backend opens the evdev node and
``grab()``s it (EVIOCGRAB): its events reach this process only.

The decoder (:class:`KeyDecoder`) is pure: key events in, finished payloads
out. It tracks both shift keys and caps lock, maps US-layout keys to ASCII,
ignores autorepeat and SYN events, drops a burst whose keys are further apart
than the inter-key timeout (a scan cut short by an unplug or a bad read must
not glue onto the next one), and refuses a burst that contained a key outside
the layout (the scanner's keyboard country is wrong: a partial 学号 would find
the wrong student). Timing comes from the events' own kernel timestamps, so
the decoder is deterministic under test.

The backend (:class:`HidScanner`) finds the device by by-id path,
vendor:product or name, and survives unplug/replug: a read error (ENODEV)
emits ``DeviceStatus("lost")`` and the thread polls until the device returns.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kiosk.scanner.base import DeviceStatus, Event, Scan
from kiosk.scanner.emit import ThreadedBackend

log = logging.getLogger(__name__)

# evdev constants, spelled out so the decoder needs no evdev import (and the
# pure logic can be tested on machines without it). Values from
# linux/input-event-codes.h, which python-evdev mirrors as ecodes.*.
EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2
KEY_ENTER, KEY_KPENTER, KEY_TAB = 28, 96, 15
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
KEY_NUMLOCK = 69
# Keys a scanner may send that carry no character: modifiers and locks.
_SILENT = frozenset({29, 97, 56, 100, 125, 126, KEY_NUMLOCK, 70})  # ctrl, alt, meta, scroll

# US layout: keycode -> (plain, shifted).
US_LAYOUT: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"),
    7: ("6", "^"), 8: ("7", "&"), 9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"),
    12: ("-", "_"), 13: ("=", "+"),
    16: ("q", "Q"), 17: ("w", "W"), 18: ("e", "E"), 19: ("r", "R"), 20: ("t", "T"),
    21: ("y", "Y"), 22: ("u", "U"), 23: ("i", "I"), 24: ("o", "O"), 25: ("p", "P"),
    26: ("[", "{"), 27: ("]", "}"),
    30: ("a", "A"), 31: ("s", "S"), 32: ("d", "D"), 33: ("f", "F"), 34: ("g", "G"),
    35: ("h", "H"), 36: ("j", "J"), 37: ("k", "K"), 38: ("l", "L"),
    39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"), 43: ("\\", "|"),
    44: ("z", "Z"), 45: ("x", "X"), 46: ("c", "C"), 47: ("v", "V"), 48: ("b", "B"),
    49: ("n", "N"), 50: ("m", "M"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"),
    57: (" ", " "),
    # keypad (scanners set to "keypad digits" send these; numlock is assumed on)
    71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 74: ("-", "-"), 75: ("4", "4"),
    76: ("5", "5"), 77: ("6", "6"), 78: ("+", "+"), 79: ("1", "1"), 80: ("2", "2"),
    81: ("3", "3"), 82: ("0", "0"), 83: (".", "."), 98: ("/", "/"), 55: ("*", "*"),
}  # fmt: skip
_TERMINATORS = {"enter": frozenset({KEY_ENTER, KEY_KPENTER}), "tab": frozenset({KEY_TAB})}
# Where is the character typed with which keys (for the twin and the tests).
_KEY_FOR_CHAR: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in US_LAYOUT.items():
    if _code in (71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 98, 55):
        continue  # type the main-row keys, as most scanners do
    _KEY_FOR_CHAR.setdefault(_plain, (_code, False))
    _KEY_FOR_CHAR.setdefault(_shifted, (_code, True))

MAX_BURST = 4096  # characters; a stuck key or a flood is not a barcode


class KeyEvent(Protocol):
    """What the decoder reads from an event (evdev.InputEvent has all of it)."""

    type: int
    code: int
    value: int

    def timestamp(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    """A finished burst: the text, or why it was refused."""

    text: str
    problem: str | None = None  # None: a good scan


class KeyDecoder:
    """Key events -> scanned text. Feed every event; ``feed`` returns a result
    when a terminator ends a burst (or a refusal when it ends a bad one)."""

    def __init__(
        self,
        terminator: Literal["enter", "tab"] = "enter",
        inter_key_timeout: float = 0.25,
    ) -> None:
        self.terminators = _TERMINATORS[terminator]
        self.inter_key_timeout = inter_key_timeout
        self.shift: set[int] = set()
        self.caps = False
        self.chars: list[str] = []
        self.unknown: list[int] = []
        self.last_key_at: float | None = None
        self.dropped_partial = 0  # bursts dropped after the inter-key timeout

    def reset(self) -> None:
        """Forget the burst and the modifier state (after a reconnect)."""
        self.shift.clear()
        self.chars.clear()
        self.unknown.clear()
        self.last_key_at = None

    def expire(self, now: float) -> bool:
        """Drop a partial burst older than the timeout; True when one was dropped."""
        if self.last_key_at is None or now - self.last_key_at <= self.inter_key_timeout:
            return False
        had = bool(self.chars or self.unknown)
        self.chars.clear()
        self.unknown.clear()
        self.last_key_at = None
        if had:
            self.dropped_partial += 1
        return had

    def feed(self, event: KeyEvent) -> Decoded | None:
        if event.type != EV_KEY:
            return None  # SYN, MSC_SCAN and friends carry nothing we need
        code, value = event.code, event.value
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            if value == KEY_UP:
                self.shift.discard(code)
            else:
                self.shift.add(code)
            return None
        if value != KEY_DOWN:
            return None  # key up, or autorepeat (a scanner never holds a key)
        if code == KEY_CAPSLOCK:
            self.caps = not self.caps
            return None
        if code in _SILENT:
            return None
        self.expire(event.timestamp())
        self.last_key_at = event.timestamp()
        if code in self.terminators:
            return self._finish()
        mapped = US_LAYOUT.get(code)
        if code == KEY_TAB:
            mapped = ("\t", "\t")
        if mapped is None:
            self.unknown.append(code)
            return None
        plain, shifted = mapped
        upper = bool(self.shift)
        if plain.isalpha():
            upper ^= self.caps
        if len(self.chars) < MAX_BURST:
            self.chars.append(shifted if upper else plain)
        return None

    def _finish(self) -> Decoded | None:
        text = "".join(self.chars)
        unknown = list(self.unknown)
        self.chars.clear()
        self.unknown.clear()
        self.last_key_at = None
        if unknown:
            return Decoded(
                text,
                f"the scan had {len(unknown)} key(s) outside the US layout "
                f"(codes {', '.join(map(str, unknown[:5]))}); set the scanner's "
                "keyboard country to US and scan again",
            )
        if not text:
            return None  # a lone Enter (e.g. a trigger with no read)
        return Decoded(text)


def keystrokes(text: str, terminator: Literal["enter", "tab"] = "enter") -> list[tuple[int, int]]:
    """(code, value) pairs a US-layout wedge scanner sends for ``text``.

    Used by the simulated twin and the tests; raises ValueError for a
    character a US keyboard cannot type.
    """
    pairs: list[tuple[int, int]] = []
    for char in text:
        if char == "\t":
            key, shifted = KEY_TAB, False
        else:
            try:
                key, shifted = _KEY_FOR_CHAR[char]
            except KeyError:
                raise ValueError(f"{char!r} cannot be typed on a US keyboard") from None
        if shifted:
            pairs.append((KEY_LEFTSHIFT, KEY_DOWN))
        pairs += [(key, KEY_DOWN), (key, KEY_UP)]
        if shifted:
            pairs.append((KEY_LEFTSHIFT, KEY_UP))
    end = KEY_ENTER if terminator == "enter" else KEY_TAB
    pairs += [(end, KEY_DOWN), (end, KEY_UP)]
    return pairs


# -- finding and reading the device ------------------------------------------


@dataclass(frozen=True, slots=True)
class HidSelector:
    """How the config names a scanner: a path, a USB id pair, or a name."""

    path: str | None = None
    vendor: int | None = None
    product: int | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> HidSelector:
        text = text.strip()
        if text.startswith("name="):
            if not text[5:]:
                raise ValueError("hid:name= needs part of the device name")
            return cls(name=text[5:])
        if text.startswith("/"):
            return cls(path=text)
        parts = text.split(":")
        if len(parts) == 2 and all(len(p) == 4 for p in parts):
            try:
                return cls(vendor=int(parts[0], 16), product=int(parts[1], 16))
            except ValueError:
                pass
        raise ValueError(
            f"hid:{text}: expected a /dev/input path, VVVV:PPPP (USB vendor:product "
            "in hex, see lsusb) or name=PART-OF-NAME"
        )

    def __str__(self) -> str:
        if self.path:
            return self.path
        if self.name:
            return f"name={self.name}"
        return f"{self.vendor:04x}:{self.product:04x}"


class InputDeviceLike(Protocol):
    """What the backend uses of evdev.InputDevice (the twin implements it too)."""

    @property
    def path(self) -> str | bytes: ...
    @property
    def name(self) -> str: ...
    def fileno(self) -> int: ...
    def read(self) -> Iterable[Any]: ...
    def grab(self) -> None: ...
    def ungrab(self) -> None: ...
    def close(self) -> None: ...


def find_evdev_device(selector: HidSelector) -> InputDeviceLike | None:
    """Open the first device matching ``selector``, or None when it is not there.

    A device that is there but cannot be opened (permissions) raises, so the
    crew sees why instead of "not found".
    """
    import evdev

    if selector.path:
        try:
            return evdev.InputDevice(selector.path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO, errno.ENOENT):
                return None
            raise
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        info = device.info
        if (selector.vendor is not None and info.vendor == selector.vendor
                and info.product == selector.product) or (
            selector.name and selector.name.lower() in device.name.lower()
        ):  # fmt: skip
            return device
        device.close()
    return None


Opener = Callable[[HidSelector], InputDeviceLike | None]


class HidScanner(ThreadedBackend):
    """ScannerBackend for one wedge scanner; see the module docstring."""

    def __init__(
        self,
        selector: HidSelector | str,
        *,
        terminator: Literal["enter", "tab"] = "enter",
        inter_key_timeout: float = 0.25,
        grab: bool = True,
        reconnect_interval: float = 1.0,
        opener: Opener = find_evdev_device,
    ) -> None:
        self.selector = HidSelector.parse(selector) if isinstance(selector, str) else selector
        self.source = f"hid:{self.selector}"
        self.decoder = KeyDecoder(terminator, inter_key_timeout)
        self.grab = grab
        self.reconnect_interval = reconnect_interval
        self.opener = opener
        super().__init__()
        self.device: InputDeviceLike | None = None

    def _run(self, emit: Callable[[Event], None]) -> None:
        announced_missing = False
        while not self._stop.is_set():
            reason = "scanner not found; plug it in"
            try:
                device = self.opener(self.selector)
            except Exception as exc:  # a broken udev node, permissions …
                device = None
                reason = f"cannot open the scanner ({exc}); check the udev rule / input group"
                log.warning("%s: %s", self.source, reason)
            if device is None:
                if not announced_missing:
                    emit(DeviceStatus(self.source, "lost", reason))
                    announced_missing = True
                self._stop.wait(self.reconnect_interval)
                continue
            announced_missing = False
            try:
                self._serve(device, emit)
            except Exception as exc:  # a bug must not stop the station
                log.exception("%s: unexpected error", self.source)
                emit(DeviceStatus(self.source, "error", f"unexpected error: {exc}"))
            finally:
                self._release(device)
            if not self._stop.is_set():
                announced_missing = True  # _serve said why
                self._stop.wait(self.reconnect_interval)

    def _serve(self, device: InputDeviceLike, emit: Callable[[Event], None]) -> None:
        self.device = device
        if self.grab:
            try:
                device.grab()
            except OSError as exc:
                emit(DeviceStatus(
                    self.source, "error",
                    f"cannot grab {os.fsdecode(device.path)} ({exc.strerror}); another program holds it",
                ))  # fmt: skip
                return
        self.decoder.reset()
        emit(DeviceStatus(self.source, "ok", f"{device.name} ready"))
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([device.fileno()], [], [], 0.05)
                if not ready:
                    self.decoder.expire(time.time())
                    continue
                events = list(device.read())
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno in (errno.ENODEV, errno.EBADF, errno.EIO):
                    emit(DeviceStatus(self.source, "lost", "scanner unplugged"))
                else:
                    emit(DeviceStatus(self.source, "error", f"read failed: {exc}"))
                return
            for event in events:
                try:
                    result = self.decoder.feed(event)
                except Exception as exc:  # never let one odd event stop the thread
                    log.exception("%s: decoder failed on %r", self.source, event)
                    emit(DeviceStatus(self.source, "error", f"decoder error: {exc}"))
                    self.decoder.reset()
                    continue
                if result is None:
                    continue
                if result.problem:
                    emit(DeviceStatus(self.source, "error", result.problem))
                    continue
                emit(Scan(result.text.encode("ascii"), self.source))

    def _release(self, device: InputDeviceLike) -> None:
        self.device = None
        for action in (device.ungrab, device.close):
            with contextlib.suppress(OSError):
                action()
