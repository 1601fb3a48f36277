"""Backfill jobs and their tasks in SQLite (tables backfill_jobs, backfill_tasks). Plain functions over a
Store; what a status means and when it changes is cielo.backfill.jobs'."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from cielo.store.database import Store

JOB_COLUMNS = 'id, trigger, status, sources, start, "end", created_at, started_at, finished_at'
TASK_COLUMNS = ('id, source, start, "end", status, attempts, total, records_new, records_duplicate, records_failed,'
                " error")


def find_open_manual(cur: sqlite3.Cursor, sources: str, start: str, end: str) -> int | None:
    row = cur.execute("SELECT id FROM backfill_jobs WHERE trigger = 'manual' AND sources = ? AND start = ?"
                      " AND \"end\" = ? AND status IN ('pending', 'running', 'interrupted') ORDER BY id DESC"
                      " LIMIT 1",
                      (sources, start, end)).fetchone()
    return row[0] if row else None


def insert_job(cur: sqlite3.Cursor, trigger: str, sources: str, start: str, end: str, detached: bool, now: str,
               tasks: Sequence[tuple[str, str, str]]) -> int:
    """A job and its (source, start, end) tasks; returns the job's id."""
    cur.execute("INSERT INTO backfill_jobs (trigger, sources, start, \"end\", detached, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", (trigger, sources, start, end, int(detached), now))
    job = cur.lastrowid
    assert job is not None
    cur.executemany("INSERT INTO backfill_tasks (job_id, source, start, \"end\") VALUES (?, ?, ?, ?)",
                    [(job, name, a, b) for name, a, b in tasks])
    return job


def in_progress(store: Store) -> list[tuple[int, str | None, str | None]]:
    """(task id, worker, last heartbeat or start) of every task marked in progress."""
    return store.query("SELECT id, worker, coalesce(heartbeat_at, started_at) FROM backfill_tasks"
                       " WHERE status = 'in_progress'")


def back_to_pending(store: Store, task_ids: Sequence[int]) -> list[int]:
    """Tasks still in progress go back to pending; returns the jobs they belong to."""
    store.transaction(lambda cur: cur.executemany(
        "UPDATE backfill_tasks SET status = 'pending', worker = NULL WHERE id = ? AND status = 'in_progress'",
        [(t,) for t in task_ids]))
    return [r[0] for r in store.query(
        f"SELECT DISTINCT job_id FROM backfill_tasks WHERE id IN ({','.join('?' * len(task_ids))})", task_ids)]


def workers(store: Store, job_id: int) -> list[str]:
    """The processes (host:pid) marked as working on the job's tasks."""
    return [r[0] for r in store.query("SELECT DISTINCT worker FROM backfill_tasks WHERE job_id = ? AND"
                                      " status = 'in_progress' AND worker IS NOT NULL", (job_id,))]


def claim_next(cur: sqlite3.Cursor, job_id: int, busy: set[str], now: str, worker: str) -> tuple | None:
    """Mark the next due pending task whose source is not in `busy` as in progress (and the job running);
    returns (id, job_id, source, start, end, attempts) or None."""
    marks = ",".join("?" * len(busy))
    row = cur.execute(
        "SELECT id, job_id, source, start, \"end\", attempts FROM backfill_tasks WHERE job_id = ?"
        " AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        + (f" AND source NOT IN ({marks})" if busy else "") + " ORDER BY start, id LIMIT 1",
        (job_id, now, *sorted(busy))).fetchone()
    if row is None:
        return None
    cur.execute("UPDATE backfill_tasks SET status = 'in_progress', worker = ?,"
                " started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'pending'", (worker, now, now, row[0]))
    cur.execute("UPDATE backfill_jobs SET status = 'running', started_at = coalesce(started_at, ?)"
                " WHERE id = ? AND status IN ('pending', 'interrupted')", (now, job_id))
    return row


def end_attempt(store: Store, task_id: int, status: str, total: int, fetched: int, failed: int, error: str | None,
                next_attempt: str | None, finished: str | None, counts: bool) -> None:
    """The end of one attempt of a task; duplicates are what the total leaves after the new ones the task
    counted (records_new) and the failed ones."""
    def work(cur: sqlite3.Cursor) -> None:
        (new,) = cur.execute("SELECT records_new FROM backfill_tasks WHERE id = ?", (task_id,)).fetchone()
        cur.execute(
            "UPDATE backfill_tasks SET status = ?, total = ?, records_fetched = records_fetched + ?,"
            " records_duplicate = ?, records_failed = ?, error = ?, next_attempt_at = ?,"
            " finished_at = ?, worker = NULL, attempts = attempts + ? WHERE id = ?",
            (status, total, fetched, max(total - new - failed, 0), failed, error, next_attempt, finished,
             int(counts), task_id))

    store.transaction(work)


def tally(task_id: int) -> Callable[[sqlite3.Cursor, int], None]:
    """Count a task's new readings in the transaction that stores them."""
    def count(cur: sqlite3.Cursor, new: int) -> None:
        if new:
            cur.execute("UPDATE backfill_tasks SET records_new = records_new + ? WHERE id = ?", (new, task_id))
    return count


