"""Cameras: one interface, the Pi camera behind a thin adapter, and a simulated twin.

What the station needs from a camera: preview frames (RGB, at the screen's
size, only the latest one kept), and one full-resolution still on demand that
frames exactly what the student saw, with the exposure, gain and lens position
it was taken at.

:class:`Picamera2Camera` holds the logic (sensor-mode choice, configuration,
exposure/white-balance lock, flicker avoidance, lens position, restart after
a capture timeout) and talks to the hardware only through
:class:`CameraDevice`, a handful of picamera2 calls. Tests drive it with a
recording fake; on the Pi :class:`Picamera2Device` wraps the real
``picamera2.Picamera2`` (imported lazily, so the package works where it is
absent). Its simulated twin, :class:`kiosk.capture.sim.SimCamera`, plays
photos from a folder with a little jitter through the same interface.

Why one configuration and no mode switch: the official photo is 480 x 640,
so the full-field-of-view binned sensor mode (2304 x 1296 on Camera Module 3)
has pixels to spare. ``lores`` feeds the screen and the face check, ``main``
gives the still from the same request stream, so the shutter has no lag and
preview and still agree. The mode is pinned because libcamera picks a cropped
mode for small output sizes when left alone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from kiosk.config import CameraConfig

log = logging.getLogger(__name__)


class CameraError(RuntimeError):
    """The camera cannot deliver; the message says what the crew can do."""


class CameraTimeout(CameraError):
    pass


@dataclass(frozen=True)
class Frame:
    rgb: np.ndarray  # H x W x 3 uint8, not mirrored
    seq: int
    at: float  # time.monotonic() when the frame arrived


@dataclass(frozen=True)
class Still:
    rgb: np.ndarray  # full resolution, not mirrored
    camera: dict[str, Any] = field(default_factory=dict)  # exposure, gain, lens position ...
    at: float = 0.0


class Camera(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def latest(self) -> Frame | None:
        """The newest preview frame (never blocks)."""

    def capture_still(self, timeout: float) -> Still:
        """One full-resolution still; raises CameraTimeout (after restarting) or CameraError."""

    def lock_exposure(self) -> None: ...

    def unlock_exposure(self) -> None: ...

    def restart(self) -> None: ...

    @property
    def healthy(self) -> bool: ...


# -- the Pi camera: pure configuration logic ----------------------------------


@dataclass(frozen=True)
class CameraSetup:
    sensor_size: tuple[int, int]
    bit_depth: int | None
    main: dict[str, Any]
    lores: dict[str, Any]
    controls: dict[str, Any]


def full_field_modes(modes: Sequence[dict[str, Any]], array_size: tuple[int, int]) -> list[dict]:
    """Sensor modes that see the whole sensor (crop limits cover the pixel array)."""
    width, height = array_size
    result = []
    for mode in modes:
        crop = mode.get("crop_limits")
        if crop is None:
            continue
        _, _, cw, ch = crop
        if cw >= width * 0.98 and ch >= height * 0.98:
            result.append(mode)
    return result


def choose_sensor_mode(
    modes: Sequence[dict[str, Any]], array_size: tuple[int, int], config: CameraConfig
) -> dict[str, Any]:
    """The pinned full-field mode: the configured size, else the smallest >= the still."""
    full = full_field_modes(modes, array_size)
    if not full:
        raise CameraError(
            "the camera reports no full field-of-view sensor mode; "
            "set camera.sensor_size to one of its modes"
        )
    if config.sensor_size != (0, 0):
        for mode in full:
            if tuple(mode["size"]) == tuple(config.sensor_size):
                return mode
        sizes = ", ".join(f"{m['size'][0]}x{m['size'][1]}" for m in full)
        raise CameraError(
            f"camera.sensor_size {config.sensor_size[0]}x{config.sensor_size[1]} is not a full "
            f"field-of-view mode of this camera (those are: {sizes})"
        )
    area = lambda m: m["size"][0] * m["size"][1]  # noqa: E731
    big_enough = [
        m
        for m in full
        if m["size"][0] >= config.still_size[0] and m["size"][1] >= config.still_size[1]
    ]
    return min(big_enough, key=area) if big_enough else max(full, key=area)


def build_setup(
    config: CameraConfig,
    modes: Sequence[dict[str, Any]],
    array_size: tuple[int, int],
    available_controls: Sequence[str],
) -> CameraSetup:
    mode = choose_sensor_mode(modes, array_size, config)
    sensor = (int(mode["size"][0]), int(mode["size"][1]))
    still = (min(config.still_size[0], sensor[0]), min(config.still_size[1], sensor[1]))
    # "BGR888" is picamera2's name for pixels ordered R, G, B in memory.
    main = {"size": still, "format": "BGR888"}
    lores = {"size": tuple(config.preview_size), "format": "YUV420"}
    controls = base_controls(config, available_controls)
    if controls.get("AfMode") == 1:
        controls["AfWindows"] = [face_window(array_size)]
    return CameraSetup(
        sensor_size=sensor,
        bit_depth=mode.get("bit_depth"),
        main=main,
        lores=lores,
        controls=controls,
    )


def face_window(array_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the face is when the student stands in the head guide, in sensor pixels.

    The guide is centred horizontally with the eyes at ~43 % of the height
    (see sim_eye_line); the window covers the middle fifth of the width and
    25-65 % of the height, so autofocus judges the face, not the backdrop.
    """
    width, height = array_size
    return (round(width * 0.4), round(height * 0.25), round(width * 0.2), round(height * 0.4))


