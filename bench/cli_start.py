#!/usr/bin/env python3
"""CLI start time; prints figures (not a test).

Wall time of `cielo --version`, `--help`, `status`, `gaps`, `sources` and `classify` of one camera-sized JPEG,
each a fresh process as a user runs it (`python -m cielo`, the same interpreter), against a temporary
database holding a day of readings; rounds interleave the commands so that a busy machine slows them alike.
Prints the median wall and CPU time of each (CPU is steadier on a busy machine), its ratio to `--version`,
and the modules each loads that it should not need
(APScheduler, urllib3, numpy, Pillow, onnxruntime).

    python -m bench.cli_start [--rounds 15]

Targets (2-core machine): status, gaps, --help <= 0.25 s; classify one image <= 0.35 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("apscheduler", "urllib3", "numpy", "PIL", "onnxruntime", "paho")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    from cielo.store import Reading, Store
    from tests.support.camserver import sky_jpeg

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cfg = tmp / "c.toml"
        cfg.write_text(f'[storage]\ndatabase = "{tmp / "c.db"}"\n[skycam]\nbase_url = "http://127.0.0.1:9/image"\n')
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        with Store(tmp / "c.db") as store:
            store.add_readings([Reading("skycam.octas", now - timedelta(minutes=10 * i), 3.0, "octas", "skycam")
                                for i in range(1, 144, 2)])
        image = tmp / "one.jpg"
        image.write_bytes(sky_jpeg(0.4, seed=1))
        commands = {"--version": ["--version"], "--help": ["--help"], "status": ["status"], "gaps": ["gaps"],
                    "sources": ["sources"], "classify one image": ["classify", str(image)]}
        env = dict(os.environ)
        times: dict[str, list[float]] = {k: [] for k in commands}
        cpu: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "cielo", "--config", str(cfg), *argv], env=env, check=True,
                               stdout=subprocess.DEVNULL)
                times[name].append(time.perf_counter() - t0)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        loads = {}
        for name, argv in commands.items():
            probe = ("import runpy, sys; sys.argv = ['cielo', '--config', sys.argv[1], *sys.argv[2:]]\n"
                     "try:\n    runpy.run_module('cielo', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                     f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
            out = subprocess.run([sys.executable, "-c", probe, str(cfg), *argv], env=env, capture_output=True,
                                 text=True)
            loads[name] = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
    base = statistics.median(times["--version"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"cielo {name:<20} median {med:.3f} s ({med / base:.2f}x --version), "
              f"CPU {statistics.median(cpu[name]):.3f} s   loads: {loads[name] or '-'}")
    print(f"({args.rounds} rounds)")


if __name__ == "__main__":
    main()
