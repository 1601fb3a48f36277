"""What several commands assemble the same way: the store with its MQTT outbox, the known series."""

from __future__ import annotations

from datetime import timedelta

from cielo.config import Settings
from cielo.sources.registry import REGISTRY
from cielo.store import Store


def series_cadences(settings: Settings) -> dict[str, timedelta]:
    """Every series of the enabled sources, with its cadence."""
    return {s.name: s.cadence for cls in REGISTRY.values() if cls.enabled(settings)
            for s in cls.declared_series(settings)}


def live_windows(settings: Settings) -> dict[str, timedelta]:
    """Series of the enabled sources whose readings stay current longer than three cadences (daily values)."""
    return {s.name: s.live_within for cls in REGISTRY.values() if cls.enabled(settings) for s in cls.series
            if s.live_within is not None}


def announcer(settings: Settings):
    """The outbox writer when MQTT is on; None keeps no outbox at all."""
    if not settings.mqtt.enabled:
        return None
    from cielo.outputs.mqtt.outbox import Announcer
    from cielo.outputs.mqtt.topics import Topics

    return Announcer(Topics(settings.mqtt.topic_prefix, settings.device.id), settings.mqtt.qos,
                     settings.mqtt.outbox_max, series_cadences(settings), live_windows(settings))


def open_store(settings: Settings) -> Store:
    return Store(settings.storage.database, announcer(settings))
