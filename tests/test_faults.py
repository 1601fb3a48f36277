"""Faults and bad input. Nothing poisons the database, nothing leaks, no traceback reaches a user.

Black-box: the real CLI in subprocesses, real SQLite files, the loopback camera and API servers with hostile
behaviours (tests/support/apiserver.py), a real Mosquitto where MQTT matters.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, cielo, clean_env, rows, source_sections
from tests.support.apiserver import ApiServer
from tests.support.camserver import CameraServer
from tests.support.daemon import Output

DAMAGED = 3  # cielo.errors.EXIT_DAMAGED
DAY = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z")


def strict_json(text: str):
    """JSON as the standard has it: NaN and Infinity are not JSON."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cielo"), lines
    return lines[0]


# --- 2. a damaged database ---------------------------------------------------------------------------------

def _damage(db: Path, how: str) -> None:
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = db.stat().st_size
    page = 4096
    with open(db, "r+b") as f:
        if how == "header":
            f.write(b"this is not sqlite at all" + b"\xff" * 75)
        else:  # every page after the schema: the tables' b-trees are garbage
            f.seek(page)
            f.write(bytes((i * 37 + 11) % 256 for i in range(size - page)))


@pytest.mark.parametrize("how", ["pages", "header"])
def test_damaged_database_is_one_line_and_its_own_exit_code(camera: CameraServer, config, tmp_path: Path, how: str):
    cfg = config()
    assert cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg).returncode == 0
    db = tmp_path / "cielo.db"
    _damage(db, how)
    for args in (["status"], ["status", "--json"], ["backfill", *DAY], ["gaps"], ["jobs", "list"],
                 ["export", "--series", "skycam.octas", *DAY], ["ingest"], ["run"]):
        result = cielo(*args, config=cfg, timeout=60)
        assert result.returncode == DAMAGED, (args, result.stdout, result.stderr)
        line = one_line_error(result)
        assert "damaged" in line and ".recover" in line and "cielo backfill" in line, line
    doctor = cielo("doctor", config=cfg)
    assert doctor.returncode == DAMAGED, doctor.stdout
    assert any(ln.startswith("✘ database:") and "damaged" in ln for ln in doctor.stdout.splitlines()), doctor.stdout


def test_the_unit_does_not_restart_into_a_damaged_database():
    unit = (ROOT / "systemd" / "cielo.service").read_text()
    assert f"RestartPreventExitStatus={DAMAGED}" in unit.replace(" ", "")
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"{DAMAGED} when the database is damaged" in readme


# --- 1. a future clock ---------------------------------------------------------------------------------------

def test_a_write_from_a_future_clock_does_not_block_capture(camera: CameraServer, config, tmp_path: Path):
    """One run with the clock in 2031 stores a write stamped 2031. Once the system says its clock is
    synchronised, capture resumes; doctor reports the future readings and `prune-future` moves them aside,
    with an event."""
    cfg = config()
    db = tmp_path / "cielo.db"
    assert cielo("ingest", config=cfg, env=clean_env(CIELO_FAKE_NOW="2031-06-01T12:05:00Z")).returncode == 0
    assert rows(db, "SELECT count(*) FROM readings WHERE ingested_at LIKE '2031-%'") == [(1,)]
    unsynced = cielo("ingest", config=cfg, env=clean_env(CIELO_CLOCK_SYNCED="no"))
    assert unsynced.returncode == 1 and "waiting for time sync" in unsynced.stderr  # the old guard, unsynced
    synced = clean_env(CIELO_CLOCK_SYNCED="yes")
    resumed = cielo("ingest", config=cfg, env=synced)
    assert resumed.returncode == 0, resumed.stderr
    assert rows(db, "SELECT count(*) FROM readings") == [(2,)]
    doctor = cielo("doctor", config=cfg, env=synced)
    assert any(ln.startswith("✘ readings: 1 stamped later than now") for ln in doctor.stdout.splitlines()), \
        doctor.stdout
    assert "prune-future" in doctor.stdout
    moved = cielo("prune-future", config=cfg, env=synced)
    assert moved.returncode == 0 and "moved 1 readings" in moved.stdout, moved.stdout + moved.stderr
    assert rows(db, "SELECT count(*), min(ts) FROM readings_future") == [(1, "2031-06-01T12:02:00Z")]
    assert rows(db, "SELECT count(*) FROM readings WHERE ingested_at > '2030'") == [(0,)]
    assert rows(db, "SELECT json_extract(data, '$.moved') FROM events WHERE kind = 'future_readings_moved'") == [(1,)]
    doctor = cielo("doctor", config=cfg, env=synced)
    assert "readings:" not in doctor.stdout
    assert "no readings stamped later" in cielo("prune-future", config=cfg, env=synced).stdout
    readme = (ROOT / "README.md").read_text()
    assert "cielo prune-future" in readme


