"""The receiver's two back ends as real servers on 127.0.0.1, for the tests and bench/.

``embedded``: SQLite and a folder under ``--data`` (the default).
``postgres+s3``: Debian's PostgreSQL, started with initdb + pg_ctl in a
temporary folder on a free port (as ``nobody`` when running as root: initdb
refuses root), and moto's S3 server. Each test gets a fresh database and a
fresh bucket on the session's servers, named to the ``central`` commands
through CENTRAL_DB / CENTRAL_PHOTOS (so every ``central`` child process a
test starts uses them), with throw-away AWS keys in the environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from central.database import pyformat
from tests.sync_support import free_port

KINDS = ("embedded", "postgres+s3")
_names = itertools.count(1)


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


class PostgresServer:
    """A throw-away PostgreSQL cluster: trust auth, loopback only, fsync off."""

    USER = "central"

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        # Not under pytest's tmp_path: its parents are root's 0700 folders,
        # which the unprivileged server user could not enter.
        self.root = Path(tempfile.mkdtemp(prefix="central-pg-"))
        self.data = self.root / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self.as_user = [
                "setpriv",
                f"--reuid={nobody.pw_uid}",
                f"--regid={nobody.pw_gid}",
                "--clear-groups",
                "--",
            ]
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )
        for attempt in range(3):
            # The free port may be taken by someone else before the server binds it.
            options = (
                f"-F -p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c max_connections=300 -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    str(self.bin / "pg_ctl"),
                    *("-D", str(self.data), "-l", str(self.root / "server.log")),
                    *("-o", options, "-w", "-t", "60", "start"),
                )
                return
            except RuntimeError:
                if attempt == 2:
                    raise
                self.port = free_port()

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, cwd=self.root, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}\n{done.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


class MotoServer:
    """moto's S3 server mode: a real HTTP endpoint on loopback speaking the protocol."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "moto_server"),
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ | S3_ENV,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.endpoint, timeout=1.0)
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto_server did not come up")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_bucket(self) -> str:
        name = f"t{os.getpid()}-{next(_names)}"
        s3_client(self.endpoint).create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Database:
    """A test's own connection to the central's database, whichever it is (``?`` placeholders)."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(pyformat(sql) if self.postgres else sql, params)

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Backend:
    """One test's receiver storage: where it is and how a test looks inside."""

    kind: str
    env: dict[str, str] = field(default_factory=dict)
    db_url: str | None = None
    bucket: str | None = None
    endpoint: str | None = None

    @classmethod
    def current(cls) -> Backend:
        """The back end the environment names (what a ``central`` child would use)."""
        db_url = os.environ.get("CENTRAL_DB")
        photos = os.environ.get("CENTRAL_PHOTOS")
        if not db_url or not photos:
            return cls("embedded")
        from central.backends import S3Location, parse_photos

        where = parse_photos(photos)
        assert isinstance(where, S3Location)
        env = {k: os.environ[k] for k in (*S3_ENV, "CENTRAL_DB", "CENTRAL_PHOTOS")}
        return cls("postgres+s3", env, db_url, where.bucket, where.endpoint)

    def s3(self) -> Any:
        assert self.endpoint is not None
        return s3_client(self.endpoint)

    @property
    def embedded(self) -> bool:
        return self.kind == "embedded"

    def args(self) -> list[str]:
        """The ``central`` options naming this storage (the environment names it too)."""
        if self.embedded:
            return []
        return ["--db", self.env["CENTRAL_DB"], "--photos", self.env["CENTRAL_PHOTOS"]]

    def connect(self, data_dir: Path) -> Database:
        if self.embedded:
            return Database(sqlite3.connect(data_dir / "central.db", timeout=30), postgres=False)
        import psycopg

        return Database(psycopg.connect(self.db_url or "", autocommit=True), postgres=True)

    def photo(self, data_dir: Path, sha256: str) -> bytes | None:
        if self.embedded:
            path = data_dir / "photos" / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"
            return path.read_bytes() if path.exists() else None
        try:
            answer = self.s3().get_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:  # botocore's NoSuchKey
            if "NoSuchKey" in type(exc).__name__ or "404" in str(exc):
                return None
            raise
        data: bytes = answer["Body"].read()
        return data

    def photos(self, data_dir: Path) -> list[str]:
        """Every photo's sha256 held (to count copies)."""
        if self.embedded:
            return sorted(p.stem for p in (data_dir / "photos").glob("??/??/*.jpg"))
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(
            item["Key"].rsplit("/", 1)[-1].removesuffix(".jpg")
            for page in pages
            for item in page.get("Contents", ())
        )

    def put_photo(self, data_dir: Path, sha256: str, data: bytes) -> None:
        """Overwrite a held photo's bytes (a damaged disk or object, for verify's tests)."""
        if self.embedded:
            (data_dir / "photos" / sha256[:2] / sha256[2:4] / f"{sha256}.jpg").write_bytes(data)
            return
        self.s3().put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)

    def delete_photo(self, data_dir: Path, sha256: str) -> None:
        if self.embedded:
            (data_dir / "photos" / sha256[:2] / sha256[2:4] / f"{sha256}.jpg").unlink()
            return
        self.s3().delete_object(Bucket=self.bucket, Key=self._key(sha256))

    @staticmethod
    def _key(sha256: str) -> str:
        from central.s3 import PREFIX

        return f"{PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"

    def check(self, data_dir: Path, sha256: str) -> bool:
        data = self.photo(data_dir, sha256)
        return data is not None and hashlib.sha256(data).hexdigest() == sha256


class Servers:
    """The session's PostgreSQL and moto servers, started on first use."""

    def __init__(self) -> None:
        self.postgres: PostgresServer | None = None
        self.moto: MotoServer | None = None

    def backend(self, kind: str) -> Backend:
        if kind == "embedded":
            return Backend(kind)
        if self.postgres is None:
            bin_dir = postgres_bin()
            if bin_dir is None:
                raise RuntimeError("PostgreSQL is not installed; run ./install.sh --dev")
            self.postgres = PostgresServer(bin_dir)
        if self.moto is None:
            self.moto = MotoServer()
        db_url = self.postgres.create_database()
        bucket = self.moto.create_bucket()
        photos = f"s3://{bucket}?endpoint={self.moto.endpoint}&region=us-east-1"
        return Backend(
            kind,
            env=S3_ENV | {"CENTRAL_DB": db_url, "CENTRAL_PHOTOS": photos},
            db_url=db_url,
            bucket=bucket,
            endpoint=self.moto.endpoint,
        )

    def stop(self) -> None:
        if self.moto is not None:
            self.moto.stop()
        if self.postgres is not None:
            self.postgres.stop()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def central_db(data_dir: Path) -> Database:
    """The central's database of the current back end (``?`` placeholders)."""
    return Backend.current().connect(data_dir)


def central_photo(data_dir: Path, sha256: str) -> bytes | None:
    return Backend.current().photo(data_dir, sha256)


def central_storage(data_dir: Path, *, create: bool = False) -> Any:
    """The central's stores as ``central`` opens them (central/backends.py)."""
    from central.backends import Locations, open_storage

    where = Locations(data_dir, os.environ.get("CENTRAL_DB"), os.environ.get("CENTRAL_PHOTOS"))
    return open_storage(where, create=create)
