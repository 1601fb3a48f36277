"""`cielo import-csv`: SIAR and datosclima.es exports, bad inputs, priority against the APIs."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cielo, rows
from tests.sources.helpers import summary
from tests.support.apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_import_siar_hourly_csv(cfg, tmp_path: Path):
    config = cfg()
    result = cielo("import-csv", "--source", "siar", str(FIXTURES / "siar-hourly.csv"), config=config)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "csv-siar: total=6 new=4 duplicates=0 failed=2\n"
    assert result.stderr.splitlines() == ["siar-hourly.csv:5: not a number: TempMedia='n/d'",
                                          "siar-hourly.csv:6: bad date/hour: day is out of range for month"]
    temps = rows(tmp_path / "cielo.db", "SELECT ts, value, source FROM readings WHERE series='weather.temperature'"
                                        " ORDER BY ts")
    # Madrid's autumn night: 02:00 is its first (CEST) instance, 03:00 is CET.
    assert temps == [("2023-10-28T23:00:00Z", 12.37, "csv"), ("2023-10-29T00:00:00Z", 11.98, "csv"),
                     ("2023-10-29T02:00:00Z", 11.5, "csv"), ("2023-10-29T05:00:00Z", 10.71, "csv")]
    again = cielo("import-csv", "--source", "siar", str(FIXTURES / "siar-hourly.csv"), config=config)
    assert again.stdout == "csv-siar: total=6 new=0 duplicates=4 failed=2\n"


def test_import_datosclima_daily_csv_with_commas(cfg, tmp_path: Path):
    result = cielo("import-csv", "--source", "datosclima", str(FIXTURES / "datosclima-3195.csv"),
                   config=cfg())
    assert result.stdout == "csv-datosclima: total=3 new=3 duplicates=0 failed=0\n", result.stderr
    assert rows(tmp_path / "cielo.db", "SELECT * FROM weather_daily ORDER BY ts LIMIT 2") == [
        ("2023-01-01T00:00:00Z", 9.2, 14.2, 4.1, 0.0, "csv"), ("2023-01-02T00:00:00Z", 9.4, 13.8, 5.0, 0.0, "csv")]


def test_import_csv_bad_inputs(cfg, tmp_path: Path):
    config = cfg()
    missing = cielo("import-csv", "--source", "siar", str(tmp_path / "nope.csv"), config=config)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    wrong = cielo("import-csv", "--source", "datosclima", str(FIXTURES / "siar-hourly.csv"), config=config)
    assert wrong.returncode == 2 and "no value column" in wrong.stderr and wrong.stderr.count("\n") == 1
    layout = cielo("import-csv", "--source", "excel", str(FIXTURES / "siar-hourly.csv"), config=config)
    assert layout.returncode == 2 and "unknown layout 'excel'" in layout.stderr


def test_api_readings_outrank_csv(cfg, api: ApiServer, tmp_path: Path):
    config = cfg("openmeteo")
    custom = tmp_path / "mine.csv"
    custom.write_text("Fecha;Hora;Temp\n01/01/2024;02:00;-3,5\n01/01/2024;03:00;-4,0\n", encoding="utf-8")
    config.write_text(config.read_text() + '\n[sources.csv]\nhour_column = "Hora"\n'
                      'columns = { "weather.temperature" = "Temp" }\ntimezone = "UTC"\n')
    imported = cielo("import-csv", "--source", "custom", str(custom), config=config)
    assert imported.stdout == "csv-custom: total=2 new=2 duplicates=0 failed=0\n", imported.stderr
    backfilled = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-01T23:00Z", "--source",
                       "openmeteo", config=config)
    assert summary(backfilled.stdout)["openmeteo"] == (24, 24, 0, 0)  # two of them replace the CSV's
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings WHERE source='csv'") == [(0,)]
