"""The roster import's command-line ending, shared by ``kiosk roster import`` and
``central roster import`` so the two print, write and exit alike."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kiosk.lang import Words
from kiosk.roster import ImportReport
from kiosk.roster_words import import_lines

report_option = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full report (every rejected row) as JSON here.",
)


def finish(words: Words, report: ImportReport, elapsed: float, report_path: Path | None) -> None:
    """Write --report, print the summary in ``words``' language, exit 1 when rows were rejected."""
    if report_path is not None:
        report_path.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    for line in import_lines(words, report, elapsed, report_path):
        click.echo(line)
    if report.rejected_rows:
        sys.exit(1)
