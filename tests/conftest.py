"""Shared fixtures. ../shared (beside the repository) holds the rosters and faces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KIOSK_SHARED", REPO.parent / "shared"))
ROSTERS = SHARED / "rosters"
FACES = SHARED / "faces"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (the shared data set sits beside the repository)")
    return path
