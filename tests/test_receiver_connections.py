"""Idle and half-sent connections cannot lock the kiosks out of a real receiver.

The hostile review: a half-sent head stayed open 46 s, an upload stalled
after 100 bytes kept its temp file 45 s, and 1,100 idle one-byte
connections under systemd's default `ulimit -n 1024` made /v1/health time
out while asyncio logged 90 MB of "out of system resource". Each case here
runs against `central serve` in its own process.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sync_support import (
    BIN,
    REPO,
    add_token,
    assert_receiver_holds_exactly,
    free_port,
    kiosk,
    make_kiosk,
    wait_ready,
    write_config,
)

IDLE_CONNECTIONS = 1100
SYSTEMD_DEFAULT_NOFILE = 1024


def systemd_default_limit() -> None:
    """In the child: the descriptor limit a unit without LimitNOFILE gets."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (SYSTEMD_DEFAULT_NOFILE, SYSTEMD_DEFAULT_NOFILE))


@contextlib.contextmanager
def receiver(data: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "central"), "serve", "--data", str(data), "--port", str(port), *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,  # uvicorn's access log
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=systemd_default_limit,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    """This test process opens over 1,024 sockets itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + 500
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard descriptor limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_kiosk_still_syncs_through_1100_idle_connections(tmp_path, many_descriptors, backend):
    store = make_kiosk(tmp_path / "k", shots=20)
    store.close()
    token = add_token(tmp_path / "central")
    with receiver(tmp_path / "central") as (url, process):
        idle = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
                sock.sendall(b"G")  # one byte of a request head, then nothing
                idle.append(sock)
            started = time.monotonic()
            health = httpx.get(url + "/v1/health", timeout=5.0)
            assert health.status_code == 200 and time.monotonic() - started < 5.0

            config = write_config(tmp_path / "k.toml", url, token)
            synced = kiosk(config, tmp_path / "k", "sync", "--once", timeout=60)
            assert synced.returncode == 0, synced.stderr
            assert assert_receiver_holds_exactly(tmp_path / "central", tmp_path / "k") == 20
            # The oldest idle connections were closed to make room (503, Retry-After).
            first = idle[0]
            first.settimeout(2.0)
            answer = first.recv(4096)
            assert answer.startswith(b"HTTP/1.1 503") and b"Retry-After: 5" in answer
        finally:
            for sock in idle:
                sock.close()
        process.terminate()
        log = process.communicate(timeout=10)[1]
    # Warned about the descriptor limit once, and no flood of repeated lines.
    assert "raise LimitNOFILE" in log
    assert "out of system resource" not in log
    assert len(log.encode()) < 20_000, log[-2000:]


def test_a_half_sent_head_and_a_stalled_upload_are_dropped(tmp_path, backend):
    add_token(tmp_path / "central")
    token = add_token(tmp_path / "central")
    with receiver(
        tmp_path / "central", "--head-timeout", "1", "--body-timeout", "1", "--access-log"
    ) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as head:
            head.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # never finished
            head.settimeout(10)
            started = time.monotonic()
            answer = head.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5

        sha = "ab" * 32
        with socket.create_connection(("127.0.0.1", port)) as body:
            body.sendall(
                (
                    f"PUT /v1/photos/{sha} HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    "Content-Digest: sha-256=:q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=:\r\n"
                    "Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n"
                ).encode()
                + b"x" * 100
            )
            time.sleep(0.3)
            if backend.embedded:  # a bucket's upload is spooled in memory until verified
                assert len(list((tmp_path / "central" / "tmp").iterdir())) == 1  # under way
            body.settimeout(10)
            started = time.monotonic()
            answer = body.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5
        time.sleep(0.2)
        if backend.embedded:
            assert list((tmp_path / "central" / "tmp").iterdir()) == []
        assert httpx.get(url + "/v1/health").status_code == 200
        process.terminate()
        log = process.communicate(timeout=10)[0]
    # --access-log logs requests (it logged nothing before), ids only.
    assert '"GET /v1/health HTTP/1.1" 200' in log, log
    assert f"PUT /v1/photos/{sha}" in log and token not in log


def test_repeated_log_lines_are_counted_not_repeated(tmp_path):
    from central.logs import RepeatFilter

    clock = [0.0]
    log_file = tmp_path / "central.log"
    handler = logging.FileHandler(log_file)
    logger = logging.getLogger("test.central.flood")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addFilter(RepeatFilter(60.0, clock=lambda: clock[0]))
    try:
        for i in range(10_000):  # what asyncio did on every accept without descriptors
            clock[0] = i * 0.001
            logger.error("socket.accept() out of system resource")
            logger.error("record %s refused", i)  # other kinds are not held back
        clock[0] = 70.0
        logger.error("socket.accept() out of system resource")
    finally:
        handler.close()
        logger.removeHandler(handler)
    lines = log_file.read_text().splitlines()
    floods = [line for line in lines if line.startswith("socket.accept()")]
    assert floods == [
        "socket.accept() out of system resource",
        "socket.accept() out of system resource (9999 more like this in the last 60 s)",
    ]
    assert len(lines) == 3  # "record %s refused" is one kind, held back too
