"""The Tasks-API path (mediapipe 1.2.x, Raspberry Pi OS Trixie) judges like the solutions path.

``./install.sh --dev`` makes a second virtualenv, ``.venv-tasks``, with
mediapipe 1.2.x (no ``solutions``, no models) and LiteRT. These tests run
the labelled photos and the quality tests in it, as subprocesses, and hold
its verdicts to the solutions path's within the tolerance docs/quality.md
states: accept/refuse agreeing on at least 93 % of the labelled photos (at
most 6 of 84 differ), and the Tasks path itself agreeing with the labels on
at least 95 %.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.capture.evaluation import evaluate, read_labels, summarise
from kiosk.capture.image import load_rgb
from kiosk.capture.quality import QualityChecker
from kiosk.capture.verdict import Reason
from tests.conftest import FACES, REPO, need_shared

TASKS_PYTHON = REPO / ".venv-tasks" / "bin" / "python"
PATHS_AGREE_MIN = 0.93
TASKS_LABELS_AGREE_MIN = 0.95


def _tasks_python() -> Path:
    if not TASKS_PYTHON.exists():
        pytest.skip(".venv-tasks is missing: ./install.sh --dev makes it")
    return TASKS_PYTHON


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_MEDIAPIPE"}
    env["KIOSK_SHARED"] = str(FACES.parent)
    return subprocess.run(
        [str(_tasks_python()), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_tasks_venv_has_no_solutions_and_picks_the_tasks_api() -> None:
    out = _run(
        [
            "-c",
            "import mediapipe, importlib.util as u;"
            "from kiosk.capture.facemodel import default_api;"
            "print(mediapipe.__version__, u.find_spec('mediapipe.python') is None, default_api())",
        ],
        120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    version, no_solutions, api = out.stdout.split()
    assert version.startswith("1.") and no_solutions == "True" and api == "tasks"


def test_labelled_photos_get_the_same_verdicts_on_both_paths(tmp_path: Path) -> None:
    need_shared(FACES)
    target = tmp_path / "tasks.json"
    out = _run(["bench/quality_eval.py", str(FACES), "--fresh", "--json", str(target)], 600)
    assert out.returncode == 0, out.stderr[-2000:]
    tasks: dict[str, list[str]] = json.loads(target.read_text(encoding="utf-8"))

    checker = QualityChecker()
    labels = read_labels(FACES)
    solutions = {
        label.file: checker.assess(load_rgb(FACES / label.file), face_only=True).reasons
        for label in labels
    }
    differ = sorted(f for f in solutions if bool(solutions[f]) != bool(tasks[f]))
    assert 1 - len(differ) / len(labels) >= PATHS_AGREE_MIN, differ

    def judge(path: Path) -> tuple[Reason, ...]:
        return tuple(Reason(r) for r in tasks[path.name])

    s = summarise(evaluate(FACES, judge, labels))
    assert s.agreement >= TASKS_LABELS_AGREE_MIN, s


def test_the_quality_tests_pass_on_the_tasks_path() -> None:
    """The same test files, less the figures fitted to the solutions mesh (docs/quality.md)."""
    need_shared(FACES)
    out = _run(
        [
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not solutions_mesh",
            "tests/test_quality.py",
            "tests/test_quality_rules.py",
        ],
        900,
    )
    assert out.returncode == 0, out.stdout[-4000:]
    assert " passed" in out.stdout and " failed" not in out.stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
