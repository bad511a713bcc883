"""``kiosk doctor``: is this kiosk ready to shoot? One line per check, with the fix.

Why a list of small checks: each one answers a question the crew asks when
something is off (is the camera delivering? is the clock right?) and most are
pure functions of a few facts (free bytes, a date, a sysfs tree), tested on
their own. The device checks reuse the modules that run the devices, so the
doctor sees what the station would see (the simulated twins when the config
says so).

A check passes, warns or fails. A warning is not a pass: the kiosk may shoot,
but something is not what a real day needs (a clock NTP never confirmed, a
simulated scanner, a framing that upscales). Exit code: 0 when every check
passed, 1 when any warned or failed (``kiosk.cli``'s rule: the crew must look).

Every sentence comes from the language catalogues (kiosk/lang, keys
``doctor.*``), and each fix answers the cause the detail names.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kiosk.config import Config
from kiosk.display import kmsdrm
from kiosk.lang import Words, say

Status = Literal["pass", "warn", "fail"]

# Text a student sees; the font must draw every character of it.
CJK_SAMPLE = "请正视镜头睁眼拍摄完成姓名学号身份证号"
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
# A clock this far behind the newest saved record has jumped back (a Pi without
# a battery clock boots at the last saved time until NTP answers).
CLOCK_BACKWARD_SLACK = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class Context:
    """What the checks look at; tests put fakes here, the CLI the real things."""

    config: Config
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    sysfs_drm: Path = kmsdrm.SYSFS_DRM
    timesync_flag: Path = TIMESYNC_FLAG
    # libcamera's sensor name of a camera number (kiosk/capture/sensor.py)
    sensor: Callable[[int], str | None] | None = None

    @property
    def zh(self) -> bool:
        return self.config.station.crew_language != "en"

    def say(self, key: str, **values: object) -> str:
        # Words: an error among the values (a sync failure) is said in the same language.
        return Words(self.config.station.crew_language)(f"doctor.{key}", **values)


Check = Callable[[Context], Finding]


# -- camera, scanner, central: through their own modules --------------------


def camera_fix(ctx: Context, exc: BaseException) -> str:
    """The fix for why the camera did not open: a missing library is not a loose cable."""
    cause = exc.__cause__
    text = str(exc).lower()
    if isinstance(cause, ImportError) or "not installed" in text:
        return ctx.say("camera_fix_library")
    if "busy" in text or "in use" in text:
        return ctx.say("camera_fix_busy")
    if "no camera" in text or isinstance(cause, IndexError):
        return ctx.say("camera_fix_cable")
    return ctx.say("camera_fix_other")


def check_camera(ctx: Context) -> Finding:
    from kiosk.capture.devices import open_camera

    try:
        camera = open_camera(ctx.config.camera)
        camera.start()
    except Exception as exc:
        return Finding("camera", "fail", ctx.say("camera_no_open", error=exc), camera_fix(ctx, exc))
    timeout = ctx.config.deployment.doctor_timeout_s
    try:
        deadline = time.monotonic() + timeout
        seen: set[int] = set()  # distinct frames: a frozen camera repeats one
        while time.monotonic() < deadline and len(seen) < 3:
            frame = camera.latest()
            if frame is not None:
                seen.add(frame.seq)
            time.sleep(0.02)
        frames = len(seen)
    finally:
        camera.stop()
    if frames < 3:
        return Finding(
            "camera",
            "fail",
            ctx.say("camera_frozen", seconds=timeout, frames=frames),
            ctx.say("camera_fix_busy"),
        )
    if ctx.config.camera.backend == "sim":
        return Finding("camera", "warn", ctx.say("camera_simulated"), ctx.say("camera_fix_sim"))
    return Finding("camera", "pass", ctx.say("camera_ok"))


def check_framing(ctx: Context) -> Finding:
    """Does the still keep the official crop at >= photo.height rows (no upscaling)?"""
    from kiosk import geometry

    config = ctx.config
    if config.camera.backend == "sim":
        return Finding("framing", "pass", ctx.say("framing_simulated"))
    if ctx.sensor is None:
        from kiosk.capture.sensor import sensor_name

        ctx.sensor = sensor_name
    sensor = ctx.sensor(config.camera.index)
    model = geometry.model_for_sensor(sensor) if sensor else None
    if model is None:
        return Finding(
            "framing",
            "warn",
            ctx.say("framing_unknown", sensor=sensor or "?"),
            ctx.say("framing_fix_unknown"),
        )
    fitted = geometry.fit_config(config, model)
    rows = geometry.crop_rows_in_force(fitted, model)
    detail = ctx.say(
        "framing_detail",
        camera=model.name,
        width=fitted.camera.still_size[0],
        height=fitted.camera.still_size[1],
        fill=fitted.photo.frame_fill,
        distance=fitted.camera.subject_distance_m,
        rows=round(rows),
    )
    if rows < config.photo.height:
        best = geometry.framing_for(model, config.photo)
        fix = (
            ctx.say("framing_fix_camera")
            if best.upscaled
            else ctx.say(
                "framing_fix_auto",
                width=best.still_size[0],
                height=best.still_size[1],
                fill=best.frame_fill,
                distance=best.distance_m,
            )
        )
        return Finding(
            "framing",
            "fail",
            detail + ctx.say("framing_upscaled", photo_rows=config.photo.height),
            fix,
        )
    return Finding("framing", "pass", detail)


def check_scanner(ctx: Context) -> Finding:
    """Open every configured reader (or the simulated twins) and wait for each "ok"."""
    import queue

    from kiosk.scanner.base import DeviceStatus
    from kiosk.scanner.devices import open_backends

    fix = ctx.say("scanner_fix")
    settings = ctx.config.scanner
    backends = open_backends(settings)
    if not backends:
        return Finding("scanner", "fail", ctx.say("scanner_none"), fix)
    state: dict[str, tuple[str, str]] = {b.source: ("silent", "") for b in backends}
    events: queue.Queue[object] = queue.Queue()
    deadline = time.monotonic() + ctx.config.deployment.doctor_timeout_s
    try:
        for backend in backends:
            backend.start(events.put)
        while time.monotonic() < deadline and any(s != "ok" for s, _ in state.values()):
            try:
                event = events.get(timeout=max(0.01, min(0.2, deadline - time.monotonic())))
            except queue.Empty:
                continue
            if isinstance(event, DeviceStatus) and event.source in state:
                state[event.source] = (event.state, event.message)
    finally:
        for backend in backends:
            backend.stop()
        simulation = getattr(backends[0], "simulation", None)
        if simulation is not None:
            simulation.close()
    bad = [f"{source}: {s} {m}".strip() for source, (s, m) in state.items() if s != "ok"]
    if bad:
        return Finding("scanner", "fail", "; ".join(bad), fix)
    if getattr(backends[0], "simulation", None) is not None:
        return Finding(
            "scanner",
            "warn",
            ctx.say("scanner_simulated", devices=", ".join(state)),
            ctx.say("scanner_fix_simulated"),
        )
    return Finding("scanner", "pass", ctx.say("scanner_ok", devices=", ".join(state)))


def check_central(ctx: Context) -> Finding:
    """Ask the receiver who this kiosk's token belongs to (``/whoami``)."""
    from kiosk.sync.client import ReceiverClient, SyncProblem

    settings = ctx.config.sync
    fix = ctx.say("central_fix")
    if not settings.server_url:
        return Finding("central", "fail", ctx.say("central_no_url"), fix)
    token = settings.token
    if not token and settings.token_file is not None:
        try:
            token = Path(settings.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            return Finding(
                "central",
                "fail",
                ctx.say("central_token_file", path=settings.token_file, error=exc),
                fix,
            )
    timeout = ctx.config.deployment.doctor_timeout_s
    try:
        client = ReceiverClient(
            settings.server_url,
            token,
            allow_http=settings.allow_http,
            ca_file=settings.ca_file,
            connect_timeout=timeout,
            io_timeout=timeout,
            connections=1,
        )
        try:
            who = client.whoami()
        finally:
            client.close()
    except SyncProblem as exc:
        return Finding(
            "central", "fail", ctx.say("central_error", url=settings.server_url, error=exc), fix
        )
    station = ctx.config.station.station_id
    if who != station:
        return Finding(
            "central",
            "fail",
            ctx.say("central_wrong_kiosk", who=who, station=station),
            ctx.say("central_fix_token", station=station),
        )
    return Finding("central", "pass", ctx.say("central_ok", who=who))


# -- pure checks ------------------------------------------------------------


def check_display(ctx: Context) -> Finding:
    env = dict(ctx.environ)
    choice = kmsdrm.prepare(env, ctx.sysfs_drm)
    if choice.driver != kmsdrm.WANTED_DRIVER:
        return Finding("display", "pass", ctx.say("display_other", message=choice.message))
    if choice.card is None:
        return Finding(
            "display",
            "fail",
            ctx.say("display_none", message=choice.message),
            ctx.say("display_fix_plug"),
        )
    device = choice.card.device
    if device.exists() and not os.access(device, os.R_OK | os.W_OK):
        return Finding(
            "display",
            "fail",
            ctx.say("display_no_permission", device=device),
            ctx.say("display_fix_groups"),
        )
    return Finding("display", "pass", choice.message)


def check_font(ctx: Context) -> Finding:
    """The font the screens and proofs use (kiosk/fonts.py) draws the student's Chinese."""
    from kiosk import fonts

    fix = ctx.say("font_fix")
    try:
        font = fonts.cjk_font(ctx.config.export.font or None)
        missing = fonts.missing_characters(font, [CJK_SAMPLE])
    except fonts.FontNotFound as exc:
        return Finding("font", "fail", str(exc), fix)
    except Exception as exc:  # an unreadable or truncated font file
        return Finding("font", "fail", ctx.say("font_unreadable", error=exc), fix)
    if missing:
        return Finding(
            "font",
            "fail",
            ctx.say("font_lacks", font=font, characters="".join(sorted(missing))),
            fix,
        )
    return Finding("font", "pass", ctx.say("font_ok", font=font))


# Photos looked at to estimate a shot's size: enough for a steady mean, few
# enough to stat in a blink on an SD card.
SIZE_SAMPLE = 500
# What a shot adds beyond its JPEG: its database rows and outbox entry.
SHOT_OVERHEAD_BYTES = 4096


def shot_size(ctx: Context) -> tuple[int, int]:
    """(bytes a shot takes, photos measured): the mean of the stored photos;
    without any, the photo format's largest file (photo.size_max_kb); an
    explicit ``deployment.shot_bytes`` wins."""
    if ctx.config.deployment.shot_bytes:
        return ctx.config.deployment.shot_bytes, 0
    sizes = []
    photos = ctx.config.photos_dir
    if photos.is_dir():
        for path in photos.rglob("*.jpg"):
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                continue
            if len(sizes) >= SIZE_SAMPLE:
                break
    if sizes:
        return round(sum(sizes) / len(sizes)) + SHOT_OVERHEAD_BYTES, len(sizes)
    return round(ctx.config.photo.size_max_kb * 1024) + SHOT_OVERHEAD_BYTES, 0


def disk_finding(ctx: Context, free_bytes: int, where: Path) -> Finding:
    cfg = ctx.config.deployment
    each, measured = shot_size(ctx)
    needed = cfg.day_shots * each
    basis = (
        ctx.say("disk_measured", count=measured)
        if measured
        else ctx.say("disk_configured")
        if cfg.shot_bytes
        else ctx.say("disk_format", kb=ctx.config.photo.size_max_kb)
    )
    detail = ctx.say(
        "disk_detail",
        where=where,
        free=_size_text(free_bytes),
        shots=cfg.day_shots,
        needed=_size_text(needed),
        each=_size_text(each),
        basis=basis,
    )
    if free_bytes >= needed:
        return Finding("disk", "pass", detail)
    return Finding("disk", "fail", detail, ctx.say("disk_fix"))


def _size_text(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def partition_finding(ctx: Context, data_device: int, root_device: int) -> Finding | None:
    """A failure when the data folder sits on the root file system but must not."""
    if not ctx.config.deployment.require_data_partition or data_device != root_device:
        return None
    where = ctx.config.data_dir
    return Finding(
        "disk",
        "fail",
        ctx.say("disk_not_partition", where=where),
        ctx.say("disk_fix_partition", where=where),
    )


def check_disk(ctx: Context) -> Finding:
    where = ctx.config.data_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    problem = partition_finding(ctx, where.stat().st_dev, Path("/").stat().st_dev)
    if problem is not None:
        return problem
    return disk_finding(ctx, shutil.disk_usage(where).free, ctx.config.data_dir)


def clock_finding(
    ctx: Context, latest_record: dt.datetime | None, ntp_synchronised: bool
) -> Finding:
    try:
        not_before = dt.date.fromisoformat(ctx.config.deployment.clock_not_before)
    except ValueError:
        return Finding(
            "clock",
            "fail",
            ctx.say("clock_bad_setting", value=ctx.config.deployment.clock_not_before),
            ctx.say("clock_fix_setting"),
        )
    now = ctx.now
    shown = now.strftime("%Y-%m-%d %H:%M UTC")
    fix = ctx.say("clock_fix")
    if now.date() < not_before:
        return Finding("clock", "fail", ctx.say("clock_not_set", now=shown, date=not_before), fix)
    if latest_record is not None and now < latest_record - CLOCK_BACKWARD_SLACK:
        return Finding(
            "clock",
            "fail",
            ctx.say("clock_went_back", now=shown, latest=f"{latest_record:%Y-%m-%d %H:%M UTC}"),
            fix,
        )
    if not ntp_synchronised:
        # Plausible, but nothing vouches for it: shots would carry this time.
        return Finding("clock", "warn", ctx.say("clock_unconfirmed", now=shown), fix)
    return Finding("clock", "pass", ctx.say("clock_ok", now=shown))


def _latest_record(db_path: Path) -> dt.datetime | None:
    import sqlite3

    if not db_path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT max(t) FROM (SELECT max(taken_at) AS t FROM shots "
                "UNION ALL SELECT max(at) FROM events)"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if not row or not row[0]:
        return None
    return dt.datetime.fromisoformat(row[0])


def check_clock(ctx: Context) -> Finding:
    return clock_finding(ctx, _latest_record(ctx.config.db_path), ctx.timesync_flag.exists())


def check_database(ctx: Context) -> Finding:
    from kiosk.store import Store, StoreError

    path = ctx.config.db_path
    if not path.exists():
        return Finding(
            "database", "fail", ctx.say("database_none", path=path), ctx.say("database_fix_import")
        )
    try:
        with Store(path, migrate=False) as store:
            problems = store.integrity_problems()
    except (StoreError, OSError) as exc:
        problems = [str(exc)]
    if problems:
        return Finding(
            "database",
            "fail",
            ctx.say("database_damaged", problems="; ".join(problems[:3])),
            ctx.say("database_fix_damaged"),
        )
    return Finding("database", "pass", ctx.say("database_ok", path=path))


def check_pin(ctx: Context) -> Finding:
    """The factory PIN lets anyone in the hall leave the kiosk: not on a real one."""
    from kiosk.crewpin import DEFAULT_PIN, pin_in_force, real_kiosk

    pin = pin_in_force(ctx.config)
    if pin != DEFAULT_PIN:
        return Finding("pin", "pass", ctx.say("pin_ok"))
    if real_kiosk(ctx.config):
        return Finding("pin", "fail", ctx.say("pin_default"), ctx.say("pin_fix"))
    return Finding("pin", "warn", ctx.say("pin_default_desk"), ctx.say("pin_fix"))


def check_shutter(ctx: Context) -> Finding:
    cfg = ctx.config.deployment
    if cfg.shutter_pin is None:
        return Finding("pedal", "pass", ctx.say("pedal_none"))
    from kiosk.shutter import ShutterError, ShutterPedal

    try:
        pedal = ShutterPedal(
            cfg.shutter_pin, lambda: None, pull_up=cfg.shutter_pull_up, bounce_ms=0
        )
    except ShutterError as exc:
        return Finding("pedal", "fail", str(exc), ctx.say("pedal_fix_busy"))
    try:
        held = pedal.pressed
    finally:
        pedal.close()
    if held:
        return Finding(
            "pedal",
            "fail",
            ctx.say("pedal_held", pin=cfg.shutter_pin),
            ctx.say("pedal_fix_held"),
        )
    return Finding("pedal", "pass", ctx.say("pedal_ok", pin=cfg.shutter_pin))


CHECKS: tuple[tuple[str, Check], ...] = (
    ("camera", check_camera),
    ("framing", check_framing),
    ("scanner", check_scanner),
    ("display", check_display),
    ("font", check_font),
    ("disk", check_disk),
    ("clock", check_clock),
    ("database", check_database),
    ("central", check_central),
    ("pin", check_pin),
    ("pedal", check_shutter),
)


def run(ctx: Context, only: tuple[str, ...] = ()) -> list[Finding]:
    """Every check (or those named); a check that crashes is a failure, not a crash."""
    findings = []
    for name, check in CHECKS:
        if only and name not in only:
            continue
        try:
            findings.append(check(ctx))
        except Exception as exc:
            findings.append(
                Finding(name, "fail", f"{type(exc).__name__}: {exc}", ctx.say("call_support"))
            )
    return findings


def exit_code(findings: list[Finding]) -> int:
    """0 only when every check passed: a warning is something to look at."""
    return 1 if any(f.status != "pass" for f in findings) else 0


def render(findings: list[Finding], language: str) -> list[str]:
    marks = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}
    lines = []
    for f in findings:
        lines.append(f"{marks[f.status]}  {f.check:<9} {f.detail}")
        if f.status != "pass" and f.fix:
            lines.append("      " + say(language, "doctor.fix", fix=f.fix))
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    lines.append(say(language, "doctor.total", checks=len(findings), failed=failed, warned=warned))
    return lines
