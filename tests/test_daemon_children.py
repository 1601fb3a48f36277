"""The daemon runs one child at a time, live runs first: a catch-up child and a capture child never stack
(their memory would add up on a 512 MB board); a capture that comes due pauses the catch-up, which then goes
on where it stopped. Real child processes, a real loopback camera, the daemon's own methods."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from cielo.service.scheduler import Daemon
from cielo.sources import registry
from tests.conftest import cielo, rows
from tests.support.camserver import CameraServer


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return out


@pytest.mark.slow  # long: run by `pytest -m slow` (CI runs it)
def test_a_capture_pauses_the_catch_up_and_they_never_run_together(config, tmp_path: Path, monkeypatch, caplog):
    with CameraServer(latency_s=0.02) as slow:
        cfg = config(skycam={"base_url": slow.base_url, "workers": 1})
        queued = cielo("backfill", "--detach", "--from", "2024-06-01T00:00Z", "--to", "2024-06-02T23:59Z",
                       config=cfg)
        assert queued.returncode == 0, queued.stderr
        monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
        daemon = Daemon(registry.load_settings(str(cfg)))
        most, sampling = 0, True

        def sample() -> None:
            nonlocal most
            while sampling:
                most = max(most, len(children(os.getpid())))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        jobs = threading.Thread(target=daemon.run_jobs)
        caplog.set_level(logging.INFO, logger="cielo")
        try:
            jobs.start()
            deadline = time.monotonic() + 30
            while not rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings")[0][0]:
                assert time.monotonic() < deadline, "the job child stored nothing"
                time.sleep(0.05)
            daemon.run_source("skycam")  # a capture comes due while the catch-up child works
            live = rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings WHERE ts >= '2025-01-01'")[0][0]
            jobs.join(timeout=120)
            assert not jobs.is_alive()
        finally:
            sampling = False
            daemon.stopping.set()
            daemon.store.close()
    assert live == 1  # the capture was stored before the catch-up went on
    assert most == 1, f"{most} children at once"
    log = caplog.text
    assert "job 1: paused for a live run" in log, log[-2000:]
    assert rows(tmp_path / "cielo.db", "SELECT status FROM backfill_jobs WHERE id = 1") == [("completed",)]
    assert rows(tmp_path / "cielo.db", "SELECT count(*) FROM readings WHERE ts < '2025-01-01'") == [(288,)]
