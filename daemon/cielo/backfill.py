"""Replays a range of a source into the store: the same fetch and parse as live runs, for past windows.

Slots the store already holds cost no request (duplicates); slots the source recently said do not exist
wait for their retry time (failed, no request). The rest are fetched on a bounded pool of worker threads
(`workers`), parsed in batches on this thread, and written one transaction per batch, so an interrupted
run keeps everything committed before it stopped and a second run finds it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cielo.http import FetchError, NotFound
from cielo.sources.base import Source, Window
from cielo.store import Missing, Store
from cielo.timeutil import iso, utcnow

log = logging.getLogger(__name__)

BATCH = 64  # readings per transaction; also the inference batch
LOGGED_FAILURES = 5  # per run: enough to see the cause, not a line per slot when a server is down


@dataclass
class Summary:
    source: str
    total: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    requested: int = 0
    interrupted: bool = False
    reasons: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None

    def line(self) -> str:
        return f"{self.source}: total={self.total} new={self.new} duplicates={self.duplicates} failed={self.failed}"

    @property
    def done(self) -> int:
        return self.new + self.duplicates + self.failed

    @property
    def success_rate(self) -> float:
        """Share of the slots that needed restoring which were restored (1.0 when none needed it)."""
        wanted = self.total - self.duplicates
        return 1.0 if wanted <= 0 else self.new / wanted


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
    if source.config_model is not None:
        # A slot held by a lower-priority source is still to fetch: this source's reading replaces it.
        from cielo.sources import priorities

        store.set_priorities(priorities(source.settings))
        present = store.present(series, start, end, source=source.name)
    else:
        present = store.present(series, start, end)
    waiting = store.missing_not_due(series, start, end, now)
    todo = [ts for ts in slots if (key := iso(ts)) not in present and key not in waiting]
    held = sum(1 for ts in slots if iso(ts) in present)
    return Plan(source.name, len(slots), held, len(slots) - held - len(todo), source.windows(todo))


def run(
    source: Source,
    store: Store,
    start: datetime,
    end: datetime,
    *,
    workers: int,
    now: datetime | None = None,
    progress: Callable[[Summary], None] | None = None,
    log_failures: bool = True,
) -> Summary:
    now = now or utcnow()
    p = plan(source, store, start, end, now)
    summary = Summary(source.name, total=p.total, duplicates=p.present, failed=p.known_missing)
    if p.known_missing:
        summary.reasons["not found earlier, retry not due"] += p.known_missing
    summary.requested = len(p.windows)
    if progress:
        progress(summary)
    if not p.windows:
        return summary

    batch: list[tuple[Window, Any]] = []
    missing: list[Missing] = []
    warned = 0 if log_failures else LOGGED_FAILURES

    def flush() -> None:
        if batch:
            readings = source.parse([fetched for _, fetched in batch])
            # The summary counts the primary series' slots that were asked for; other series and slots an
            # answer carries beyond the window (a whole day, the last 24 h) are stored but not counted.
            wanted = {ts for window, _ in batch for ts in window.slots}
            primary = {r.ts: r for r in readings if r.series == source.primary.name and r.ts in wanted}
            rest = [r for r in readings if not (r.series == source.primary.name and r.ts in wanted)]
            new = store.add_readings([*primary.values(), *rest], counted=len(primary))
            summary.new += new
            # A reading for the slot can land between plan and write (a second cielo); that is a duplicate.
            summary.duplicates += len(primary) - new
            summary.failed += len(wanted) - len(primary)
            if len(wanted) > len(primary):
                summary.reasons["no value in the answer"] += len(wanted) - len(primary)
            batch.clear()
        if missing:
            store.add_missing(missing, now)
            missing.clear()

    def fail(window: Window, exc: Exception) -> None:
        nonlocal warned
        n = len(window.slots)
        summary.failed += n
        if isinstance(exc, NotFound):
            summary.reasons["not found (404)"] += n
            for ts in window.slots:
                attempts = store.missing_attempts(source.primary.name, ts) + 1
                missing.append(Missing(source.primary.name, ts, source.name, str(exc.status),
                                       source.retry_after(ts, now, attempts)))
        else:
            kind = _kind(exc)
            summary.reasons[kind] += n
            summary.last_error = str(exc)
            warned += 1
            if warned <= LOGGED_FAILURES:
                log.warning("%s: %s", source.name, exc)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{source.name}")
    pending: dict[Future[Any], Window] = {}
    queue = iter(p.windows)
    try:
        while True:
            while len(pending) < workers * 2:
                window = next(queue, None)
                if window is None:
                    break
                pending[pool.submit(source.fetch, window, now)] = window
            if not pending:
                break
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                window = pending.pop(fut)
                try:
                    batch.append((window, fut.result()))
                except FetchError as exc:
                    fail(window, exc)
                except Exception as exc:  # a bug in one fetch must not sink the run; say what it was
                    log.error("%s: %s: unexpected %s: %s", source.name, iso(window.start), type(exc).__name__, exc)
                    fail(window, exc)
            if len(batch) >= BATCH or not pending:
                flush()
                if progress:
                    progress(summary)
    except KeyboardInterrupt:
        summary.interrupted = True
        for fut, window in pending.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                batch.append((window, fut.result()))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        flush()
    if summary.interrupted:
        summary.total = summary.done  # the summary speaks of the slots this run got to
    if progress:
        progress(summary)
    return summary


def _kind(exc: Exception) -> str:
    if isinstance(exc, FetchError):
        if exc.status:
            return f"HTTP {exc.status}"
        text = str(exc)
        for marker, kind in (("circuit open", "circuit open"), ("not JSON", "not JSON"),
                             ("invalid JSON", "invalid JSON"), ("unexpected answer", "unexpected answer"),
                             ("not a JPEG", "not a JPEG"), ("not a readable image", "unreadable image"),
                             ("timed out", "timeout"), ("cannot connect", "cannot connect"),
                             ("byte cap", "too large"), ("server kept failing", "server errors"),
                             ("connection broke", "connection broke")):
            if marker in text:
                return kind
        return "fetch error"
    return type(exc).__name__

