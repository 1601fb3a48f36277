"""Request budgets (token buckets) and circuit breakers per source, in tables http_budget and http_breaker.
Functions over a cursor run inside the caller's transaction (cielo.guard decides what the rows mean)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path


def bucket_level(cur: sqlite3.Cursor, source: str, bucket: str) -> tuple[float, float] | None:
    """(tokens, updated) of one bucket, None when it was never used (full)."""
    return cur.execute("SELECT tokens, updated FROM http_budget WHERE source = ? AND bucket = ?",
                       (source, bucket)).fetchone()


def set_buckets(cur: sqlite3.Cursor, source: str, levels: Sequence[tuple[str, float, float]]) -> None:
    """(bucket, tokens, updated) of each bucket of `source`."""
    cur.executemany(
        "INSERT INTO http_budget (source, bucket, tokens, updated) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (source, bucket) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
        [(source, *level) for level in levels])


def breaker(cur: sqlite3.Cursor | sqlite3.Connection, source: str) -> tuple | None:
    """(state, failures, opened_at, trial_at, last_error) of the source's breaker, None when never used."""
    return cur.execute("SELECT state, failures, opened_at, trial_at, last_error FROM http_breaker WHERE source = ?",
                       (source,)).fetchone()


def half_open(cur: sqlite3.Cursor, source: str, trial_at: float, now: str) -> None:
    cur.execute("UPDATE http_breaker SET state = 'half_open', trial_at = ?, updated_at = ? WHERE source = ?",
                (trial_at, now, source))


def new_trial(cur: sqlite3.Cursor, source: str, trial_at: float) -> None:
    cur.execute("UPDATE http_breaker SET trial_at = ? WHERE source = ?", (trial_at, source))


def close_breaker(cur: sqlite3.Cursor, source: str, now: str) -> None:
    cur.execute("UPDATE http_breaker SET state = 'closed', failures = 0, opened_at = NULL, trial_at = NULL,"
                " updated_at = ? WHERE source = ?", (now, source))


def set_breaker(cur: sqlite3.Cursor, source: str, state: str, failures: int, opened_at: float | None, error: str,
                now: str) -> None:
    """A failure counted: the new state and count; `opened_at` only when this failure opened it."""
    cur.execute(
        "INSERT INTO http_breaker (source, state, failures, opened_at, last_error, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET state = excluded.state,"
        " failures = excluded.failures, opened_at = coalesce(excluded.opened_at, opened_at),"
        " last_error = excluded.last_error, updated_at = excluded.updated_at",
        (source, state, failures, opened_at, error, now))


def breaker_states(db_path: Path) -> dict[str, tuple[str, int, str | None]]:
    """source -> (state, consecutive failures, last error), for `cielo sources`: read without creating or
    migrating the database (an older file without the table has no breakers)."""
    con = sqlite3.connect(db_path)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in con.execute(
            "SELECT source, state, failures, last_error FROM http_breaker")}
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()
