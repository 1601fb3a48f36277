"""What every API source shares, end to end: priority between sources, one-line failures, Retry-After,
budgets shared by processes, circuit breakers, the registry (`cielo sources`), the daemon's jobs, dry runs."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from tests.conftest import cielo, rows
from tests.sources.helpers import SPRING, summary
from tests.support.apiserver import ApiServer


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


def test_retry_after_is_honoured(cfg, api: ApiServer):
    api.behaviours["ree"] = "429-once"
    result = cielo("backfill", *SPRING, "--source", "ree", config=cfg("ree"))
    assert summary(result.stdout)["ree"] == (23, 23, 0, 0), result.stderr
    first, second = api.times("ree")
    assert second - first >= 0.95


def test_budget_is_shared_by_processes(cfg, api: ApiServer):
    """Two backfills at once, one day per request: together they stay within one bucket of 240/min
    (a burst of 24, then 3.6 a second). Times are the server's: requests leave a loaded machine in clumps,
    so 4 more are allowed at any moment (a second's refill); a budget each process kept for itself would put
    48 in the first instant and end in about 0 s."""
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
        assert i + 1 <= allowed + 4, (i, t - t0)
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


def test_registry_lists_what_its_sources_declare():
    """The registry names command modules and the CSV table without importing the sources (for `--help`):
    the names must be what the sources themselves say."""
    from cielo.sources import csv, registry

    declared = [cls.extras.commands for cls in registry.SOURCES if cls.extras.commands]
    assert list(registry.COMMAND_MODULES) == [*dict.fromkeys(declared), "cielo.sources.csv_commands"]
    assert registry.CSV == csv.SOURCE
    assert len(registry.REGISTRY) == len(registry.SOURCES)


def test_help_and_version_load_no_source(tmp_path: Path):
    """`cielo --help` and `--version` build the parser only: no source, config model or pydantic."""
    import subprocess
    import sys

    from tests.conftest import clean_env

    probe = ("import runpy, sys\nsys.argv = ['cielo', *sys.argv[1:]]\ntry:\n    runpy.run_module('cielo', "
             "run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m == 'pydantic' or m.startswith('cielo.sources.') "
             "and m not in ('cielo.sources.registry', 'cielo.sources.csv_commands', "
             "'cielo.sources.skycam', 'cielo.sources.skycam.commands')), file=sys.stderr)")
    for argv in (["--help"], ["--version"]):
        out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=clean_env(),
                             cwd=tmp_path, timeout=60)
        assert "cielo" in out.stdout, out.stderr
        assert out.stderr.strip().splitlines()[-1] == "[]", (argv, out.stderr)


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
