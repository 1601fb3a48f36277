"""An analysis process that stops answering (SIGSTOP here; a stuck decoder in the field) never holds a backfill:
past `[skycam] analysis_stall_s` without a verdict the processes are ended, the images they held fail, one line
says so and the rest of the range goes on with new processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backfill.test_processes import alive, children
from tests.conftest import cielo, clean_env
from tests.support.camserver import CameraServer

RANGE = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-01T11:59Z")  # 72 slots


def analysis_processes(pid: int) -> list[int]:
    return [p for p in children(pid) if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def stop_analysis_processes(pid: int) -> list[int]:
    """SIGSTOP the backfill's two analysis processes; their pids."""
    workers = analysis_processes(pid)
    assert len(workers) == 2, "no analysis processes running"
    for worker in workers:
        subprocess.run(["kill", "-STOP", str(worker)], check=True)
    return workers


def wait_ending(proc: subprocess.Popen, workers: list[int], timeout: float, hung: str) -> tuple[str, str]:
    """The backfill's output once it ended by itself within `timeout`; stopped workers it left are killed."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(hung) from None
    finally:
        for worker in workers:
            if alive(worker):
                subprocess.run(["kill", "-KILL", str(worker)], check=False)


def test_a_stopped_analysis_process_ends_by_the_deadline(config, tmp_path: Path):
    with CameraServer(latency_s=0.02) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2, "analysis_stall_s": 3})
        cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--processes", "2", *RANGE]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
                                start_new_session=True)
        deadline = time.monotonic() + 60
        while slow.total_requests < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = stop_analysis_processes(proc.pid)  # both: no verdict comes at all
        t0 = time.monotonic()
        out, err = wait_ending(proc, workers, 90, "the backfill hung on a stopped analysis process")
        assert time.monotonic() - t0 < 60
        assert "Traceback" not in err, err
        assert "no verdict from the 2 analysis process(es)" in err and "ended them" in err, err
        line = out.strip().splitlines()[-1]
        new, failed = (int(line.split(f"{k}=")[1].split()[0]) for k in ("new", "failed"))
        assert new + failed == 72 and new > 10 and failed > 0, (line, err)
        assert "analysis stalled" in err, err
        assert not [p for p in workers if alive(p)], "the stopped processes were left behind"
        # with the default deadline: a model load on a loaded machine can outlast the 3 s one
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        rest = cielo("backfill", "--processes", "2", *RANGE, config=cfg)
        # the images that failed were never stored: the next run asks for them again
        assert rest.stdout.strip().splitlines()[-1] == f"skycam: total=72 new={failed} duplicates={new} failed=0"


@pytest.mark.parametrize("slow_unlink", [False, True], ids=["as_is", "slow_semaphore_unlink"])
def test_ctrl_c_ends_a_backfill_whose_analysis_processes_are_stopped(config, tmp_path: Path, slow_unlink: bool):
    env = clean_env()
    if slow_unlink:  # no "leaked semaphore" warning even when a pool's thread frees its queues slowly
        env["PYTHONPATH"] = f"{Path(__file__).parents[1] / 'support' / 'slow_unlink'}:{env['PYTHONPATH']}"
    with CameraServer(latency_s=0.02) as slow:
        # a deadline far away: what ends it here is Ctrl-C, not the deadline
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2, "analysis_stall_s": 600})
        cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--processes", "2", *RANGE]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while slow.total_requests < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = stop_analysis_processes(proc.pid)
        time.sleep(1)  # images pile up behind them
        proc.send_signal(signal.SIGINT)
        out, err = wait_ending(proc, workers, 30, "Ctrl-C did not end a backfill whose analysis processes are stopped")
        assert proc.returncode == 130, (out, err)
        assert "Traceback" not in err and "leaked" not in err, err
        assert out.strip().splitlines()[-1].startswith("skycam: total="), out
        assert not [p for p in workers if alive(p)], "the stopped processes were left behind"
