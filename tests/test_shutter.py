"""The GPIO pedal with gpiozero's mock pins (the same Button code path as on a Pi)."""

from __future__ import annotations

import threading

import pytest

from kiosk import config as config_module
from kiosk.shutter import ShutterError, from_config

mock = pytest.importorskip("gpiozero.pins.mock")


def _pedal_config(**values: object) -> config_module.DeploymentConfig:
    return config_module.from_dict({"deployment": {"shutter_pin": 17, **values}}).deployment


def test_no_pin_configured_means_no_pedal() -> None:
    assert from_config(config_module.DeploymentConfig(), lambda: None) is None


def test_a_press_to_ground_calls_on_press_once() -> None:
    factory = mock.MockFactory()
    pressed = threading.Event()
    count = []

    def on_press() -> None:
        count.append(1)
        pressed.set()

    pedal = from_config(_pedal_config(shutter_bounce_ms=0), on_press, pin_factory=factory)
    assert pedal is not None
    try:
        pin = factory.pin(17)
        assert not pedal.pressed
        pin.drive_low()  # pedal closes the contact to ground (pull-up wiring)
        assert pressed.wait(2)
        assert pedal.pressed
        pin.drive_high()
    finally:
        pedal.close()
    assert count == [1]


def test_pull_down_wiring_presses_on_high() -> None:
    factory = mock.MockFactory(pin_class=mock.MockPin)
    pressed = threading.Event()
    pedal = from_config(
        _pedal_config(shutter_pull_up=False, shutter_bounce_ms=0),
        pressed.set,
        pin_factory=factory,
    )
    assert pedal is not None
    try:
        factory.pin(17).drive_high()
        assert pressed.wait(2)
    finally:
        pedal.close()


def test_a_pin_already_in_use_is_a_clear_error() -> None:
    factory = mock.MockFactory()
    first = from_config(_pedal_config(), lambda: None, pin_factory=factory)
    try:
        with pytest.raises(ShutterError, match=r"GPIO17.*wiring"):
            from_config(_pedal_config(), lambda: None, pin_factory=factory)
    finally:
        assert first is not None
        first.close()


def test_pin_out_of_range_is_refused_by_the_config() -> None:
    with pytest.raises(config_module.ConfigError, match=r"deployment\.shutter_pin"):
        config_module.from_dict({"deployment": {"shutter_pin": 40}})
