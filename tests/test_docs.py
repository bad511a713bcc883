"""The docs keep up with the code: every command, option, reason code and config key is written down.

In the spirit of sqlite-utils' test_docs.py: the lists come from the code
itself (click's command tree, the Reason enum, the config dataclasses), so a
new option or setting without its documentation fails here, not in the hands
of a crew that cannot find it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from central.cli import main as central_main
from kiosk import config as config_module
from kiosk.capture.verdict import Reason
from kiosk.cli import main as kiosk_main
from tests.conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TEXTS = {path: path.read_text(encoding="utf-8") for path in DOCS}
SKIPPED_OPTIONS = {"--help", "--version"}  # click's own


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
    if command.hidden:
        return
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, [*path, name])


COMMANDS = [*_commands(kiosk_main, ["kiosk"]), *_commands(central_main, ["central"])]


def _options(command: click.Command) -> list[str]:
    return [
        opt
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for opt in param.opts
        if opt.startswith("--") and opt not in SKIPPED_OPTIONS
    ]


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_and_its_options_are_documented(name: str, command: click.Command):
    """The command is named in the README or docs/, and each option in a page that names it."""
    pages = [path for path, text in TEXTS.items() if name in text]
    assert pages, f"`{name}` appears nowhere in README.md or docs/"
    missing = [opt for opt in _options(command) if not any(opt in TEXTS[p] for p in pages)]
    assert not missing, (
        f"`{name}` options {missing} are not documented in "
        f"{', '.join(str(p.relative_to(REPO)) for p in pages)}"
    )


def test_the_command_list_is_whole():
    """Guards the walk above: it must see the nested groups too."""
    names = {name for name, _ in COMMANDS}
    assert {"kiosk roster import", "kiosk geometry", "central token add"} <= names


@pytest.mark.parametrize("reason", list(Reason), ids=[r.value for r in Reason])
def test_every_reason_code_is_explained_in_quality_md(reason: Reason):
    text = TEXTS[REPO / "docs" / "quality.md"]
    assert f"`{reason.value}`" in text, f"reason code {reason.value} is missing in docs/quality.md"


def _config_keys() -> Iterator[str]:
    hints = typing.get_type_hints(config_module.Config)
    for name, hint in hints.items():
        if name == "source":
            continue
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            for field in dataclasses.fields(hint):
                yield f"{name}.{field.name}"
        else:
            yield name


def test_every_config_key_is_in_kiosk_config_defaults(tmp_path: Path):
    result = CliRunner().invoke(kiosk_main, ["--data", str(tmp_path), "config", "--defaults"])
    assert result.exit_code == 0, result.output
    section = ""
    shown: set[str] = set()
    for line in result.output.splitlines():
        if header := re.fullmatch(r"\[(\w+)\]", line):
            section = header.group(1) + "."
        elif key := re.match(r"#? ?(\w+) = ", line):
            shown.add(section + key.group(1))
    missing = sorted(set(_config_keys()) - shown)
    assert not missing, f"kiosk config --defaults leaves out {missing}"
    # What it prints is a working config: loaded back, it is the defaults.
    loaded = config_module.from_dict(tomllib.loads(result.output))
    assert dataclasses.replace(loaded, source="") == dataclasses.replace(
        config_module.Config(), source=""
    )
