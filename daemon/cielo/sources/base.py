"""The one shape every source has (like a Telegraf input or a Home Assistant integration).

A source declares what it serves (series, cadence, how far back, how much per request, how many requests a
minute) and turns answers into readings in two steps: `fetch(window, now)` does the I/O for one window and
runs on a worker thread; `parse(fetched)` turns a batch of answers into readings on the caller's thread.
Live runs and backfill both go through the same two calls (cielo.backfill.run).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from cielo.config import Settings
from cielo.store import Reading, Store


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    name: str
    unit: str
    cadence: timedelta


@dataclass(frozen=True, slots=True)
class Window:
    """What one fetch asks for: the slots in [start, end) that the store does not hold yet."""

    start: datetime
    end: datetime
    slots: tuple[datetime, ...]


class Source(ABC):
    name: ClassVar[str]
    series: ClassVar[tuple[SeriesSpec, ...]]
    chunk: ClassVar[timedelta]  # the most one request can cover
    history: ClassVar[timedelta | None] = None  # how far into the past it can serve; None: no limit
    requests_per_minute: ClassVar[float | None] = None  # the provider's published or polite budget

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def primary(self) -> SeriesSpec:
        """The series whose slots define what a window asks for and what the summary counts."""
        return self.series[0]

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return False

    @abstractmethod
    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        """Every slot of the primary series in [start, end), ascending, UTC."""

    def windows(self, slots: Sequence[datetime]) -> list[Window]:
        """Group the slots to fetch into requests of at most `chunk`."""
        out: list[Window] = []
        group: list[datetime] = []
        for ts in slots:
            if group and ts - group[0] >= self.chunk:
                out.append(Window(group[0], group[0] + self.chunk, tuple(group)))
                group = []
            group.append(ts)
        if group:
            out.append(Window(group[0], group[0] + self.chunk, tuple(group)))
        return out

    @classmethod
    def schedule(cls, settings: Settings) -> dict[str, Any]:
        """APScheduler cron fields for the live job (class-level: the daemon reads it without I/O)."""
        return {"minute": 5}

    @abstractmethod
    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The [start, end) a live run asks for at `now`."""

    @abstractmethod
    def fetch(self, window: Window, now: datetime) -> Any:
        """Do the I/O for one window. Raises cielo.http.NotFound when the data does not exist, FetchError
        (one-line message) when it could not be had now."""

    @abstractmethod
    def parse(self, fetched: Sequence[Any]) -> list[Reading]:
        """Turn a batch of fetch() results into readings."""

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        """How long to leave a slot the source said does not exist before asking again."""
        return min(timedelta(days=1) * 2 ** max(attempts - 1, 0), timedelta(days=30))

    def finish(self, store: Store) -> None:  # noqa: B027 - optional hook
        """Called once after a run (live or backfill) with the store, for end-of-run bookkeeping."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
