"""Spanish electricity prices from REE's apidatos ("precios-mercados-tiempo-real"), keyless.

GET <base_url>/es/datos/mercados/precios-mercados-tiempo-real?time_trunc=hour&geo_ids=8741
    &start_date=2021-10-31T00:00&end_date=2021-10-31T23:59
answers JSON:API-style: `included` holds one item per indicator (1001 PVPC, 600 spot), each with
`attributes.values = [{"value": 171.48, "datetime": "2021-10-31T00:00:00.000+02:00"}, ...]` in €/MWh.
The dates asked for and the datetimes answered are Europe/Madrid wall time with their offset, so a DST day
has 23 or 25 values whose offsets keep them distinct; converting each to UTC gives 23 / 25 distinct slots
(the 02:00+02:00 / 02:00+01:00 pair of the autumn day). Errors come as `{"errors": [{"status", "title",
"detail"}]}`. Format: apidatos docs (https://www.ree.es/es/apidatos) and the answers recorded in
azogue/aiopvpc tests/api_examples/PRICES_APIDATOS_*.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from cielo.config import Settings, SourceConfig, url_validator
from cielo.http import FetchError, NotFound, PayloadError
from cielo.sources.base import DAY, HOUR, SeriesSpec, Source, Window, floor_hour, hourly
from cielo.store import Reading

MADRID = ZoneInfo("Europe/Madrid")  # REE's reference time zone (aiopvpc const.REFERENCE_TZ)
PATH = "/es/datos/mercados/precios-mercados-tiempo-real"
INDICATORS = {"1001": "ree.pvpc", "600": "ree.spot"}  # apidatos indicator ids (aiopvpc const.py)
PRICE = (-1000.0, 20000.0)  # EUR/MWh
GEO_IDS = {  # apidatos geo_ids for the PVPC zones (aiopvpc const.py)
    8741: "peninsula",
    8742: "canarias",
    8743: "baleares",
    8744: "ceuta",
    8745: "melilla",
}
PUBLISHED_AT = time(20, 30)  # the next day's prices appear around 20:15 Madrid time


class ReeConfig(SourceConfig):
    enabled: bool = False  # opt-in: a board should not call public APIs for a place nobody configured
    base_url: str = "https://apidatos.ree.es"
    geo_id: Literal[8741, 8742, 8743, 8744, 8745] = 8741
    priority: int = Field(50, ge=0, le=1000)
    requests_per_minute: float = Field(30, gt=0)
    chunk_days: int = Field(28, ge=1, le=31, description="days per request; apidatos refuses long hourly ranges")
    minute: int = Field(5, ge=0, le=59, description="the minute past each hour (UTC) of the live job")

    _url = field_validator("base_url")(url_validator)


class ReeSource(Source):
    name = "ree"
    # The day-ahead market clears between -500 and +4,000 EUR/MWh (SDAC harmonised limits); PVPC adds tolls.
    series = (SeriesSpec("ree.pvpc", "EUR/MWh", HOUR, "PVPC price", icon="mdi:currency-eur", limits=PRICE),
              SeriesSpec("ree.spot", "EUR/MWh", HOUR, "Spot price", icon="mdi:currency-eur", limits=PRICE))
    chunk = timedelta(days=28)
    history = None
    earliest = datetime(2014, 3, 31, 22, tzinfo=UTC)  # PVPC (indicator 1001) starts 2014-04-01, Madrid time
    config_model = ReeConfig

    @staticmethod
    def error_text(data: Any) -> str | None:
        """apidatos: `{"errors": [{"code", "status", "title", "detail"}]}`."""
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            parts = [str(errors[0][k]) for k in ("title", "detail") if errors[0].get(k)]
            return " - ".join(dict.fromkeys(parts))  # a detail equal to the title is said once
        return Source.error_text(data)

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.chunk = timedelta(days=self.cfg.chunk_days)

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        return hourly(start, end)

    def windows(self, slots: Sequence[datetime]) -> list[Window]:
        """Whole Madrid days (23, 24 or 25 hours), consecutive days merged up to `chunk_days`."""
        days: dict[Any, list[datetime]] = {}
        for ts in slots:
            days.setdefault(ts.astimezone(MADRID).date(), []).append(ts)
        out: list[Window] = []
        group: list[Any] = []
        for day in sorted(days):
            if group and (len(group) >= self.cfg.chunk_days or day - group[-1] != timedelta(days=1)):
                out.append(self._window(group, days))
                group = []
            group.append(day)
        if group:
            out.append(self._window(group, days))
        return out

    @staticmethod
    def _window(group: list[Any], days: dict[Any, list[datetime]]) -> Window:
        start = datetime.combine(group[0], time(), MADRID).astimezone(UTC)
        end = datetime.combine(group[-1] + timedelta(days=1), time(), MADRID).astimezone(UTC)
        return Window(start, end, tuple(ts for d in group for ts in days[d]))

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """Today (Madrid), and tomorrow once its prices are published in the evening."""
        local = now.astimezone(MADRID)
        days = 2 if local.time() >= PUBLISHED_AT else 1
        start = datetime.combine(local.date(), time(), MADRID)
        end = datetime.combine(local.date() + timedelta(days=days), time(), MADRID)
        return start.astimezone(UTC), end.astimezone(UTC)

    def url(self, window: Window) -> str:
        first = window.start.astimezone(MADRID)
        last = (window.end - HOUR).astimezone(MADRID)
        return (f"{self.cfg.base_url}{PATH}?time_trunc=hour&geo_ids={self.cfg.geo_id}"
                f"&start_date={first:%Y-%m-%dT%H:%M}&end_date={last:%Y-%m-%d}T23:59")

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        assert self.client is not None
        url = self.url(window)
        payload = self.client.get_json(url)
        readings = parse(payload, self.name, url)
        if not readings:
            raise NotFound(f"{url}: no prices published for {window.start.astimezone(MADRID):%Y-%m-%d}"
                           f"{'' if window.end - window.start <= DAY + HOUR else ' onwards'}")
        return readings

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        # Today's and tomorrow's prices are published on the day: ask again within the hour.
        if slot > floor_hour(now) - DAY:
            return timedelta(minutes=30)
        return super().retry_after(slot, now, attempts)


def parse(payload: Any, source: str = "ree", where: str = "ree") -> list[Reading]:
    """apidatos answer -> readings of ree.pvpc / ree.spot, one per distinct UTC hour. Pure."""
    if isinstance(payload, dict) and "errors" in payload:
        reason = ReeSource.error_text(payload) or "error"
        status = _status(payload)
        if status == 404:
            raise NotFound(f"{where}: REE: {reason}")
        raise FetchError(f"{where}: REE: {reason}", status, transient=status is None or status >= 500)
    if not isinstance(payload, dict) or not isinstance(payload.get("included"), list):
        raise PayloadError(f"{where}: unexpected answer: no 'included' list of indicators")
    out: dict[tuple[str, datetime], Reading] = {}
    for item in payload["included"]:
        try:
            series = INDICATORS.get(str(item["id"]))
            if series is None:
                continue
            values = item["attributes"]["values"]
            for v in values:
                if v.get("value") is None:
                    continue
                ts = datetime.fromisoformat(v["datetime"]).astimezone(UTC)
                value = v["value"]  # checked against the series' limits and type by the writer (sources.base.vet)
                value = float(value) if isinstance(value, str) else value
                out[(series, ts)] = Reading(series, ts, value, "EUR/MWh", source,
                                            {"local": v["datetime"][:19] + v["datetime"][-6:]})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            ident = item.get("id", "?") if isinstance(item, dict) else "?"
            raise PayloadError(f"{where}: unexpected answer: indicator {ident}: {type(exc).__name__} {exc}") from None
    return sorted(out.values(), key=lambda r: (r.series, r.ts))


def _status(payload: dict) -> int | None:
    try:
        return int(payload["errors"][0]["status"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
