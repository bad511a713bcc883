"""One TOML file -> frozen dataclasses, with every default in this module.

Why one module: a threshold or a path that lives in two places drifts. Each
section is a frozen dataclass; each setting has a default, a type and (where it
matters) a range, and a comment that says where the default comes from. The
loader checks the TOML against those types so a typo or a wrong value is a
clear error naming the key (``quality.eye_open_min: expected a number ...``),
not a crash at the first student of the day.

Where the config comes from, first match wins: ``--config FILE``, the
``KIOSK_CONFIG`` environment variable, else the embedded defaults below. The
data folder likewise: ``--data DIR``, ``KIOSK_DATA``, ``data_dir`` in the file,
else ``./kiosk-data``.

Sections are added by the module that owns the behaviour (quality, scanner,
sync ...): add a dataclass here and a field on :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ENV_CONFIG = "KIOSK_CONFIG"
ENV_DATA = "KIOSK_DATA"
DEFAULT_DATA_DIR = Path("kiosk-data")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and the fix."""


def setting(default: Any, *, min: float | None = None, max: float | None = None) -> Any:
    """A dataclass field with an optional numeric range checked by the loader."""
    meta = {"min": min, "max": max}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for list settings so the config stays frozen")
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class StationConfig:
    """Who this kiosk is and how it talks to the crew."""

    # Identity of this kiosk towards the central receiver and in file names.
    station_id: str = "kiosk-01"
    # Crew-facing language; the student screen is always Chinese.
    crew_language: Literal["zh", "en"] = "zh"
    # Crew PIN needed to leave the kiosk (digits only).
    crew_pin: str = "0000"

    # -- the station's pace (kiosk/station.py) ------------------------------
    # Consecutive good, still frames before the automatic countdown: 8 frames
    # at the 15+ assessments/s the quality check reaches is ~0.5 s of holding
    # still, long enough to skip a blink, short enough not to feel slow.
    steady_frames: int = setting(8, min=1, max=120)
    # Largest face movement between two judged frames still called "steady",
    # as a fraction of the frame width (1 % of 1280 px = ~13 px).
    steady_max_motion: float = setting(0.01, min=0.0, max=1.0)
    # Countdown before the automatic shot, seconds (the notice plans 36 s per
    # student; 2 s lets the student settle without slowing the queue).
    countdown_s: float = setting(2.0, min=0.0, max=10.0)
    # Seconds the roster row (name and masked number) is shown before framing
    # starts: long enough for a student to read it and say "not me" (reading a
    # name and a number takes ~1.5 s, reacting ~1 s more); 0 = wait for the
    # crew's accept key (schools that want every identity confirmed).
    confirm_s: float = setting(3.0, min=0.0, max=30.0)
    # Framing without a shot for this long returns to idle (student walked off).
    framing_timeout_s: float = setting(60.0, min=5.0, max=600.0)
    # A notice (unknown card, wrong session, already photographed) waits this
    # long for the crew before the station returns to idle.
    notice_timeout_s: float = setting(30.0, min=2.0, max=600.0)
    # A refused still is shown with its reasons this long before the retake.
    review_s: float = setting(2.5, min=0.0, max=30.0)
    # The green tick and the accepted photo stay this long.
    saved_s: float = setting(2.0, min=0.0, max=30.0)
    # A still that has not arrived after this long restarts the camera.
    capture_timeout_s: float = setting(5.0, min=0.5, max=60.0)
    # After a failure the station shows the failsafe screen this long, then
    # resumes with the same student.
    failsafe_s: float = setting(3.0, min=0.5, max=60.0)
    # Refused stills in a row before the station stops retaking on its own
    # and asks the crew (accept anyway, retake, skip).
    max_auto_tries: int = setting(3, min=1, max=20)
    # Students per hour per crew the queue screen compares against (the
    # notice plans 100 an hour).
    target_per_hour: int = setting(100, min=1, max=1000)
    # A one-display touch kiosk shows the crew screen when a finger holds the
    # student's screen this long, seconds: the student at the screen may touch
    # it, and a brief tap must not hide their preview mid-framing.
    crew_hold_s: float = setting(1.5, min=0.3, max=10.0)
    # Crew keys, as pygame key names (pygame.key.key_code). The pedal of a USB
    # foot switch usually types space or enter; pick it here.
    key_shutter: str = "space"
    key_accept: str = "return"
    key_retake: str = "r"
    key_skip: str = "s"
    key_walk_in: str = "w"
    key_session: str = "o"
    key_crew_screen: str = "tab"
    key_quit: str = "escape"
    # Crew queue screen: "auto" puts it on a second display when there is
    # one (Pi 4/5: two HDMI outputs), else key_crew_screen toggles the views;
    # "toggle" always shares the one screen.
    crew_screen: Literal["auto", "toggle"] = "auto"
    # Screen size in windowed mode (fullscreen uses the display's own size).
    window_size: tuple[int, int] = (1280, 720)
    # Fullscreen on the Pi's display; off on a laptop.
    fullscreen: bool = False
    # How often the main loop runs (keys, events, timers), per second. The
    # screen is redrawn only when there is a new camera frame or something
    # changed, so the preview shows every camera frame (30 fps) without
    # redrawing duplicates; 60 keeps a new frame's wait for the loop short.
    fps: int = setting(60, min=5, max=240)
    # CJK font for the screens (Debian's fonts-wqy-zenhei, installed by
    # install.sh); empty = search the usual places.
    font_path: str = ""
    # Default session for `kiosk run` when the crew gives none.
    school_code: str = ""
    category: str = "普通生"


