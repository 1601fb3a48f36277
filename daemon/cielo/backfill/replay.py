"""Replays a range of a source into the store, in named steps: plan (what is missing), fetch_in_order (a
bounded pool), Writer (parse and store in batches). Live runs (cielo.live) use plan and Writer too.

Slots the store already holds cost no request (duplicates); slots the source recently said do not exist
wait for their retry time (failed, no request). The rest are fetched on a bounded pool of worker threads
(`workers`), parsed in batches on this thread, and written one transaction per batch, so an interrupted
run keeps everything committed before it stopped and a second run finds it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cielo.guard import BreakerOpen
from cielo.http import FetchError, NotFound, scrubbed
from cielo.sources import registry
from cielo.sources.base import Source, Window, summary_line, vet
from cielo.store import Missing, Store
from cielo.timeutil import iso, utcnow

log = logging.getLogger(__name__)

BATCH = 16  # windows per transaction and parse call; with the reorder window, bounds the frames held (memory)
LOGGED_FAILURES = 5  # per source and process: enough to see the cause, not a line per slot when a server is down
_warned: Counter[str] = Counter()
_said: set[str] = set()  # a job retries a task: the same failure is said once


@dataclass
class Summary:
    source: str
    total: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    requested: int = 0  # slots asked for from the source in this run
    answered: int = 0  # of those, slots the answers held a valid value for (new, or held already)
    interrupted: bool = False
    reasons: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    retryable: bool = False  # some failure may go away if asked again later (network, 408/429/5xx)
    breaker_open: bool = False  # the source's breaker opened: it, not a quick retry, decides when to ask again

    @classmethod
    def of(cls, p: Plan) -> Summary:
        """What a plan already knows: slots held, and slots known missing whose retry is not due."""
        s = cls(p.source, total=p.total, duplicates=p.present, failed=p.known_missing)
        if p.known_missing:
            s.reasons["not found earlier, retry not due"] += p.known_missing
        s.requested = sum(len(w.slots) for w in p.windows)
        return s

    def line(self) -> str:
        return summary_line(self.source, self.total, self.new, self.duplicates, self.failed)

    @property
    def done(self) -> int:
        return self.new + self.duplicates + self.failed

    @property
    def success_rate(self) -> float:
        """Share of the slots this run asked for that it restored (1.0 when it asked for none): slots held
        already or known not to exist are not held against it, so running a range twice never gets worse."""
        # A slot asked for because only its secondary series were missing (Open-Meteo's cloud cover under
        # AEMET's temperature) is restored when answered, though its counted series is a duplicate.
        return 1.0 if self.requested <= 0 else min(max(self.new, self.answered) / self.requested, 1.0)


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
        if spec.cadence == source.primary.cadence and present and not spec.derived:
            present &= store.present(spec.name, start, end, source=source.name)
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
    stop: threading.Event | None = None,
    log_failures: bool = True,
    tally: Callable[[Any, int], None] | None = None,
) -> Summary:
    """Fill [start, end) of `source`: plan, fetch on a pool in window order, write in batches. `stop` (set from
    another thread) ends the run early, keeping what was fetched; Ctrl-C on the calling thread does the same."""
    now = now or utcnow()
    p = plan(source, store, start, end, now)
    summary = Summary.of(p)
    if progress:
        progress(summary)
    if not p.windows:
        return summary
    writer = Writer(source, store, summary, now, "backfill", log_failures, tally)
    try:
        fetch_in_order(source, p.windows, workers, now, writer, stop, progress)
    finally:
        writer.flush()
        source.finish(store)
    if summary.interrupted:
        summary.total = summary.done  # the summary speaks of the slots this run got to
    if progress:
        progress(summary)
    return summary


class Writer:
    """Takes fetched windows in order, parses them in batches and writes each batch in one transaction (with
    its outbox messages); counts every slot asked for as new, duplicate or failed, with the cause."""

    def __init__(self, source: Source, store: Store, summary: Summary, now: datetime, mode: str,
                 log_failures: bool = True, tally: Callable[[Any, int], None] | None = None):
        self.source, self.store, self.summary, self.now, self.mode = source, store, summary, now, mode
        self.log_failures = log_failures
        self.tally = tally  # (cursor, new) inside each batch's transaction: a job task's running count
        self.batch: list[tuple[Window, Any]] = []
        self.missing: list[Missing] = []

    @property
    def full(self) -> bool:
        return len(self.batch) >= BATCH

    def take(self, window: Window, fut: Future[Any]) -> None:
        """A finished fetch: its answer joins the batch, or its error is counted. Error texts lose the
        source's secrets here, whatever raised them (a server may echo the key in its error body)."""
        try:
            self.batch.append((window, self.source.settle(fut.result())))
        except FetchError as exc:
            self.fail(window, scrubbed(exc, self.source.secret_values()))
        except Exception as exc:  # a bug in one fetch must not sink the run; say what it was
            scrubbed(exc, self.source.secret_values())
            log.error("%s: %s: unexpected %s: %s", self.source.name, iso(window.start), type(exc).__name__, exc)
            self.fail(window, exc)

    def flush(self) -> None:
        source, summary = self.source, self.summary
        if self.batch:
            readings, rejected = vet(source.series, source.parse([fetched for _, fetched in self.batch]))
            # The summary counts the primary series' slots that were asked for; other series and slots an
            # answer carries beyond the window (a whole day, the last 24 h) are stored but not counted.
            wanted = {ts for window, _ in self.batch for ts in window.slots}
            primary = {r.ts: r for r in readings if r.series == source.primary.name and r.ts in wanted}
            rest = [r for r in readings if not (r.series == source.primary.name and r.ts in wanted)]
            new = self.store.add_readings([*primary.values(), *rest], self.now, self.mode, counted=len(primary),
                                          also=self.tally)
            summary.new += new
            summary.answered += len(primary)
            # A reading for the slot can land between plan and write (a second cielo); that is a duplicate.
            summary.duplicates += len(primary) - new
            summary.failed += len(wanted) - len(primary)
            refused = {r.ts for r, _ in rejected if r.series == source.primary.name and r.ts in wanted} - set(primary)
            if refused:
                summary.reasons["value rejected"] += len(refused)
            if len(wanted) - len(primary) - len(refused) > 0:
                summary.reasons["no value in the answer"] += len(wanted) - len(primary) - len(refused)
            for r, why in rejected:  # never stored nor published; not `missing` either: asked again next time
                text = f"{r.series} {iso(r.ts)}: value rejected: {why}"
                if r.series == source.primary.name and r.ts in refused:
                    summary.last_error = text
                self._say(text)
            self.batch.clear()
        if self.missing:
            self.store.add_missing(self.missing, self.now)
            self.missing.clear()

    def fail(self, window: Window, exc: Exception) -> None:
        source, summary, n = self.source, self.summary, len(window.slots)
        summary.failed += n
        if isinstance(exc, NotFound):
            summary.reasons["not found (404)"] += n
            for ts in window.slots:
                attempts = self.store.missing_attempts(source.primary.name, ts) + 1
                self.missing.append(Missing(source.primary.name, ts, source.name, str(exc.status),
                                            source.retry_after(ts, self.now, attempts)))
            return
        summary.reasons[_kind(exc)] += n
        summary.last_error = str(exc)
        status = getattr(exc, "status", None)
        # Worth asking again soon: network trouble, 408/429/5xx. Not: other 4xx, or a breaker that is open
        # (it decides when to try again; the next gap check plans the range anew).
        if isinstance(exc, BreakerOpen):
            summary.breaker_open = True
        elif getattr(exc, "transient", True) and not (status and 400 <= status < 500 and status not in (408, 429)):
            summary.retryable = True
        self._say(str(exc))

    def _say(self, text: str) -> None:
        """A warning for the first few distinct failures of a source in this process."""
        name = self.source.name
        if self.log_failures and text not in _said and _warned[name] < LOGGED_FAILURES:
            _warned[name] += 1
            _said.add(text)
            log.warning("%s: %s", name, text)


