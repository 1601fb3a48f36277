"""config.toml: found, parsed and validated once; every key has a default (docs/contract.md, Configuration).

A missing file means the defaults: the original system's public camera and a database in the working
directory. A bad key or value becomes one line, `config.toml: [section].key: reason`, exit 2.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from cielo.errors import ConfigError

# ./cielo.local.toml first: the checkout's own config (`./install.sh --local` writes it; git ignores it), so a
# run in a checkout never falls back to the template, config.toml, and the camera it names by default.
DEFAULT_PATHS = (Path("cielo.local.toml"), Path("/etc/cielo/config.toml"), Path("config.toml"))

# Secrets that systemd passes through an EnvironmentFile; the environment wins over the file. Sources add
# their own (a source's `secrets`), handed to load_settings by the registry.
SECRET_ENV = {("mqtt", "password"): "CIELO_MQTT_PASSWORD"}

# Where the board is when the configuration does not say: the seed system's camera site, Estación
# Astronómica Río Grande, Tierra del Fuego (Argentina).
DEFAULT_LATITUDE = -53.785
DEFAULT_LONGITUDE = -67.751


class Section(BaseModel):
    # inf/nan are never a sensible number of hours, bytes or degrees (`check_every_hours = inf` once crashed
    # the scheduler): refused like any other bad value.
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


def _check_tz(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Madrid')") from None
    return name


def _check_url(v: str) -> str:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{v!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{v!r} has a bad port") from None
    return v.rstrip("/")


class DeviceConfig(Section):
    id: str = Field("cielo", pattern=r"^[A-Za-z0-9_-]+$", description="names this board in MQTT topics")
    latitude: float = Field(DEFAULT_LATITUDE, ge=-90, le=90)
    longitude: float = Field(DEFAULT_LONGITUDE, ge=-180, le=180)
    timezone: str | None = Field(None, description="for command-line times; default: the camera's")

    _tz = field_validator("timezone")(_check_tz)


class StorageConfig(Section):
    database: Path = Path("cielo.db")
    # The camera's image keys: [skycam] is their home, and the camera reads them here when it does not set them
    # itself (the published contract names [storage] for images_dir and retention, so neither place warns).
    keep_images: bool = Field(False, description="alias: read by [skycam] when it does not set it")
    images_dir: Path = Field(Path("images"), description="alias: read by [skycam] when it does not set it")
    images_max_mb: float = Field(1000, ge=0, description="alias: read by [skycam] when it does not set it")
    images_max_days: float = Field(30, ge=0, description="alias: read by [skycam] when it does not set it")
    min_free_mb: float = Field(200, ge=0, description="alias: read by [skycam] when it does not set it")


class BackfillConfig(Section):
    on_startup: bool = True
    lookback_days: int = Field(30, ge=1, le=3660)
    # Bounded: `check_every_hours = 1e12` once validated and then crashed the scheduler (OverflowError) in a
    # restart loop; a year is more than anyone means.
    check_every_hours: float = Field(2, gt=0, le=8760, description="at most a year")
    min_gap_hours: float = Field(3, ge=0, le=8760, description="at most a year")
    workers: int = Field(2, ge=1, le=32)
    max_attempts: int = Field(3, ge=1, le=20, description="tries of a failing task before it stays failed")
    progress_minutes: float = Field(5, gt=0, le=1440, description="how often a running backfill job logs its "
                                    "progress and ETA (also at its start and end)")
    processes: int | None = Field(None, ge=0, le=16, description="alias: read by [skycam] when it does not set it")


class MqttConfig(Section):
    enabled: bool = False
    host: str = Field("localhost", min_length=1, pattern=r"^\S+$", description="the broker's name or address")
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = Field(None, description="CA bundle for tls; default: the system's")
    client_id: str | None = None
    topic_prefix: str = "cielo"
    qos: int = Field(1, ge=0, le=2)
    homeassistant_discovery: bool = True
    discovery_prefix: str = "homeassistant"
    outbox_max: int = Field(100_000, ge=100, description="messages kept while the broker is away")
    state_interval_s: float = Field(300, ge=1, description="how often the status summary is published")

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _topic_levels(cls, v: str) -> str:
        """A prefix is the first levels of a topic name: wildcards, NUL or an empty level would make every
        publication a protocol error, which kills the connection over and over (MQTT 3.1.1, 4.7)."""
        if any(c in v for c in "+#\0"):
            raise ValueError(f"{v!r}: a topic prefix may not contain '+', '#' or NUL")
        if not v or "" in v.split("/"):
            raise ValueError(f"{v!r}: a topic prefix needs non-empty levels (no leading, trailing or double '/')")
        return v


class AlpacaConfig(Section):
    """The ASCOM Alpaca server (cielo.outputs.alpaca): a SafetyMonitor and an ObservingConditions on the LAN."""

    enabled: bool = False
    bind: str = Field("0.0.0.0", description="address to listen on: 0.0.0.0 all IPv4, :: all IPv4 and IPv6")
    port: int = Field(11111, ge=1, le=65535)
    discovery_port: int = Field(32227, ge=0, le=65535, description="UDP Alpaca discovery; 0: none")
    location: str = Field("", max_length=200, description="shown to clients in the management description")

    @field_validator("bind")
    @classmethod
    def _address(cls, v: str) -> str:
        import ipaddress

        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an IP address (0.0.0.0, ::, 127.0.0.1, ...)") from None
        return v


class SafetyConfig(Section):
    """When the sky is safe for an open roof (cielo.safety): unsafe at once, safe slowly, closed on doubt."""

    unsafe_octas: int = Field(4, ge=1, le=8, description="a judged frame with this many octas or more is unsafe")
    safe_octas: int = Field(2, ge=0, le=7, description="frames at or below this count towards safe again")
    safe_after_min: float = Field(15, ge=0, le=720, description="minutes of clear frames before safe again")
    max_age_min: float | None = Field(None, gt=0, le=1440, description="unsafe when the newest frame is older; "
                                      "default: three camera cadences")
    daylight_safe: bool = Field(False, description="whether a sun above the horizon may be safe")
    uncertain_safe: bool = Field(False, description="judge frames flagged uncertain by their octas")
    dark_safe: bool = Field(False, description="frames flagged night/dark (not judged) keep the state instead "
                            "of making it unsafe")
    rain_unsafe: bool = Field(True, description="precipitation > 0 in the last hour (weather sources) is unsafe")

    @model_validator(mode="after")
    def _order(self) -> SafetyConfig:
        if self.safe_octas >= self.unsafe_octas:
            raise ValueError(f"safe_octas ({self.safe_octas}) must be below unsafe_octas ({self.unsafe_octas})")
        return self


class SourceConfig(Section):
    """Keys every weather/price source has; each source module subclasses it with its own defaults."""

    enabled: bool = True
    priority: int = Field(0, ge=0, le=1000, description="who wins a slot two sources fill: higher wins")
    timeout_s: float = Field(15.0, gt=0, le=300)
    retries: int = Field(3, ge=0, le=10)
    max_bytes: int = Field(5_000_000, ge=1024, description="larger answers are refused")
    requests_per_minute: float = Field(30, gt=0, description="shared by live jobs and backfill")
    workers: int = Field(2, ge=1, le=16, description="parallel requests during a backfill")
    minute: int = Field(15, ge=0, le=59, description="the minute past each hour (UTC) of the live job")


url_validator = _check_url  # for the source models' URL fields
check_tz = _check_tz


class Settings(Section):
    # Source tables (`[sources.<name>]`, and top-level ones such as the camera's) are validated by each
    # source's own model through table(), and unknown ones refused by check_tables; kept raw until then.
    model_config = ConfigDict(extra="allow", validate_default=True)

    device: DeviceConfig = Field(default_factory=DeviceConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    backfill: BackfillConfig = Field(default_factory=BackfillConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    alpaca: AlpacaConfig = Field(default_factory=AlpacaConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)

    path: Path | None = Field(None, exclude=True, description="the file these came from, if any")
    _tables: dict[tuple[str, ...], BaseModel] = PrivateAttr(default_factory=dict)
    _default_tz: str = PrivateAttr("UTC")

    def table(self, where: tuple[str, ...], model: type[BaseModel]) -> Any:
        """A source's table (`("skycam",)` or `("sources", "ree")`) validated by the source's own model, which
        resolves relative paths against the config file's folder (validation context `base`)."""
        if where not in self._tables:
            raw: Any = getattr(self, where[0]) if where[0] == "sources" else (self.model_extra or {}).get(where[0])
            for key in where[1:]:
                raw = raw.get(key) if isinstance(raw, dict) else raw
            base = self.path.parent if self.path is not None else None
            self._tables[where] = model.model_validate(raw or {}, context={"base": base})
        return self._tables[where]

    def source_config(self, name: str, model: type[BaseModel]) -> Any:
        """`[sources.<name>]` validated by its model."""
        return self.table(("sources", name), model)

    @model_validator(mode="after")
    def _relative_paths(self) -> Settings:
        """A relative path written in a config file is relative to that file, as its reader expects; a
        default one stays relative to the working directory (the database of a bare `cielo run`)."""
        if self.path is not None:
            base = self.path.parent
            storage = self.storage
            if "database" in storage.model_fields_set and not storage.database.is_absolute():
                storage.database = base / storage.database
            if "images_dir" in storage.model_fields_set and not storage.images_dir.is_absolute():
                storage.images_dir = base / storage.images_dir
            if self.mqtt.ca_file is not None and not self.mqtt.ca_file.is_absolute():
                self.mqtt.ca_file = base / self.mqtt.ca_file
        return self

    @property
    def device_tz(self) -> ZoneInfo:
        """`[device].timezone`, else the one the registry found in the sources (the camera's), else UTC."""
        return ZoneInfo(self.device.timezone or self._default_tz)

    def set_default_timezone(self, name: str) -> None:
        self._default_tz = name