@dataclass(frozen=True)
class CameraConfig:
    """The camera (kiosk/capture/camera.py)."""

    # picamera2 on the Pi, or the simulated camera that plays photos.
    backend: Literal["picamera2", "sim"] = "picamera2"
    # Which camera when several are attached (picamera2's camera number).
    index: int = setting(0, min=0, max=7)
    # "auto": at start the camera's model (picamera2's camera info) picks
    # still_size, subject_distance_m and photo.frame_fill from kiosk/geometry.py,
    # so the crop keeps >= 640 rows at a natural distance (Camera Module 3:
    # full 4608 x 2592 still, frame_fill 0.42 at 1.2 m; HQ + 16 mm: 2028 x 1520,
    # 0.8 at 1.64 m). "config": the values below are used as written.
    framing: Literal["auto", "config"] = "auto"
    # Preview frames (screen and face check), width x height. 1280 x 720 is
    # the screen size the performance target names.
    preview_size: tuple[int, int] = (1280, 720)
    # Full-resolution still from the same request stream. 2304 x 1296 is
    # Camera Module 3's full field-of-view 2x2-binned mode: the official
    # photo is only 480 x 640, so the binned mode has pixels to spare.
    still_size: tuple[int, int] = (2304, 1296)
    # Sensor mode to pin (output size); must cover the full field of view.
    # (0, 0) = pick the smallest full-field mode at least as big as still_size.
    sensor_size: tuple[int, int] = (0, 0)
    # Mains frequency for flicker avoidance under room lights (China: 50 Hz).
    mains_hz: int = setting(50, min=0, max=60)
    # Fixed exposure in microseconds and analogue gain; 0 = automatic, then
    # locked when the automatic countdown starts (steady_frames good frames).
    exposure_us: int = setting(0, min=0, max=1_000_000)
    analogue_gain: float = setting(0.0, min=0.0, max=64.0)
    # Fixed white balance (red, blue gains); (0, 0) = automatic, then locked.
    colour_gains: tuple[float, float] = (0.0, 0.0)
    # Distance from lens to the student's face, metres: the manual lens
    # position (dioptres = 1 / distance) on cameras with autofocus. 1.5 m is
    # the standing mark the hardware notes give; 0 = autofocus cycle instead.
    subject_distance_m: float = setting(1.5, min=0.0, max=10.0)
    # A camera that has reported a fault (or stopped) this long is restarted;
    # a still that times out restarts it at once (station.capture_timeout_s).
    restart_after_s: float = setting(5.0, min=0.5, max=300.0)
    # Requests kept by libcamera; 4 lets the camera thread keep the latest
    # while one is being judged.
    buffer_count: int = setting(4, min=2, max=12)
    # Simulated camera: folder of photos (empty = the sample portraits that
    # ship with the package) and frames per second it plays.
    sim_folder: str = ""
    sim_fps: float = setting(30.0, min=1.0, max=120.0)
    # Simulated camera: the backdrop behind the student (the registry's
    # reference light blue, as photo.blue_rgb) and where a student standing
    # right puts their face: eyes at this share of the frame height, face
    # this share of the height wide. 0.43 and 0.30 are where the official
    # crop (80 % of the frame height, eyes 262 of 640 px, face 240 of 480 px
    # wide) puts them.
    sim_backdrop_rgb: tuple[int, int, int] = (100, 197, 255)
    sim_eye_line: float = setting(0.43, min=0.0, max=1.0)
    sim_face_width: float = setting(0.30, min=0.01, max=1.0)
    # Simulated camera: largest random shift per frame, pixels (exercises the
    # steady-frame logic).
    sim_jitter_px: int = setting(2, min=0, max=50)


@dataclass(frozen=True)
class RosterConfig:
    """Roster import rules."""

    # Rows in a file above which a progress bar is drawn on a terminal.
    progress_threshold: int = setting(2000, min=0)
    # Accept birth years from this year on (older ID numbers are typos).
    min_birth_year: int = setting(1900, min=1800, max=2100)


