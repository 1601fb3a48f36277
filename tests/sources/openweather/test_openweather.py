"""OpenWeatherMap: current weather into its hour; a bad key never shows."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cielo, rows
from tests.support.apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_openweather_current_into_its_hour(cfg, api: ApiServer, tmp_path: Path):
    api.owm_dt = None
    result = cielo("ingest", "--source", "openweather", config=cfg("openweather"))
    assert result.returncode == 0, result.stderr
    stored = rows(tmp_path / "cielo.db",
                  "SELECT series, value, unit, json_extract(attrs, '$.observed_at') FROM readings")
    values = {s: (v, u) for s, v, u, _ in stored}
    assert values["weather.temperature"] == (25.33, "°C")
    assert values["weather.precipitation"] == (3.16, "mm") and values["weather.cloud_cover"] == (100.0, "%")
    assert all(obs.endswith("Z") for *_, obs in stored)
    assert "units=metric" in api.paths("owm")[0]


def test_openweather_bad_key_is_one_line_without_the_key(cfg, api: ApiServer):
    api.behaviours["owm"] = "401"
    result = cielo("ingest", "--source", "openweather", config=cfg("openweather"))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "HTTP 401 unauthorized (API key missing or rejected): Invalid API key." in result.stdout
    assert result.stdout.count("\n") == 1 and "SECRET" not in out and "appid" not in out


def test_openweather_has_no_history(cfg):
    result = cielo("backfill", "--from", "2024-01-01", "--to", "2024-01-02", "--source", "openweather",
                   config=cfg("openweather"))
    assert result.returncode == 2
    assert "openweather: cannot serve this range (no history)" in result.stderr
