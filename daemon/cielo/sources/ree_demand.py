"""Spain's peninsular electricity demand from REE's apidatos ("demanda-tiempo-real"), keyless.

GET <base_url>/es/datos/demanda/demanda-tiempo-real?time_trunc=hour&start_date=2024-01-15T00:00
    &end_date=2024-01-15T23:59
answers in the same JSON:API shape as the prices (cielo.sources.ree): `included` holds "Demanda real"
(indicator 1293), "Demanda programada" (1292) and "Demanda prevista" (544), each with
`attributes.values = [{"value": 24512.0, "percentage": ..., "datetime": "2024-01-15T00:00:00.000+01:00"}]`
in MW, Madrid wall time with its offset. cielo keeps the real demand: with PV owners' production and the
price, it says when the grid is short. Windows, error bodies and DST handling are REE's (ReeSource).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import Field, field_validator

from cielo.config import SourceConfig, url_validator
from cielo.http import NotFound, PayloadError
from cielo.sources.base import HOUR, SeriesSpec, Window, floor_hour
from cielo.sources.ree import MADRID, ReeSource
from cielo.store import Reading

PATH = "/es/datos/demanda/demanda-tiempo-real"
REAL = ("1293", "Demanda real")  # the indicator id, and its title where an answer carries no id


class ReeDemandConfig(SourceConfig):
    enabled: bool = False  # opt-in, as every keyless API
    base_url: str = "https://apidatos.ree.es"
    priority: int = Field(50, ge=0, le=1000)
    requests_per_minute: float = Field(30, gt=0)
    chunk_days: int = Field(28, ge=1, le=31, description="Madrid days per request during a backfill")
    minute: int = Field(20, ge=0, le=59, description="the minute past each hour (UTC) of the live job")

    _url = field_validator("base_url")(url_validator)


class ReeDemandSource(ReeSource):
    name = "ree_demand"
    earliest = None  # PVPC's start (2014) is not the demand's: REE publishes demand for years before
    # Peninsular demand has never passed 45 GW; 0..100 GW catches a broken answer, never a real hour.
    series = (SeriesSpec("ree.demand", "MW", HOUR, "Electricity demand", "power", icon="mdi:transmission-tower",
                         limits=(0.0, 100_000.0)),)
    config_model = ReeDemandConfig
    config_name = None  # its own table, budget and breaker

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """Today so far (Madrid): the real demand exists only for hours that have passed."""
        start = datetime.combine(now.astimezone(MADRID).date(), time(), MADRID).astimezone(UTC)
        return start, floor_hour(now)

    def url(self, window: Window) -> str:
        first = window.start.astimezone(MADRID)
        last = (window.end - HOUR).astimezone(MADRID)
        return (f"{self.cfg.base_url}{PATH}?time_trunc=hour"
                f"&start_date={first:%Y-%m-%dT%H:%M}&end_date={last:%Y-%m-%d}T23:59")

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        assert self.client is not None
        url = self.url(window)
        readings = parse(self.client.get_json(url), self.name, url)
        if not readings:
            raise NotFound(f"{url}: no demand published for {window.start.astimezone(MADRID):%Y-%m-%d}")
        return readings

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        if slot > floor_hour(now) - timedelta(hours=3):  # the last hours may not be consolidated yet
            return timedelta(minutes=30)
        return super().retry_after(slot, now, attempts)


def parse(payload: Any, source: str = "ree_demand", where: str = "ree_demand") -> list[Reading]:
    """apidatos answer -> readings of ree.demand, one per distinct UTC hour. Pure."""
    if isinstance(payload, dict) and "errors" in payload:
        from cielo.sources.ree import parse as prices

        return prices(payload, source, where)  # REE's error envelope, said and classified the same way
    if not isinstance(payload, dict) or not isinstance(payload.get("included"), list):
        raise PayloadError(f"{where}: unexpected answer: no 'included' list of indicators")
    out: dict[datetime, Reading] = {}
    for item in payload["included"]:
        try:
            if str(item.get("id")) != REAL[0] and item["attributes"].get("title") != REAL[1]:
                continue
            for v in item["attributes"]["values"]:
                if v.get("value") is None:
                    continue
                ts = datetime.fromisoformat(v["datetime"]).astimezone(UTC)
                value = v["value"]  # checked against the series' limits and type by the writer
                out[ts] = Reading("ree.demand", ts, float(value) if isinstance(value, str) else value, "MW", source,
                                  {"local": v["datetime"][:19] + v["datetime"][-6:]})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            ident = item.get("id", "?") if isinstance(item, dict) else "?"
            raise PayloadError(f"{where}: unexpected answer: indicator {ident}: {type(exc).__name__} {exc}") from None
    return [out[ts] for ts in sorted(out)]
