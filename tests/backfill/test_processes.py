"""`cielo backfill --processes N`: camera images judged in worker processes (cielo.sources.skycam.analysts).

The real CLI against the loopback camera; the same range judged in-process (--processes 0) is the reference.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cielo, clean_env, rows
from tests.support.camserver import CameraServer

DAY = ("--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z")
READINGS = "SELECT series, ts, value, attrs FROM readings ORDER BY ts"


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


def children(pid: int) -> set[int]:
    """Every live process whose parent is `pid`."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow  # a long subprocess run: .ci/run's slow step runs it
def test_worker_processes_store_what_one_process_stores(camera: CameraServer, config, tmp_path: Path):
    # Night frames (Madrid, June: 00:xx UTC), a dark one, a truncated JPEG and an HTML page among day frames.
    camera.behaviours.update({"2024-05312102.jpg": "dim", "2024-06011022.jpg": "dark",
                              "2024-06010902.jpg": "truncated", "2024-06010912.jpg": "html"})
    stored = {}
    for processes in ("0", "2"):
        db = tmp_path / f"p{processes}.db"
        cfg = config(storage={"database": str(db)}, device={"latitude": 40.4, "longitude": -3.7})
        result = cielo("backfill", *DAY, "--processes", processes, config=cfg)
        assert result.returncode == 0, result.stderr
        assert summary(result) == "skycam: total=144 new=142 duplicates=0 failed=2", result.stderr
        assert "1 unreadable image" in result.stderr and "1 not a JPEG" in result.stderr
        stored[processes] = rows(db, READINGS)
    assert len(stored["0"]) == 142
    assert stored["2"] == stored["0"]  # values, flags, probabilities, model version: byte for byte
    flags = rows(tmp_path / "p2.db", "SELECT flag, count(*) FROM octas GROUP BY flag ORDER BY flag")
    assert ("night", 1) in flags and ("dark", 1) in flags


def test_nothing_to_fetch_starts_and_waits_for_no_process(camera: CameraServer, config):
    cfg = config()
    assert cielo("backfill", *DAY, "--processes", "2", config=cfg).returncode == 0
    t0 = time.monotonic()
    again = cielo("backfill", *DAY, "--processes", "2", config=cfg)
    assert summary(again) == "skycam: total=144 new=0 duplicates=144 failed=0"
    assert time.monotonic() - t0 < 3  # the processes still loading the model are ended, not waited for


def test_processes_out_of_range_is_a_usage_error(config):
    result = cielo("backfill", *DAY, "--processes", "17", config=config())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["cielo: error: backfill: --processes must be between 0 and 16"]


def start(cfg: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--processes", "2",
           "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z"]
    # its own process group, with a default SIGINT (a suite run in the background ignores it): Ctrl-C at a
    # terminal goes to the whole group, the analysis processes too
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(camera: CameraServer, requests: int, proc: subprocess.Popen[str]) -> set[int]:
    deadline = time.monotonic() + 30
    while camera.total_requests < requests and time.monotonic() < deadline:
        time.sleep(0.05)
    analysts = children(proc.pid)
    assert len(analysts) >= 2, "no analysis processes running"
    return analysts


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
@pytest.mark.parametrize("signal_", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_backfill_leaves_no_process_and_no_traceback(config, tmp_path: Path, signal_: int):
    with CameraServer(latency_s=0.05) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 2})
        proc = start(cfg)
        analysts = wait_for(slow, 60, proc)
        os.killpg(proc.pid, signal.SIGINT) if signal_ == signal.SIGINT else proc.kill()
        out, err = proc.communicate(timeout=30)
        deadline = time.monotonic() + 10  # an orphan notices within a second or two
        while any(alive(p) for p in analysts) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in analysts if alive(p)], "analysis processes outlived the backfill"
        assert "Traceback" not in err, err
        if signal_ == signal.SIGINT:
            assert "leaked" not in err, err  # (kill -9 gives nothing a chance to clean up)
            assert proc.returncode == 130, (out, err)
            new = int(out.strip().splitlines()[-1].split("new=")[1].split()[0])
            assert 0 < new < 288
        held = rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings")[0][0]
        rest = cielo("backfill", "--processes", "2", "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z",
                     config=cfg)
        assert summary(rest) == f"skycam: total=288 new={288 - held} duplicates={held} failed=0"


def test_an_analysis_process_killed_mid_run_costs_only_its_images(config, tmp_path: Path):
    # A process killed while writing a result can leave the pool's reader waiting on it for good (analysts.py):
    # the stall deadline ends that pool, so it is set well inside the time this test waits (one CI run of 30+
    # hit it: the backfill still waiting at 60 s under the default 120 s)
    with CameraServer(latency_s=0.02) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 4, "analysis_stall_s": 15})
        proc = start(cfg)
        analysts = [p for p in wait_for(slow, 60, proc)
                    if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
        os.kill(analysts[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=90)
        assert "Traceback" not in err, err
        line = out.strip().splitlines()[-1]
        new, failed = (int(line.split(f"{k}=")[1].split()[0]) for k in ("new", "failed"))
        assert new + failed == 288 and new > 200, line  # the images it and its sibling held, no more
        # the failed images' error points at a warning that is there: the death seen, or the pool ended as stalled
        assert failed == 0 or "WARNING an analysis process died (" in err or "no verdict from the" in err, err
        rest = cielo("backfill", "--processes", "2", "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z",
                     config=cfg)
        assert summary(rest) == f"skycam: total=288 new={failed} duplicates={new} failed=0"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for a private /dev/shm")
def test_without_shared_memory_it_judges_in_its_own_process(camera: CameraServer, config, tmp_path: Path):
    """A chroot or a sandbox without a writable /dev/shm has no semaphores for the processes' queues."""
    cfg = config()
    cmd = (f"mount -t tmpfs -o ro tmpfs /dev/shm && exec {sys.executable} -m cielo --config {cfg} backfill "
           f"--processes 2 {' '.join(DAY)}")
    result = subprocess.run(["unshare", "--mount", "sh", "-c", cmd], capture_output=True, text=True, timeout=120,
                            env=clean_env())
    if result.returncode != 0 and result.stderr.startswith(("unshare:", "mount:")):
        pytest.skip(f"no private mounts here: {result.stderr.strip()}")  # a container without CAP_SYS_ADMIN
    assert result.returncode == 0, result.stderr
    assert summary(result) == "skycam: total=144 new=144 duplicates=0 failed=0"
    assert "cannot start 2 analysis process(es)" in result.stderr and "judging images in this process" in result.stderr
    assert "Traceback" not in result.stderr
