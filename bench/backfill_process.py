#!/usr/bin/env python3
"""`cielo backfill` as a whole process against the seed design (bench/backfill_seed.py); prints figures.

A loopback camera (tests/support/camserver.py, optional added latency per request) serves both. Each round
runs the seed-style baseline and `cielo backfill --from .. --to .. --workers N` (camera budget off,
`requests_per_minute = 0`: the user's own camera) as fresh processes into fresh databases, timed from spawn
to exit (interpreter start, imports and model load included), and then the same `cielo backfill` again
(nothing to do: every slot held) next to `cielo --version`. The pair is interleaved and its order swaps
every round (seed first, then cielo first, ...), so load that comes and goes on a shared machine falls on
both alike. Prints medians, the ratio of the medians and the median of the per-round ratios (each round's
pair ran back to back), the peak RSS of each cielo backfill process, and how many "Connection pool is full"
warnings urllib3 logged.

    python bench/backfill_process.py [--days 14] [--rounds 5] [--latency-ms 0] [--workers 4]
    python bench/backfill_process.py --days 3 --rounds 1 --latency-ms 50 --workers 8

Targets (issue 15, 2-core machine): >= 4x the seed at loopback, >= 8x at 50 ms with 8 workers; the no-op
backfill <= 2x `cielo --version`; any backfill process <= 100 MB peak RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2024, 6, 1, tzinfo=UTC)


def run_reaped(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[-6:])}: exit {proc.returncode}: {e[-2000:]}")
    return wall, usage.ru_maxrss / 1024, o, e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=14)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'daemon'}{os.pathsep}{ROOT}"}
    camera = subprocess.Popen([sys.executable, "-m", "tests.support.camserver", "--latency-ms", str(args.latency_ms)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    port = camera.stdout.readline().split()[1]
    base_url = f"http://127.0.0.1:{port}/image"
    last = START + timedelta(days=args.days) - timedelta(minutes=1)
    seed_rate, cielo_rate, noop, version, peaks, seed_peaks, full = [], [], [], [], [], [], []
    n = 0
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)

            def seed_run(r: int) -> int:
                wall, peak, out, _ = run_reaped([sys.executable, str(ROOT / "bench" / "backfill_seed.py"),
                                                 "--base-url", base_url, "--from", START.date().isoformat(),
                                                 "--days", str(args.days), "--db", str(tmp / f"seed{r}.db")], env)
                n_seed = int(re.search(r"seed: (\d+) images", out).group(1))
                seed_rate.append(n_seed / wall)
                seed_peaks.append(peak)
                return n_seed

            def cielo_run(r: int) -> int:
                cfg = tmp / f"c{r}.toml"
                cfg.write_text(f'[storage]\ndatabase = "{tmp / f"c{r}.db"}"\n'
                               f'[skycam]\nbase_url = "{base_url}"\ntimezone = "UTC"\nrequests_per_minute = 0\n')
                cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--from",
                       START.strftime("%Y-%m-%dT%H:%MZ"), "--to", last.strftime("%Y-%m-%dT%H:%MZ"),
                       "--workers", str(args.workers)]
                wall, peak, out, err = run_reaped(cmd, env)
                stored = int(re.search(r"new=(\d+)", out).group(1))
                cielo_rate.append(stored / wall)
                peaks.append(peak)
                full.append(err.count("Connection pool is full"))
                noop.append(run_reaped(cmd, env)[0])
                version.append(run_reaped([sys.executable, "-m", "cielo", "--version"], env)[0])
                return stored

            for r in range(args.rounds):
                if r % 2 == 0:  # A B, then B A: neither side always runs on the other's heels
                    n_seed, n = seed_run(r), cielo_run(r)
                else:
                    n, n_seed = cielo_run(r), seed_run(r)
                if n != n_seed:
                    raise SystemExit(f"bench: cielo stored {n} images, the seed {n_seed}")
    finally:
        camera.terminate()
        camera.wait()
    seed, ours = statistics.median(seed_rate), statistics.median(cielo_rate)
    paired = statistics.median(c / s for c, s in zip(cielo_rate, seed_rate, strict=True))
    print(f"{n} images ({args.days:g} days), {args.rounds} rounds, added latency {args.latency_ms:g} ms, "
          f"cielo --workers {args.workers}; whole processes, interleaved, order swapped each round; medians")
    print(f"seed design: {seed:.1f} images/s ({', '.join(f'{x:.1f}' for x in seed_rate)}); "
          f"peak RSS {statistics.median(seed_peaks):.0f} MB")
    print(f"cielo backfill: {ours:.1f} images/s ({', '.join(f'{x:.1f}' for x in cielo_rate)}): "
          f"{ours / seed:.2f}x the seed (ratio of medians); per-round ratios "
          f"{', '.join(f'{c / s:.2f}' for c, s in zip(cielo_rate, seed_rate, strict=True))}: median {paired:.2f}x")
    print(f"no-op backfill {statistics.median(noop):.3f} s, cielo --version {statistics.median(version):.3f} s: "
          f"{statistics.median(noop) / statistics.median(version):.2f}x")
    print(f"peak RSS of cielo backfill: {max(peaks):.0f} MB (median {statistics.median(peaks):.0f}); "
          f"'Connection pool is full' warnings: {sum(full)}")


if __name__ == "__main__":
    main()
