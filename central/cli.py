"""``central ...``: run the receiver, issue kiosk tokens, show what arrived.

Exit codes as for ``kiosk``: 0 done, 1 done with something to look at, 2
could not start (bad folder, bad argument).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from kiosk import roster_cli
from kiosk.lang import Words

if TYPE_CHECKING:
    from central.backends import Locations, Storage

ENV_DATA = "CENTRAL_DATA"
ENV_DB = "CENTRAL_DB"
ENV_PHOTOS = "CENTRAL_PHOTOS"
# The roster import reads like the kiosk's (one code path, same words): the
# office reads Chinese.
OFFICE_WORDS = Words("zh")


def storage_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--data, --db, --photos, handed to the command as one ``where: Locations``."""

    @functools.wraps(command)
    def run(
        *args: Any, data_dir: Path, db_url: str | None, photos_url: str | None, **kw: Any
    ) -> Any:
        from central.backends import Locations

        return command(*args, where=Locations(data_dir, db_url, photos_url), **kw)

    options = (
        click.option(
            "--data",
            "data_dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar=ENV_DATA,
            default=Path("central-data"),
            show_default=True,
            help=f"Folder with central.db and the photos (env {ENV_DATA}); with --db and "
            "--photos only local scratch (thumbnails, exports, a photo cache).",
        ),
        click.option(
            "--db",
            "db_url",
            envvar=ENV_DB,
            metavar="URL",
            help="sqlite:///path or postgresql://user@host:port/db (env "
            f"{ENV_DB}); default DATA/central.db. The password: PGPASSWORD or ~/.pgpass.",
        ),
        click.option(
            "--photos",
            "photos_url",
            envvar=ENV_PHOTOS,
            metavar="URL",
            help="file:///folder or s3://bucket?endpoint=https://host&region=name (env "
            f"{ENV_PHOTOS}); default DATA. Keys: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "or AWS_SHARED_CREDENTIALS_FILE.",
        ),
    )
    for option in reversed(options):
        run = option(run)
    return run


def _open(where: Locations, *, create: bool = False) -> Storage:
    """The storage ``where`` says; only some commands may create it.

    A mistyped --data for ``status`` or ``verify`` must not answer "nothing
    received yet" from a fresh, empty database.
    """
    from central.backends import LocationError, open_storage

    errors: tuple[type[BaseException], ...] = (OSError, ValueError, sqlite3.Error)
    if not where.embedded:
        import psycopg

        errors += (psycopg.Error,)
    try:
        return open_storage(where, create=create)
    except LocationError as exc:
        click.echo(f"error: {exc}", err=True)
    except LookupError as exc:
        if where.db is None:
            click.echo(
                f"error: {where.data_dir} holds no receiver data (no central.db); check --data "
                f"(or {ENV_DATA}); `central serve` or `central token add` create it",
                err=True,
            )
        else:
            click.echo(
                f"error: {exc}; check --db/--photos (or {ENV_DB}/{ENV_PHOTOS}); "
                "`central serve` or `central token add` create the schema",
                err=True,
            )
    except errors as exc:
        click.echo(f"error: cannot use {where.describe()}: {exc}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kiosk")
def main() -> None:
    """Central receiver for the kiosks' photos (docs/sync.md)."""


