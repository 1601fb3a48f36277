"""Request budgets (token buckets) and circuit breakers per source, kept in the SQLite database.

Live jobs run as child processes and `cielo backfill` is another process, so an in-memory bucket would let
each of them spend the whole budget. Every request first takes a token inside one `BEGIN IMMEDIATE`
transaction on the shared file: together the processes never exceed the provider's limit. The breaker is
stored the same way, so a source that a live job found down is also down for a backfill started a minute
later, and `cielo status` / `cielo sources` can show its state.

Buckets use wall-clock time (time.time()): it is the one clock all processes share.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cielo.http import FetchError
from cielo.store import budget
from cielo.timeutil import iso, utcnow

T = TypeVar("T")

BREAKER_FAILURES = 5  # consecutive failed requests that open the breaker
BREAKER_OPEN_S = 300.0  # how long it stays open before one trial request
READ_CACHE_S = 1.0


@dataclass(frozen=True)
class Bucket:
    name: str  # "minute" | "day"
    capacity: float  # tokens when full: the burst allowed
    per_s: float  # refill rate


class BreakerOpen(FetchError):
    """Refused without asking; `cause` is the failure that opened it (what a summary counts the slot as)."""

    def __init__(self, source: str, until: float, cause: str | None = None):
        wait = max(until - time.time(), 0)
        super().__init__(f"{source}: circuit open after {BREAKER_FAILURES} consecutive failures; "
                         f"next trial in {wait:.0f} s", transient=True)
        self.cause = cause


class Guard:
    """One per source and process; thread-safe (workers share it). Its rows are cielo.store.budget's, written
    through a Store of its own (each process, each source: its own connection to the shared file)."""

    def __init__(self, database: Path, source: str, buckets: list[Bucket],
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 open_s: float = BREAKER_OPEN_S, failures: int = BREAKER_FAILURES):
        from cielo.store import Store

        self.source = source
        self.buckets = buckets
        self.clock, self.sleep = clock, sleep
        self.open_s, self.failures = open_s, failures
        self._lock = threading.Lock()
        self.store = Store(database)  # the tables exist (migrations are idempotent) whoever opens the file first
        self._cached: tuple[float, tuple | None] | None = None

    def close(self) -> None:
        self.store.close()

    def _tx(self, fn: Callable[[sqlite3.Cursor], T]) -> T:
        with self._lock:
            self._cached = None  # this process changes the state: read it afresh next time
            return self.store.transaction(fn)

    # --- budget -------------------------------------------------------------------------------------------

    def acquire(self) -> float:
        """Take one token from every bucket, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = self._tx(self._try_take)
            if wait <= 0:
                return waited
            self.sleep(wait)
            waited += wait

    def _try_take(self, cur: sqlite3.Cursor) -> float:
        now = self.clock()
        levels = []
        for b in self.buckets:
            row = budget.bucket_level(cur, self.source, b.name)
            tokens = b.capacity if row is None else min(b.capacity, row[0] + max(now - row[1], 0) * b.per_s)
            levels.append(tokens)
        short = [(1 - t) / b.per_s for t, b in zip(levels, self.buckets, strict=True) if t < 1]
        if short:
            return max(max(short), 0.001)
        budget.set_buckets(cur, self.source, [(b.name, t - 1, now) for t, b in zip(levels, self.buckets, strict=True)])
        return 0.0

    # --- breaker ------------------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise BreakerOpen while open; once the open time is over, let exactly one trial request through."""
        row = self._read()
        if row is None or row[0] == "closed":
            return

        cause: list[str | None] = [None]

        def decide(cur: sqlite3.Cursor) -> float | None:
            state, _, opened_at, trial_at, cause[0] = budget.breaker(cur, self.source)
            now = self.clock()
            if state == "closed":
                return None
            if state == "open" and now >= opened_at + self.open_s:
                budget.half_open(cur, self.source, now, iso(utcnow()))
                return None  # this caller is the trial
            if state == "half_open" and trial_at is not None and now >= trial_at + self.open_s:
                # The trial's process died without reporting: allow another one.
                budget.new_trial(cur, self.source, now)
                return None
            return (opened_at or now) + self.open_s

        until = self._tx(decide)
        if until is not None:
            raise BreakerOpen(self.source, until, cause[0])

    def success(self) -> None:
        row = self._read()
        if row is not None and (row[0] != "closed" or row[1]):
            self._tx(lambda cur: budget.close_breaker(cur, self.source, iso(utcnow())))

    def failure(self, error: str) -> bool:
        """Count one failed request; returns True when this failure opened the breaker."""

        def count(cur: sqlite3.Cursor) -> bool:
            now = self.clock()
            row = budget.breaker(cur, self.source)
            state, failures = row[:2] if row else ("closed", 0)
            failures += 1
            opens = state == "half_open" or (state == "closed" and failures >= self.failures)
            new_state = "open" if opens or state == "open" else state
            budget.set_breaker(cur, self.source, new_state, failures, now if opens else None, error[:300],
                               iso(utcnow()))
            return opens

        return self._tx(count)

    def _read(self) -> tuple | None:
        """The breaker row, re-read at most every READ_CACHE_S while it is closed and clean: a backfill of
        hundreds of requests a second should not pay a query each (another process's news waits a second)."""
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and now - self._cached[0] < READ_CACHE_S:
                return self._cached[1]
            row = self.store.read(lambda db: budget.breaker(db, self.source))
            clean = row is None or (row[0] == "closed" and not row[1])
            self._cached = (now, row) if clean else None
            return row

