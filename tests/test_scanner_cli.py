"""``kiosk scan`` and the device factory."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.cli import main
from kiosk.config import ConfigError, ScannerConfig
from kiosk.sample import sample_rows
from kiosk.scanner.devices import DeviceSpec, configured_specs, open_backends
from kiosk.scanner.hid import HidScanner
from kiosk.scanner.idcard import IdCardReader
from kiosk.scanner.serial_line import SerialLineScanner
from kiosk.scanner.sim import SimulatedSamReader, SimulatedSerialScanner
from kiosk.student import Student


def test_device_specs() -> None:
    assert DeviceSpec.parse("idcard:/dev/ttyUSB0@9600") == DeviceSpec(
        "idcard", "/dev/ttyUSB0", 9600
    )
    assert DeviceSpec.parse("serial:/dev/serial/by-id/usb-X-if00") == DeviceSpec(
        "serial", "/dev/serial/by-id/usb-X-if00"
    )
    assert DeviceSpec.parse("hid:0c2e:0b61").target == "0c2e:0b61"
    for bad in ("ttyUSB0", "camera:/dev/video0", "serial:/dev/ttyACM0@fast", "hid:whatever"):
        with pytest.raises(ValueError):
            DeviceSpec.parse(bad)


def test_configured_devices_build_real_backends() -> None:
    config = ScannerConfig(
        devices=("idcard:/dev/ttyUSB0", "serial:/dev/ttyACM0@115200", "hid:name=Honeywell")
    )
    backends = open_backends(config)
    assert [type(b) for b in backends] == [IdCardReader, SerialLineScanner, HidScanner]
    assert backends[1].baud == 115200
    with pytest.raises(ConfigError, match=r"scanner\.devices\[0\]"):
        configured_specs(ScannerConfig(devices=("usb",)))


def test_no_devices_means_simulated_twins_or_nothing() -> None:
    assert open_backends(ScannerConfig(simulate=False)) == []
    backends = open_backends(ScannerConfig())
    try:
        assert [type(b) for b in backends] == [IdCardReader, SerialLineScanner, HidScanner]
        assert all(hasattr(b, "twin") for b in backends)
    finally:
        backends[0].simulation.close()


def _student() -> Student:
    row = sample_rows(1)[0]
    return Student(row[6], row[3], row[4], row[5], row[1], row[2])


def test_kiosk_scan_json_from_an_id_card_reader_on_a_pty(tmp_path: Path) -> None:
    reader = SimulatedSamReader(pace=False, link_dir=tmp_path)
    barcode = SimulatedSerialScanner(link_dir=tmp_path)
    config = tmp_path / "kiosk.toml"
    config.write_text("[scanner]\nidcard_poll_interval = 0.05\n", encoding="utf-8")

    def drive() -> None:
        time.sleep(0.5)
        reader.present(_student())
        time.sleep(0.5)
        barcode.scan("0020210007")

    threading.Thread(target=drive, daemon=True).start()
    try:
        result = CliRunner().invoke(
            main,
            ["--config", str(config), "--data", str(tmp_path / "data"), "scan",
             "--device", f"idcard:{reader.port}", "--device", f"serial:{barcode.port}",
             "--json", "--count", "2", "--timeout", "10"],
        )  # fmt: skip
    finally:
        reader.close()
        barcode.close()
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    card, number = lines
    assert card["kind"] == "id_number" and card["value"] == _student().id_number
    assert card["name"] == _student().name and card["source"] == f"idcard:{reader.port}"
    assert "address" not in card  # personal data the check does not need
    assert number == {
        "source": f"serial:{barcode.port}", "kind": "student_number", "value": "0020210007",
        "name": None, "raw_hex": b"0020210007".hex(), "rule": "0",
    }  # fmt: skip


def test_kiosk_scan_times_out_with_exit_1(tmp_path: Path) -> None:
    barcode = SimulatedSerialScanner(link_dir=tmp_path)
    try:
        result = CliRunner().invoke(
            main,
            ["--data", str(tmp_path), "scan", "--device", f"serial:{barcode.port}",
             "--count", "1", "--timeout", "0.5"],
        )  # fmt: skip
    finally:
        barcode.close()
    assert result.exit_code == 1
    assert "timeout: 0 scan(s)" in result.stderr


def test_kiosk_scan_bad_device_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data", str(tmp_path), "scan", "--device", "usb0"])
    assert result.exit_code == 2
    assert "idcard:PORT" in result.stderr


def test_kiosk_scan_runs_the_twins_without_hardware(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--data", str(tmp_path), "scan", "--count", "3", "--timeout", "20"]
    )
    assert result.exit_code == 0, result.output
    kinds = [line.split()[1] for line in result.stdout.splitlines()]
    assert kinds == ["id_number", "student_number", "student_number"]
    assert "simulated twins" in result.stderr
