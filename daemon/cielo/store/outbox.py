"""The outbox table: messages written in the same transaction as what they announce, deleted once the
broker has them; published_live remembers what each live topic last carried. What goes in and when is
the output's (cielo.outputs.mqtt.outbox); this module holds the SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from cielo.store.database import Store

Row = tuple[str, str, int, int, str, str]  # topic, payload, retain, qos, kind, created_at


def add(cur: sqlite3.Cursor, rows: Sequence[Row]) -> None:
    """The one writer of outbox rows."""
    cur.executemany("INSERT INTO outbox (topic, payload, retain, qos, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    rows)


def live_mark(cur: sqlite3.Cursor, series: str) -> str | None:
    """The slot the series' live topic last carried."""
    row = cur.execute("SELECT ts FROM published_live WHERE series = ?", (series,)).fetchone()
    return row[0] if row else None


def mark_live(cur: sqlite3.Cursor, series: str, ts: str) -> None:
    cur.execute("INSERT INTO published_live (series, ts) VALUES (?, ?)"
                " ON CONFLICT (series) DO UPDATE SET ts = excluded.ts", (series, ts))


def newest_until(cur: sqlite3.Cursor, series: str, until: str) -> tuple | None:
    """(ts, value, unit, source, attrs JSON) of the series' newest reading at or before `until`."""
    return cur.execute("SELECT ts, value, unit, source, attrs FROM readings WHERE series = ? AND ts <= ?"
                       " ORDER BY ts DESC LIMIT 1", (series, until)).fetchone()


def live_readings(cur: sqlite3.Cursor) -> list[tuple]:
    """(series, ts, value, unit, source, attrs JSON) of what each live topic last carried."""
    return cur.execute("SELECT r.series, r.ts, r.value, r.unit, r.source, r.attrs FROM published_live p"
                       " JOIN readings r ON r.series = p.series AND r.ts = p.ts ORDER BY r.series").fetchall()


def trim(cur: sqlite3.Cursor, cap: int) -> tuple[int, int]:
    """Past `cap` rows: drop retained live/state messages superseded by a newer one for the same topic, then
    the oldest backfill messages. Returns (superseded dropped, backfill dropped)."""
    low, high = cur.execute("SELECT min(id), max(id) FROM outbox").fetchone()
    if low is None or high - low + 1 <= cap:  # ids are dense unless rows left: a cheap upper bound
        return 0, 0
    (count,) = cur.execute("SELECT count(*) FROM outbox").fetchone()
    if count <= cap:
        return 0, 0
    superseded = cur.execute(
        "DELETE FROM outbox WHERE kind IN ('live', 'state') AND id NOT IN"
        " (SELECT max(id) FROM outbox WHERE kind IN ('live', 'state') GROUP BY topic)").rowcount
    count -= superseded
    oldest = 0
    if count > cap:
        oldest = cur.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE kind = 'backfill'"
                             " ORDER BY id LIMIT ?)", (count - cap,)).rowcount
    return superseded, oldest


def waiting(store: Store, after: int, limit: int) -> list[tuple[int, str, str, int, int]]:
    """(id, topic, payload, retain, qos) of the next messages to send, oldest first."""
    return store.query("SELECT id, topic, payload, retain, qos FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                       (after, limit))


def forget(store: Store, ids: Sequence[int]) -> None:
    """Messages the broker has: out of the outbox."""
    store.transaction(lambda cur: cur.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids]))


def depth(store: Store) -> tuple[int, str | None]:
    """Messages waiting for the broker, and when the oldest was written."""
    return store.query("SELECT count(*), min(created_at) FROM outbox")[0]