@main.command()
@storage_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--max-photo-bytes", default=4 * 1024 * 1024, show_default=True, type=int)
@click.option("--max-manifest-bytes", default=8 * 1024 * 1024, show_default=True, type=int)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Open connections at most (kept below the descriptor limit); beyond: 503.",
)
@click.option(
    "--head-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a connection may take to send a request head.",
)
@click.option(
    "--body-timeout",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a request body may stall before it is dropped (408).",
)
@click.option("--ssl-certfile", type=click.Path(dir_okay=False, exists=True))
@click.option("--ssl-keyfile", type=click.Path(dir_okay=False, exists=True))
@click.option("--access-log", is_flag=True, help="Log every request (ids only, no names).")
@click.option(
    "--behind-tls-proxy",
    is_flag=True,
    help="A TLS proxy serves the pages: session cookies get the Secure flag.",
)
def serve(
    where: Locations,
    host: str,
    port: int,
    max_photo_bytes: int,
    max_manifest_bytes: int,
    max_connections: int,
    head_timeout: float,
    body_timeout: float,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    access_log: bool,
    behind_tls_proxy: bool,
) -> None:
    """Serve the sync API. Behind a TLS-terminating proxy, or with --ssl-certfile/keyfile."""
    import logging

    import uvicorn

    from central.app import Limits, create_app
    from central.guard import (
        ACCEPT_BACKLOG,
        ConnectionLimits,
        GuardedServer,
        descriptor_budget,
        guarded_protocol,
    )
    from central.logs import limit_repeats
    from central.web import web_routes

    storage = _open(where, create=True)
    photos, metadata, campaign = storage.photos, storage.metadata, storage.campaign
    cleaned = photos.clean_temporary()
    app = create_app(
        photos,
        metadata,
        Limits(
            max_photo_bytes=max_photo_bytes,
            max_manifest_bytes=max_manifest_bytes,
            body_timeout=body_timeout,
        ),
        campaign=campaign,
        web_routes=web_routes(
            campaign,
            storage.accounts,
            photos,
            where.data_dir,
            secure_cookies=ssl_certfile is not None or behind_tls_proxy,
        ),
    )
    cap, descriptors = descriptor_budget(max_connections)
    if cap < max_connections:
        click.echo(
            f"central: {descriptors} file descriptors allow {cap} connections, not "
            f"{max_connections}; raise LimitNOFILE (systemd) or `ulimit -n`",
            err=True,
        )
    scheme = "https" if ssl_certfile else "http"
    click.echo(
        f"central: serving {where.describe()} on {scheme}://{host}:{port}, at most {cap} connections"
        + (f" ({cleaned} unfinished uploads removed)" if cleaned else ""),
        err=True,
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=access_log,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        lifespan="off",
        timeout_keep_alive=int(max(1, head_timeout)),
        backlog=ACCEPT_BACKLOG,
        http=guarded_protocol(ConnectionLimits(max_connections=cap, head_timeout=head_timeout)),
    )
    if access_log:
        # log_level="warning" also silences uvicorn's INFO access lines.
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    limit_repeats()
    GuardedServer(config).run()


@main.group()
def token() -> None:
    """Kiosk tokens."""


@token.command("add")
@click.argument("kiosk_id")
@storage_options
@click.option(
    "--school",
    "schools",
    multiple=True,
    help="院校代码 this kiosk may also retake other kiosks' students for (repeatable).",
)
def token_add(kiosk_id: str, where: Locations, schools: tuple[str, ...]) -> None:
    """Issue a token for KIOSK_ID; the token alone is the last line of output."""
    storage = _open(where, create=True)
    try:
        secret = storage.metadata.add_token(kiosk_id, schools)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        storage.close()
    click.echo(f"token for kiosk {kiosk_id} (put it in the kiosk's sync.token; shown once):")
    click.echo(secret)


