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
from datetime import UTC, datetime, timedelta

from cielo.config import Settings
from cielo.sources.base import SeriesSpec, Source
from cielo.store import Store
from cielo.timeutil import from_iso, human_duration, iso, whole_second

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

    [start, end) is cut into chunks of `CHUNK` × `small`, all counted by one statement (range counts on
    the primary key: each reading is counted once); only the short chunks are halved, a level at a time and
    each level in one statement, until a part is empty or no longer than `small`. Five years of 10-minute
    readings cost one pass over the key plus a few statements per level, not a pass per halving level and
    a query per part."""
    out: list[tuple[datetime, datetime]] = []
    # Bounds on whole seconds, as stored text is: a bound with a fraction would count a slot on one side in
    # SQL (`iso` drops the fraction) and on the other in Python (a false one-slot gap).
    start, end = whole_second(start.astimezone(UTC)), whole_second(end.astimezone(UTC))
    step = small * CHUNK
    level = []
    a = start
    while a < end:
        b = min(a + step, end)
        if want := expected(a, b):
            level.append((a, b, want))
        a = b
    while level:
        parts = []
        for (a, b, want), have in zip(level, _counts(store, series, level), strict=True):
            if have >= want:
                continue
            if have == 0 or b - a <= small:
                out.append((a, b))
                continue
            mid = whole_second(a + (b - a) / 2)
            parts += [(x, y, n) for x, y in ((a, mid), (mid, b)) if (n := expected(x, y))]
        level = parts
    out.sort()
    return out


CHUNK = 64  # first-level chunks of `holes`, in units of its `small`

def _counts(store: Store, series: str, ranges: list[tuple[datetime, datetime, int]]) -> list[int]:
    return store.counts(series, [(a, b) for a, b, _ in ranges])


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
    newest = store.newest_ts(spec.name)
    newest_dt = None if newest is None else from_iso(newest)
    result = SeriesGaps(spec.name, source.name, spec.cadence, newest_dt, None if newest_dt is None else now - newest_dt)
    first = source.slots(start, start + spec.cadence * 2)
    if not first or end <= start:
        return result
    waiting = store.missing_not_due(spec.name, start, end, now)
    wanted: list[datetime] = []
    for a, b in holes(store, spec.name, start, end, grid_count(first[0], spec.cadence), spec.cadence * 8):
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


def report(settings: Settings, store: Store, names: list[str], series: list[str] | None, start: datetime,
           now: datetime) -> list[SeriesGaps]:
    """`cielo gaps`: the gaps of each series of the named sources (only `series` when given)."""
    from cielo.sources.registry import REGISTRY

    results = []
    for name in names:
        source = REGISTRY[name](settings)
        try:
            results += [analyse(store, source, spec, start, now) for spec in source.series
                        if not series or spec.name in series]
        finally:
            source.close()
    return results


def lines(results: list[SeriesGaps]) -> list[str]:
    """The text `cielo gaps` prints: a line per series, then one per gap."""
    out = []
    for r in results:
        lag = "no readings" if r.lag is None else f"newest {iso(r.newest)}, lag {_duration(r.lag)}"
        fill = f", about {_duration(r.fill_estimate)} to fill" if r.fill_estimate else ""
        out.append(f"{r.series} ({r.source}): {lag}; {len(r.gaps)} gaps, {r.missing} missing slots, "
                   f"{r.requests} requests{fill}")
        out += [f"  {iso(gap.start)} → {iso(gap.end)}  {gap.missing:>6} slots  {_duration(gap.duration):>8}  "
                f"{gap.severity}" for gap in r.gaps]
    return out


def _duration(d: timedelta) -> str:
    return human_duration(d.total_seconds())
