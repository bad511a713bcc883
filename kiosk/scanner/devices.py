"""Which scanners to run: device specs from the config or the command line.

A spec names the kind and where it is: ``idcard:PORT[@BAUD]``,
``serial:PORT[@BAUD]`` or ``hid:SELECTOR`` (see ScannerConfig.devices). With
none configured and ``scanner.simulate`` on, :func:`open_backends` returns
backends wired to simulated twins (kiosk/scanner/sim.py), each carrying its
twin as ``backend.twin`` so the demo can present cards and scan codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kiosk.config import ConfigError, ScannerConfig
from kiosk.scanner.base import ScannerBackend
from kiosk.scanner.hid import HidScanner, HidSelector
from kiosk.scanner.idcard import IdCardReader
from kiosk.scanner.serial_line import SerialLineScanner

Kind = Literal["idcard", "serial", "hid"]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    kind: Kind
    target: str  # port or HID selector
    baud: int | None = None

    @classmethod
    def parse(cls, text: str) -> DeviceSpec:
        kind, sep, rest = text.strip().partition(":")
        if not sep or kind not in ("idcard", "serial", "hid") or not rest:
            raise ValueError(
                f"{text!r}: a scanner is idcard:PORT[@BAUD], serial:PORT[@BAUD] or hid:DEVICE "
                "(e.g. idcard:/dev/ttyUSB0, serial:/dev/ttyACM0@9600, "
                "hid:/dev/input/by-id/usb-…-event-kbd)"
            )
        if kind == "hid":
            HidSelector.parse(rest)  # raises with a hint
            return cls("hid", rest)
        port, at, baud_text = rest.rpartition("@")
        if not at:
            return cls(kind, rest)  # type: ignore[arg-type]
        if not baud_text.isdigit() or not port:
            raise ValueError(f"{text!r}: the baud rate after @ must be a number, e.g. @115200")
        return cls(kind, port, int(baud_text))  # type: ignore[arg-type]


def backend_for(spec: DeviceSpec, config: ScannerConfig) -> ScannerBackend:
    if spec.kind == "idcard":
        return IdCardReader(
            spec.target,
            baud=spec.baud or config.idcard_baud,
            poll_interval=config.idcard_poll_interval,
            answer_timeout=config.idcard_answer_timeout,
            missed_answers=config.idcard_missed_answers,
            reconnect_interval=config.reconnect_interval,
        )
    if spec.kind == "serial":
        return SerialLineScanner(
            spec.target,
            baud=spec.baud or config.serial_baud,
            terminator=config.serial_terminator,
            line_timeout=config.serial_line_timeout,
            reconnect_interval=config.reconnect_interval,
        )
    return HidScanner(
        spec.target,
        terminator=config.hid_terminator,
        inter_key_timeout=config.hid_inter_key_timeout,
        grab=config.hid_grab,
        reconnect_interval=config.reconnect_interval,
    )


def configured_specs(config: ScannerConfig) -> list[DeviceSpec]:
    specs = []
    for i, text in enumerate(config.devices):
        try:
            specs.append(DeviceSpec.parse(text))
        except ValueError as exc:
            raise ConfigError(f"scanner.devices[{i}]: {exc}") from exc
    return specs


def open_backends(config: ScannerConfig, specs: list[DeviceSpec] | None = None) -> list[Any]:
    """Backends for ``specs`` (default: the configured devices), not yet started.

    No devices and ``config.simulate``: the simulated twins' backends, each
    with ``.twin`` (see :func:`simulate`). No devices and no simulation: [].
    """
    if specs is None:
        specs = configured_specs(config)
    if specs:
        return [backend_for(spec, config) for spec in specs]
    if not config.simulate:
        return []
    return simulate(config).backends


def simulate(config: ScannerConfig, *, pace: bool = True) -> Any:
    """Start the three twins and build real backends on them.

    Returns a :class:`kiosk.scanner.sim.Simulation`; ``simulation.close()``
    stops the backends (if started) and the twins.
    """
    from kiosk.scanner.sim import (
        SimulatedKeyboard,
        SimulatedSamReader,
        SimulatedSerialScanner,
        Simulation,
    )

    terminator = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}[config.serial_terminator]
    reader = SimulatedSamReader(baud=config.idcard_baud, pace=pace)
    barcode = SimulatedSerialScanner(terminator=terminator)
    keyboard = SimulatedKeyboard()
    sim = Simulation(reader, barcode, keyboard)
    idcard_backend = backend_for(DeviceSpec("idcard", reader.port), config)
    serial_backend = backend_for(DeviceSpec("serial", barcode.port), config)
    hid_backend = HidScanner(
        keyboard.path,
        terminator=config.hid_terminator,
        inter_key_timeout=config.hid_inter_key_timeout,
        grab=config.hid_grab,
        reconnect_interval=config.reconnect_interval,
        opener=keyboard.open,
    )
    for backend, twin in (
        (idcard_backend, reader),
        (serial_backend, barcode),
        (hid_backend, keyboard),
    ):
        backend.twin = twin  # type: ignore[attr-defined]
        backend.simulation = sim  # type: ignore[attr-defined]
    sim.backends = [idcard_backend, serial_backend, hid_backend]
    return sim
