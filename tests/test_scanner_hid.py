"""USB-HID wedge scanners: real evdev.InputEvent sequences through the decoder,
the backend on the simulated keyboard, and a real uinput device where there is one."""

from __future__ import annotations

import os
import string
import time

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.scanner.hid import (
    US_LAYOUT,
    HidScanner,
    HidSelector,
    KeyDecoder,
    find_evdev_device,
    keystrokes,
)
from kiosk.scanner.sim import SimulatedKeyboard
from tests.scanner_util import Events

TYPABLE = string.ascii_letters + string.digits + string.punctuation + " "


def events(pairs: list[tuple[int, int]], start: float = 1000.0, step: float = 0.004) -> list:
    """Real InputEvents as the kernel sends them: MSC_SCAN, KEY, SYN_REPORT."""
    out = []
    for i, (code, value) in enumerate(pairs):
        t = start + i * step
        sec, usec = int(t), round((t - int(t)) * 1_000_000)
        out += [
            InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),
            InputEvent(sec, usec, ecodes.EV_KEY, code, value),
            InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
        ]
    return out


def decode(event_list: list, decoder: KeyDecoder | None = None) -> list:
    decoder = decoder or KeyDecoder()
    return [r for r in (decoder.feed(e) for e in event_list) if r is not None]


def test_layout_constants_match_evdev() -> None:
    assert ecodes.KEY_A in US_LAYOUT and US_LAYOUT[ecodes.KEY_A] == ("a", "A")
    assert US_LAYOUT[ecodes.KEY_2] == ("2", "@")
    assert US_LAYOUT[ecodes.KEY_SLASH] == ("/", "?")
    assert (ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT, ecodes.KEY_CAPSLOCK) == (28, 42, 58)


def test_digits_and_enter() -> None:
    (result,) = decode(events(keystrokes("2021000007")))
    assert (result.text, result.problem) == ("2021000007", None)


def test_shift_either_side_and_symbols() -> None:
    pairs = [
        (ecodes.KEY_RIGHTSHIFT, 1), (ecodes.KEY_A, 1), (ecodes.KEY_A, 0),
        (ecodes.KEY_RIGHTSHIFT, 0), (ecodes.KEY_B, 1), (ecodes.KEY_B, 0),
        (ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_1, 1), (ecodes.KEY_1, 0),
        (ecodes.KEY_LEFTSHIFT, 0), (ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0),
    ]  # fmt: skip
    assert decode(events(pairs))[0].text == "Ab!"


def test_caps_lock_flips_letters_only_and_shift_undoes_it() -> None:
    pairs = [(ecodes.KEY_CAPSLOCK, 1), (ecodes.KEY_CAPSLOCK, 0), *keystrokes("ab1")[:-2]]
    pairs += [(ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_C, 1), (ecodes.KEY_C, 0)]
    pairs += [(ecodes.KEY_LEFTSHIFT, 0), (ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)]
    assert decode(events(pairs))[0].text == "AB1c"


def test_autorepeat_is_ignored() -> None:
    pairs = [(ecodes.KEY_7, 1), (ecodes.KEY_7, 2), (ecodes.KEY_7, 2), (ecodes.KEY_7, 0)]
    pairs += [(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)]
    assert decode(events(pairs))[0].text == "7"


def test_keypad_digits_and_keypad_enter() -> None:
    pairs = [(ecodes.KEY_KP4, 1), (ecodes.KEY_KP4, 0), (ecodes.KEY_KP2, 1), (ecodes.KEY_KP2, 0)]
    pairs += [(ecodes.KEY_KPENTER, 1), (ecodes.KEY_KPENTER, 0)]
    assert decode(events(pairs))[0].text == "42"


def test_unknown_key_refuses_the_whole_scan() -> None:
    pairs = [*keystrokes("12")[:-2], (ecodes.KEY_F13, 1), (ecodes.KEY_F13, 0), *keystrokes("3")]
    (result,) = decode(events(pairs))
    assert result.problem is not None and "keyboard country" in result.problem
    # the next scan is clean again
    assert decode(events(keystrokes("45"), start=2000.0), KeyDecoder())[0].text == "45"


def test_partial_burst_is_dropped_after_the_inter_key_timeout() -> None:
    decoder = KeyDecoder(inter_key_timeout=0.1)
    first = events(keystrokes("999")[:-2], start=10.0)  # no Enter: cut short
    second = events(keystrokes("123"), start=11.0)
    assert decode(first + second, decoder)[0].text == "123"
    assert decoder.dropped_partial == 1


def test_expire_drops_a_stale_partial_burst() -> None:
    decoder = KeyDecoder(inter_key_timeout=0.1)
    decode(events(keystrokes("99")[:-2], start=10.0), decoder)
    assert decoder.expire(10.05) is False
    assert decoder.expire(11.0) is True
    assert decoder.chars == []


def test_tab_terminator() -> None:
    decoder = KeyDecoder(terminator="tab")
    (result,) = decode(events(keystrokes("A1", terminator="tab")), decoder)
    assert result.text == "A1"
    # with Enter as terminator, a Tab inside the code is part of it
    assert decode(events(keystrokes("A\tB")))[0].text == "A\tB"


def test_lone_enter_gives_nothing() -> None:
    assert decode(events([(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)])) == []


def test_keystrokes_refuses_untypable_text() -> None:
    with pytest.raises(ValueError, match="US keyboard"):
        keystrokes("学号")


@given(st.text(alphabet=TYPABLE, min_size=1, max_size=60))
def test_any_typable_text_round_trips(text: str) -> None:
    (result,) = decode(events(keystrokes(text)))
    assert result.text == text


