"""``central ...``: run the receiver, issue kiosk tokens, show what arrived.

Exit codes as for ``kiosk``: 0 done, 1 done with something to look at, 2
could not start (bad folder, bad argument).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from central.local import FolderPhotoStore, SqliteMetadata

ENV_DATA = "CENTRAL_DATA"
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=ENV_DATA,
    default=Path("central-data"),
    show_default=True,
    help="Folder with central.db and the photos (env CENTRAL_DATA).",
)


def _open(data_dir: Path, *, create: bool = False) -> tuple[FolderPhotoStore, SqliteMetadata]:
    """The storage in ``data_dir``; only ``serve`` and ``token add`` may create it.

    A mistyped --data for ``status`` or ``verify`` must not answer "nothing
    received yet" from a fresh, empty database.
    """
    from central.local import open_storage

    if not create and not (data_dir / "central.db").is_file():
        click.echo(
            f"error: {data_dir} holds no receiver data (no central.db); check --data "
            f"(or {ENV_DATA}); `central serve` or `central token add` create it",
            err=True,
        )
        sys.exit(2)
    try:
        return open_storage(data_dir)
    except (OSError, ValueError, sqlite3.Error) as exc:
        click.echo(f"error: cannot use {data_dir}: {exc}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kiosk")
def main() -> None:
    """Central receiver for the kiosks' photos (docs/sync.md)."""


@main.command()
@data_option
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
def serve(
    data_dir: Path,
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

    photos, metadata = _open(data_dir, create=True)
    cleaned = photos.clean_temporary()
    app = create_app(
        photos,
        metadata,
        Limits(
            max_photo_bytes=max_photo_bytes,
            max_manifest_bytes=max_manifest_bytes,
            body_timeout=body_timeout,
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
        f"central: serving {data_dir} on {scheme}://{host}:{port}, at most {cap} connections"
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
@data_option
@click.option(
    "--school",
    "schools",
    multiple=True,
    help="院校代码 this kiosk may also retake other kiosks' students for (repeatable).",
)
def token_add(kiosk_id: str, data_dir: Path, schools: tuple[str, ...]) -> None:
    """Issue a token for KIOSK_ID; the token alone is the last line of output."""
    _, metadata = _open(data_dir, create=True)
    try:
        secret = metadata.add_token(kiosk_id, schools)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        metadata.close()
    click.echo(f"token for kiosk {kiosk_id} (put it in the kiosk's sync.token; shown once):")
    click.echo(secret)


@main.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(data_dir: Path, as_json: bool) -> None:
    """What arrived, per school and session."""
    _, metadata = _open(data_dir)
    try:
        sessions = metadata.status()
    finally:
        metadata.close()
    if as_json:
        click.echo(json.dumps([asdict(s) for s in sessions], ensure_ascii=False))
        return
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


@main.command()
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report.")
@click.option(
    "--gc",
    "collect",
    is_flag=True,
    help="Also delete photos no record names that are older than --grace-days.",
)
@click.option("--grace-days", default=7.0, show_default=True, type=click.FloatRange(min=0))
def verify(data_dir: Path, as_json: bool, collect: bool, grace_days: float) -> None:
    """Read every record's photo back (present, size, sha256); check the database.

    The receiver's counterpart of `kiosk verify`. Exit 0 all good, 1 problems
    (each listed), 2 the data folder cannot be used.
    """
    from central.verify import verify_receiver

    photos, metadata = _open(data_dir)
    try:
        report = verify_receiver(
            photos, metadata, collect=collect, grace_seconds=grace_days * 86400
        )
    except sqlite3.DatabaseError as exc:
        click.echo(f"error: {data_dir}/central.db is damaged ({exc}); restore it", err=True)
        sys.exit(2)
    finally:
        metadata.close()
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
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
