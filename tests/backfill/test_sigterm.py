"""SIGTERM on `cielo backfill` (kill, a CI timeout, a service manager) stops it like Ctrl-C: the summary line,
exit 143, nothing leaked, and the job `interrupted`, never left `running`. A job whose process died shows as
`interrupted` too, and `cielo jobs reset-stuck` puts its tasks back."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from cielo.cli import main
from tests.backfill.test_processes import alive, children
from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer

RANGE = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-01T11:59Z")  # 72 slots
SLOTS = 72


def started(cfg: Path, camera: CameraServer, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", *extra, *RANGE]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    deadline = time.monotonic() + 60
    while camera.total_requests < 20 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    return proc


def jobs_cli(cfg: Path, *args: str) -> str:
    """`cielo jobs ...` through the CLI's main() in this process (quicker than a child), its output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--config", str(cfg), "jobs", *args]) == 0
    return out.getvalue()


def job_status(cfg: Path) -> str:
    return json.loads(jobs_cli(cfg, "list", "--json"))[0]["status"]


def test_sigterm_prints_the_summary_and_leaves_no_job_running(config, tmp_path: Path):
    processes = "2"  # the analysis processes too: they end, and their semaphores are not "leaked"
    with CameraServer(latency_s=0.05) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        proc = started(cfg, slow, "--processes", processes)
        helpers = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, (out, err)
        assert "Traceback" not in err and "leaked" not in err, err
        assert "backfill: stopped by SIGTERM" in err, err
        line = out.strip().splitlines()[-1]
        assert line.startswith("skycam: total=") and " new=" in line, out
        new = int(line.split("new=")[1].split()[0])
        assert 0 < new < SLOTS
        deadline = time.monotonic() + 10
        while any(alive(p) for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in helpers if alive(p)], "analysis processes outlived the backfill"
        assert job_status(cfg) == "interrupted"
        assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM backfill_tasks WHERE status = 'in_progress'") \
            == [(0,)]
        rest = cielo("backfill", "--processes", processes, *RANGE, config=cfg)  # the same command resumes it
        expected = f"skycam: total={SLOTS} new={SLOTS - new} duplicates={new} failed=0"
        assert rest.stdout.strip().splitlines()[-1] == expected
        assert job_status(cfg) == "completed"


def test_a_job_whose_process_died_is_interrupted_and_reset_stuck_resets_it(config, tmp_path: Path):
    with CameraServer(latency_s=0.05) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        proc = started(cfg, slow, "--processes", "0")
        proc.kill()  # no handler runs: its task stays in_progress under a dead pid
        proc.communicate(timeout=30)
        db = tmp_path / "cielo.db"
        assert rows(db, "SELECT status FROM backfill_jobs") == [("running",)]  # what the database says ...
        assert job_status(cfg) == "interrupted"  # ... and what the dead pid says
        shown = jobs_cli(cfg, "show", "1")
        assert shown.startswith("job 1 (manual): interrupted"), shown
        reset = jobs_cli(cfg, "reset-stuck")
        assert reset.startswith("1 stuck task(s) back to pending"), reset
        assert rows(db, "SELECT status, count(*) FROM backfill_tasks GROUP BY status ORDER BY status")[-1][0] \
            == "pending"
        assert rows(db, "SELECT status FROM backfill_jobs") == [("interrupted",)]
        again = jobs_cli(cfg, "reset-stuck")
        assert again.startswith("0 stuck task(s)"), again
        rest = cielo("backfill", "--processes", "0", *RANGE, config=cfg)
        assert rest.returncode == 0 and rest.stdout.strip().endswith("failed=0"), rest.stdout
        assert rows(db, "SELECT status FROM backfill_jobs") == [("completed",)]