def find_config(explicit: str | None) -> Path | None:
    """--config, else $CIELO_CONFIG, else ./cielo.local.toml, else /etc/cielo/config.toml, else ./config.toml,
    else none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CIELO_CONFIG")
    if env:
        return Path(env)
    return next((p for p in DEFAULT_PATHS if p.is_file()), None)


Tables = Mapping[tuple[str, ...], type[BaseModel]]


def load_settings(explicit: str | None = None, tables: Tables | None = None,
                  secrets: Mapping[tuple[str, ...], str] | None = None) -> Settings:
    """Read and validate the file. `tables` (from cielo.sources.registry) are the source tables it may hold,
    each validated by its model; `secrets` the source keys that may come from the environment."""
    path = find_config(explicit)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    _apply_secret_env(data, {**SECRET_ENV, **(secrets or {})})
    try:
        settings = Settings.model_validate({**data, "path": path.resolve() if path else None})
    except ValidationError as exc:
        raise ConfigError(_one_line(path, exc)) from None
    check_tables(settings, tables or {}, path)
    ca = settings.mqtt.ca_file
    if ca is not None and not ca.is_file():  # found at start, not when the publisher first connects
        raise ConfigError(f"{path.name if path else 'config.toml'}: [mqtt].ca_file: {ca}: no such file")
    return settings


def check_tables(settings: Settings, tables: Tables, path: Path | None = None) -> None:
    """Validate every source table with its model: unknown sources, keys and values stop here."""
    where = path.name if path else "config.toml"
    for key, table in (settings.model_extra or {}).items():
        if (key,) not in tables:
            raise ConfigError(f"{where}: [{key}]: unknown key")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{key}]: must be a table")
    known = [k[1] for k in tables if len(k) == 2]
    for name, table in settings.sources.items():
        if ("sources", name) not in tables:
            raise ConfigError(f"{where}: [sources.{name}]: unknown source (known: {', '.join(known)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [sources.{name}]: must be a table")
    for key, model in tables.items():
        try:
            settings.table(key, model)
        except ValidationError as exc:
            raise ConfigError(_one_line(path, exc, key)) from None


def _apply_secret_env(data: dict[str, Any], secrets: Mapping[tuple[str, ...], str]) -> None:
    for keys, var in secrets.items():
        value = os.environ.get(var)
        if not value:
            continue
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                break
        else:
            node[keys[-1]] = value


def _one_line(path: Path | None, exc: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    err = exc.errors()[0]
    loc = [*prefix, *(str(p) for p in err["loc"])]
    name = path.name if path else "config.toml"
    reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "sources":
        where = f"[sources.{loc[1]}]" + (f".{'.'.join(loc[2:])}" if len(loc) > 2 else "")
    elif len(loc) >= 2:
        where = f"[{loc[0]}].{'.'.join(loc[1:])}"
    else:
        where = f"[{loc[0]}]" if loc else "(top)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{name}: {where}: {reason}{more}"
