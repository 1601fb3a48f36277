"""AEMET OpenData (needs an API key): a station's hourly observations and its daily climatological values.

Every call is two steps. The first answer is an envelope `{"descripcion", "estado", "datos", "metadatos"}`;
`estado` is the real status (401 bad key, 404 no data, 429 too many requests) even when HTTP says 200. The
readings come from the `datos` URL, a JSON document encoded ISO-8859-15. The key goes in an `api_key`
header, never in a URL. Two sources share `[sources.aemet]` and one request budget (AEMET limits per key):
  aemet        observacion/convencional/datos/estacion/{idema}: the last ~24 h, hourly, UTC `fint`
  aemet_daily  valores/climatologicos/diarios/datos/fechaini/../fechafin/../estacion/{idema}: one row per day,
               numbers as text with decimal commas ("12,4"; precipitation "Ip" = under 0.1 mm)
Formats: https://opendata.aemet.es/dist/index.html and home-assistant/core tests/components/aemet fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from cielo.config import Settings, url_validator
from cielo.http import FetchError, NotFound, PayloadError, decode_json, redact
from cielo.sources import weather
from cielo.sources.base import DAY, HOUR, KeyedConfig, Source, Window, floor_hour, hourly
from cielo.sources.textnum import decimal_comma
from cielo.store import Reading

# Observation field -> (series, unit); names from AEMET's metadatos for observacion/convencional.
OBSERVATION = {
    "ta": ("weather.temperature", "°C"),  # air temperature
    "hr": ("weather.humidity", "%"),  # relative humidity
    "pres_nmar": ("weather.pressure", "hPa"),  # pressure reduced to sea level
    "prec": ("weather.precipitation", "mm"),  # precipitation over the hour ending at fint
    "vv": ("weather.wind_speed", "m/s"),  # mean wind speed
}
# Daily climatological field -> (series, unit); metadatos of valores/climatologicos/diarios.
DAILY = {
    "tmed": ("weather.temperature_daily_mean", "°C"),
    "tmax": ("weather.temperature_daily_max", "°C"),
    "tmin": ("weather.temperature_daily_min", "°C"),
    "prec": ("weather.precipitation_daily", "mm"),
}
ENCODING = "iso-8859-15"  # what AEMET declares for `datos` bodies


class AemetConfig(KeyedConfig):
    base_url: str = "https://opendata.aemet.es/opendata"
    station: str = Field("3195", pattern=r"^[0-9A-Z]{4,5}$", description="the station's idema (3195: Madrid Retiro)")
    priority: int = Field(40, ge=0, le=1000)
    requests_per_minute: float = Field(20, gt=0)
    daily: bool = Field(True, description="also the daily climatological values (source aemet_daily)")

    _url = field_validator("base_url")(url_validator)


class _Aemet(Source):
    config_model = AemetConfig
    config_name = "aemet"
    needs_key = True
    secrets = (("api_key", "CIELO_AEMET_API_KEY"),)
    requests_per_fetch = 2

    @staticmethod
    def error_text(data: Any) -> str | None:
        """AEMET's envelope: `{"descripcion": "...", "estado": 401}`."""
        if isinstance(data, dict) and isinstance(data.get("descripcion"), str):
            return data["descripcion"]
        return Source.error_text(data)

    def two_step(self, path: str) -> Any:
        """Envelope, then its `datos` document (ISO-8859-15)."""
        assert self.client is not None and self.cfg.api_key is not None
        url = f"{self.cfg.base_url}/api/{path}"
        headers = {"api_key": self.cfg.api_key.get_secret_value(), "Accept": "application/json"}
        where = redact(url)
        # estado 429 inside a 200 envelope is retried and backed off like an HTTP 429, inside the client.
        envelope = self.client.get_json(url, headers, encoding=ENCODING,
                                        check=lambda env: check_envelope(env, where) and None)
        datos = check_envelope(envelope, where)
        body, status, ctype = self.client.get(datos)
        return decode_json(body, redact(datos), ctype, ENCODING, status)


