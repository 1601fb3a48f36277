"""Runs a job's tasks: each task is one `cielo.ingest.engine.fill` of its source's range, on a bounded pool
of task threads, with heartbeats, retries and the job's bookkeeping (cielo.backfill.jobs)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime

from cielo.backfill.jobs import MAX_ATTEMPTS, RETRY_BASE, Task, claim, record, refresh
from cielo.ingest.engine import fill
from cielo.ingest.plan import plan
from cielo.ingest.summary import Summary
from cielo.sources.base import Source
from cielo.store import Store, StoreError
from cielo.store import jobs as rows
from cielo.timeutil import from_iso, iso, utcnow

log = logging.getLogger("cielo")

HEARTBEAT_EVERY_S = 5.0


def merge(before: Summary | None, s: Summary) -> Summary:
    """One task's counts over several attempts: new ones add up, the last attempt says what still failed."""
    if before is None:
        return s
    new = before.new + s.new
    return Summary(s.source, total=s.total, new=new, failed=s.failed,
                            duplicates=max(s.total - new - s.failed, 0), requested=before.requested + s.requested,
                            answered=before.answered + s.answered,
                            interrupted=s.interrupted, reasons=s.reasons, last_error=s.last_error,
                            retryable=s.retryable)


class Runner:
    """Runs one job's tasks on a bounded pool: `workers` tasks at once, never two of the same source at once
    (a source's own `workers` already fetch in parallel; doubling up would be impolite to its server).
    `ran` keeps what this process did per task, for the summary of this run."""

    def __init__(self, store: Store, sources: dict[str, Source], workers: int, fetch_workers: dict[str, int],
                 progress: Callable[[Task, Summary], None] | None = None, max_attempts: int = MAX_ATTEMPTS):
        self.max_attempts = max_attempts
        self.store = store
        self.sources = sources
        self.workers = workers
        self.fetch_workers = fetch_workers
        self.progress = progress
        self.stop = threading.Event()
        self.ran: dict[int, Summary] = {}
        self.failure: StoreError | None = None
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        # A thread with nothing to claim waits for another to release a source (not a fixed poll: a no-op
        # backfill used to sit out a 0.5 s wait); `_released` counts releases so that none is missed.
        self._released = threading.Condition(self._lock)
        self._releases = 0

    def run(self, job_id: int) -> str:
        """Run until no task of the job is left to do here; Ctrl-C stops the tasks (they stay resumable)."""
        from cielo.service.memory import lean_malloc

        lean_malloc()  # before this process's task and fetch threads exist (cielo.service.memory says why)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="task") as pool:
            futures = [pool.submit(self._loop, job_id) for _ in range(self.workers)]
            try:
                while not all(f.done() for f in futures):
                    wait(futures, timeout=0.5)  # returns when they are; Ctrl-C still reaches this thread
            except KeyboardInterrupt:
                self.stop.set()
                raise
            finally:
                for f in futures:
                    if f.done() and f.exception() is not None and not isinstance(f.exception(), KeyboardInterrupt):
                        log.error("backfill task runner failed: %s", f.exception())
        if self.failure is not None:
            raise self.failure
        return refresh(self.store, job_id)

    def _loop(self, job_id: int) -> None:
        while not self.stop.is_set():
            now = utcnow()
            with self._lock:
                task = claim(self.store, job_id, self._busy, now)
                if task is not None:
                    self._busy.add(task.source)
                seen = self._releases
            if task is None:
                if not rows.pending_count(self.store, job_id):
                    return
                # A retry is due later, or another thread holds that source: wait for a release (short
                # steps, so that a stop is seen at once and a due retry within 0.5 s).
                deadline = time.monotonic() + 0.5
                with self._released:
                    while self._releases == seen and not self.stop.is_set() and time.monotonic() < deadline:
                        self._released.wait(0.05)
                continue
            try:
                self._run_task(task)
            finally:
                with self._lock:
                    self._busy.discard(task.source)
                    self._releases += 1
                    self._released.notify_all()

    def _run_task(self, task: Task) -> None:
        source = self.sources.get(task.source)
        if source is None:
            record(self.store, task, Summary(task.source), "skipped", "source not enabled")
            return
        last_beat = time.monotonic()

        def on_progress(s: Summary) -> None:
            nonlocal last_beat
            if time.monotonic() - last_beat > HEARTBEAT_EVERY_S:
                last_beat = time.monotonic()
                rows.heartbeat(self.store, task.id, iso(utcnow()))
            if self.progress:
                self.progress(task, merge(self.ran.get(task.id), s))

        error = None
        try:
            s = fill(source, self.store, task.start, task.end, workers=self.fetch_workers.get(task.source, 1),
                           progress=on_progress, stop=self.stop, tally=rows.tally(task.id))
        except StoreError as exc:  # the database itself (a full disk): every task would fail; stop the run
            self.failure = self.failure or exc
            self.stop.set()
            return  # the task stays in_progress under a dead pid: the next start puts it back to pending
        except Exception as exc:  # a bug: the task fails with the reason, the job goes on
            s, error = Summary(task.source), f"{type(exc).__name__}: {exc}"
        self.ran[task.id] = merge(self.ran.get(task.id), s)
        transient = error is not None or bool(s.requested and s.new == 0 and s.failed and s.retryable
                                              and not s.breaker_open)
        if s.interrupted:  # stopped by us: resumable, and this attempt does not count
            record(self.store, task, s, "pending", None)
        elif transient and task.attempts < self.max_attempts:
            record(self.store, task, s, "pending", error or s.last_error,
                    utcnow() + RETRY_BASE * 2 ** (task.attempts - 1))
        else:
            # A task that restored nothing of what it had to fetch (every slot 404, a breaker open, 4xx) has
            # failed, not completed at 0 %: `cielo jobs retry` can take it up again.
            stored = rows.records_new(self.store, task.id)
            nothing = bool(s.failed) and not stored and not s.duplicates
            status = "failed" if transient or nothing or error else "completed"
            record(self.store, task, s, status, error or s.last_error)


def run_summaries(store: Store, job_id: int, sources: dict[str, Source], ran: dict[int, Summary],
                  now: datetime, interrupted: bool = False) -> dict[str, Summary]:
    """This run's summary per source: tasks run here count what they did; tasks done by an earlier run (a
    resumed job) count as the store sees them now: held slots are duplicates, the rest failed. After an
    interrupt only what this run reached is counted."""
    out: dict[str, Summary] = {}
    for tid, name, start, end in rows.task_spans(store, job_id):
        total = out.setdefault(name, Summary(name))
        s = ran.get(tid)
        if s is None:
            if interrupted or name not in sources:
                continue
            p = plan(sources[name], store, from_iso(start), from_iso(end), now)
            s = Summary(name, total=p.total, duplicates=p.present, failed=p.total - p.present)
            if s.failed:  # every failed slot has a cause in the breakdown line
                s.reasons["failed in an earlier run (`cielo jobs show`)"] = s.failed
        total.total += s.total
        total.new += s.new
        total.duplicates += s.duplicates
        total.failed += s.failed
        total.requested += s.requested
        total.answered += s.answered
        total.reasons.update(s.reasons)
        total.last_error = s.last_error or total.last_error
    return out