@main.command()
@storage_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(where: Locations, as_json: bool) -> None:
    """Progress per school (against the roster and the schedule), kiosks, sessions.

    --json: {"schools": [{code, name, expected, roster, photographed, missing,
    retakes, flagged, collisions: [{seq, kiosks}]}], "kiosks": [{id, last_sync,
    shots_today}], "sessions": [...]}. A collision is a 拍摄序号 two kiosks both
    gave in one school (central export refuses to write it).
    """
    storage = _open(where)
    try:
        sessions = storage.metadata.status()
        schools = storage.campaign.progress()
        kiosks = storage.campaign.kiosk_activity()
        collisions = storage.campaign.seq_collisions()
    finally:
        storage.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "schools": [
                        {
                            "code": p.code,
                            "name": p.name,
                            "expected": p.expected,
                            "roster": p.roster,
                            "photographed": p.photographed,
                            "missing": p.missing,
                            "retakes": p.retakes,
                            "flagged": p.flagged,
                            "collisions": [
                                {"seq": c.seq, "kiosks": sorted({k for k, _ in c.holders})}
                                for c in collisions
                                if c.school_code == p.code
                            ],
                        }
                        for p in schools
                    ],
                    "kiosks": [
                        {"id": k.kiosk, "last_sync": k.last_sync, "shots_today": k.shots_today}
                        for k in kiosks
                    ],
                    "sessions": [asdict(s) for s in sessions],
                },
                ensure_ascii=False,
            )
        )
        return
    for p in schools:
        click.echo(
            f"{p.code} {p.name}: expected {p.expected if p.expected is not None else '-'}, "
            f"roster {p.roster}, photographed {p.photographed}, missing {p.missing}, "
            f"retakes {p.retakes}, flagged {p.flagged}"
        )
    for collision in collisions:
        click.echo(f"collision: {collision.describe()}")
    for k in kiosks:
        click.echo(f"kiosk {k.kiosk}: last sync {k.last_sync or '-'}, {k.shots_today} shots today")
    if not sessions:
        click.echo("nothing received yet")
        return
    school = None
    for s in sessions:
        if s.school_code != school:
            school = s.school_code
            click.echo(f"{s.school_name} ({s.school_code})")
        click.echo(
            f"  session {s.session}  kiosk {s.kiosk}  {s.category} {s.department}".rstrip()
            + f"\n    {s.records} records ({s.current} current, {s.superseded} superseded by "
            f"retakes), {s.bytes / 1e6:.1f} MB, last at {s.last_received or '-'}"
        )
    total = sum(s.records for s in sessions)
    click.echo(f"{total} records in {len(sessions)} sessions")


@main.group()
def roster() -> None:
    """The schools' rosters, kept by the office and pulled by the kiosks."""


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@roster_cli.report_option
@storage_options
def roster_import(file: Path, report_path: Path | None, where: Locations) -> None:
    """Import FILE with the kiosk's rules: exit 0 all rows, 1 rows rejected, 2 unreadable."""
    import time

    from kiosk import roster as roster_module
    from kiosk.config import Config

    started = time.perf_counter()
    try:
        checked = roster_module.check_roster(file, min_birth_year=Config().roster.min_birth_year)
    except roster_module.RosterError as exc:
        click.echo(OFFICE_WORDS("roster.error", text=OFFICE_WORDS.text(exc)), err=True)
        sys.exit(2)
    storage = _open(where, create=True)
    try:
        report = storage.campaign.import_roster(checked)
    except storage.database.failure as exc:
        click.echo(
            OFFICE_WORDS("roster.error", text=OFFICE_WORDS.text(roster_module.saving_failed(exc))),
            err=True,
        )
        sys.exit(2)
    finally:
        storage.close()
    roster_cli.finish(OFFICE_WORDS, report, time.perf_counter() - started, report_path)


@main.group()
def schedule() -> None:
    """The notice's 时间安排表: schools, planned dates, expected headcount."""


@schedule.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@storage_options
def schedule_import(file: Path, where: Locations) -> None:
    """Replace the schedule with FILE (.xlsx or .csv). Exit 2 if unusable (nothing changed)."""
    from central.campaign import ScheduleError, read_schedule

    try:
        entries = read_schedule(file)
    except ScheduleError as exc:
        click.echo(OFFICE_WORDS("roster.error", text=OFFICE_WORDS.text(exc)), err=True)
        sys.exit(2)
    storage = _open(where, create=True)
    try:
        storage.campaign.import_schedule(entries)
    finally:
        storage.close()
    schools = {(e.school_name, e.school_code) for e in entries}
    expected = sum(e.expected or 0 for e in entries)
    no_code = sorted({e.school_name for e in entries if not e.school_code})
    click.echo(
        f"{file.name}: {len(schools)} schools, {len(entries)} rows, {expected} students expected"
    )
    if no_code:
        click.echo(
            f"  {len(no_code)} schools without a 院校代码 (shown by name only): {', '.join(no_code)}"
        )


