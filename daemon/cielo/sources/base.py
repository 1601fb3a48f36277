"""The one shape every source has (like a Telegraf input or a Home Assistant integration).

A source declares what it serves (series, cadence, how far back, how much per request, how many requests a
minute) and turns answers into readings in two steps: `fetch(window, now)` does the I/O for one window and
runs on a worker thread; `parse(fetched)` turns a batch of answers into readings on the caller's thread.
Live runs and backfill both go through the same two calls (cielo.ingest.engine.fill).

What only some sources have is declared, not inherited as hooks: `analysis` (an AnalysisStage: heavy
per-item work that may run in worker processes and is settled on the writer's thread) and `extras` (a
SourceExtras: CLI commands, a time zone, a periodic upkeep command, start and doctor checks). The engine,
the CLI and the daemon ask whether a source has them.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

from pydantic import Field, SecretStr, model_validator

from cielo.config import Section, Settings, SourceConfig
from cielo.guard import Bucket, Guard
from cielo.http import Client, HttpPolicy, scrub
from cielo.store import Reading, Store

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Entity:
    """One more Home Assistant entity drawn from a series' JSON (e.g. the camera's confidence, or the sun's
    state from the octas reading's attrs). A `binary_sensor`'s template renders "ON", "OFF" or "None"
    (unknown)."""

    key: str
    name: str
    template: str
    unit: str | None = None
    icon: str | None = None
    platform: str = "sensor"  # or "binary_sensor"
    device_class: str | None = None
    options: tuple[str, ...] = ()  # a sensor whose state is one of these words (device_class "enum")


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """A series a source fills, with how Home Assistant shows it (sensor.mqtt keys; device classes from
    https://www.home-assistant.io/integrations/sensor/#device-class)."""

    name: str
    unit: str
    cadence: timedelta
    label: str | None = None  # the entity's friendly name; default: the series name
    device_class: str | None = None
    state_class: str | None = "measurement"  # None where HA allows none (monetary)
    icon: str | None = None
    extra: tuple[Entity, ...] = ()
    # How old a reading may be and still be the series' current value on its live topic; default three
    # cadences (at least 30 min). Daily values published days late need longer, or Home Assistant never
    # gets one.
    live_within: timedelta | None = None
    # What a value may be: a finite number within `limits` (the physically possible, not the
    # usual: an answer outside them is broken), whole when `integer`; None only when `nullable` (a camera
    # frame flagged night/dark carries no octas). Anything else is rejected per value, never stored.
    limits: tuple[float, float] | None = None
    integer: bool = False
    nullable: bool = False

    def check(self, value: Any) -> tuple[float | None, str | None]:
        """(the value as stored, None) when acceptable, else (None, why not)."""
        if value is None:
            return (None, None) if self.nullable else (None, "no value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"not a number ({_short(value)})"
        v = float(value)
        if not math.isfinite(v):
            return None, f"not a finite number ({_short(value)})"
        if self.integer and v != int(v):
            return None, f"not a whole number ({v:g})"
        if self.limits is not None and not self.limits[0] <= v <= self.limits[1]:
            lo, hi = self.limits
            return None, f"out of range ({v:g} {self.unit}, possible {lo:g}..{hi:g})"
        return v, None


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (bool, float)) and math.isfinite(float(value)) else repr(value)
    return text[:40]


def vet(specs: Sequence[SeriesSpec], readings: Sequence[Reading]) -> tuple[list[Reading], list[tuple[Reading, str]]]:
    """Split readings into those whose value their series accepts (as stored: a float) and those it rejects,
    each with the reason. A series the source does not declare is rejected too."""
    by_name = {s.name: s for s in specs}
    good: list[Reading] = []
    bad: list[tuple[Reading, str]] = []
    for r in readings:
        spec = by_name.get(r.series)
        if spec is None:
            bad.append((r, "a series this source does not declare"))
            continue
        value, why = spec.check(r.value)
        if why is not None:
            bad.append((r, why))
        elif value is r.value or (value == r.value and type(r.value) is float):
            good.append(r)
        else:
            good.append(Reading(r.series, r.ts, value, r.unit, r.source, r.attrs))
    return good, bad


@dataclass(frozen=True, slots=True)
class Window:
    """What one fetch asks for: the slots in [start, end) that the store does not hold yet."""

    start: datetime
    end: datetime
    slots: tuple[datetime, ...]


class AnalysisStage(Protocol):
    """Heavy per-item work a source does on what it fetched (the camera judges images): it may run in worker
    processes during a backfill run by hand, and each answer is settled in window order on the writer's
    thread."""

    def default_processes(self, settings: Settings) -> int:
        """Worker processes a manual backfill uses when `--processes` is not given."""
        ...

    def use_processes(self, processes: int) -> None:
        """From now on, do the work in this many worker processes (0: in this one)."""
        ...

    def settle(self, fetched: Any) -> Any:
        """A fetched answer, complete: what `fetch` left to finish elsewhere is waited for here; its failure
        is the window's (FetchError)."""
        ...

    def finish(self, store: Store) -> None:
        """Once after each run (live or backfill), for end-of-run bookkeeping."""
        ...


@dataclass(frozen=True)
class SourceExtras:
    """What a source may bring beyond fetching and parsing; each part optional."""

    commands: str | None = None  # a module adding CLI commands: `register(subparsers) -> handlers`
    # The time zone a person at this source thinks in (the camera's file names): the device's default.
    timezone: Callable[[Settings], str | None] | None = None
    # A periodic upkeep command the daemon runs in a child process like the live jobs (one child at a time,
    # live runs first): (APScheduler cron fields, the `cielo` arguments), or None for none now. The command
    # decides for itself whether there is anything to do (the camera refits its calibration).
    maintenance: Callable[[Settings], tuple[dict[str, Any], tuple[str, ...]] | None] | None = None
    preflight: Callable[[Settings], None] | None = None  # checks `cielo run` makes first (raise ConfigError)
    doctor: Callable[[Settings], list[tuple[bool, str]]] | None = None  # extra `cielo doctor` lines


class KeyedConfig(SourceConfig):
    """A source that needs an API key: on by default once the key is set (from the table or the environment)."""

    enabled: bool | None = Field(None, description="default: on when an api_key is set")
    api_key: SecretStr | None = None

    @model_validator(mode="after")
    def _key(self) -> KeyedConfig:
        if self.enabled and not self.api_key:
            raise ValueError("enabled = true needs api_key (or its CIELO_*_API_KEY in the environment)")
        return self


class Pooled(Protocol):
    """A source's connections: sized to the threads that fetch at once, closed with the source."""

    def size_pool(self, workers: int) -> None: ...

    def close(self) -> None: ...


class Source(ABC):
    name: ClassVar[str]
    series: ClassVar[tuple[SeriesSpec, ...]]
    chunk: ClassVar[timedelta]  # the most one request can cover
    history: ClassVar[timedelta | None] = None  # how far into the past it can serve; None: no limit
    earliest: ClassVar[datetime | None] = None  # the first instant it has data for (an archive's start)
    requests_per_minute: ClassVar[float | None] = None  # the provider's published or polite budget
    requests_per_day: ClassVar[float | None] = None
    config_model: ClassVar[type[Section]]  # the source's table, validated by this model
    config_name: ClassVar[str | None] = None  # the `[sources.*]` table and budget it shares, default its name
    table: ClassVar[tuple[str, ...] | None] = None  # where its table is; default `[sources.<config_name>]`
    secrets: ClassVar[tuple[tuple[str, str], ...]] = ()  # (table key, environment variable) (systemd's EnvironmentFile)
    extras: ClassVar[SourceExtras] = SourceExtras()
    # True: the budgeted, breaker-guarded HTTP client the API sources share is made here; False: the source
    # brings its own connection pool as `client` (the camera: one image per request at hundreds a second).
    shared_client: ClassVar[bool] = True
    needs_key: ClassVar[bool] = False
    requests_per_fetch: ClassVar[int] = 1  # HTTP requests one window costs (AEMET: envelope + datos)
    catch_up_limit: timedelta | None = None  # the most the gap catch-up reaches back for it, when less than lookback

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cfg = self.config(settings)
        self.requests_per_minute = getattr(self.cfg, "requests_per_minute", None)
        self.requests_per_day = getattr(self.cfg, "requests_per_day", None)
        self.analysis: AnalysisStage | None = None
        self.client: Pooled | None = self._shared_client() if self.shared_client else None

    def _shared_client(self) -> Client:
        return Client(
            HttpPolicy(timeout_s=self.cfg.timeout_s, retries=self.cfg.retries, max_bytes=self.cfg.max_bytes,
                       pool_size=self.cfg.workers),
            Guard(self.settings.storage.database, self.budget_name,
                  buckets(self.requests_per_minute, self.requests_per_day)),
            reason=self.error_text,
            secrets=self.secret_values(),
        )

    def secret_values(self) -> tuple[str, ...]:
        """The configured values of this source's `secrets` (its API key): never to appear in any output."""
        out = []
        for key, _env in self.secrets:
            value = getattr(self.cfg, key, None)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, str) and value:
                out.append(value)
        return tuple(out)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secret_values())

    @classmethod
    def where(cls) -> tuple[str, ...]:
        return cls.table or ("sources", cls.config_name or cls.name)

    @property
    def budget_name(self) -> str:
        """Sources sharing a table share its budget and breaker (AEMET's two endpoints)."""
        return self.config_name or self.name

    @classmethod
    def config(cls, settings: Settings) -> Any:
        return settings.table(cls.where(), cls.config_model)

    @classmethod
    def history_for(cls, settings: Settings) -> timedelta | None:
        """How far into the past it can serve as configured (a source whose config changes that says so)."""
        return cls.history

    @classmethod
    def request_budget(cls, settings: Settings) -> tuple[float | None, float | None] | None:
        """What its requests are held to, (per minute, per day), None for no limit; None: it makes no requests."""
        cfg = cls.config(settings)
        return getattr(cfg, "requests_per_minute", None), getattr(cfg, "requests_per_day", None)

    @classmethod
    def declared_series(cls, settings: Settings) -> tuple[SeriesSpec, ...]:
        """The series as configured (the camera's cadence follows its `minutes`); an instance's `series`."""
        return cls.series

    @classmethod
    def priority(cls, settings: Settings) -> int:
        return getattr(cls.config(settings), "priority", 0)

    @staticmethod
    def error_text(data: Any) -> str | None:
        """The reason the provider gave in a decoded JSON error body. By default the `message` that API
        gateways and many APIs use (OpenWeatherMap: `{"cod": 401, "message": "Invalid API key..."}`);
        sources whose API says it elsewhere override this."""
        return data.get("message") if isinstance(data, dict) and isinstance(data.get("message"), str) else None

    @classmethod
    def key_present(cls, settings: Settings) -> bool | None:
        """None for keyless sources."""
        if not cls.needs_key:
            return None
        return bool(cls.config(settings).api_key)

    @property
    def workers(self) -> int:
        return self.cfg.workers

    def serves(self, start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime] | None:
        """The part of [start, end) this source can still serve at `now` (its history window), or None."""
        if self.history is not None:
            start = max(start, now - self.history)
        if self.earliest is not None:
            start = max(start, self.earliest)
        return (start, end) if start < end else None

    @property
    def primary(self) -> SeriesSpec:
        """The series whose slots define what a window asks for and what the summary counts."""
        return self.series[0]

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """On when its table says so; a source that needs a key also needs the key."""
        cfg = cls.config(settings)
        return cfg.enabled is not False and (not cls.needs_key or cfg.api_key is not None)

    @abstractmethod
    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        """Every slot of the primary series in [start, end), ascending, UTC."""

    def windows(self, slots: Sequence[datetime]) -> list[Window]:
        """Group the slots to fetch into requests of at most `chunk`."""
        out: list[Window] = []
        group: list[datetime] = []

        def close() -> None:
            # The window ends after its last slot, not a whole chunk later: a short range asks for no more.
            out.append(Window(group[0], min(group[0] + self.chunk, group[-1] + self.primary.cadence), tuple(group)))

        for ts in slots:
            if group and ts - group[0] >= self.chunk:
                close()
                group = []
            group.append(ts)
        if group:
            close()
        return out

    @classmethod
    def schedule(cls, settings: Settings) -> dict[str, Any]:
        """APScheduler cron fields for the live job (class-level: the daemon reads it without I/O): by default
        every hour at the table's `minute`."""
        return {"minute": cls.config(settings).minute}

    @abstractmethod
    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The [start, end) a live run asks for at `now`."""

    @abstractmethod
    def fetch(self, window: Window, now: datetime) -> Any:
        """Do the I/O for one window. Raises cielo.http.NotFound when the data does not exist, FetchError
        (one-line message) when it could not be had now."""

    def slots_answered(self, window: Window, fetched: Any) -> tuple[datetime, ...]:
        """The slots an answer fills: the window's, unless the answer says otherwise (a latest-frame camera
        files its frame by the frame's own time)."""
        return window.slots

    def parse(self, fetched: Sequence[Any]) -> list[Reading]:
        """Turn a batch of fetch() results into readings. API sources parse inside fetch (their answers are
        small) and hand back lists of readings; the camera overrides this to run its model on the batch."""
        return [r for readings in fetched for r in readings]

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        """How long to leave a slot the source said does not exist before asking again."""
        return min(timedelta(days=1) * 2 ** max(attempts - 1, 0), timedelta(days=30))

    def size_pool(self, workers: int) -> None:
        """Before `workers` threads fetch at once (a backfill's `--workers` may exceed the config's)."""
        if self.client is not None:
            self.client.size_pool(workers)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def summary_line(source: str, total: int, new: int, duplicates: int, failed: int) -> str:
    """The one line every run of a source ends with (docs/design.md, CLI; import-csv says the same)."""
    return f"{source}: total={total} new={new} duplicates={duplicates} failed={failed}"


