from pathlib import Path

import pytest

from kiosk import config


def test_defaults_are_complete_and_round_trip_through_toml(tmp_path):
    text = config.defaults_as_toml()
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    loaded = config.load_file(path)
    defaults = config.Config()
    assert loaded.station == defaults.station
    assert loaded.roster == defaults.roster


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text("[roster]\nprogress_treshold = 10\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"roster\.progress_treshold"):
        config.load_file(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "[roster]\nprogress_threshold = 'many'\n",
            r"roster\.progress_threshold: expected a whole number",
        ),
        ("[roster]\nmin_birth_year = 1200\n", r"roster\.min_birth_year: 1200 is below the minimum"),
        ("[station]\ncrew_language = 'fr'\n", r"station\.crew_language: 'fr' is not one of"),
        ("station = 3\n", r"station: expected a table"),
        ("[station\n", r"not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, match):
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=match):
        config.load_file(path)


def test_precedence_of_data_dir(tmp_path, monkeypatch):
    path = tmp_path / "conf" / "k.toml"
    path.parent.mkdir()
    path.write_text("data_dir = 'here'\n", encoding="utf-8")
    monkeypatch.delenv(config.ENV_DATA, raising=False)
    assert config.load(path).data_dir == path.parent / "here"  # relative to the file
    monkeypatch.setenv(config.ENV_DATA, str(tmp_path / "env"))
    assert config.load(path).data_dir == tmp_path / "env"
    assert config.load(path, tmp_path / "flag").data_dir == tmp_path / "flag"


def test_config_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "k.toml"
    path.write_text("[station]\nstation_id = 'hall-2'\n", encoding="utf-8")
    monkeypatch.setenv(config.ENV_CONFIG, str(path))
    assert config.load().station.station_id == "hall-2"
    monkeypatch.delenv(config.ENV_CONFIG)
    assert config.load().station.station_id == "kiosk-01"
    assert config.load().data_dir == Path("kiosk-data") or config.load().data_dir


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read config file"):
        config.load_file(tmp_path / "nope.toml")
