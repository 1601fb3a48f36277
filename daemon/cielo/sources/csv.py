"""`cielo import-csv`: historical station exports (SIAR, datosclima.es, or a layout of your own) into readings.

Such files come from spreadsheets: `;` or `,` separators, decimal commas ("12,4"), Latin-1 or UTF-8 (with or
without a BOM), local dates (`dd/mm/yyyy` or `yyyy-mm-dd`), an hour column in hourly files (`HH:MM`, `HHMM`,
or `24:00` for the day's last hour). A row that cannot be read, or is dated after now or outside 1970-2200,
is reported with its line number and skipped; the autumn hour that happens twice is stored twice;
the rest are stored under source `csv` with `[sources.csv] priority` (lowest by default: an API's reading of
the same hour wins). Importing a file twice adds nothing.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from cielo.config import Section, check_tz
from cielo.errors import UsageError
from cielo.sources.base import summary_line
from cielo.sources.textnum import decimal_comma
from cielo.sources.weather import SERIES
from cielo.store import Reading, Store
from cielo.timeutil import iso, utcnow

SOURCE = "csv"
UNITS = {"weather.temperature": "°C", "weather.humidity": "%", "weather.pressure": "hPa",
         "weather.precipitation": "mm", "weather.wind_speed": "m/s", "weather.cloud_cover": "%",
         "weather.temperature_daily_mean": "°C", "weather.temperature_daily_max": "°C",
         "weather.temperature_daily_min": "°C", "weather.precipitation_daily": "mm"}


@dataclass(frozen=True)
class Layout:
    """Column names (matched case-insensitively, first present wins) for the date, the hour and each series.
    `hourly` maps are used when the file has an hour column, `daily` ones otherwise."""

    date: tuple[str, ...]
    hour: tuple[str, ...] = ()
    hourly: dict[str, tuple[str, ...]] = field(default_factory=dict)
    daily: dict[str, tuple[str, ...]] = field(default_factory=dict)


PRESETS = {
    # SIAR (Ministerio de Agricultura) station exports: `Fecha;Hora;TempMedia;HumedadMedia;VelViento;...`
    # hourly, `Fecha;TempMedia;TempMax;TempMin;...;Precipitacion` daily; wind in m/s, dates dd/mm/yyyy.
    "siar": Layout(
        date=("Fecha",), hour=("Hora", "HoraMin"),
        hourly={"weather.temperature": ("TempMedia", "Temperatura"), "weather.humidity": ("HumedadMedia", "Humedad"),
                "weather.wind_speed": ("VelViento",), "weather.precipitation": ("Precipitacion", "Precipitación")},
        daily={"weather.temperature_daily_mean": ("TempMedia",), "weather.temperature_daily_max": ("TempMax",),
               "weather.temperature_daily_min": ("TempMin",),
               "weather.precipitation_daily": ("Precipitacion", "Precipitación")},
    ),
    # datosclima.es daily station files (AEMET climatological values): `Fecha;Tmax;Tmin;Tmed;Prec;...`.
    "datosclima": Layout(
        date=("Fecha", "FECHA"),
        daily={"weather.temperature_daily_mean": ("Tmed", "TMEDIA"), "weather.temperature_daily_max": ("Tmax",),
               "weather.temperature_daily_min": ("Tmin",), "weather.precipitation_daily": ("Prec", "TPrec")},
    ),
}


class CsvConfig(Section):
    priority: int = Field(10, ge=0, le=1000, description="lowest by default: any API's reading wins")
    timezone: str = Field("Europe/Madrid", description="the local time of the files' dates and hours")
    date_column: str = Field("Fecha", description="for --source custom")
    hour_column: str | None = Field(None, description="for --source custom; none: a daily file")
    columns: dict[str, str] = Field(default_factory=dict, description="series -> column, for --source custom")

    _tz = field_validator("timezone")(check_tz)

    @field_validator("columns")
    @classmethod
    def _series(cls, v: dict[str, str]) -> dict[str, str]:
        for series in v:
            if series not in UNITS:
                raise ValueError(f"unknown series {series!r} (known: {', '.join(UNITS)})")
        return v


@dataclass
class ImportSummary:
    name: str
    total: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS bad rows; `failed` counts them all

    def line(self) -> str:
        return summary_line(self.name, self.total, self.new, self.duplicates, self.failed)


MAX_ERRORS = 20  # bad rows kept to print: a million bad rows must not become a million strings
BATCH = 5000  # rows parsed, checked for duplicates and stored at a time: memory stays flat whatever the file
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200  # the instants cielo stores (the CLI's --from/--to bounds)


def layout_for(name: str, cfg: CsvConfig) -> Layout:
    if name == "custom":
        if not cfg.columns:
            raise UsageError("import-csv: --source custom needs [sources.csv] columns in the config")
        cols = {k: (v,) for k, v in cfg.columns.items()}
        hour = (cfg.hour_column,) if cfg.hour_column else ()
        return Layout(date=(cfg.date_column,), hour=hour, hourly=cols if hour else {}, daily={} if hour else cols)
    if name not in PRESETS:
        raise UsageError(f"import-csv: unknown layout {name!r} (known: {', '.join(PRESETS)}, custom)")
    return PRESETS[name]


def encoding_of(path: Path) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes so, else Latin-1 (Windows spreadsheets:
    Latin-1 / cp1252 for the names that matter). Reads the file once in blocks: it is never held whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            first = f.read(65536)
            if b"\x00" in first:
                raise UsageError(f"import-csv: {path}: not a CSV text file (binary data)")
            block = first
            while block:
                decoder.decode(block)
                block = f.read(1 << 20)
            decoder.decode(b"", final=True)
    except FileNotFoundError:
        raise UsageError(f"import-csv: {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"import-csv: {path}: is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"import-csv: {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def parse(text: str | TextIO, layout: Layout, tz: ZoneInfo, where: str,
          now: datetime | None = None) -> Iterator[tuple[int, list[Reading] | str]]:
    """(line number, readings) for each data row, or (line number, reason) for a row that cannot be read or
    is dated after `now` (default: the clock) or outside 1970-2200. Reads `text` (a string or an open text
    file) row by row. Raises UsageError when the header does not fit the layout."""
    stream = io.StringIO(text) if isinstance(text, str) else text
    first = stream.readline()
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter)
    now = now or utcnow()
    clock = _LocalClock(tz)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UsageError(f"import-csv: {where}: empty file") from None
    except csv.Error as exc:
        raise UsageError(f"import-csv: {where}: not a CSV file ({exc})") from None
    index = {h.lower(): i for i, h in enumerate(header)}

    def find(names: tuple[str, ...]) -> int | None:
        return next((index[n.lower()] for n in names if n.lower() in index), None)

    date_i = find(layout.date)
    if date_i is None:
        raise UsageError(f"import-csv: {where}: no date column (expected {' or '.join(layout.date)}; "
                         f"the header has {', '.join(header[:8])})")
    hour_i = find(layout.hour) if layout.hour else None
    mapping = layout.hourly if hour_i is not None else layout.daily
    columns = {series: i for series, names in mapping.items() if (i := find(names)) is not None}
    if not columns:
        wanted = sorted({n for names in mapping.values() for n in names})
        raise UsageError(f"import-csv: {where}: no value column (expected any of {', '.join(wanted)})")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UsageError(f"import-csv: {where}:{reader.line_num}: not a CSV file ({exc})") from None
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        try:
            ts = _when(row[date_i], row[hour_i] if hour_i is not None else None, clock)
        except (ValueError, IndexError, OverflowError) as exc:
            yield line, f"bad date/hour: {exc}"
            continue
        if not EARLIEST_YEAR <= ts.year <= LATEST_YEAR:
            yield line, f"dated {iso(ts)}, outside {EARLIEST_YEAR}-{LATEST_YEAR}"
            continue
        if ts > now:
            yield line, f"dated {iso(ts)}, after now ({iso(now)}): a wrong date in the file"
            continue
        readings, bad = [], []
        for series, i in columns.items():
            cell = row[i].strip() if i < len(row) else ""
            if not cell:
                continue
            value = decimal_comma(cell)
            if value is None:
                bad.append(f"{header[i]}={cell!r}")
                continue
            value, why = SERIES[series].check(value)  # NaN, inf, 9999 °C: the row is refused with the reason
            if why is not None:
                bad.append(f"{header[i]}={cell!r} {why}")
                continue
            readings.append(Reading(series, ts, value, UNITS[series], SOURCE, {"file": where}))
        if bad:
            yield line, f"not a number: {', '.join(bad)}"
        elif not readings:
            yield line, "no values"
        else:
            yield line, readings


class _LocalClock:
    """Local wall times of one file to UTC. In the autumn hour that happens twice (02:00-03:00 in Madrid)
    the first rows are the summer-time instance and a time seen again is the winter one, so the day's 25
    hours stay 25; a time in the spring gap (02:30 on the day clocks go forward) does not exist and is
    refused rather than stored over its neighbour's slot."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.seen_ambiguous: set[datetime] = set()  # a few per year of file: bounded

    def utc(self, naive: datetime) -> datetime:
        first = naive.replace(tzinfo=self.tz)
        second = naive.replace(tzinfo=self.tz, fold=1)
        a, b = first.astimezone(UTC), second.astimezone(UTC)
        if a == b:
            return a
        if a.astimezone(self.tz).replace(tzinfo=None) != naive:  # a gap: neither offset gives it back
            raise ValueError(f"{naive:%Y-%m-%d %H:%M} does not exist in {self.tz.key} (clocks went forward; a "
                             "file in standard time all year wants [sources.csv] timezone = \"Etc/GMT-1\" or the like)")
        if naive in self.seen_ambiguous:
            return max(a, b)  # the repeated hour: the later instant
        self.seen_ambiguous.add(naive)
        return min(a, b)


