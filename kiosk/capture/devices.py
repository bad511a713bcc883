"""The camera the config names, real or simulated (as kiosk/scanner/devices.py for scanners)."""

from __future__ import annotations

from kiosk.capture.camera import Camera, Picamera2Camera
from kiosk.capture.sim import SimCamera
from kiosk.config import CameraConfig


def open_camera(config: CameraConfig) -> Camera:
    """The configured camera, not started: ``backend = "sim"`` is the simulated twin."""
    if config.backend == "sim":
        return SimCamera(config)
    return Picamera2Camera(config)