class AemetSource(_Aemet):
    name = "aemet"
    series = tuple(weather.SERIES[s] for s, _ in OBSERVATION.values())
    chunk = DAY  # one request answers the last 24 h
    history = timedelta(hours=24)

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        return hourly(start, end)

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The last 24 complete hours; the current hour, if already in the answer, is stored uncounted."""
        end = floor_hour(now)
        return end - DAY, end

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        return parse_observations(self.two_step(f"observacion/convencional/datos/estacion/{self.cfg.station}"),
                                  self.name)

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        return HOUR  # the station reports with a lag of an hour or two


class AemetDailySource(_Aemet):
    name = "aemet_daily"
    series = tuple(weather.SERIES[s] for s, _ in DAILY.values())
    chunk = timedelta(days=31)
    history = None

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return super().enabled(settings) and cls.config(settings).daily

    @classmethod
    def schedule(cls, settings: Settings) -> dict[str, Any]:
        return {"hour": 7, "minute": cls.config(settings).minute}  # daily values: once a day

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        return hourly(start, end, DAY)

    def live_range(self, now: datetime) -> tuple[datetime, datetime]:
        """The last ten days: AEMET publishes a day's values some days later."""
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - 10 * DAY, today

    def fetch(self, window: Window, now: datetime) -> list[Reading]:
        first, last = window.slots[0], window.slots[-1]
        path = (f"valores/climatologicos/diarios/datos/fechaini/{first:%Y-%m-%d}T00:00:00UTC"
                f"/fechafin/{last:%Y-%m-%d}T23:59:59UTC/estacion/{self.cfg.station}")
        return parse_daily(self.two_step(path), self.name)

    def retry_after(self, slot: datetime, now: datetime, attempts: int) -> timedelta:
        if now - slot < timedelta(days=15):
            return timedelta(hours=12)
        return super().retry_after(slot, now, attempts)


def check_envelope(envelope: Any, where: str) -> str:
    """The `datos` URL of a successful envelope; the error its `estado` names otherwise."""
    if not isinstance(envelope, dict) or "estado" not in envelope:
        raise PayloadError(f"{where}: unexpected answer: not an AEMET envelope (no 'estado')")
    try:
        estado = int(envelope["estado"])
    except (TypeError, ValueError):
        raise PayloadError(f"{where}: unexpected answer: estado {envelope['estado']!r}") from None
    reason = " ".join(str(envelope.get("descripcion", "")).split())
    if estado == 200 and isinstance(envelope.get("datos"), str):
        return envelope["datos"]
    if estado == 404:
        raise NotFound(f"{where}: AEMET 404: {reason or 'no data'}")
    if estado == 401:
        raise FetchError(f"{where}: AEMET 401: {reason or 'API key rejected'}", 401, transient=False)
    if estado == 429:
        raise FetchError(f"{where}: AEMET 429: {reason or 'too many requests'}", 429, transient=True)
    raise FetchError(f"{where}: AEMET {estado}: {reason or 'error'}", estado, transient=estado >= 500)


def parse_observations(rows: Any, source: str = "aemet") -> list[Reading]:
    """`datos` of observacion/convencional -> hourly readings. `fint` is UTC (no suffix). Pure."""
    if not isinstance(rows, list):
        raise PayloadError("aemet: unexpected answer: observations are not a list")
    out = []
    for row in rows:
        try:
            observed = datetime.fromisoformat(row["fint"]).replace(tzinfo=UTC)
        except (KeyError, TypeError, ValueError):
            raise PayloadError(f"aemet: unexpected answer: observation without a valid 'fint': {row!r:.80}") from None
        slot = floor_hour(observed)
        attrs = {"station": row.get("idema")} | ({} if slot == observed else {"observed_at": row["fint"] + "Z"})
        for key, (series, unit) in OBSERVATION.items():
            v = row.get(key)
            if isinstance(v, (int, float)):  # checked (finite, in range, not a boolean) by the writer
                out.append(Reading(series, slot, v, unit, source, attrs))
    return out


def parse_daily(rows: Any, source: str = "aemet_daily") -> list[Reading]:
    """`datos` of valores/climatologicos/diarios -> daily readings at 00:00Z of `fecha`. Pure."""
    if not isinstance(rows, list):
        raise PayloadError("aemet: unexpected answer: daily values are not a list")
    out = []
    for row in rows:
        try:
            day = datetime.fromisoformat(row["fecha"]).replace(tzinfo=UTC)
        except (KeyError, TypeError, ValueError):
            raise PayloadError(f"aemet: unexpected answer: daily row without a valid 'fecha': {row!r:.80}") from None
        for key, (series, unit) in DAILY.items():
            v = decimal_comma(row.get(key))
            if v is not None:
                out.append(Reading(series, day, v, unit, source, {"station": row.get("indicativo")}))
    return out
