"""A central office with two schools, three kiosks and web accounts, as real processes.

Rosters are kiosk/sample.py's made-up students (a second school is the same
generator with another seed, code and name); the schedule is the notice's
sheet in ../shared. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import csv
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kiosk import sample
from tests.sync_support import BIN, Receiver, add_token, kiosk, write_config

SCHEDULE = Path(__file__).resolve().parents[2] / "shared" / "schedule" / "notice-2013-schedule.xlsx"
SCHOOL_A = sample.SCHOOL_CODE  # 19999 示例大学
SCHOOL_B = "10730"  # 兰州大学 in the notice's schedule; here with made-up students
SCHOOL_B_NAME = "兰州大学"


def central(data: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "central"), *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_roster(path: Path, count: int, *, seed: int, code: str, name: str) -> Path:
    rows = sample.sample_rows(count, seed=seed)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(sample.HEADERS)
        for row in rows:
            row[1], row[2] = name, code
            writer.writerow(row)
    return path


@dataclass
class Office:
    root: Path
    receiver: Receiver
    tokens: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.receiver.data

    @property
    def url(self) -> str:
        return self.receiver.url

    def kiosk_config(self, kiosk_id: str) -> Path:
        return write_config(
            self.root / f"{kiosk_id}.toml", self.url, self.tokens[kiosk_id], station_id=kiosk_id
        )

    def kiosk(self, kiosk_id: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return kiosk(self.kiosk_config(kiosk_id), self.root / kiosk_id, *args, timeout=timeout)

    def shoot(self, kiosk_id: str, school: str, start: int, students: int) -> None:
        """Pull the roster, photograph rows start+1..start+students, sync."""
        for args in (
            ("roster", "pull", "--school", school),
            (
                "demo",
                "--school",
                school,
                "--start",
                str(start),
                "--students",
                str(students),
                "--headless",
                "--fast",
            ),
            ("sync", "--once"),
        ):
            done = self.kiosk(kiosk_id, *args)
            assert done.returncode == 0, (args, done.stdout, done.stderr)

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        answer = client.post(
            "/login",
            data={
                "name": name,
                "password": self.passwords[name] if password is None else password,
                "csrf": login_csrf(client),
            },
        )
        assert answer.status_code in (303, 401, 403, 429), answer.text
        client.last_status = answer.status_code  # type: ignore[attr-defined]
        return client


def login_csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/login").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def make_office(root: Path, *, students_a: int = 12, students_b: int = 6) -> Office:
    data = root / "central"
    assert central(data, "schedule", "import", str(SCHEDULE)).returncode == 0
    roster_a = sample.write_sample_roster(root / "a.xlsx", count=students_a)
    assert central(data, "roster", "import", str(roster_a)).returncode == 0
    roster_b = write_roster(root / "b.csv", students_b, seed=99, code=SCHOOL_B, name=SCHOOL_B_NAME)
    assert central(data, "roster", "import", str(roster_b)).returncode == 0
    office = Office(root, Receiver(data))
    for kiosk_id in ("kiosk-01", "kiosk-02", "kiosk-03"):
        office.tokens[kiosk_id] = add_token(data, kiosk_id)
    for name, role, school in (
        ("office1", "office", None),
        ("registrar-a", "school", SCHOOL_A),
        ("registrar-b", "school", SCHOOL_B),
    ):
        args = ["user", "add", name, "--role", role] + (["--school", school] if school else [])
        done = central(data, *args)
        assert done.returncode == 0, done.stderr
        office.passwords[name] = done.stdout.strip().splitlines()[-1]
    office.receiver.start()
    return office
