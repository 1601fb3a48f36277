"""REE (apidatos): DST days, parsing, error bodies; the real CLI against the loopback API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cielo, rows
from tests.sources.helpers import AUTUMN, SPRING, summary
from tests.support.apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"


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

    readings = parse(json.loads((FIXTURES / "prices-2021-10-31.json").read_text()))
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
