"""Persistent backfill jobs: the jobs commands, retries, kill -9 at random moments, the daemon's catch-up."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer

FOUR_DAYS = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-04T23:59Z")


def run_until_catch_up_completes(proc: subprocess.Popen[str], db: Path, timeout: float) -> str:
    """Let `cielo run` work until its on-start catch-up job is completed, then stop it; returns its log."""
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # the file may exist a moment before its tables do
                if db.exists() and rows(db, "SELECT count(*) FROM backfill_jobs WHERE trigger = 'on_boot'"
                                            " AND status = 'completed'")[0][0]:
                    break
            except sqlite3.OperationalError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("the catch-up did not complete")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    return out


@pytest.mark.slow  # about a minute of subprocesses; .ci/run's slow step runs it
def test_jobs_list_show_cancel_retry(camera: CameraServer, config, tmp_path: Path):
    cfg = config()
    cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z", config=cfg)
    listing = cielo("jobs", config=cfg)
    assert listing.returncode == 0 and " completed " in listing.stdout and "manual" in listing.stdout
    shown = json.loads(cielo("jobs", "--json", "show", "1", config=cfg).stdout)
    assert shown["status"] == "completed" and [t["status"] for t in shown["tasks"]] == ["completed"] * 2
    assert sum(t["new"] for t in shown["tasks"]) == 288

    queued = cielo("backfill", "--detach", "--from", "2024-07-01", "--to", "2024-07-03", config=cfg)
    assert queued.returncode == 0 and "backfill job 2 queued" in queued.stdout
    assert camera.total_requests == 288
    cancelled = cielo("jobs", "cancel", "2", config=cfg)
    assert cancelled.stdout.strip() == "job 2: 2 pending task(s) cancelled"  # two days, a task each
    assert json.loads(cielo("jobs", "--json", "show", "2", config=cfg).stdout)["status"] == "cancelled"
    assert cielo("jobs", "retry", "2", config=cfg).stdout.startswith("job 2: 2 task(s) back to pending")
    ran = cielo("jobs", "run", "2", config=cfg)
    assert ran.returncode == 0 and ran.stdout.strip().endswith("job 2: completed")
    assert "skycam: total=288 new=288 duplicates=0 failed=0" in ran.stdout

    for args in (("show", "99"), ("cancel", "99"), ("retry", "99")):
        bad = cielo("jobs", *args, config=cfg)
        assert bad.returncode == 2 and bad.stderr.strip() == f"cielo: error: jobs {args[0]}: no job 99"
    assert cielo("jobs", "reset-stuck", "--older-than", "soon", config=cfg).returncode == 2


def test_failing_task_retries_then_stays_failed_until_retried(camera: CameraServer, config, tmp_path: Path):
    cfg = config(backfill={"max_attempts": 2}, skycam={"retries": 0})
    camera.behaviours["2024-06010902.jpg"] = "503"  # 12:02Z in the camera's time
    slot = ("--from", "2024-06-01T12:02Z", "--to", "2024-06-01T12:02Z")
    result = cielo("backfill", *slot, config=cfg)
    assert result.returncode == 1 and result.stdout.strip() == "skycam: total=1 new=0 duplicates=0 failed=1"
    assert camera.requests["2024-06010902.jpg"] == 2  # two attempts of the task, no request retries
    (task,) = json.loads(cielo("jobs", "--json", "show", "1", config=cfg).stdout)["tasks"]
    assert task["status"] == "failed" and task["attempts"] == 2 and "HTTP 503" in task["error"]
    camera.behaviours.clear()
    cielo("jobs", "retry", "1", config=cfg)
    assert cielo("jobs", "run", "1", config=cfg).stdout.strip().endswith("job 1: completed")
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings") == [(1,)]


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_kill_9_at_random_moments_loses_and_doubles_nothing(config, tmp_path: Path):
    rng = random.Random(7)
    with CameraServer(latency_s=0.03) as slow:  # slow enough that a run is always killed mid-way
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *FOUR_DAYS]
        db = tmp_path / "cielo.db"
        kills = 0
        for _ in range(20):
            if kills >= 12:
                break
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
            time.sleep(rng.uniform(0.6, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        assert kills >= 10
        final = cielo("backfill", *FOUR_DAYS, config=cfg)
        assert final.returncode == 0, final.stderr
        assert final.stdout.strip().splitlines()[-1].startswith("skycam: total=576 ")
    assert rows(db, "SELECT count(*), count(DISTINCT ts) FROM readings") == [(576, 576)]
    assert rows(db, "SELECT count(*) FROM backfill_tasks WHERE status IN ('pending', 'in_progress')") == [(0,)]
    assert rows(db, "SELECT status FROM backfill_jobs") == [("completed",)]  # one job, resumed each time


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_two_processes_never_run_the_same_task(camera: CameraServer, config, tmp_path: Path):
    cfg = config(backfill={"workers": 1})
    cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *FOUR_DAYS]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
             for _ in range(2)]
    for p in procs:
        p.communicate(timeout=120)
    db = tmp_path / "cielo.db"
    assert rows(db, "SELECT count(*), count(DISTINCT ts) FROM readings") == [(576, 576)]
    assert rows(db, "SELECT max(attempts) FROM backfill_tasks") == [(1,)]
    assert rows(db, "SELECT sum(records_new) FROM backfill_tasks") == [(576,)]
    assert camera.total_requests == 576


def test_daemon_catches_up_on_start_by_itself(camera: CameraServer, config, tmp_path: Path):
    cfg = config(backfill={"lookback_days": 1, "on_startup": True})
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())
    db = tmp_path / "cielo.db"
    out = run_until_catch_up_completes(proc, db, timeout=90)
    assert "catch-up: job 1 queued for skycam" in out, out
    (trigger, status) = rows(db, "SELECT trigger, status FROM backfill_jobs WHERE id = 1")[0]
    assert (trigger, status) == ("on_boot", "completed")
    (count,) = rows(db, "SELECT count(*) FROM readings WHERE ts >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')")[0]
    assert count >= 143  # a day of 10-minute slots, the live capture included
    events = [json.loads(d) for (d,) in rows(db, "SELECT data FROM events WHERE kind = 'backfill_finished'")]
    assert events and events[0]["job"] == 1 and events[0]["level"] == "success"


def test_catch_up_gives_each_gap_to_the_sources_in_priority_order(tmp_path: Path):
    """Weather gaps: AEMET (priority 40) takes what its 24 h window serves, Open-Meteo (20) the older part;
    OpenWeatherMap (no history) nothing. Prices: REE alone."""
    from datetime import UTC, datetime, timedelta

    from cielo.backfill.catch_up import catch_up
    from cielo.config import Settings
    from cielo.sources.registry import REGISTRY
    from cielo.store import Store

    settings = Settings.model_validate({
        "storage": {"database": str(tmp_path / "c.db")}, "skycam": {"enabled": False},
        "sources": {"aemet": {"api_key": "k", "daily": False}, "openweather": {"api_key": "k"},
                    "ree": {"enabled": True}, "openmeteo": {"enabled": True}}})
    sources = {n: cls(settings) for n, cls in REGISTRY.items() if cls.enabled(settings)}
    assert set(sources) >= {"aemet", "openweather", "openmeteo", "ree"}
    now = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)
    with Store(tmp_path / "c.db") as store:
        job = catch_up(store, sources, "on_boot", timedelta(days=3), now)
        assert job == 1
        tasks = store.query("SELECT source, min(start), max(\"end\") FROM backfill_tasks GROUP BY source")
    spans = {name: (a, b) for name, a, b in tasks}
    assert "openweather" not in spans
    aemet_from = spans["aemet"][0]
    assert aemet_from == "2025-03-09T12:30:00Z"  # its 24 h window
    # Temperature: AEMET takes its 24 h, Open-Meteo only the older part; but cloud cover, which only
    # Open-Meteo serves (OpenWeatherMap has no history), is missing over the whole window.
    assert spans["openmeteo"][0] < aemet_from < spans["openmeteo"][1]
    assert "ree" in spans
    for source in sources.values():
        source.close()


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_a_week_switched_off_is_filled_by_itself(camera: CameraServer, api, tmp_path: Path):
    """The board was off for a week: on start the daemon finds every hole of every series (camera, prices,
    weather) and fills it from the loopback servers, with no command; the event says so."""
    from datetime import UTC, datetime, timedelta

    from tests.conftest import source_sections, write_config

    now = datetime.now(UTC)
    cfg = write_config(tmp_path / "c.toml", {
        "storage": {"database": str(tmp_path / "cielo.db")},
        "device": {"latitude": 40.41, "longitude": -3.68},
        "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 1, "requests_per_minute": 0},
        "backfill": {"lookback_days": 8, "on_startup": True, "max_attempts": 1},
        **source_sections(api, "ree", "openmeteo")})
    fmt = "%Y-%m-%dT%H:%MZ"
    before = cielo("backfill", "--from", (now - timedelta(days=8)).strftime(fmt),
                   "--to", (now - timedelta(days=7)).strftime(fmt), config=cfg)
    assert before.returncode == 0, before.stderr
    db = tmp_path / "cielo.db"
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())
    out = run_until_catch_up_completes(proc, db, timeout=120)
    report = json.loads(cielo("gaps", "--days", "6", "--json", config=cfg).stdout)
    by_series = {s["series"]: s for s in report["series"]}
    assert {"skycam.octas", "ree.pvpc", "weather.temperature"} <= set(by_series)
    for name, s in by_series.items():
        assert s["missing"] <= 2, (name, s["gaps"])  # at most the slots that came due meanwhile
    finished = [json.loads(d) for (d,) in rows(db, "SELECT data FROM events WHERE kind = 'backfill_finished'")]
    catch_up = [e for e in finished if e["job"] == 2]
    assert catch_up and catch_up[0]["level"] == "success" and catch_up[0]["new"] > 1000, finished
    assert "catch-up: job 2 queued for" in out