def fetch_in_order(source: Source, windows: list[Window], workers: int, now: datetime, writer: Writer,
                   stop: threading.Event | None = None, progress: Callable[[Summary], None] | None = None) -> None:
    """Fetch on a bounded pool of worker threads and hand results to the writer in window order (a small
    reorder buffer), so the store and the MQTT history receive each series in time order and what is
    committed is always a contiguous prefix of the plan."""
    window_limit = max(workers * 4, BATCH)
    source.size_pool(workers)  # as many pooled connections as fetching threads
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{source.name}")
    inflight: deque[tuple[Window, Future[Any]]] = deque()
    queue = iter(windows)

    def settle_done() -> None:
        while inflight and inflight[0][1].done() and not inflight[0][1].cancelled():
            writer.take(*inflight.popleft())

    try:
        while True:
            if stop is not None and stop.is_set():  # keep what is already fetched, in order; abandon the rest
                writer.summary.interrupted = True
                for _, fut in inflight:
                    fut.cancel()
                settle_done()
                return
            while len(inflight) < window_limit and (window := next(queue, None)) is not None:
                inflight.append((window, pool.submit(source.fetch, window, now)))
            if not inflight:
                return
            wait([inflight[0][1]], timeout=0.5)
            settle_done()
            if writer.full or not inflight:
                writer.flush()
                if progress:
                    progress(writer.summary)
    except KeyboardInterrupt:
        writer.summary.interrupted = True
        settle_done()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _kind(exc: Exception) -> str:
    if isinstance(exc, BreakerOpen):
        # Not asked: the breaker stands in for the failure that opened it (a refused connection, a timeout),
        # which is what the operator has to fix.
        status = re.search(r"\bHTTP (\d{3})\b", exc.cause or "")
        cause = _kind(FetchError(exc.cause, int(status[1]) if status else None)) if exc.cause else None
        return f"{cause} (circuit open, not asked)" if cause and cause != "fetch error" else "circuit open"
    if isinstance(exc, FetchError):
        if exc.kind:
            return exc.kind
        if exc.status and exc.status >= 400:  # an HTML page or broken JSON with 200 is no HTTP error
            return f"HTTP {exc.status}"
        text = str(exc)
        for marker, kind in (("not JSON", "not JSON"),
                             ("invalid JSON", "invalid JSON"), ("unexpected answer", "unexpected answer"),
                             ("timed out", "timeout"), ("took longer than", "timeout"),
                             ("cannot connect", "cannot connect"),
                             ("byte cap", "too large"), ("server kept failing", "server errors"),
                             ("connection broke", "connection broke")):
            if marker in text:
                return kind
        return "fetch error"
    return type(exc).__name__

