import socket

from kiosk import notify


def test_notify_sends_datagrams_to_the_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    assert notify.ready("station up")
    assert server.recv(1024) == b"READY=1\nSTATUS=station up"
    assert notify.watchdog()
    assert server.recv(1024) == b"WATCHDOG=1"
    server.close()


def test_notify_without_systemd_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify.watchdog() is False
