"""Static checks of the deployment files that need no root: scripts, units, udev rules."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from central.cli import main as central_main
from kiosk.cli import main as kiosk_main
from tests.conftest import REPO

SYSTEMD = REPO / "systemd"


def shell_scripts() -> list[Path]:
    """Every tracked shell script: *.sh and files starting with a sh/bash shebang."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = []
    for name in listed:
        path = REPO / name
        if not path.is_file():
            continue
        with path.open("rb") as f:
            head = f.read(40)
        if name.endswith(".sh") or re.match(rb"#!\s*/(usr/)?bin/(env\s+)?(ba)?sh\b", head):
            found.append(path)
    return found


def test_every_shell_script_passes_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (./install.sh --dev installs it)")
    scripts = shell_scripts()
    names = {p.relative_to(REPO).as_posix() for p in scripts}
    assert {"install.sh", "image-build/install-kiosk.sh", "image-build/build-image.sh"} <= names
    done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


class Unit:
    """A unit file as systemd reads it: a key may repeat (Environment=, DeviceAllow=)."""

    def __init__(self, text: str) -> None:
        self.sections: dict[str, dict[str, list[str]]] = {}
        section: dict[str, list[str]] = {}
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = self.sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            section.setdefault(key.strip(), []).append(value.strip())

    def get(self, section: str, key: str, fallback: str | None = None) -> str:
        """The last value (what systemd uses for single-valued keys)."""
        values = self.sections.get(section, {}).get(key)
        if not values:
            if fallback is None:
                raise KeyError(f"[{section}] {key}")
            return fallback
        return values[-1]

    def all(self, section: str, key: str) -> list[str]:
        return self.sections.get(section, {}).get(key, [])

    def items(self, section: str) -> list[tuple[str, str]]:
        return [(k, v[-1]) for k, v in self.sections.get(section, {}).items()]

    def environment(self) -> dict[str, str]:
        return dict(
            item.split("=", 1)
            for line in self.all("Service", "Environment")
            for item in line.split()
        )


def read_unit(path: Path) -> Unit:
    return Unit(path.read_text())


def _unit(name: str) -> Unit:
    return read_unit(SYSTEMD / name)


@pytest.mark.parametrize(
    ("unit", "program"),
    [("kiosk.service", "kiosk"), ("kiosk-sync.service", "kiosk"), ("central.service", "central")],
    ids=["station", "sync", "receiver"],
)
def test_the_units_run_commands_this_kiosk_has(unit: str, program: str) -> None:
    """Every command and option a unit's ExecStart names exists; a missing one fails here."""
    argv = shlex.split(_unit(unit).get("Service", "ExecStart"))
    assert argv[0] == f"/opt/kiosk/.venv/bin/{program}"
    command: click.Command = kiosk_main if program == "kiosk" else central_main
    ctx = click.Context(command)
    words = iter(argv[1:])
    for word in words:
        if word.startswith("$"):
            continue  # an environment variable systemd expands (options from a drop-in)
        if word.startswith("-"):
            option = next((p for p in command.params if word in p.opts), None)
            assert isinstance(option, click.Option), f"{unit}: `{program}` has no option {word}"
            if not option.is_flag:
                next(words)  # its value
            continue
        assert isinstance(command, click.Group), f"{unit}: {word!r} after a command"
        sub = command.get_command(ctx, word)
        assert sub is not None, f"{unit}: `{program} {word}` does not exist in this build"
        command = sub
    assert not isinstance(command, click.Group), f"{unit}: names a group, not a command"


def test_the_receivers_env_file_names_the_variables_serve_reads() -> None:
    """central.env points the service at PostgreSQL and S3 only if its names are the CLI's."""
    from central import cli as central_cli

    serve = central_main.get_command(click.Context(central_main), "serve")
    assert serve is not None
    envvars = {p.envvar for p in serve.params if isinstance(p, click.Option)}
    assert {central_cli.ENV_DB, central_cli.ENV_PHOTOS} <= envvars
    unit_text = (SYSTEMD / "central.service").read_text()
    docs = (REPO / "docs" / "deployment.md").read_text()
    for name in (central_cli.ENV_DB, central_cli.ENV_PHOTOS):
        assert f"{name}=" in unit_text and f"\n{name}=" in docs


