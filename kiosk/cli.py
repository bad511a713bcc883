"""``kiosk ...`` commands.

Every command takes the global ``--config FILE`` (env ``KIOSK_CONFIG``) and
``--data DIR`` (env ``KIOSK_DATA``). Exit codes follow one rule across
commands: 0 all done, 1 done with problems the crew must look at (rejected
rows, work left), 2 could not start (bad file, bad config).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from kiosk import config as config_module
from kiosk.config import Config, ConfigError
from kiosk.store import Store, StoreError


class App:
    """What every command gets: the config, and the store opened on demand."""

    def __init__(self, config: Config) -> None:
        self.config = config
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


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
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
    try:
        config = config_module.load(config_path, data_dir)
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
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full report (every rejected row) as JSON here.",
)
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
        return click.progressbar(rows, label="checking rows", file=sys.stderr)

    def run(wrap: Any) -> roster_module.ImportReport:
        return roster_module.import_roster(
            app.store, file, min_birth_year=app.config.roster.min_birth_year, progress=wrap
        )

    started = time.perf_counter()
    try:
        report = run(progress)
    except roster_module.RosterError as exc:
        fail(str(exc))
    elapsed = time.perf_counter() - started
    if report_path is not None:
        report_path.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    rejected_rows = report.rejected_rows
    click.echo(
        f"{file.name}: {report.rows} rows, {report.imported} imported "
        f"({report.new} new, {report.updated} updated, {report.unchanged} unchanged), "
        f"{len(rejected_rows)} rejected  [{elapsed:.2f} s]"
    )
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    shown = report.rejected[:30]
    for problem in shown:
        click.echo(
            f"  row {problem.row}, {problem.column} {problem.value!r}: {problem.message} [{problem.code}]"
        )
    if len(report.rejected) > len(shown):
        more = len(report.rejected) - len(shown)
        hint = f" (all in {report_path})" if report_path else " (use --report FILE for all)"
        click.echo(f"  … and {more} more problems{hint}")
    if rejected_rows:
        click.echo(
            "Fix the rejected rows in the school's sheet and import it again; "
            "imported rows are updated in place."
        )
        sys.exit(1)


@roster.command("find")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def roster_find(app: App, query: str, as_json: bool) -> None:
    """Find a student by ID number (any accepted spelling) or 学号. Exit 1 if none."""
    from kiosk.roster import Roster

    found = Roster(app.store).find(query)
    if as_json:
        click.echo(json.dumps([asdict(s) for s in found], ensure_ascii=False))
    else:
        for s in found:
            click.echo(
                f"{s.name}  {s.sex}  学号 {s.student_number}  身份证号 {s.id_number}  "
                f"{s.school_name} ({s.school_code})  {s.department} {s.major}  {s.category}"
            )
        if not found:
            click.echo(f"no student matches {query!r}", err=True)
    if not found:
        sys.exit(1)


# -- demo (until the station exists: import the sample roster and show it) -----


@main.command()
@click.option("--students", default=40, show_default=True, help="Size of the sample roster.")
@pass_app
def demo(app: App, students: int) -> None:
    """Run the main job on any machine with simulated devices."""
    from kiosk.roster import Roster, import_roster
    from kiosk.sample import write_sample_roster

    path = write_sample_roster(app.config.data_dir / "sample-roster.xlsx", count=students)
    report = import_roster(app.store, path)
    click.echo(f"imported {report.imported} of {report.rows} rows from {path}")
    roster_lookup = Roster(app.store)
    for row in app.store.conn.execute(
        "SELECT id_number FROM students WHERE source_file = ? ORDER BY source_row LIMIT 5",
        (path.name,),
    ):
        s = roster_lookup.find(row["id_number"])[0]
        click.echo(f"  {s.student_number}  {s.name}  {s.sex}  {s.department}  {s.major}")
    click.echo(f"  … {roster_lookup.count()} students in {app.config.db_path}")


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
        fail("give --session or --school, not both")
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
        fail(str(exc))
    if not packages:
        fail(f"nothing to export: {app.config.db_path} has no students; import a roster first")
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
            fail(f"{package.folder}: {exc}")
        work_left = work_left or bool(package.missing or package.retakes)
        click.echo(
            f"{result.path}: {len(package.photos)} photos, {len(package.missing)} missing, "
            f"{len(package.retakes)} to retake, {len(package.corrections)} corrections, "
            f"{result.pages} proof pages, {result.bytes / 1e6:.1f} MB  [{result.seconds:.1f} s]"
        )
        for warning in result.warnings:
            click.echo(f"  warning: {warning}")
    if work_left:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
