"""Persistent, resumable backfill jobs: a job per request, tasks per source × chunk, all in SQLite.

A task is claimed inside one write transaction (`BEGIN IMMEDIATE` + an UPDATE of a pending row), so two
cielo processes never run the same task. A task left `in_progress` by a process that died (its pid is gone
on this host, or its heartbeat is older than asked) goes back to `pending` and is run again: what it had
committed is found in the store and costs no request. A failed task is retried with exponential backoff up
to `MAX_ATTEMPTS`, then stays `failed` with its error. A job ends `completed`, `partially_completed` or
`failed` from its tasks, and that end is an event with counts, success rate and level.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cielo.backfill import replay
from cielo.sources.base import SeriesSpec, Source, summary_line
from cielo.store import Store, StoreError
from cielo.timeutil import from_iso, iso, utcnow

log = logging.getLogger("cielo")

MAX_ATTEMPTS = 3
RETRY_BASE = timedelta(seconds=2)  # 2 s, 4 s, ... between attempts of a failed task
TASK_SPAN = timedelta(days=1)  # a task covers about a day of one source (or one window, if longer)
PIECE = timedelta(days=62)  # planning a long range walks it in pieces of this (bounded memory)
HEARTBEAT_EVERY_S = 5.0
TERMINAL = ("completed", "failed", "skipped", "cancelled")
WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Task:
    id: int
    job_id: int
    source: str
    start: datetime
    end: datetime
    attempts: int


def level(rate: float) -> str:
    """DESIGN.md's event levels: success above 80 % restored, partial 20-80 %, failed below 20 %."""
    return "success" if rate > 0.8 else "partial" if rate >= 0.2 else "failed"


def pieces(source: Source, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, list]]:
    """[start, end) walked in pieces of a couple of months, each with its request windows, so that any range
    (a century of 10-minute camera slots is 5 million) is planned in bounded memory. A piece ends where its
    last window starts (the next piece recomputes that window whole), so no window is split by a piece
    boundary, except a window longer than a whole piece (Open-Meteo's 92 days), which has no alignment."""
    span = max(PIECE, source.chunk * 4)
    a = start
    while a < end:
        b = min(a + span, end)
        windows = source.windows(source.slots(a, b))
        if b >= end or len(windows) < 2:
            yield a, b, windows
            a = b
            continue
        nxt = windows[-1].start
        yield a, nxt, windows[:-1]
        a = nxt


@dataclass(frozen=True)
class PlanTotals:
    """replay.Plan's counts over a long range, without its windows (a dry run of any range)."""

    source: str
    total: int
    present: int
    known_missing: int
    requests: int


def plan_totals(source: Source, store: Store, start: datetime, end: datetime, now: datetime) -> PlanTotals:
    total = present = known = requests = 0
    for a, b, _ in pieces(source, start, end):
        p = replay.plan(source, store, a, b, now)
        total, present, known, requests = (total + p.total, present + p.present, known + p.known_missing,
                                           requests + p.requests)
    return PlanTotals(source.name, total, present, known, requests)


def has_slots(source: Source, start: datetime, end: datetime) -> bool:
    return any(windows for _, _, windows in pieces(source, start, end))


def count_slots(source: Source, start: datetime, end: datetime) -> int:
    return sum(len(w.slots) for _, _, windows in pieces(source, start, end) for w in windows)


