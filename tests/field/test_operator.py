"""what an operator reads (status, jobs, doctor, calibrate, the log, a run's breakdown)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import cielo, source_sections, write_config
from tests.support.apiserver import ApiServer
from tests.support.camserver import sky_jpeg

UNREACHABLE = {"base_url": "http://127.0.0.1:9/image", "retries": 2, "timeout_s": 1}


def test_weather_series_once_in_status_with_their_source(api: ApiServer, tmp_path: Path):
    cfg = write_config(tmp_path / "c.toml", {
        "storage": {"database": str(tmp_path / "cielo.db")}, "skycam": {"enabled": False},
        **source_sections(api, "openmeteo", "aemet", "openweather")})
    ran = cielo("backfill", "--from", "2024-01-01T00:00Z", "--to", "2024-01-01T05:00Z", "--source", "openmeteo",
                config=cfg)
    assert ran.returncode == 0, ran.stderr
    text = cielo("status", config=cfg).stdout
    lines = [line.split() for line in text.splitlines()]
    temperature = [words for words in lines if words and words[0] == "weather.temperature"]
    assert len(temperature) == 1 and temperature[0][1] == "openmeteo", text
    header = [words for words in lines if words and words[0] == "series"]
    assert header and header[0][1] == "source"
    names = [row["series"] for row in json.loads(cielo("status", "--json", config=cfg).stdout)["series"]]
    assert len(names) == len(set(names)) and "weather.temperature_daily_mean" in names


def test_unreachable_camera_log_doctor_and_breakdown(config, tmp_path: Path):
    cfg = config(skycam=UNREACHABLE, backfill={"max_attempts": 1})
    result = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", "--workers", "1",
                   config=cfg)
    assert result.returncode == 1
    assert "Retrying" not in result.stderr and "CappedRetry" not in result.stderr, result.stderr  # urllib3's own
    (breakdown,) = [line for line in result.stderr.splitlines() if "failed slots:" in line]
    # The slots the open breaker kept from asking are counted as what opened it, not as "circuit open".
    assert breakdown == "skycam: failed slots: 31 cannot connect (circuit open, not asked), 5 cannot connect", \
        breakdown
    doctor = cielo("doctor", config=cfg)
    (line,) = [line for line in doctor.stdout.splitlines() if line.startswith("✘ skycam")]
    # doctor asks even while the breaker is open (as its trial): the line is the camera's own failure
    assert line.startswith("✘ skycam: http://127.0.0.1:9/") and "cannot connect" in line, line
    assert "skycam: skycam" not in doctor.stdout


def test_calibrate_out_elsewhere_does_not_claim_the_camera_uses_it(tmp_path: Path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(8):
        (folder / f"{i}.jpg").write_bytes(sky_jpeg([0.0, 0.35, 0.85, 1.0][i % 4], seed=i, mast=True))
    cfg = write_config(tmp_path / "c.toml", {"storage": {"database": str(tmp_path / "cielo.db")},
                                             "skycam": {"calibration": "cal.json"}})
    elsewhere = cielo("calibrate", "--images", str(folder), "--out", str(tmp_path / "try.json"), config=cfg)
    assert elsewhere.returncode == 0, elsewhere.stderr
    last = elsewhere.stdout.splitlines()[-1]
    assert "use it from now on" not in last and "not in use" in last and str(tmp_path / "cal.json") in last, last
    assert "calibration: none" in cielo("classify", str(folder / "0.jpg"), config=cfg).stdout
    configured = cielo("calibrate", "--images", str(folder), "--out", str(tmp_path / "cal.json"), config=cfg)
    assert configured.stdout.splitlines()[-1].endswith("use it from now on"), configured.stdout
