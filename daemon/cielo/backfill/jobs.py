"""Persistent, resumable backfill jobs: a job per request, tasks per source × chunk, all in SQLite (the
rows are cielo.store.jobs'; this module says what they mean).

A task is claimed inside one write transaction (`BEGIN IMMEDIATE` + an UPDATE of a pending row), so two
cielo processes never run the same task. A task left `in_progress` by a process that died (its pid is gone
on this host, or its heartbeat is older than asked) goes back to `pending` and is run again: what it had
committed is found in the store and costs no request. A failed task is retried with exponential backoff up
to `MAX_ATTEMPTS`, then stays `failed` with its error. A job ends `completed`, `partially_completed` or
`failed` from its tasks, and that end is an event with counts, success rate and level. A job nobody is
working on any more (stopped by Ctrl-C or SIGTERM, or its process gone) is `interrupted`: still open, resumed
by the same command, `cielo jobs run` or the daemon.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cielo.backfill.ranges import task_ranges
from cielo.ingest.summary import Summary
from cielo.sources.base import Source, summary_line
from cielo.store import Store
from cielo.store import jobs as rows
from cielo.timeutil import from_iso, iso, utcnow

MAX_ATTEMPTS = 3
RETRY_BASE = timedelta(seconds=2)  # 2 s, 4 s, ... between attempts of a failed task
TERMINAL = ("completed", "failed", "skipped", "cancelled")
OPEN = ("pending", "running", "interrupted")  # a job with work left
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
    """The contract's event levels: success above 80 % restored, partial 20-80 %, failed below 20 %."""
    return "success" if rate > 0.8 else "partial" if rate >= 0.2 else "failed"


def create(store: Store, trigger: str, ranges: dict[str, list[tuple[datetime, datetime]]],
           sources: dict[str, Source], start: datetime, end: datetime, detached: bool = False,
           resume: bool = False) -> tuple[int, bool]:
    """A job for [start, end) whose tasks cut each source's `ranges` along its request windows. With
    `resume`, an unfinished manual job for exactly this request is taken instead (running the same command
    again resumes it), checked and created in one transaction so two processes agree on one job.
    Returns (job id, resumed)."""
    now = iso(utcnow())
    tasks = [(name, iso(a), iso(b)) for name, rs in ranges.items() for r in rs
             for a, b in task_ranges(sources[name], *r)]
    key = (json.dumps(sorted(ranges)), iso(start), iso(end))

    def work(cur: Any) -> tuple[int, bool]:
        if resume and (found := rows.find_open_manual(cur, *key)) is not None:
            return found, True
        return rows.insert_job(cur, trigger, *key, detached, now, tasks), False

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
    stuck = [tid for tid, worker, beat in rows.in_progress(store)
             if not _alive(worker) or (older_than is not None and beat and now - from_iso(beat) > older_than)]
    if stuck:
        for job in set(rows.back_to_pending(store, stuck)):
            refresh(store, job)
    mark_interrupted(store)
    return len(stuck)


def mark_interrupted(store: Store, job_id: int | None = None) -> int:
    """Jobs `running` with no task in progress (their process stopped or is gone) become `interrupted`. A
    runner merely between two tasks takes its job back to `running` with the next claim."""
    return rows.mark_interrupted(store, job_id)


def running_elsewhere(store: Store, job_id: int) -> str | None:
    """The live process (host:pid) other than this one that is working on the job, if any."""
    for worker in rows.workers(store, job_id):
        if worker != WORKER and _alive(worker):
            return worker
    return None


def claim(store: Store, job_id: int, busy: set[str], now: datetime) -> Task | None:
    """Take the next due pending task of the job whose source is not busy in this process, atomically."""
    row = store.transaction(lambda cur: rows.claim_next(cur, job_id, busy, iso(now), WORKER))
    if row is None:
        return None
    # `attempts` counts finished attempts (record): a process killed mid-task has not failed one.
    return Task(row[0], row[1], row[2], from_iso(row[3]), from_iso(row[4]), row[5] + 1)


def record(store: Store, task: Task, s: Summary, status: str, error: str | None,
           next_attempt: datetime | None = None) -> None:
    """The end of one attempt. `records_new` already holds every reading the task stored, counted in the
    transactions that stored them (store.jobs.tally), killed attempts included; an interrupted attempt is
    not one."""
    rows.end_attempt(store, task.id, status, s.total, s.requested, s.failed, error,
                     iso(next_attempt) if next_attempt else None,
                     iso(utcnow()) if status in TERMINAL else None, counts=not s.interrupted)


