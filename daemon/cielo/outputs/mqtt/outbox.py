"""The outbox: MQTT messages written in the same transaction as what they announce.

A new reading becomes one message: on its series' live topic (retained) when it is the series' newest
reading, is not in the future and is fresh (within three cadences of now, or the series' own `live_within`:
daily values published days late); otherwise on `<series>/backfill`
(not retained). A future reading (tomorrow's prices) reaches the live topic when its time comes, through
`refresh_live`, which the daemon runs every minute. Every payload carries a stable `id`
(`<series>@<ts>`, `event#<n>`) so consumers can drop the repeats that at-least-once delivery allows.

The outbox is capped: past `cap` rows, retained live/state messages superseded by a newer one for the same
topic go first, then the oldest backfill messages; an `outbox_overflow` event says what was dropped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cielo.outputs.mqtt.topics import Topics
from cielo.store import Reading, Store, write_event
from cielo.store import outbox as rows
from cielo.timeutil import from_iso, iso

FRESH_CADENCES = 3


def reading_payload(series: str, ts: str, value: float | None, unit: str | None, source: str,
                    attrs: Mapping[str, Any]) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 3, not 3.0, whether the value comes from the model or back from SQLite
    body: dict[str, Any] = {"ts": ts, "value": value, "unit": unit}
    # attrs in key order: a reading read back from SQLite (refresh, republish) gives the very same text
    body.update((k, attrs[k]) for k in sorted(attrs) if k not in body)
    body.update(series=series, source=source, id=f"{series}@{ts}")
    return json.dumps(body, separators=(",", ":"))


class Announcer:
    """Plugged into the Store: writes outbox rows inside the store's transactions."""

    def __init__(self, topics: Topics, qos: int, cap: int, cadences: Mapping[str, timedelta],
                 live_within: Mapping[str, timedelta] | None = None):
        self.topics = topics
        self.qos = qos
        self.cap = cap
        self.cadences = dict(cadences)
        self.live_within = dict(live_within or {})  # series whose current value may be older (daily values)

    def _fresh(self, series: str, ts: datetime, now: datetime) -> bool:
        cadence = self.cadences.get(series, timedelta(hours=1))
        window = self.live_within.get(series) or max(cadence * FRESH_CADENCES, timedelta(minutes=30))
        return ts <= now and now - ts <= window

    def readings(self, cur: sqlite3.Cursor, new: Sequence[Reading], mode: str, now: datetime) -> None:
        stamp = iso(now)
        out = []
        by_series: dict[str, list[Reading]] = {}
        for r in new:
            by_series.setdefault(r.series, []).append(r)
        for series, group in by_series.items():
            group.sort(key=lambda r: r.ts)
            current = None
            if mode == "live":
                due = [r for r in group if self._fresh(series, r.ts, now)]
                mark = rows.live_mark(cur, series)
                if due and (mark is None or iso(due[-1].ts) > mark):
                    current = due[-1]
            for r in group:
                live = r is current
                topic = self.topics.live(series) if live else self.topics.backfill(series)
                payload = reading_payload(series, iso(r.ts), r.value, r.unit, r.source, r.attrs)
                out.append((topic, payload, int(live), self.qos, "live" if live else "backfill", stamp))
            if current is not None:
                rows.mark_live(cur, series, iso(current.ts))
        rows.add(cur, out)
        self._enforce_cap(cur, now)

    def event(self, cur: sqlite3.Cursor, ts: str, kind: str, level: str, source: str | None,
              data: dict[str, Any]) -> None:
        body = {"ts": ts, "kind": kind, "level": level, "source": source, **data, "id": f"event#{cur.lastrowid}"}
        rows.add(cur, [(self.topics.events, json.dumps(body, separators=(",", ":")), 0, self.qos, "event", ts)])

    def state(self, cur: sqlite3.Cursor, summary: dict[str, Any], now: datetime) -> None:
        rows.add(cur, [(self.topics.state, json.dumps(summary, separators=(",", ":")), 1, self.qos, "state",
                        iso(now))])
        self._enforce_cap(cur, now)

    def safety(self, cur: sqlite3.Cursor, verdict: dict[str, Any], now: datetime) -> None:
        """The sky-safety verdict (cielo.safety.watch), retained; superseded ones go first past the cap."""
        rows.add(cur, [(self.topics.safety, json.dumps(verdict, separators=(",", ":")), 1, self.qos, "state",
                        iso(now))])
        self._enforce_cap(cur, now)

    def discovery(self, cur: sqlite3.Cursor, messages: Sequence[tuple[str, str]], now: datetime) -> None:
        """Home Assistant discovery configs, retained."""
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.add(cur, [(topic, payload, 1, self.qos, "discovery", stamp) for topic, payload in messages])

    def _enforce_cap(self, cur: sqlite3.Cursor, now: datetime) -> None:
        superseded, oldest = rows.trim(cur, self.cap)
        if superseded or oldest:
            data = {"cap": self.cap, "superseded_live": superseded, "dropped_backfill": oldest}
            write_event(cur, iso(now), "outbox_overflow", data, "warning", None, self)


def refresh_live(store: Store, announcer: Announcer, now: datetime) -> int:
    """Publish each series' current reading on its live topic when it changed (e.g. the price of the hour
    that just began, stored yesterday evening). Returns how many were queued."""

    def work(cur: sqlite3.Cursor) -> int:
        queued = 0
        for series in announcer.cadences:
            row = rows.newest_until(cur, series, iso(now))
            if row is None or not announcer._fresh(series, from_iso(row[0]), now):
                continue
            mark = rows.live_mark(cur, series)
            if mark is not None and mark >= row[0]:
                continue
            payload = reading_payload(series, row[0], row[1], row[2], row[3], json.loads(row[4]))
            rows.add(cur, [(announcer.topics.live(series), payload, 1, announcer.qos, "live", iso(now))])
            rows.mark_live(cur, series, row[0])
            queued += 1
        return queued

    return store.transaction(work)


def republish_live(store: Store, announcer: Announcer, now: datetime) -> int:
    """Queue again, retained, what each live topic last carried: for a broker that lost its retained
    messages (restarted without persistence), so Home Assistant does not show `unknown` until each series'
    next live run (an hour for weather). Returns how many were queued."""

    def work(cur: sqlite3.Cursor) -> int:
        out = [(announcer.topics.live(series), reading_payload(series, ts, value, unit, source, json.loads(attrs)),
                1, announcer.qos, "live", iso(now))
               for series, ts, value, unit, source, attrs in rows.live_readings(cur) if series in announcer.cadences]
        rows.add(cur, out)
        return len(out)

    return store.transaction(work)

