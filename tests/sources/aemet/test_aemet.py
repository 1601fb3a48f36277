"""AEMET OpenData: the two-step envelope, estado inside a 200, daily values, ISO-8859-15."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import cielo, rows
from tests.sources.helpers import summary
from tests.support.apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_aemet_two_step_observations(cfg, api: ApiServer, tmp_path: Path):
    result = cielo("ingest", "--source", "aemet", config=cfg("aemet"))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"aemet \S+Z: temperature=-0.7 °C \(23 new\)\n", result.stdout)
    assert api.count("aemet") == 1 and api.count("aemet-datos") == 1
    db = tmp_path / "cielo.db"
    assert dict(rows(db, "SELECT series, count(*) FROM readings GROUP BY series")) == {
        f"weather.{s}": 23 for s in ("temperature", "humidity", "pressure", "precipitation", "wind_speed")}
    assert rows(db, "SELECT min(value), max(value) FROM readings WHERE series='weather.pressure'") == [(1004.4, 1009.9)]
    assert "SECRET" not in result.stdout + result.stderr
    assert not any("SECRET" in path for path in api.paths("aemet"))  # the key travels in a header


@pytest.mark.parametrize(("estado", "line", "code"), [
    ("401", "AEMET 401: La API Key ha expirado. Genere una nueva API Key.", 1),
    ("429", "AEMET 429: Límite de peticiones o caudal por minuto excedido", 1),
    ("404", "failed: not found (404)", 1),
])
def test_aemet_estado_inside_a_200_envelope(cfg, api: ApiServer, tmp_path: Path, estado: str, line: str, code: int):
    api.behaviours["aemet"] = f"estado-{estado}"
    result = cielo("ingest", "--source", "aemet", config=cfg("aemet"))
    assert result.returncode == code
    assert line in result.stdout and result.stdout.count("\n") == 1
    assert api.count("aemet-datos") == 0
    missing = rows(tmp_path / "cielo.db", "SELECT count(*) FROM missing")[0][0]
    assert missing == (24 if estado == "404" else 0)  # only "no data" is remembered as missing


def test_aemet_daily_values_with_decimal_commas(cfg, api: ApiServer, tmp_path: Path):
    result = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-03T00:00Z", "--source", "aemet_daily",
                   config=cfg("aemet"))
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["aemet_daily"] == (3, 3, 0, 0)
    daily = rows(tmp_path / "cielo.db", "SELECT ts, temperature_mean_c, temperature_max_c, temperature_min_c,"
                                        " precipitation_mm FROM weather_daily ORDER BY ts")
    assert daily[0] == ("2024-01-01T00:00:00Z", 12.4, 15.0, 9.8, 0.0)  # "Ip": under 0.1 mm
    assert daily[1][4] == 3.2
    assert "fechaini/2024-01-01T00:00:00UTC/fechafin/2024-01-03T23:59:59UTC/estacion/3195" in api.paths("aemet")[0]


def test_aemet_parse_reads_iso_8859_15():
    from cielo.http import decode_json
    from cielo.sources.aemet import parse_daily

    body = (FIXTURES / "daily-1387-data.json").read_bytes()
    assert "CORUÑA".encode() not in body  # the fixture really is Latin-9
    rows_ = decode_json(body, "x", encoding="iso-8859-15")
    assert rows_[0]["nombre"] == "A CORUÑA"
    assert len(parse_daily(rows_)) == 12
