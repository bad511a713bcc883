"""``kiosk ...`` commands.

Every command takes the global ``--config FILE`` (env ``KIOSK_CONFIG``) and
``--data DIR`` (env ``KIOSK_DATA``). Exit codes follow one rule across
commands: 0 all done, 1 done with problems the crew must look at (rejected
rows, work left), 2 could not start (bad file, bad config).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from kiosk import config as config_module
from kiosk import geometry as geometry_module
from kiosk import roster_cli
from kiosk.config import Config, ConfigError
from kiosk.lang import Said, Words
from kiosk.store import Store, StoreError

if TYPE_CHECKING:
    from kiosk.sync.client import ReceiverClient


class App:
    """What every command gets: the config, and the store opened on demand."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.words = Words(config.station.crew_language)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = Store(self.config.db_path)
            except StoreError as exc:
                fail(str(exc))
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def fail(message: str, code: int = 2) -> NoReturn:
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(App) if ctx is not None else None
    words = app.words if app is not None else Words("zh")
    click.echo(words("cli.error", text=message), err=True)
    sys.exit(code)


pass_app = click.make_pass_decorator(App)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=config_module.ENV_CONFIG,
    help="TOML config file (env KIOSK_CONFIG).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=config_module.ENV_DATA,
    help="Folder with the database and photos (env KIOSK_DATA).",
)
@click.version_option(package_name="kiosk")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, data_dir: Path | None) -> None:
    """Shooting-room kiosk for the degree-certificate photo registry."""
    from kiosk.export.fields import check_settings

    try:
        config = config_module.load(config_path, data_dir)
        check_settings(config.export)
    except ConfigError as exc:
        fail(f"config: {exc}")
    app = App(config)
    ctx.obj = app
    ctx.call_on_close(app.close)


# -- config --------------------------------------------------------------------


@main.command("config")
@click.option("--defaults", is_flag=True, help="Print the embedded defaults as TOML.")
@pass_app
def config_command(app: App, defaults: bool) -> None:
    """Show the configuration in force (or the defaults, as a starting file)."""
    if defaults:
        click.echo(config_module.defaults_as_toml(), nl=False)
        return
    click.echo(f"# from: {app.config.source}; data folder: {app.config.data_dir}")
    click.echo(json.dumps(asdict(app.config), default=str, ensure_ascii=False, indent=2))


# -- roster --------------------------------------------------------------------


@main.group()
def roster() -> None:
    """Import and search the school's roster."""


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@roster_cli.report_option
@pass_app
def roster_import(app: App, file: Path, report_path: Path | None) -> None:
    """Import FILE (.xlsx or .csv in the notice's school-database format).

    Exit 0: every row imported; 1: some rows rejected (listed); 2: the file
    could not be read (nothing changed).
    """
    from kiosk import roster as roster_module

    threshold = app.config.roster.progress_threshold

    def progress(rows: list[Any]) -> Any:
        if len(rows) < threshold or not sys.stderr.isatty():
            return rows
        return click.progressbar(rows, label=app.words("roster.progress"), file=sys.stderr)

    def run(wrap: Any) -> roster_module.ImportReport:
        return roster_module.import_roster(
            app.store, file, min_birth_year=app.config.roster.min_birth_year, progress=wrap
        )

    started = time.perf_counter()
    try:
        report = run(progress)
    except roster_module.RosterError as exc:
        fail(app.words("roster.error", text=app.words.text(exc)))
    elapsed = time.perf_counter() - started
    roster_cli.finish(app.words, report, elapsed, report_path)


