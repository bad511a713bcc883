"""The crew PIN in force: the one set on this kiosk (``kiosk pin``), else the config's.

Why a file in the data folder: the Pi's root (and /etc/kiosk/kiosk.toml) is
read-only, so a PIN the crew sets must live on the data partition. The file
is the kiosk user's only (0600); whoever can read it can read the photos
beside it anyway, so it holds the digits and the station compares as before.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from kiosk.config import Config

DEFAULT_PIN = "0000"
PIN_FILE = "crew-pin"
MIN_DIGITS = 4
MAX_DIGITS = 8


class PinError(ValueError):
    """A PIN that cannot be used; ``args[0]`` is its catalogue key (``pin.*``)."""


def pin_path(config: Config) -> Path:
    return config.data_dir / PIN_FILE


def pin_in_force(config: Config) -> str:
    """This kiosk's own PIN when one was set, else the config's."""
    try:
        stored = pin_path(config).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return config.station.crew_pin
    return stored if stored.isdigit() else config.station.crew_pin


def real_kiosk(config: Config) -> bool:
    """A kiosk with real devices (not a desk running the simulated twins)."""
    return config.camera.backend != "sim" or not config.scanner.simulate


def needs_new_pin(config: Config) -> bool:
    """The factory PIN on a real kiosk: the station asks for a new one at start."""
    return real_kiosk(config) and pin_in_force(config) == DEFAULT_PIN


def with_pin_in_force(config: Config) -> Config:
    """``config`` whose ``station.crew_pin`` is the PIN in force (for the station)."""
    pin = pin_in_force(config)
    if pin == config.station.crew_pin:
        return config
    return dataclasses.replace(config, station=dataclasses.replace(config.station, crew_pin=pin))


def check_new_pin(pin: str) -> str:
    """The catalogue key a new PIN is refused with, or "" when it is fine."""
    if not pin.isdigit() or not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        return "pin.digits"
    if pin == DEFAULT_PIN or len(set(pin)) == 1:
        return "pin.too_simple"
    return ""


def save_pin(config: Config, pin: str) -> None:
    """Store ``pin`` (checked) for this kiosk, replacing any earlier one atomically."""
    problem = check_new_pin(pin)
    if problem:
        raise PinError(problem)
    path = pin_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(PIN_FILE + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(pin + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
