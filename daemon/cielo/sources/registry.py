"""Every source cielo knows. Adding one is a module (or folder) under sources/ and one line in SOURCES;
nothing outside sources/ names a source: the CLI, the daemon, MQTT discovery and the config validation
all ask this module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from cielo import config
from cielo.config import Settings
from cielo.sources.aemet import AemetDailySource, AemetSource
from cielo.sources.base import SeriesSpec, Source
from cielo.sources.csv import SOURCE as CSV
from cielo.sources.csv import CsvConfig
from cielo.sources.openmeteo import OpenMeteoSource
from cielo.sources.openweather import OpenWeatherSource
from cielo.sources.ree import ReeSource
from cielo.sources.ree_demand import ReeDemandSource
from cielo.sources.skycam.source import SkycamSource

SOURCES: tuple[type[Source], ...] = (
    SkycamSource,
    ReeSource,
    ReeDemandSource,
    AemetSource,
    AemetDailySource,
    OpenWeatherSource,
    OpenMeteoSource,
)
REGISTRY: dict[str, type[Source]] = {cls.name: cls for cls in SOURCES}


def tables() -> dict[tuple[str, ...], type[BaseModel]]:
    """Every source table config.toml may hold, with the model that validates it."""
    return {cls.where(): cls.config_model for cls in SOURCES} | {("sources", CSV): CsvConfig}


def load_settings(explicit: str | None = None) -> Settings:
    """config.toml validated with every source's table; the device time zone defaults to a source's own."""
    secrets = {(*cls.where(), key): var for cls in SOURCES for key, var in cls.secrets}
    return check(config.load_settings(explicit, tables(), secrets))


def check(settings: Settings) -> Settings:
    """Validate settings made in code (tests, benches) as load_settings does a file's."""
    config.check_tables(settings, tables(), settings.path)
    for cls in SOURCES:
        if cls.extras.timezone is not None and (tz := cls.extras.timezone(settings)):
            settings.set_default_timezone(tz)
            break
    return settings


def priorities(settings: Settings) -> dict[str, int]:
    """Configured priority of every source (higher wins a slot that two sources fill)."""
    out = {name: cls.priority(settings) for name, cls in REGISTRY.items()}
    out[CSV] = settings.source_config(CSV, CsvConfig).priority
    return out


@dataclass(frozen=True, slots=True)
class Declared:
    spec: SeriesSpec
    source: str  # the first source (in SOURCES order) that fills it and is enabled, else the first at all
    enabled: bool


def series(settings: Settings) -> list[Declared]:
    """Each series once, however many sources fill it (weather comes from three)."""
    out: dict[str, Declared] = {}
    for cls in SOURCES:
        on = cls.enabled(settings)
        for spec in cls.declared_series(settings):
            held = out.get(spec.name)
            if held is None or (on and not held.enabled):
                out[spec.name] = Declared(spec, cls.name, on)
    return list(out.values())


def command_modules() -> Iterator[str]:
    """Modules that add CLI commands of a source's own (the camera's classify and calibrate, import-csv)."""
    yield from dict.fromkeys(cls.extras.commands for cls in SOURCES if cls.extras.commands)
    yield "cielo.sources.csv_commands"


def select(names: list[str] | None, settings: Settings, command: str) -> list[str]:
    """The sources a command names (repeatable, comma-separated), each known and enabled; none named: every
    enabled source. A bad name is a usage error naming the command."""
    from cielo.errors import UsageError

    if not names:
        enabled = [n for n, cls in REGISTRY.items() if cls.enabled(settings)]
        if not enabled:
            raise UsageError(f"{command}: every source is disabled in the configuration")
        return enabled
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    for name in wanted:
        if name not in REGISTRY:
            raise UsageError(f"{command}: unknown source {name!r} (known: {', '.join(REGISTRY)})")
        if not REGISTRY[name].enabled(settings):
            raise UsageError(f"{command}: source {name!r} is disabled in the configuration")
    return list(dict.fromkeys(wanted))


def preflight(settings: Settings) -> None:
    """The checks of every enabled source that has some, before the daemon starts (raise ConfigError)."""
    for cls in SOURCES:
        if cls.extras.preflight is not None:
            cls.extras.preflight(settings)


def doctor_lines(settings: Settings) -> Iterator[tuple[bool, str]]:
    """The extra `cielo doctor` lines of the enabled sources that bring some (the camera's model)."""
    for cls in SOURCES:
        if cls.enabled(settings) and cls.extras.doctor is not None:
            yield from cls.extras.doctor(settings)


def maintenance(cls: type[Source], settings: Settings) -> tuple[dict, tuple[str, ...]] | None:
    """A source's periodic upkeep command, if it declares one and wants it now."""
    return cls.extras.maintenance(settings) if cls.extras.maintenance is not None else None