# --- 3. values are checked -------------------------------------------------------------------------------------

def test_impossible_values_are_rejected_never_stored_nor_published(api: ApiServer, config, tmp_path: Path):
    """NaN, ±Infinity, 9999 °C, 9999 %, -9999 mm and `true` from Open-Meteo: each rejected with its reason,
    counted failed, not stored, not queued for MQTT; a later run asks for those slots again."""
    api.behaviours["om-archive"] = "bad-values"
    cfg = config(mqtt={"enabled": True, "host": "127.0.0.1", "port": 9},  # no broker: messages wait in the outbox
                 **source_sections(api, "openmeteo"))
    day = ("--from", "2024-03-10T00:00Z", "--to", "2024-03-10T23:00Z", "--source", "openmeteo")
    first = cielo("backfill", *day, config=cfg)
    # Temperature (the counted series) is NaN, Infinity, 9999 and -Infinity at 01, 02, 03, 07 h.
    assert "openmeteo: total=24 new=20 duplicates=0 failed=4" in first.stdout, first.stdout + first.stderr
    assert "4 value rejected" in first.stderr, first.stderr
    assert "out of range (9999 °C, possible -90..60)" in first.stderr
    db = tmp_path / "cielo.db"
    assert rows(db, "SELECT count(*) FROM readings WHERE value IS NULL") == [(0,)]
    assert rows(db, "SELECT count(*) FROM readings WHERE abs(value) >= 9999") == [(0,)]
    held = dict(rows(db, "SELECT series, count(*) FROM readings GROUP BY series"))
    assert held == {"weather.temperature": 20, "weather.humidity": 23, "weather.pressure": 24,
                    "weather.precipitation": 23, "weather.wind_speed": 24, "weather.cloud_cover": 23}
    for (payload,) in rows(db, "SELECT payload FROM outbox"):
        strict_json(payload)
    export = cielo("export", "--series", "weather.temperature", "--from", "2024-03-10T00:00Z",
                   "--to", "2024-03-10T23:59Z", "--format", "jsonl", config=cfg)
    assert len([strict_json(line) for line in export.stdout.splitlines()]) == 20
    # The rejected values' slots are asked again, every series of them, and filled once the answer is sane.
    del api.behaviours["om-archive"]
    second = cielo("backfill", *day, config=cfg)
    assert "openmeteo: total=24 new=4 duplicates=20 failed=0" in second.stdout, second.stdout + second.stderr
    held = dict(rows(db, "SELECT series, count(*) FROM readings GROUP BY series"))
    assert set(held.values()) == {24}, held


def test_impossible_live_values_are_rejected(api: ApiServer, config, tmp_path: Path):
    api.behaviours["owm"] = "bad-values"  # temperature NaN, humidity `true`
    cfg = config(**source_sections(api, "openweather"))
    result = cielo("ingest", "--source", "openweather", config=cfg)
    assert result.returncode == 1
    assert "value rejected: not a finite number (nan)" in result.stdout, result.stdout
    series = {s for (s,) in rows(tmp_path / "cielo.db", "SELECT series FROM readings")}
    assert "weather.temperature" not in series and "weather.humidity" not in series
    assert "weather.pressure" in series


