"""Job bookkeeping: a kill is not a failed attempt, counts add up, a job that restored nothing has
failed (and can be retried), and one job never has two workers."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows, source_sections
from tests.support.apiserver import ApiServer
from tests.support.camserver import CameraServer

TWO_DAYS = ("--from", "2024-03-01T00:00Z", "--to", "2024-03-02T23:59Z", "--source", "ree")


def breakdown(stderr: str, source: str) -> dict[str, int]:
    """`ree: failed slots: 24 not JSON, 3 HTTP 503` -> {"not JSON": 24, "HTTP 503": 3}."""
    for line in stderr.splitlines():
        if line.startswith(f"{source}: failed slots: "):
            return {m[2]: int(m[1]) for m in re.finditer(r"(\d+) ([^,]+)", line.split(": ", 2)[2])}
    return {}


def summary(stdout: str, source: str) -> dict[str, int]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith(f"{source}: total="))
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_a_job_that_restored_nothing_has_failed_and_can_be_retried(api: ApiServer, config):
    api.behaviours["ree"] = "404"
    cfg = config(**source_sections(api, "ree"))
    result = cielo("backfill", *TWO_DAYS, config=cfg)
    assert summary(result.stdout, "ree")["new"] == 0
    (job,) = json.loads(cielo("jobs", "--json", "list", config=cfg).stdout)
    assert job["status"] == "failed", job
    shown = json.loads(cielo("jobs", "--json", "show", str(job["id"]), config=cfg).stdout)
    assert {t["status"] for t in shown["tasks"]} == {"failed"}
    retried = cielo("jobs", "retry", str(job["id"]), config=cfg)
    assert f"job {job['id']}: {len(shown['tasks'])} task(s) back to pending" in retried.stdout, retried.stdout


def test_the_failure_breakdown_names_each_cause_and_adds_up(api: ApiServer, config):
    cfg = config(**source_sections(api, "ree", "openmeteo", openmeteo={"max_bytes": 1024}))
    for behaviour, cause in (("html", "not JSON"), ("truncated", "invalid JSON"), ("schema", "unexpected answer")):
        api.behaviours["ree"] = behaviour
        result = cielo("backfill", *TWO_DAYS, config=cfg)
        counts = summary(result.stdout, "ree")
        causes = breakdown(result.stderr, "ree")
        assert cause in causes and not any(k.startswith("HTTP 2") for k in causes), (behaviour, result.stderr)
        assert sum(causes.values()) == counts["failed"], (behaviour, result.stderr, result.stdout)
    result = cielo("backfill", "--from", "2024-03-01T00:00Z", "--to", "2024-03-01T23:00Z", "--source", "openmeteo",
                   config=cfg)
    causes = breakdown(result.stderr, "openmeteo")
    assert "too large" in causes and sum(causes.values()) == summary(result.stdout, "openmeteo")["failed"]


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_kill_9_costs_no_attempt_and_new_counts_every_row(tmp_path: Path, config):
    """Two days of camera images fetched slowly, the backfill killed -9 four times, then run to the end: no task
    was charged an attempt for a kill, and the job's `new` is exactly the rows it inserted."""
    with CameraServer(latency_s=0.03) as cam:
        cfg = config(skycam={"base_url": cam.base_url, "workers": 1})
        day = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z")
        cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *day]
        db = tmp_path / "cielo.db"
        for _ in range(4):
            proc = subprocess.Popen(cmd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            before = _count(db)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _count(db) < before + 10:
                time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert rows(db, "SELECT max(attempts) FROM backfill_tasks") <= [(1,)]  # only a task that ran to its end
        assert 40 <= _count(db) < 288
        final = cielo("backfill", *day, config=cfg)
        assert final.returncode == 0, final.stderr
    (job,) = json.loads(cielo("jobs", "--json", "list", config=cfg).stdout)
    shown = json.loads(cielo("jobs", "--json", "show", str(job["id"]), config=cfg).stdout)
    tasks = shown["tasks"]
    assert job["status"] == "completed"
    assert max(t["attempts"] for t in tasks) == 1
    stored = rows(db, "SELECT count(*) FROM readings")[0][0]
    assert stored == 288
    assert sum(t["new"] for t in tasks) == stored  # every inserted row counted once, killed runs included
    for t in tasks:
        assert t["total"] == t["new"] + t["duplicates"] + t["failed"], t
    event = rows(db, "SELECT data FROM events WHERE kind = 'backfill_finished'")
    assert json.loads(event[-1][0])["new"] == stored


def test_one_job_never_has_two_workers(tmp_path: Path, config):
    """The `jobs run` child of a daemon killed -9 stops (it dies with its parent), and a second `jobs run` of
    a job that a live process works on declines."""
    with CameraServer(latency_s=0.05) as cam:
        # The catch-up on start runs the open jobs at once (else the daemon polls for them every 30 s).
        cfg = config(skycam={"base_url": cam.base_url, "workers": 1},
                     backfill={"on_startup": True, "lookback_days": 1})
        queued = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z", "--detach",
                       config=cfg)
        job = re.search(r"backfill job (\d+)", queued.stdout)[1]
        first = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "jobs", "run", job],
                                 env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        db = tmp_path / "cielo.db"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not rows(db, "SELECT 1 FROM backfill_tasks WHERE status = 'in_progress'"):
            time.sleep(0.1)
        second = cielo("jobs", "run", job, config=cfg)
        assert second.returncode == 0 and "already being run by" in second.stdout, second.stdout
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)

        daemon = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], env=clean_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        worker = None
        while time.monotonic() < deadline and worker is None:
            got = rows(db, "SELECT worker FROM backfill_tasks WHERE status = 'in_progress'")
            worker = got[0][0] if got else None
            time.sleep(0.1)
        assert worker, "the daemon did not start the job"
        child = int(worker.rsplit(":", 1)[1])
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _running(child):
            time.sleep(0.2)
        assert not _running(child), "the killed daemon's job child kept going"


def _count(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) FROM readings")[0][0]
    except sqlite3.Error:  # not created yet
        return 0


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
