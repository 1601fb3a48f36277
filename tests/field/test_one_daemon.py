"""one daemon per database; and `cielo status` / `backfill --detach` ask the same lock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer
from tests.support.daemon import start_daemon, stop


def wait_for_lock(db: Path, proc: subprocess.Popen, timeout: float = 20) -> int:
    """Wait until the daemon holds its lock (its PID is in the lock file)."""
    lock = db.with_name(db.name + ".lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        if lock.is_file() and lock.read_text().strip() == str(proc.pid):
            return proc.pid
        time.sleep(0.05)
    raise AssertionError("the daemon never took its lock")


def rows_ready(db: Path) -> bool:
    try:
        return bool(rows(db, "SELECT count(*) FROM schema_version"))
    except Exception:
        return False


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_a_second_daemon_is_refused_and_the_cli_works_beside_the_first(camera: CameraServer, config,
                                                                       tmp_path: Path):
    db = tmp_path / "cielo.db"
    cfg = config(backfill={"on_startup": True, "lookback_days": 1})  # its own `jobs run` child runs too
    first = start_daemon(cfg)
    try:
        wait_for_lock(db, first)
        t0 = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], capture_output=True,
                                text=True, timeout=30, env=clean_env())
        took = time.monotonic() - t0
        assert second.returncode != 0 and took < 10, (second, took)
        assert second.stdout == "" and len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert f"pid {first.pid}" in second.stderr and str(db) in second.stderr
        print(f"second daemon: exit {second.returncode} after {took:.1f} s: {second.stderr.strip()}")

        # The first one's catch-up child ran under its lock (children neither hold nor need it).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and rows(db, "SELECT count(*) FROM backfill_jobs WHERE status ="
                                                       " 'completed'") != [(1,)]:
            time.sleep(0.2)
        assert rows(db, "SELECT trigger, status FROM backfill_jobs") == [("on_boot", "completed")]

        # Operator commands work next to the running daemon, and status says it runs.
        status = cielo("status", config=cfg)
        assert status.returncode == 0 and f"daemon running (pid {first.pid})" in status.stdout, status.stdout
        data = json.loads(cielo("status", "--json", config=cfg).stdout)
        assert data["daemon"] == {"running": True, "pid": first.pid}
        assert data["jobs"] and all(j["next_run"] for j in data["jobs"])
        listed = cielo("jobs", "list", "--json", config=cfg)
        assert listed.returncode == 0 and json.loads(listed.stdout)[0]["trigger"] == "on_boot"
        assert json.loads(cielo("jobs", "--json", "list", config=cfg).stdout) == json.loads(listed.stdout)
        assert json.loads(cielo("jobs", "show", "1", "--json", config=cfg).stdout)["id"] == 1
        ran = cielo("backfill", "--from", "2024-06-01T12:00Z", "--to", "2024-06-01T12:59Z", config=cfg)
        assert ran.returncode == 0 and ran.stdout.strip().endswith("new=6 duplicates=0 failed=0"), ran
        detached = cielo("backfill", "--detach", "--from", "2024-06-02T12:00Z", "--to", "2024-06-02T12:59Z",
                         config=cfg)
        assert detached.returncode == 0 and f"the running daemon (pid {first.pid})" in detached.stdout
    finally:
        out = stop(first)
    assert first.returncode == 0, out

    # Stopped: status says so and lists no next runs; a detached backfill says nobody will run it yet.
    status = cielo("status", config=cfg)
    assert "daemon not running" in status.stdout and " next " not in status.stdout, status.stdout
    data = json.loads(cielo("status", "--json", config=cfg).stdout)
    assert data["daemon"] == {"running": False, "pid": None} and all(j["next_run"] is None for j in data["jobs"])
    detached = cielo("backfill", "--detach", "--from", "2024-06-03T12:00Z", "--to", "2024-06-03T12:59Z",
                     config=cfg)
    assert detached.returncode == 0 and "no daemon is running" in detached.stdout, detached.stdout
    assert "cielo jobs run" in detached.stdout and "the daemon (`cielo run`) does it" not in detached.stdout


def test_a_killed_daemon_leaves_no_stale_lock(camera: CameraServer, config, tmp_path: Path):
    db = tmp_path / "cielo.db"
    cfg = config()
    first = start_daemon(cfg)
    wait_for_lock(db, first)
    deadline = time.monotonic() + 20
    while not rows_ready(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert "daemon not running" in cielo("status", config=cfg).stdout
    again = start_daemon(cfg)
    try:
        assert wait_for_lock(db, again) == again.pid
        started = again.stdout.readline()
        while started and "cielo started" not in started:
            started = again.stdout.readline()
        assert "cielo started" in started
    finally:
        out = stop(again)
    assert again.returncode == 0, out