def hourly(start: datetime, end: datetime, step: timedelta = HOUR) -> list[datetime]:
    """Every whole UTC hour (or day, with step=DAY) in [start, end)."""
    start = start.astimezone(UTC)
    first = start.replace(minute=0, second=0, microsecond=0)
    if step == DAY:
        first = first.replace(hour=0)
    if first < start:
        first += step
    out = []
    while first < end:
        out.append(first)
        first += step
    return out


def floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def buckets(per_minute: float | None, per_day: float | None) -> list[Bucket]:
    """Token buckets that keep *any* 60 s (or 24 h) window within the limit: burst + rate x window = limit.
    A minute allows a burst of a tenth of it, then a steady 90 %; a day allows half at once (a backfill)."""
    out = []
    for name, limit, span, share in (("minute", per_minute, 60.0, 0.1), ("day", per_day, 86400.0, 0.5)):
        if limit:
            burst = max(1.0, limit * share)
            out.append(Bucket(name, burst, max(limit - burst, 0.5) / span))
    return out


def estimate_s(requests: int, per_minute: float | None, per_day: float | None = None) -> float:
    """Seconds the budget lets `requests` take from full buckets (network time not counted): each bucket
    pays out its burst at once, then one token per 1/rate seconds."""
    worst = 0.0
    for b in buckets(per_minute, per_day):
        worst = max(worst, max(requests - b.capacity, 0) / b.per_s)
    return worst