@roster.command("pull")
@click.option("--school", "school_code", required=True, help="院校代码 of the roster to fetch.")
@click.option("--server", help="Receiver URL (overrides sync.server_url).")
@click.option("--token", help="This kiosk's token (overrides sync.token).")
@pass_app
def roster_pull(app: App, school_code: str, server: str | None, token: str | None) -> None:
    """Fetch the school's roster from the central office and store it as an import would.

    Also brings this kiosk's 拍摄序号 base and the school's retake requests.
    Exit 0: stored; 1: the office could not be reached (nothing changed);
    2: bad setup (token, school code) or an answer that cannot be stored.
    """
    from kiosk.roster_pull import PullError, apply_pull
    from kiosk.sync.client import Offline, Refused, SetupProblem

    client = _sync_client(app, server, token)
    started = time.perf_counter()
    try:
        answer = client.roster(school_code)
    except SetupProblem as exc:
        fail(app.words.text(exc))
    except Refused as exc:
        fail(app.words("roster.pull.refused", detail=exc))
    except Offline as exc:
        fail(app.words("roster.pull.offline", detail=exc), 1)
    finally:
        client.close()
    try:
        result = apply_pull(app.store, answer, server or app.config.sync.server_url)
    except (PullError, KeyError, TypeError) as exc:
        fail(app.words("roster.pull.unstorable", detail=exc))
    elapsed = time.perf_counter() - started
    click.echo(
        app.words(
            "roster.pull.done",
            school=school_code,
            version=result.version,
            imported=result.report.imported,
            new=result.report.new,
            updated=result.report.updated,
            unchanged=result.report.unchanged,
            kiosk=result.kiosk_number,
            seq=result.next_seq,
            retakes=result.retakes,
            seconds=elapsed,
        )
    )
    if result.expected is not None:
        click.echo(app.words("roster.pull.expected", school=school_code, expected=result.expected))
    else:
        click.echo(app.words("roster.pull.expected_unknown", school=school_code))
    if result.report.rows == 0:
        click.echo(app.words("roster.pull.collection_codes", school=school_code))


@roster.command("find")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def roster_find(app: App, query: str, as_json: bool) -> None:
    """Find a student by ID number (any accepted spelling), 学号 or name. Exit 1 if none.

    A name lists everyone who has it (or, when nobody has it exactly, every
    name containing it), so the crew tells namesakes apart by 学号 or ID number.
    """
    from kiosk.roster import Roster

    found = Roster(app.store).find(query)
    words = app.words
    if as_json:
        click.echo(json.dumps([asdict(s) for s in found], ensure_ascii=False))
    else:
        if len(found) > 1:
            click.echo(words("find.several", count=len(found), query=query.strip()))
        for s in found:
            click.echo(
                words(
                    "find.student",
                    name=s.name,
                    sex=s.sex,
                    student_number=s.student_number,
                    id_number=s.id_number or "-",
                    school=f"{s.school_name} ({s.school_code})",
                    department=s.department,
                    major=s.major,
                    category=s.category,
                )
            )
        if not found:
            click.echo(words("find.none", query=query.strip()), err=True)
    if not found:
        sys.exit(1)


# -- station ---------------------------------------------------------------------


@main.command()
@click.option("--students", default=5, show_default=True, help="Students the demo photographs.")
@click.option(
    "--screenshots",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write a PNG of each screen the demo passes through into this folder.",
)
@click.option("--headless", is_flag=True, help="No window even when a display is present.")
@click.option(
    "--fast", is_flag=True, help="Short countdown and pauses (for tests and a quick look)."
)
@click.option(
    "--school",
    help="Photograph this school's roster already in the data folder (imported or pulled).",
)
@click.option(
    "--start",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="With --school: skip this many roster rows (photograph rows START+1 ...).",
)
@pass_app
def demo(
    app: App,
    students: int,
    screenshots: Path | None,
    headless: bool,
    fast: bool,
    school: str | None,
    start: int,
) -> None:
    """Run the station on any machine: sample roster, simulated scanner and camera.

    Students are photographed through the whole flow: good shots, a refused
    shot and its retake, an unknown card, a student scanned twice. Exit 0
    when every step happened, 1 otherwise.
    """
    from kiosk.demo import DemoError, run_demo

    if students < 1:
        fail("--students must be at least 1")
    if start and school is None:
        fail("--start needs --school (the sample demo always starts at its first row)")
    app.close()  # the demo's threads open their own connections
    narration = logging.StreamHandler(sys.stdout)
    narration.setFormatter(logging.Formatter("  %(asctime)s  %(message)s", "%H:%M:%S"))
    demo_log = logging.getLogger("kiosk.demo")
    demo_log.addHandler(narration)
    demo_log.setLevel(logging.INFO)
    who = (
        f"rows {start + 1}-{start + students} of school {school}'s roster"
        if school
        else "the sample roster (made-up people)"
    )
    click.echo(
        f"kiosk demo: {students} students of {who}, simulated "
        f"ID-card reader, barcode scanner and camera; data in {app.config.data_dir}"
    )
    try:
        result = run_demo(
            app.config,
            students=students,
            screenshots=screenshots,
            headless=headless,
            fast=fast,
            school=school,
            start=start,
        )
    except DemoError as exc:
        fail(str(exc))
    accepted = [s for s in result.shots if s[2] in ("accepted", "flagged")]
    refused = [s for s in result.shots if s[2] == "refused"]
    click.echo(
        f"session {result.session_id}: {len(accepted)} photos saved "
        f"(拍摄序号 {', '.join(str(s[0]) for s in accepted) or '-'}), {len(refused)} refused"
    )
    t = result.timings
    click.echo(
        f"machine time per student: median {t['machine_s_median']:.2f} s, max {t['machine_s_max']:.2f} s "
        f"(look-up {t['lookup_ms_median']:.0f} ms, still+check+crop {t['still_ms_median']:.0f} ms, "
        f"save {t['save_ms_median']:.0f} ms); preview {t['fps_drawn']:.0f} fps, "
        f"{t['assessments_per_s']:.1f} checks/s"
    )
    if screenshots is not None:
        click.echo(f"{len(result.screenshots)} screenshots in {screenshots}")
    click.echo(f"data: {app.config.data_dir}")
    if not result.finished:
        click.echo(f"demo did not finish: {result.failure}", err=True)
        sys.exit(1)


