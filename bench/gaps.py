#!/usr/bin/env python3
"""Gap analysis speed; prints figures (not a test).

A temporary database with a year (or `--years`) of 10-minute sky readings and five hourly series (REE PVPC and spot,
Open-Meteo temperature, humidity, pressure), each with a few holes; times `cielo gaps`' analysis of all of
them over the year (median of --rounds).

    python -m bench.gaps [--rounds 7] [--years 1]
    python -m bench.gaps --years 5

Targets: <= 100 ms for the lot over a year; <= 150 ms over five years. Also prints the
database's size, so that what an index costs on disk shows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cielo.backfill import gaps
from cielo.config import Settings
from cielo.sources.registry import REGISTRY
from cielo.store import Reading, Store

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--keep", metavar="FILE", help="build the database here (kept) instead of a temporary one")
    args = ap.parse_args()
    t0 = datetime(2021, 1, 1, tzinfo=UTC) if args.years > 1 else datetime(2025, 1, 1, tzinfo=UTC)
    end = t0 + timedelta(days=365 * args.years)
    with tempfile.TemporaryDirectory() as d:
        db = Path(args.keep) if args.keep else Path(d) / "y.db"
        settings = Settings.model_validate({"storage": {"database": str(db)},
                                            "skycam": {"timezone": "UTC"},
                                            "sources": {"ree": {"enabled": True}, "openmeteo": {"enabled": True}}})
        store = Store(settings.storage.database)
        sky = REGISTRY["skycam"](settings)
        # attrs as the camera writes them (~290 bytes of JSON): the rows a scan of the table would read
        attrs = {"confidence": 0.71, "probs": [0.0, 0.01, 0.04, 0.71, 0.2, 0.03, 0.01, 0.0, 0.0], "flag": None,
                 "sun_elevation": 31.4, "url": "http://192.168.1.20/meteorologia/cielo/image/2024/2024-06011202.jpg",
                 "sha256": "9f2c" * 16, "bytes": 41234, "model": "hybrid-2.0.0"}
        rows = [Reading("skycam.octas", t, 3.0, "octas", "skycam", attrs) for i, t in enumerate(sky.slots(t0, end))
                if i % 5000 not in range(1, 40)]
        hourly = [t0 + timedelta(hours=i) for i in range(8760 * args.years)]
        series = ["ree.pvpc", "ree.spot", "weather.temperature", "weather.humidity", "weather.pressure"]
        for k, name in enumerate(series):
            rows += [Reading(name, t, 1.0, "x", "bench") for i, t in enumerate(hourly) if i % (700 + k) != 3]
        for i in range(0, len(rows), 10_000):
            store.add_readings(rows[i:i + 10_000])
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
        sources = [REGISTRY[n](settings) for n in ("skycam", "ree", "openmeteo")]
        specs = [(sources[0], sources[0].primary), (sources[1], sources[1].series[0]),
                 (sources[1], sources[1].series[1])] + [(sources[2], s) for s in sources[2].series[:3]]
        times, cpu, found = [], [], []
        for _ in range(args.rounds):
            a, c = time.perf_counter(), time.process_time()
            found = [gaps.analyse(store, src, spec, t0, end) for src, spec in specs]
            times.append((time.perf_counter() - a) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        for src in sources:
            src.close()
    span = "a year" if args.years == 1 else f"{args.years} years"
    print(f"{span}: {len(rows)} readings in 6 series, database {size / 1e6:.1f} MB; "
          f"{sum(len(f.gaps) for f in found)} gaps, {sum(f.missing for f in found)} missing slots found")
    print(f"gap analysis of all 6 series: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}) over {args.rounds} rounds; "
          f"CPU median {statistics.median(cpu):.1f} ms")


if __name__ == "__main__":
    main()
