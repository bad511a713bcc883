"""Which camera is attached: libcamera's sensor name through picamera2.

Why its own module: the answer sets the still size and the framing
(kiosk/geometry.py ``fit_config``) before the camera is opened, and asking
must not open it (``global_camera_info`` only lists). Pi only: without
picamera2 there is nothing to ask.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.config import Config

log = logging.getLogger(__name__)


def sensor_name(index: int = 0, info: list[dict[str, Any]] | None = None) -> str | None:
    """libcamera's model name of camera ``index`` ("imx708", "imx477" ...), or
    None when picamera2 is missing or lists no such camera. ``info`` stands in
    for ``Picamera2.global_camera_info()`` in tests."""
    if info is None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            return None
        try:
            info = list(Picamera2.global_camera_info())
        except Exception:  # libcamera not running: the camera check says why
            return None
    for number, camera in enumerate(info):
        if int(camera.get("Num", number)) == index:
            model = camera.get("Model")
            return str(model) if model else None
    return None


def fitted_config(config: Config, sensor: str | None = None) -> Config:
    """``config`` with the still size and framing of the attached camera's model
    (``camera.framing = "auto"``; kiosk/geometry.py). Unchanged for the simulated
    camera, or when the model is unknown (then ``kiosk doctor`` warns)."""
    from kiosk import geometry

    if config.camera.backend == "sim":
        return config
    name = sensor if sensor is not None else sensor_name(config.camera.index)
    model = geometry.model_for_sensor(name) if name else None
    if model is None:
        log.warning("camera model %r unknown: still size and framing from the config", name)
        return config
    fitted = geometry.fit_config(config, model)
    log.info(
        "camera %s: still %dx%d, frame_fill %.2f, subject at %.2f m",
        model.name,
        *fitted.camera.still_size,
        fitted.photo.frame_fill,
        fitted.camera.subject_distance_m,
    )
    return fitted
