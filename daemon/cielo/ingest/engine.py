"""The one way data comes in. Live captures, catch-up jobs, `cielo backfill` and detached jobs all call
`fill`: plan (skip what is stored) → fetch (on this thread, or a bounded pool in window order) → Writer
(parse and store in batches, one transaction each, with the outbox messages) → the source's end-of-run
bookkeeping.

Slots the store already holds cost no request (duplicates); slots the source recently said do not exist
wait for their retry time (failed, no request). An interrupted run keeps everything committed before it
stopped and a second run finds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from cielo.ingest.fetch import fetch_each, fetch_in_order
from cielo.ingest.plan import plan
from cielo.ingest.summary import Summary
from cielo.ingest.writer import Writer
from cielo.sources.base import Source
from cielo.store import Store
from cielo.timeutil import utcnow


def fill(
    source: Source,
    store: Store,
    start: datetime,
    end: datetime,
    *,
    mode: Literal["live", "backfill"] = "backfill",
    workers: int = 0,
    now: datetime | None = None,
    progress: Callable[[Summary], None] | None = None,
    stop: threading.Event | None = None,
    log_failures: bool = True,
    tally: Callable[[Any, int], None] | None = None,
) -> Summary:
    """Fill [start, end) of `source`. `mode` tells the outbox how to publish what is new (a live value, or
    history). `workers` 0 fetches on this thread (Ctrl-C propagates); N > 0 on a pool of N threads in
    window order, where `stop` (set from another thread) or Ctrl-C ends the run early, keeping what was
    fetched. `tally(cursor, new)` runs inside each batch's transaction (a job task's running count)."""
    now = now or utcnow()
    p = plan(source, store, start, end, now)
    summary = Summary.of(p)
    if progress:
        progress(summary)
    if not p.windows and mode != "live":
        return summary
    writer = Writer(source, store, summary, now, mode, log_failures, tally)
    try:
        if workers > 0:
            fetch_in_order(source, p.windows, workers, now, writer, stop, progress)
        else:
            fetch_each(source, p.windows, now, writer)
    finally:
        writer.flush()
        if source.analysis is not None:
            source.analysis.finish(store)
    if summary.interrupted:
        summary.total = summary.done  # the summary speaks of the slots this run got to
    if progress:
        progress(summary)
    return summary
