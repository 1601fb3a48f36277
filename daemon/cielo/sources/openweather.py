"""OpenWeatherMap current weather (needs an API key): fills the hours AEMET's station does not report.

GET <base_url>/data/2.5/weather?lat=..&lon=..&units=metric&appid=KEY answers
`{"dt": 1560350645, "main": {"temp", "pressure", "humidity"}, "wind": {"speed"}, "clouds": {"all"},
"rain": {"1h"}?, "cod": 200}`; errors `{"cod": 401, "message": "Invalid API key. ..."}`.
No history: the paid history API is out of scope. The key travels in the query string, which every error
and log line redacts. Format: https://openweathermap.org/current.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from cielo.config import url_validator
from cielo.http import PayloadError, redact
from cielo.sources import weather
from cielo.sources.base import HOUR, KeyedConfig, Source, Window, floor_hour, hourly
from cielo.store import Reading
from cielo.timeutil import iso

# (path in the answer, series, unit) with units=metric.
FIELDS = (
    (("main", "temp"), "weather.temperature", "°C"),
    (("main", "humidity"), "weather.humidity", "%"),
    (("main", "pressure"), "weather.pressure", "hPa"),  # sea level
    (("rain", "1h"), "weather.precipitation", "mm"),  # absent when it did not rain
    (("wind", "speed"), "weather.wind_speed", "m/s"),
    (("clouds", "all"), "weather.cloud_cover", "%"),
)


class OpenWeatherConfig(KeyedConfig):
    base_url: str = "https://api.openweathermap.org"
    priority: int = Field(30, ge=0, le=1000)
    requests_per_minute: float = Field(60, gt=0)

    _url = field_validator("base_url")(url_validator)


class OpenWeatherSource(Source):
    name = "openweather"
    series = tuple(weather.SERIES[s] for _, s, _ in FIELDS)
    chunk = HOUR
    history = timedelta(0)  # current weather only
    config_model = OpenWeatherConfig
    needs_key = True
    secrets = (("api_key", "CIELO_OPENWEATHER_API_KEY"),)

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        return hourly(start, end)

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        start = floor_hour(now)
        return start, start + HOUR

    def serves(self, start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime] | None:
        # Only the current hour: the API knows nothing else.
        start = max(start, floor_hour(now))
        return (start, end) if start < end else None

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        assert self.client is not None and self.cfg.api_key is not None
        d = self.settings.device
        url = (f"{self.cfg.base_url}/data/2.5/weather?lat={d.latitude}&lon={d.longitude}&units=metric"
               f"&appid={self.cfg.api_key.get_secret_value()}")
        return parse(self.client.get_json(url), self.name, redact(url))


def parse(payload: Any, source: str = "openweather", where: str = "openweather") -> list[Reading]:
    """Current-weather answer -> one reading per series in the slot of its observation time. Pure."""
    if not isinstance(payload, dict):
        raise PayloadError(f"{where}: unexpected answer: not an object")
    if str(payload.get("cod", "200")) != "200":
        raise PayloadError(f"{where}: OpenWeatherMap: {OpenWeatherSource.error_text(payload) or payload.get('cod')}")
    try:
        observed = datetime.fromtimestamp(int(payload["dt"]), UTC)
        main = payload["main"]
        _ = main["temp"]
    except (KeyError, TypeError) as exc:
        raise PayloadError(f"{where}: unexpected answer: missing {exc}") from None
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"{where}: unexpected answer: dt {payload.get('dt')!r} is not a time") from None
    slot = floor_hour(observed)
    attrs = {"observed_at": iso(observed)}
    out = []
    for path, series, unit in FIELDS:
        node: Any = payload
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None and path[0] == "rain":
            node = 0.0
        if isinstance(node, (int, float)):  # true/false, NaN, Infinity too: the writer rejects them with a reason
            out.append(Reading(series, slot, node, unit, source, attrs))
    return out
