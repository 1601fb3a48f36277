"""The camera's budget: a public camera is someone else's server. By default cielo asks it
for at most 120 images a minute (under 2 a second), across every process that uses the database."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import cielo, clean_env, write_config
from tests.support.camserver import CameraServer


def test_default_budget_is_polite_and_shared_by_processes(camera: CameraServer, tmp_path: Path):
    cfg = write_config(tmp_path / "c.toml", {  # [skycam] without requests_per_minute: the default
        "storage": {"database": str(tmp_path / "cielo.db")},
        "skycam": {"base_url": camera.base_url, "timeout_s": 2, "retries": 0},
        "sources.ree": {"enabled": False}, "sources.openmeteo": {"enabled": False}})
    listed = cielo("sources", config=cfg).stdout
    assert "skycam: enabled, keyless, series skycam.octas, history unlimited, budget 120/min" in listed, listed
    plan = cielo("backfill", "--from", "2024-06-01", "--to", "2024-06-30T23:59", "--dry-run", config=cfg).stdout
    # 30 days = 4,320 images: a burst of 12, then 1.8 a second, about 40 minutes, not seconds.
    assert "4320 requests, about 2393 s at 120/min" in plan, plan

    # Two processes at once, 12 images each: together they keep to the one budget.
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "backfill",
                               "--from", f"{day}T12:00Z", "--to", f"{day}T13:59Z"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
             for day in ("2024-06-01", "2024-06-02")]
    seen: list[tuple[float, int]] = []
    while any(p.poll() is None for p in procs):
        seen.append((time.monotonic() - t0, camera.total_requests))
        time.sleep(0.05)
    took = time.monotonic() - t0
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0 and out.strip().endswith("new=12 duplicates=0 failed=0"), (out, err)
    assert camera.total_requests == 24
    assert took >= (24 - 12) / 1.8 - 0.5, took  # without a budget: well under a second on loopback
    # The bucket's promise at every moment: the burst of 12, then no more than 1.8 a second since the start.
    for t, n in seen:
        assert n <= 12 + 1.8 * t + 1, (t, n)


def test_own_camera_can_lift_the_budget(camera: CameraServer, config):
    cfg = config(skycam={"requests_per_minute": 0})
    assert "budget unlimited" in cielo("sources", config=cfg).stdout
    t0 = time.monotonic()
    ran = cielo("backfill", "--from", "2024-06-01T00:00Z", "--to", "2024-06-01T05:59Z", config=cfg)
    assert ran.stdout.strip().endswith("new=36 duplicates=0 failed=0") and time.monotonic() - t0 < 15
