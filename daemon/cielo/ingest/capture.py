"""A live capture: each source's newest data, once, now (`cielo ingest`, which the daemon's scheduled live
jobs run as a child process). The source's live range goes through the engine (`fill`, mode "live": fetched
on this thread), then one line says what happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cielo.config import Settings
from cielo.errors import CieloError
from cielo.health.sources import record_live
from cielo.ingest.engine import fill
from cielo.ingest.summary import Summary
from cielo.sources.base import Source
from cielo.store import Store
from cielo.timeutil import iso, utcnow


def capture_all(settings: Settings, names: list[str] | None, out: Callable[[str], None]) -> int:
    """`cielo ingest`: a live capture of each named (default: every enabled) source, one line each; 1 when a
    source failed and stored nothing."""
    from cielo.service import clock
    from cielo.service.runtime import open_store
    from cielo.sources import registry

    code = 0
    with open_store(settings) as store:
        if problem := clock.problem(store, utcnow()):
            raise CieloError(problem)
        for name in registry.select(names, settings, "ingest"):
            source = registry.REGISTRY[name](settings)
            try:
                summary, line = capture(source, store, utcnow())
            finally:
                source.close()
            out(line)
            if summary.failed and not summary.new:
                code = 1
    return code


def capture(source: Source, store: Store, now: datetime) -> tuple[Summary, str]:
    """Run the source's live range through fetch → parse → store; returns the summary and one line saying
    what happened (the value stored, a flag, or why it failed)."""
    start, end = source.live_range(now)
    # The line below carries the error: one line per failed run, not a warning as well.
    summary = fill(source, store, start, end, mode="live", now=now, log_failures=False)
    line = describe(source, store, summary, start, end)
    # `cielo status` and Home Assistant's problem sensor show a source that keeps failing (cielo.health.sources).
    record_live(store, source.name, bool(summary.failed and not summary.new), summary.last_error or line, now)
    if summary.failed and not summary.new:
        # Recorded, not just logged: `cielo status` and the MQTT events read this table.
        store.add_event("live_failed", {"start": iso(start), "error": line}, level="warning", source=source.name)
    return summary, line


def describe(source: Source, store: Store, summary: Summary, start: datetime, end: datetime) -> str:
    series = source.primary.name
    if summary.first_answered is not None:
        start = min(start, summary.first_answered)
    stamp = f"{source.name} {iso(start)}"
    if summary.new:
        r = store.latest(series, start, end)
        assert r is not None
        more = f" ({summary.new} new)" if summary.new > 1 else ""
        if r.value is None:
            return f"{source.name} {r.ts}: {r.flag or 'no value'}{more}"
        name = series.rsplit(".", 1)[-1]
        unit_text = "" if r.unit in (None, name) else f" {r.unit}"
        confidence = r.attrs.get("confidence")
        conf = "" if confidence is None else f" confidence={confidence:.2f}"
        flag = f" ({r.flag})" if r.flag else ""  # a value with a flag: `uncertain`, octas still given
        return f"{source.name} {r.ts}: {name}={r.value:g}{unit_text}{conf}{flag}{more}"
    if summary.duplicates and not summary.failed:
        return f"{stamp}: already stored"
    if summary.failed:
        return f"{stamp}: failed: {summary.last_error or ', '.join(summary.reasons)}"
    return f"{stamp}: nothing to fetch"
