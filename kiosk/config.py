"""One TOML file -> frozen dataclasses, with every default in this module.

Why one module: a threshold or a path that lives in two places drifts. Each
section is a frozen dataclass; each setting has a default, a type and (where it
matters) a range, and a comment that says where the default comes from. The
loader checks the TOML against those types so a typo or a wrong value is a
clear error naming the key (``quality.eye_open_min: expected a number ...``),
not a crash at the first student of the day.

Where the config comes from, first match wins: ``--config FILE``, the
``KIOSK_CONFIG`` environment variable, else the embedded defaults below. The
data folder likewise: ``--data DIR``, ``KIOSK_DATA``, ``data_dir`` in the file,
else ``./kiosk-data``.

Sections are added by the module that owns the behaviour (quality, scanner,
sync ...): add a dataclass here and a field on :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ENV_CONFIG = "KIOSK_CONFIG"
ENV_DATA = "KIOSK_DATA"
DEFAULT_DATA_DIR = Path("kiosk-data")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and the fix."""


def setting(default: Any, *, min: float | None = None, max: float | None = None) -> Any:
    """A dataclass field with an optional numeric range checked by the loader."""
    meta = {"min": min, "max": max}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for list settings so the config stays frozen")
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class StationConfig:
    """Who this kiosk is and how it talks to the crew."""

    # Identity of this kiosk towards the central receiver and in file names.
    station_id: str = "kiosk-01"
    # Crew-facing language; the student screen is always Chinese.
    crew_language: Literal["zh", "en"] = "zh"
    # Crew PIN needed to leave the kiosk (digits only).
    crew_pin: str = "0000"


@dataclass(frozen=True)
class RosterConfig:
    """Roster import rules."""

    # Rows in a file above which a progress bar is drawn on a terminal.
    progress_threshold: int = setting(2000, min=0)
    # Accept birth years from this year on (older ID numbers are typos).
    min_birth_year: int = setting(1900, min=1800, max=2100)