def base_controls(config: CameraConfig, available: Sequence[str]) -> dict[str, Any]:
    """Controls set at start: flicker, fixed exposure / white balance, lens position."""
    controls: dict[str, Any] = {}
    if config.mains_hz and "AeFlickerMode" in available:
        # Lights flicker at twice the mains frequency: 100 Hz -> 10 000 us.
        controls["AeFlickerMode"] = 1  # libcamera FlickerManual
        controls["AeFlickerPeriod"] = round(1_000_000 / (2 * config.mains_hz))
    if config.exposure_us:
        controls.update(
            AeEnable=False,
            ExposureTime=config.exposure_us,
            AnalogueGain=config.analogue_gain or 1.0,
        )
    if config.colour_gains != (0.0, 0.0):
        controls.update(AwbEnable=False, ColourGains=tuple(config.colour_gains))
    if "AfMode" in available:
        if config.subject_distance_m > 0:
            controls.update(AfMode=0, LensPosition=round(1.0 / config.subject_distance_m, 3))
        else:
            controls.update(AfMode=1, AfMetering=1)  # auto, windowed on the face
    return controls


def lock_controls(config: CameraConfig, metadata: dict[str, Any]) -> dict[str, Any]:
    """Hold what auto exposure / white balance settled on (only what config leaves automatic)."""
    controls: dict[str, Any] = {}
    if not config.exposure_us and "ExposureTime" in metadata:
        controls.update(
            AeEnable=False,
            ExposureTime=int(metadata["ExposureTime"]),
            AnalogueGain=float(metadata.get("AnalogueGain", 1.0)),
        )
    if config.colour_gains == (0.0, 0.0) and "ColourGains" in metadata:
        controls.update(AwbEnable=False, ColourGains=tuple(metadata["ColourGains"]))
    return controls


def unlock_controls(config: CameraConfig) -> dict[str, Any]:
    controls: dict[str, Any] = {}
    if not config.exposure_us:
        controls["AeEnable"] = True
    if config.colour_gains == (0.0, 0.0):
        controls["AwbEnable"] = True
    return controls


SHOT_METADATA = (
    "ExposureTime",
    "AnalogueGain",
    "DigitalGain",
    "LensPosition",
    "ColourGains",
    "Lux",
)


