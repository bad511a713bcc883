"""Scanner benchmark: decode overhead after the last key/byte, and one ID-card read cycle.

    .venv/bin/python bench/scanner_bench.py [--runs 300] [--cycles 20]

Targets (issue 4): decode overhead after the last byte/key of a scan under
2 ms p99; one full ID-card read cycle at 115200 baud within 1.5x of the time
its bytes need on the wire.

"Decode" is measured twice: the pure code (decoder/splitter/frame parser +
Identifier) on the final key or chunk, and end to end through the backend's
thread (real pipe/pty, select/pyserial wake-up, emit callback), timed from
the moment the twin has written the last byte. The read cycle runs against
the simulated SAM reader on a pty, which paces its answers at the baud rate
(10 bits a byte); the pty itself has no baud limit, so the "unpaced" figure
shows the software cost alone. The simulator answers instantly apart from the
wire time: a real SAM module adds its own radio read time (~0.1-0.5 s by the
vendors' notes), which no software on the kiosk can shorten.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time

from kiosk.config import ScannerConfig
from kiosk.sample import sample_rows
from kiosk.scanner import idcard
from kiosk.scanner.base import Scan
from kiosk.scanner.hid import HidScanner, KeyDecoder, keystrokes
from kiosk.scanner.parse import Identifier
from kiosk.scanner.serial_line import LineSplitter, SerialLineScanner
from kiosk.scanner.sim import Card, SimulatedKeyboard, SimulatedSamReader, SimulatedSerialScanner
from kiosk.student import Student


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def show(label: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"  {label:<46} p50 {pct(ms, 0.5):7.3f} ms  p99 {pct(ms, 0.99):7.3f} ms  "
        f"max {max(ms):7.3f} ms  (n={len(ms)})"
    )


def student() -> Student:
    row = sample_rows(1)[0]
    return Student(row[6], row[3], row[4], row[5], row[1], row[2])


class Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0
        self.scans = 0

    def __call__(self, event: object) -> None:
        if isinstance(event, Scan):
            self.at = time.perf_counter()
            self.scans += 1
            self.event.set()

    def wait(self, timeout: float = 5.0) -> float:
        if not self.event.wait(timeout):
            raise SystemExit("benchmark: no scan arrived")
        self.event.clear()
        return self.at


def pure(runs: int, identifier: Identifier) -> None:
    print("pure decode of the final key / chunk (+ Identifier.identify):")
    from evdev import InputEvent

    text = "0020210007"
    times = []
    for i in range(runs):
        decoder = KeyDecoder()
        pairs = keystrokes(text)
        evs = [InputEvent(100 + i, j * 1000, 1, c, v) for j, (c, v) in enumerate(pairs)]
        for e in evs[:-2]:
            decoder.feed(e)
        t0 = time.perf_counter()
        result = decoder.feed(evs[-2])
        identifier.identify(Scan(result.text.encode(), "hid:bench"))
        times.append(time.perf_counter() - t0)
    show("HID: Enter key-down -> Identity", times)

    times = []
    for _ in range(runs):
        splitter = LineSplitter("cr")
        splitter.feed(text.encode(), 0.0)
        t0 = time.perf_counter()
        (line,) = splitter.feed(b"\r", 0.001)
        identifier.identify(Scan(line, "serial:bench"))
        times.append(time.perf_counter() - t0)
    show("serial: terminator byte -> Identity", times)

    card = Card.from_student(student())
    raw = idcard.answer(
        0x90, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + card.text() + bytes(1024)
    )
    times = []
    for _ in range(runs):
        parser = idcard.FrameParser()
        for i in range(0, len(raw) - 32, 32):
            parser.feed(raw[i : i + 32])
        t0 = time.perf_counter()
        (frame,) = parser.feed(raw[(len(raw) - 1) // 32 * 32 :])
        read = idcard.parse_read_answer(frame.data)
        identifier.identify(
            Scan(read.fields["id_number"].encode(), "idcard:bench", fields=read.fields)
        )
        times.append(time.perf_counter() - t0)
    show("ID card: last 32-byte chunk -> Identity", times)


def threaded(runs: int) -> None:
    print("end to end through the backend thread, after the twin wrote the last byte:")
    keyboard = SimulatedKeyboard(key_interval=0.0005)
    waiter = Waiter()
    hid = HidScanner("name=barcode", opener=keyboard.open)
    hid.start(waiter)
    time.sleep(0.2)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        keyboard.scan("0020210007")
        times.append(waiter.wait() - t0)
        time.sleep(0.002)
    hid.stop()
    keyboard.destroy()
    show("HID: after the twin queued the burst (pipe fd)", times)

    with tempfile.TemporaryDirectory() as tmp:
        twin = SimulatedSerialScanner(link_dir=tmp)
        waiter = Waiter()
        serial_backend = SerialLineScanner(twin.port)
        serial_backend.start(waiter)
        time.sleep(0.3)
        times, received = [], []
        for _ in range(runs):
            twin.write(b"0020210007")
            time.sleep(0.003)
            t0 = time.perf_counter()
            twin.write(b"\r")
            at = waiter.wait()
            times.append(at - t0)
            received.append(at - serial_backend.last_byte_at)
        serial_backend.stop()
        twin.close()
    show("serial: after the twin wrote it (pty + pyserial)", times)
    show("serial: after the backend received it", received)

    with tempfile.TemporaryDirectory() as tmp:
        reader = SimulatedSamReader(pace=False, link_dir=tmp)
        waiter = Waiter()
        backend = idcard.IdCardReader(reader.port, poll_interval=0.005)
        backend.start(waiter)
        time.sleep(0.3)
        times, received = [], []
        for _ in range(max(50, runs // 2)):
            reader.present(student())
            at = waiter.wait()
            times.append(at - reader.last_write_at)
            received.append(at - backend.last_byte_at)
            reader.remove()
            time.sleep(0.03)
        backend.stop()
        reader.close()
    show("ID card: after the twin wrote it (pty, unpaced)", times)
    show("ID card: after the backend received it", received)


def cycles(n: int, baud: int, pace: bool) -> tuple[list[float], int]:
    import serial

    with tempfile.TemporaryDirectory() as tmp:
        reader = SimulatedSamReader(baud=baud, pace=pace, link_dir=tmp)
        backend = idcard.IdCardReader(reader.port, baud=baud)
        port = serial.Serial(reader.port, baud, timeout=0.01)
        waiter = Waiter()
        times = []
        try:
            for _ in range(n):
                reader.present(student())
                backend._card_read = False
                bytes_before = reader.bytes_out + reader.bytes_in
                t0 = time.perf_counter()
                outcome = backend.poll_once(port, waiter)
                times.append(time.perf_counter() - t0)
                assert outcome == "read", outcome
                on_wire = reader.bytes_out + reader.bytes_in - bytes_before
        finally:
            port.close()
            reader.close()
    return times, on_wire


def read_cycle(n: int) -> None:
    print("one ID-card read cycle (find 20 01 + select 20 02 + read 30 01):")
    for baud, runs in ((115200, n), (9600, 3)):
        paced, on_wire = cycles(runs, baud, pace=True)
        floor = idcard.wire_seconds(on_wire, baud)
        show(f"{baud} baud, paced simulator", paced)
        print(
            f"    bytes on the wire {on_wire} -> floor {floor * 1000:.1f} ms; "
            f"median {statistics.median(paced) / floor:.2f}x, p99 {pct(paced, 0.99) / floor:.2f}x "
            "of the floor"
        )
    unpaced, _ = cycles(n, 115200, pace=False)
    show("unpaced (software only, pty without baud limit)", unpaced)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    print(
        f"scanner benchmark on {platform.machine()} {platform.processor() or ''} "
        f"({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    identifier = Identifier(ScannerConfig())
    pure(args.runs, identifier)
    threaded(args.runs)
    read_cycle(args.cycles)


if __name__ == "__main__":
    main()
