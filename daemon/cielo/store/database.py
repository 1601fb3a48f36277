"""The SQLite store: schema, migrations and batched, idempotent writes (docs/contract.md, Database).

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

from cielo.errors import CieloError, damaged, is_damage
from cielo.timeutil import from_iso, iso, utcnow

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
    # 4: weather and price sources. Priority decides who holds a slot that two sources fill;
    # request budgets and circuit breakers live here because live jobs (child processes) and `cielo
    # backfill` (another process) share them.
    """
    CREATE TABLE source_priority (
        source   TEXT PRIMARY KEY,
        priority INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE http_budget (
        source  TEXT NOT NULL,
        bucket  TEXT NOT NULL,
        tokens  REAL NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (source, bucket)
    ) WITHOUT ROWID;

    CREATE TABLE http_breaker (
        source     TEXT PRIMARY KEY,
        state      TEXT NOT NULL DEFAULT 'closed',
        failures   INTEGER NOT NULL DEFAULT 0,
        opened_at  REAL,
        trial_at   REAL,
        last_error TEXT,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE VIEW prices AS
    SELECT ts,
           max(CASE WHEN series = 'ree.pvpc' THEN value END)          AS pvpc_eur_mwh,
           max(CASE WHEN series = 'ree.spot' THEN value END)          AS spot_eur_mwh,
           max(CASE WHEN series = 'ree.pvpc' THEN value END) / 1000.0 AS pvpc_eur_kwh,
           max(CASE WHEN series = 'ree.spot' THEN value END) / 1000.0 AS spot_eur_kwh,
           max(source)                                                AS source
      FROM readings
     WHERE series IN ('ree.pvpc', 'ree.spot')
     GROUP BY ts;

    CREATE VIEW weather AS
    SELECT ts,
           max(CASE WHEN series = 'weather.temperature'   THEN value END) AS temperature_c,
           max(CASE WHEN series = 'weather.humidity'      THEN value END) AS humidity_pct,
           max(CASE WHEN series = 'weather.pressure'      THEN value END) AS pressure_hpa,
           max(CASE WHEN series = 'weather.precipitation' THEN value END) AS precipitation_mm,
           max(CASE WHEN series = 'weather.wind_speed'    THEN value END) AS wind_speed_ms,
           max(CASE WHEN series = 'weather.cloud_cover'   THEN value END) AS cloud_cover_pct,
           max(CASE WHEN series = 'weather.temperature'   THEN source END) AS temperature_source,
           group_concat(DISTINCT source)                                   AS sources
      FROM readings
     WHERE series IN ('weather.temperature', 'weather.humidity', 'weather.pressure', 'weather.precipitation',
                      'weather.wind_speed', 'weather.cloud_cover')
     GROUP BY ts;

    CREATE VIEW weather_daily AS
    SELECT ts,
           max(CASE WHEN series = 'weather.temperature_daily_mean' THEN value END) AS temperature_mean_c,
           max(CASE WHEN series = 'weather.temperature_daily_max'  THEN value END) AS temperature_max_c,
           max(CASE WHEN series = 'weather.temperature_daily_min'  THEN value END) AS temperature_min_c,
           max(CASE WHEN series = 'weather.precipitation_daily'    THEN value END) AS precipitation_mm,
           group_concat(DISTINCT source)                                           AS sources
      FROM readings
     WHERE series LIKE 'weather.%daily%'
     GROUP BY ts;
    """,
    # 5: the prices view's €/kWh columns rounded to 6 decimals: 123.9 €/MWh shows as 0.1239 €/kWh, not the
    # binary float's 0.12390000000000001 (the stored €/MWh values are untouched); the octas view's octas are
    # integers (6, not the REAL column's 6.0), as on MQTT and in `cielo export`.
    """
    DROP VIEW IF EXISTS octas;
    CREATE VIEW octas AS
    SELECT ts,
           CAST(value AS INTEGER)                  AS octas,
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

    DROP VIEW IF EXISTS prices;
    CREATE VIEW prices AS
    SELECT ts,
           max(CASE WHEN series = 'ree.pvpc' THEN value END)                    AS pvpc_eur_mwh,
           max(CASE WHEN series = 'ree.spot' THEN value END)                    AS spot_eur_mwh,
           round(max(CASE WHEN series = 'ree.pvpc' THEN value END) / 1000.0, 6) AS pvpc_eur_kwh,
           round(max(CASE WHEN series = 'ree.spot' THEN value END) / 1000.0, 6) AS spot_eur_kwh,
           max(source)                                                          AS source
      FROM readings
     WHERE series IN ('ree.pvpc', 'ree.spot')
     GROUP BY ts;
    """,
    # 6: the sun as each judged frame saw it (docs/sun.md), read from the octas readings' attrs: one reading per
    # frame, so the sun costs no rows of its own. sun_covered 1/0 (null: unknown), cloud in % within 15 and 30
    # degrees of the sun, minutes until that changes, the cloud motion since the previous frame (JSON).
    """
    DROP VIEW IF EXISTS sun;
    CREATE VIEW sun AS
    SELECT ts,
           json_extract(attrs, '$.sun')           AS sun,
           json_extract(attrs, '$.sun_covered')   AS sun_covered,
           json_extract(attrs, '$.sun_cloud_15')  AS sun_cloud_15,
           json_extract(attrs, '$.sun_cloud_30')  AS sun_cloud_30,
           json_extract(attrs, '$.sun_eta_min')   AS sun_eta_min,
           json_extract(attrs, '$.motion')        AS motion
      FROM readings
     WHERE series = 'skycam.octas';
    """,
    # 7: the sun view gains the cloud per compass quarter and over the sun's next hour (%, null until the
    # camera's orientation is calibrated).
    """
    DROP VIEW IF EXISTS sun;
    CREATE VIEW sun AS
    SELECT ts,
           json_extract(attrs, '$.sun')            AS sun,
           json_extract(attrs, '$.sun_covered')    AS sun_covered,
           json_extract(attrs, '$.sun_cloud_15')   AS sun_cloud_15,
           json_extract(attrs, '$.sun_cloud_30')   AS sun_cloud_30,
           json_extract(attrs, '$.sun_eta_min')    AS sun_eta_min,
           json_extract(attrs, '$.motion')         AS motion,
           json_extract(attrs, '$.cover_n')        AS cover_n,
           json_extract(attrs, '$.cover_e')        AS cover_e,
           json_extract(attrs, '$.cover_s')        AS cover_s,
           json_extract(attrs, '$.cover_w')        AS cover_w,
           json_extract(attrs, '$.cover_sun_path') AS cover_sun_path
      FROM readings
     WHERE series = 'skycam.octas';
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
class Latest:
    """A series' newest stored reading, as `cielo status` and a live run's line show it."""

    ts: str
    value: float | None
    unit: str | None
    source: str
    attrs: dict[str, Any]  # what the source stored beside the value
    ingested_at: str | None = None  # when it was stored: slot to stored is a live capture's latency

    @property
    def flag(self) -> str | None:
        """Why the reading has no value, or that its value is weak (`uncertain`), as its source says (attrs.flag)."""
        return self.attrs.get("flag")


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
    """Turns what a transaction stores into outbox messages, inside that same transaction (cielo.outputs.mqtt)."""

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
            raise self.translate(exc, "cannot open database") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: {exc.strerror or exc}") from None

    def translate(self, exc: sqlite3.DatabaseError, doing: str) -> CieloError:
        """A one-line error for what SQLite said: a damaged file, a full disk, or the rest as it came."""
        if is_damage(exc):
            return damaged(self.path, str(exc))
        if disk_full(self.path, exc):
            return StoreError(f"{self.path}: {doing}: the disk is full (SQLite said: {exc}); free some space "
                              "(old images, logs) and start again: what was committed is kept")
        return StoreError(f"{self.path}: {doing}: {exc}")

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
        return self.query("SELECT max(version) FROM schema_version")[0][0] or 0

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
            except sqlite3.DatabaseError as exc:
                raise self.translate(exc, "write failed") from None
        return result

    def _write(self, sql_batches: Iterable[tuple[str, Sequence[Sequence[Any]]]]) -> list[int]:
        """Several executemany() in one transaction; returns rows changed by each."""
        return self.transaction(lambda cur: [cur.executemany(sql, rows).rowcount if rows else 0
                                             for sql, rows in sql_batches])

    def add_readings(self, readings: Sequence[Reading], now: datetime | None = None, mode: str = "backfill",
                     counted: int | None = None, also: Callable[[sqlite3.Cursor, int], None] | None = None) -> int:
        """Store a batch in one transaction. A slot already held is left as it is unless the new reading's
        source has a higher priority (source_priority) than the holder's. Returns how many rows are new or
        replaced among the first `counted` readings when given (the rest are stored but not counted: a
        source's secondary series). `mode` ("live" or "backfill") tells the announcer how to publish them.
        `also(cursor, new)` runs inside the same transaction (a job's task counts what it stored with it, so a
        kill -9 can never leave rows stored but not counted)."""
        if not readings:
            return 0
        counted = len(readings) if counted is None else counted
        now = now or utcnow()
        stamp = iso(now)

        def work(cur: sqlite3.Cursor) -> int:
            changed: list[Reading] = []
            n = 0
            for i, r in enumerate(readings):
                attrs = json.dumps(r.attrs, separators=(",", ":"), sort_keys=True)
                cur.execute(UPSERT, (r.series, iso(r.ts), r.value, r.unit, r.source, attrs, stamp))
                if cur.rowcount == 1:
                    changed.append(r)
                    n += i < counted
            cur.executemany("DELETE FROM missing WHERE series = ? AND ts = ?",
                            [(r.series, iso(r.ts)) for r in changed])
            if changed and self.announcer is not None:
                self.announcer.readings(cur, changed, mode, now)
            if also is not None:
                also(cur, n)
            return n

        return self.transaction(work)

    def set_priorities(self, priorities: dict[str, int]) -> None:
        """The configured source priorities, which add_readings compares (higher wins a slot)."""
        current = dict(self.query("SELECT source, priority FROM source_priority"))
        if all(current.get(k) == v for k, v in priorities.items()):
            return  # the usual case: no write, no lock
        self._write([("INSERT INTO source_priority (source, priority) VALUES (?, ?) ON CONFLICT (source)"
                      " DO UPDATE SET priority = excluded.priority", list(priorities.items()))])

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
        rows = self.query("SELECT attempts FROM missing WHERE series = ? AND ts = ?", (series, iso(ts)))
        return rows[0][0] if rows else 0

    def present(self, series: str, start: datetime, end: datetime, source: str | None = None) -> set[str]:
        """Timestamps (ISO text) held for `series` in [start, end): one range scan of the primary key.
        With `source`, only slots it could not replace count: held by itself or by an equal or higher priority."""
        sql, params = "SELECT ts FROM readings WHERE series = ? AND ts >= ? AND ts < ?", [series, iso(start), iso(end)]
        if source is not None:
            sql = ("SELECT r.ts FROM readings r LEFT JOIN source_priority p ON p.source = r.source"
                   " WHERE r.series = ? AND r.ts >= ? AND r.ts < ? AND (r.source = ? OR coalesce(p.priority, 0)"
                   " >= coalesce((SELECT priority FROM source_priority WHERE source = ?), 0))")
            params += [source, source]
        return {row[0] for row in self.query(sql, params)}

    def held(self, series: str, stamps: Iterable[str], source: str) -> set[str]:
        """Which of the slots `stamps` (ISO text) `source` already holds in `series`, asked 500 at a time."""
        stamps = list(stamps)
        out: set[str] = set()
        for i in range(0, len(stamps), 500):
            part = stamps[i:i + 500]
            out.update(r[0] for r in self.query(
                f"SELECT ts FROM readings WHERE series = ? AND source = ? AND ts IN ({','.join('?' * len(part))})",
                (series, source, *part)))
        return out

    def missing_not_due(self, series: str, start: datetime, end: datetime, now: datetime) -> set[str]:
        """Slots known not to exist whose retry time has not come: they cost no request."""
        return {row[0] for row in self.query(
            "SELECT ts FROM missing WHERE series = ? AND ts >= ? AND ts < ? AND next_retry > ?",
            (series, iso(start), iso(end), iso(now)))}

    def add_event(self, kind: str, data: dict[str, Any], level: str = "info", source: str | None = None) -> None:
        ts = iso(utcnow())

        self.transaction(lambda cur: self._event(cur, ts, kind, data, level, source))

    def _event(self, cur: sqlite3.Cursor, ts: str, kind: str, data: dict[str, Any], level: str,
               source: str | None) -> None:
        write_event(cur, ts, kind, data, level, source, self.announcer)

    def set_state(self, key: str, value: str) -> None:
        """Small facts the daemon shares with `cielo status` (broker connected, last publish, ...)."""
        self._write([("INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                      [(key, value, iso(utcnow()))])])

    def state(self) -> dict[str, tuple[str, str]]:
        return {k: (v, at) for k, v, at in self.query("SELECT key, value, updated_at FROM daemon_state")}

    def latest(self, series: str, start: datetime | None = None, end: datetime | None = None) -> Latest | None:
        """The newest reading of `series` (within [start, end) when given)."""
        sql = "SELECT ts, value, unit, source, attrs, ingested_at FROM readings WHERE series = ?"
        params: list[Any] = [series]
        if start is not None and end is not None:
            sql += " AND ts >= ? AND ts < ?"
            params += [iso(start), iso(end)]
        rows = self.query(sql + " ORDER BY ts DESC LIMIT 1", params)
        if not rows:
            return None
        ts, value, unit, source, attrs, ingested = rows[0]
        return Latest(ts, value, unit, source, json.loads(attrs), ingested)

    def judged_slots(self, series: str, start: datetime, end: datetime) -> list[datetime]:
        """Slots of [start, end) holding a value that carries no flag, or only `uncertain` (a weak answer is still
        a judged frame; for the camera: the frames calibration may look at)."""
        rows = self.query("SELECT ts FROM readings WHERE series = ? AND ts >= ? AND ts < ? AND value IS NOT NULL"
                          " AND coalesce(json_extract(attrs, '$.flag'), 'uncertain') = 'uncertain' ORDER BY ts",
                          (series, iso(start), iso(end)))
        return [from_iso(r[0]) for r in rows]

    def frames_after(self, series: str, after: str, until: str, limit: int = 1000
                     ) -> list[tuple[str, float | None, str | None, str]]:
        """(ts, value, attrs.flag, ingested_at) of `series` with after < ts <= until, oldest first: the judged
        frames the safety monitor feeds on (the newest `limit` of them)."""
        rows = self.query("SELECT ts, value, json_extract(attrs, '$.flag'), ingested_at FROM readings"
                          " WHERE series = ? AND ts > ? AND ts <= ? ORDER BY ts DESC LIMIT ?",
                          (series, after, until, limit))
        return rows[::-1]

    def newest_ts(self, series: str) -> str | None:
        return self.query("SELECT max(ts) FROM readings WHERE series = ?", (series,))[0][0]

    def first_ts(self, series: str) -> str | None:
        """The slot of the series' oldest reading (ISO text), or None when it has none."""
        return self.query("SELECT min(ts) FROM readings WHERE series = ?", (series,))[0][0]

    def count(self, series: str, start: datetime, end: datetime) -> int:
        """Readings of `series` in [start, end)."""
        return self.query("SELECT count(*) FROM readings WHERE series = ? AND ts >= ? AND ts < ?",
                          (series, iso(start), iso(end)))[0][0]

    def counts(self, series: str, ranges: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Readings of `series` in each [a, b), in one statement (bounds: UTC, whole seconds)."""
        arg = json.dumps([[a.isoformat()[:19] + "Z", b.isoformat()[:19] + "Z"] for a, b in ranges])
        return [n for (n,) in self.query(
            "SELECT (SELECT count(*) FROM readings WHERE series = ?1 AND ts >= json_extract(r.value, '$[0]')"
            " AND ts < json_extract(r.value, '$[1]')) FROM json_each(?2) AS r ORDER BY r.key", (series, arg))]

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """The data of every event of `kind`, oldest first."""
        return [json.loads(d) for (d,) in self.query("SELECT data FROM events WHERE kind = ? ORDER BY id", (kind,))]

    def series_names(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT series FROM readings")]

    def readings(self, series: str, start: datetime, end: datetime
                 ) -> list[tuple[str, float | None, str | None, str, str]]:
        """(ts, value, unit, source, attrs JSON) of `series` in [start, end), in time order."""
        return self.query("SELECT ts, value, unit, source, attrs FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
                          " ORDER BY ts", (series, iso(start), iso(end)))

    def breakers(self) -> list[tuple[str, str, int, str | None]]:
        """(source, state, failures, last error) of every HTTP circuit breaker."""
        return self.query("SELECT source, state, failures, last_error FROM http_breaker")

    def last_event(self, kind: str, source: str | None = None, since: str | None = None
                   ) -> tuple[str, dict[str, Any]] | None:
        """The newest event of `kind` (from `source`, at or after `since`: the ts index keeps that cheap)."""
        sql, params = "SELECT ts, data FROM events WHERE kind = ?", [kind]
        if source is not None:
            sql, params = sql + " AND source = ?", [*params, source]
        if since is not None:
            sql, params = sql + " AND ts >= ?", [*params, since]
        rows = self.query(sql + " ORDER BY id DESC LIMIT 1", params)
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def events_since(self, kind: str, since: str) -> list[tuple[str, dict[str, Any]]]:
        """(ts, data) of the events of `kind` at or after `since`, oldest first."""
        return [(ts, json.loads(data)) for ts, data in self.query(
            "SELECT ts, data FROM events WHERE kind = ? AND ts >= ? ORDER BY id", (kind, since))]

    # Readings written by a clock ahead of the real one (ingested later than now), or for slots too far ahead
    # to exist (nothing cielo stores is more than a day ahead: tomorrow's prices).
    _FUTURE = "ingested_at > ? OR ts > ?"

    def future_writes(self, now: datetime, slack: timedelta = timedelta(minutes=2)) -> tuple[int, str | None]:
        """(how many readings were stamped later than `now`, the latest such stamp)."""
        return self.query(f"SELECT count(*), max(ingested_at) FROM readings WHERE {self._FUTURE}",
                          (iso(now + slack), iso(now + timedelta(days=2))))[0]

    def future_kinds(self, now: datetime, slack: timedelta = timedelta(minutes=2)
                     ) -> tuple[int, str | None, int, str | None]:
        """Of future_writes(): (how many were written after `now`, the latest such write, how many are for a
        slot more than two days ahead, the latest such slot)."""
        return self.query("SELECT count(*) FILTER (WHERE ingested_at > ?), max(ingested_at) FILTER (WHERE"
                          " ingested_at > ?), count(*) FILTER (WHERE ts > ?), max(ts) FILTER (WHERE ts > ?)"
                          f" FROM readings WHERE {self._FUTURE}",
                          (iso(now + slack), iso(now + slack), iso(now + timedelta(days=2)),
                           iso(now + timedelta(days=2)), iso(now + slack), iso(now + timedelta(days=2))))[0]

    def move_future(self, now: datetime, slack: timedelta = timedelta(minutes=2)) -> int:
        """Move the readings of future_writes() into `readings_future` (same columns plus moved_at; a person
        may look at them, or copy them back), in one transaction with an event. Returns how many."""
        params = (iso(now + slack), iso(now + timedelta(days=2)))

        def work(cur: sqlite3.Cursor) -> int:
            cur.execute("CREATE TABLE IF NOT EXISTS readings_future (series TEXT NOT NULL, ts TEXT NOT NULL,"
                        " value REAL, unit TEXT, source TEXT NOT NULL, attrs TEXT NOT NULL DEFAULT '{}',"
                        " ingested_at TEXT NOT NULL, moved_at TEXT NOT NULL)")
            cur.execute("INSERT INTO readings_future SELECT series, ts, value, unit, source, attrs, ingested_at, ?"
                        f" FROM readings WHERE {self._FUTURE}", (iso(now), *params))
            n = cur.execute(f"DELETE FROM readings WHERE {self._FUTURE}", params).rowcount
            if n:
                self._event(cur, iso(now), "future_readings_moved",
                            {"moved": n, "table": "readings_future", "now": iso(now)}, "warning", None)
            return n

        return self.transaction(work)

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        """Fold the write-ahead log back into the database file (PASSIVE never waits for readers)."""
        self.query(f"PRAGMA wal_checkpoint({mode})")

    def newest_ingested(self) -> str | None:
        """When the newest reading was stored, whatever its series."""
        return self.query("SELECT max(ingested_at) FROM readings")[0][0]

    def quick_check(self) -> str:
        """SQLite's quick_check: "ok", or what is damaged."""
        return self.query("PRAGMA quick_check")[0][0]

    def size_bytes(self) -> int:
        """The database file and its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` for a read outside any transaction."""
        with self._lock:
            try:
                return work(self._db)
            except sqlite3.DatabaseError as exc:
                raise self.translate(exc, "read failed") from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self.translate(exc, "read failed") from None


def write_event(cur: sqlite3.Cursor, ts: str, kind: str, data: dict[str, Any], level: str, source: str | None,
                announcer: Announcer | None) -> None:
    """The one writer of events: the row and, with an announcer, its outbox message, in the caller's
    transaction."""
    cur.execute("INSERT INTO events (ts, kind, level, source, data) VALUES (?, ?, ?, ?, ?)",
                (ts, kind, level, source, json.dumps(data, sort_keys=True)))
    if announcer is not None:
        announcer.event(cur, ts, kind, level, source, data)


UPSERT = (
    "INSERT INTO readings (series, ts, value, unit, source, attrs, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (series, ts) DO UPDATE SET value = excluded.value, unit = excluded.unit,"
    " source = excluded.source, attrs = excluded.attrs, ingested_at = excluded.ingested_at"
    " WHERE coalesce((SELECT priority FROM source_priority WHERE source = excluded.source), 0)"
    " > coalesce((SELECT priority FROM source_priority WHERE source = readings.source), 0)"
)


def disk_full(path: Path, exc: BaseException) -> bool:
    """SQLite says 'database or disk is full', or only 'disk I/O error' when the disk filled while it opened
    the file: then the free space tells."""
    text = str(exc).lower()
    if "full" in text:
        return True
    if "disk i/o error" not in text:
        return False
    import shutil

    try:
        return shutil.disk_usage(path.parent if str(path.parent) else ".").free < 1_000_000
    except OSError:
        return False


def _statements(script: str) -> list[str]:
    """Split a migration on ';' at line ends (none of ours has ';' inside a literal)."""
    return [s.strip() for s in script.split(";\n") if s.strip()]
