"""Concurrent `kiosk sync` runs on one data folder: one works, the others say so.

The hostile review: three runs sent 637 uploads for 240 photos. Real
receiver (its access log counts the uploads), real kiosk processes.
"""

from __future__ import annotations

import json
import signal
import time

from tests.sync_support import (
    Receiver,
    add_token,
    assert_receiver_holds_exactly,
    kiosk,
    kiosk_process,
    make_kiosk,
    write_config,
)


def test_three_runs_at_once_upload_each_photo_once(tmp_path):
    receiver = Receiver(tmp_path / "central").start()
    try:
        make_kiosk(tmp_path / "k", shots=120).close()
        config = write_config(tmp_path / "k.toml", receiver.url, add_token(receiver.data))
        runs = [kiosk_process(config, tmp_path / "k", "sync", "--once", "--json") for _ in range(3)]
        results = [(run.wait(120), *run.communicate()) for run in runs]
        assert sorted(code for code, _, _ in results) == [0, 1, 1], results
        sent = 0
        for code, stdout, stderr in results:
            if code == 1:
                assert "另一个 kiosk sync 或 kiosk purge 正在使用" in stderr
            else:
                sent += json.loads(stdout)["photos_sent"]
        assert sent == 120  # each photo uploaded once
        assert assert_receiver_holds_exactly(receiver.data, tmp_path / "k") == 120
    finally:
        receiver.stop()


def test_a_killed_sync_leaves_no_stale_lock(tmp_path):
    receiver = Receiver(tmp_path / "central").start()
    try:
        make_kiosk(tmp_path / "k", shots=5).close()
        config = write_config(tmp_path / "k.toml", receiver.url, add_token(receiver.data))
        running = kiosk_process(config, tmp_path / "k", "sync")  # continuous mode
        lock = tmp_path / "k" / "sync.lock"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            lock.exists() and lock.read_text().strip() == str(running.pid)
        ):
            assert running.poll() is None, running.communicate()
            time.sleep(0.05)
        second = kiosk(config, tmp_path / "k", "sync", "--once")
        assert second.returncode == 1 and f"（进程 {running.pid}）" in second.stderr
        running.send_signal(signal.SIGKILL)
        running.wait(10)
        after = kiosk(config, tmp_path / "k", "sync", "--once")
        assert after.returncode == 0, after.stderr
    finally:
        receiver.stop()
        if running.poll() is None:
            running.kill()
