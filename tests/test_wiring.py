"""Where the parts are put together: the station builder, the sync client, the sample people."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kiosk.config import Config
from kiosk.sample import sample_rows, sample_students
from kiosk.sync.client import SetupProblem, client_for


def test_sample_students_carry_the_rows_fields_by_name():
    row = sample_rows(3, seed=11)[2]
    student = sample_students(3, seed=11)[2]
    assert (student.school_name, student.school_code, student.student_number) == tuple(row[1:4])
    assert (student.name, student.sex, student.id_number) == tuple(row[4:7])
    assert (student.major, student.department, student.category) == tuple(row[8:11])


def _sync(config: Config, **changes: object) -> Config:
    return dataclasses.replace(config, sync=dataclasses.replace(config.sync, **changes))


def test_client_for_says_what_is_missing(tmp_path: Path):
    config = Config().with_data_dir(tmp_path)
    with pytest.raises(SetupProblem, match=r"sync\.server_url"):
        client_for(config)
    config = _sync(config, server_url="https://127.0.0.1:9", token_file=tmp_path / "absent")
    with pytest.raises(SetupProblem, match=r"sync\.token_file"):
        client_for(config)
    bad_id = dataclasses.replace(
        config, station=dataclasses.replace(config.station, station_id="kiosk 1/")
    )
    with pytest.raises(SetupProblem, match="station_id"):
        client_for(bad_id, token="t")
    (tmp_path / "token").write_text("secret\n", encoding="utf-8")
    client = client_for(_sync(config, token_file=tmp_path / "token"))
    try:
        assert client.http.headers["Authorization"] == "Bearer secret"
    finally:
        client.close()
    with pytest.raises(SetupProblem, match="plain http"):
        client_for(config, server="http://127.0.0.1:9", token="t")


def test_build_station_takes_every_part_from_the_config(tmp_path: Path):
    from kiosk import idnumber
    from kiosk.app import build_station
    from kiosk.capture.sim import SimCamera
    from kiosk.judge import Quality
    from kiosk.scanner.base import Scan
    from kiosk.scanner.parse import Identifier

    config = Config().with_data_dir(tmp_path)
    config = dataclasses.replace(
        config,
        camera=dataclasses.replace(config.camera, backend="sim"),
        roster=dataclasses.replace(config.roster, min_birth_year=2030),
    )
    quality = Quality(object(), lambda rgb, a: b"", lambda w, h: None)  # type: ignore[arg-type]
    app = build_station(config, scanners=[], quality=quality, headless=True)
    assert isinstance(app.camera, SimCamera)
    # The identifier applies the roster's birth-year floor: a 2001 birth date is not an ID.
    first17 = "11010120010101123"
    number = (first17 + idnumber.check_character(first17)).encode()
    assert Identifier(config.scanner).identify(Scan(number, "test")).kind == "id_number"
    assert app.records.identify(Scan(number, "test")).kind != "id_number"
