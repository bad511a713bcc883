"""``kiosk doctor``: is this kiosk ready to shoot? One line per check, with the fix.

Why a list of small checks: each one answers a question the crew asks when
something is off (is the camera delivering? is the clock right?) and most are
pure functions of a few facts (free bytes, a date, a sysfs tree), tested on
their own. The device checks reuse the modules that run the devices, so the
doctor sees what the station would see (the simulated twins when the config
says so).

Exit code: 0 when nothing failed, 1 when something did (``kiosk.cli``'s rule).
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

Status = Literal["pass", "fail"]

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

    @property
    def zh(self) -> bool:
        return self.config.station.crew_language == "zh"

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en


Check = Callable[[Context], Finding]


# -- camera, scanner, central: through their own modules --------------------


def check_camera(ctx: Context) -> Finding:
    from kiosk.capture.devices import open_camera

    try:
        camera = open_camera(ctx.config.camera)
        camera.start()
    except Exception as exc:
        return Finding(
            "camera",
            "fail",
            ctx.t(f"相机打不开：{exc}", f"camera does not open: {exc}"),
            ctx.t(
                "检查排线两端是否插紧（蓝面朝向），然后重启；`rpicam-hello --list-cameras` 应列出相机",
                "reseat the ribbon cable at both ends (blue side as in hardware/wiring.md) "
                "and reboot; `rpicam-hello --list-cameras` must list the camera",
            ),
        )
    try:
        deadline = time.monotonic() + ctx.config.deployment.doctor_timeout_s
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
            ctx.t(
                f"相机已找到，但 {ctx.config.deployment.doctor_timeout_s:g} 秒内只有 {frames} 帧画面",
                f"camera found but delivered {frames} distinct frames in "
                f"{ctx.config.deployment.doctor_timeout_s:g} s",
            ),
            ctx.t(
                "停止 kiosk.service 后再试（相机同时只能被一个程序使用）",
                "stop kiosk.service first (one program at a time owns the camera), then retry",
            ),
        )
    return Finding("camera", "pass", ctx.t("相机有画面", "camera delivering frames"))


def check_scanner(ctx: Context) -> Finding:
    """Open every configured reader (or the simulated twins) and wait for each "ok"."""
    import queue

    from kiosk.scanner.base import DeviceStatus
    from kiosk.scanner.devices import open_backends

    fix = ctx.t(
        "重新插拔扫描枪/读卡器；`ls -l /dev/kiosk-*` 应列出它们（hardware/70-kiosk.rules），"
        "并核对配置 [scanner] devices",
        "replug the scanner / card reader; `ls -l /dev/kiosk-*` must list them "
        "(hardware/70-kiosk.rules); check [scanner] devices in the config",
    )
    settings = ctx.config.scanner
    backends = open_backends(settings)
    if not backends:
        return Finding(
            "scanner",
            "fail",
            ctx.t("没有配置扫描设备", "no scanner configured and simulation off"),
            fix,
        )
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
    simulated = (
        ctx.t("（模拟设备）", " (simulated)") if getattr(backends[0], "simulation", None) else ""
    )
    return Finding(
        "scanner",
        "pass",
        ctx.t("读卡设备均有应答", "every reader answers") + simulated + ": " + ", ".join(state),
    )


def check_central(ctx: Context) -> Finding:
    """Ask the receiver who this kiosk's token belongs to (``/whoami``)."""
    from kiosk.sync.client import ReceiverClient, SyncProblem

    settings = ctx.config.sync
    fix = ctx.t(
        "检查网络，以及 /etc/kiosk/kiosk.toml 中 [sync] 的 server_url 和 token（或 token_file）",
        "check the network and [sync] server_url and token (or token_file) in "
        "/etc/kiosk/kiosk.toml",
    )
    if not settings.server_url:
        return Finding(
            "central", "fail", ctx.t("未设置 sync.server_url", "sync.server_url is not set"), fix
        )
    token = settings.token
    if not token and settings.token_file is not None:
        try:
            token = Path(settings.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            return Finding("central", "fail", f"sync.token_file {settings.token_file}: {exc}", fix)
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
            "central",
            "fail",
            ctx.t(
                f"中心服务器 {settings.server_url}：{exc}",
                f"central receiver {settings.server_url}: {exc}",
            ),
            fix,
        )
    station = ctx.config.station.station_id
    if who != station:
        return Finding(
            "central",
            "fail",
            ctx.t(
                f"令牌属于 {who}，本机是 {station}",
                f"the token belongs to {who}, this kiosk is {station}",
            ),
            ctx.t(
                f"在服务器上执行 central token add {station}，把新令牌写入配置",
                f"on the server run `central token add {station}` and put that token in the config",
            ),
        )
    return Finding(
        "central",
        "pass",
        ctx.t(
            f"中心服务器接受本机令牌（{who}）",
            f"central receiver accepts this kiosk's token ({who})",
        ),
    )


