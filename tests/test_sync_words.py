"""What `kiosk sync`, `kiosk roster pull` and `kiosk purge` print, in the crew's language.

The client's failures carry catalogue keys (kiosk/sync/client.py); the crew
reads Chinese by default and English under ``crew_language = "en"``, with the
receiver's own codes left as they came. No receiver runs here: a closed port
on 127.0.0.1 is "offline", and the setup problems need no network at all.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from click.testing import CliRunner, Result

from kiosk.cli import main
from kiosk.lang import Words
from kiosk.sync.client import Offline, Refused, SetupProblem, malformed
from kiosk.sync.runner import said

ENGLISH_WORDS = re.compile(r"\b(?:no|the|not|set|pass|offline|error|cannot|giving up|try)\b")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kiosk(tmp_path: Path, *args: str, language: str = "zh", sync: str = "") -> Result:
    """The CLI in this process, on the data folder ``tmp_path``."""
    config = tmp_path.parent / f"{tmp_path.name}-{language}.toml"
    config.write_text(
        f'[station]\ncrew_language = "{language}"\nstation_id = "kiosk-01"\n\n[sync]\n{sync}',
        encoding="utf-8",
    )
    return CliRunner().invoke(main, ["--config", str(config), "--data", str(tmp_path), *args])


def prose(text: str) -> str:
    """The text without what stays as it is in every language: commands, settings,
    URLs, library error names, codes."""
    text = re.sub(r"`[^`]*`|kiosk [a-z]+(?: --[a-z]+)*|--[a-z]+", "", text)
    text = re.sub(r"https?://\S+|[a-z_]+\.[a-z_.]+|\b[A-Z][A-Za-z]+Error\b", "", text)
    return re.sub(r"\b(?:GET|PUT|POST|HTTP|JSON)\b|/[\w/{}-]+", "", text)


def test_setup_problems_are_said_in_the_crews_language(tmp_path: Path) -> None:
    unset = kiosk(tmp_path, "sync", "--once")
    assert unset.exit_code == 2
    assert "没有设置服务器" in unset.stderr and not ENGLISH_WORDS.search(prose(unset.stderr))
    english = kiosk(tmp_path, "sync", "--once", language="en")
    assert english.exit_code == 2 and "no receiver: set sync.server_url" in english.stderr
    no_token = kiosk(
        tmp_path, "roster", "pull", "--school", "10730", sync='server_url = "https://127.0.0.1:9"\n'
    )
    assert no_token.exit_code == 2 and "没有同步令牌" in no_token.stderr
    plain = kiosk(
        tmp_path,
        "roster",
        "pull",
        "--school",
        "10730",
        sync='server_url = "http://127.0.0.1:9"\ntoken = "t"\n',
    )
    assert plain.exit_code == 2 and "明文 http" in plain.stderr
    assert not ENGLISH_WORDS.search(prose(plain.stderr))
    purge = kiosk(
        tmp_path,
        "purge",
        "--session",
        "nope",
        "--yes",
        sync='server_url = "https://127.0.0.1:9"\ntoken = "t"\n',
    )
    assert purge.exit_code == 1 and "本机没有场次 nope" in purge.stderr, purge.stderr


def test_offline_sync_and_pull_are_said_in_the_crews_language(tmp_path: Path) -> None:
    sync = (
        f'server_url = "http://127.0.0.1:{closed_port()}"\ntoken = "t"\nallow_http = true\n'
        "connect_timeout = 1.0\nonce_attempts = 1\n"
    )
    pulled = kiosk(tmp_path, "roster", "pull", "--school", "10730", sync=sync)
    assert pulled.exit_code == 1
    assert "连不上办公室：GET /rosters/10730：连不上（ConnectError" in pulled.stderr, pulled.stderr
    assert not ENGLISH_WORDS.search(prose(pulled.stderr)), pulled.stderr
    synced = kiosk(tmp_path, "sync", "--once", sync=sync)
    assert synced.exit_code == 0  # nothing to send; the receiver was not reached
    assert "离线：GET /whoami：连不上" in synced.stderr and "已试 1 次" in synced.stderr
    assert not ENGLISH_WORDS.search(prose(synced.stderr)), synced.stderr
    # the first sync's lock is held until this process ends: a second one is told so
    again = kiosk(tmp_path, "sync", "--once", sync=sync)
    assert again.exit_code == 1 and "另一个 kiosk sync 或 kiosk purge 正在使用" in again.stderr
    assert "本次同步没有开始" in again.stderr
    english = kiosk(tmp_path / "en", "sync", "--once", sync=sync, language="en")
    assert "offline: GET /whoami: cannot connect" in english.stderr
    assert "giving up for now after 1 tries" in english.stderr


def test_every_failure_keeps_its_key_and_the_receivers_code() -> None:
    words = Words("zh")
    refused = Refused(
        Offline(malformed("GET", "/whoami")).args[0], 422, "bad_manifest"
    )  # any Said will do
    assert words.text(refused).startswith("GET /whoami：服务器的回答格式不对")
    assert str(refused).startswith("GET /whoami: malformed answer")  # logs and JSON stay English
    nested = SetupProblem(said(refused))
    assert words("sync.wrong_base_url", detail=nested).startswith("GET /whoami：服务器的回答")
    assert Words("en").text(nested) == str(nested)
