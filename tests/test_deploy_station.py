"""The station's deployment hooks: DRM card choice at start, the GPIO pedal."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pytest

from kiosk import station as st
from kiosk.app import StationApp, build_station
from kiosk.capture.sim import SimCamera
from kiosk.judge import Quality
from tests.test_app import FakeChecker, fake_compose, fast_config


def make_app(tmp_path: Path, **deployment: object) -> StationApp:
    config = fast_config(tmp_path)
    config = dataclasses.replace(
        config, deployment=dataclasses.replace(config.deployment, **deployment)
    )
    return build_station(
        config,
        camera=SimCamera(config.camera),
        scanners=[],
        quality=Quality(
            FakeChecker(), fake_compose, lambda w, h: (w / 2, h * 0.4, w * 0.1, h * 0.2)
        ),
        headless=True,
    )


def drain(app: StationApp, timeout: float = 2.0) -> list[object]:
    found: list[object] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not found:
        while not app.inbox.empty():
            found.append(app.inbox.get_nowait())
        time.sleep(0.01)
    return found


def test_a_pedal_press_is_the_crews_shutter_key(tmp_path: Path) -> None:
    mock = pytest.importorskip("gpiozero.pins.mock")
    from gpiozero import Device

    Device.pin_factory = factory = mock.MockFactory()
    app = make_app(tmp_path, shutter_pin=17, shutter_bounce_ms=0)
    try:
        app._start_pedal()
        assert app.pedal is not None
        factory.pin(17).drive_low()
        events = drain(app)
    finally:
        if app.pedal is not None:
            app.pedal.close()
        Device.pin_factory = None
    keys = [e for e in events if isinstance(e, st.Key)]
    assert [k.action for k in keys] == [st.Action.SHUTTER]


def test_a_pedal_that_cannot_open_shows_on_the_crew_screen(tmp_path: Path) -> None:
    pytest.importorskip("gpiozero")
    if Path("/dev/gpiochip0").exists():
        pytest.skip("this machine has GPIO")
    from gpiozero import Device

    Device.pin_factory = None
    app = make_app(tmp_path, shutter_pin=17)
    app._start_pedal()
    events = drain(app)
    [changed] = [e for e in events if isinstance(e, st.DeviceChanged)]
    assert changed.status.source == "pedal" and changed.status.state == "error"
    assert "GPIO17" in changed.status.message


def test_no_pedal_configured_opens_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app._start_pedal()
    assert app.pedal is None and app.inbox.empty()


def test_kmsdrm_without_a_screen_is_said_loudly_before_sdl_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """This machine has no DRM screen: the station logs what to do, then stops."""
    pygame = pytest.importorskip("pygame")
    if any(Path("/sys/class/drm").glob("card*-*")):
        pytest.skip("this machine has DRM connectors")
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")
    app = make_app(tmp_path)
    caplog.set_level(logging.ERROR)
    with pytest.raises(pygame.error):
        app.run(max_seconds=1)
    text = caplog.text
    assert "no screen connected" in text
    assert "DISPLAY: SDL is using the no video driver, not kmsdrm" in text
