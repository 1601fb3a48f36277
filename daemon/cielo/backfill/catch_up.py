"""The daemon's catch-up: the gaps of every enabled series over the lookback window, queued as one job."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from cielo.backfill import gaps
from cielo.backfill.jobs import create
from cielo.sources.base import SeriesSpec, Source
from cielo.sources.registry import priorities
from cielo.store import Store
from cielo.store import jobs as rows
from cielo.timeutil import iso

log = logging.getLogger("cielo")


def catch_up(store: Store, sources: dict[str, Source], trigger: str, lookback: timedelta, now: datetime,
             min_lag: timedelta | None = None) -> int | None:
    """Find the gaps of every enabled series over `lookback` and queue one job to fill them.

    Each gap goes to the sources of its series in priority order, each taking the part its history window
    still serves (AEMET the last day, then Open-Meteo's forecast and archive); a part no source can serve is
    said once, as an event. With `min_lag`, act only when some series' newest reading is older than that
    (the periodic check). No job when nothing is missing, or while an automatic job is still open."""
    if not sources or rows.automatic_open(store):
        return None
    rank = priorities(next(iter(sources.values())).settings)
    # Every series a source serves, not only its primary: a cloud-cover hole under hours whose temperature
    # another source holds is a gap Open-Meteo fills.
    by_series: dict[str, tuple[SeriesSpec, list[Source]]] = {}
    for source in sources.values():
        if source.history == timedelta(0):
            continue  # live only (OpenWeatherMap): its live job is all it can do
        for spec in source.series:
            by_series.setdefault(spec.name, (spec, []))[1].append(source)
    start = now - lookback
    ranges: dict[str, list[tuple[datetime, datetime]]] = {}
    unserved: list[dict[str, str]] = []
    lagging = min_lag is None
    for series, (spec, group) in by_series.items():
        group.sort(key=lambda s: -rank.get(s.config_name or s.name, rank.get(s.name, 0)))
        limit = group[0].catch_up_limit  # a source may ask the catch-up to reach back less far (a public server)
        found = gaps.analyse(store, group[0], spec, max(start, now - limit) if limit else start, now)
        if found.lag is None or min_lag is None or found.lag > min_lag:
            lagging = True
        for gap in found.gaps:
            left = (gap.start, gap.end + timedelta(seconds=1))
            for source in group:
                span = source.serves(*left, now)
                if span is None:
                    continue
                ranges.setdefault(source.name, []).append(span)
                left = (left[0], span[0])
                if left[0] >= left[1]:
                    break
            else:
                if left[0] < left[1] and source.slots(*left):
                    unserved.append({"series": series, "from": iso(left[0]), "to": iso(left[1])})
    if unserved:
        seen = {json.dumps(u, sort_keys=True) for data in store.events_of("gap_unservable")
                for u in data.get("ranges", [])}
        fresh = [u for u in unserved if json.dumps(u, sort_keys=True) not in seen]
        if fresh:
            log.warning("catch-up: %d gap(s) no enabled source can serve (e.g. %s %s → %s)", len(fresh),
                        fresh[0]["series"], fresh[0]["from"], fresh[0]["to"])
            store.add_event("gap_unservable", {"ranges": fresh}, level="warning")
    if not ranges or not lagging:
        return None
    ranges = {name: _union(spans) for name, spans in ranges.items()}  # several series' gaps overlap
    job, _ = create(store, trigger, ranges, sources, start, now)
    store.add_event("backfill_started", {"job": job, "trigger": trigger, "from": iso(start), "to": iso(now),
                                         "sources": sorted(ranges)})
    log.info("catch-up: job %d queued for %s", job, ", ".join(f"{n} ({len(r)} gaps)" for n, r in ranges.items()))
    return job


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
