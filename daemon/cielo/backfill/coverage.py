"""`cielo coverage`: per series and month, the share of slots present; a heatmap PNG drawn with Pillow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cielo.sources.base import SeriesSpec, Source
from cielo.store import Store
from cielo.timeutil import iso


@dataclass(frozen=True)
class Cell:
    series: str
    month: str  # YYYY-MM
    present: int
    expected: int
    before_first: bool = False  # the month ended before the series' first reading: not a gap, not begun


    @property
    def percent(self) -> float | None:
        return None if self.expected == 0 else round(100.0 * min(self.present, self.expected) / self.expected, 1)


def months(year: int, now: datetime) -> list[tuple[str, datetime, datetime]]:
    out = []
    for m in range(1, 13):
        start = datetime(year, m, 1, tzinfo=UTC)
        end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        if start >= now:
            break
        out.append((f"{year}-{m:02d}", start, min(end, now)))
    return out


def table(store: Store, sources: list[Source], year: int, now: datetime) -> list[Cell]:
    cells = []
    for source in sources:
        spec: SeriesSpec
        for spec in source.series:
            first = store.first_ts(spec.name)
            for label, start, end in months(year, now):
                expected = len(source.slots(start, end))
                present = store.count(spec.name, start, end)
                cells.append(Cell(spec.name, label, present, expected, first is None or iso(end) <= first))
    return cells


def heatmap(cells: list[Cell], year: int, path: Path) -> None:
    """Series down, months across, red (0 %) to green (100 %), grey where no slot was due, light grey before
    the series' first reading (a station installed in June has no red January)."""
    from PIL import Image, ImageDraw, ImageFont

    series = list(dict.fromkeys(c.series for c in cells))
    labels = [f"{m:02d}" for m in range(1, 13)]
    font = ImageFont.load_default(size=13)
    cw, ch, left, top = 44, 26, 20 + max((len(s) for s in series), default=10) * 8, 48
    width, height = left + cw * 12 + 16, top + ch * len(series) + 60
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    d.text((12, 10), f"cielo coverage {year}: share of slots stored per month", fill="black", font=font)
    for i, label in enumerate(labels):
        d.text((left + i * cw + cw // 2 - 6, top - 16), label, fill="black", font=font)
    by_key = {(c.series, c.month): c for c in cells}
    for r, name in enumerate(series):
        y = top + r * ch
        d.text((12, y + ch // 2 - 5), name, fill="black", font=font)
        for i in range(12):
            cell = by_key.get((name, f"{year}-{i + 1:02d}"))
            pct = None if cell is None else cell.percent
            x = left + i * cw
            early = cell is not None and cell.before_first
            d.rectangle((x, y, x + cw - 2, y + ch - 2), fill=BEFORE_FIRST if early else _colour(pct))
            if pct is not None and not early:
                d.text((x + 6, y + ch // 2 - 5), f"{pct:.0f}", fill="black", font=font)
    ly = top + ch * len(series) + 20
    legend = [(_colour(0.0), "0 %"), (_colour(50.0), "50 %"), (_colour(100.0), "100 %"),
              (_colour(None), "no slots due"), (BEFORE_FIRST, "before the first reading")]
    width_needed = 12 + 110 * 4 + 200
    if width_needed > width:  # the legend fits whatever the series names
        im = _widen(im, width_needed)
        d = ImageDraw.Draw(im)
    for k, (fill, text) in enumerate(legend):
        x = 12 + k * 110
        d.rectangle((x, ly, x + 16, ly + 14), fill=fill)
        d.text((x + 22, ly + 2), text, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "PNG")


BEFORE_FIRST = (240, 240, 240)


def _widen(im, width: int):
    from PIL import Image

    out = Image.new("RGB", (width, im.height), "white")
    out.paste(im, (0, 0))
    return out


def _colour(pct: float | None) -> tuple[int, int, int]:
    if pct is None:
        return (220, 220, 220)
    t = max(0.0, min(pct / 100.0, 1.0))  # red -> yellow -> green
    red, yellow, green = (215, 60, 50), (240, 200, 60), (50, 170, 80)
    a, b, u = (red, yellow, t * 2) if t < 0.5 else (yellow, green, t * 2 - 1)
    return tuple(int(x + (y - x) * u) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def as_json(cells: list[Cell], year: int) -> dict:
    return {"year": year, "cells": [{"series": c.series, "month": c.month, "present": c.present,
                                     "expected": c.expected, "percent": c.percent,
                                     "before_first_reading": c.before_first} for c in cells]}


def lines(cells: list[Cell]) -> list[str]:
    out = []
    for c in cells:
        pct = "before first" if c.before_first else "-" if c.percent is None else f"{c.percent:5.1f} %"
        out.append(f"{c.series:<28} {c.month}  {pct:>8}  {c.present}/{c.expected}")
    return out
