"""The SQLite store: schema, migrations and batched, idempotent writes (DESIGN.md, Database).

One file in WAL mode that people may query while the daemon writes. The store knows nothing of HTTP or
MQTT; callers hand it readings and it answers what it holds. Every write is one transaction per batch keyed
on `(series, ts)`, so a kill -9 leaves either the whole batch or none of it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cielo.errors import CieloError
from cielo.timeutil import iso, utcnow

T = TypeVar("T")

# Each entry moves the schema from version i to i + 1; only ever append.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE readings (
        series      TEXT NOT NULL,
        ts          TEXT NOT NULL,
        value       REAL,
        unit        TEXT,
        source      TEXT NOT NULL,
        attrs       TEXT NOT NULL DEFAULT '{}',
        ingested_at TEXT NOT NULL,
        PRIMARY KEY (series, ts)
    ) WITHOUT ROWID;

    CREATE TABLE missing (
        series       TEXT NOT NULL,
        ts           TEXT NOT NULL,
        source       TEXT NOT NULL,
        reason       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 1,
        first_seen   TEXT NOT NULL,
        last_attempt TEXT NOT NULL,
        next_retry   TEXT NOT NULL,
        PRIMARY KEY (series, ts)
    ) WITHOUT ROWID;

    CREATE TABLE events (
        id     INTEGER PRIMARY KEY,
        ts     TEXT NOT NULL,
        kind   TEXT NOT NULL,
        level  TEXT NOT NULL DEFAULT 'info',
        source TEXT,
        data   TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_ts ON events (ts);

    CREATE VIEW octas AS
    SELECT ts,
           value                                   AS octas,
           json_extract(attrs, '$.confidence')     AS confidence,
           json_extract(attrs, '$.flag')           AS flag,
           json_extract(attrs, '$.sun_elevation')  AS sun_elevation,
           json_extract(attrs, '$.model')          AS model,
           json_extract(attrs, '$.url')            AS image_url,
           json_extract(attrs, '$.sha256')         AS image_sha256,
           source,
           ingested_at
      FROM readings
     WHERE series = 'skycam.octas';
    """,
    """
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        topic      TEXT NOT NULL,
        payload    TEXT NOT NULL,
        retain     INTEGER NOT NULL DEFAULT 0,
        qos        INTEGER NOT NULL DEFAULT 1,
        kind       TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX outbox_topic ON outbox (topic, id);

    CREATE TABLE published_live (
        series TEXT PRIMARY KEY,
        ts     TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE daemon_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE backfill_jobs (
        id          INTEGER PRIMARY KEY,
        trigger     TEXT NOT NULL,
        sources     TEXT NOT NULL,
        start       TEXT NOT NULL,
        "end"       TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'pending',
        detached    INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT
    );
    CREATE INDEX backfill_jobs_status ON backfill_jobs (status);

    CREATE TABLE backfill_tasks (
        id                INTEGER PRIMARY KEY,
        job_id            INTEGER NOT NULL REFERENCES backfill_jobs (id),
        source            TEXT NOT NULL,
        start             TEXT NOT NULL,
        "end"             TEXT NOT NULL,
        status            TEXT NOT NULL DEFAULT 'pending',
        attempts          INTEGER NOT NULL DEFAULT 0,
        next_attempt_at   TEXT,
        total             INTEGER,
        records_fetched   INTEGER NOT NULL DEFAULT 0,
        records_new       INTEGER NOT NULL DEFAULT 0,
        records_duplicate INTEGER NOT NULL DEFAULT 0,
        records_failed    INTEGER NOT NULL DEFAULT 0,
        error             TEXT,
        worker            TEXT,
        started_at        TEXT,
        heartbeat_at      TEXT,
        finished_at       TEXT
    );
    CREATE INDEX backfill_tasks_job ON backfill_tasks (job_id, status);
    """,
]


@dataclass(frozen=True, slots=True)
class Reading:
    series: str
    ts: datetime
    value: float | None
    unit: str | None
    source: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Missing:
    """A slot the source answered 'does not exist' for; asked again after `retry_after`."""

    series: str
    ts: datetime
    source: str
    reason: str
    retry_after: timedelta


class StoreError(CieloError):
    pass


class Announcer(Protocol):
    """Turns what a transaction stores into outbox messages, inside that same transaction (cielo.mqtt)."""

    def readings(self, cur: sqlite3.Cursor, new: Sequence[Reading], mode: str, now: datetime) -> None: ...

    def event(self, cur: sqlite3.Cursor, ts: str, kind: str, level: str, source: str | None,
              data: dict[str, Any]) -> None: ...