def test_impossible_csv_values_are_bad_rows(config, tmp_path: Path):
    csv = tmp_path / "bad.csv"
    csv.write_text("Fecha;Hora;TempMedia;Humedad\n01/06/2024;0100;12,5;80\n01/06/2024;0200;9999;80\n"
                   "01/06/2024;0300;nan;80\n01/06/2024;0400;inf;80\n01/06/2024;0500;11;-5\n", encoding="utf-8")
    result = cielo("import-csv", "--source", "siar", str(csv), config=config())
    assert "bad.csv:3:" in result.stderr and "out of range" in result.stderr, result.stderr
    assert "bad.csv:4:" in result.stderr and "bad.csv:5:" in result.stderr and "bad.csv:6:" in result.stderr
    values = rows(tmp_path / "cielo.db", "SELECT value FROM readings")
    assert values and all(abs(v) < 100 for (v,) in values), values


# --- 4. secrets never leave the HTTP layer ----------------------------------------------------------------

OWM_KEY = "test-owm-key-SECRET"
AEMET_KEY = "test-aemet-key-SECRET"


def test_api_keys_echoed_in_error_bodies_never_leak(api: ApiServer, config, tmp_path: Path):
    """A gateway that echoes the request (URL with OpenWeatherMap's appid, headers with AEMET's api_key) in
    its error body: the keys appear in no output, no table, and nothing on the broker."""
    from tests.support.broker import MOSQUITTO, Broker, Subscriber

    if not os.path.exists(MOSQUITTO):
        pytest.skip("mosquitto is not installed")
    api.behaviours.update({"owm": "echo-503", "aemet": "echo-401"})
    broker = Broker(tmp_path).start()
    outputs: list[str] = []
    try:
        sub = Subscriber(broker.port, "#")
        cfg = config(device={"id": "pi-01"}, mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port,
                                                   "state_interval_s": 1},
                     **source_sections(api, "openweather", "aemet"))
        for args in (["ingest", "--source", "openweather"], ["ingest", "--source", "aemet"], ["doctor"],
                     ["sources"], ["backfill", "--from", "2024-06-01", "--to", "2024-06-02", "--source",
                                   "aemet_daily"]):
            r = cielo(*args, config=cfg)
            outputs += [r.stdout, r.stderr]
        assert "HTTP 503" in "".join(outputs) and "HTTP 401" in "".join(outputs)
        proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=clean_env())
        try:
            assert sub.wait_for(lambda: any(t.endswith("/events") and "live_failed" in p
                                            for t, p, _ in sub.messages), timeout=60)
            assert sub.wait_for(lambda: any(t.endswith("/state") for t, _, _ in sub.messages), timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            outputs.append(proc.communicate(timeout=45)[0])
        status = cielo("status", "--json", config=cfg)
        outputs += [status.stdout, status.stderr]
        sub.close()
    finally:
        broker.stop()
    con = sqlite3.connect(tmp_path / "cielo.db")
    dump = "\n".join(con.iterdump())
    con.close()
    traffic = "\n".join(f"{t} {p}" for t, p, _ in sub.messages)
    assert "bad request GET" in dump  # the echo did arrive, scrubbed
    for where, text in (("outputs", "\n".join(outputs)), ("database", dump), ("broker", traffic)):
        for key in (OWM_KEY, AEMET_KEY):
            assert key not in text, f"{key} leaked into the {where}"
    assert "***" in dump


# --- tracebacks that were reachable ---------------------------------------------------------------------------

def test_bad_input_is_one_line_and_exit_2(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    cases = [
        ["backfill", "--from", "0001-01-01", "--to", "2024-01-01"],
        ["backfill", "--from", "2024-01-01", "--to", "9999-12-31T23:59"],
        ["backfill", "--from", "2024-01-01", "--to", "2024-01-02", "--workers", "100000000"],
        ["export", "--series", "skycam.octas", "--from", "0001-01-01", "--to", "9999-12-31T23:59"],
        ["gaps", "--days", "99999999999"],
        ["jobs", "show", "99999999999999999999"],
        ["jobs", "retry", "1", "-5"],
        ["import-csv", "--source", "siar", "/bin/ls"],
    ]
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T00:59Z", config=cfg)
    for args in cases:
        result = cielo(*args, config=cfg)
        assert result.returncode == 2, (args, result.stderr)
        one_line_error(result) if not result.stderr.startswith("usage") else None
    for section, key, value in (("backfill", "check_every_hours", "inf"), ("backfill", "min_gap_hours", "nan"),
                                ("mqtt", "host", '""'), ("mqtt", "host", '"two words"'),
                                ("sources.ree", "timeout_s", "inf")):
        bad = tmp_path / "bad.toml"
        bad.write_text(cfg.read_text() + f"\n[{section}]\n{key} = {value}\n" if section not in cfg.read_text()
                       else cfg.read_text().replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n"))
        result = cielo("status", config=bad)
        assert result.returncode == 2, (section, key, result.stderr)
        assert f"[{section}].{key}" in one_line_error(result)


def test_openweather_answer_with_an_absurd_time_is_a_doctor_line(api: ApiServer, config):
    api.owm_dt = 10**20
    cfg = config(**source_sections(api, "openweather"))
    result = cielo("doctor", config=cfg)
    line = next(ln for ln in result.stdout.splitlines() if ln[2:].startswith("openweather:"))
    assert line.startswith("✘") and "not a time" in line, result.stdout
    ingest = cielo("ingest", "--source", "openweather", config=cfg)
    assert ingest.returncode == 1 and "not a time" in ingest.stdout


def test_a_second_sigterm_while_stopping_is_harmless(camera: CameraServer, config):
    cfg = config()
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=clean_env())
    watched = Output(proc)
    assert watched.wait_for("cielo started"), watched.stop()  # the scheduler is about to run
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # the second one lands while the first is being handled
    proc.send_signal(signal.SIGTERM)
    out = watched.stop(timeout=45)
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "SchedulerNotRunning" not in out


# --- sources ------------------------------------------------------------------------------------------------

def test_openmeteo_fills_the_cloud_cover_of_hours_aemet_holds(api: ApiServer, config, tmp_path: Path):
    """AEMET (priority 40) holds the last hours' temperature; Open-Meteo (20) serves cloud cover too, which
    AEMET does not: a backfill asks Open-Meteo for those hours and fills the cloud cover, and `gaps` is clean."""
    from datetime import UTC, datetime, timedelta

    cfg = config(**source_sections(api, "aemet", "openmeteo"))
    assert cielo("ingest", "--source", "aemet", config=cfg).returncode == 0
    db = tmp_path / "cielo.db"
    aemet_hours = rows(db, "SELECT count(*) FROM readings WHERE series = 'weather.temperature'")[0][0]
    assert aemet_hours >= 20
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    span = ("--from", f"{now - timedelta(hours=20):%Y-%m-%dT%H:%M}Z",
            "--to", f"{now - timedelta(hours=3):%Y-%m-%dT%H:%M}Z")
    result = cielo("backfill", *span, "--source", "openmeteo", config=cfg)
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout, "openmeteo") == {"total": 18, "new": 0, "duplicates": 18, "failed": 0}
    held = rows(db, "SELECT count(*) FROM readings WHERE series = 'weather.cloud_cover' AND ts >= ? AND ts <= ?",
                (f"{now - timedelta(hours=20):%Y-%m-%dT%H:%M:%S}Z", f"{now - timedelta(hours=3):%Y-%m-%dT%H:%M:%S}Z"))
    assert held == [(18,)]
    assert rows(db, "SELECT DISTINCT source FROM readings WHERE series = 'weather.temperature'") == [("aemet",)]
    again = cielo("backfill", *span, "--source", "openmeteo", config=cfg)
    assert api.count("om-forecast") == 1, again.stdout  # all held now: no second request


def summary_of(stdout: str, source: str) -> dict[str, int]:
    import re

    line = next(ln for ln in stdout.splitlines() if ln.startswith(f"{source}: total="))
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_aemet_rate_limit_inside_a_200_envelope_is_backed_off_and_retried(api: ApiServer, config, tmp_path: Path):
    api.behaviours["aemet"] = "estado-429-once"
    cfg = config(**source_sections(api, "aemet", aemet={"retries": 2}))
    result = cielo("ingest", "--source", "aemet", config=cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "new" in result.stdout
    first, second = api.times("aemet")[:2]
    assert second - first >= 0.4  # backed off, as for an HTTP 429
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings")[0][0] > 0


# --- 5. a deadline per request -------------------------------------------------------------------------------

def test_a_server_dripping_a_byte_a_second_cannot_hold_a_worker(api: ApiServer, config):
    """Every byte arrives within the read timeout (1 s), so only an overall deadline (3 x timeout_s) ends it."""
    api.behaviours["om-archive"] = "drip"
    cfg = config(backfill={"on_startup": False, "max_attempts": 1},
                 **source_sections(api, "openmeteo", openmeteo={"timeout_s": 1.5, "retries": 1}))
    t0 = time.monotonic()
    result = cielo("backfill", "--from", "2024-03-10T00:00Z", "--to", "2024-03-10T23:00Z", "--source", "openmeteo",
                   config=cfg, timeout=90)
    took = time.monotonic() - t0
    assert result.returncode == 1, result.stdout + result.stderr
    assert "openmeteo: total=24 new=0 duplicates=0 failed=24" in result.stdout
    assert "took longer than 4.5 s" in result.stderr, result.stderr
    assert took < 30, took  # two attempts of 4.5 s, a backoff, and the process start


# --- 6. a very long range ---------------------------------------------------------------------------------

@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_a_36_year_range_is_queued_in_bounded_memory(config, tmp_path: Path, api: ApiServer):
    """36 years of 10-minute camera slots (1.9 million) queue as daily tasks without holding the slots: peak
    RSS under 100 MB (690 MB measured on main for 56 years; 1.2 GB reported for a century). Ranges a source
    cannot serve are refused before anything is queued."""
    cfg = config(skycam={"base_url": "http://127.0.0.1:9/image"}, **source_sections(api, "ree"))
    # A fresh process runs cielo and reports its child's peak RSS (this worker's children include others).
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
               " print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stderr)")
    result = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "cielo", "--config", str(cfg),
                             "backfill", "--from", "1990-01-01", "--to", "2025-12-31", "--source", "skycam",
                             "--detach"], capture_output=True, text=True, timeout=300, env=clean_env())
    code, peak_kb = result.stdout.split()[:2]
    assert code == "0", result.stdout
    assert int(peak_kb) / 1024 < 100, f"peak RSS {int(peak_kb) / 1024:.0f} MB"
    (tasks,) = rows(tmp_path / "cielo.db", "SELECT count(*) FROM backfill_tasks")[0]
    assert 13_000 < tasks < 13_200  # a task a day
    ree = cielo("backfill", "--from", "1970-01-01", "--to", "2013-12-31", "--source", "ree", config=cfg)
    assert ree.returncode == 2 and "ree: cannot serve this range" in ree.stderr, ree.stderr
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM backfill_jobs") == [(1,)]
    clipped = cielo("backfill", "--from", "1970-01-01", "--to", "2014-04-02", "--source", "ree", "--dry-run",
                    config=cfg)
    assert "ree: serves only from 2014-03-31T22:00:00Z" in clipped.stderr, clipped.stderr


def test_opening_on_a_full_disk_says_the_disk_is_full(config, tmp_path: Path):
    """SQLite says only `disk I/O error` when it cannot create the -shm/-wal files of an existing database."""
    sd = tmp_path / "sd"
    sd.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(sd)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        cfg = config(storage={"database": str(sd / "cielo.db")}, skycam={"base_url": "http://127.0.0.1:9/image"})
        assert cielo("backfill", *DAY, "--detach", config=cfg).returncode == 0
        try:
            with open(sd / "filler", "wb", buffering=0) as f:
                while True:
                    f.write(b"\0" * 1024)
        except OSError:  # the disk is full
            pass
        for args in (["status"], ["jobs", "list"], ["backfill", *DAY], ["export", "--series", "skycam.octas", *DAY]):
            result = cielo(*args, config=cfg)
            assert result.returncode == 1, (args, result.stderr)
            assert "the disk is full" in one_line_error(result), result.stderr
    finally:
        subprocess.run(["umount", "-l", str(sd)], capture_output=True)