@dataclass(frozen=True)
class ScannerConfig:
    """Barcode scanners and the SAM ID-card reader (kiosk/scanner, docs/scanner.md)."""

    # Devices to open, in order. Each is "idcard:PORT[@BAUD]", "serial:PORT[@BAUD]"
    # or "hid:SELECTOR" where SELECTOR is a /dev/input path (by-id preferred: it
    # survives replugging), "VVVV:PPPP" (USB vendor:product, hex) or "name=TEXT"
    # (part of the name evdev reports). Empty: no hardware (see simulate).
    devices: tuple[str, ...] = ()
    # With no devices configured, run the simulated twins (demo, CI) instead.
    simulate: bool = True
    # Seconds between attempts to reopen a device that went away (a replug takes
    # ~1 s to enumerate on a Pi, so polling faster only burns CPU).
    reconnect_interval: float = setting(1.0, min=0.05, max=60.0)

    # -- USB-HID keyboard-wedge scanners
    # Key that ends a scan: scanners ship with Enter as suffix; Tab is optional.
    hid_terminator: Literal["enter", "tab"] = "enter"
    # A burst with a gap longer than this is dropped as partial. Scanners type a
    # key every 1-20 ms (USB full-speed polling, down+up reports); 0.25 s is ten
    # times the slowest and far below a human's second keystroke.
    hid_inter_key_timeout: float = setting(0.25, min=0.01, max=5.0)
    # Grab the device so its keystrokes never reach the screen or a console.
    hid_grab: bool = True

    # -- serial (CDC-ACM / virtual COM) barcode scanners
    # 9600 8N1 is the factory setting of common scanners in serial mode.
    serial_baud: int = setting(9600, min=1200, max=921600)
    # Suffix the scanner appends (factory default CR on most models).
    serial_terminator: Literal["cr", "lf", "crlf"] = "cr"
    # A partial line older than this is dropped (same reasoning as HID).
    serial_line_timeout: float = setting(0.5, min=0.01, max=10.0)

    # -- SAM ID-card reader (GA 467 style SAM module behind a USB-serial bridge)
    # 115200 8N1 is the modules' default; some are strapped to 9600.
    idcard_baud: int = setting(115200, min=9600, max=921600)
    # Seconds between find-card polls; vendors advise no faster than 0.3 s.
    idcard_poll_interval: float = setting(0.3, min=0.05, max=5.0)
    # Extra seconds allowed per answer beyond its time on the wire (the SAM
    # module needs ~0.1-0.5 s for the radio read of the card).
    idcard_answer_timeout: float = setting(1.0, min=0.1, max=10.0)
    # Unanswered commands in a row before the reader counts as gone.
    idcard_missed_answers: int = setting(3, min=1, max=100)

    # -- what a payload means (per school; see docs/scanner.md)
    # Ordered regular expressions, tried with fullmatch on the scanned text after
    # an 18-character ID number check. Named groups: student_number (学号, kept
    # as text with letters and leading zeros) or id_number. Default: a bare
    # 学号 of 4-24 letters/digits, the form most student cards carry.
    payload_patterns: tuple[str, ...] = (r"(?P<student_number>[0-9A-Za-z]{4,24})",)
    # The 学信网 图像采集码 QR (since 2023): an encrypted, opaque token. Until a
    # real code pins its exact shape, accept a chsi.com.cn URL or a token of 40+
    # base64/URL-safe characters; the raw bytes are kept exactly either way.
    collection_code_pattern: str = r"(?:https?://\S*chsi\.com\.cn/\S+|[A-Za-z0-9+/=_\-]{40,})"


