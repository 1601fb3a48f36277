"""The writer: takes fetched windows in order, parses them in batches and stores each batch in one
transaction with its outbox messages; counts every slot as new, duplicate or failed, with the cause."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from cielo.guard import BreakerOpen
from cielo.http import FetchError, NotFound, scrubbed
from cielo.ingest.summary import Summary
from cielo.sources.base import Source, Window, vet
from cielo.store import Missing, Store
from cielo.timeutil import iso

log = logging.getLogger(__name__)

BATCH = 16  # windows per transaction and parse call; with the reorder window, bounds the frames held (memory)
LOGGED_FAILURES = 5  # per source and process: enough to see the cause, not a line per slot when a server is down
_warned: Counter[str] = Counter()
_said: set[str] = set()  # a job retries a task: the same failure is said once


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
            fetched = fut.result()
            stage = self.source.analysis
            self.batch.append((window, fetched if stage is None else stage.settle(fetched)))
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
            wanted = {ts for window, fetched in self.batch for ts in source.slots_answered(window, fetched)}
            primary = {r.ts: r for r in readings if r.series == source.primary.name and r.ts in wanted}
            rest = [r for r in readings if not (r.series == source.primary.name and r.ts in wanted)]
            new = self.store.add_readings([*primary.values(), *rest], self.now, self.mode, counted=len(primary),
                                          also=self.tally)
            summary.new += new
            if primary:
                first = min(primary)
                summary.first_answered = min(first, summary.first_answered or first)
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