def task_ranges(source: Source, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into tasks along the source's own request windows, each task about `TASK_SPAN` or
    one window: a window (a whole Madrid day of prices, one camera image) never straddles two tasks, so
    each answer is stored and counted by one task. Planned piece by piece (bounded memory)."""
    cuts: list[datetime] = []
    for _a, _b, windows in pieces(source, start, end):
        for w in windows:
            if not cuts:
                cuts.append(start)
            elif w.start - cuts[-1] >= TASK_SPAN:
                cuts.append(w.start)
    return list(zip(cuts, [*cuts[1:], end], strict=True))


def create(store: Store, trigger: str, ranges: dict[str, list[tuple[datetime, datetime]]],
           sources: dict[str, Source], start: datetime, end: datetime, detached: bool = False,
           resume: bool = False) -> tuple[int, bool]:
    """A job for [start, end) whose tasks cut each source's `ranges` along its request windows. With
    `resume`, an unfinished manual job for exactly this request is taken instead (running the same command
    again resumes it), checked and created in one transaction so two processes agree on one job.
    Returns (job id, resumed)."""
    now = iso(utcnow())
    tasks = [(name, a, b) for name, rs in ranges.items() for r in rs for a, b in task_ranges(sources[name], *r)]
    key = (json.dumps(sorted(ranges)), iso(start), iso(end))

    def work(cur: sqlite3.Cursor) -> tuple[int, bool]:
        if resume:
            row = cur.execute("SELECT id FROM backfill_jobs WHERE trigger = 'manual' AND sources = ? AND start = ?"
                              " AND \"end\" = ? AND status IN ('pending', 'running') ORDER BY id DESC LIMIT 1",
                              key).fetchone()
            if row:
                return row[0], True
        cur.execute("INSERT INTO backfill_jobs (trigger, sources, start, \"end\", detached, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (trigger, *key, int(detached), now))
        job = cur.lastrowid
        cur.executemany("INSERT INTO backfill_tasks (job_id, source, start, \"end\") VALUES (?, ?, ?, ?)",
                        [(job, name, iso(a), iso(b)) for name, a, b in tasks])
        return job, False

    return store.transaction(work)


def _alive(worker: str | None) -> bool:
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: only its heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reset_stuck(store: Store, older_than: timedelta | None = None, now: datetime | None = None) -> int:
    """Tasks `in_progress` whose process is gone (or, with `older_than`, whose heartbeat is that old) go back
    to pending. Returns how many."""
    now = now or utcnow()
    rows = store.query("SELECT id, worker, coalesce(heartbeat_at, started_at) FROM backfill_tasks"
                       " WHERE status = 'in_progress'")
    stuck = [tid for tid, worker, beat in rows
             if not _alive(worker) or (older_than is not None and beat and now - from_iso(beat) > older_than)]
    if stuck:
        store.transaction(lambda cur: cur.executemany(
            "UPDATE backfill_tasks SET status = 'pending', worker = NULL WHERE id = ? AND status = 'in_progress'",
            [(t,) for t in stuck]))
        for job in {r[0] for r in store.query(
                f"SELECT DISTINCT job_id FROM backfill_tasks WHERE id IN ({','.join('?' * len(stuck))})", stuck)}:
            refresh(store, job)
    return len(stuck)


def running_elsewhere(store: Store, job_id: int) -> str | None:
    """The live process (host:pid) other than this one that is working on the job, if any."""
    for (worker,) in store.query("SELECT DISTINCT worker FROM backfill_tasks WHERE job_id = ? AND"
                                 " status = 'in_progress' AND worker IS NOT NULL", (job_id,)):
        if worker != WORKER and _alive(worker):
            return worker
    return None


def claim(store: Store, job_id: int, busy: set[str], now: datetime) -> Task | None:
    """Take the next due pending task of the job whose source is not busy in this process, atomically."""

    def work(cur: sqlite3.Cursor) -> Task | None:
        marks = ",".join("?" * len(busy))
        row = cur.execute(
            "SELECT id, job_id, source, start, \"end\", attempts FROM backfill_tasks WHERE job_id = ?"
            " AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
            + (f" AND source NOT IN ({marks})" if busy else "") + " ORDER BY start, id LIMIT 1",
            (job_id, iso(now), *sorted(busy))).fetchone()
        if row is None:
            return None
        # `attempts` counts finished attempts (_record): a process killed mid-task has not failed one.
        cur.execute("UPDATE backfill_tasks SET status = 'in_progress', worker = ?,"
                    " started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'pending'",
                    (WORKER, iso(now), iso(now), row[0]))
        cur.execute("UPDATE backfill_jobs SET status = 'running', started_at = coalesce(started_at, ?)"
                    " WHERE id = ? AND status = 'pending'", (iso(now), job_id))
        return Task(row[0], row[1], row[2], from_iso(row[3]), from_iso(row[4]), row[5] + 1)

    return store.transaction(work)


def merge(before: replay.Summary | None, s: replay.Summary) -> replay.Summary:
    """One task's counts over several attempts: new ones add up, the last attempt says what still failed."""
    if before is None:
        return s
    new = before.new + s.new
    return replay.Summary(s.source, total=s.total, new=new, failed=s.failed,
                            duplicates=max(s.total - new - s.failed, 0), requested=before.requested + s.requested,
                            answered=before.answered + s.answered,
                            interrupted=s.interrupted, reasons=s.reasons, last_error=s.last_error,
                            retryable=s.retryable)


def _record(store: Store, task: Task, s: replay.Summary, status: str, error: str | None,
            next_attempt: datetime | None = None) -> None:
    """The end of one attempt. `records_new` already holds every reading the task stored, counted in the
    transactions that stored them (_tally), killed attempts included; an interrupted attempt is not one."""
    def work(cur: sqlite3.Cursor) -> None:
        (new,) = cur.execute("SELECT records_new FROM backfill_tasks WHERE id = ?", (task.id,)).fetchone()
        cur.execute(
            "UPDATE backfill_tasks SET status = ?, total = ?, records_fetched = records_fetched + ?,"
            " records_duplicate = ?, records_failed = ?, error = ?, next_attempt_at = ?,"
            " finished_at = ?, worker = NULL, attempts = attempts + ? WHERE id = ?",
            (status, s.total, s.requested, max(s.total - new - s.failed, 0), s.failed, error,
             iso(next_attempt) if next_attempt else None, iso(utcnow()) if status in TERMINAL else None,
             0 if s.interrupted else 1, task.id))

    store.transaction(work)


def _tally(task_id: int) -> Callable[[sqlite3.Cursor, int], None]:
    """Count a task's new readings in the transaction that stores them."""
    def count(cur: sqlite3.Cursor, new: int) -> None:
        if new:
            cur.execute("UPDATE backfill_tasks SET records_new = records_new + ? WHERE id = ?", (new, task_id))
    return count


def refresh(store: Store, job_id: int) -> str:
    """Derive the job's status from its tasks; on its first terminal status, record the end as an event."""
    counts = dict(store.query("SELECT status, count(*) FROM backfill_tasks WHERE job_id = ? GROUP BY status",
                              (job_id,)))
    (current,) = store.query("SELECT status FROM backfill_jobs WHERE id = ?", (job_id,))[0]
    if counts.get("pending") or counts.get("in_progress"):
        status = "running" if counts.get("in_progress") or current == "running" else "pending"
    elif counts.get("cancelled") and not (counts.get("completed") or counts.get("skipped")):
        status = "cancelled"
    elif counts.get("failed") or counts.get("cancelled"):
        status = "failed" if not (counts.get("completed") or counts.get("skipped")) else "partially_completed"
    else:
        status = "completed"
    if status == current:
        return status
    store.transaction(lambda cur: cur.execute(
        "UPDATE backfill_jobs SET status = ?, finished_at = ? WHERE id = ?",
        (status, iso(utcnow()) if status not in ("pending", "running") else None, job_id)))
    if status not in ("pending", "running"):
        totals = totals_by_source(store, job_id)
        fetched = sum(t["fetched"] for t in totals.values())
        new = sum(t["new"] for t in totals.values())
        rate = 1.0 if fetched == 0 else new / fetched
        store.add_event("backfill_finished", {
            "job": job_id, "status": status, "success_rate": round(rate, 3), "level": level(rate),
            "summary": "; ".join(_line(name, t) for name, t in totals.items()),
            **{k: sum(t[k] for t in totals.values()) for k in ("total", "new", "duplicates", "failed")}},
            level="info" if level(rate) == "success" else "warning")
    return status


def totals_by_source(store: Store, job_id: int) -> dict[str, dict[str, int]]:
    rows = store.query(
        "SELECT source, sum(coalesce(total, 0)), sum(records_new), sum(records_duplicate), sum(records_failed),"
        " sum(records_fetched) FROM backfill_tasks WHERE job_id = ? GROUP BY source ORDER BY min(id)", (job_id,))
    return {r[0]: {"total": r[1], "new": r[2], "duplicates": r[3], "failed": r[4], "fetched": r[5]} for r in rows}


def _line(source: str, t: dict[str, int]) -> str:
    return summary_line(source, t["total"], t["new"], t["duplicates"], t["failed"])


def summary_lines(store: Store, job_id: int) -> list[str]:
    """The contract's summary line per source, over the whole job."""
    return [_line(name, t) for name, t in totals_by_source(store, job_id).items()]


def cancel(store: Store, job_id: int) -> int:
    """Pending tasks become cancelled; running ones finish their current chunk."""
    n = store.transaction(lambda cur: cur.execute(
        "UPDATE backfill_tasks SET status = 'cancelled', finished_at = ? WHERE job_id = ? AND status = 'pending'",
        (iso(utcnow()), job_id)).rowcount)
    refresh(store, job_id)
    return n


def retry(store: Store, job_id: int, task_ids: Sequence[int] = ()) -> int:
    """Failed or cancelled tasks (all of the job's, or those named) go back to pending with fresh attempts."""
    only = f" AND id IN ({','.join('?' * len(task_ids))})" if task_ids else ""
    n = store.transaction(lambda cur: cur.execute(
        "UPDATE backfill_tasks SET status = 'pending', attempts = 0, next_attempt_at = NULL, error = NULL,"
        f" finished_at = NULL WHERE job_id = ? AND status IN ('failed', 'cancelled'){only}",
        (job_id, *task_ids)).rowcount)
    if n:
        store.transaction(lambda cur: cur.execute(
            "UPDATE backfill_jobs SET status = 'pending', finished_at = NULL WHERE id = ?", (job_id,)))
    refresh(store, job_id)
    return n


class Runner:
    """Runs one job's tasks on a bounded pool: `workers` tasks at once, never two of the same source at once
    (a source's own `workers` already fetch in parallel; doubling up would be impolite to its server).
    `ran` keeps what this process did per task, for the summary of this run."""

    def __init__(self, store: Store, sources: dict[str, Source], workers: int, fetch_workers: dict[str, int],
                 progress: Callable[[Task, replay.Summary], None] | None = None, max_attempts: int = MAX_ATTEMPTS):
        self.max_attempts = max_attempts
        self.store = store
        self.sources = sources
        self.workers = workers
        self.fetch_workers = fetch_workers
        self.progress = progress
        self.stop = threading.Event()
        self.ran: dict[int, replay.Summary] = {}
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
                (pending,) = self.store.query(
                    "SELECT count(*) FROM backfill_tasks WHERE job_id = ? AND status = 'pending'", (job_id,))[0]
                if not pending:
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
            _record(self.store, task, replay.Summary(task.source), "skipped", "source not enabled")
            return
        last_beat = time.monotonic()

        def on_progress(s: replay.Summary) -> None:
            nonlocal last_beat
            if time.monotonic() - last_beat > HEARTBEAT_EVERY_S:
                last_beat = time.monotonic()
                self.store.transaction(lambda cur: cur.execute(
                    "UPDATE backfill_tasks SET heartbeat_at = ? WHERE id = ?", (iso(utcnow()), task.id)))
            if self.progress:
                self.progress(task, merge(self.ran.get(task.id), s))

        error = None
        try:
            s = replay.run(source, self.store, task.start, task.end, workers=self.fetch_workers.get(task.source, 1),
                           progress=on_progress, stop=self.stop, tally=_tally(task.id))
        except StoreError as exc:  # the database itself (a full disk): every task would fail; stop the run
            self.failure = self.failure or exc
            self.stop.set()
            return  # the task stays in_progress under a dead pid: the next start puts it back to pending
        except Exception as exc:  # a bug: the task fails with the reason, the job goes on
            s, error = replay.Summary(task.source), f"{type(exc).__name__}: {exc}"
        self.ran[task.id] = merge(self.ran.get(task.id), s)
        transient = error is not None or bool(s.requested and s.new == 0 and s.failed and s.retryable
                                              and not s.breaker_open)
        if s.interrupted:  # stopped by us: resumable, and this attempt does not count
            _record(self.store, task, s, "pending", None)
        elif transient and task.attempts < self.max_attempts:
            _record(self.store, task, s, "pending", error or s.last_error,
                    utcnow() + RETRY_BASE * 2 ** (task.attempts - 1))
        else:
            # A task that restored nothing of what it had to fetch (every slot 404, a breaker open, 4xx) has
            # failed, not completed at 0 %: `cielo jobs retry` can take it up again.
            (stored,) = self.store.query("SELECT records_new FROM backfill_tasks WHERE id = ?", (task.id,))[0]
            nothing = bool(s.failed) and not stored and not s.duplicates
            status = "failed" if transient or nothing or error else "completed"
            _record(self.store, task, s, status, error or s.last_error)


def run_summaries(store: Store, job_id: int, sources: dict[str, Source], ran: dict[int, replay.Summary],
                  now: datetime, interrupted: bool = False) -> dict[str, replay.Summary]:
    """This run's summary per source: tasks run here count what they did; tasks done by an earlier run (a
    resumed job) count as the store sees them now: held slots are duplicates, the rest failed. After an
    interrupt only what this run reached is counted."""
    out: dict[str, replay.Summary] = {}
    rows = store.query("SELECT id, source, start, \"end\" FROM backfill_tasks WHERE job_id = ? ORDER BY id",
                       (job_id,))
    for tid, name, start, end in rows:
        total = out.setdefault(name, replay.Summary(name))
        s = ran.get(tid)
        if s is None:
            if interrupted or name not in sources:
                continue
            p = replay.plan(sources[name], store, from_iso(start), from_iso(end), now)
            s = replay.Summary(name, total=p.total, duplicates=p.present, failed=p.total - p.present)
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


def catch_up(store: Store, sources: dict[str, Source], trigger: str, lookback: timedelta, now: datetime,
             min_lag: timedelta | None = None) -> int | None:
    """Find the gaps of every enabled series over `lookback` and queue one job to fill them.

    Each gap goes to the sources of its series in priority order, each taking the part its history window
    still serves (AEMET the last day, then Open-Meteo's forecast and archive); a part no source can serve is
    said once, as an event. With `min_lag`, act only when some series' newest reading is older than that
    (the periodic check). No job when nothing is missing, or while an automatic job is still open."""
    from cielo.backfill import gaps
    from cielo.sources.registry import priorities

    if not sources or store.query("SELECT 1 FROM backfill_jobs WHERE trigger != 'manual'"
                                  " AND status IN ('pending', 'running')"):
        return None
    rank = priorities(next(iter(sources.values())).settings)
    # Every series a source serves, not only its primary: a cloud-cover hole under hours whose temperature
    # another source holds is a gap Open-Meteo fills.
    by_series: dict[str, tuple[SeriesSpec, list[Source]]] = {}
    for source in sources.values():
        if source.history == timedelta(0):
            continue  # live only (OpenWeatherMap): its live job is all it can do
        for spec in source.series:
            if not spec.derived:  # filled with the primary: its holes are the primary's
                by_series.setdefault(spec.name, (spec, []))[1].append(source)
    start = now - lookback
    ranges: dict[str, list[tuple[datetime, datetime]]] = {}
    unserved: list[dict[str, str]] = []
    lagging = min_lag is None
    for series, (spec, group) in by_series.items():
        group.sort(key=lambda s: -rank.get(s.config_name or s.name, rank.get(s.name, 0)))
        found = gaps.analyse(store, group[0], spec, start, now)
        if found.lag is None or min_lag is None or found.lag > min_lag:
            lagging = True
        for gap in found.gaps:
            left = (gap.start, gap.end + timedelta(seconds=1))
            for source in group:
                span = source.serves(*left, now)
                if span is None:
                    continue
                ranges.setdefault(source.name, []).append(span)
                left = (left[0], span[0])
                if left[0] >= left[1]:
                    break
            else:
                if left[0] < left[1] and source.slots(*left):
                    unserved.append({"series": series, "from": iso(left[0]), "to": iso(left[1])})
    if unserved:
        seen = {json.dumps(u, sort_keys=True) for (d,) in store.query(
            "SELECT data FROM events WHERE kind = 'gap_unservable'") for u in json.loads(d).get("ranges", [])}
        fresh = [u for u in unserved if json.dumps(u, sort_keys=True) not in seen]
        if fresh:
            log.warning("catch-up: %d gap(s) no enabled source can serve (e.g. %s %s → %s)", len(fresh),
                        fresh[0]["series"], fresh[0]["from"], fresh[0]["to"])
            store.add_event("gap_unservable", {"ranges": fresh}, level="warning")
    if not ranges or not lagging:
        return None
    ranges = {name: _union(spans) for name, spans in ranges.items()}  # several series' gaps overlap
    job, _ = create(store, trigger, ranges, sources, start, now)
    store.add_event("backfill_started", {"job": job, "trigger": trigger, "from": iso(start), "to": iso(now),
                                         "sources": sorted(ranges)})
    log.info("catch-up: job %d queued for %s", job, ", ".join(f"{n} ({len(r)} gaps)" for n, r in ranges.items()))
    return job


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    trigger: str
    status: str
    sources: list[str]
    start: str
    end: str
    created_at: str
    started_at: str | None
    finished_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "trigger": self.trigger, "status": self.status, "sources": self.sources,
                "from": self.start, "to": self.end, "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at}


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    source: str
    start: str
    end: str
    status: str
    attempts: int
    total: int | None
    new: int
    duplicates: int
    failed: int
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "from": self.start, "to": self.end, "status": self.status,
                "attempts": self.attempts, "total": self.total, "new": self.new, "duplicates": self.duplicates,
                "failed": self.failed, "error": self.error}