@main.command()
@click.option("--school", help="院校代码 of the session to open (default: station.school_code).")
@click.option(
    "--category", type=click.Choice(["普通生", "成人生", "研究生"]), help="类型 of the session."
)
@click.option("--department", default="", help="Only this 院系 (optional).")
@click.option(
    "--collection-codes",
    is_flag=True,
    help="Open a school the roster does not hold: students scan their 学信网 图像采集码.",
)
@click.option("--max-seconds", type=float, hidden=True)
@pass_app
def run(
    app: App,
    school: str | None,
    category: str | None,
    department: str,
    collection_codes: bool,
    max_seconds: float | None,
) -> None:
    """Run the real station with the devices from the config.

    Resumes the open session if there is one; otherwise opens one for
    --school/--category, or the crew chooses one on the crew screen (session
    key). A school with no roster rows is refused unless --collection-codes.
    Exit 2 without a usable display, with the hint.
    """
    from kiosk.app import build_station
    from kiosk.capture.sensor import fitted_config
    from kiosk.chooser import school_students, scope_students
    from kiosk.crewpin import with_pin_in_force
    from kiosk.display.screen import DisplayUnavailable
    from kiosk.records import SessionPlan
    from kiosk.roster import Roster

    config = fitted_config(with_pin_in_force(app.config))
    open_sessions = app.store.open_sessions()
    app.store.remove_orphans()
    resume = open_sessions[-1].id if open_sessions else None
    school = school or config.station.school_code
    category = category or config.station.category
    if school and resume is None:
        scopes = Roster(app.store).scope_counts()
        if not school_students(scopes, school):
            # A school the roster does not hold: only in 采集码 mode, which the crew confirms.
            if not collection_codes:
                fail(app.words("run.no_roster", school=school))
            click.echo(app.words("run.collection_codes", school=school))
            plan = next(
                (p for p in Roster(app.store).school_plans() if p.school_code == school), None
            )
            if plan is not None and plan.expected is not None:
                click.echo(app.words("roster.pull.expected", school=school, expected=plan.expected))
            else:
                click.echo(app.words("run.expected_unknown", school=school))
        elif not scope_students(scopes, school, category, department):
            fail(
                app.words(
                    "run.empty_scope", school=school, category=category, department=department
                )
            )
    app.close()
    session = SessionPlan(school, category, department) if school else None
    try:
        station = build_station(
            config, session=session if resume is None else None, resume_session=resume
        )
    except ConfigError as exc:
        fail(f"config: {exc}")
    try:
        station.run(max_seconds=max_seconds)
    except DisplayUnavailable as exc:
        fail(app.words("run.no_display", problem=exc))


# -- scanner ---------------------------------------------------------------------

# Card fields the diagnostic shows; the address and the issuing office stay off
# the terminal (personal data the set-up check does not need).
_SCAN_FIELDS = ("card_type", "sex", "nation", "birth_date", "valid_to", "layout", "rule", "problem")


@main.command("scan")
@click.option(
    "--device",
    "devices",
    multiple=True,
    metavar="DEV",
    help="idcard:PORT[@BAUD], serial:PORT[@BAUD] or hid:PATH|VVVV:PPPP|name=TEXT "
    "(repeatable; default: scanner.devices from the config).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per scan.")
