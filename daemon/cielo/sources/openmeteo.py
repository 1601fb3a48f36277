"""Open-Meteo, keyless: the weather history source.

Two APIs: the historical archive (`<archive_url>/v1/archive?...&start_date=&end_date=`, ERA5-based, lagging
about five days) and the forecast API, whose `past_days` covers the recent days the archive does not. Both
answer `{"utc_offset_seconds", "hourly_units": {...}, "hourly": {"time": [...], "<var>": [...]}}` with
`timezone=UTC` asked for, so `time` is UTC wall time without an offset (`utc_offset_seconds` is the offset at
request time, never used for the data). Errors: `{"error": true, "reason": "..."}` with HTTP 400.
Format: https://open-meteo.com/en/docs and /en/docs/historical-weather-api.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from cielo.config import Settings, SourceConfig, url_validator
from cielo.http import PayloadError
from cielo.sources import weather
from cielo.sources.base import DAY, HOUR, Source, Window, floor_hour, hourly
from cielo.store import Reading

# Open-Meteo hourly variable -> (series, unit we ask for); wind in m/s via wind_speed_unit=ms.
VARIABLES = {
    "temperature_2m": ("weather.temperature", "°C"),
    "relative_humidity_2m": ("weather.humidity", "%"),
    "pressure_msl": ("weather.pressure", "hPa"),  # sea level, as AEMET's pres_nmar and OpenWeatherMap's
    "precipitation": ("weather.precipitation", "mm"),  # sum of the preceding hour
    "wind_speed_10m": ("weather.wind_speed", "m/s"),
    "cloud_cover": ("weather.cloud_cover", "%"),
}
MAX_PAST_DAYS = 92  # the forecast API's limit for past_days


class OpenMeteoConfig(SourceConfig):
    enabled: bool = False  # opt-in: a board should not call public APIs for a place nobody configured
    archive_url: str = "https://archive-api.open-meteo.com"
    forecast_url: str = "https://api.open-meteo.com"
    archive_delay_days: int = Field(5, ge=1, le=30, description="newer days come from the forecast API")
    priority: int = Field(20, ge=0, le=1000)
    requests_per_minute: float = Field(600, gt=0)
    requests_per_day: float = Field(10_000, gt=0)
    chunk_days: int = Field(92, ge=1, le=366)

    _urls = field_validator("archive_url", "forecast_url")(url_validator)


class OpenMeteoSource(Source):
    name = "openmeteo"
    series = tuple(weather.SERIES[s] for s, _ in VARIABLES.values())
    chunk = timedelta(days=92)
    history = None
    earliest = datetime(1940, 1, 1, tzinfo=UTC)  # the archive (ERA5) reaches back to 1940
    config_model = OpenMeteoConfig

    @staticmethod
    def error_text(data: Any) -> str | None:
        """Open-Meteo: `{"error": true, "reason": "..."}`."""
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            return data["reason"]
        return Source.error_text(data)

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.chunk = timedelta(days=self.cfg.chunk_days)

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        return hourly(start, end)

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The past 48 hours: never the current hour, which would be a forecast."""
        end = floor_hour(now)
        return end - 2 * DAY, end

    def query(self) -> str:
        d = self.settings.device
        return (f"latitude={d.latitude}&longitude={d.longitude}&hourly={','.join(VARIABLES)}"
                "&wind_speed_unit=ms&timezone=UTC")

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        assert self.client is not None
        cut = floor_hour(now)
        boundary = (now - timedelta(days=self.cfg.archive_delay_days)).replace(hour=0, minute=0, second=0,
                                                                                microsecond=0)
        end = min(window.end, cut)
        urls = []
        if window.start < boundary:
            last = min(end, boundary) - HOUR
            urls.append(f"{self.cfg.archive_url}/v1/archive?{self.query()}"
                        f"&start_date={window.start:%Y-%m-%d}&end_date={last:%Y-%m-%d}")
        if end > boundary:
            first = max(window.start, boundary)
            # past_days=N starts at 00:00 UTC N days before today.
            past = min((cut.date() - first.date()).days, MAX_PAST_DAYS)
            urls.append(f"{self.cfg.forecast_url}/v1/forecast?{self.query()}&past_days={past}&forecast_days=1")
        out: list[Reading] = []
        for url in urls:
            out += [r for r in parse(self.client.get_json(url), self.name, url) if window.start <= r.ts < end]
        return out


def parse(payload: Any, source: str = "openmeteo", where: str = "openmeteo") -> list[Reading]:
    """Open-Meteo hourly answer -> readings (nulls skipped). Pure."""
    if isinstance(payload, dict) and payload.get("error"):
        raise PayloadError(f"{where}: Open-Meteo: {OpenMeteoSource.error_text(payload) or 'error'}")
    hourly_ = payload.get("hourly") if isinstance(payload, dict) else None
    if not isinstance(hourly_, dict) or not isinstance(hourly_.get("time"), list):
        raise PayloadError(f"{where}: unexpected answer: no 'hourly.time' list")
    if payload.get("utc_offset_seconds", 0) != 0:
        raise PayloadError(f"{where}: unexpected answer: times are not UTC (utc_offset_seconds="
                           f"{payload.get('utc_offset_seconds')})")
    try:
        times = [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in hourly_["time"]]
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{where}: unexpected answer: hourly.time: {exc}") from None
    out = []
    for var, (series, unit) in VARIABLES.items():
        values = hourly_.get(var)
        if values is None:
            continue
        if not isinstance(values, list) or len(values) != len(times):
            raise PayloadError(f"{where}: unexpected answer: hourly.{var} does not match hourly.time")
        for ts, v in zip(times, values, strict=True):
            if v is None:
                continue
            if not isinstance(v, (int, float)):
                raise PayloadError(f"{where}: unexpected answer: hourly.{var} holds {v!r}")
            out.append(Reading(series, ts, v, unit, source))  # checked by the writer (sources.base.vet)
    return out
