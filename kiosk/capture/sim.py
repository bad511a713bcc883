"""The camera's simulated twin: sample portraits staged in front of the kiosk's backdrop.

Like the scanners' twins (kiosk/scanner/sim.py), :class:`SimCamera` goes
through the same :class:`~kiosk.capture.camera.Camera` interface as the Pi
camera, so the station, the demo, the benchmark and the tests run the real
loop anywhere. By default it plays the sample portraits shipped in
``kiosk/assets/portraits``; ``camera.sim_folder`` points it at others.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.capture.camera import CameraError, CameraTimeout, Frame, Still
from kiosk.config import CameraConfig

PORTRAITS = Path(__file__).resolve().parent.parent / "assets" / "portraits"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def portrait_files(folder: Path | None = None) -> list[Path]:
    folder = folder or PORTRAITS
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.endswith(".mask.png")
    )
    if not files:
        raise CameraError(f"no photos (.jpg/.png) in {folder} for the simulated camera")
    return files


def compose_scene(image: np.ndarray, size: tuple[int, int], fill: float = 0.8) -> np.ndarray:
    """Place a portrait in a landscape frame as a student would stand in front of the camera.

    The portrait is scaled to ``fill`` of the frame height and centred on a
    plain background taken from its own border colour.
    """
    import cv2

    width, height = size
    h, w = image.shape[:2]
    scale = height * fill / h
    scaled = cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    border = np.concatenate([image[0], image[:, 0], image[:, -1]]).reshape(-1, 3)
    background = np.median(border, axis=0).astype(np.uint8)
    scene = np.empty((height, width, 3), np.uint8)
    scene[:] = background
    sh, sw = scaled.shape[:2]
    top = (height - sh) // 2
    left = (width - sw) // 2
    # Crop the scaled portrait when it is wider than the frame.
    src_left = max(0, -left)
    dst_left = max(0, left)
    span = min(sw - src_left, width - dst_left)
    scene[top : top + sh, dst_left : dst_left + span] = scaled[:, src_left : src_left + span]
    return scene


@dataclass(frozen=True)
class Placement:
    """Where the face is in a portrait (pixels): eye midpoint and face width."""

    eye_x: float
    eye_y: float
    face_width: float
    centre_x: float


def load_placements(folder: Path) -> dict[str, Placement]:
    path = folder / "placement.json"
    if not path.exists():
        return {}
    import json

    table = json.loads(path.read_text(encoding="utf-8"))
    return {name: Placement(**values) for name, values in table.items()}


def stage_person(
    image: np.ndarray,
    alpha: np.ndarray,
    placement: Placement,
    size: tuple[int, int],
    config: CameraConfig,
) -> np.ndarray:
    """The person cut out of a portrait, standing in front of the kiosk's backdrop.

    Scaled so the face is ``sim_face_width`` of the frame height wide, with
    the eyes at ``sim_eye_line`` of the height and the face centred: where a
    student stands when their face fills the head guide.
    """
    import cv2

    width, height = size
    scale = config.sim_face_width * height / placement.face_width
    h, w = image.shape[:2]
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    person = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    )
    mask = (
        cv2.resize(alpha, (new_w, new_h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    )
    left = round(width / 2 - placement.centre_x * scale)
    top = round(config.sim_eye_line * height - placement.eye_y * scale)
    scene = np.empty((height, width, 3), np.uint8)
    scene[:] = np.array(config.sim_backdrop_rgb, np.uint8)
    # The part of the scaled portrait that falls inside the frame.
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(width, left + new_w), min(height, top + new_h)
    if x1 <= x0 or y1 <= y0:
        return scene
    sx0, sy0 = x0 - left, y0 - top
    crop = person[sy0 : sy0 + (y1 - y0), sx0 : sx0 + (x1 - x0)].astype(np.float32)
    m = mask[sy0 : sy0 + (y1 - y0), sx0 : sx0 + (x1 - x0), None]
    region = scene[y0:y1, x0:x1].astype(np.float32)
    scene[y0:y1, x0:x1] = (crop * m + region * (1 - m)).astype(np.uint8)
    return scene


class SimCamera:
    """Plays photos as if a student stood in front of the camera.

    :meth:`show` picks the photo (by file name, or None for an empty stage);
    frames jitter by a pixel or two so the steady-frame logic sees real
    (small) movement. The still is the same scene at full resolution.
    """

    name = "camera"

    def __init__(self, config: CameraConfig, folder: Path | None = None, seed: int = 1) -> None:
        import cv2

        self.config = config
        folder = folder or (Path(config.sim_folder) if config.sim_folder else None)
        folder = folder or PORTRAITS
        self.files = {p.name: p for p in portrait_files(folder)}
        self.placements = load_placements(folder)
        self._cv2 = cv2
        self._scenes: dict[str | None, tuple[np.ndarray, np.ndarray]] = {}
        self._current: str | None = None
        self._rng = random.Random(seed)
        self._latest: Frame | None = None
        self._seq = 0
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self._locked = False
        self.fail_stills = 0  # test hook: the next N stills time out
        self._at_shutter: list[str | None] = []
        self.restarts = 0

    @property
    def healthy(self) -> bool:
        return self._running.is_set()

    def show(self, name: str | None) -> None:
        if name is not None and name not in self.files:
            raise CameraError(f"no photo {name!r} in the simulated camera's folder")
        self._current = name

    def at_shutter(self, name: str | None) -> None:
        """The next still shows ``name``: a student who blinks or smiles just as the shutter fires."""
        if name is not None and name not in self.files:
            raise CameraError(f"no photo {name!r} in the simulated camera's folder")
        self._at_shutter.append(name)

    def _scene(self, name: str | None) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._scenes:
            if name is None:
                still = np.empty(
                    (self.config.still_size[1], self.config.still_size[0], 3), np.uint8
                )
                still[:] = np.array(self.config.sim_backdrop_rgb, np.uint8)  # the empty backdrop
            else:
                bgr = self._cv2.imread(str(self.files[name]), self._cv2.IMREAD_COLOR)
                if bgr is None:
                    raise CameraError(f"cannot read {self.files[name]}")
                rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
                mask_path = self.files[name].with_name(self.files[name].stem + ".mask.png")
                placement = self.placements.get(name)
                if placement is not None and mask_path.exists():
                    alpha = self._cv2.imread(str(mask_path), self._cv2.IMREAD_GRAYSCALE)
                    still = stage_person(rgb, alpha, placement, self.config.still_size, self.config)
                else:
                    still = compose_scene(rgb, self.config.still_size)
            preview = self._cv2.resize(
                still, tuple(self.config.preview_size), interpolation=self._cv2.INTER_AREA
            )
            self._scenes[name] = (preview, still)
        return self._scenes[name]

    def _jitter(self, image: np.ndarray, scale: float = 1.0) -> np.ndarray:
        j = self.config.sim_jitter_px
        if not j:
            return image
        dx = round(self._rng.randint(-j, j) * scale)
        dy = round(self._rng.randint(-j, j) * scale)
        return np.roll(image, (dy, dx), axis=(0, 1))

    def next_frame(self) -> Frame:
        """Make the next preview frame now (the thread calls this; so can a benchmark)."""
        preview, _ = self._scene(self._current)
        self._seq += 1
        frame = Frame(self._jitter(preview), self._seq, time.monotonic())
        self._latest = frame
        return frame

    def start(self) -> None:
        self._scene(self._current)
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="sim-camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = 1.0 / self.config.sim_fps
        next_at = time.monotonic()
        while self._running.is_set():
            self.next_frame()
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def restart(self) -> None:
        self.restarts += 1
        self.stop()
        self.start()

    def latest(self) -> Frame | None:
        return self._latest

    def capture_still(self, timeout: float) -> Still:
        if self.fail_stills > 0:
            self.fail_stills -= 1
            self.restart()
            raise CameraTimeout(
                f"the camera gave no still within {timeout:.1f} s; it was restarted"
            )
        shown = self._at_shutter.pop(0) if self._at_shutter else self._current
        _, still = self._scene(shown)
        scale = self.config.still_size[0] / self.config.preview_size[0]
        camera = {
            "ExposureTime": 10000,
            "AnalogueGain": 1.0,
            "LensPosition": round(1.0 / self.config.subject_distance_m, 3)
            if self.config.subject_distance_m
            else None,
            "locked": self._locked,
            "sim_photo": shown,
        }
        return Still(self._jitter(still, scale).copy(), camera, time.monotonic())

    def lock_exposure(self) -> None:
        self._locked = True

    def unlock_exposure(self) -> None:
        self._locked = False
