"""The camera's health, watched from the main loop: report a change, restart a camera that stays unwell.

Why apart from the loop: the rule (how long a camera may be unwell before a
restart, one restart at a time, the restart on a thread of its own so the
loop never waits for libcamera) is the camera's, not the loop's; the loop
only asks twice a second and applies the change it is handed.
"""

from __future__ import annotations

import threading
import time

from kiosk import station as st
from kiosk.capture.camera import Camera
from kiosk.inbox import Post
from kiosk.scanner.base import DeviceStatus


class CameraWatch:
    def __init__(self, camera: Camera, restart_after_s: float, post: Post) -> None:
        self.camera = camera
        self.restart_after_s = restart_after_s
        self.post = post
        self._bad_since: float | None = None
        self._restarting = threading.Event()

    def restart(self) -> None:
        """Restart the camera on a thread of its own; the result arrives as a DeviceChanged."""
        self._restarting.set()
        threading.Thread(target=self._restart, name="camera-restart", daemon=True).start()

    def _restart(self) -> None:
        try:
            self.camera.restart()
            status = DeviceStatus("camera", "ok", "restarted")
        except Exception as exc:
            status = DeviceStatus("camera", "lost", str(exc))
        finally:
            self._restarting.clear()
        self.post(st.DeviceChanged(status, time.monotonic()))

    def check(self, known: DeviceStatus | None, now: float) -> st.DeviceChanged | None:
        """The change to apply when the camera's health differs from what the station shows.

        A camera unwell for longer than ``restart_after_s`` is restarted (once
        at a time; the clock starts again after each attempt).
        """
        healthy = self.camera.healthy
        change = None
        if known is not None and (known.state == "ok") != healthy:
            error = getattr(self.camera, "last_error", "")
            change = st.DeviceChanged(
                DeviceStatus("camera", "ok" if healthy else "lost", error), now
            )
        if healthy:
            self._bad_since = None
        elif self._bad_since is None:
            self._bad_since = now
        elif now - self._bad_since > self.restart_after_s and not self._restarting.is_set():
            self._bad_since = now
            self.restart()
        return change