@main.command("export")
@click.option("--school", "school_code", required=True, help="院校代码 of the school.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the package (default: <data>/export).",
)
@click.option(
    "--file-name",
    "file_name",
    help="Photo file names, as the kiosk's export.file_name (default {身份证号}.jpg). "
    "Students without an ID number (采集码) are named by export.file_name_without_id "
    "({拍摄序号}.jpg) when this cannot name them.",
)
@storage_options
def export_command(
    school_code: str, out_dir: Path | None, file_name: str | None, where: Locations
) -> None:
    """Write the school's delivery package from every kiosk, session and phase.

    Exit 0: written, nobody left; 1: written, with students missing or due
    for a retake; 2: nothing written.
    """
    from central.campaign import COLLISION_ADVICE
    from central.export import repeated_numbers, school_package
    from kiosk.config import Config
    from kiosk.export import writer

    settings = Config().export
    if file_name is not None:
        settings = replace(settings, file_name=file_name)
    storage = _open(where)
    campaign = storage.campaign
    try:
        if school_code not in campaign.school_codes():
            click.echo(
                f"error: no roster, schedule entry or photos for 院校代码 {school_code}", err=True
            )
            sys.exit(2)
        package = school_package(
            campaign, storage.photos.path, school_code, utc_offset_hours=settings.utc_offset_hours
        )
        repeated = repeated_numbers(package)
        collisions = campaign.seq_collisions(school_code) if repeated else []
    finally:
        storage.close()
    if repeated:
        # The school checks proofs by 拍摄序号: a package that prints one twice is not written.
        click.echo(
            f"error: {school_code}: 拍摄序号 {', '.join(map(str, repeated))} would be printed "
            "for more than one photo; nothing written",
            err=True,
        )
        for collision in collisions:
            click.echo(f"  {collision.describe()}", err=True)
        click.echo(f"  what to do: {COLLISION_ADVICE}", err=True)
        sys.exit(2)
    try:
        result = writer.write_package(package, out_dir or where.data_dir / "export", settings)
    except writer.ExportError as exc:
        click.echo(f"error: {school_code}: {exc}", err=True)
        sys.exit(2)
    click.echo(
        f"{result.path}: {len(package.photos)} photos, {len(package.missing)} missing, "
        f"{len(package.retakes)} to retake, {len(package.corrections)} corrections, "
        f"{result.pages} proof pages, {result.bytes / 1e6:.1f} MB  [{result.seconds:.1f} s]"
    )
    for warning in result.warnings:
        click.echo(f"  warning: {warning}")
    if package.missing or package.retakes:
        sys.exit(1)


