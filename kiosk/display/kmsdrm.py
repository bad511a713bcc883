"""Pick the DRM card that drives the screen, and check SDL really uses KMS/DRM.

Why: the station runs without a desktop, straight on KMS/DRM through SDL's
kmsdrm driver. A Pi has more than one ``/dev/dri/cardN`` (the 3D block v3d has
no outputs; the display controller has HDMI/DSI connectors) and their numbers
differ between a Pi 4 and a Pi 5 and between kernels, so the number is read at
start from ``/sys/class/drm``: the card with a connector whose status is
``connected``. And when SDL silently falls back to another driver (offscreen,
or none at all), the crew sees a black screen with no hint why, so the station
checks the driver SDL reports and says so loudly.

Pure logic over a sysfs folder (tests use a fake tree); the station calls
:func:`prepare` before ``pygame.display.init()`` and :func:`driver_problem`
after it.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

SYSFS_DRM = Path("/sys/class/drm")
DEV_DRI = Path("/dev/dri")
WANTED_DRIVER = "kmsdrm"
# SDL reads hints from environment variables of the same name; this one picks
# /dev/dri/card<N> (SDL >= 2.28; older SDL probes the cards in order itself,
# and skips those without outputs, which the sysfs choice agrees with).
ENV_DEVICE_INDEX = "SDL_KMSDRM_DEVICE_INDEX"
ENV_DRIVER = "SDL_VIDEODRIVER"

_CONNECTOR = re.compile(r"^card(\d+)-(.+)$")


@dataclass(frozen=True)
class Connector:
    """One output of a card as sysfs shows it (``card1-HDMI-A-1``)."""

    card: int
    name: str  # HDMI-A-1, DSI-1, Composite-1, Writeback-1 ...
    status: str  # connected, disconnected, unknown


@dataclass(frozen=True)
class DrmCard:
    index: int
    connected: tuple[str, ...]  # the connector names with a screen on them

    @property
    def device(self) -> Path:
        return DEV_DRI / f"card{self.index}"


def connectors(sysfs: Path = SYSFS_DRM) -> list[Connector]:
    """Every connector under ``sysfs``, ordered by card number then name."""
    found = []
    try:
        entries = list(sysfs.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _CONNECTOR.fullmatch(entry.name)
        if not match:
            continue
        try:
            status = (entry / "status").read_text(encoding="ascii").strip()
        except OSError:
            continue
        found.append(Connector(card=int(match.group(1)), name=match.group(2), status=status))
    return sorted(found, key=lambda c: (c.card, _natural(c.name)))


def pick_card(sysfs: Path = SYSFS_DRM) -> DrmCard | None:
    """The lowest-numbered card with a connected screen, or None."""
    by_card: dict[int, list[str]] = {}
    for connector in connectors(sysfs):
        if connector.status == "connected":
            by_card.setdefault(connector.card, []).append(connector.name)
    if not by_card:
        return None
    index = min(by_card)
    return DrmCard(index=index, connected=tuple(by_card[index]))


@dataclass(frozen=True)
class DisplayChoice:
    """What :func:`prepare` decided, for the log and ``kiosk doctor``."""

    driver: str  # the SDL driver asked for
    card: DrmCard | None
    message: str

    @property
    def ok(self) -> bool:
        return self.driver != WANTED_DRIVER or self.card is not None


def prepare(
    environ: MutableMapping[str, str] | None = None, sysfs: Path = SYSFS_DRM
) -> DisplayChoice:
    """Set SDL's environment for the connected card before pygame starts.

    An ``SDL_VIDEODRIVER`` already set to something else (``dummy`` in tests
    and the simulated kiosk, ``x11``/``wayland`` on a desk) is respected, and
    so is a desktop session (``DISPLAY``/``WAYLAND_DISPLAY``) without one.
    """
    env = os.environ if environ is None else environ
    if not env.get(ENV_DRIVER) and (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        # A desk with a desktop: SDL picks X11/Wayland itself (kiosk.service
        # sets SDL_VIDEODRIVER=kmsdrm, so the kiosk never lands here).
        return DisplayChoice("desktop", None, "desktop session: SDL picks its own driver")
    driver = env.get(ENV_DRIVER) or WANTED_DRIVER
    if driver != WANTED_DRIVER:
        return DisplayChoice(driver, None, f"SDL video driver {driver} (set by {ENV_DRIVER})")
    card = pick_card(sysfs)
    env[ENV_DRIVER] = WANTED_DRIVER
    if card is None:
        names = ", ".join(f"card{c.card}-{c.name}: {c.status}" for c in connectors(sysfs))
        return DisplayChoice(
            driver,
            None,
            "no screen connected: no DRM connector reports 'connected' "
            f"({names or 'no connectors under ' + str(sysfs)}); "
            "plug the screen in (HDMI 0 on a Pi 4/5) and restart the kiosk",
        )
    env[ENV_DEVICE_INDEX] = str(card.index)
    return DisplayChoice(
        driver, card, f"screen on {card.device} ({', '.join(card.connected)}), SDL kmsdrm"
    )


def driver_problem(actual: str | None, wanted: str = WANTED_DRIVER) -> str | None:
    """None when SDL runs the driver asked for, else a message for the crew and log.

    ``wanted`` is :attr:`DisplayChoice.driver`; "desktop" accepts any driver.
    """
    if actual == wanted or (wanted == "desktop" and actual):
        return None
    return (
        f"DISPLAY: SDL is using the {actual or 'no'} video driver, not {wanted}. "
        "The screen stays dark or slow. Check that the kiosk runs on tty1 "
        "(kiosk.service, no desktop running), that its user is in the video and "
        "render groups, and that Debian's SDL2 (python3-pygame from apt) is the "
        "one imported, not a pip wheel without kmsdrm."
    )


def _natural(name: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))