# -- pure checks ------------------------------------------------------------


def check_display(ctx: Context) -> Finding:
    env = dict(ctx.environ)
    choice = kmsdrm.prepare(env, ctx.sysfs_drm)
    if choice.driver != kmsdrm.WANTED_DRIVER:
        return Finding(
            "display",
            "pass",
            ctx.t(
                f"显示：{choice.message}（非 KMS/DRM）", f"display: {choice.message} (not KMS/DRM)"
            ),
        )
    if choice.card is None:
        return Finding(
            "display",
            "fail",
            ctx.t(f"未检测到已连接的屏幕（{choice.message}）", choice.message),
            ctx.t(
                "接上屏幕（Pi 4/5 的 HDMI 0 口）后重启", "plug the screen into HDMI 0 and restart"
            ),
        )
    device = choice.card.device
    if device.exists() and not os.access(device, os.R_OK | os.W_OK):
        return Finding(
            "display",
            "fail",
            ctx.t(f"无权打开 {device}", f"no permission to open {device}"),
            ctx.t(
                "把 kiosk 用户加入 video 和 render 组",
                "add the kiosk user to the video and render groups",
            ),
        )
    return Finding("display", "pass", choice.message)


def check_font(ctx: Context) -> Finding:
    """The font the screens and proofs use (kiosk/fonts.py) draws the student's Chinese."""
    from kiosk import fonts

    fix = ctx.t(
        "安装字体：apt install fonts-wqy-zenhei", "install one: apt install fonts-wqy-zenhei"
    )
    try:
        font = fonts.cjk_font(ctx.config.export.font or None)
        missing = fonts.missing_characters(font, [CJK_SAMPLE])
    except fonts.FontNotFound as exc:
        return Finding("font", "fail", str(exc), fix)
    except Exception as exc:  # an unreadable or truncated font file
        return Finding(
            "font", "fail", ctx.t(f"字体无法读取：{exc}", f"font unreadable: {exc}"), fix
        )
    if missing:
        return Finding(
            "font",
            "fail",
            ctx.t(f"{font} 缺少字形：", f"{font} lacks ") + "".join(sorted(missing)),
            fix,
        )
    return Finding("font", "pass", ctx.t(f"中文字体：{font}", f"CJK font: {font}"))


def disk_finding(ctx: Context, free_bytes: int, where: Path) -> Finding:
    cfg = ctx.config.deployment
    needed = cfg.day_shots * cfg.shot_bytes
    gib = 1024**3
    detail = ctx.t(
        f"{where} 剩余 {free_bytes / gib:.1f} GiB，一天 {cfg.day_shots} 张约需 {needed / gib:.1f} GiB",
        f"{free_bytes / gib:.1f} GiB free on {where}; a day of {cfg.day_shots} shots needs "
        f"{needed / gib:.1f} GiB",
    )
    if free_bytes >= needed:
        return Finding("disk", "pass", detail)
    return Finding(
        "disk",
        "fail",
        detail,
        ctx.t(
            "先同步（kiosk sync --once）并导出已完成的院系，再清理；或换更大的存储卡",
            "sync (kiosk sync --once) and export finished departments, then free space; "
            "or use a larger card",
        ),
    )


