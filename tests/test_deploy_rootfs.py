"""image-build/install-kiosk.sh against a real Debian 12 root, then the units on it.

The root comes from debootstrap (minbase + python3, python3-venv, systemd) and
is cached under .cache/ (ignored by git; ~50 s to make, ~300 MB). Each run
copies it, installs the kiosk with the same script the image build runs (the
wheels from a cached wheelhouse, so no PyPI download after the first run),
and checks what the units need: the venv imports kiosk, every ExecStart
exists, the units verify, users, groups, paths and links are there.

Needs root (chroot, mounts) and debootstrap (install.sh --dev installs it);
skipped with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_deploy_files import Unit, read_unit

pytestmark = pytest.mark.slow

CACHE = REPO / ".cache"
# python3-pygame: the kiosk must use apt's pygame (Debian's SDL2 has kmsdrm).
BASE_ROOT = CACHE / "debian12-root"
MIRROR = "http://deb.debian.org/debian"
UNITS = ("kiosk.service", "kiosk-sync.service", "kiosk-sync.timer", "central.service")
# Every service must stay at or below this systemd-analyze security exposure
# (0 = locked down, 10 = unprotected; "OK" is below 3.0 in systemd's scale).
MAX_EXPOSURE = 2.0


def _skip_reason() -> str | None:
    if sys.platform != "linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (chroot and bind mounts into the test root)"
    for tool in ("debootstrap", "chroot", "systemd-analyze", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (./install.sh --dev installs debootstrap and systemd)"
    return None


def _run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], text=True, capture_output=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def _base_root() -> Path:
    """The cached Debian 12 root; made once with debootstrap."""
    if (BASE_ROOT / "usr/lib/python3/dist-packages/pygame").exists():
        return BASE_ROOT
    partial = CACHE / "debian12-root.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = _run(
        "debootstrap",
        "--variant=minbase",
        "--include=python3,python3-venv,python3-pygame,systemd",
        "bookworm",
        partial,
        MIRROR,
    )
    if done.returncode != 0:
        pytest.skip(f"debootstrap could not make a Debian 12 root: {done.stdout[-500:]}")
    shutil.rmtree(BASE_ROOT, ignore_errors=True)  # an older cache without pygame
    partial.rename(BASE_ROOT)
    return BASE_ROOT


def _wheelhouse() -> Path:
    """The cache folder for the current pins: new pins, new folder."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = "\n".join(sorted(project["dependencies"]))
    return CACHE / f"wheelhouse-{hashlib.sha256(pins.encode()).hexdigest()[:12]}"


def _wheels(into: Path) -> Path:
    """The project's pinned wheels (cached) plus a fresh wheel of this tree."""
    wheelhouse = _wheelhouse()
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    if not wheelhouse.exists():
        partial = CACHE / "wheelhouse.partial"
        shutil.rmtree(partial, ignore_errors=True)
        done = _run(*pip, "-w", partial, REPO)
        if done.returncode != 0:
            pytest.skip(f"could not fetch the project's wheels: {done.stderr[-500:]}")
        for stale in partial.glob("kiosk-*.whl"):
            stale.unlink()
        partial.rename(wheelhouse)
        for stale in CACHE.glob("wheelhouse-*"):  # older pins
            if stale != wheelhouse:
                shutil.rmtree(stale, ignore_errors=True)
    into.mkdir()
    for wheel in wheelhouse.iterdir():
        os.link(wheel, into / wheel.name)
    done = _run(*pip, "--no-deps", "-w", into, REPO)
    assert done.returncode == 0, done.stderr
    return into


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = _base_root()
    work = tmp_path_factory.mktemp("rootfs")
    target = work / "root"
    copied = _run("cp", "-a", base, target)
    assert copied.returncode == 0, copied.stderr
    wheels = _wheels(work / "wheels")
    done = _run(REPO / "image-build/install-kiosk.sh", "--wheels", wheels, target)
    assert done.returncode == 0, f"install-kiosk.sh failed:\n{done.stdout}\n{done.stderr}"
    yield target
    # Nothing stays mounted in the copy (the script unmounts what it mounted).
    mounts = Path("/proc/mounts").read_text()
    assert str(target) not in mounts
    shutil.rmtree(work, ignore_errors=True)