@dataclass(frozen=True)
class ExportConfig:
    """The delivery package (``kiosk export``): photo names, proof sheets."""

    # Photo file name in photos/; placeholders {身份证号} {学号} {采集码} {姓名}
    # {拍摄序号} {院校代码}. Default: the notice's workflow names photos by ID number.
    file_name: str = "{身份证号}.jpg"
    # Lines under each proof photo, top to bottom. Default: the notice's five.
    # Also: 院校代码 性别 学历 专业名称 院系 类型 采集码.
    captions: tuple[str, ...] = ("学校名称", "学生姓名", "学号", "身份证号码", "拍摄序号")
    # Print 身份证号码 on the proofs with its middle hidden (620102********1234),
    # e.g. for sheets pinned up in public. Off: the school checks the full number.
    mask_id_number: bool = False
    # Characters left visible at the start / end of a masked number: the usual
    # Chinese masking keeps the 6-digit region code and the last 4.
    mask_keep_start: int = setting(6, min=0, max=17)
    mask_keep_end: int = setting(4, min=0, max=17)
    # Photos per proof page. 5 x 4 on A4 prints each photo about 34 x 45 mm
    # (larger than the 2-inch print) with 7 pt captions: readable, 20 per page.
    columns: int = setting(5, min=1, max=12)
    rows: int = setting(4, min=1, max=12)
    paper: Literal["A4", "A3"] = "A4"
    # Width in pixels of the copies printed on the proofs: 240 px over 34 mm is
    # about 180 dpi (eyes clearly visible) and half of 480, which the JPEG
    # decoder produces directly (DCT scaling), so it is the fastest size too.
    proof_photo_width: int = setting(240, min=60, max=480)
    # JPEG quality of those copies: 75 keeps a 5,000-student proofs.pdf ~75 MB.
    proof_jpeg_quality: int = setting(75, min=30, max=95)
    # The official photo size (w, h) from the registry's rules; a stored photo
    # of another size stops the export instead of being delivered.
    photo_size: tuple[int, int] = (480, 640)
    # Local time of the shooting sites for dates on the proofs and sheets:
    # China Standard Time is UTC+8 all year (no daylight saving).
    utc_offset_hours: float = setting(8.0, min=-12, max=14)
    # Threads that read, check and shrink photos; 0 = one per CPU core.
    workers: int = setting(0, min=0, max=32)
    # CJK font for the proofs; "" = the installed one (kiosk/fonts.py), or a
    # path, with "#N" for face N of a .ttc collection.
    font: str = ""

    def __post_init__(self) -> None:
        # The vocabulary lives with the export; checked here so a typo is an
        # error at start that names the setting.
        from kiosk.export import fields, proofs

        try:
            fields.check_file_name_template(self.file_name)
        except ValueError as exc:
            raise ConfigError(f"export.file_name: {exc}") from exc
        try:
            fields.check_captions(self.captions)
        except ValueError as exc:
            raise ConfigError(f"export.captions: {exc}") from exc
        try:
            proofs.layout(self.paper, self.columns, self.rows, len(self.captions))
        except ValueError as exc:
            raise ConfigError(f"export.columns / export.rows: {exc}") from exc


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``source`` says where it was read from."""

    data_dir: Path = DEFAULT_DATA_DIR
    station: StationConfig = field(default_factory=StationConfig)
    roster: RosterConfig = field(default_factory=RosterConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    source: str = "defaults"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kiosk.db"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    def with_data_dir(self, data_dir: Path | str) -> Config:
        return dataclasses.replace(self, data_dir=Path(data_dir))


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load(path: Path | str | None = None, data_dir: Path | str | None = None) -> Config:
    """Read the config the way every ``kiosk`` command does.

    ``path`` and ``data_dir`` are the command-line values (``None`` when not
    given); the environment fills in what they leave open.
    """
    if path is None and os.environ.get(ENV_CONFIG):
        path = os.environ[ENV_CONFIG]
    config = Config() if path is None else load_file(Path(path))
    if data_dir is None and os.environ.get(ENV_DATA):
        data_dir = os.environ[ENV_DATA]
    if data_dir is not None:
        config = config.with_data_dir(data_dir)
    return config


def load_file(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text; save the config as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    config = from_dict(table, source=str(path))
    if not config.data_dir.is_absolute() and "data_dir" in table:
        # A relative data_dir in a file means relative to that file, so a
        # config works the same from any working directory.
        config = config.with_data_dir(path.parent / config.data_dir)
    return config


def from_dict(table: dict[str, Any], source: str = "dict") -> Config:
    values = _build(Config, table, prefix="")
    return dataclasses.replace(values, source=source)


def _build(cls: type, table: Any, prefix: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a table of settings")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        known = ", ".join(prefix + name for name in fields)
        raise ConfigError(f"unknown setting {prefix}{unknown[0]} (known here: {known})")
    kwargs = {}
    for name, value in table.items():
        key = prefix + name
        kwargs[name] = _coerce(hints[name], value, key, fields[name].metadata)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, key: str, meta: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, prefix=key + ".")
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, choices))}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, key, meta)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {_kind(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]", {}) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected a list of {len(args)} values, got {len(value)}")
        return tuple(
            _coerce(a, v, f"{key}[{i}]", {})
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {_kind(value)}")
        return _check_range(value, key, meta)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {_kind(value)}")
        return _check_range(float(value), key, meta)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text in quotes, got {_kind(value)}")
        return value
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a path in quotes, got {_kind(value)}")
        return Path(value).expanduser()
    raise ConfigError(f"{key}: unsupported setting type {hint!r}")  # a bug in this module


def _check_range(value: float, key: str, meta: Any) -> Any:
    low, high = (meta or {}).get("min"), (meta or {}).get("max")
    if low is not None and value < low:
        raise ConfigError(f"{key}: {value} is below the minimum {low}")
    if high is not None and value > high:
        raise ConfigError(f"{key}: {value} is above the maximum {high}")
    return value


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def defaults_as_toml() -> str:
    """The embedded defaults as a TOML document (``kiosk config --defaults``)."""
    lines: list[str] = []

    def emit(obj: Any, section: str) -> None:
        nested = []
        for f in dataclasses.fields(obj):
            if f.name == "source":
                continue
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                nested.append((f.name, value))
                continue
            if value is None:
                lines.append(f"# {f.name} = (not set)")
            else:
                lines.append(f"{f.name} = {_toml_value(value)}")
        for name, value in nested:
            lines.append("")
            lines.append(f"[{section}{name}]")
            emit(value, f"{section}{name}.")

    emit(Config(), "")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        return _toml_value(str(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
