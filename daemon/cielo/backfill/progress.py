"""A backfill job's progress: a bar per source with an ETA on a terminal (`Progress`), and for logs, `cielo
status` and the MQTT `state` topic a `Tracker`: a line with an ETA at the job's start, every `[backfill]
progress_minutes` and at its end, the latest kept in `daemon_state` (key `backfill_progress`).

A catch-up of a month of camera slots takes half an hour on a Pi; "queued" and then silence reads as a hang.
The rate is this run's (slots done per second since it started), so a resumed job's ETA is not skewed by
the slots an earlier run did."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cielo.backfill.ranges import count_slots
from cielo.store import Store
from cielo.timeutil import from_iso, human_duration, iso, utcnow

log = logging.getLogger("cielo")

STATE_KEY = "backfill_progress"
SAVE_EVERY_S = 5.0  # how fresh `cielo status` sees it (a small write; the log line is rarer)
FINISHED = ("completed", "partially_completed", "failed", "cancelled")


class Tracker:
    """Fed by jobs.Runner's progress callback (task threads: thread-safe)."""

    def __init__(self, store: Store, job: int, trigger: str, totals: dict[int, int], done_before: int,
                 every_s: float, clock: Callable[[], float] = time.monotonic, ends: bool = True):
        # `ends`: log the start and the end too (the daemon's job children); a backfill by hand ends with its
        # summary lines, so it logs only the periodic lines, and the end after one of them
        self.ends, self.logged = ends, False
        self.store, self.job, self.trigger = store, job, trigger
        self.totals, self.done_before = totals, done_before
        self.every_s, self.clock = every_s, clock
        self.done: dict[int, int] = {}
        self.t0 = self.last_log = self.last_save = clock()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return self.done_before + sum(self.totals.values())

    def snapshot(self, status: str = "running") -> dict[str, Any]:
        done_here = sum(min(n, self.totals.get(t, n)) for t, n in self.done.items())
        done = min(self.done_before + done_here, self.total)
        elapsed = max(self.clock() - self.t0, 1e-6)
        rate = done_here / elapsed
        left = self.total - done
        eta_s = None if status != "running" else (0 if left <= 0 else round(left / rate) if rate > 0 else None)
        now = utcnow()
        return {"job": self.job, "trigger": self.trigger, "status": status, "done": done, "total": self.total,
                "percent": round(100.0 * done / self.total, 1) if self.total else 100.0,
                "rate_per_s": round(rate, 2), "elapsed_s": round(elapsed), "eta_s": eta_s,
                "eta": iso(now + timedelta(seconds=eta_s)) if eta_s is not None else None, "updated": iso(now)}

    @staticmethod
    def for_job(store: Store, job: int, sources: dict[str, Any], every_s: float, ends: bool = True) -> Tracker:
        """A tracker for what is left of `job`: its open tasks' slots to do, its finished tasks' counted done."""
        return _for_job(store, job, sources, every_s, ends)

    def start(self) -> None:
        self._save(self.snapshot(), log_it=self.ends)

    def update(self, task: Any, summary: Any) -> None:
        with self._lock:
            self.done[task.id] = summary.done
            now = self.clock()
            log_it = now - self.last_log >= self.every_s
            if not log_it and now - self.last_save < SAVE_EVERY_S:
                return
            if log_it:
                self.last_log = now
            self.last_save = now
            snap = self.snapshot()
        self._save(snap, log_it)

    def finish(self, status: str, quiet: bool = False) -> None:
        """The end of this run: the job's status, or `paused` when it is still open (stopped for a live run,
        or by a signal: the next run goes on from there)."""
        self._save(self.snapshot(status if status in FINISHED else "paused"),
                   log_it=not quiet and (self.ends or self.logged))

    def _save(self, snap: dict[str, Any], log_it: bool) -> None:
        if log_it:
            self.logged = True
            log.info("%s", describe(snap))
        try:
            self.store.set_state(STATE_KEY, json.dumps(snap, sort_keys=True))
        except Exception as exc:  # progress is a courtesy: never the reason a backfill stops
            log.debug("backfill progress not saved: %s", exc)


def _for_job(store: Store, job: int, sources: dict[str, Any], every_s: float, ends: bool = True) -> Tracker:
    """A tracker for what is left of `job`: its open tasks' slots to do, its finished tasks' counted done."""
    from cielo.backfill import jobs

    row = jobs.job(store, job)
    totals, done_before = {}, 0
    for t in jobs.tasks(store, job):
        source = sources.get(t.source)
        size = t.total if t.total is not None else (
            count_slots(source, from_iso(t.start), from_iso(t.end)) if source is not None else 0)
        if t.status in ("pending", "in_progress"):
            totals[t.id] = size
        else:
            done_before += size
    return Tracker(store, job, row.trigger if row else "manual", totals, done_before, every_s, ends=ends)


def current(store: Store) -> dict[str, Any] | None:
    """The progress of the open job (running, or paused: `status` says which and `updated` when), or None."""
    held = store.state().get(STATE_KEY)
    if held is None:
        return None
    try:
        snap = json.loads(held[0])
    except ValueError:
        return None
    from cielo.backfill import jobs

    row = jobs.job(store, snap["job"]) if isinstance(snap.get("job"), int) else None
    return snap if row is not None and row.status in jobs.OPEN else None


def describe(p: dict[str, Any]) -> str:
    """`backfill job 3 (on_boot): 1,200/4,320 slots (27.8 %), 2.1/s, ETA 25 min (10:42:00Z)`."""
    head = f"backfill job {p['job']} ({p['trigger']}): {p['done']:,}/{p['total']:,} slots ({p['percent']:.1f} %)"
    if p["status"] != "running":
        return f"{head}, {p['status']} after {human_duration(p['elapsed_s'])}"
    if p["eta_s"] is None:
        return f"{head}, ETA unknown yet"
    eta = from_iso(p["eta"])
    return f"{head}, {p['rate_per_s']:g}/s, ETA {human_duration(p['eta_s'])} ({eta:%H:%M:%S}Z)"


def eta_text(done: int, total: int, elapsed_s: float) -> str:
    """For the CLI bar: `ETA 3.2 min`, or '' until there is a rate."""
    if done <= 0 or elapsed_s <= 0 or total <= done:
        return ""
    return f"ETA {human_duration((total - done) / (done / elapsed_s))}"


class Progress:
    """A one-line progress bar per source on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, sources: dict, start: datetime, end: datetime):
        self.totals = {name: count_slots(source, start, end) for name, source in sources.items()}
        self.tasks: dict[int, object] = {}
        self.t0, self.last, self.current = time.monotonic(), 0.0, ""

    def update(self, task, s) -> None:
        self.tasks[task.id] = (task.source, s)
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        self.draw(task.source)

    def draw(self, name: str) -> None:
        parts = [s for src, s in self.tasks.values() if src == name]
        done = sum(s.done for s in parts)
        new, dup, failed = (sum(getattr(s, k) for s in parts) for k in ("new", "duplicates", "failed"))
        total = self.totals.get(name, done) or 1
        rate = (new + failed) / max(time.monotonic() - self.t0, 1e-6)
        bar = "#" * int(min(done / total, 1.0) * 30)
        if self.current and self.current != name:
            sys.stderr.write("\n")
        self.current = name
        eta = eta_text(done, total, time.monotonic() - self.t0)
        sys.stderr.write(f"\r{name} [{bar:<30}] {done}/{total} new={new} dup={dup} failed={failed} {rate:.0f}/s "
                         f"{eta:<14}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.current:
            self.draw(self.current)
        sys.stderr.write("\n")
