"""What a run must fetch: the slots of [start, end) the store does not hold and the source has not recently
said do not exist, grouped into the source's request windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cielo.sources import registry
from cielo.sources.base import Source, Window
from cielo.store import Store
from cielo.timeutil import iso


@dataclass(frozen=True)
class Plan:
    source: str
    total: int
    present: int
    known_missing: int
    windows: list[Window]

    @property
    def requests(self) -> int:
        return len(self.windows)


def plan(source: Source, store: Store, start: datetime, end: datetime, now: datetime) -> Plan:
    series = source.primary.name
    slots = source.slots(start, end)
    # A slot held by a lower-priority source is still to fetch: this source's reading replaces it.
    store.set_priorities(registry.priorities(source.settings))
    present = store.present(series, start, end, source=source.name)
    # A slot is held only when every series the source serves at that cadence is: Open-Meteo must still fetch
    # the cloud cover of hours whose temperature AEMET holds (the answer's held values count as duplicates).
    for spec in source.series[1:]:
        if spec.cadence == source.primary.cadence and present:
            present &= store.present(spec.name, start, end, source=source.name)
    waiting = store.missing_not_due(series, start, end, now)
    todo = [ts for ts in slots if (key := iso(ts)) not in present and key not in waiting]
    held = sum(1 for ts in slots if iso(ts) in present)
    return Plan(source.name, len(slots), held, len(slots) - held - len(todo), source.windows(todo))
