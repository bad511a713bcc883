"""The optional shutter button / foot pedal on a GPIO pin (gpiozero).

Why a pedal: the crew's hands hold the student's card or the roster; a foot
press takes the shot. Why gpiozero: it is on Raspberry Pi OS already
(python3-gpiozero, seen through the venv), picks the right pin library on a
Pi 4 and a Pi 5 (lgpio), debounces, and has mock pins for the tests.

The pedal runs ``on_press`` from gpiozero's own thread; the station's main
loop turns that into its shutter action (put it on the station's event queue,
never draw from that thread).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from kiosk.config import DeploymentConfig


class ShutterError(RuntimeError):
    """The pedal is configured but cannot be opened; the message says what to do."""


class ShutterPedal:
    def __init__(
        self,
        pin: int,
        on_press: Callable[[], None],
        *,
        pull_up: bool = True,
        bounce_ms: int = 50,
        pin_factory: Any = None,
    ) -> None:
        try:
            from gpiozero import Button
        except ImportError as exc:
            raise ShutterError(
                "the shutter pedal needs gpiozero: install python3-gpiozero (apt) "
                "or unset deployment.shutter_pin"
            ) from exc
        try:
            with warnings.catch_warnings():
                # gpiozero warns for each pin library it tries; the error says enough.
                warnings.simplefilter("ignore")
                self._button = Button(
                    pin,
                    pull_up=pull_up,
                    bounce_time=bounce_ms / 1000 if bounce_ms else None,
                    pin_factory=pin_factory,
                )
        except Exception as exc:  # gpiozero raises many kinds: no chip, pin busy, not a Pi
            raise ShutterError(
                f"cannot open the shutter pedal on GPIO{pin}: {exc}. Check the wiring "
                "(hardware/wiring.md), that the kiosk user is in the gpio group, or "
                "unset deployment.shutter_pin"
            ) from exc
        self.pin = pin
        self._button.when_pressed = lambda: on_press()

    @property
    def pressed(self) -> bool:
        return bool(self._button.is_pressed)

    def close(self) -> None:
        self._button.close()


def from_config(
    config: DeploymentConfig, on_press: Callable[[], None], pin_factory: Any = None
) -> ShutterPedal | None:
    """The configured pedal, or None when ``deployment.shutter_pin`` is not set."""
    if config.shutter_pin is None:
        return None
    return ShutterPedal(
        config.shutter_pin,
        on_press,
        pull_up=config.shutter_pull_up,
        bounce_ms=config.shutter_bounce_ms,
        pin_factory=pin_factory,
    )
