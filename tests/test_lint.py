"""The CI habits: ruff and mypy run with the suite, so the README's test command runs them.

They run as subprocesses of the project's own venv tools, with the settings in
pyproject.toml, exactly as a developer runs them by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", "kiosk", "central", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    result = _run(str(BIN / "ruff"), "format", "--check", "kiosk", "central", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_kiosk_and_central():
    # The files to check are pyproject.toml's [tool.mypy] files: kiosk/ and central/.
    result = _run(sys.executable, "-m", "mypy", "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr
