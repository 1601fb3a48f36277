"""The source registry: every source cielo knows, by name. A new source adds one line here."""

from __future__ import annotations

from cielo.sources.base import SeriesSpec, Source, Window
from cielo.sources.skycam import SkycamSource

REGISTRY: dict[str, type[Source]] = {
    SkycamSource.name: SkycamSource,
}

__all__ = ["REGISTRY", "SeriesSpec", "Source", "Window"]