def _in_root(root: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    spec = [f"--userspec={user}:{user}"] if user else []
    return _run("chroot", *spec, root, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", *args)


def _unit(root: Path, name: str) -> Unit:
    return read_unit(root / "usr/lib/systemd/system" / name)


def _has_central_command() -> bool:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    return "central" in scripts


def test_the_venv_imports_kiosk_and_sees_apt_packages(root: Path) -> None:
    code = (
        "import sys, kiosk, kiosk.cli, numpy;"
        "assert int(numpy.__version__.split('.')[0]) < 2, numpy.__version__;"
        "assert '/usr/lib/python3/dist-packages' in sys.path, sys.path;"
        "print(kiosk.__file__)"
    )
    done = _in_root(root, "/opt/kiosk/.venv/bin/python", "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("/opt/kiosk/.venv/lib/python3.11/site-packages/kiosk/")


def test_the_unit_commands_start_in_the_root(root: Path) -> None:
    """Each program a unit runs answers --help inside the root (all imports resolve)."""
    commands = [("kiosk", "run"), ("kiosk", "sync"), ("central", "serve")]
    for program, sub in commands:
        if program == "central" and not _has_central_command():
            continue
        done = _in_root(root, f"/opt/kiosk/.venv/bin/{program}", sub, "--help")
        if done.returncode != 0 and f"No such command '{sub}'" in done.stderr:
            continue  # the command's branch is not merged in this build (see test_deploy_files)
        assert done.returncode == 0, f"{program} {sub}: {done.stderr}"


def test_the_venv_uses_apts_pygame_whose_sdl_has_kmsdrm(root: Path) -> None:
    code = "import pygame; print(pygame.__file__)"
    done = _in_root(root, "/opt/kiosk/.venv/bin/python", "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("/usr/lib/python3/dist-packages/pygame/")
    [sdl] = list(root.glob("usr/lib/*/libSDL2-2.0.so.0"))
    assert b"KMSDRM" in sdl.resolve().read_bytes().upper()


def test_the_kiosk_user_reads_its_config_from_etc(root: Path) -> None:
    done = _in_root(
        root,
        "KIOSK_CONFIG=/etc/kiosk/kiosk.toml",
        "/opt/kiosk/.venv/bin/kiosk",
        "config",
        user="kiosk",
    )
    assert done.returncode == 0, done.stderr
    assert "from: /etc/kiosk/kiosk.toml; data folder: /var/lib/kiosk" in done.stdout
    # Other users cannot read it (crew PIN, sync token).
    assert (root / "etc/kiosk/kiosk.toml").stat().st_mode & 0o007 == 0


def test_the_units_verify_in_the_installed_root(root: Path) -> None:
    units = [u for u in UNITS if u != "central.service" or _has_central_command()]
    done = _run("systemd-analyze", "verify", f"--root={root}", *units, cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_the_central_tls_drop_in_verifies(root: Path) -> None:
    if not _has_central_command():
        pytest.skip("no `central` command in this build")
    drop_in = root / "etc/systemd/system/central.service.d/tls.conf"
    drop_in.parent.mkdir(parents=True)
    shutil.copy(root / "opt/kiosk/docs/central-tls.conf.example", drop_in)
    try:
        done = _run("systemd-analyze", "verify", f"--root={root}", "central.service", cwd=root)
    finally:
        shutil.rmtree(drop_in.parent)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_verify_fails_when_the_program_is_missing(root: Path) -> None:
    """The check above means something: without the venv's kiosk it fails."""
    program = root / "opt/kiosk/.venv/bin/kiosk"
    aside = program.with_name("kiosk.aside")
    program.rename(aside)
    try:
        done = _run("systemd-analyze", "verify", f"--root={root}", "kiosk.service", cwd=root)
    finally:
        aside.rename(program)
    assert done.returncode != 0
    assert "/opt/kiosk/.venv/bin/kiosk" in done.stderr


def test_every_exec_start_and_path_the_units_name_is_installed(root: Path) -> None:
    for name in UNITS:
        unit = _unit(root, name)
        if "Service" not in unit.sections:
            continue
        service = dict(unit.items("Service"))
        program = service["ExecStart"].split()[0]
        if name == "central.service" and not _has_central_command():
            continue
        assert os.access(root / program.lstrip("/"), os.X_OK), f"{name}: {program} missing"
        env = unit.environment()
        if name.startswith("kiosk"):
            assert (root / env["KIOSK_CONFIG"].lstrip("/")).is_file()
        for path in service.get("ReadWritePaths", "").split():
            assert (root / path.lstrip("/")).is_dir(), f"{name}: ReadWritePaths {path} missing"


def test_the_user_and_groups_the_units_name_exist(root: Path) -> None:
    users = {line.split(":")[0] for line in (root / "etc/passwd").read_text().splitlines()}
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (root / "etc/group").read_text().splitlines()
    }
    unit = _unit(root, "kiosk.service")
    assert unit.get("Service", "User") in users
    for group in unit.get("Service", "SupplementaryGroups").split():
        assert "kiosk" in groups[group], f"kiosk is not in group {group}"
    data = root / "var/lib/kiosk"
    owner = _in_root(root, "stat", "-c", "%U %a", "/var/lib/kiosk").stdout.split()
    assert data.is_dir() and owner == ["kiosk", "750"]


def test_boot_wiring_units_enabled_udev_journal_data_partition(root: Path) -> None:
    etc = root / "etc"
    assert (etc / "systemd/system/multi-user.target.wants/kiosk.service").is_symlink()
    assert (etc / "systemd/system/timers.target.wants/kiosk-sync.timer").is_symlink()
    assert not (etc / "systemd/system/multi-user.target.wants/central.service").exists()
    assert (etc / "udev/rules.d/70-kiosk.rules").read_text() == (
        REPO / "hardware/70-kiosk.rules"
    ).read_text()
    journald = (etc / "systemd/journald.conf.d/50-kiosk.conf").read_text()
    assert "Storage=persistent" in journald
    assert os.readlink(root / "var/log/journal") == "/var/lib/kiosk/journal"
    fstab = [
        line.split()
        for line in (etc / "fstab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ["LABEL=kioskdata", "/var/lib/kiosk", "ext4"] in [f[:3] for f in fstab]
    repart = (root / "usr/lib/repart.d/50-kiosk-data.conf").read_text()
    assert re.search(r"^Label=kioskdata$", repart, re.M)
    assert re.search(r"^Format=ext4$", repart, re.M)


def test_running_the_script_twice_changes_nothing_that_matters(root: Path) -> None:
    """The image build may rerun a stage: no second fstab line, config kept."""
    config = root / "etc/kiosk/kiosk.toml"
    config.write_text(config.read_text() + "\n# edited by the crew\n")
    wheels = root.parent / "wheels"
    done = _run(REPO / "image-build/install-kiosk.sh", "--wheels", wheels, root)
    assert done.returncode == 0, done.stderr
    assert "# edited by the crew" in config.read_text()
    fstab = (root / "etc/fstab").read_text()
    assert fstab.count("LABEL=kioskdata") == 1


def test_security_exposure_of_each_service(root: Path) -> None:
    scores = {}
    for name in UNITS:
        if not name.endswith(".service"):
            continue
        done = _run(
            "systemd-analyze", "security", "--offline=true", f"--root={root}", name, cwd=root
        )
        found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
        assert found, done.stdout[-500:] + done.stderr
        scores[name] = float(found.group(1))
    print("systemd-analyze security:", scores)
    for name, score in scores.items():
        assert score <= MAX_EXPOSURE, f"{name}: exposure {score} > {MAX_EXPOSURE}"
