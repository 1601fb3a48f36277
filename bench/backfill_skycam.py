#!/usr/bin/env python3
"""Sky-camera backfill speed and memory; prints figures (not a test).

A loopback camera runs in its own process (640x480 textured JPEGs, optional added latency per request);
cielo's real backfill (cielo.backfill.run with the skycam source) fills N days into a fresh temporary
database each round. Prints the median images/s over the rounds, per-image inference time, the peak RSS of
the backfilling process, and the idle RSS of `cielo run` after its first capture.

    python -m bench.backfill_skycam [--days 7] [--rounds 5] [--latency-ms 0] [--workers 4]
    python -m bench.backfill_skycam --latency-ms 50 --workers 8

Targets (2-core machine): >= 600 images/s with no latency; >= 120 images/s with 50 ms and 8 workers;
inference <= 5 ms per image; idle RSS of `cielo run` <= 80 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_camera(latency_ms: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.camserver", "--latency-ms", str(latency_ms)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    port = proc.stdout.readline().split()[1]
    return proc, f"http://127.0.0.1:{port}/image"


def backfill_round(base_url: str, days: int, workers: int, tmp: Path) -> tuple[float, int]:
    from cielo.config import Settings
    from cielo.ingest.engine import fill
    from cielo.sources.skycam.source import SkycamSource
    from cielo.store import Store

    db = tmp / f"bench-{time.monotonic_ns()}.db"
    settings = Settings.model_validate({"storage": {"database": str(db)},
                                        "skycam": {"base_url": base_url, "workers": workers,
                                                   "requests_per_minute": 0}})
    source = SkycamSource(settings)
    source.model  # noqa: B018 - load outside the timed part, as the daemon does once
    start = datetime(2024, 6, 1, tzinfo=UTC)
    with Store(db) as store:
        t0 = time.perf_counter()
        summary = fill(source, store, start, start + timedelta(days=days), workers=workers)
        elapsed = time.perf_counter() - t0
    source.close()
    if summary.failed:
        raise SystemExit(f"bench: {summary.line()}: the camera server failed")
    return summary.new / elapsed, summary.new


def inference_ms(batch: int = 16, rounds: int = 50) -> tuple[float, float]:
    from cielo.sources.skycam.model import OctaModel
    from tests.support.camserver import sky_jpeg

    model = OctaModel()
    frames = [model.decode(sky_jpeg(0.1 * (i % 10), seed=i)) for i in range(batch)]
    model.predict(frames)
    batched, single = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        model.predict(frames)
        batched.append((time.perf_counter() - t0) * 1000 / batch)
        t0 = time.perf_counter()
        model.predict(frames[:1])
        single.append((time.perf_counter() - t0) * 1000)
    return statistics.median(batched), statistics.median(single)


def decode_ms(rounds: int = 200) -> float:
    from cielo.sources.skycam.model import OctaModel
    from tests.support.camserver import sky_jpeg

    model = OctaModel()
    data = sky_jpeg(0.5, seed=1)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        model.decode(data)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def idle_rss_mb(base_url: str, tmp: Path) -> float:
    cfg = tmp / "run.toml"
    cfg.write_text(f'[storage]\ndatabase = "{tmp / "run.db"}"\n[skycam]\nbase_url = "{base_url}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "cielo", "--config", str(cfg), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if re.search(r"skycam \S+: ", line):
                break
        time.sleep(2)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()

    camera, base_url = start_camera(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            backfill_round(base_url, 1, args.workers, tmp)  # warm-up: imports, connections
            rates = []
            for _ in range(args.rounds):
                rate, n = backfill_round(base_url, args.days, args.workers, tmp)
                rates.append(rate)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            per_image, single = inference_ms()
            dec = decode_ms()
            idle = idle_rss_mb(base_url, tmp)
    finally:
        camera.terminate()
        camera.wait()

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"backfill: {n} images x {args.rounds} rounds, workers={args.workers}, "
          f"added latency {args.latency_ms:g} ms")
    print(f"images/s: median {statistics.median(rates):.0f} (min {min(rates):.0f}, max {max(rates):.0f})")
    print(f"inference: {per_image:.3f} ms/image in batches of 16, {single:.3f} ms for a single image")
    print(f"decode (640x480 JPEG, draft mode): {dec:.3f} ms/image")
    print(f"peak RSS of the backfilling process: {peak:.0f} MB")
    print(f"idle RSS of `cielo run` after its first capture: {idle:.0f} MB")


if __name__ == "__main__":
    main()