@click.option("--count", type=click.IntRange(min=1), help="Exit after N scans.")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), help="Give up after this many seconds (exit 1)."
)
@pass_app
def scan_command(
    app: App, devices: tuple[str, ...], as_json: bool, count: int | None, timeout: float | None
) -> None:
    """Print each identity as it is scanned (the crew's set-up check).

    With no device given or configured, the simulated twins run and scan a
    few made-up students from the sample school, so the output format can be
    seen anywhere. Device problems go to stderr; exit 0 after N scans, 1 on
    timeout, 2 on a bad device or pattern.
    """
    import queue

    from kiosk.sample import sample_students
    from kiosk.scanner.base import DeviceStatus
    from kiosk.scanner.devices import DeviceSpec, configured_specs, open_backends
    from kiosk.scanner.parse import Identifier

    settings = app.config.scanner
    try:
        specs = [DeviceSpec.parse(d) for d in devices] or configured_specs(settings)
        identifier = Identifier.for_config(app.config)
    except (ValueError, ConfigError) as exc:
        fail(str(exc))
    backends = open_backends(settings, specs)
    if not backends:
        fail("no scanner configured (scanner.devices) and scanner.simulate is off; use --device")
    events: queue.Queue[Any] = queue.Queue()
    for backend in backends:
        backend.start(events.put)
    simulation = getattr(backends[0], "simulation", None)
    driver = None
    if simulation is not None:
        click.echo("no scanner configured: running the simulated twins", err=True)
        driver = simulation.drive(sample_students(30, seed=11))
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    try:
        while count is None or seen < count:
            wait = 0.5 if deadline is None else deadline - time.monotonic()
            if wait <= 0:
                click.echo(f"timeout: {seen} scan(s) in {timeout:g} s", err=True)
                sys.exit(1)
            try:
                event = events.get(timeout=min(wait, 0.5))
            except queue.Empty:
                continue
            if isinstance(event, DeviceStatus):
                click.echo(f"[{event.source}] {event.state}: {event.message}", err=True)
                continue
            identity = identifier.identify(event)
            seen += 1
            shown = {k: identity.fields[k] for k in _SCAN_FIELDS if k in identity.fields}
            if as_json:
                record = {
                    "source": identity.source,
                    "kind": identity.kind,
                    "value": identity.value,
                    "name": identity.name,
                    "raw_hex": identity.raw.hex(),
                    **shown,
                }
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                extra = "  ".join(f"{k}={v}" for k, v in shown.items())
                name = f"  {identity.name}" if identity.name else ""
                click.echo(
                    f"{time.strftime('%H:%M:%S')}  {identity.kind:<15} {identity.value}{name}"
                    f"  [{identity.source}]  {extra}".rstrip()
                )
    except KeyboardInterrupt:
        pass
    finally:
        if driver is not None:
            driver.set()
        for backend in backends:
            backend.stop()
        if simulation is not None:
            simulation.close()


# -- sync ----------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
@pass_app
def verify(app: App, as_json: bool) -> None:
    """Check every shot against its file (exists, size, sha256) and the database.

    Exit 0: all good; 1: problems (listed); 2: the database cannot be opened.
    Leftover files without a shot row are listed but are not problems: the
    station deletes them at its start.
    """
    report = app.store.verify()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "shots": report.shots,
                    "checked": report.checked,
                    "problems": report.problems,
                    "leftovers": report.leftovers,
                },
                ensure_ascii=False,
            )
        )
    else:
        for problem in report.problems[:200]:
            click.echo(f"problem: {problem}")
        if len(report.problems) > 200:
            click.echo(f"… and {len(report.problems) - 200} more (use --json for all)")
        if report.leftovers:
            click.echo(f"{len(report.leftovers)} leftover files without a shot (removed at start)")
        verdict = "ok" if report.ok else f"{len(report.problems)} problems"
        click.echo(f"{report.shots} shots, {report.checked} files checked: {verdict}")
    if not report.ok:
        sys.exit(1)


def _sync_client(app: App, server: str | None, token: str | None) -> ReceiverClient:
    """The receiver client from config and flags; exit 2 with the fix when unusable."""
    from kiosk.sync.client import SyncProblem, client_for

    try:
        return client_for(app.config, server, token)
    except SyncProblem as exc:
        fail(app.words.text(exc))


