#!/usr/bin/env python3
"""`cielo backfill` as a whole process against the seed design (bench/backfill_seed.py); prints figures.

A loopback camera (tests/support/camserver.py, optional added latency per request) serves both. Each round
runs the seed-style baseline (each `--seed` classifier asked for: `cielo`, the seed's design judging as
cielo does; `graph`, only the ONNX graph, as the seed did; see bench/backfill_seed.py) and `cielo backfill
--from .. --to .. --workers N [--processes P]` (camera budget off, `requests_per_minute = 0`: the user's own
camera) as fresh processes into fresh databases, timed from spawn to exit (interpreter start, imports and
model load included), and then the same `cielo backfill` again (nothing to do: every slot held) next to
`cielo --version`. The runs are interleaved and their order rotates every round, so load that comes and goes
on a shared machine falls on all alike. Prints medians, the ratio of the medians and the median of the
per-round ratios (each round's runs back to back), the peak RSS of each cielo backfill process and of its
largest analysis process, and how many "Connection pool is full" warnings urllib3 logged.

    python -m bench.backfill_process [--days 14] [--rounds 5] [--latency-ms 0] [--workers 4] [--processes P]
    python -m bench.backfill_process --days 14 --rounds 2 --latency-ms 50 --workers 8 --seed cielo

Targets (2-core machine): >= 4x the seed at loopback, >= 8x at 50 ms with 8 workers; the no-op
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
    ap.add_argument("--processes", type=int, default=None, help="cielo backfill --processes (default: its own)")
    ap.add_argument("--seed", choices=("cielo", "graph", "both"), default="both")
    args = ap.parse_args()
    seeds = ["cielo", "graph"] if args.seed == "both" else [args.seed]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    camera = subprocess.Popen([sys.executable, "-m", "tests.support.camserver", "--latency-ms", str(args.latency_ms)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    port = camera.stdout.readline().split()[1]
    base_url = f"http://127.0.0.1:{port}/image"
    last = START + timedelta(days=args.days) - timedelta(minutes=1)
    seed_rate: dict[str, list[float]] = {k: [] for k in seeds}
    seed_peaks: dict[str, list[float]] = {k: [] for k in seeds}
    cielo_rate, noop, version, peaks, full = [], [], [], [], []
    n = 0
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)

            def seed_run(r: int, kind: str) -> int:
                wall, peak, out, _ = run_reaped([sys.executable, "-m", "bench.backfill_seed",
                                                 "--base-url", base_url, "--from", START.date().isoformat(),
                                                 "--days", str(args.days), "--db", str(tmp / f"seed{r}{kind}.db"),
                                                 "--classify", kind], env)
                n_seed = int(re.search(r"seed: (\d+) images", out).group(1))
                seed_rate[kind].append(n_seed / wall)
                seed_peaks[kind].append(peak)
                return n_seed

            def cielo_run(r: int) -> int:
                cfg = tmp / f"c{r}.toml"
                cfg.write_text(f'[storage]\ndatabase = "{tmp / f"c{r}.db"}"\n'
                               f'[skycam]\nbase_url = "{base_url}"\ntimezone = "UTC"\nrequests_per_minute = 0\n')
                cmd = [sys.executable, "-m", "cielo", "--config", str(cfg), "backfill", "--from",
                       START.strftime("%Y-%m-%dT%H:%MZ"), "--to", last.strftime("%Y-%m-%dT%H:%MZ"),
                       "--workers", str(args.workers)]
                if args.processes is not None:
                    cmd += ["--processes", str(args.processes)]
                wall, peak, out, err = run_reaped(cmd, env)
                stored = int(re.search(r"new=(\d+)", out).group(1))
                cielo_rate.append(stored / wall)
                peaks.append(peak)
                full.append(err.count("Connection pool is full"))
                noop.append(run_reaped(cmd, env)[0])
                version.append(run_reaped([sys.executable, "-m", "cielo", "--version"], env)[0])
                return stored

            runs = [*(lambda r, k=k: seed_run(r, k) for k in seeds), cielo_run]
            for r in range(args.rounds):
                counts = {}
                for i in range(len(runs)):  # rotate: no run always on another's heels
                    j = (i + r) % len(runs)
                    counts[j] = runs[j](r)
                if len(set(counts.values())) != 1:
                    raise SystemExit(f"bench: the runs stored different numbers of images: {counts}")
                n = counts[len(runs) - 1]
    finally:
        camera.terminate()
        camera.wait()
    ours = statistics.median(cielo_rate)
    print(f"{n} images ({args.days:g} days), {args.rounds} rounds, added latency {args.latency_ms:g} ms, "
          f"cielo --workers {args.workers}"
          f"{'' if args.processes is None else f' --processes {args.processes}'}; whole processes, interleaved, "
          f"order rotated each round; medians")
    print(f"cielo backfill: {ours:.1f} images/s ({', '.join(f'{x:.1f}' for x in cielo_rate)})")
    for kind in seeds:
        seed = statistics.median(seed_rate[kind])
        pairs = [c / s for c, s in zip(cielo_rate, seed_rate[kind], strict=True)]
        print(f"seed design, classifier {kind}: {seed:.1f} images/s "
              f"({', '.join(f'{x:.1f}' for x in seed_rate[kind])}), peak RSS "
              f"{statistics.median(seed_peaks[kind]):.0f} MB: cielo {ours / seed:.2f}x (ratio of medians); "
              f"per-round {', '.join(f'{x:.2f}' for x in pairs)}: median {statistics.median(pairs):.2f}x")
    print(f"no-op backfill {statistics.median(noop):.3f} s, cielo --version {statistics.median(version):.3f} s: "
          f"{statistics.median(noop) / statistics.median(version):.2f}x")
    print(f"peak RSS of cielo backfill (its largest process; analysis processes included): {max(peaks):.0f} MB "
          f"(median {statistics.median(peaks):.0f}); 'Connection pool is full' warnings: {sum(full)}")

if __name__ == "__main__":
    main()
