#!/usr/bin/env python3
"""Gap analysis speed; prints figures (not a test).

A temporary database with a year of 10-minute sky readings and five hourly series (REE PVPC and spot,
Open-Meteo temperature, humidity, pressure), each with a few holes; times `cielo gaps`' analysis of all of
them over the year (median of --rounds).

    python bench/gaps.py [--rounds 7]

Target (issue 6): <= 100 ms for the lot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cielo.backfill import gaps  # noqa: E402
from cielo.config import Settings  # noqa: E402
from cielo.sources.registry import REGISTRY  # noqa: E402
from cielo.store import Reading, Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    end = t0 + timedelta(days=365)
    with tempfile.TemporaryDirectory() as d:
        settings = Settings.model_validate({"storage": {"database": str(Path(d) / "y.db")},
                                            "skycam": {"timezone": "UTC"},
                                            "sources": {"ree": {"enabled": True}, "openmeteo": {"enabled": True}}})
        store = Store(settings.storage.database)
        sky = REGISTRY["skycam"](settings)
        rows = [Reading("skycam.octas", t, 3.0, "octas", "skycam") for i, t in enumerate(sky.slots(t0, end))
                if i % 5000 not in range(1, 40)]
        hourly = [t0 + timedelta(hours=i) for i in range(8760)]
        series = ["ree.pvpc", "ree.spot", "weather.temperature", "weather.humidity", "weather.pressure"]
        for k, name in enumerate(series):
            rows += [Reading(name, t, 1.0, "x", "bench") for i, t in enumerate(hourly) if i % (700 + k) != 3]
        for i in range(0, len(rows), 10_000):
            store.add_readings(rows[i:i + 10_000])
        sources = [REGISTRY[n](settings) for n in ("skycam", "ree", "openmeteo")]
        specs = [(sources[0], sources[0].primary), (sources[1], sources[1].series[0]),
                 (sources[1], sources[1].series[1])] + [(sources[2], s) for s in sources[2].series[:3]]
        times, found = [], []
        for _ in range(args.rounds):
            a = time.perf_counter()
            found = [gaps.analyse(store, src, spec, t0, end) for src, spec in specs]
            times.append((time.perf_counter() - a) * 1000)
        for src in sources:
            src.close()
    print(f"a year: {len(rows)} readings in 6 series; {sum(len(f.gaps) for f in found)} gaps, "
          f"{sum(f.missing for f in found)} missing slots found")
    print(f"gap analysis of all 6 series: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}) over {args.rounds} rounds")


if __name__ == "__main__":
    main()
