"""``central ...``: run the receiver, issue kiosk tokens, show what arrived.

Exit codes as for ``kiosk``: 0 done, 1 done with something to look at, 2
could not start (bad folder, bad argument).
"""

from __future__ import annotations

import json
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


def _open(data_dir: Path) -> tuple[FolderPhotoStore, SqliteMetadata]:
    from central.local import open_storage

    try:
        return open_storage(data_dir)
    except (OSError, ValueError) as exc:
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
@click.option("--ssl-certfile", type=click.Path(dir_okay=False, exists=True))
@click.option("--ssl-keyfile", type=click.Path(dir_okay=False, exists=True))
@click.option("--access-log", is_flag=True, help="Log every request (ids only, no names).")
def serve(
    data_dir: Path,
    host: str,
    port: int,
    max_photo_bytes: int,
    max_manifest_bytes: int,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    access_log: bool,
) -> None:
    """Serve the sync API. Behind a TLS-terminating proxy, or with --ssl-certfile/keyfile."""
    import uvicorn

    from central.app import Limits, create_app

    photos, metadata = _open(data_dir)
    cleaned = photos.clean_temporary()
    app = create_app(
        photos,
        metadata,
        Limits(max_photo_bytes=max_photo_bytes, max_manifest_bytes=max_manifest_bytes),
    )
    scheme = "https" if ssl_certfile else "http"
    click.echo(
        f"central: serving {data_dir} on {scheme}://{host}:{port}"
        + (f" ({cleaned} unfinished uploads removed)" if cleaned else ""),
        err=True,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=access_log,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        lifespan="off",
        timeout_keep_alive=30,
    )


@main.group()
def token() -> None:
    """Kiosk tokens."""


@token.command("add")
@click.argument("kiosk_id")
@data_option
def token_add(kiosk_id: str, data_dir: Path) -> None:
    """Issue a token for KIOSK_ID; the token alone is the last line of output."""
    _, metadata = _open(data_dir)
    try:
        secret = metadata.add_token(kiosk_id)
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


if __name__ == "__main__":  # pragma: no cover
    main()