class Store:
    """Thread-safe: one connection, one lock; SQLite is fastest with batches from one writer."""

    def __init__(self, path: Path | str, announcer: Announcer | None = None):
        self.path = Path(path)
        self.announcer = announcer
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._wal()
            # NORMAL in WAL keeps every committed batch across a crash; only a power cut may drop the last ones.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._lock = threading.Lock()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open database: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: {exc.strerror or exc}") from None

    def _wal(self) -> None:
        """Switch to WAL. Two processes creating the file at once can be told 'locked' without the busy
        timeout applying, so retry for a while."""
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
        return row[0] or 0

    def _migrate(self) -> None:
        """Apply what is missing in one write transaction: two cielo processes starting at once are safe."""

        def work(cur: sqlite3.Cursor) -> None:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if current > len(MIGRATIONS):
                raise StoreError(f"{self.path}: schema version {current} is newer than this cielo knows "
                                 f"({len(MIGRATIONS)}); upgrade cielo")
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in _statements(script):
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, iso(utcnow())))

        self.transaction(work)

    def transaction(self, work: Callable[[sqlite3.Cursor], T]) -> T:
        """Run `work(cursor)` in one write transaction: all of it is stored, or none (a kill -9 included)."""
        with self._lock:
            try:
                cur = self._db.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    result = work(cur)
                    cur.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite has already rolled back on some errors (disk full)
                        cur.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: write failed: {exc}") from None
        return result

    def _write(self, sql_batches: Iterable[tuple[str, Sequence[Sequence[Any]]]]) -> list[int]:
        """Several executemany() in one transaction; returns rows changed by each."""
        return self.transaction(lambda cur: [cur.executemany(sql, rows).rowcount for sql, rows in sql_batches])

    def add_readings(self, readings: Sequence[Reading], now: datetime | None = None, mode: str = "backfill") -> int:
        """Store a batch in one transaction; a slot already held is left as it is. Returns how many are new.

        `mode` ("live" or "backfill") tells the announcer how to publish the new ones."""
        if not readings:
            return 0
        now = now or utcnow()
        stamp = iso(now)
        insert = (
            "INSERT INTO readings (series, ts, value, unit, source, attrs, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series, ts) DO NOTHING"
        )
        def work(cur: sqlite3.Cursor) -> list[Reading]:
            new = []
            for r in readings:
                attrs = json.dumps(r.attrs, separators=(",", ":"), sort_keys=True)
                cur.execute(insert, (r.series, iso(r.ts), r.value, r.unit, r.source, attrs, stamp))
                if cur.rowcount == 1:
                    new.append(r)
            cur.executemany("DELETE FROM missing WHERE series = ? AND ts = ?", [(r.series, iso(r.ts)) for r in new])
            if new and self.announcer is not None:
                self.announcer.readings(cur, new, mode, now)
            return new

        new = self.transaction(work)
        return len(new)

    def add_missing(self, items: Sequence[Missing], now: datetime | None = None) -> None:
        """Record 'does not exist' answers; a slot seen again counts one more attempt."""
        if not items:
            return
        now = now or utcnow()
        stamp = iso(now)
        rows = [(m.series, iso(m.ts), m.source, m.reason, stamp, stamp, iso(now + m.retry_after)) for m in items]
        self._write(
            [
                (
                    "INSERT INTO missing (series, ts, source, reason, attempts, first_seen, last_attempt, next_retry)"
                    " VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                    " ON CONFLICT (series, ts) DO UPDATE SET attempts = attempts + 1, reason = excluded.reason,"
                    " last_attempt = excluded.last_attempt, next_retry = excluded.next_retry",
                    rows,
                )
            ]
        )

    def missing_attempts(self, series: str, ts: datetime) -> int:
        row = self._db.execute("SELECT attempts FROM missing WHERE series = ? AND ts = ?", (series, iso(ts))).fetchone()
        return row[0] if row else 0

    def present(self, series: str, start: datetime, end: datetime) -> set[str]:
        """Timestamps (ISO text) held for `series` in [start, end): one range scan of the primary key."""
        with self._lock:
            cur = self._db.execute(
                "SELECT ts FROM readings WHERE series = ? AND ts >= ? AND ts < ?", (series, iso(start), iso(end))
            )
            return {row[0] for row in cur}

    def missing_not_due(self, series: str, start: datetime, end: datetime, now: datetime) -> set[str]:
        """Slots known not to exist whose retry time has not come: they cost no request."""
        with self._lock:
            cur = self._db.execute(
                "SELECT ts FROM missing WHERE series = ? AND ts >= ? AND ts < ? AND next_retry > ?",
                (series, iso(start), iso(end), iso(now)),
            )
            return {row[0] for row in cur}

    def add_event(self, kind: str, data: dict[str, Any], level: str = "info", source: str | None = None) -> None:
        ts = iso(utcnow())

        def work(cur: sqlite3.Cursor) -> None:
            cur.execute("INSERT INTO events (ts, kind, level, source, data) VALUES (?, ?, ?, ?, ?)",
                        (ts, kind, level, source, json.dumps(data, sort_keys=True)))
            if self.announcer is not None:
                self.announcer.event(cur, ts, kind, level, source, data)

        self.transaction(work)

    def set_state(self, key: str, value: str) -> None:
        """Small facts the daemon shares with `cielo status` (broker connected, last publish, ...)."""
        self._write([("INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                      [(key, value, iso(utcnow()))])])

    def state(self) -> dict[str, tuple[str, str]]:
        return {k: (v, at) for k, v, at in self.query("SELECT key, value, updated_at FROM daemon_state")}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def _statements(script: str) -> list[str]:
    """Split a migration on ';' at line ends (none of ours has ';' inside a literal)."""
    return [s.strip() for s in script.split(";\n") if s.strip()]