def _hold_sync_lock(app: App, what: str) -> None:
    """Exit 1 when another sync or purge holds this data folder; held until exit."""
    from kiosk.sync.lock import SyncLock, SyncLockHeld

    try:
        SyncLock(app.store.data_dir).acquire(what)  # released by the kernel at exit
    except SyncLockHeld as exc:
        fail(app.words.text(exc), 1)


@main.command()
@click.option("--once", is_flag=True, help="Drain the outbox and exit (for a timer).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON on stdout.")
@click.option("--server", help="Receiver URL (overrides sync.server_url).")
@click.option("--token", help="This kiosk's token (overrides sync.token).")
@click.option(
    "--reconcile",
    is_flag=True,
    help="Compare every session's count and record digest with the receiver's.",
)
@click.option("--requeue", is_flag=True, help="Send quarantined shots again first.")
@pass_app
def sync(
    app: App,
    once: bool,
    as_json: bool,
    server: str | None,
    token: str | None,
    reconcile: bool,
    requeue: bool,
) -> None:
    """Send saved shots to the central receiver (store and forward).

    Without --once it keeps running and sends new shots as they are saved.
    Exit 0: outbox empty (or, with --reconcile, every session matches); 1:
    work remains (quarantined shots count) or a mismatch; 2: configuration or
    authentication error.
    """
    import signal
    import threading

    from kiosk.sync import outbox as outbox_module
    from kiosk.sync import runner
    from kiosk.sync.client import SyncProblem

    client = _sync_client(app, server, token)
    store = app.store
    _hold_sync_lock(app, Said.of("sync.lock.this_sync"))
    err_tty = sys.stderr.isatty()

    def log(line: str) -> None:
        if err_tty:
            click.echo("\r\033[K", nl=False, err=True)
        click.echo(app.words.text(line), err=True)

    if reconcile:
        try:
            results = runner.reconcile(store, client)
        except SyncProblem as exc:
            code = 2 if isinstance(exc, runner.SetupProblem) else 1
            fail(app.words("sync.reconcile_failed", detail=exc), code)
        finally:
            client.close()
        if as_json:
            click.echo(json.dumps(results))
        else:
            for r in results:
                click.echo(
                    app.words(
                        "sync.session_match" if r["matched"] else "sync.session_mismatch",
                        session=r["session"],
                        local=r["local_count"],
                        remote=r["remote_count"],
                        reason=app.words.text(r["reason"] or ""),
                    )
                )
        sys.exit(0 if all(r["matched"] for r in results) else 1)

    store.remove_orphans(older_than=600.0)  # a shot being saved right now is younger
    if requeue:
        log(app.words("sync.requeued", count=outbox_module.requeue_quarantined(store)))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    started = time.monotonic()

    from kiosk import notify

    notify.ready("sync running" if not once else "sync --once")

    def progress(report: Any) -> None:
        notify.status(f"synced {report.synced}, {report.remaining} left")
        notify.watchdog()
        if not err_tty:
            return
        rate = report.synced / max(time.monotonic() - started, 1e-6)
        line = app.words(
            "sync.progress",
            synced=report.synced,
            remaining=report.remaining,
            megabytes=report.bytes_sent / 1e6,
            rate=rate,
        )
        click.echo(f"\r\033[K{line}", nl=False, err=True)

    syncer = runner.Syncer(
        store,
        client,
        app.config.sync,
        kiosk_id=app.config.station.station_id,
        log=log,
        progress=progress,
        stop=stop,
    )
    try:
        report = syncer.run(once=once)
    finally:
        syncer.close()
        client.close()
    if err_tty:
        click.echo("", err=True)
    counts = outbox_module.counts(store)
    if as_json:
        click.echo(json.dumps({**report.to_json(), "outbox": counts}))
    else:
        click.echo(
            app.words(
                "sync.summary",
                synced=report.synced,
                seconds=report.seconds,
                photos=report.photos_sent,
                megabytes=report.bytes_sent / 1e6,
                remaining=report.remaining,
                quarantined=counts["quarantined"],
            )
            + (
                app.words("sync.last_error", error=app.words.text(report.last_error))
                if report.exit_code
                else ""
            )
        )
    if counts["quarantined"]:
        click.echo(app.words("sync.quarantined", count=counts["quarantined"]), err=True)
    sys.exit(report.exit_code)