def shot_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """What is recorded with every shot (JSON-safe)."""
    out: dict[str, Any] = {}
    for key in SHOT_METADATA:
        if key in metadata:
            value = metadata[key]
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def yuv420_to_rgb(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    width, height = size
    planar = array[: height * 3 // 2, :width]
    return cv2.cvtColor(np.ascontiguousarray(planar), cv2.COLOR_YUV2RGB_I420)


# -- the Pi camera: the adapter and the threaded camera ---------------------


class CameraRequest(Protocol):
    def make_array(self, name: str) -> np.ndarray: ...

    def get_metadata(self) -> dict[str, Any]: ...

    def release(self) -> None: ...


class CameraDevice(Protocol):
    """The few picamera2 calls the camera needs; a recording fake implements it in tests."""

    sensor_modes: list[dict[str, Any]]
    pixel_array_size: tuple[int, int]
    available_controls: list[str]

    def configure(self, setup: CameraSetup, buffer_count: int) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def set_controls(self, controls: dict[str, Any]) -> None: ...

    def capture_request(self) -> CameraRequest: ...


class Picamera2Device:
    """The real camera: a thin wrapper over ``picamera2.Picamera2`` (Pi only)."""

    def __init__(self, index: int = 0) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraError(
                "picamera2 is not installed: on the Pi run install.sh (python3-picamera2 from apt); "
                'elsewhere set camera.backend = "sim"'
            ) from exc
        try:
            self._camera = Picamera2(index)
        except (IndexError, RuntimeError) as exc:
            raise CameraError(f"no camera {index}: {exc}; check the ribbon cable") from exc
        self.sensor_modes = list(self._camera.sensor_modes)
        self.pixel_array_size = tuple(self._camera.camera_properties["PixelArraySize"])
        self.available_controls = list(self._camera.camera_controls)

    def configure(self, setup: CameraSetup, buffer_count: int) -> None:
        sensor: dict[str, Any] = {"output_size": setup.sensor_size}
        if setup.bit_depth:
            sensor["bit_depth"] = setup.bit_depth
        configuration = self._camera.create_video_configuration(
            main=setup.main,
            lores=setup.lores,
            sensor=sensor,
            controls=setup.controls,
            buffer_count=buffer_count,
            queue=False,  # a still comes from a request made after the shutter
        )
        self._camera.configure(configuration)

    def start(self) -> None:
        self._camera.start()

    def stop(self) -> None:
        self._camera.stop()

    def close(self) -> None:
        self._camera.close()

    def set_controls(self, controls: dict[str, Any]) -> None:
        self._camera.set_controls(controls)

    def capture_request(self) -> CameraRequest:
        return self._camera.capture_request()


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.still: Still | None = None
        self.error: BaseException | None = None


class Picamera2Camera:
    """The Pi camera: a thread keeps the latest preview frame and serves stills."""

    name = "camera"

    def __init__(
        self,
        config: CameraConfig,
        device_factory: Callable[[], CameraDevice] | None = None,
    ) -> None:
        self.config = config
        self._factory = device_factory or (lambda: Picamera2Device(config.index))
        self._device: CameraDevice | None = None
        self._setup: CameraSetup | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._metadata: dict[str, Any] = {}
        self._pending: _Pending | None = None
        self._seq = 0
        self._error: str = ""
        self.restarts = 0

    @property
    def healthy(self) -> bool:
        return self._running.is_set() and not self._error

    @property
    def last_error(self) -> str:
        return self._error

    def start(self) -> None:
        device = self._factory()
        self._setup = build_setup(
            self.config,
            device.sensor_modes,
            tuple(device.pixel_array_size),
            device.available_controls,
        )
        device.configure(self._setup, self.config.buffer_count)
        device.start()
        self._device = device
        self._error = ""
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._device is not None:
            with contextlib.suppress(Exception):
                self._device.stop()
            with contextlib.suppress(Exception):
                self._device.close()
            self._device = None

    def restart(self) -> None:
        """Stop and reopen the camera (after a capture timed out or the thread died)."""
        self.restarts += 1
        log.warning("restarting the camera (%d)", self.restarts)
        self.stop()
        self.start()

    def latest(self) -> Frame | None:
        return self._latest

    def capture_still(self, timeout: float) -> Still:
        pending = _Pending()
        with self._lock:
            self._pending = pending
        if not pending.done.wait(timeout):
            with self._lock:
                self._pending = None
            self._error = f"no still after {timeout:.1f} s"
            self.restart()
            raise CameraTimeout(
                f"the camera gave no still within {timeout:.1f} s; it was restarted"
            )
        if pending.error is not None:
            raise CameraError(f"still failed: {pending.error}") from pending.error
        assert pending.still is not None
        return pending.still

    def lock_exposure(self) -> None:
        """The face is good: hold exposure/white balance and, with autofocus, focus on the face."""
        controls = lock_controls(self.config, self._metadata)
        if self._setup is not None and self._setup.controls.get("AfMode") == 1:
            controls["AfTrigger"] = 0  # start one autofocus cycle in the face window
        if controls and self._device is not None:
            self._device.set_controls(controls)

    def unlock_exposure(self) -> None:
        controls = unlock_controls(self.config)
        if controls and self._device is not None:
            self._device.set_controls(controls)

    def _run(self) -> None:
        assert self._setup is not None
        preview_size = tuple(self._setup.lores["size"])
        while self._running.is_set():
            device = self._device
            if device is None:
                break
            try:
                request = device.capture_request()
            except Exception as exc:  # the camera went away: report, let the app restart
                self._error = f"capture failed: {exc}"
                log.error("camera: %s", self._error)
                time.sleep(0.2)
                continue
            try:
                metadata = dict(request.get_metadata())
                self._metadata = metadata
                with self._lock:
                    pending, self._pending = self._pending, None
                if pending is not None:
                    try:
                        main = np.array(request.make_array("main"))[..., :3]
                        pending.still = Still(main, shot_metadata(metadata), time.monotonic())
                    except Exception as exc:
                        pending.error = exc
                    pending.done.set()
                lores = request.make_array("lores")
                rgb = yuv420_to_rgb(lores, preview_size)
                self._seq += 1
                self._latest = Frame(rgb, self._seq, time.monotonic())
                self._error = ""
            except Exception as exc:
                self._error = f"bad frame: {exc}"
                log.error("camera: %s", self._error)
            finally:
                request.release()