@main.group()
def user() -> None:
    """Web accounts for the office and the schools' registrars."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["office", "school"]), required=True)
@click.option("--school", "school_code", help="院校代码 (school accounts).")
@storage_options
def user_add(name: str, role: str, school_code: str | None, where: Locations) -> None:
    """Create an account; its initial password is the last line of output."""
    from central import accounts as accounts_module

    try:
        account = accounts_module.check_account(name, role, school_code)
    except ValueError as exc:
        _fail(exc)
    password = accounts_module.new_password()
    storage = _open(where, create=True)
    try:
        storage.accounts.add_user(account, accounts_module.hash_password(password))
    except ValueError as exc:
        _fail(exc)
    finally:
        storage.close()
    school = OFFICE_WORDS("account.for_school", school=account.school_code)
    click.echo(
        OFFICE_WORDS(
            "account.added",
            role=OFFICE_WORDS(f"account.role.{account.role}"),
            name=account.name,
            school=school if account.school_code else "",
        )
    )
    click.echo(password)


@user.command("reset")
@click.argument("name")
@storage_options
def user_reset(name: str, where: Locations) -> None:
    """A new initial password (the last line of output); the old one and every session
    of the account end, and the user must choose their own at the next login."""
    from central import accounts as accounts_module

    password = accounts_module.new_password()
    storage = _open(where)
    try:
        found = storage.accounts.replace_password(
            name, accounts_module.hash_password(password), must_change=True
        )
    finally:
        storage.close()
    if not found:
        _fail(OFFICE_WORDS("account.unknown", name=name))
    click.echo(OFFICE_WORDS("account.reset", name=name))
    click.echo(password)


@user.command("disable")
@click.argument("name")
@storage_options
def user_disable(name: str, where: Locations) -> None:
    """The account can no longer log in; its open sessions end at once."""
    _set_disabled(name, True, where)


@user.command("enable")
@click.argument("name")
@storage_options
def user_enable(name: str, where: Locations) -> None:
    """A disabled account may log in again (with its password)."""
    _set_disabled(name, False, where)


def _set_disabled(name: str, disabled: bool, where: Locations) -> None:
    storage = _open(where)
    try:
        found = storage.accounts.set_disabled(name, disabled)
    finally:
        storage.close()
    if not found:
        _fail(OFFICE_WORDS("account.unknown", name=name))
    click.echo(OFFICE_WORDS("account.disabled" if disabled else "account.enabled", name=name))


@user.command("list")
@storage_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def user_list(where: Locations, as_json: bool) -> None:
    """Every account: name, role, school, disabled, last login (never a password hash).

    --json: [{name, role, school, disabled, must_change_password, created_at,
    last_login}], stamps in UTC.
    """
    from central.campaign import local_time
    from kiosk.config import Config

    storage = _open(where)
    try:
        users = storage.accounts.users()
    finally:
        storage.close()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": u.name,
                        "role": u.role,
                        "school": u.school_code or None,
                        "disabled": u.disabled,
                        "must_change_password": u.must_change_password,
                        "created_at": u.created_at,
                        "last_login": u.last_login_at,
                    }
                    for u in users
                ],
                ensure_ascii=False,
            )
        )
        return
    if not users:
        click.echo(OFFICE_WORDS("account.list.none"))
        return
    offset = Config().export.utc_offset_hours
    click.echo(OFFICE_WORDS("account.list.header"))
    for u in users:
        state = OFFICE_WORDS("account.list.disabled" if u.disabled else "account.list.active")
        if u.must_change_password:
            state += "，" + OFFICE_WORDS("account.list.must_change")
        last = local_time(u.last_login_at, offset) or OFFICE_WORDS("account.list.never")
        role = OFFICE_WORDS(f"account.role.{u.role}")
        click.echo(f"{u.name}\t{role}\t{u.school_code or '-'}\t{state}\t{last}")


def _fail(problem: object) -> NoReturn:
    click.echo(OFFICE_WORDS("cli.error", text=OFFICE_WORDS.text(problem)), err=True)
    sys.exit(2)


@main.command()
@storage_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report.")
@click.option(
    "--gc",
    "collect",
    is_flag=True,
    help="Also delete photos no record names that are older than --grace-days.",
)
@click.option("--grace-days", default=7.0, show_default=True, type=click.FloatRange(min=0))
def verify(where: Locations, as_json: bool, collect: bool, grace_days: float) -> None:
    """Read every record's photo back (present, size, sha256); check the database.

    The receiver's counterpart of `kiosk verify`. Exit 0 all good, 1 problems
    (each listed), 2 the data folder cannot be used.
    """
    from central.campaign import COLLISION_ADVICE
    from central.verify import verify_receiver

    storage = _open(where)
    try:
        report = verify_receiver(
            storage.photos, storage.metadata, collect=collect, grace_seconds=grace_days * 86400
        )
        report.problems += [f"collision: {c.describe()}" for c in storage.campaign.seq_collisions()]
    except storage.database.failure as exc:
        click.echo(
            f"error: {where.describe()}: the database is damaged or unreachable ({exc}); "
            "restore it (docs/scale.md)",
            err=True,
        )
        sys.exit(2)
    finally:
        storage.close()
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        click.echo(
            f"{report.records} records, {report.photos} photos: "
            + ("all intact" if report.ok else f"{len(report.problems)} problems")
            + f"; {report.unreferenced} photos no record names"
            + (f", {report.collected} of them deleted" if report.collected else "")
        )
        if not report.ok:
            click.echo(
                "A kiosk that still has a listed photo sends it again on "
                "`kiosk sync --reconcile`; restore the others from backup.",
                err=True,
            )
        if any(p.startswith("collision: ") for p in report.problems):
            click.echo(f"Collisions: {COLLISION_ADVICE}", err=True)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