def refresh(store: Store, job_id: int) -> str:
    """Derive the job's status from its tasks; on its first terminal status, record the end as an event."""
    counts = rows.status_counts(store, job_id)
    current = rows.job_status(store, job_id)
    if counts.get("pending") or counts.get("in_progress"):
        status = "running" if counts.get("in_progress") or current == "running" else \
            "interrupted" if current == "interrupted" else "pending"
    elif counts.get("cancelled") and not (counts.get("completed") or counts.get("skipped")):
        status = "cancelled"
    elif counts.get("failed") or counts.get("cancelled"):
        status = "failed" if not (counts.get("completed") or counts.get("skipped")) else "partially_completed"
    else:
        status = "completed"
    if status == current:
        return status
    rows.set_job_status(store, job_id, status, iso(utcnow()) if status not in OPEN else None)
    if status not in OPEN:
        totals = rows.totals_by_source(store, job_id)
        fetched = sum(t["fetched"] for t in totals.values())
        new = sum(t["new"] for t in totals.values())
        rate = 1.0 if fetched == 0 else new / fetched
        store.add_event("backfill_finished", {
            "job": job_id, "status": status, "success_rate": round(rate, 3), "level": level(rate),
            "summary": "; ".join(_line(name, t) for name, t in totals.items()),
            **{k: sum(t[k] for t in totals.values()) for k in ("total", "new", "duplicates", "failed")}},
            level="info" if level(rate) == "success" else "warning")
    return status


def _line(source: str, t: dict[str, int]) -> str:
    return summary_line(source, t["total"], t["new"], t["duplicates"], t["failed"])


def summary_lines(store: Store, job_id: int) -> list[str]:
    """The contract's summary line per source, over the whole job."""
    return [_line(name, t) for name, t in rows.totals_by_source(store, job_id).items()]


def cancel(store: Store, job_id: int) -> int:
    """Pending tasks become cancelled; running ones finish their current chunk."""
    n = rows.cancel_pending(store, job_id, iso(utcnow()))
    refresh(store, job_id)
    return n


def retry(store: Store, job_id: int, task_ids: Sequence[int] = ()) -> int:
    """Failed or cancelled tasks (all of the job's, or those named) go back to pending with fresh attempts."""
    n = rows.reopen(store, job_id, task_ids)
    refresh(store, job_id)
    return n


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


def _job(row: tuple, store: Store) -> JobRow:
    status = row[2]
    if status == "running":  # what the database says; the processes say whether anyone is still at it
        workers = rows.workers(store, row[0])
        if workers and not any(_alive(w) for w in workers):
            status = "interrupted"
    return JobRow(row[0], row[1], status, json.loads(row[3]), *row[4:])


def jobs(store: Store, limit: int = 50) -> list[JobRow]:
    """The newest jobs first."""
    return [_job(r, store) for r in rows.job_rows(store, limit)]


def job(store: Store, job_id: int) -> JobRow | None:
    row = rows.job_row(store, job_id)
    return _job(row, store) if row else None


def tasks(store: Store, job_id: int) -> list[TaskRow]:
    return [TaskRow(*r) for r in rows.task_rows(store, job_id)]


def open_jobs(store: Store) -> list[int]:
    return rows.open_job_ids(store)


def list_lines(rows: list[JobRow]) -> list[str]:
    if not rows:
        return ["no backfill jobs yet"]
    head = f"{'id':>5}  {'status':<19} {'trigger':<8} {'sources':<20} {'from → to':<43}  created"
    return [head] + [f"{r.id:>5}  {r.status:<19} {r.trigger:<8} {','.join(r.sources):<20} {r.start} → {r.end}  "
                     f"{r.created_at}" for r in rows]


def show_lines(store: Store, job: JobRow, task_rows: list[TaskRow]) -> list[str]:
    """`cielo jobs show`: the job, its summary line per source, then each task."""
    out = [f"job {job.id} ({job.trigger}): {job.status}, {job.start} → {job.end}, created {job.created_at}"]
    out += [f"  {line}" for line in summary_lines(store, job.id)]
    for t in task_rows:
        counts = "" if t.total is None else f" total={t.total} new={t.new} duplicates={t.duplicates} failed={t.failed}"
        err = f"  error: {t.error}" if t.error else ""
        out.append(f"  task {t.id:>5} {t.source:<10} {t.start} → {t.end} {t.status:<11} attempts={t.attempts}"
                   f"{counts}{err}")
    return out