@dataclass(frozen=True)
class SyncConfig:
    """Store-and-forward sync to the central receiver (docs/sync.md).

    The kiosk's identity towards the receiver is ``station.station_id``; the
    token is issued by ``central token add <station_id>``.
    """

    # Receiver base URL, e.g. "https://photos.example.edu.cn". Empty: sync not set up.
    server_url: str = ""
    # Bearer token for this kiosk; or token_file (readable by the kiosk user only).
    token: str = ""
    token_file: Path | None = None
    # PEM CA bundle for a receiver with a private CA; unset = the system CA store.
    ca_file: Path | None = None
    # Plain http:// only when set (loopback tests); photos of faces and ID
    # numbers never cross a network unencrypted by accident.
    allow_http: bool = False
    # Batch size: 50 shots (~2.5 MB at 30-60 KB each) is one batch redone at
    # most after a cut, and few enough round trips to reach >= 200 shots/s.
    batch_max_records: int = setting(50, min=1, max=5000)
    batch_max_bytes: int = setting(8 * 1024 * 1024, min=64 * 1024, max=512 * 1024 * 1024)
    # Photos uploaded in parallel within a batch: hides the receiver's
    # per-photo fsync (~2 ms); bench/sync_bench.py went from ~190 to ~240
    # shots/s on loopback going from 4 to 8.
    parallel_uploads: int = setting(8, min=1, max=16)
    # Seconds to connect / to wait for any read or write: a stalled Wi-Fi
    # link is given up after this and retried.
    connect_timeout: float = setting(10.0, min=0.1, max=300.0)
    io_timeout: float = setting(30.0, min=0.1, max=600.0)
    # Exponential backoff with jitter: first wait and ceiling, in seconds.
    backoff_initial: float = setting(2.0, min=0.01, max=600.0)
    backoff_max: float = setting(300.0, min=0.01, max=3600.0)
    # `kiosk sync --once`: tries per batch in one run before it exits 1
    # (the systemd timer runs it again later).
    once_attempts: int = setting(4, min=1, max=100)
    # Continuous mode: how often to look for new shots in the outbox, seconds.
    poll_interval: float = setting(5.0, min=0.05, max=3600.0)


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the face-quality check (kiosk/capture/quality.py, docs/quality.md).

    Every measure is size-free (ratios on the face, degrees, or statistics of a
    face patch resampled to a fixed eye distance). "Dev set" below means the
    measured distribution of ../shared/faces (84 labelled photos): a default
    taken from it sits in the gap between the accepted and the refused
    categories, never at a single photo. Since issue 16 those defaults are
    exactly what ``kiosk.capture.rules.fit`` gives on the whole dev set (the
    middle of the gap between the accepted photos and those showing the
    rule's cue), and ``bench/quality_eval.py`` re-fits them on training folds
    to report cross-validated figures; limits from a standard or from
    geometry are never fitted.
    """

    # Detector score for a face to count (MediaPipe's own default, 0.5).
    face_confidence_min: float = setting(0.5, min=0.05, max=0.99)
    # Eye openness: widest lid gap over the iris diameter, per eye. An open eye
    # shows most of the iris (ICAO 9303: eyes open, irises visible); below 0.40
    # the lids cover more than 60 % of it. Dev set: closed/squeezed <= 0.35,
    # accepted >= 0.47.
    eye_open_min: float = setting(0.39, min=0.0, max=1.5)
    # Mouth opening: widest inner-lip gap over the eye-midpoint-to-chin distance
    # (OFIQ MouthClosed's normalisation; OFIQ's own sigmoid at 0.2 is lenient).
    # 0.03 of a ~12 cm eye-chin distance is ~3.5 mm of visible gap: lips apart
    # (registry: 嘴唇自然闭合). Dev set: accepted <= 0.015, parted lips >= 0.038.
    mouth_open_max: float = setting(0.029, min=0.0, max=0.5)
    # Smile: mouth width over the distance between the pupils. Anthropometric
    # neutral mouth width ~50 mm against ~63 mm between the pupils (~0.8); a
    # smile widens the mouth by 10-20 %: 0.8 x 1.15. Not fitted to photos:
    # fitted, it cost 1.1 points of cross-validated agreement (issue 16).
    mouth_width_max: float = setting(0.92, min=0.3, max=2.0)
    # Smile: mouth corners lifted above the lip line, over eye-chin distance.
    # Reported only since issue 16: as a rule it lowered the cross-validated
    # figures (over-fitted), so no code depends on it.
    corner_lift_max: float = setting(0.05, min=-0.5, max=0.5)
    # Gaze: iris centre off the eye's middle, as a fraction of the eye width.
    # 0.10 of a ~30 mm eye is ~3 mm, i.e. the eyeball (r ~12 mm) turned ~14 deg
    # (registry: 双眼平视). Dev set: accepted <= 0.075.
    gaze_max: float = setting(0.10, min=0.0, max=0.5)
    # Head pose limits in degrees. ISO/IEC 19794-5 allows +-5 yaw/pitch and
    # +-8 roll for a frontal portrait. Roll is measured precisely from the eye
    # line, so the ISO value is used as is. Yaw and pitch from one image carry
    # several degrees of error (MediaPipe's depth is learned, not measured),
    # so their limits sit between ISO's 5 deg and the ~20 deg at which the
    # dev set's labels call a head turned or strongly pitched. Pitch is the
    # weakest estimate (spread ~+-8 deg on the dev set's frontal photos), so
    # its limit is the 20 deg itself; the live head guide keeps nodding small.
    yaw_max: float = setting(15.0, min=1.0, max=90.0)
    roll_max: float = setting(8.0, min=1.0, max=90.0)
    pitch_max: float = setting(20.0, min=1.0, max=90.0)
    # The pitch the mesh reports for an upright frontal head (its forehead-chin
    # line leans back): the median of the dev set's accepted photos.
    pitch_offset: float = setting(-6.0, min=-45.0, max=45.0)
    # Occlusion: lips must be redder than the cheeks (CIELAB a*, 0-255 scale of
    # OpenCV). Lips are typically 8-15 a* above skin; a mask, hand or
    # balaclava over the mouth leaves ~0. Dev set: accepted >= 3.8, covered
    # mouths <= 1.6. Skipped on black-and-white images (face chroma below
    # ``grey_chroma_max``).
    lip_contrast_min: float = setting(2.65, min=-50.0, max=50.0)
    # A hand over the face (still only): the largest share of one region's
    # outline (eyes with brows, nose, mouth, jaw) inside a hand's hull. A
    # hand near but off the face covers 0; over a region, most of it.
    hand_cover_max: float = setting(0.08, min=0.0, max=1.0)
    # Dev set: black-and-white photos' face chroma <= 4.9, colour >= 6.4.
    grey_chroma_max: float = setting(5.5, min=0.0, max=50.0)
    # Occlusion: eye regions much darker than the cheeks (sunglasses). Dev set:
    # accepted >= 0.36, dark glasses ~0.16.
    eye_darkness_min: float = setting(0.265, min=0.0, max=1.0)
    # Glare on glasses (registry: ordinary glasses without reflections):
    # share of clipped-white pixels (>= 247, OFIQ's over-exposure range) in a
    # box of 1.5 x 1 eye widths around either eye. A catchlight is < 1 % of
    # it; a lens reflection over the eye several %. Dev set: all accepted 0.
    # Not applied when the whole face is over-exposed (that is too_bright).
    eye_glare_max: float = setting(0.03, min=0.0, max=1.0)
    # Glare on the skin (registry: no visible highlights): share of the skin
    # that is white in all three channels. A matt face holds none (dev set:
    # accepted <= 0.005); a shiny forehead under a bare lamp several %.
    skin_glare_max: float = setting(0.02, min=0.0, max=1.0)
    # Uneven light (阴阳脸): the brighter side over the darker, in stops of
    # linear light (matched forehead + cheek patches). Portrait lighting
    # calls 2:1 (1 stop) soft, 3:1 (1.6 stops) modelled and 4:1 (2 stops)
    # low-key, dramatic. The dev set's accepted photos reach 1.5 stops (web
    # photos under real room light), so the limit is the 4:1 ratio.
    light_asymmetry_max: float = setting(2.0, min=0.0, max=10.0)
    # Shoulders (registry: 左右肩膀平衡), still only: degrees of the pose
    # model's shoulder line from level. On the 16 kiosk stills of people
    # standing level (the staged portraits and the dev set's good photos on
    # the backdrop) the pose landmarks scatter up to 7.4 deg (hair over a
    # shoulder, a portrait cut at the chest); 10 deg is ~7 cm of height over
    # 40 cm of shoulders, a lean anyone sees in the crop.
    shoulder_tilt_max: float = setting(10.0, min=0.0, max=90.0)
    # Clothing (registry: 衣着应与背景色区分明显): CIE76 distance of the mean
    # colour below the chin to the configured background. Under 15 the
    # person mask's edge and the crop read as one colour; a white shirt on
    # the reference blue is ~50, a light-blue one ~10.
    clothing_delta_e_min: float = setting(15.0, min=0.0, max=200.0)
    # Exposure: mean face luminance in [0, 1]; OFIQ's LuminanceMean scores
    # fall off at 0.2 and 0.8 (ISO/IEC 29794-5). The lower limit also applies
    # to the darker half of the face (side light; ISO/IEC 29794-5's
    # illumination uniformity). Dev set: accepted darker half >= 0.35.
    luminance_min: float = setting(0.20, min=0.0, max=1.0)
    luminance_max: float = setting(0.80, min=0.0, max=1.0)
    # Exposure: share of face pixels clipped (OFIQ's Under/OverExposurePrevention
    # ranges: grey <= 25 and >= 247). 0.10 is OFIQ's component score ~9/100.
    clipped_max: float = setting(0.10, min=0.0, max=1.0)
    # Sharpness: energy of the finest octave (sigma < 1 px) over the next
    # octave (1-2 px) in the face patch at 48 px between the eyes. Natural
    # images are roughly scale-invariant, so a sharp face scores ~1 (dev set:
    # accepted >= 0.76); the set's derived blurs (Gaussian sigma 5-6 % of the
    # eye distance, motion 30 %) and a natural out-of-focus chip score <= 0.46.
    # 0.6 is the geometric middle of that gap.
    sharpness_min: float = setting(0.64, min=0.0, max=10.0)
    # Pixelation: a face made of blocks (a mosaic, or a tiny picture blown up
    # without smoothing) has its steps on a regular grid; the ratio of the
    # strongest grid phase's edge energy to the mean is ~1 for natural detail
    # (dev set: all photos <= 2.0) and about the block size for a mosaic
    # (>= 2.2 for blocks of 5 % of the eye distance). Refused as ``blurry``.
    blockiness_max: float = setting(2.5, min=1.0, max=100.0)
    # Resolution: the face patch is resampled to 48 px between the eye centres
    # (kiosk/capture/measures.py PATCH_EYE_DISTANCE); below that it would be
    # enlarged and its finest detail is interpolation, not evidence. So a
    # face with fewer pixels between the eyes is ``face_too_small`` (too thin
    # to judge) and the detail cues (sharpness, eye-region darkness) are not
    # applied to it; its geometry still is. ISO/IEC 19794-5's token format
    # asks 60 px, ICAO 9303 90 px. In the kiosk this is a framing fault.
    eye_distance_min_px: float = setting(48.0, min=0.0, max=1000.0)
    # Frown: brows lowered towards the eyes (brow-to-lid distance over the
    # eye-chin distance). Anthropometric ~15-20 mm over ~120 mm (0.12-0.17);
    # a frown (FACS AU4) pulls the brow down ~5 mm. Dev set: accepted >= 0.11.
    brow_height_min: float = setting(0.108, min=0.0, max=1.0)
    # Expression geometry over the inter-ocular distance (docs/quality.md).
    # Raised inner brows (AU1/2: surprise, sadness), brows knitted together
    # (AU4: frown), a narrowed, pushed-out mouth (pout, pursed lips) and
    # thinned, pressed lips. Limits: fitted to the dev set by the rule in
    # kiosk/capture/rules.py (the middle of the gap), cross-validated.
    brow_raise_max: float = setting(0.436, min=0.0, max=2.0)
    brow_gap_min: float = setting(0.438, min=0.0, max=2.0)
    mouth_width_min: float = setting(0.60, min=0.0, max=2.0)
    lip_thickness_min: float = setting(0.17, min=0.0, max=2.0)
    # Framing (kiosk only; --face-only leaves these out). The face should sit
    # in the head guide (kiosk/capture/compose.py head_guide): its centre within
    # this fraction of the frame of the guide's centre (0.06 of a 16:9 frame
    # is ~70 % of the guide's half-width: the face stays inside the oval),
    # its width within this factor of the guide's width (1.25 = 300/240, the
    # registry's widest face over the crop's target width).
    centre_tolerance: float = setting(0.06, min=0.0, max=0.5)
    size_tolerance: float = setting(1.25, min=1.0, max=4.0)
    # Background (kiosk only): the person mask from selfie segmentation;
    # background pixels' mean colour within this CIE76 distance of the
    # configured reference (photo.background) and their spread (std of L*)
    # below the second limit. ~10 dE is "clearly a different colour" in
    # print practice; a plain cloth under even light spreads by < 8 L*.
    background_delta_e_max: float = setting(25.0, min=0.0, max=200.0)
    background_spread_max: float = setting(10.0, min=0.0, max=100.0)
    # Preview only: the face detector and the segmentation each run on one
    # preview frame in this many (the mesh tracks every frame). 6 keeps the
    # preview's mean cost near mesh + measures (~7 ms on one core here, so
    # >= 15 assessments/s on one Pi 4 core, bench/quality_bench.py) and lags
    # the face count and the background verdict by at most 5 frames; the
    # still is always judged in full.
    preview_refresh: int = setting(6, min=1, max=30)
    # Share of the frame that must be background for the colour to be judged.
    background_min_fraction: float = setting(0.05, min=0.0, max=1.0)


@dataclass(frozen=True)
class PhotoConfig:
    """The registry's photo format (《高等教育学历证书电子注册图像采集规范及信息标准》, 教毕指〔2017〕99号)."""

    # Pixels, width x height, and print density (registry: 480 x 640, 300 dpi).
    width: int = setting(480, min=48, max=4800)
    height: int = setting(640, min=64, max=6400)
    dpi: int = setting(300, min=72, max=1200)
    # JPEG quality factor (registry: >= 60) and the file-size window in KB
    # (registry: typically 20-40 KB; some receivers ask 30-60 KB). The encoder
    # starts at ``jpeg_quality`` and moves within [jpeg_quality_min, 95] to
    # land inside the window.
    jpeg_quality: int = setting(90, min=60, max=95)
    jpeg_quality_min: int = setting(60, min=60, max=95)
    size_min_kb: float = setting(20.0, min=1.0, max=1000.0)
    size_max_kb: float = setting(40.0, min=1.0, max=1000.0)
    # Head placement in the output, pixels (registry: face width 180-300, eyes
    # 200-300 px from the top, top of the hair 50-110 px from the top). The
    # crop scales the face to ``face_width`` and puts the eyes at ``eye_line``;
    # with average proportions the crown then lands ~70-90 px from the top.
    face_width: int = setting(240, min=10, max=4800)
    eye_line: int = setting(262, min=1, max=6400)
    # The registry's bands themselves: the crop shifts within the eye band
    # (keeping 10 px inside it) to bring the top of the hair into its band.
    eye_band: tuple[int, int] = (200, 300)
    hair_band: tuple[int, int] = (50, 110)
    face_width_band: tuple[int, int] = (180, 300)
    # The official crop's height as a share of the camera frame's height when
    # the face sits in the head guide; the rest is room to move.
    frame_fill: float = setting(0.8, min=0.2, max=1.0)
    # Background colour: the registry's reference light blue, or white / light
    # grey where the school asks for those.
    background: Literal["blue", "white", "grey"] = "blue"
    blue_rgb: tuple[int, int, int] = (100, 197, 255)
    white_rgb: tuple[int, int, int] = (255, 255, 255)
    grey_rgb: tuple[int, int, int] = (220, 220, 220)

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        return {"blue": self.blue_rgb, "white": self.white_rgb, "grey": self.grey_rgb}[
            self.background
        ]


@dataclass(frozen=True)
class ExportConfig:
    """The delivery package (``kiosk export``): photo names, proof sheets."""

    # Photo file name in photos/; placeholders {身份证号} {学号} {采集码} {姓名}
    # {拍摄序号} {院校代码}. Default: the notice's workflow names photos by ID number.
    file_name: str = "{身份证号}.jpg"
    # File name of a photo whose student has no ID number (shot from a 学信网
    # 图像采集码) when file_name cannot name it: the 拍摄序号, unique in the
    # school's package; index.xlsx's 采集码 column ties each file to its code.
    file_name_without_id: str = "{拍摄序号}.jpg"
    # Lines under each proof photo, top to bottom. Default: the notice's five.
    # Also: 院校代码 性别 学历 专业名称 院系 类型 采集码.
    captions: tuple[str, ...] = ("学校名称", "学生姓名", "学号", "身份证号码", "拍摄序号")
    # Print 身份证号码 on the proofs with its middle hidden (620102********1234),
    # e.g. for sheets pinned up in public. Off: the school checks the full number.
    mask_id_number: bool = False
    # Characters left visible at the start / end of a masked number: the usual
    # Chinese masking keeps the 6-digit region code and the last 4.
    mask_keep_start: int = setting(6, min=0, max=17)
    mask_keep_end: int = setting(4, min=0, max=17)
    # Photos per proof page. 4 x 4 on A4 prints each photo about 31 x 41 mm
    # (the size of a 1-inch print) with five labelled 9 pt caption lines,
    # readable on paper at arm's length; 16 per page.
    columns: int = setting(4, min=1, max=12)
    rows: int = setting(4, min=1, max=12)
    paper: Literal["A4", "A3"] = "A4"
    # Width in pixels of the copies printed on the proofs: 240 px over 34 mm is
    # about 180 dpi (eyes clearly visible) and half of 480, which the JPEG
    # decoder produces directly (DCT scaling), so it is the fastest size too.
    proof_photo_width: int = setting(240, min=60, max=480)
    # JPEG quality of those copies: 75 keeps a 5,000-student proofs.pdf ~75 MB.
    proof_jpeg_quality: int = setting(75, min=30, max=95)
    # The official photo size (w, h) from the registry's rules; a stored photo
    # of another size stops the export instead of being delivered.
    photo_size: tuple[int, int] = (480, 640)
    # Local time of the shooting sites for dates on the proofs and sheets:
    # China Standard Time is UTC+8 all year (no daylight saving).
    utc_offset_hours: float = setting(8.0, min=-12, max=14)
    # Threads that read, check and shrink photos; 0 = one per CPU core.
    workers: int = setting(0, min=0, max=32)
    # CJK font for the proofs; "" = the installed one (kiosk/fonts.py), or a
    # path, with "#N" for face N of a .ttc collection.
    font: str = ""


@dataclass(frozen=True)
class DeploymentConfig:
    """The kiosk box itself: the shutter pedal and ``kiosk doctor``'s limits.

    docs/deployment.md; the pedal's wiring is in hardware/wiring.md.
    """

    # BCM number of the GPIO pin the optional shutter button / foot pedal is
    # wired to (GPIO17 = header pin 11 in hardware/wiring.md); not set = no pedal.
    shutter_pin: int | None = setting(None, min=0, max=27)
    # Pedal between the pin and ground with the Pi's internal pull-up on: a cut
    # wire reads as "not pressed", never as a stream of shots.
    shutter_pull_up: bool = True
    # Foot switches bounce for a few ms on press and release; 50 ms hides that
    # and is still far below two deliberate presses.
    shutter_bounce_ms: int = setting(50, min=0, max=1000)
    # A day's shooting for the disk check: ~100 students an hour (DESIGN.md)
    # over a 10-hour day, with retakes.
    day_shots: int = setting(1000, min=1)
    # Disk a shot takes, bytes; 0 = estimate it from the photos already stored
    # (the official 480 x 640 JPEG is 25-45 KB; no full-resolution still is
    # kept), or, before the first shot, from photo.size_max_kb.
    shot_bytes: int = setting(0, min=0)
    # A clock earlier than this has never been set (a Pi has no battery clock
    # until NTP answers); kept at the release date of this setting.
    clock_not_before: str = "2026-01-01"
    # Seconds ``kiosk doctor`` waits for the camera, a scanner or the receiver.
    doctor_timeout_s: float = setting(5.0, min=0.1, max=60.0)
    # The data folder must be its own file system (the image's kioskdata
    # partition): on the read-only root's RAM overlay photos vanish at reboot.
    # Off by default for desks and CI; the image's /etc/kiosk/kiosk.toml sets it.
    require_data_partition: bool = False


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``source`` says where it was read from."""

    data_dir: Path = DEFAULT_DATA_DIR
    station: StationConfig = field(default_factory=StationConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    roster: RosterConfig = field(default_factory=RosterConfig)
    deployment: DeploymentConfig = field(default_factory=DeploymentConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    photo: PhotoConfig = field(default_factory=PhotoConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    source: str = "defaults"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kiosk.db"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    def with_data_dir(self, data_dir: Path | str) -> Config:
        return dataclasses.replace(self, data_dir=Path(data_dir))


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load(path: Path | str | None = None, data_dir: Path | str | None = None) -> Config:
    """Read the config the way every ``kiosk`` command does.

    ``path`` and ``data_dir`` are the command-line values (``None`` when not
    given); the environment fills in what they leave open.
    """
    if path is None and os.environ.get(ENV_CONFIG):
        path = os.environ[ENV_CONFIG]
    config = Config() if path is None else load_file(Path(path))
    if data_dir is None and os.environ.get(ENV_DATA):
        data_dir = os.environ[ENV_DATA]
    if data_dir is not None:
        config = config.with_data_dir(data_dir)
    return config


def load_file(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text; save the config as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    config = from_dict(table, source=str(path))
    if not config.data_dir.is_absolute() and "data_dir" in table:
        # A relative data_dir in a file means relative to that file, so a
        # config works the same from any working directory.
        config = config.with_data_dir(path.parent / config.data_dir)
    return config


def from_dict(table: dict[str, Any], source: str = "dict") -> Config:
    values = _build(Config, table, prefix="")
    return dataclasses.replace(values, source=source)


def _build(cls: type, table: Any, prefix: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a table of settings")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        known = ", ".join(prefix + name for name in fields)
        raise ConfigError(f"unknown setting {prefix}{unknown[0]} (known here: {known})")
    kwargs = {}
    for name, value in table.items():
        key = prefix + name
        kwargs[name] = _coerce(hints[name], value, key, fields[name].metadata)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, key: str, meta: Any) -> Any:
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, prefix=key + ".")
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, choices))}")
        return value
    if origin in (typing.Union, types.UnionType):
        present = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(present[0], value, key, meta)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {_kind(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]", {}) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected a list of {len(args)} values, got {len(value)}")
        return tuple(
            _coerce(a, v, f"{key}[{i}]", {})
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {_kind(value)}")
        return _check_range(value, key, meta)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {_kind(value)}")
        return _check_range(float(value), key, meta)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text in quotes, got {_kind(value)}")
        return value
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a path in quotes, got {_kind(value)}")
        return Path(value).expanduser()
    raise ConfigError(f"{key}: unsupported setting type {hint!r}")  # a bug in this module


def _check_range(value: float, key: str, meta: Any) -> Any:
    low, high = (meta or {}).get("min"), (meta or {}).get("max")
    if low is not None and value < low:
        raise ConfigError(f"{key}: {value} is below the minimum {low}")
    if high is not None and value > high:
        raise ConfigError(f"{key}: {value} is above the maximum {high}")
    return value


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def defaults_as_toml() -> str:
    """The embedded defaults as a TOML document (``kiosk config --defaults``)."""
    lines: list[str] = []

    def emit(obj: Any, section: str) -> None:
        nested = []
        for f in dataclasses.fields(obj):
            if f.name == "source":
                continue
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                nested.append((f.name, value))
                continue
            if value is None:
                lines.append(f"# {f.name} = (not set)")
            else:
                lines.append(f"{f.name} = {_toml_value(value)}")
        for name, value in nested:
            lines.append("")
            lines.append(f"[{section}{name}]")
            emit(value, f"{section}{name}.")

    emit(Config(), "")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        return _toml_value(str(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