_JOB_COLUMNS = 'id, trigger, status, sources, start, "end", created_at, started_at, finished_at'


def _job(row: tuple) -> JobRow:
    return JobRow(row[0], row[1], row[2], json.loads(row[3]), *row[4:])


def jobs(store: Store, limit: int = 50) -> list[JobRow]:
    """The newest jobs first."""
    return [_job(r) for r in store.query(f"SELECT {_JOB_COLUMNS} FROM backfill_jobs ORDER BY id DESC LIMIT ?",
                                         (limit,))]


def job(store: Store, job_id: int) -> JobRow | None:
    rows = store.query(f"SELECT {_JOB_COLUMNS} FROM backfill_jobs WHERE id = ?", (job_id,))
    return _job(rows[0]) if rows else None


def tasks(store: Store, job_id: int) -> list[TaskRow]:
    return [TaskRow(*r) for r in store.query(
        'SELECT id, source, start, "end", status, attempts, total, records_new, records_duplicate, records_failed,'
        " error FROM backfill_tasks WHERE job_id = ? ORDER BY id", (job_id,))]


def open_jobs(store: Store) -> list[int]:
    return [r[0] for r in store.query("SELECT id FROM backfill_jobs WHERE status IN ('pending', 'running')"
                                      " ORDER BY id")]