def test_station_unit_is_notify_with_watchdog_on_tty1() -> None:
    service = dict(_unit("kiosk.service").items("Service"))
    assert service["Type"] == "notify" and service["WatchdogSec"]
    assert service["TTYPath"] == "/dev/tty1" and service["PAMName"] == "login"
    assert service["Restart"] == "always"
    env = _unit("kiosk.service").environment()
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["KIOSK_CONFIG"] == "/etc/kiosk/kiosk.toml" and env["KIOSK_DATA"] == "/var/lib/kiosk"
    assert "getty@tty1.service" in _unit("kiosk.service").get("Unit", "Conflicts")


def test_sync_timer_repeats_without_persistent_and_runs_at_low_priority() -> None:
    timer = dict(_unit("kiosk-sync.timer").items("Timer"))
    # Persistent= only applies to OnCalendar= timers; a monotonic timer ignores it.
    assert "Persistent" not in timer or "OnCalendar" in timer
    assert timer["OnUnitInactiveSec"] and timer["OnBootSec"]
    service = dict(_unit("kiosk-sync.service").items("Service"))
    assert service["IOSchedulingClass"] == "idle" and int(service["Nice"]) > 0
    # `kiosk sync --once` exits 1 while work is left (offline): not a unit failure.
    assert service["SuccessExitStatus"].split() == ["1"]
    assert "network-online.target" in _unit("kiosk-sync.service").get("Unit", "After")


RULE_KEYS = {
    "SUBSYSTEM",
    "KERNEL",
    "ATTRS{idVendor}",
    "ATTRS{idProduct}",
    "ENV{ID_INPUT_KEYBOARD}",
    "SYMLINK",
    "GROUP",
    "MODE",
}


def test_udev_rules_name_the_devices_and_give_them_the_units_groups() -> None:
    rules = [
        line
        for line in (REPO / "hardware/70-kiosk.rules").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    groups = set(_unit("kiosk.service").get("Service", "SupplementaryGroups").split())
    links = set()
    for rule in rules:
        pairs = re.findall(r'([A-Z_]+(?:\{[A-Za-z_]+\})?)\s*(==|!=|\+=|=)\s*"([^"]*)"', rule)
        assert pairs, rule
        rebuilt = ", ".join(f'{k}{op}"{v}"' for k, op, v in pairs)
        assert rebuilt == rule, f"cannot parse every part of: {rule}"
        for key, op, value in pairs:
            assert key in RULE_KEYS, f"unexpected key {key} in {rule}"
            if key == "SYMLINK":
                assert op == "+="
                links.add(value)
            if key == "GROUP":
                assert value in groups, f"{value} is not one of the kiosk's groups"
            if key.startswith("ATTRS{id"):
                assert re.fullmatch(r"[0-9a-f]{4}", value), rule
    assert links == {"kiosk-scanner", "kiosk-idcard"}


def test_read_only_root_keeps_the_data_partition_writable(tmp_path: Path) -> None:
    (tmp_path / "boot/firmware").mkdir(parents=True)
    (tmp_path / "boot/firmware/config.txt").write_text("[all]\n")
    for _ in range(2):  # a rerun adds nothing twice
        done = subprocess.run(
            [REPO / "image-build/read-only-root.sh", tmp_path], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    conf = (tmp_path / "etc/overlayroot.local.conf").read_text()
    assert re.search(r'^overlayroot="tmpfs:recurse=0"$', conf, re.M)
    assert (tmp_path / "boot/firmware/config.txt").read_text().count("auto_initramfs=1") == 1


def test_the_shipped_config_loads_and_names_the_udev_devices() -> None:
    from kiosk import config as config_module

    config = config_module.load_file(REPO / "image-build/files/kiosk.toml")
    assert str(config.data_dir) == "/var/lib/kiosk"
    assert config.deployment.shutter_pin == 17
    scanner = getattr(config, "scanner", None)
    if scanner is None:
        pytest.skip("no scanner section in this build")
    from kiosk.scanner.devices import configured_specs

    targets = {spec.target for spec in configured_specs(scanner)}
    rules = (REPO / "hardware/70-kiosk.rules").read_text()
    for target in targets:
        assert f'SYMLINK+="{target.removeprefix("/dev/")}"' in rules