def heartbeat(store: Store, task_id: int, now: str) -> None:
    store.transaction(lambda cur: cur.execute("UPDATE backfill_tasks SET heartbeat_at = ? WHERE id = ?",
                                              (now, task_id)))


def records_new(store: Store, task_id: int) -> int:
    return store.query("SELECT records_new FROM backfill_tasks WHERE id = ?", (task_id,))[0][0]


def pending_count(store: Store, job_id: int) -> int:
    return store.query("SELECT count(*) FROM backfill_tasks WHERE job_id = ? AND status = 'pending'",
                       (job_id,))[0][0]


def status_counts(store: Store, job_id: int) -> dict[str, int]:
    return dict(store.query("SELECT status, count(*) FROM backfill_tasks WHERE job_id = ? GROUP BY status",
                            (job_id,)))


def job_status(store: Store, job_id: int) -> str:
    return store.query("SELECT status FROM backfill_jobs WHERE id = ?", (job_id,))[0][0]


def set_job_status(store: Store, job_id: int, status: str, finished: str | None) -> None:
    store.transaction(lambda cur: cur.execute("UPDATE backfill_jobs SET status = ?, finished_at = ? WHERE id = ?",
                                              (status, finished, job_id)))


def totals_by_source(store: Store, job_id: int) -> dict[str, dict[str, int]]:
    rows = store.query(
        "SELECT source, sum(coalesce(total, 0)), sum(records_new), sum(records_duplicate), sum(records_failed),"
        " sum(records_fetched) FROM backfill_tasks WHERE job_id = ? GROUP BY source ORDER BY min(id)", (job_id,))
    return {r[0]: {"total": r[1], "new": r[2], "duplicates": r[3], "failed": r[4], "fetched": r[5]} for r in rows}


def cancel_pending(store: Store, job_id: int, now: str) -> int:
    return store.transaction(lambda cur: cur.execute(
        "UPDATE backfill_tasks SET status = 'cancelled', finished_at = ? WHERE job_id = ? AND status = 'pending'",
        (now, job_id)).rowcount)


def reopen(store: Store, job_id: int, task_ids: Sequence[int] = ()) -> int:
    """Failed or cancelled tasks (all of the job's, or those named) back to pending with fresh attempts, and
    the job with them; returns how many tasks."""
    only = f" AND id IN ({','.join('?' * len(task_ids))})" if task_ids else ""

    def work(cur: sqlite3.Cursor) -> int:
        n = cur.execute(
            "UPDATE backfill_tasks SET status = 'pending', attempts = 0, next_attempt_at = NULL, error = NULL,"
            f" finished_at = NULL WHERE job_id = ? AND status IN ('failed', 'cancelled'){only}",
            (job_id, *task_ids)).rowcount
        if n:
            cur.execute("UPDATE backfill_jobs SET status = 'pending', finished_at = NULL WHERE id = ?", (job_id,))
        return n

    return store.transaction(work)


def task_spans(store: Store, job_id: int) -> list[tuple[int, str, str, str]]:
    """(id, source, start, end) of every task of the job, in id order."""
    return store.query("SELECT id, source, start, \"end\" FROM backfill_tasks WHERE job_id = ? ORDER BY id",
                       (job_id,))


def automatic_open(store: Store) -> bool:
    """Whether a job not started by hand (a catch-up) is still open (pending, running or interrupted)."""
    return bool(store.query("SELECT 1 FROM backfill_jobs WHERE trigger != 'manual'"
                            " AND status IN ('pending', 'running', 'interrupted')"))


def job_rows(store: Store, limit: int) -> list[tuple]:
    return store.query(f"SELECT {JOB_COLUMNS} FROM backfill_jobs ORDER BY id DESC LIMIT ?", (limit,))


def job_row(store: Store, job_id: int) -> tuple | None:
    rows = store.query(f"SELECT {JOB_COLUMNS} FROM backfill_jobs WHERE id = ?", (job_id,))
    return rows[0] if rows else None


def task_rows(store: Store, job_id: int) -> list[tuple]:
    return store.query(f"SELECT {TASK_COLUMNS} FROM backfill_tasks WHERE job_id = ? ORDER BY id", (job_id,))


def open_job_ids(store: Store) -> list[int]:
    return [r[0] for r in store.query("SELECT id FROM backfill_jobs WHERE status IN"
                                      " ('pending', 'running', 'interrupted') ORDER BY id")]


def mark_interrupted(store: Store, job_id: int | None = None) -> int:
    """Jobs `running` with no task in progress become `interrupted` (all, or the one given); how many."""
    only = " AND id = ?" if job_id is not None else ""
    return store.transaction(lambda cur: cur.execute(
        "UPDATE backfill_jobs SET status = 'interrupted' WHERE status = 'running' AND id NOT IN"
        f" (SELECT job_id FROM backfill_tasks WHERE status = 'in_progress'){only}",
        () if job_id is None else (job_id,)).rowcount)

