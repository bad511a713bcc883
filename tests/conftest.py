"""Shared fixtures. ../shared (beside the repository) holds the rosters and faces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# -- the receiver's back ends (tests/backends.py) ---------------------------------------


@pytest.fixture(scope="session")
def servers() -> Iterator[Any]:
    from tests.backends import Servers

    started = Servers()
    yield started
    started.stop()


@pytest.fixture(scope="module", params=["embedded", "postgres+s3"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    """The one parameter: every receiver and office test runs on both back ends."""
    return str(request.param)


@pytest.fixture
def backend(servers: Any, backend_kind: str) -> Iterator[Any]:
    """A fresh database and bucket for this test, named in CENTRAL_DB / CENTRAL_PHOTOS."""
    from tests.backends import environment

    chosen = servers.backend(backend_kind)
    with environment(chosen.env):
        yield chosen


@pytest.fixture(scope="module")
def module_backend(servers: Any, backend_kind: str) -> Iterator[Any]:
    """The same for a module whose receiver is started once."""
    from tests.backends import environment

    chosen = servers.backend(backend_kind)
    with environment(chosen.env):
        yield chosen