@main.command()
@click.option("--session", "session_uuid", required=True, help="Session UUID to purge.")
@click.option("--server", help="Receiver URL (overrides sync.server_url).")
@click.option("--token", help="This kiosk's token (overrides sync.token).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def purge(app: App, session_uuid: str, server: str | None, token: str | None, yes: bool) -> None:
    """Delete a session's local photos after the receiver is shown to hold them all.

    Checks live with the receiver (count and record digest must match) and
    deletes nothing otherwise. Exit 0: purged; 1: refused (reason given); 2:
    configuration or authentication error.
    """
    from kiosk.sync import runner
    from kiosk.sync.client import SetupProblem, SyncProblem

    client = _sync_client(app, server, token)
    if not yes:
        click.confirm(app.words("purge.confirm", session=session_uuid), abort=True)
    _hold_sync_lock(app, Said.of("sync.lock.the_purge"))
    try:
        deleted = runner.purge_session(app.store, client, session_uuid)
    except runner.PurgeRefused as exc:
        fail(app.words("purge.refused", detail=exc), 1)
    except SyncProblem as exc:
        fail(app.words("purge.failed", detail=exc), 2 if isinstance(exc, SetupProblem) else 1)
    finally:
        client.close()
    click.echo(app.words("purge.done", session=session_uuid, count=deleted))


# -- quality -------------------------------------------------------------------


@main.command("check")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per image.")
@click.option(
    "--face-only",
    is_flag=True,
    help="Judge the face only: leave out framing and background (photos not taken in the kiosk).",
)
@pass_app
def check_command(app: App, images: tuple[Path, ...], as_json: bool, face_only: bool) -> None:
    """Judge IMAGE files with the kiosk's face-quality check.

    Exit 0: every image accepted; 1: some refused or unreadable (each says
    why; one bad file never stops the run).
    """
    from kiosk.capture.image import ImageError, load_rgb
    from kiosk.capture.quality import QualityChecker
    from kiosk.capture.verdict import CREW_EN, HINT_ZH

    checker = QualityChecker(app.config.quality, app.config.photo)
    # Every graph a still can go through (hands for occlusion, pose for the
    # shoulders), so none of them prints its first notices later.
    graphs = tuple(g for g in checker.model.GRAPHS if g != "preview")
    from kiosk.capture.sim import PORTRAITS

    # A face takes every graph down its whole path once while stderr is
    # silenced, so the landmark projection's C++ notices (W0000 ...) are
    # printed now, into /dev/null, not at the first image.
    checker.model.load(*graphs, quiet=True, sample=load_rgb(PORTRAITS / "face_001.jpg"))
    texts = CREW_EN if app.config.station.crew_language == "en" else HINT_ZH
    results: list[dict[str, Any]] = []
    all_good = True
    for path in images:
        error: str | None
        try:
            rgb = load_rgb(path)
            assessment = checker.assess(rgb, still=True, face_only=face_only)
        except ImageError as exc:
            error = str(exc)
        except Exception as exc:  # never let one file stop the run
            error = f"{path}: could not be judged ({type(exc).__name__}: {exc})"
        else:
            error = None
        if error is not None:
            all_good = False
            results.append({"file": str(path), "error": error})
            if not as_json:
                click.echo(f"{path}: error: {error}")
            continue
        all_good &= assessment.accepted
        results.append(
            {
                "file": str(path),
                "accepted": assessment.accepted,
                "reasons": [r.value for r in assessment.reasons],
                "measures": assessment.measures,
            }
        )
        if not as_json:
            if assessment.accepted:
                click.echo(f"{path}: accepted")
            else:
                why = "; ".join(f"{r.value} ({texts[r]})" for r in assessment.reasons)
                click.echo(f"{path}: refused: {why}")
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=1))
    if not all_good:
        sys.exit(1)


# -- export --------------------------------------------------------------------


