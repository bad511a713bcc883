"""The camera watch: a health change is reported once, a camera that stays unwell is restarted."""

from __future__ import annotations

import queue
import threading

from kiosk import station as st
from kiosk.camera_watch import CameraWatch
from kiosk.scanner.base import DeviceStatus


class FlakyCamera:
    def __init__(self) -> None:
        self.healthy = True
        self.last_error = ""
        self.restarts = 0
        self.restarted = threading.Event()

    def restart(self) -> None:
        self.restarts += 1
        self.healthy = True
        self.restarted.set()


OK = DeviceStatus("camera", "ok")


def test_a_change_is_reported_and_a_lasting_fault_restarts_the_camera_once() -> None:
    camera = FlakyCamera()
    posted: queue.Queue[object] = queue.Queue()
    watch = CameraWatch(camera, restart_after_s=1.0, post=posted.put)  # type: ignore[arg-type]
    assert watch.check(OK, 0.0) is None  # healthy, and the station already shows ok
    camera.healthy, camera.last_error = False, "no frames"
    change = watch.check(OK, 0.5)
    assert isinstance(change, st.DeviceChanged) and change.status.state == "lost"
    assert change.status.message == "no frames"
    watch.check(change.status, 1.0)  # unwell for 0.5 s: not yet
    assert camera.restarts == 0
    watch.check(change.status, 1.6)  # unwell for 1.1 s: restart
    assert camera.restarted.wait(5)
    result = posted.get(timeout=5)
    assert isinstance(result, st.DeviceChanged) and result.status.state == "ok"
    assert camera.restarts == 1


def test_a_failing_restart_is_reported_as_lost() -> None:
    class Broken(FlakyCamera):
        def restart(self) -> None:
            raise RuntimeError("libcamera gone")

    posted: queue.Queue[object] = queue.Queue()
    CameraWatch(Broken(), 1.0, posted.put).restart()  # type: ignore[arg-type]
    result = posted.get(timeout=5)
    assert isinstance(result, st.DeviceChanged) and result.status.state == "lost"
    assert "libcamera gone" in result.status.message