key_event = st.builds(
    lambda sec, usec, type_, code, value: InputEvent(sec, usec, type_, code, value),
    st.integers(0, 2**31 - 1),
    st.integers(0, 999_999),
    st.sampled_from([ecodes.EV_SYN, ecodes.EV_KEY, ecodes.EV_MSC, ecodes.EV_LED, 0x1F]),
    st.integers(0, 0x2FF),
    st.integers(-3, 3),
)


@settings(max_examples=300)
@given(st.lists(key_event, max_size=80), st.text(alphabet=TYPABLE, min_size=1, max_size=20))
def test_arbitrary_events_never_raise_and_a_clean_scan_still_reads(noise: list, text: str) -> None:
    decoder = KeyDecoder(inter_key_timeout=0.25)
    for event in noise:
        decoder.feed(event)
    # after the noise, a real scan 10 s later (the gap drops any partial burst)
    later = max((e.timestamp() for e in noise), default=0.0) + 10.0
    results = decode(events(keystrokes(text), start=later), decoder)
    # shift or caps lock may be left on by the noise; the scanner's own
    # shift presses still give the right text once both are released
    decoder.shift.clear()
    decoder.caps = False
    again = decode(events(keystrokes(text), start=later + 10.0), decoder)
    assert results and again[0].text == text


def test_selector_parsing() -> None:
    assert HidSelector.parse("/dev/input/by-id/usb-X-event-kbd").path
    assert HidSelector.parse("0c2e:0b61") == HidSelector(vendor=0x0C2E, product=0x0B61)
    assert HidSelector.parse("name=Honeywell").name == "Honeywell"
    with pytest.raises(ValueError, match="vendor:product"):
        HidSelector.parse("scanner")


# -- the backend on the simulated keyboard ----------------------------------------


def test_backend_grabs_reads_and_survives_unplug() -> None:
    keyboard = SimulatedKeyboard(key_interval=0.001)
    backend = HidScanner(
        "name=barcode", opener=keyboard.open, reconnect_interval=0.05, inter_key_timeout=0.25
    )
    got = Events()
    backend.start(got)
    try:
        got.wait_status("ok")
        assert keyboard.grabbed
        keyboard.scan("B2021007")
        scan = got.wait_scan()
        assert scan.payload == b"B2021007"
        assert scan.source == "hid:name=barcode"
        mark = len(got.items)
        keyboard.unplug()
        got.wait_status("lost", after=mark)
        assert not keyboard.grabbed
        time.sleep(0.15)  # polls while it is away
        keyboard.replug()
        got.wait_status("ok", after=mark)
        assert keyboard.grabs == 2
        mark = len(got.items)
        keyboard.scan("0042")
        assert got.wait_scan(after=mark).payload == b"0042"
    finally:
        backend.stop()
        keyboard.destroy()
    assert not keyboard.grabbed


def test_backend_reports_a_wrong_layout_scan_without_emitting_it() -> None:
    keyboard = SimulatedKeyboard()
    backend = HidScanner("name=barcode", opener=keyboard.open, reconnect_interval=0.05)
    got = Events()
    backend.start(got)
    try:
        got.wait_status("ok")
        keyboard.send([*keystrokes("12")[:-2], (ecodes.KEY_F20, 1), *keystrokes("3")])
        status = got.wait_status("error")
        assert "US" in status.message
        keyboard.scan("77")
        assert got.wait_scan().payload == b"77"
        assert len(got.scans) == 1
    finally:
        backend.stop()
        keyboard.destroy()


def test_missing_device_is_reported_once_while_polling() -> None:
    keyboard = SimulatedKeyboard()
    keyboard.unplug()
    backend = HidScanner("name=barcode", opener=keyboard.open, reconnect_interval=0.02)
    got = Events()
    backend.start(got)
    try:
        got.wait_status("lost")
        time.sleep(0.15)
        assert [s.state for s in got.statuses] == ["lost"]
        keyboard.replug()
        got.wait_status("ok")
    finally:
        backend.stop()
        keyboard.destroy()


def test_real_evdev_opener_finds_nothing_for_an_absent_path() -> None:
    assert find_evdev_device(HidSelector(path="/dev/input/by-id/not-there")) is None


def test_unopenable_device_says_why(tmp_path) -> None:
    def opener(selector: HidSelector):
        raise PermissionError(13, "Permission denied")

    backend = HidScanner("/dev/input/event7", opener=opener, reconnect_interval=0.05)
    got = Events()
    backend.start(got)
    try:
        assert "Permission denied" in got.wait_status("lost").message
    finally:
        backend.stop()


@pytest.mark.skipif(
    not os.access("/dev/uinput", os.W_OK),
    reason="/dev/uinput is missing or not writable here (no uinput module in this VM/container)",
)
def test_real_uinput_device_through_the_kernel() -> None:
    from evdev import UInput

    caps = {ecodes.EV_KEY: sorted({c for c, _ in keystrokes(TYPABLE)})}
    with UInput(caps, name="kiosk-test-scanner") as device:
        time.sleep(0.3)  # udev creates the node
        backend = HidScanner("name=kiosk-test-scanner", reconnect_interval=0.05)
        got = Events()
        backend.start(got)
        try:
            got.wait_status("ok")
            for code, value in keystrokes("Ab-123"):
                device.write(ecodes.EV_KEY, code, value)
                device.syn()
            assert got.wait_scan().payload == b"Ab-123"
        finally:
            backend.stop()
