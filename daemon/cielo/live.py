"""Live runs: each source's newest data, once, now (`cielo ingest` and the daemon's jobs both come here).

The path reads as what it is: the source's live range → plan (skip what is stored) → fetch each window on
this thread → Writer (parse, store, and the outbox messages in the same transaction) → the daemon's
publisher sends them. Only a backfill needs a pool.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import Any

from cielo.backfill.replay import Summary, Writer, plan
from cielo.health.sources import record_live
from cielo.sources.base import Source, Window
from cielo.store import Store
from cielo.timeutil import iso


def capture(source: Source, store: Store, now: datetime) -> tuple[Summary, str]:
    """Run the source's live range through fetch → parse → store; returns the summary and one line saying
    what happened (the value stored, a flag, or why it failed)."""
    start, end = source.live_range(now)
    p = plan(source, store, start, end, now)
    summary = Summary.of(p)
    # The line below carries the error: one line per failed run, not a warning as well.
    writer = Writer(source, store, summary, now, "live", log_failures=False)
    try:
        for window in p.windows:
            writer.take(window, _fetch(source, window, now))
    finally:
        writer.flush()
        source.finish(store)
    line = describe(source, store, summary, start, end)
    # `cielo status` and Home Assistant's problem sensor show a source that keeps failing (cielo.health.sources).
    record_live(store, source.name, bool(summary.failed and not summary.new), summary.last_error or line, now)
    if summary.failed and not summary.new:
        # Recorded, not just logged: `cielo status` and the MQTT events read this table.
        store.add_event("live_failed", {"start": iso(start), "error": line}, level="warning", source=source.name)
    return summary, line


def _fetch(source: Source, window: Window, now: datetime) -> Future[Any]:
    done: Future[Any] = Future()
    try:
        done.set_result(source.fetch(window, now))
    except Exception as exc:  # the writer sorts fetch errors from bugs
        done.set_exception(exc)
    return done


def describe(source: Source, store: Store, summary: Summary, start: datetime, end: datetime) -> str:
    series = source.primary.name
    stamp = f"{source.name} {iso(start)}"
    if summary.new:
        r = store.latest(series, start, end)
        assert r is not None
        more = f" ({summary.new} new)" if summary.new > 1 else ""
        if r.flag or r.value is None:
            return f"{source.name} {r.ts}: {r.flag or 'no value'}{more}"
        name = series.rsplit(".", 1)[-1]
        unit_text = "" if r.unit in (None, name) else f" {r.unit}"
        conf = "" if r.confidence is None else f" confidence={r.confidence:.2f}"
        return f"{source.name} {r.ts}: {name}={r.value:g}{unit_text}{conf}{more}"
    if summary.duplicates and not summary.failed:
        return f"{stamp}: already stored"
    if summary.failed:
        return f"{stamp}: failed: {summary.last_error or ', '.join(summary.reasons)}"
    return f"{stamp}: nothing to fetch"
