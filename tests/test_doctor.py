"""``kiosk doctor``: each check on its own, then the command end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import config as config_module
from kiosk import doctor
from kiosk.store import Store
from tests.test_kmsdrm import fake_sysfs

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOW = dt.datetime(2026, 6, 10, 9, 30, tzinfo=dt.UTC)


def make_ctx(tmp_path: Path, language: str = "en", **deployment: object) -> doctor.Context:
    config = config_module.from_dict(
        {"station": {"crew_language": language}, "deployment": deployment}
    ).with_data_dir(tmp_path / "data")
    return doctor.Context(
        config=config,
        environ={},
        now=NOW,
        sysfs_drm=tmp_path / "no-sysfs",
        timesync_flag=tmp_path / "synchronized",
    )


# -- the result and its rendering -------------------------------------------


def test_exit_code_is_one_only_when_something_failed() -> None:
    ok = doctor.Finding("disk", "pass", "fine")
    bad = doctor.Finding("clock", "fail", "not set", "wait for NTP")
    assert doctor.exit_code([ok, ok]) == 0
    assert doctor.exit_code([ok, bad]) == 1


def test_render_gives_one_line_per_check_and_the_fix_under_a_failure() -> None:
    lines = doctor.render(
        [
            doctor.Finding("disk", "pass", "fine"),
            doctor.Finding("clock", "fail", "not set", "wait for NTP"),
        ],
        zh=False,
    )
    assert lines[0].startswith("PASS  disk")
    assert lines[1].startswith("FAIL  clock") and lines[2] == "      fix: wait for NTP"
    assert lines[-1] == "2 checks, 1 failed"


def test_a_check_that_crashes_is_a_failure_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: doctor.Context) -> doctor.Finding:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (("disk", broken),))
    [finding] = doctor.run(make_ctx(tmp_path))
    assert finding.status == "fail" and "RuntimeError: boom" in finding.detail


# -- display ----------------------------------------------------------------


def test_display_passes_with_a_connected_screen(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.sysfs_drm = fake_sysfs(tmp_path, {"card1-HDMI-A-1": "connected"})
    finding = doctor.check_display(ctx)
    assert finding.status == "pass" and "/dev/dri/card1" in finding.detail


def test_display_fails_without_a_screen(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.sysfs_drm = fake_sysfs(tmp_path, {"card1-HDMI-A-1": "disconnected"})
    finding = doctor.check_display(ctx)
    assert finding.status == "fail" and "HDMI" in finding.fix


def test_display_with_the_simulated_driver_passes_and_says_so(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.environ = {"SDL_VIDEODRIVER": "dummy"}
    finding = doctor.check_display(ctx)
    assert finding.status == "pass" and "dummy" in finding.detail


# -- font -------------------------------------------------------------------


def _font_ctx(tmp_path: Path, font: Path) -> doctor.Context:
    ctx = make_ctx(tmp_path)
    ctx.config = config_module.from_dict(
        {"station": {"crew_language": "en"}, "export": {"font": str(font)}}
    )
    return ctx


def test_font_check_passes_with_wenquanyi(tmp_path: Path) -> None:
    if not WQY.exists():
        pytest.skip("fonts-wqy-zenhei not installed (install.sh installs it)")
    finding = doctor.check_font(_font_ctx(tmp_path, WQY))
    assert finding.status == "pass" and "wqy-zenhei" in finding.detail


def test_font_check_fails_with_a_latin_only_font_and_names_the_characters(
    tmp_path: Path,
) -> None:
    if not DEJAVU.exists():
        pytest.skip("DejaVu Sans not installed")
    finding = doctor.check_font(_font_ctx(tmp_path, DEJAVU))
    assert finding.status == "fail"
    assert "DejaVuSans.ttf lacks" in finding.detail and "请" in finding.detail
    assert "fonts-wqy-zenhei" in finding.fix


def test_font_check_fails_for_a_missing_or_broken_font_file(tmp_path: Path) -> None:
    missing = doctor.check_font(_font_ctx(tmp_path, tmp_path / "nope.ttf"))
    assert missing.status == "fail" and "does not exist" in missing.detail
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    unreadable = doctor.check_font(_font_ctx(tmp_path, broken))
    assert unreadable.status == "fail" and "unreadable" in unreadable.detail


# -- disk -------------------------------------------------------------------


def test_disk_needs_a_days_shots(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, day_shots=100, shot_bytes=1_000_000)
    assert doctor.disk_finding(ctx, 100_000_000, tmp_path).status == "pass"
    short = doctor.disk_finding(ctx, 99_999_999, tmp_path)
    assert short.status == "fail" and "kiosk sync --once" in short.fix


def test_the_data_folder_must_be_its_own_partition_when_required(tmp_path: Path) -> None:
    required = make_ctx(tmp_path, require_data_partition=True)
    same = doctor.partition_finding(required, data_device=7, root_device=7)
    assert same is not None and same.status == "fail" and "findmnt" in same.fix
    assert doctor.partition_finding(required, data_device=8, root_device=7) is None
    relaxed = make_ctx(tmp_path)
    assert doctor.partition_finding(relaxed, data_device=7, root_device=7) is None


def test_disk_check_measures_the_nearest_existing_folder(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, day_shots=1, shot_bytes=1)
    assert doctor.check_disk(ctx).status == "pass"  # data folder not made yet


# -- clock ------------------------------------------------------------------


def test_clock_before_the_release_date_was_never_set(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.now = dt.datetime(1970, 1, 1, 0, 1, tzinfo=dt.UTC)
    finding = doctor.clock_finding(ctx, None, ntp_synchronised=False)
    assert finding.status == "fail" and "NTP" in finding.fix


def test_clock_behind_the_newest_record_went_back(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    later = NOW + dt.timedelta(hours=3)
    assert doctor.clock_finding(ctx, later, True).status == "fail"
    slightly = NOW + dt.timedelta(minutes=2)  # within the slack: fine
    assert doctor.clock_finding(ctx, slightly, True).status == "pass"


def test_clock_sane_says_whether_ntp_confirmed_it(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    assert "synchronised by NTP" in doctor.clock_finding(ctx, None, True).detail
    assert "not confirmed by NTP" in doctor.clock_finding(ctx, None, False).detail


def test_clock_check_reads_the_newest_record_from_the_database(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    with Store(ctx.config.db_path) as store:
        store.log_event("test", "a record written now")
    ctx.now = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)  # the clock jumped back
    assert doctor.check_clock(ctx).status == "fail"
    ctx.now = dt.datetime.now(dt.UTC)
    assert doctor.check_clock(ctx).status == "pass"


def test_a_bad_clock_setting_is_named(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, clock_not_before="June")
    finding = doctor.clock_finding(ctx, None, False)
    assert finding.status == "fail" and "clock_not_before" in finding.detail


# -- database ---------------------------------------------------------------


def test_database_missing_intact_and_damaged(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    missing = doctor.check_database(ctx)
    assert missing.status == "fail" and "roster import" in missing.fix
    Store(ctx.config.db_path).close()
    assert doctor.check_database(ctx).status == "pass"
    ctx.config.db_path.write_bytes(b"this is not a database" * 200)
    damaged = doctor.check_database(ctx)
    assert damaged.status == "fail" and "do not delete photos" in damaged.fix


# -- pedal ------------------------------------------------------------------


def test_no_pedal_configured_passes(tmp_path: Path) -> None:
    assert doctor.check_shutter(make_ctx(tmp_path)).status == "pass"


def test_a_configured_pedal_on_mock_pins(tmp_path: Path) -> None:
    mock = pytest.importorskip("gpiozero.pins.mock")
    from gpiozero import Device

    class ShortedPin(mock.MockPin):
        """A pin wired straight to ground: the pull-up cannot lift it."""

        def drive_high(self) -> None:
            self.drive_low()

    try:
        Device.pin_factory = mock.MockFactory()
        ctx = make_ctx(tmp_path, shutter_pin=17)
        assert doctor.check_shutter(ctx).status == "pass"
        Device.pin_factory = mock.MockFactory(pin_class=ShortedPin)
        stuck = doctor.check_shutter(ctx)  # a short, or a foot resting on it
        assert stuck.status == "fail" and "GPIO17" in stuck.detail
    finally:
        Device.pin_factory = None


# -- the command ------------------------------------------------------------


def _kiosk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "KIOSK_DATA")}
    env["SDL_VIDEODRIVER"] = "dummy"
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_kiosk_doctor_end_to_end_all_green_on_the_simulated_kiosk(tmp_path: Path) -> None:
    """Simulated camera and readers, the dummy screen, a real receiver: exit 0."""
    from tests import sync_support as support

    first = _kiosk(tmp_path, "doctor", "--only", "database", "--only", "disk")
    assert first.returncode == 1
    assert "FAIL  database" in first.stdout and "PASS  disk" in first.stdout

    from kiosk.sample import write_sample_roster

    roster = write_sample_roster(tmp_path / "roster.xlsx", count=5)
    assert _kiosk(tmp_path, "roster", "import", str(roster)).returncode == 0
    token = support.add_token(tmp_path / "central", "kiosk-01")
    server = support.Receiver(tmp_path / "central").start()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[station]\ncrew_language = "en"\n'
        '[camera]\nbackend = "sim"\n'
        "[scanner]\nsimulate = true\n"
        f'[sync]\nserver_url = "{server.url}"\ntoken = "{token}"\nallow_http = true\n',
        encoding="utf-8",
    )
    try:
        done = _kiosk(tmp_path, "--config", str(config), "doctor", "--json")
    finally:
        server.stop()
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    assert set(findings) == {name for name, _ in doctor.CHECKS}
    assert {name: f["status"] for name, f in findings.items()} == dict.fromkeys(findings, "pass")
    assert done.returncode == 0


# -- scanner (through kiosk.scanner's own backends) ---------------------------


def _scanner_ctx(tmp_path: Path, scanner: dict[str, object], timeout: float) -> doctor.Context:
    ctx = make_ctx(tmp_path, doctor_timeout_s=timeout)
    ctx.config = config_module.from_dict(
        {
            "station": {"crew_language": "en"},
            "scanner": scanner,
            "deployment": {"doctor_timeout_s": timeout},
        }
    ).with_data_dir(tmp_path / "data")
    return ctx


def test_scanner_check_passes_on_the_simulated_twins(tmp_path: Path) -> None:
    finding = doctor.check_scanner(_scanner_ctx(tmp_path, {"simulate": True}, 10.0))
    assert finding.status == "pass", finding.detail
    assert "simulated" in finding.detail and "idcard:" in finding.detail


def test_scanner_check_fails_for_a_missing_device_and_names_it(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB-gone"
    ctx = _scanner_ctx(tmp_path, {"devices": [f"serial:{port}"], "simulate": False}, 1.0)
    finding = doctor.check_scanner(ctx)
    assert finding.status == "fail"
    assert f"serial:{port}" in finding.detail and "/dev/kiosk-" in finding.fix


def test_scanner_check_fails_when_the_id_card_reader_does_not_answer(tmp_path: Path) -> None:
    """A real pseudo-terminal with nothing behind it: open, but no SAM answer."""
    controller, device = os.openpty()
    try:
        ctx = _scanner_ctx(
            tmp_path,
            {"devices": [f"idcard:{os.ttyname(device)}"], "simulate": False},
            3.0,
        )
        finding = doctor.check_scanner(ctx)
    finally:
        os.close(controller)
        os.close(device)
    assert finding.status == "fail"
    assert "idcard:" in finding.detail


def test_no_scanner_configured_and_no_simulation_fails(tmp_path: Path) -> None:
    finding = doctor.check_scanner(_scanner_ctx(tmp_path, {"simulate": False}, 1.0))
    assert finding.status == "fail" and "no scanner configured" in finding.detail


def test_a_configured_pedal_without_gpio_hardware_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gpiozero")
    if Path("/dev/gpiochip0").exists():
        pytest.skip("this machine has GPIO")
    from gpiozero import Device

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    Device.pin_factory = None
    finding = doctor.check_shutter(make_ctx(tmp_path, shutter_pin=17))
    assert finding.status == "fail"
    assert "GPIO17" in finding.detail and "kiosk.service" in finding.fix


# -- central receiver (a real `central serve` on 127.0.0.1) -------------------


def _central_ctx(tmp_path: Path, url: str, token: str, station: str = "kiosk-01") -> doctor.Context:
    ctx = make_ctx(tmp_path)
    ctx.config = config_module.from_dict(
        {
            "station": {"crew_language": "en", "station_id": station},
            "sync": {"server_url": url, "token": token, "allow_http": True},
            "deployment": {"doctor_timeout_s": 5.0},
        }
    )
    return ctx


def test_central_check_against_a_real_receiver(tmp_path: Path) -> None:
    from tests import sync_support as support

    token = support.add_token(tmp_path / "central", "kiosk-01")
    server = support.Receiver(tmp_path / "central").start()
    try:
        ok = doctor.check_central(_central_ctx(tmp_path, server.url, token))
        assert ok.status == "pass" and "kiosk-01" in ok.detail
        other = doctor.check_central(_central_ctx(tmp_path, server.url, token, "kiosk-02"))
        assert other.status == "fail" and "belongs to kiosk-01" in other.detail
        assert "central token add kiosk-02" in other.fix
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        from_file = _central_ctx(tmp_path, server.url, "")
        from_file.config = config_module.from_dict(
            {
                "station": {"crew_language": "en"},
                "sync": {
                    "server_url": server.url,
                    "token_file": str(token_file),
                    "allow_http": True,
                },
            }
        )
        assert doctor.check_central(from_file).status == "pass"
        wrong = doctor.check_central(_central_ctx(tmp_path, server.url, "not-the-token"))
        assert wrong.status == "fail" and "[sync]" in wrong.fix
    finally:
        server.stop()


def test_central_check_fails_when_nothing_listens_or_nothing_is_set(tmp_path: Path) -> None:
    from tests import sync_support as support

    url = f"http://127.0.0.1:{support.free_port()}"
    down = doctor.check_central(_central_ctx(tmp_path, url, "some-token"))
    assert down.status == "fail" and url in down.detail
    unset = doctor.check_central(_central_ctx(tmp_path, "", ""))
    assert unset.status == "fail" and "sync.server_url" in unset.detail


# -- camera (through kiosk.capture.camera's own backends) ---------------------


def _camera_ctx(tmp_path: Path, camera: dict[str, object], timeout: float = 5.0) -> doctor.Context:
    ctx = make_ctx(tmp_path)
    ctx.config = config_module.from_dict(
        {
            "station": {"crew_language": "en"},
            "camera": camera,
            "deployment": {"doctor_timeout_s": timeout},
        }
    )
    return ctx


def test_camera_check_passes_on_the_simulated_camera(tmp_path: Path) -> None:
    finding = doctor.check_camera(_camera_ctx(tmp_path, {"backend": "sim"}))
    assert finding.status == "pass", finding.detail


def test_a_frozen_camera_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.capture import sim as camera_module

    frozen = camera_module.SimCamera.latest

    def same_frame(self: object) -> object:
        frame = frozen(self)  # type: ignore[arg-type]
        return None if frame is None else dataclasses.replace(frame, seq=1)

    monkeypatch.setattr(camera_module.SimCamera, "latest", same_frame)
    finding = doctor.check_camera(_camera_ctx(tmp_path, {"backend": "sim"}, timeout=1.0))
    assert finding.status == "fail" and "1 distinct frames" in finding.detail


def test_camera_that_cannot_open_says_how_to_fix_it(tmp_path: Path) -> None:
    try:
        import picamera2  # noqa: F401

        pytest.skip("picamera2 is installed here")
    except ImportError:
        pass
    finding = doctor.check_camera(_camera_ctx(tmp_path, {"backend": "picamera2"}))
    assert finding.status == "fail" and "rpicam-hello" in finding.fix