def partition_finding(ctx: Context, data_device: int, root_device: int) -> Finding | None:
    """A failure when the data folder sits on the root file system but must not."""
    if not ctx.config.deployment.require_data_partition or data_device != root_device:
        return None
    where = ctx.config.data_dir
    return Finding(
        "disk",
        "fail",
        ctx.t(
            f"{where} 不在数据分区上（在只读根分区的内存层上，重启后照片会丢失）",
            f"{where} is not on the data partition but on the root's RAM overlay: "
            "photos would vanish at reboot",
        ),
        ctx.t(
            f"停止 kiosk.service；`findmnt {where}` 应显示 LABEL=kioskdata 分区",
            f"stop kiosk.service; `findmnt {where}` must show the kioskdata partition",
        ),
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
            f"deployment.clock_not_before: {ctx.config.deployment.clock_not_before!r} is not a date",
            ctx.t("写成 YYYY-MM-DD", "write it as YYYY-MM-DD"),
        )
    now = ctx.now
    shown = now.strftime("%Y-%m-%d %H:%M UTC")
    fix = ctx.t(
        "连上网络等待校时（timedatectl 显示 System clock synchronized: yes），或手动设置：sudo date -s '…'",
        "connect the network and wait for NTP (timedatectl: System clock synchronized: yes), "
        "or set it: sudo date -s '...'",
    )
    if now.date() < not_before:
        return Finding(
            "clock",
            "fail",
            ctx.t(f"时钟未设置：{shown}", f"clock not set: {shown} is before {not_before}"),
            fix,
        )
    if latest_record is not None and now < latest_record - CLOCK_BACKWARD_SLACK:
        return Finding(
            "clock",
            "fail",
            ctx.t(
                f"时钟倒退：{shown} 早于最近的记录 {latest_record:%Y-%m-%d %H:%M}",
                f"clock went back: {shown} is before the newest record "
                f"({latest_record:%Y-%m-%d %H:%M UTC})",
            ),
            fix,
        )
    sync = (
        ctx.t("已由 NTP 校时", "synchronised by NTP")
        if ntp_synchronised
        else ctx.t("未经 NTP 校时", "not confirmed by NTP")
    )
    return Finding("clock", "pass", f"{shown} ({sync})")


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
            "database",
            "fail",
            ctx.t(f"没有数据库 {path}", f"no database at {path}"),
            ctx.t(
                "导入学校名单：kiosk roster import 名单.xlsx（并确认数据分区已挂载）",
                "import the school's roster: kiosk roster import FILE.xlsx "
                "(and check the data partition is mounted)",
            ),
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
            ctx.t("数据库损坏：", "database damaged: ") + "; ".join(problems[:3]),
            ctx.t(
                "停止 kiosk.service，备份数据文件夹，联系技术支持；不要删除照片",
                "stop kiosk.service, copy the data folder somewhere safe, call support; "
                "do not delete photos",
            ),
        )
    return Finding("database", "pass", ctx.t(f"数据库完好：{path}", f"database intact: {path}"))


def check_shutter(ctx: Context) -> Finding:
    cfg = ctx.config.deployment
    if cfg.shutter_pin is None:
        return Finding("pedal", "pass", ctx.t("未配置脚踏开关", "no shutter pedal configured"))
    from kiosk.shutter import ShutterError, ShutterPedal

    try:
        pedal = ShutterPedal(
            cfg.shutter_pin, lambda: None, pull_up=cfg.shutter_pull_up, bounce_ms=0
        )
    except ShutterError as exc:
        return Finding(
            "pedal",
            "fail",
            str(exc),
            ctx.t(
                "kiosk.service 运行时占用该引脚，先停止它再检查；接线见 hardware/wiring.md",
                "kiosk.service holds the pin while it runs: stop it first; wiring in "
                "hardware/wiring.md",
            ),
        )
    try:
        held = pedal.pressed
    finally:
        pedal.close()
    if held:
        return Finding(
            "pedal",
            "fail",
            ctx.t(
                f"GPIO{cfg.shutter_pin} 一直处于按下状态", f"GPIO{cfg.shutter_pin} reads pressed"
            ),
            ctx.t("松开脚踏，或检查是否短路", "release the pedal or look for a short"),
        )
    return Finding(
        "pedal", "pass", ctx.t(f"脚踏开关 GPIO{cfg.shutter_pin}", f"pedal on GPIO{cfg.shutter_pin}")
    )


CHECKS: tuple[tuple[str, Check], ...] = (
    ("camera", check_camera),
    ("scanner", check_scanner),
    ("display", check_display),
    ("font", check_font),
    ("disk", check_disk),
    ("clock", check_clock),
    ("database", check_database),
    ("central", check_central),
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
                Finding(
                    name,
                    "fail",
                    f"{type(exc).__name__}: {exc}",
                    ctx.t("请联系技术支持", "call support"),
                )
            )
    return findings


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.status == "fail" for f in findings) else 0


def render(findings: list[Finding], zh: bool) -> list[str]:
    marks = {"pass": "PASS", "fail": "FAIL"}
    lines = []
    for f in findings:
        lines.append(f"{marks[f.status]}  {f.check:<9} {f.detail}")
        if f.status == "fail" and f.fix:
            lines.append(f"      {'处理' if zh else 'fix'}: {f.fix}")
    failed = sum(f.status == "fail" for f in findings)
    if zh:
        lines.append(f"{len(findings)} 项检查，{failed} 项失败")
    else:
        lines.append(f"{len(findings)} checks, {failed} failed")
    return lines
