"""Gap analysis: every hole in every series over a window, from the primary key, not a walk over every slot.

Index range counts over the `(series, ts)` key, compared with the slots a regular grid should hold, find the
ranges that lack readings (halving only the short ones); only the slots inside those ranges are enumerated,
through the source, which knows its slot alignment, time zones and DST. Slots the source answered 'does not
exist' are not gaps until their retry time comes (`missing.next_retry`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cielo.sources.base import SeriesSpec, Source
from cielo.store import Store
from cielo.timeutil import from_iso, iso

MINOR = timedelta(hours=2)
MODERATE = timedelta(hours=12)


def severity(duration: timedelta) -> str:
    return "minor" if duration <= MINOR else "moderate" if duration <= MODERATE else "critical"


@dataclass(frozen=True)
class Gap:
    start: datetime  # first missing slot
    end: datetime  # last missing slot
    missing: int
    duration: timedelta  # from the first missing slot to one cadence past the last

    @property
    def severity(self) -> str:
        return severity(self.duration)

    def as_dict(self) -> dict:
        return {"start": iso(self.start), "end": iso(self.end), "missing": self.missing,
                "duration_s": int(self.duration.total_seconds()), "severity": self.severity}


@dataclass
class SeriesGaps:
    series: str
    source: str
    cadence: timedelta
    newest: datetime | None
    lag: timedelta | None
    gaps: list[Gap] = field(default_factory=list)
    requests: int = 0
    fill_estimate: timedelta | None = None

    @property
    def missing(self) -> int:
        return sum(g.missing for g in self.gaps)

    def as_dict(self) -> dict:
        return {
            "series": self.series, "source": self.source, "cadence_s": int(self.cadence.total_seconds()),
            "newest": iso(self.newest) if self.newest else None,
            "lag_s": None if self.lag is None else int(self.lag.total_seconds()),
            "missing": self.missing, "requests": self.requests,
            "fill_estimate_s": None if self.fill_estimate is None else int(self.fill_estimate.total_seconds()),
            "gaps": [g.as_dict() for g in self.gaps],
        }


def holes(store: Store, series: str, start: datetime, end: datetime,
          expected: Callable[[datetime, datetime], int], small: timedelta) -> list[tuple[datetime, datetime]]:
    """Ranges [a, b) of [start, end) holding fewer readings than `expected(a, b)` slots.

    Halves each short range until it is empty or smaller than `small`: a year with a few holes costs a few
    dozen index range counts, never a scan of every row in Python."""
    out: list[tuple[datetime, datetime]] = []
    stack = [(start, end)]
    while stack:
        a, b = stack.pop()
        want = expected(a, b)
        if want == 0:
            continue
        (have,) = store.query("SELECT count(*) FROM readings WHERE series = ? AND ts >= ? AND ts < ?",
                              (series, iso(a), iso(b)))[0]
        if have >= want:
            continue
        if have == 0 or b - a <= small:
            out.append((a, b))
            continue
        mid = a + (b - a) / 2
        stack += [(mid, b), (a, mid)]
    out.sort()
    return out


def grid_count(anchor: datetime, cadence: timedelta) -> Callable[[datetime, datetime], int]:
    """Slots of a regular grid through `anchor` in [a, b). Exact for a fixed cadence; where the real slots
    are fewer (a DST fall-back hour) it over-counts, which only makes `holes` look closer."""
    step = cadence.total_seconds()

    def count(a: datetime, b: datetime) -> int:
        return max(0, math.ceil((b - anchor).total_seconds() / step) - math.ceil((a - anchor).total_seconds() / step))

    return count


def analyse(store: Store, source: Source, spec: SeriesSpec, start: datetime, now: datetime) -> SeriesGaps:
    """Gaps of one series of `source` from `start` to the newest slot the source should have by `now`."""
    end = min(source.live_range(now)[1], now)
    (newest,) = store.query("SELECT max(ts) FROM readings WHERE series = ?", (spec.name,))[0]
    newest_dt = None if newest is None else from_iso(newest)
    result = SeriesGaps(spec.name, source.name, spec.cadence, newest_dt, None if newest_dt is None else now - newest_dt)
    first = source.slots(start, start + spec.cadence * 2)
    if not first or end <= start:
        return result
    waiting = store.missing_not_due(spec.name, start, end, now)
    wanted: list[datetime] = []
    for a, b in holes(store, spec.name, start, end, grid_count(first[0], spec.cadence), spec.cadence * 64):
        held = store.present(spec.name, a, b)
        slots = [t for t in source.slots(a, b) if (key := iso(t)) not in held and key not in waiting]
        wanted += slots
    for run in _runs(wanted, spec.cadence):
        result.gaps.append(Gap(run[0], run[-1], len(run), run[-1] - run[0] + spec.cadence))
    result.requests = len(source.windows(wanted)) if wanted else 0
    if source.requests_per_minute:
        result.fill_estimate = timedelta(minutes=result.requests / source.requests_per_minute)
    return result


def _runs(slots: list[datetime], cadence: timedelta) -> list[list[datetime]]:
    """Split slots into runs of consecutive ones (a known-missing slot in the middle splits a hole)."""
    runs: list[list[datetime]] = []
    for t in slots:
        if runs and t - runs[-1][-1] <= cadence * 1.5:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs
