"""Answers over the size cap that come chunked (an MJPEG stream, a proxy: no Content-Length to refuse early)
are read in bounded pieces, cut at the cap and dropped at once: memory stays flat however many slots get one."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import clean_env, rows
from tests.support.camserver import CameraServer
from tests.support.treerss import PeakTree


def test_a_day_of_50_mb_chunked_answers_keeps_the_tree_under_200_mb(camera: CameraServer, config, tmp_path: Path):
    camera.behaviour = "chunked"
    cfg = config(skycam={"workers": 4})
    cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill",
           "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T23:59Z"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    peak = PeakTree(proc)
    out, err = proc.communicate(timeout=240)
    tree = peak.join()
    biggest = peak.largest_mb  # the largest single process of the tree (a peak between two samples included)
    assert "Traceback" not in err, err
    assert out.strip().splitlines()[-1] == "skycam: total=144 new=0 duplicates=0 failed=144", err
    assert "144 too large" in err, err
    assert camera.total_requests == 144
    print(f"peak: tree {tree:.0f} MB, largest process {biggest:.0f} MB")
    assert tree <= 200, f"the backfill's tree peaked at {tree:.0f} MB"
    assert biggest <= 150, f"one process peaked at {biggest:.0f} MB"


def test_the_daemons_catch_up_of_a_day_of_chunked_answers_stays_under_150_mb(camera: CameraServer, config,
                                                                             tmp_path: Path):
    camera.behaviour = "chunked"
    cfg = config(backfill={"on_startup": True, "lookback_days": 1})
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=clean_env())
    peak = PeakTree(proc)
    try:
        deadline = time.monotonic() + 180  # the live capture, then the catch-up of the last day (144 slots)
        while camera.total_requests < 140 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        while time.monotonic() < deadline and not rows(tmp_path / "cielo.db", "SELECT 1 FROM events WHERE kind ="
                                                       " 'backfill_finished'"):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    tree = peak.join()
    assert camera.total_requests >= 140, out
    assert "Traceback" not in out, out
    print(f"peak: daemon tree {tree:.0f} MB")
    assert tree <= 150, f"the daemon's tree peaked at {tree:.0f} MB"
