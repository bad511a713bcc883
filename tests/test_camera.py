"""The camera logic, driven through a recording fake of the picamera2 adapter; SimCamera."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import cv2
import numpy as np
import pytest

from kiosk.capture import camera as cam
from kiosk.capture import sim
from kiosk.config import CameraConfig

# Camera Module 3 (imx708) as picamera2 reports it.
IMX708_MODES = [
    {"size": (1536, 864), "crop_limits": (768, 432, 3072, 1728), "bit_depth": 10},
    {"size": (2304, 1296), "crop_limits": (0, 0, 4608, 2592), "bit_depth": 10},
    {"size": (4608, 2592), "crop_limits": (0, 0, 4608, 2592), "bit_depth": 10},
]
ARRAY = (4608, 2592)
CONTROLS = [
    "AeEnable",
    "ExposureTime",
    "AnalogueGain",
    "AwbEnable",
    "ColourGains",
    "AfMode",
    "LensPosition",
    "AeFlickerMode",
    "AeFlickerPeriod",
]


class FakeRequest:
    def __init__(self, device: RecordingDevice, n: int) -> None:
        self.device = device
        self.n = n

    def make_array(self, name: str) -> np.ndarray:
        self.device.calls.append(("make_array", name, self.n))
        setup = self.device.setup
        assert setup is not None
        w, h = setup.main["size"] if name == "main" else setup.lores["size"]
        if name == "main":
            a = np.zeros((h, w, 3), np.uint8)
            a[..., 0] = self.n % 256  # frame number in the red channel
            return a
        rgb = np.full((h, w, 3), (200, 40, 40), np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)

    def get_metadata(self) -> dict[str, Any]:
        return {
            "ExposureTime": 8000 + self.n,
            "AnalogueGain": 2.0,
            "LensPosition": 0.667,
            "ColourGains": (1.8, 1.5),
            "SensorTimestamp": self.n,
        }

    def release(self) -> None:
        self.device.calls.append(("release", self.n))


class RecordingDevice:
    """Records every call the camera logic makes; can stall to simulate a hung camera."""

    def __init__(self, log: list, stall: threading.Event | None = None) -> None:
        self.calls = log
        self.sensor_modes = IMX708_MODES
        self.pixel_array_size = ARRAY
        self.available_controls = CONTROLS
        self.setup: cam.CameraSetup | None = None
        self.stall = stall
        self.n = 0
        self.stopped = threading.Event()
        self.stalled = threading.Event()

    def configure(self, setup: cam.CameraSetup, buffer_count: int) -> None:
        self.setup = setup
        self.calls.append(("configure", setup, buffer_count))

    def start(self) -> None:
        self.calls.append(("start",))

    def stop(self) -> None:
        self.stopped.set()
        self.calls.append(("stop",))

    def close(self) -> None:
        self.calls.append(("close",))

    def set_controls(self, controls: dict[str, Any]) -> None:
        self.calls.append(("set_controls", controls))

    def capture_request(self) -> FakeRequest:
        if self.stall is not None and self.stall.is_set():
            self.stalled.set()
            self.stopped.wait(5)
            raise RuntimeError("camera stopped while stalled")
        time.sleep(0.005)
        self.n += 1
        return FakeRequest(self, self.n)


CONFIG = CameraConfig(preview_size=(640, 360), still_size=(2304, 1296))


def test_pins_the_full_field_binned_mode() -> None:
    setup = cam.build_setup(CONFIG, IMX708_MODES, ARRAY, CONTROLS)
    assert setup.sensor_size == (2304, 1296)  # not the cropped 1536 x 864
    assert setup.main == {"size": (2304, 1296), "format": "BGR888"}
    assert setup.lores == {"size": (640, 360), "format": "YUV420"}
    small = dataclasses.replace(CONFIG, still_size=(1280, 720))
    # a small still must still come from a full-field mode, not the cropped one
    assert cam.build_setup(small, IMX708_MODES, ARRAY, CONTROLS).sensor_size == (2304, 1296)


def test_pinned_sensor_size_must_be_full_field() -> None:
    pinned = dataclasses.replace(CONFIG, sensor_size=(4608, 2592))
    assert cam.build_setup(pinned, IMX708_MODES, ARRAY, CONTROLS).sensor_size == (4608, 2592)
    cropped = dataclasses.replace(CONFIG, sensor_size=(1536, 864))
    with pytest.raises(cam.CameraError, match="not a full field-of-view mode"):
        cam.build_setup(cropped, IMX708_MODES, ARRAY, CONTROLS)


def test_controls_flicker_lens_and_fixed_exposure() -> None:
    controls = cam.base_controls(CONFIG, CONTROLS)
    assert controls["AeFlickerMode"] == 1 and controls["AeFlickerPeriod"] == 10000
    assert controls["AfMode"] == 0 and controls["LensPosition"] == pytest.approx(0.667)
    assert "AeEnable" not in controls  # automatic until the face is good
    fixed = dataclasses.replace(
        CONFIG, exposure_us=12000, analogue_gain=2.0, colour_gains=(1.9, 1.4)
    )
    controls = cam.base_controls(fixed, CONTROLS)
    assert controls["AeEnable"] is False and controls["ExposureTime"] == 12000
    assert controls["AwbEnable"] is False and controls["ColourGains"] == (1.9, 1.4)
    # a fixed-focus camera gets no AF controls
    assert "AfMode" not in cam.base_controls(CONFIG, ["AeEnable", "ExposureTime"])
    autofocus = dataclasses.replace(CONFIG, subject_distance_m=0.0)
    assert cam.base_controls(autofocus, CONTROLS)["AfMode"] == 1
    setup = cam.build_setup(autofocus, IMX708_MODES, ARRAY, CONTROLS)
    ((x, y, w, h),) = setup.controls["AfWindows"]
    assert x + w / 2 == pytest.approx(ARRAY[0] / 2, abs=2) and 0 < y < ARRAY[1] / 2 < y + h
    assert "AfWindows" not in cam.build_setup(CONFIG, IMX708_MODES, ARRAY, CONTROLS).controls


def test_autofocus_cycle_when_the_face_turns_good() -> None:
    calls: list = []
    autofocus = dataclasses.replace(CONFIG, subject_distance_m=0.0)
    camera = cam.Picamera2Camera(autofocus, lambda: RecordingDevice(calls))
    camera.start()
    try:
        while camera.latest() is None:
            time.sleep(0.01)
        camera.lock_exposure()
    finally:
        camera.stop()
    (sent,) = [c[1] for c in calls if c[0] == "set_controls"]
    assert sent["AfTrigger"] == 0 and sent["AeEnable"] is False


def test_camera_configures_once_and_serves_preview_and_still_from_one_stream() -> None:
    calls: list = []
    camera = cam.Picamera2Camera(CONFIG, lambda: RecordingDevice(calls))
    camera.start()
    try:
        deadline = time.monotonic() + 2
        while camera.latest() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        frame = camera.latest()
        assert frame is not None and frame.rgb.shape == (360, 640, 3)
        # preview arrives as RGB, not mirrored (colour survives the YUV round trip)
        r, g, b = frame.rgb[10, 10].astype(int)
        assert r > 150 and g < 90 and b < 90
        still = camera.capture_still(timeout=2.0)
        assert still.rgb.shape == (1296, 2304, 3)
        assert still.camera["ExposureTime"] >= 8001 and still.camera["LensPosition"] == 0.667
        assert still.camera["ColourGains"] == [1.8, 1.5]
    finally:
        camera.stop()
    configures = [c for c in calls if c[0] == "configure"]
    assert len(configures) == 1 and configures[0][2] == CONFIG.buffer_count
    # the still was the main array of a request that also gave the preview
    main_requests = [c[2] for c in calls if c[:2] == ("make_array", "main")]
    assert len(main_requests) == 1
    assert ("make_array", "lores", main_requests[0]) in calls
    # every request went back to libcamera
    made = {c[1] for c in calls if c[0] == "release"}
    assert made == {c[2] for c in calls if c[0] == "make_array"}
    assert calls[-2:] == [("stop",), ("close",)]


def test_lock_and_unlock_exposure_use_the_settled_values() -> None:
    calls: list = []
    camera = cam.Picamera2Camera(CONFIG, lambda: RecordingDevice(calls))
    camera.start()
    try:
        while camera.latest() is None:
            time.sleep(0.01)
        camera.lock_exposure()
        camera.unlock_exposure()
    finally:
        camera.stop()
    sets = [c[1] for c in calls if c[0] == "set_controls"]
    assert sets[0]["AeEnable"] is False and sets[0]["ExposureTime"] > 8000
    assert sets[0]["AwbEnable"] is False and sets[0]["ColourGains"] == (1.8, 1.5)
    assert sets[1] == {"AeEnable": True, "AwbEnable": True}


def test_capture_timeout_restarts_the_camera() -> None:
    calls: list = []
    stall = threading.Event()
    devices: list[RecordingDevice] = []

    def factory() -> RecordingDevice:
        d = RecordingDevice(calls, stall if not devices else None)
        devices.append(d)
        return d

    camera = cam.Picamera2Camera(CONFIG, factory)
    camera.start()
    try:
        stall.set()
        assert devices[0].stalled.wait(2)
        with pytest.raises(cam.CameraTimeout, match="restarted"):
            camera.capture_still(timeout=0.3)
        assert camera.restarts == 1 and len(devices) == 2
        assert [c[0] for c in calls].count("configure") == 2
        still = camera.capture_still(timeout=2.0)  # the new device works
        assert still.rgb.shape[0] == 1296
    finally:
        camera.stop()


def test_missing_picamera2_says_what_to_do() -> None:
    try:
        import picamera2  # noqa: F401

        pytest.skip("picamera2 is installed here")
    except ImportError:
        pass
    with pytest.raises(cam.CameraError, match="backend"):
        cam.Picamera2Device(0)


@pytest.mark.hardware
def test_real_camera_smoke() -> None:  # pragma: no cover - needs a Pi with a camera
    pytest.importorskip("picamera2")
    camera = cam.Picamera2Camera(CameraConfig())
    camera.start()
    try:
        deadline = time.monotonic() + 5
        while camera.latest() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert camera.latest() is not None
        still = camera.capture_still(timeout=5)
        assert still.rgb.shape[2] == 3 and "ExposureTime" in still.camera
    finally:
        camera.stop()


# -- SimCamera ------------------------------------------------------------------


def sim_config(**changes: Any) -> CameraConfig:
    return dataclasses.replace(
        CameraConfig(backend="sim", preview_size=(320, 180), still_size=(1280, 720), sim_fps=100.0),
        **changes,
    )


def test_sim_camera_ships_sample_portraits_with_attribution() -> None:
    files = sim.portrait_files()
    assert len(files) >= 3
    text = (sim.PORTRAITS / "ATTRIBUTION").read_text(encoding="utf-8")
    for f in files:
        assert f.name in text
        assert f.stat().st_size < 150_000


def test_sim_camera_plays_the_chosen_photo_with_jitter() -> None:
    camera = sim.SimCamera(sim_config(sim_jitter_px=3))
    camera.show("face_041.jpg")
    camera.start()
    try:
        deadline = time.monotonic() + 2
        seen: set[int] = set()
        frames = []
        while len(frames) < 6 and time.monotonic() < deadline:
            f = camera.latest()
            if f is not None and f.seq not in seen:
                seen.add(f.seq)
                frames.append(f.rgb)
            time.sleep(0.005)
        assert frames[0].shape == (180, 320, 3)
        assert any(not np.array_equal(frames[0], f) for f in frames[1:])  # it moves a little
        still = camera.capture_still(1.0)
        assert still.rgb.shape == (720, 1280, 3) and still.camera["sim_photo"] == "face_041.jpg"
        camera.show("face_068.jpg")
        assert camera.capture_still(1.0).camera["sim_photo"] == "face_068.jpg"
        camera.show(None)
        empty = camera.capture_still(1.0).rgb.reshape(-1, 3)
        assert len(np.unique(empty, axis=0)) == 1  # the empty backdrop
    finally:
        camera.stop()


def test_sim_camera_still_matches_the_preview() -> None:
    camera = sim.SimCamera(sim_config(sim_jitter_px=0))
    camera.show("face_001.jpg")
    preview = camera.next_frame().rgb
    still = camera.capture_still(1.0).rgb
    small = cv2.resize(still, (320, 180), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - preview.astype(int)).mean() < 2


def test_sim_camera_errors_and_timeouts() -> None:
    camera = sim.SimCamera(sim_config())
    with pytest.raises(cam.CameraError, match="no photo"):
        camera.show("nobody.jpg")
    camera.fail_stills = 1
    with pytest.raises(cam.CameraTimeout):
        camera.capture_still(0.1)
    assert camera.restarts == 1
    camera.stop()


def test_sim_camera_empty_folder(tmp_path) -> None:
    with pytest.raises(cam.CameraError, match="no photos"):
        sim.SimCamera(sim_config(sim_folder=str(tmp_path)))


def test_sim_camera_stands_the_student_in_front_of_the_backdrop() -> None:
    config = sim_config(sim_jitter_px=0, preview_size=(640, 360))
    camera = sim.SimCamera(config)
    camera.show("face_041.jpg")
    frame = camera.next_frame().rgb
    backdrop = np.array(config.sim_backdrop_rgb)
    assert np.abs(frame[5, 5].astype(int) - backdrop).max() <= 2  # corners show the backdrop
    placement = camera.placements["face_041.jpg"]
    assert placement.face_width > 0
    # the eyes sit on the configured eye line, at the centre: not backdrop there
    eye_y = round(config.sim_eye_line * 360)
    assert np.abs(frame[eye_y, 320].astype(int) - backdrop).max() > 30
    # masks and the placement table are not offered as photos
    assert all(not n.endswith(".mask.png") for n in camera.files)
