"""Weather and price sources end to end: the real CLI against loopback servers answering in the providers'
formats (tests/fixtures/*, see its README), real SQLite files."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, cielo, rows, source_sections, write_config
from tests.support.apiserver import ApiServer

AUTUMN = ("--from", "2021-10-31T00:00+02:00", "--to", "2021-10-31T23:59+01:00")  # Madrid's 25-hour day
SPRING = ("--from", "2022-03-27T00:00+01:00", "--to", "2022-03-27T23:59+02:00")  # Madrid's 23-hour day
SUMMARY = re.compile(r"^(\w+): total=(\d+) new=(\d+) duplicates=(\d+) failed=(\d+)$", re.M)


def summary(stdout: str) -> dict[str, tuple[int, ...]]:
    return {m[1]: tuple(int(x) for x in m.groups()[1:]) for m in SUMMARY.finditer(stdout)}


@pytest.fixture
def cfg(tmp_path: Path, api: ApiServer):
    def make(*enabled: str, **extra: dict[str, Any]) -> Path:
        sections = {"storage": {"database": str(tmp_path / "cielo.db")}, "skycam": {"enabled": False},
                    "backfill": {"max_attempts": 1, "on_startup": False},  # jobs are tested in test_jobs.py
                    **source_sections(api, *enabled, **extra)}
        return write_config(tmp_path / "config.toml", sections)

    return make


# --- REE ------------------------------------------------------------------------------------------------


def test_ree_autumn_dst_day_stores_25_distinct_utc_hours(cfg, api: ApiServer, tmp_path: Path):
    result = cielo("backfill", *AUTUMN, "--source", "ree", config=cfg("ree"))
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["ree"] == (25, 25, 0, 0)
    pvpc = rows(tmp_path / "cielo.db",
                "SELECT ts, value, unit, source FROM readings WHERE series='ree.pvpc' ORDER BY ts")
    assert len(pvpc) == len({ts for ts, *_ in pvpc}) == 25
    assert pvpc[0] == ("2021-10-30T22:00:00Z", 171.48, "EUR/MWh", "ree")
    # 02:00+02:00 and 02:00+01:00: the repeated local hour lands in two UTC slots.
    assert dict((ts, v) for ts, v, *_ in pvpc)["2021-10-31T00:00:00Z"] == 109.55
    assert dict((ts, v) for ts, v, *_ in pvpc)["2021-10-31T01:00:00Z"] == 104.85
    assert pvpc[-1][:2] == ("2021-10-31T22:00:00Z", 146.12)
    view = rows(tmp_path / "cielo.db", "SELECT pvpc_eur_mwh, spot_eur_mwh, pvpc_eur_kwh FROM prices "
                                       "WHERE ts = '2021-10-30T22:00:00Z'")
    assert view == [(171.48, 134.48, pytest.approx(0.17148))]
    assert api.count("ree") == 1  # the whole day in one request
    assert "start_date=2021-10-31T00:00&end_date=2021-10-31T23:59" in api.paths("ree")[0]


def test_ree_spring_dst_day_stores_23_hours_and_a_second_run_adds_nothing(cfg, api: ApiServer, tmp_path: Path):
    config = cfg("ree")
    first = cielo("backfill", *SPRING, "--source", "ree", config=config)
    assert summary(first.stdout)["ree"] == (23, 23, 0, 0), first.stderr
    ts = [t for (t,) in rows(tmp_path / "cielo.db", "SELECT ts FROM readings WHERE series='ree.spot' ORDER BY ts")]
    assert len(ts) == 23 and ts[0] == "2022-03-26T23:00:00Z" and ts[-1] == "2022-03-27T21:00:00Z"
    again = cielo("backfill", *SPRING, "--source", "ree", config=config)
    assert summary(again.stdout)["ree"] == (23, 0, 23, 0)
    assert api.count("ree") == 1  # held slots cost no request


def test_ree_parse_is_pure_and_dst_safe():
    from cielo.sources.ree import parse

    readings = parse(json.loads((FIXTURES / "ree" / "prices-2021-10-31.json").read_text()))
    assert len({(r.series, r.ts) for r in readings}) == 50
    assert {r.series for r in readings} == {"ree.pvpc", "ree.spot"}


def test_ree_api_error_body_is_one_line(cfg, api: ApiServer):
    api.behaviours["ree"] = "api-error"
    result = cielo("backfill", *AUTUMN, "--source", "ree", config=cfg("ree"))
    assert result.returncode == 1
    assert summary(result.stdout)["ree"] == (25, 0, 0, 25)
    warning = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warning) == 1
    assert "HTTP 400: Bad Request - The date range is too long" in warning[0]


# --- Open-Meteo -----------------------------------------------------------------------------------------


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


# --- AEMET ----------------------------------------------------------------------------------------------


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

    body = (FIXTURES / "aemet" / "daily-1387-data.json").read_bytes()
    assert "CORUÑA".encode() not in body  # the fixture really is Latin-9
    rows_ = decode_json(body, "x", encoding="iso-8859-15")
    assert rows_[0]["nombre"] == "A CORUÑA"
    assert len(parse_daily(rows_)) == 12


# --- OpenWeatherMap -------------------------------------------------------------------------------------


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


# --- priority -------------------------------------------------------------------------------------------


def test_priority_decides_who_holds_a_slot(cfg, api: ApiServer, tmp_path: Path):
    config = cfg("openmeteo", "aemet")
    db = tmp_path / "cielo.db"
    assert cielo("ingest", "--source", "openmeteo", config=config).returncode == 0
    assert rows(db, "SELECT DISTINCT source FROM readings WHERE series='weather.temperature'") == [("openmeteo",)]
    # AEMET (priority 40) replaces Open-Meteo (20) in the hours it reports: those count as new.
    aemet = cielo("ingest", "--source", "aemet", config=config)
    assert "(23 new)" in aemet.stdout, aemet.stdout + aemet.stderr
    held = dict(rows(db, "SELECT source, count(*) FROM readings WHERE series='weather.temperature' GROUP BY source"))
    assert held == {"aemet": 23, "openmeteo": 25}
    assert rows(db, "SELECT DISTINCT temperature_source FROM weather WHERE ts IN (SELECT ts FROM readings "
                    "WHERE source='aemet')") == [("aemet",)]
    # Open-Meteo again: its lower priority makes those slots duplicates, and it asks for nothing.
    before = api.count("om-forecast")
    again = cielo("ingest", "--source", "openmeteo", config=config)
    assert again.stdout.strip().endswith("already stored") and api.count("om-forecast") == before
    assert dict(rows(db, "SELECT source, count(*) FROM readings WHERE series='weather.temperature' GROUP BY source")) \
        == held


def test_priority_is_configurable(cfg, api: ApiServer, tmp_path: Path):
    config = cfg("openmeteo", "aemet", openmeteo={"priority": 90})
    assert cielo("ingest", "--source", "openmeteo", config=config).returncode == 0
    aemet = cielo("ingest", "--source", "aemet", config=config)
    assert aemet.stdout.strip().endswith("already stored")  # nothing to replace: no request made
    assert api.count("aemet") == 0
    assert rows(tmp_path / "cielo.db", "SELECT DISTINCT source FROM readings") == [("openmeteo",)]


# --- one line per failure class ------------------------------------------------------------------------


@pytest.mark.parametrize(("behaviour", "text"), [
    ("html", "not JSON but an HTML/XML page (text/html"),
    ("truncated", "invalid JSON at char"),
    ("schema", "unexpected answer: no 'included' list"),
    ("401", "HTTP 401 unauthorized"),
    ("429", "HTTP 429 too many requests (rate limited): Too Many Requests (after 1 retries)"),
    ("503", "HTTP 503 Service Unavailable (after 1 retries)"),
    ("slow", "timed out after 1 s (after 1 retries)"),
])
def test_bad_answers_are_one_line_and_exit_1(cfg, api: ApiServer, behaviour: str, text: str):
    api.behaviours["ree"] = behaviour
    result = cielo("backfill", *SPRING, "--source", "ree", config=cfg("ree"))
    assert result.returncode == 1, result.stderr
    assert summary(result.stdout)["ree"] == (23, 0, 0, 23)
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines  # the example warning and the breakdown by cause
    assert text in lines[0], lines[0]
    assert lines[1].startswith("ree: failed slots: 23 ")


def test_ingest_without_network_is_one_line(cfg, tmp_path: Path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = cfg("ree", ree={"base_url": f"http://127.0.0.1:{port}", "retries": 0})
    result = cielo("ingest", "--source", "ree", config=config)
    assert result.returncode == 1
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1 and "cannot connect" in result.stdout


# --- budgets, Retry-After, breaker ------------------------------------------------------------------------


def test_retry_after_is_honoured(cfg, api: ApiServer):
    api.behaviours["ree"] = "429-once"
    result = cielo("backfill", *SPRING, "--source", "ree", config=cfg("ree"))
    assert summary(result.stdout)["ree"] == (23, 23, 0, 0), result.stderr
    first, second = api.times("ree")
    assert second - first >= 0.95


def test_budget_is_shared_by_processes(cfg, api: ApiServer):
    """Two backfills at once, one day per request: together they stay within one bucket of 240/min
    (a burst of 24, then 3.6 a second)."""
    import subprocess
    import sys

    from tests.conftest import clean_env

    config = cfg("ree", ree={"requests_per_minute": 240, "chunk_days": 1})
    cmd = [sys.executable, "-m", "cielo", "--config", str(config), "backfill", "--source", "ree"]
    procs = [subprocess.Popen([*cmd, "--from", f"2023-0{m}-01T00:00Z", "--to", f"2023-0{m}-20T23:00Z"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
             for m in (1, 2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    times = sorted(api.times("ree"))
    assert len(times) == 42  # 20 days and the UTC range's last day touches a 21st Madrid day, per process
    t0 = times[0]
    for i, t in enumerate(times):
        allowed = 24 + (t - t0) * 3.6
        assert i + 1 <= allowed + 1, (i, t - t0)
    assert times[-1] - t0 >= (42 - 24) / 3.6 - 1


def test_breaker_opens_after_five_failures_and_lets_one_trial_through(tmp_path: Path, api: ApiServer):
    from cielo.guard import BreakerOpen, Guard
    from cielo.http import Client, FetchError, HttpPolicy
    from cielo.store import Store

    Store(tmp_path / "b.db").close()
    clock = [1000.0]
    guard = Guard(tmp_path / "b.db", "ree", [], clock=lambda: clock[0])
    client = Client(HttpPolicy(timeout_s=1, retries=0), guard)
    url = f"{api.base}/ree/es/datos/mercados/precios-mercados-tiempo-real?start_date=2022-03-27&end_date=2022-03-27"
    api.behaviours["ree"] = "503"
    for _ in range(5):
        with pytest.raises(FetchError, match="HTTP 503"):
            client.get(url)
    with pytest.raises(BreakerOpen, match="circuit open"):
        client.get(url)
    assert api.count("ree") == 5  # open: no request
    # Another process sees the same state.
    other = Guard(tmp_path / "b.db", "ree", [], clock=lambda: clock[0])
    with pytest.raises(BreakerOpen):
        other.check()
    clock[0] += 301  # half-open: one trial; a second caller meanwhile is refused
    guard.check()
    with pytest.raises(BreakerOpen):
        other.check()
    guard.failure("trial failed")  # a failed trial opens it again at once
    with pytest.raises(BreakerOpen):
        other.check()
    clock[0] += 301
    api.behaviours.clear()
    _, status, _ = client.get(url)  # the trial succeeds
    assert status == 200 and api.count("ree") == 6
    other.check()  # closed for everyone


def test_breaker_state_in_cielo_sources(cfg, api: ApiServer):
    api.behaviours["ree"] = "503"
    config = cfg("ree", ree={"retries": 0, "chunk_days": 1, "requests_per_minute": 6000})
    result = cielo("backfill", "--from", "2023-01-01T00:00Z", "--to", "2023-01-07T20:00Z", "--source", "ree",
                   "--workers", "1", config=config)
    assert result.returncode == 1
    assert api.count("ree") == 5  # the sixth and later days met the open breaker
    assert "circuit open" in result.stderr
    listing = cielo("sources", config=config).stdout
    assert re.search(r"^ree: enabled, keyless, .* breaker open \(5 failures\)$", listing, re.M), listing


# --- selection and listing -----------------------------------------------------------------------------


def test_default_backfill_takes_every_source_that_can_serve_the_range(cfg, api: ApiServer):
    result = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-01T23:00Z",
                   config=cfg("ree", "openmeteo", "aemet", "openweather"))
    assert result.returncode == 0, result.stderr
    assert set(summary(result.stdout)) == {"ree", "openmeteo", "aemet_daily"}  # aemet: 24 h only; openweather: none


def test_cielo_sources_never_prints_a_key(cfg):
    result = cielo("sources", config=cfg("aemet"))
    assert result.returncode == 0
    assert "aemet: enabled, key present" in result.stdout
    assert "openweather: disabled, no key" in result.stdout
    assert "ree: disabled, keyless" in result.stdout
    assert "SECRET" not in result.stdout


def test_fresh_install_defaults(tmp_path: Path):
    from cielo.config import Settings
    from cielo.sources.registry import REGISTRY, check

    s = Settings()
    check(s)
    on = {n for n, c in REGISTRY.items() if c.enabled(s)}
    assert on == {"skycam"}  # keyless APIs are opt-in; keyed ones switch on with their key
    keyed = Settings.model_validate({"sources": {"aemet": {"api_key": "k"}}})
    assert {n for n, c in REGISTRY.items() if c.enabled(keyed)} == on | {"aemet", "aemet_daily"}


def test_daemon_runs_the_source_jobs(cfg, api: ApiServer, tmp_path: Path):
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import clean_env

    config = cfg("ree", "openmeteo")
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(config), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())
    try:
        seen: set[str] = set()
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while seen != {"ree", "openmeteo"} and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"INFO (ree|openmeteo) \S+Z: \w+=", line):
                seen.add(m[1])
        assert seen == {"ree", "openmeteo"}, lines
        assert any("jobs: ree live, openmeteo live" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in rest
    counts = dict(rows(tmp_path / "cielo.db", "SELECT source, count(*) FROM readings GROUP BY source"))
    assert counts["openmeteo"] == 48 * 6 and counts["ree"] >= 2 * 23


# --- CSV import -----------------------------------------------------------------------------------------


def test_import_siar_hourly_csv(cfg, tmp_path: Path):
    config = cfg()
    result = cielo("import-csv", "--source", "siar", str(FIXTURES / "csv" / "siar-hourly.csv"), config=config)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "csv-siar: total=6 new=4 duplicates=0 failed=2\n"
    assert result.stderr.splitlines() == ["siar-hourly.csv:5: not a number: TempMedia='n/d'",
                                          "siar-hourly.csv:6: bad date/hour: day is out of range for month"]
    temps = rows(tmp_path / "cielo.db", "SELECT ts, value, source FROM readings WHERE series='weather.temperature'"
                                        " ORDER BY ts")
    # Madrid's autumn night: 02:00 is its first (CEST) instance, 03:00 is CET.
    assert temps == [("2023-10-28T23:00:00Z", 12.37, "csv"), ("2023-10-29T00:00:00Z", 11.98, "csv"),
                     ("2023-10-29T02:00:00Z", 11.5, "csv"), ("2023-10-29T05:00:00Z", 10.71, "csv")]
    again = cielo("import-csv", "--source", "siar", str(FIXTURES / "csv" / "siar-hourly.csv"), config=config)
    assert again.stdout == "csv-siar: total=6 new=0 duplicates=4 failed=2\n"


def test_import_datosclima_daily_csv_with_commas(cfg, tmp_path: Path):
    result = cielo("import-csv", "--source", "datosclima", str(FIXTURES / "csv" / "datosclima-3195.csv"),
                   config=cfg())
    assert result.stdout == "csv-datosclima: total=3 new=3 duplicates=0 failed=0\n", result.stderr
    assert rows(tmp_path / "cielo.db", "SELECT * FROM weather_daily ORDER BY ts LIMIT 2") == [
        ("2023-01-01T00:00:00Z", 9.2, 14.2, 4.1, 0.0, "csv"), ("2023-01-02T00:00:00Z", 9.4, 13.8, 5.0, 0.0, "csv")]


def test_import_csv_bad_inputs(cfg, tmp_path: Path):
    config = cfg()
    missing = cielo("import-csv", "--source", "siar", str(tmp_path / "nope.csv"), config=config)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    wrong = cielo("import-csv", "--source", "datosclima", str(FIXTURES / "csv" / "siar-hourly.csv"), config=config)
    assert wrong.returncode == 2 and "no value column" in wrong.stderr and wrong.stderr.count("\n") == 1
    layout = cielo("import-csv", "--source", "excel", str(FIXTURES / "csv" / "siar-hourly.csv"), config=config)
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


def test_sky_camera_has_a_breaker_too(config):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", "--workers", "1",
                   config=cfg)
    assert result.returncode == 1
    assert "skycam: failed slots: 31 cannot connect (circuit open, not asked), 5 cannot connect" in result.stderr
    assert re.search(r"^skycam: enabled, .* breaker open \(5 failures\)$", cielo("sources", config=cfg).stdout, re.M)


def test_dry_run_plans_requests_and_time_from_the_budget(cfg, api: ApiServer):
    result = cielo("backfill", "--from", "2023-01-01T00:00Z", "--to", "2023-12-31T23:00Z", "--dry-run",
                   config=cfg("ree", "openmeteo", "aemet"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # REE: 14 requests of 28 Madrid days (the UTC year touches 366 of them); a burst of 3, then 0.45 a second.
    assert "ree: plan: 8760 slots, 0 already stored, 0 known missing (retry not due), 14 requests, about 24 s " \
           "at 30/min" in lines
    # AEMET daily: 12 windows of 31 days, two requests each (envelope + datos); a burst of 2, then 0.3 a second.
    assert any(line.startswith("aemet_daily: plan: 365 slots") and "24 requests, about 73 s" in line for line in lines)
    assert any(line.startswith("openmeteo: plan: 8760 slots") and "4 requests, about 0 s" in line for line in lines)
    assert api.log == []


def test_live_job_minutes_are_configurable():
    from cielo.config import Settings
    from cielo.sources.registry import REGISTRY

    s = Settings.model_validate({"sources": {"ree": {"minute": 7}, "aemet": {"minute": 40, "api_key": "k"}}})
    assert REGISTRY["ree"].schedule(s) == {"minute": 7}
    assert REGISTRY["aemet"].schedule(s) == {"minute": 40}
    assert REGISTRY["aemet_daily"].schedule(s) == {"hour": 7, "minute": 40}
    assert REGISTRY["openmeteo"].schedule(Settings()) == {"minute": 15}


def test_status_shows_an_open_breaker(config):
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image", "retries": 0})
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", "--workers", "1", config=cfg)
    data = json.loads(cielo("status", "--json", config=cfg).stdout)
    assert data["breakers"]["skycam"]["state"] == "open" and data["breakers"]["skycam"]["failures"] == 5
    assert "breaker skycam: open after 5 failures" in cielo("status", config=cfg).stdout
