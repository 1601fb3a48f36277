"""A child of the daemon goes when it is told to, and when the daemon is gone: a `jobs run` child follows a
daemon killed -9 out at once, and one told to stop ends within its deadline whatever it waits on (here a
database lock another process holds). systemd waits for every process of the unit before a restart, so a child
that lingers delays the restart (TimeoutStopSec, 30 s). Real processes, a real loopback camera."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cielo.backfill.manual import STOP_DEADLINE_S
from tests.backfill.test_processes import alive
from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer
from tests.test_daemon import read_until
from tests.test_daemon_children import children

ONE_DAY = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z")


def wait_gone(pid: int, timeout: float) -> float:
    started = time.monotonic()
    while alive(pid):
        assert time.monotonic() - started < timeout, f"process {pid} still there after {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_a_job_child_follows_a_daemon_killed_9(config, tmp_path: Path):
    with CameraServer(latency_s=0.05) as slow:
        # the catch-up on start: a day of gaps, in a `jobs run` child
        cfg = config(skycam={"base_url": slow.base_url, "workers": 1},
                     backfill={"on_startup": True, "lookback_days": 1})
        daemon = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env())
        try:
            read_until(daemon, r"backfill job 1 \(on_boot\): 0/")
            (child,) = [p for p in children(daemon.pid)
                        if b"jobs\0run" in Path(f"/proc/{p}/cmdline").read_bytes()]
            daemon.kill()
            daemon.wait(timeout=10)
            took = wait_gone(child, STOP_DEADLINE_S + 5)
        finally:
            daemon.kill()
        # SIGTERM from the kernel, then the chunk in hand (~1-3 s; 3.5 s with the machine's cores busy): well
        # under the stop deadline, which only a child that missed the signal waits out
        assert took < STOP_DEADLINE_S - 3, took
        stored = rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings")[0][0]
        assert 0 < stored < 144
        # what it left resumes: every slot once
        slow.latency_s = 0
        again = cielo("jobs", "run", "1", config=cfg)
    assert again.stdout.strip().endswith("job 1: completed"), again.stdout + again.stderr
    (total, distinct), = rows(tmp_path / "cielo.db", "SELECT count(*), count(DISTINCT ts) FROM readings")
    assert total == distinct > stored


@pytest.mark.slow  # ~15 s of waiting: run by `pytest -m slow` (CI runs it)
@pytest.mark.parametrize("reader", ["there", "gone"])
def test_a_job_child_stuck_on_a_lock_ends_by_its_deadline(config, tmp_path: Path, reader: str):
    """`gone`: the pipe its stdout writes to has no reader, as when the daemon that started it was killed -9
    (the deadline's last line and flush then fail with EPIPE: once that left a child in a systemd unit running
    until TimeoutStopSec, 30 s, and delayed the restart)."""
    with CameraServer(latency_s=0.05) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 1})
        assert cielo("backfill", "--detach", *ONE_DAY, config=cfg).returncode == 0
        db = tmp_path / "cielo.db"
        job = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "jobs", "run", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        holder = sqlite3.connect(db, isolation_level=None, timeout=30)
        try:
            deadline = time.monotonic() + 60
            while rows(db, "SELECT count(*) FROM readings")[0][0] < 10:
                assert time.monotonic() < deadline and job.poll() is None
                time.sleep(0.05)
            holder.execute("BEGIN IMMEDIATE")  # its next write waits on this (busy timeout 30 s)
            time.sleep(1.0)
            if reader == "gone":
                job.stdout.close()
            started = time.monotonic()
            job.send_signal(signal.SIGTERM)
            if reader == "gone":
                err = job.stderr.read()
                job.wait(timeout=40)
                out = ""
            else:
                out, err = job.communicate(timeout=40)
            took = time.monotonic() - started
        finally:
            holder.close()
            job.kill()
        assert STOP_DEADLINE_S - 0.5 <= took <= STOP_DEADLINE_S + 3, took
        assert job.returncode == 1 and "Traceback" not in err, err
        if reader == "there":
            assert f"job 1: still stopping after {STOP_DEADLINE_S:g} s; exiting now" in out, out
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        again = cielo("jobs", "run", "1", config=cfg)
    assert again.stdout.strip().endswith("job 1: completed"), again.stdout + again.stderr
    assert rows(db, "SELECT count(*), count(DISTINCT ts) FROM readings") == [(144, 144)]


def test_a_cielo_process_whose_daemon_is_already_gone_ends():
    # CIELO_DAEMON_PID naming a process that is not our parent: the daemon that started us is gone
    env = clean_env(CIELO_DAEMON_PID=str(os.getpid() + 999_999))
    gone = subprocess.run([sys.executable, "-m", "cielo", "--version"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert gone.returncode == -signal.SIGTERM, (gone.returncode, gone.stderr)
    env = clean_env(CIELO_DAEMON_PID="not-a-pid")
    fine = subprocess.run([sys.executable, "-m", "cielo", "--version"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert fine.returncode == 0, fine.stderr