@main.command("export")
@click.option("--session", "session_id", type=int, help="Export this session's group only.")
@click.option("--school", "school_code", help="Export this school (院校代码) only.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the packages (default: <data>/export).",
)
@pass_app
def export_command(
    app: App, session_id: int | None, school_code: str | None, out_dir: Path | None
) -> None:
    """Write the delivery package: photos, index sheets, proofs, lists, errata.

    One folder per school (院校代码) under --out, or <code>-session<ID> for a
    session. Exit 0: written, nobody left; 1: written, with students missing
    or due for a retake (see missing.xlsx, retakes.xlsx); 2: nothing written.
    """
    from kiosk.export import from_store, writer

    if session_id is not None and school_code is not None:
        fail(app.words("export.both_scopes"))
    settings = app.config.export
    out_root = out_dir or app.config.data_dir / "export"
    try:
        packages = from_store.packages(
            app.store,
            session_id=session_id,
            school_code=school_code,
            utc_offset_hours=settings.utc_offset_hours,
        )
    except from_store.ScopeError as exc:
        fail(app.words.text(exc))
    if not packages:
        fail(app.words("export.nothing", db=app.config.db_path))
    work_left = False
    for package in packages:
        try:
            if sys.stderr.isatty():
                with click.progressbar(
                    length=writer.steps(package, settings),
                    label=f"{package.folder}",
                    file=sys.stderr,
                ) as bar:
                    result = writer.write_package(package, out_root, settings, progress=bar.update)
            else:
                result = writer.write_package(package, out_root, settings)
        except writer.ExportError as exc:
            fail(app.words("export.failed", folder=package.folder, text=exc))
        work_left = work_left or bool(package.missing or package.retakes)
        click.echo(
            app.words(
                "export.summary",
                path=result.path,
                photos=len(package.photos),
                missing=len(package.missing),
                retakes=len(package.retakes),
                corrections=len(package.corrections),
                pages=result.pages,
                megabytes=result.bytes / 1e6,
                seconds=result.seconds,
            )
        )
        for warning in result.warnings:
            click.echo(app.words("export.warning", text=warning))
    if work_left:
        sys.exit(1)


# -- deployment ------------------------------------------------------------------


@main.command("pin")
@pass_app
def pin_command(app: App) -> None:
    """Set this kiosk's crew PIN (kept on the data partition; the root is read-only).

    The factory PIN 0000 must not stay on a real kiosk (`kiosk doctor` says so).
    Exit 0: saved; 2: refused (the reason is printed, nothing changed).
    """
    from kiosk import crewpin

    words = app.words
    pin = click.prompt(words("pin.prompt"), hide_input=True)
    problem = crewpin.check_new_pin(pin)
    if problem:
        fail(words(problem))
    if click.prompt(words("pin.again"), hide_input=True) != pin:
        fail(words("pin.mismatch"))
    crewpin.save_pin(app.config, pin)
    click.echo(words("pin.saved", path=crewpin.pin_path(app.config)))


@main.command("geometry")
@click.argument("camera", type=click.Choice(sorted(geometry_module.CAMERAS)))
@click.option("--portrait", is_flag=True, help="The camera is mounted rotated 90°.")
@click.option(
    "--still-rows",
    type=click.IntRange(min=1),
    help="Rows of the still along the vertical (default: full resolution; "
    "the 2x2-binned mode has half).",
)
@pass_app
def geometry_command(app: App, camera: str, portrait: bool, still_rows: int | None) -> None:
    """Print where to put CAMERA: field of view, distance, photo.frame_fill and height.

    The crop's proportions come from the config's [photo] section. Exit 0: a
    distance works; 1: no distance gives both the perspective and the
    resolution the registry needs (the sheet says which fails).
    """
    placement = geometry_module.place(
        geometry_module.CAMERAS[camera],
        app.config.photo,
        portrait_mount=portrait,
        still_rows=still_rows,
    )
    click.echo(geometry_module.report(placement))
    if placement.distance_m is None:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(
        [
            "camera",
            "framing",
            "scanner",
            "display",
            "font",
            "disk",
            "clock",
            "database",
            "central",
            "pin",
            "pedal",
        ]
    ),
    help="Run only this check (repeatable).",
)
@pass_app
def doctor(app: App, as_json: bool, only: tuple[str, ...]) -> None:
    """Check this kiosk is ready to shoot: one line per check, with the fix.

    Exit 0: every check passed;
    1: at least one check failed or warned (a warning is not a pass).
    """
    from kiosk import doctor as doctor_module

    ctx = doctor_module.Context(config=app.config)
    findings = doctor_module.run(ctx, only=only)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=2))
    else:
        for line in doctor_module.render(findings, app.config.station.crew_language):
            click.echo(line)
    sys.exit(doctor_module.exit_code(findings))


if __name__ == "__main__":  # pragma: no cover
    main()