@functools.lru_cache(maxsize=64)  # a file's rows come a day at a time: strptime once per day, not per row
def _day(d: str) -> datetime:
    return datetime.strptime(d, "%d/%m/%Y") if "/" in d else datetime.strptime(d[:10], "%Y-%m-%d")


def _when(date_text: str, hour_text: str | None, clock: _LocalClock) -> datetime:
    day = _day(date_text.strip())
    if hour_text is None:
        return day.replace(tzinfo=UTC)  # a daily value belongs to its date, stored at 00:00Z like AEMET's
    h = hour_text.strip().replace(":", "")
    if not h.isdigit() or len(h) > 4:
        raise ValueError(f"hour {hour_text!r}")
    hh, mm = (int(h[:-2] or 0), int(h[-2:])) if len(h) > 2 else (int(h), 0)
    if not (0 <= hh <= 24 and 0 <= mm < 60):
        raise ValueError(f"hour {hour_text!r}")
    return clock.utc(day + timedelta(hours=hh, minutes=mm)).replace(minute=0, second=0)


def import_file(store: Store, path: Path, layout_name: str, cfg: CsvConfig,
                priorities: dict[str, int], now: datetime | None = None) -> ImportSummary:
    """Stream `path` into the store BATCH rows at a time (a million rows in flat memory). A row whose every
    reading is already held (from this importer) counts as a duplicate, the rest as new."""
    layout = layout_for(layout_name, cfg)
    encoding = encoding_of(path)
    summary = ImportSummary(f"csv-{layout_name}")
    store.set_priorities(priorities | {SOURCE: cfg.priority})
    with path.open(encoding=encoding, newline="", errors="strict") as f:
        batch: list[list[Reading]] = []
        for line, item in parse(f, layout, ZoneInfo(cfg.timezone), path.name, now):
            summary.total += 1
            if isinstance(item, str):
                summary.failed += 1
                if len(summary.errors) < MAX_ERRORS:
                    summary.errors.append(f"{path.name}:{line}: {item}")
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                _store(store, batch, summary)
                batch = []
        _store(store, batch, summary)
    return summary


def _store(store: Store, rows: list[list[Reading]], summary: ImportSummary) -> None:
    if not rows:
        return
    stamps = [iso(readings[0].ts) for readings in rows]  # a row's readings share its instant
    by_series: dict[str, set[str]] = {}
    for readings, ts in zip(rows, stamps, strict=True):
        for r in readings:
            by_series.setdefault(r.series, set()).add(ts)
    held = {series: store.held(series, wanted, SOURCE) for series, wanted in by_series.items()}
    fresh: list[Reading] = []
    for readings, ts in zip(rows, stamps, strict=True):
        if all(ts in held[r.series] for r in readings):
            summary.duplicates += 1  # nothing to write: the importer's own reading of that slot is there
        else:
            summary.new += 1
            fresh += readings
            for r in readings:  # a second row for the same hour in this batch is a duplicate too
                held[r.series].add(ts)
    store.add_readings(fresh)
