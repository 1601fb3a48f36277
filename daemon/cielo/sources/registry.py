"""Every source cielo knows. Adding one is a module (or folder) under sources/ and one line in _CLASSES;
nothing outside sources/ names a source: the CLI, the daemon, MQTT discovery and the config validation
all ask this module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from cielo.config import Settings
    from cielo.sources.base import SeriesSpec, Source

# Each source's class, by module and name, in SOURCES order. They are imported on first use of SOURCES or
# REGISTRY, not with this module: `cielo --help` and `--version` need none of them (nor pydantic).
_CLASSES = (
    ("cielo.sources.skycam.source", "SkycamSource"),
    ("cielo.sources.ree", "ReeSource"),
    ("cielo.sources.ree_demand", "ReeDemandSource"),
    ("cielo.sources.aemet", "AemetSource"),
    ("cielo.sources.aemet", "AemetDailySource"),
    ("cielo.sources.openweather", "OpenWeatherSource"),
    ("cielo.sources.openmeteo", "OpenMeteoSource"),
)
# The modules that add CLI commands of a source's own (each source's `extras.commands`, and import-csv): the
# parser is built from these without importing the sources (tests/sources/test_common.py checks the list).
COMMAND_MODULES = ("cielo.sources.skycam.commands", "cielo.sources.csv_commands")
CSV = "csv"  # the importer's `[sources.csv]` table (cielo.sources.csv.SOURCE)

SOURCES: tuple[type[Source], ...]
REGISTRY: dict[str, type[Source]]


def _load() -> tuple[type[Source], ...]:
    sources = tuple(getattr(import_module(module), name) for module, name in _CLASSES)
    globals().update(SOURCES=sources, REGISTRY={cls.name: cls for cls in sources})
    return sources


def __getattr__(name: str) -> Any:
    """SOURCES and REGISTRY, imported on first use."""
    if name in ("SOURCES", "REGISTRY"):
        _load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sources() -> tuple[type[Source], ...]:
    return globals().get("SOURCES") or _load()


def _registry() -> dict[str, type[Source]]:
    _sources()
    return globals()["REGISTRY"]


def _csv_config() -> type[BaseModel]:
    from cielo.sources.csv import CsvConfig

    return CsvConfig


def tables() -> dict[tuple[str, ...], type[BaseModel]]:
    """Every source table config.toml may hold, with the model that validates it."""
    return {cls.where(): cls.config_model for cls in _sources()} | {("sources", CSV): _csv_config()}


def load_settings(explicit: str | None = None) -> Settings:
    """config.toml validated with every source's table; the device time zone defaults to a source's own."""
    from cielo import config

    secrets = {(*cls.where(), key): var for cls in _sources() for key, var in cls.secrets}
    return check(config.load_settings(explicit, tables(), secrets))


def check(settings: Settings) -> Settings:
    """Validate settings made in code (tests, benches) as load_settings does a file's."""
    from cielo import config

    config.check_tables(settings, tables(), settings.path)
    for cls in _sources():
        if cls.extras.timezone is not None and (tz := cls.extras.timezone(settings)):
            settings.set_default_timezone(tz)
            break
    return settings


def priorities(settings: Settings) -> dict[str, int]:
    """Configured priority of every source (higher wins a slot that two sources fill)."""
    out = {name: cls.priority(settings) for name, cls in _registry().items()}
    out[CSV] = settings.source_config(CSV, _csv_config()).priority
    return out


@dataclass(frozen=True, slots=True)
class Declared:
    spec: SeriesSpec
    source: str  # the first source (in SOURCES order) that fills it and is enabled, else the first at all
    enabled: bool


def series(settings: Settings) -> list[Declared]:
    """Each series once, however many sources fill it (weather comes from three)."""
    out: dict[str, Declared] = {}
    for cls in _sources():
        on = cls.enabled(settings)
        for spec in cls.declared_series(settings):
            held = out.get(spec.name)
            if held is None or (on and not held.enabled):
                out[spec.name] = Declared(spec, cls.name, on)
    return list(out.values())


def command_modules() -> Iterator[str]:
    """Modules that add CLI commands of a source's own (the camera's classify and calibrate, import-csv)."""
    yield from COMMAND_MODULES


def select(names: list[str] | None, settings: Settings, command: str) -> list[str]:
    """The sources a command names (repeatable, comma-separated), each known and enabled; none named: every
    enabled source. A bad name is a usage error naming the command."""
    from cielo.errors import UsageError

    registry = _registry()
    if not names:
        enabled = [n for n, cls in registry.items() if cls.enabled(settings)]
        if not enabled:
            raise UsageError(f"{command}: every source is disabled in the configuration")
        return enabled
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    for name in wanted:
        if name not in registry:
            raise UsageError(f"{command}: unknown source {name!r} (known: {', '.join(registry)})")
        if not registry[name].enabled(settings):
            raise UsageError(f"{command}: source {name!r} is disabled in the configuration")
    return list(dict.fromkeys(wanted))


def preflight(settings: Settings) -> None:
    """The checks of every enabled source that has some, before the daemon starts (raise ConfigError)."""
    for cls in _sources():
        if cls.extras.preflight is not None:
            cls.extras.preflight(settings)


def doctor_lines(settings: Settings) -> Iterator[tuple[bool, str]]:
    """The extra `cielo doctor` lines of the enabled sources that bring some (the camera's model)."""
    for cls in _sources():
        if cls.enabled(settings) and cls.extras.doctor is not None:
            yield from cls.extras.doctor(settings)


def maintenance(cls: type[Source], settings: Settings) -> tuple[dict, tuple[str, ...]] | None:
    """A source's periodic upkeep command, if it declares one and wants it now."""
    return cls.extras.maintenance(settings) if cls.extras.maintenance is not None else None
