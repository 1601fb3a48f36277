"""The source registry: every source cielo knows, by name. A new source adds one line here."""

from __future__ import annotations

from pydantic import BaseModel

from cielo.config import Settings
from cielo.sources.aemet import AemetConfig, AemetDailySource, AemetSource
from cielo.sources.base import SeriesSpec, Source, Window
from cielo.sources.csv import CsvConfig
from cielo.sources.openmeteo import OpenMeteoConfig, OpenMeteoSource
from cielo.sources.openweather import OpenWeatherConfig, OpenWeatherSource
from cielo.sources.ree import ReeConfig, ReeSource
from cielo.sources.skycam.source import SkycamSource

REGISTRY: dict[str, type[Source]] = {
    SkycamSource.name: SkycamSource,
    ReeSource.name: ReeSource,
    AemetSource.name: AemetSource,
    AemetDailySource.name: AemetDailySource,
    OpenWeatherSource.name: OpenWeatherSource,
    OpenMeteoSource.name: OpenMeteoSource,
}

# `[sources.<name>]` tables and the model that validates each.
CONFIGS: dict[str, type[BaseModel]] = {
    "ree": ReeConfig,
    "aemet": AemetConfig,
    "openweather": OpenWeatherConfig,
    "openmeteo": OpenMeteoConfig,
    "csv": CsvConfig,  # `cielo import-csv`, not a fetching source
}


def priorities(settings: Settings) -> dict[str, int]:
    """Configured priority of every source (higher wins a slot that two sources fill)."""
    out = {name: cls.priority(settings) for name, cls in REGISTRY.items()}
    out["csv"] = settings.source_config("csv", CsvConfig).priority
    return out


__all__ = ["CONFIGS", "REGISTRY", "SeriesSpec", "Source", "Window", "priorities"]
