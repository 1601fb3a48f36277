"""A backfill's range cut to size: walked in pieces of a couple of months (bounded memory for any range),
counted for a dry run, and cut into job tasks along the source's request windows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cielo.ingest.plan import plan
from cielo.sources.base import Source
from cielo.store import Store

TASK_SPAN = timedelta(days=1)  # a task covers about a day of one source (or one window, if longer)
PIECE = timedelta(days=62)  # planning a long range walks it in pieces of this (bounded memory)


def pieces(source: Source, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, list]]:
    """[start, end) walked in pieces of a couple of months, each with its request windows, so that any range
    (a century of 10-minute camera slots is 5 million) is planned in bounded memory. A piece ends where its
    last window starts (the next piece recomputes that window whole), so no window is split by a piece
    boundary, except a window longer than a whole piece (Open-Meteo's 92 days), which has no alignment."""
    span = max(PIECE, source.chunk * 4)
    a = start
    while a < end:
        b = min(a + span, end)
        windows = source.windows(source.slots(a, b))
        if b >= end or len(windows) < 2:
            yield a, b, windows
            a = b
            continue
        nxt = windows[-1].start
        yield a, nxt, windows[:-1]
        a = nxt


@dataclass(frozen=True)
class PlanTotals:
    """ingest.plan.Plan's counts over a long range, without its windows (a dry run of any range)."""

    source: str
    total: int
    present: int
    known_missing: int
    requests: int


def plan_totals(source: Source, store: Store, start: datetime, end: datetime, now: datetime) -> PlanTotals:
    total = present = known = requests = 0
    for a, b, _ in pieces(source, start, end):
        p = plan(source, store, a, b, now)
        total, present, known, requests = (total + p.total, present + p.present, known + p.known_missing,
                                           requests + p.requests)
    return PlanTotals(source.name, total, present, known, requests)


def has_slots(source: Source, start: datetime, end: datetime) -> bool:
    return any(windows for _, _, windows in pieces(source, start, end))


def count_slots(source: Source, start: datetime, end: datetime) -> int:
    return sum(len(w.slots) for _, _, windows in pieces(source, start, end) for w in windows)


def task_ranges(source: Source, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into tasks along the source's own request windows, each task about `TASK_SPAN` or
    one window: a window (a whole Madrid day of prices, one camera image) never straddles two tasks, so
    each answer is stored and counted by one task. Planned piece by piece (bounded memory)."""
    cuts: list[datetime] = []
    for _a, _b, windows in pieces(source, start, end):
        for w in windows:
            if not cuts:
                cuts.append(start)
            elif w.start - cuts[-1] >= TASK_SPAN:
                cuts.append(w.start)
    return list(zip(cuts, [*cuts[1:], end], strict=True))
