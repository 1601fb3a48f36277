"""Live runs: each source's newest data, once, now. `cielo ingest` and the daemon's jobs both come here."""

from __future__ import annotations

import logging
from datetime import datetime

from cielo.backfill import replay
from cielo.sources.base import Source
from cielo.store import Store
from cielo.timeutil import iso

log = logging.getLogger("cielo")


def ingest(source: Source, store: Store, now: datetime) -> tuple[replay.Summary, str]:
    """Run the source's live range through fetch → parse → store; returns the summary and one line saying
    what happened (the value stored, a flag, or why it failed)."""
    start, end = source.live_range(now)
    # The line below carries the error: one line per failed run, not a warning as well.
    summary = replay.run(source, store, start, end, workers=1, now=now, mode="live", log_failures=False)
    line = describe(source, store, summary, start, end)
    if summary.failed and not summary.new:
        # Recorded, not just logged: `cielo status` and the MQTT events read this table.
        store.add_event("live_failed", {"start": iso(start), "error": line}, level="warning", source=source.name)
    return summary, line


def describe(source: Source, store: Store, summary: replay.Summary, start: datetime, end: datetime) -> str:
    series = source.primary.name
    stamp = f"{source.name} {iso(start)}"
    if summary.new:
        ts, value, unit, flag, confidence = store.query(
            "SELECT ts, value, unit, json_extract(attrs, '$.flag'), json_extract(attrs, '$.confidence')"
            " FROM readings WHERE series = ? AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT 1",
            (series, iso(start), iso(end)),
        )[0]
        more = f" ({summary.new} new)" if summary.new > 1 else ""
        if flag or value is None:
            return f"{source.name} {ts}: {flag or 'no value'}{more}"
        name = series.rsplit(".", 1)[-1]
        unit_text = "" if unit in (None, name) else f" {unit}"
        conf = "" if confidence is None else f" confidence={confidence:.2f}"
        return f"{source.name} {ts}: {name}={value:g}{unit_text}{conf}{more}"
    if summary.duplicates and not summary.failed:
        return f"{stamp}: already stored"
    if summary.failed:
        return f"{stamp}: failed: {summary.last_error or ', '.join(summary.reasons)}"
    return f"{stamp}: nothing to fetch"
