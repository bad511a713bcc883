"""DRM card choice against fake /sys/class/drm trees shaped like a Pi 4 and a Pi 5."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.display import kmsdrm


def fake_sysfs(root: Path, connectors: dict[str, str], extra: tuple[str, ...] = ()) -> Path:
    """``connectors`` maps ``cardN-NAME`` to its status; ``extra`` are other entries."""
    sysfs = root / "class/drm"
    sysfs.mkdir(parents=True)
    for name in extra:
        (sysfs / name).mkdir()
    for name, status in connectors.items():
        (sysfs / name).mkdir()
        (sysfs / name / "status").write_text(status + "\n")
    (sysfs / "version").write_text("drm 1.1.0 20060810\n")
    return sysfs


def test_pi4_layout_picks_card1_with_the_connected_hdmi(tmp_path: Path) -> None:
    # Pi 4, recent kernel: card0 = v3d (no outputs), card1 = vc4 with two HDMI.
    sysfs = fake_sysfs(
        tmp_path,
        {
            "card1-HDMI-A-1": "disconnected",
            "card1-HDMI-A-2": "connected",
            "card1-Writeback-1": "unknown",
        },
        extra=("card0", "card1", "renderD128"),
    )
    card = kmsdrm.pick_card(sysfs)
    assert card == kmsdrm.DrmCard(index=1, connected=("HDMI-A-2",))
    assert card.device == Path("/dev/dri/card1")


def test_pi5_layout_with_the_screen_on_card2(tmp_path: Path) -> None:
    # Pi 5: the display controller can come up as card1 or card2, DSI on its own card.
    sysfs = fake_sysfs(
        tmp_path,
        {
            "card2-HDMI-A-1": "connected",
            "card2-HDMI-A-2": "connected",
            "card1-DSI-1": "disconnected",
        },
        extra=("card0", "card1", "card2"),
    )
    card = kmsdrm.pick_card(sysfs)
    assert card is not None
    assert card.index == 2 and card.connected == ("HDMI-A-1", "HDMI-A-2")


def test_connectors_sort_naturally_and_skip_non_connectors(tmp_path: Path) -> None:
    sysfs = fake_sysfs(
        tmp_path,
        {"card10-HDMI-A-1": "connected", "card2-HDMI-A-10": "connected", "card2-HDMI-A-2": "x"},
        extra=("card2", "renderD128"),
    )
    found = [(c.card, c.name) for c in kmsdrm.connectors(sysfs)]
    assert found == [(2, "HDMI-A-2"), (2, "HDMI-A-10"), (10, "HDMI-A-1")]


def test_prepare_sets_sdl_environment_for_the_connected_card(tmp_path: Path) -> None:
    sysfs = fake_sysfs(tmp_path, {"card1-HDMI-A-1": "connected"})
    env: dict[str, str] = {}
    choice = kmsdrm.prepare(env, sysfs)
    assert choice.ok
    assert env == {"SDL_VIDEODRIVER": "kmsdrm", "SDL_KMSDRM_DEVICE_INDEX": "1"}
    assert "/dev/dri/card1" in choice.message


def test_prepare_without_a_screen_says_what_to_do(tmp_path: Path) -> None:
    sysfs = fake_sysfs(tmp_path, {"card1-HDMI-A-1": "disconnected"})
    env = {"SDL_VIDEODRIVER": "kmsdrm"}
    choice = kmsdrm.prepare(env, sysfs)
    assert not choice.ok
    assert "no screen connected" in choice.message
    assert "card1-HDMI-A-1: disconnected" in choice.message
    assert "SDL_KMSDRM_DEVICE_INDEX" not in env


def test_prepare_respects_another_driver_set_on_purpose(tmp_path: Path) -> None:
    sysfs = fake_sysfs(tmp_path, {})
    env = {"SDL_VIDEODRIVER": "dummy"}
    choice = kmsdrm.prepare(env, sysfs)
    assert choice.ok and choice.driver == "dummy" and choice.card is None
    assert env == {"SDL_VIDEODRIVER": "dummy"}


def test_missing_sysfs_is_no_screen_not_a_crash(tmp_path: Path) -> None:
    assert kmsdrm.pick_card(tmp_path / "absent") is None
    assert not kmsdrm.prepare({}, tmp_path / "absent").ok


@pytest.mark.parametrize("actual", ["offscreen", "dummy", None, "x11"])
def test_driver_problem_is_loud_when_sdl_fell_back(actual: str | None) -> None:
    message = kmsdrm.driver_problem(actual)
    assert message is not None
    assert message.startswith("DISPLAY:") and "kmsdrm" in message


def test_driver_problem_is_none_when_sdl_got_kmsdrm() -> None:
    assert kmsdrm.driver_problem("kmsdrm") is None


def test_real_pygame_reports_the_driver_it_got(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check the station does, with pygame's real dummy driver."""
    pygame = pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    try:
        actual = pygame.display.get_driver()
    finally:
        pygame.display.quit()
    assert kmsdrm.driver_problem(actual, wanted="dummy") is None
    assert kmsdrm.driver_problem(actual) is not None


def test_a_desktop_session_is_left_to_sdl(tmp_path: Path) -> None:
    sysfs = fake_sysfs(tmp_path, {"card1-HDMI-A-1": "connected"})
    env = {"DISPLAY": ":0"}
    choice = kmsdrm.prepare(env, sysfs)
    assert choice.ok and choice.driver == "desktop"
    assert env == {"DISPLAY": ":0"}
    assert kmsdrm.driver_problem("x11", wanted=choice.driver) is None
    # ... but the kiosk's unit sets kmsdrm explicitly, and that wins.
    env = {"DISPLAY": ":0", "SDL_VIDEODRIVER": "kmsdrm"}
    assert kmsdrm.prepare(env, sysfs).card is not None
