"""Real processes for the sync tests: the receiver, a faulty receiver, a cutting proxy.

Everything listens on 127.0.0.1 on a free port. Kiosk data comes from
kiosk/sample.py (made-up students) and small synthetic JPEGs from Pillow.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid as uuid_module
from pathlib import Path

import httpx
from PIL import Image

from kiosk import sample
from kiosk.store import Store, now
from kiosk.sync import protocol

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# A soak multiplies the repetition counts: KIOSK_SOAK=10 pytest tests/test_sync_faults.py ...
SOAK = max(1, int(os.environ.get("KIOSK_SOAK", "1")))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jpeg(rng: random.Random, size: tuple[int, int] = (64, 80), quality: int = 90) -> bytes:
    """A small synthetic JPEG; noise so every one is different and barely compressible."""
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def make_kiosk(
    data_dir: Path,
    *,
    students: int = 40,
    shots: int = 60,
    seed: int = 1,
    station_id: str = "kiosk-01",
    size: tuple[int, int] = (64, 80),
) -> Store:
    """A kiosk database with sample students and ``shots`` delivered shots (some retakes)."""
    rng = random.Random(seed)
    store = Store(data_dir / "kiosk.db")
    rows = sample.sample_rows(students, seed=seed)
    at = now()
    with store.transaction() as conn:
        for row in rows:
            conn.execute(
                "INSERT INTO students (student_number, name, sex, school_name, school_code, "
                "id_number, degree, major, department, category, imported_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row[3],
                    row[4],
                    row[5],
                    row[1],
                    row[2],
                    row[6],
                    row[7],
                    row[8],
                    row[9],
                    row[10],
                    at,
                    at,
                ),
            )
    session = store.open_session(
        station_id=station_id,
        school_code=sample.SCHOOL_CODE,
        school_name=sample.SCHOOL_NAME,
        category="普通生",
        department="信息学院",
    )
    ids = [r[0] for r in store.conn.execute("SELECT id FROM students ORDER BY id")]
    for i in range(shots):
        store.save_shot(
            student_id=ids[i % len(ids)],
            session_id=session.id,
            jpeg=jpeg(rng, size),
            status="accepted" if i % 7 else "flagged",
        )
    return store


def write_config(path: Path, url: str, token: str, **sync: object) -> Path:
    lines = [
        "[station]",
        'station_id = "kiosk-01"',
        "",
        "[sync]",
        f'server_url = "{url}"',
        f'token = "{token}"',
    ]
    settings = {
        "allow_http": True,
        "backoff_initial": 0.05,
        "backoff_max": 0.5,
        "connect_timeout": 2.0,
        "io_timeout": 5.0,
        "poll_interval": 0.1,
    } | sync
    for key, value in settings.items():
        if key == "station_id":
            lines[1] = f'station_id = "{value}"'
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
        lines.append(f"{key} = {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kiosk(
    config: Path, data: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "kiosk"), "--config", str(config), "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def kiosk_process(config: Path, data: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "kiosk"), "--config", str(config), "--data", str(data), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def add_token(central_dir: Path, kiosk_id: str = "kiosk-01") -> str:
    out = subprocess.run(
        [str(BIN / "central"), "token", "add", kiosk_id, "--data", str(central_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


class Receiver:
    """``central serve`` (or the faulty twin, or the cutting proxy) as a child process."""

    def __init__(
        self,
        data: Path,
        *,
        port: int | None = None,
        extra: tuple[str, ...] = (),
        faulty_plan: Path | None = None,
    ) -> None:
        self.data = data
        self.port = port or free_port()
        self.extra = extra
        self.faulty_plan = faulty_plan
        self.process: subprocess.Popen | None = None
        self.scheme = "https" if "--ssl-certfile" in extra else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        if self.faulty_plan is not None:
            command = [
                sys.executable,
                "-m",
                "tests.faulty_central",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--plan",
                str(self.faulty_plan),
            ]
        else:
            command = [
                str(BIN / "central"),
                "serve",
                "--data",
                str(self.data),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.extra,
            ]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        wait_ready(self.url, self.process)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> str:
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.stderr.read() if self.process.stderr else ""


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(url + "/v1/health", timeout=1.0, verify=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


class Proxy:
    """tests/faulty_central.py proxy: cuts (or damages) the first connections mid-body."""

    def __init__(
        self,
        upstream_port: int,
        *,
        cut_connections: int,
        cut_after: int = 0,
        corrupt_at: int | None = None,
    ) -> None:
        self.port = free_port()
        corrupt = [] if corrupt_at is None else ["--corrupt-at", str(corrupt_at)]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faulty_central",
                "proxy",
                "--port",
                str(self.port),
                "--upstream",
                str(upstream_port),
                "--cut-connections",
                str(cut_connections),
                "--cut-after",
                str(cut_after),
                *corrupt,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(10)
        return self.process.stdout.read() if self.process.stdout else ""


def assert_receiver_holds_exactly(central_dir: Path, kiosk_dir: Path) -> int:
    """Every delivered shot once at the receiver, bytes matching; nothing else; all synced."""
    kiosk_db = sqlite3.connect(kiosk_dir / "kiosk.db")
    shots = {
        r[0]: (r[1], r[2])
        for r in kiosk_db.execute(
            "SELECT uuid, sha256, file FROM shots WHERE status IN ('accepted', 'flagged')"
        )
    }
    states = dict(kiosk_db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    kiosk_db.close()
    assert states == {"synced": len(shots)}, states
    from tests.backends import central_db, central_photo

    with central_db(central_dir) as db:
        rows = db.execute("SELECT uuid, sha256 FROM records").fetchall()
    assert len(rows) == len(shots), (len(rows), len(shots))
    assert {r[0] for r in rows} == set(shots)
    for record_uuid, sha in rows:
        assert shots[record_uuid][0] == sha
        data = central_photo(central_dir, sha)
        assert data is not None, sha
        assert hashlib.sha256(data).hexdigest() == sha
        assert data == (kiosk_dir / shots[record_uuid][1]).read_bytes()
    return len(rows)


SAMPLE_SESSION = "6bdc48c3-2251-44ac-939b-084eee3716a6"
SAMPLE_ID_NUMBER = "11010519491231002X"  # made up, with a correct check character


def manifest_document(
    *,
    kiosk: str = "kiosk-a",
    batch: str | None = None,
    session: str = SAMPLE_SESSION,
    record_uuid: str | None = None,
    photo: str = "0" * 64,
    size: int = 1,
    student: dict[str, object] | None = None,
    **record: object,
) -> dict[str, object]:
    """A valid one-record manifest as a dict, for tests that send their own batches."""
    return {
        "protocol": 1,
        "batch": batch or str(uuid_module.uuid4()),
        "kiosk": kiosk,
        "sessions": [
            {
                "uuid": session,
                "station_id": kiosk,
                "school_code": sample.SCHOOL_CODE,
                "school_name": sample.SCHOOL_NAME,
                "category": "普通生",
                "department": "信息学院",
                "opened_at": "2026-06-01T08:00:00.000+00:00",
                "closed_at": None,
            }
        ],
        "records": [
            {
                "uuid": record_uuid or str(uuid_module.uuid4()),
                "session": session,
                "seq": 1,
                "sha256": photo,
                "size": size,
                "width": 64,
                "height": 80,
                "taken_at": "2026-06-01T08:01:00.000+00:00",
                "status": "accepted",
                "reasons": [],
                "supersedes": None,
                "collection_code": None,
                "student": {
                    "name": "测试",
                    "school_code": sample.SCHOOL_CODE,
                    "id_number": SAMPLE_ID_NUMBER,
                }
                | (student or {}),
            }
            | record
        ],
    }


def manifest_bytes(document: dict[str, object]) -> bytes:
    """The canonical bytes a kiosk would send."""
    return protocol.canonical_json(document).encode("utf-8")
