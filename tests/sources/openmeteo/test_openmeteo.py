"""Open-Meteo: archive and forecast APIs, units, error reasons."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cielo, rows
from tests.sources.helpers import summary
from tests.support.apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_openmeteo_archive_hours_in_utc_with_units(cfg, api: ApiServer, tmp_path: Path):
    result = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-02T23:00Z", "--source", "openmeteo",
                   config=cfg("openmeteo"))
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["openmeteo"] == (48, 47, 0, 1)  # the archive's last hour is still null
    db = tmp_path / "cielo.db"
    by_series = dict(rows(db, "SELECT series, count(*) FROM readings GROUP BY series"))
    assert by_series == {"weather.temperature": 47, "weather.humidity": 48, "weather.pressure": 48,
                         "weather.precipitation": 48, "weather.wind_speed": 48, "weather.cloud_cover": 48}
    assert rows(db, "SELECT ts, temperature_c, humidity_pct, pressure_hpa, wind_speed_ms, cloud_cover_pct FROM weather"
                    " ORDER BY ts LIMIT 1") == [("2024-01-01T00:00:00Z", 2.5, 94.0, 1024.1, 1.5, 0.0)]
    assert rows(db, "SELECT DISTINCT unit FROM readings WHERE series='weather.wind_speed'") == [("m/s",)]
    (path,) = api.paths("om-archive")
    assert "timezone=UTC" in path and "wind_speed_unit=ms" in path
    assert "start_date=2024-01-01&end_date=2024-01-02" in path


def test_openmeteo_recent_days_come_from_the_forecast_api(cfg, api: ApiServer, tmp_path: Path):
    result = cielo("ingest", "--source", "openmeteo", config=cfg("openmeteo"))
    assert result.returncode == 0, result.stderr
    assert "(48 new)" in result.stdout
    assert api.count("om-archive") == 0
    assert "past_days=2&forecast_days=1" in api.paths("om-forecast")[0]
    # Never the current hour or later: those would be forecasts.
    latest = rows(tmp_path / "cielo.db", "SELECT max(ts) FROM readings")[0][0]
    from cielo.timeutil import iso, utcnow

    assert latest < iso(utcnow().replace(minute=0, second=0))


def test_openmeteo_error_reason_is_one_line(cfg, api: ApiServer):
    api.behaviours["om-archive"] = "api-error"
    result = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-01T23:00Z", "--source", "openmeteo",
                   config=cfg("openmeteo"))
    assert result.returncode == 1
    assert "HTTP 400: Cannot initialize WeatherVariable from invalid String value tempeture_2m" in result.stderr
