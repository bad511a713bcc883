"""What every scanner backend hands the station: Scan and DeviceStatus events.

Backends (USB-HID, serial barcode, SAM ID-card reader, their simulated twins)
run their own thread and call ``emit`` with these events; the station's main
loop never blocks on a device. ``kiosk.scanner.parse`` turns a Scan into an
Identity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

IdentityKind = Literal["id_number", "student_number", "collection_code", "unrecognised"]
DeviceState = Literal["ok", "lost", "error"]


@dataclass(frozen=True)
class Scan:
    """One read: a barcode's bytes, or an ID card's text fields.

    ``payload`` is byte-exact as the device gave it (a collection code is
    stored as is); ``fields`` holds what an ID card adds (name, sex, nation,
    birth_date, address, id_number, authority, valid_from, valid_to,
    card_type).
    """

    payload: bytes
    source: str  # e.g. "hid:/dev/input/by-id/...", "serial:/dev/ttyACM0", "idcard:/dev/ttyUSB0"
    at: float = field(default_factory=time.monotonic)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """What a scan says about who is in front of the camera."""

    kind: IdentityKind
    value: str  # canonical ID number, 学号, or the collection code (decoded text)
    raw: bytes  # the payload, byte-exact
    source: str
    name: str | None = None  # when the card gives one
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceStatus:
    """A device came, went or misbehaved (for the crew screen and the log)."""

    source: str
    state: DeviceState
    message: str = ""
    at: float = field(default_factory=time.monotonic)


Event = Scan | DeviceStatus


class ScannerBackend(Protocol):
    source: str

    def start(self, emit: Callable[[Event], None]) -> None:
        """Start the backend's thread; ``emit`` is called from that thread."""

    def stop(self) -> None:
        """Stop the thread and release (un-grab) the device."""
