"""The latest state, as every output reads it: each enabled series' newest reading, and the status summary
(`cielo status`, the MQTT state topic). Outputs ask this, not the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cielo.config import Settings
from cielo.sources import registry
from cielo.store import Latest, Store


class LatestState:
    def __init__(self, settings: Settings, store: Store):
        self.settings, self.store = settings, store

    def readings(self) -> dict[str, Latest]:
        """series -> its newest stored reading, for each series of the enabled sources that has one."""
        out = {}
        for declared in registry.series(self.settings):
            if declared.enabled and (r := self.store.latest(declared.spec.name)) is not None:
                out[declared.spec.name] = r
        return out

    def reading(self, series: str) -> Latest | None:
        return self.store.latest(series)

    def status(self, now: datetime) -> dict[str, Any]:
        """The summary `cielo status --json` prints: series and lags, jobs, outbox, breakers, broker."""
        from cielo.health import status

        return status.summary(self.settings, self.store, now)
