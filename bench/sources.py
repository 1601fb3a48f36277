#!/usr/bin/env python3
"""A year of REE prices and Open-Meteo weather through cielo's real backfill; prints figures (not a test).

The loopback API server (tests/support/apiserver.py, the providers' formats) runs in its own process, so the
CPU figure is cielo's alone: HTTP, JSON parsing, readings and SQLite writes. Rate limits are lifted for the
speed run. With --budgets it then replays REE with its default budget (30/min) on a fresh database and
compares the planner's estimate (what `cielo backfill --dry-run` prints) with the real wall time.

    python -m bench.sources [--year 2023] [--budgets]

Target (2-core machine): a year of hourly prices and weather stored in <= 10 s of CPU; the planner's
estimate within 10 % of the real run.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.apiserver"], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    port = proc.stdout.readline().split()[1]
    return proc, f"http://127.0.0.1:{port}"


def settings_for(base: str, db: Path, lifted: bool):
    from cielo.config import Settings
    from cielo.sources.registry import check

    budget = {"requests_per_minute": 1_000_000} if lifted else {}
    s = Settings.model_validate({"storage": {"database": str(db)}, "device": {"latitude": 40.41, "longitude": -3.68},
                                 "sources": {"ree": {"enabled": True, "base_url": f"{base}/ree", **budget},
                                             "openmeteo": {"enabled": True, "archive_url": f"{base}/om-archive",
                                                           "forecast_url": f"{base}/om-forecast", **budget}}})
    check(s)
    return s


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def speed_run(base: str, year: int, tmp: Path) -> None:
    from cielo.ingest.engine import fill
    from cielo.sources.openmeteo import OpenMeteoSource
    from cielo.sources.ree import ReeSource
    from cielo.store import Store

    db = tmp / "speed.db"
    settings = settings_for(base, db, lifted=True)
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    total_rows = requests = 0
    c0, t0 = cpu_s(), time.perf_counter()
    with Store(db) as store:
        for cls in (ReeSource, OpenMeteoSource):
            source = cls(settings)
            summary = fill(source, store, start, end, workers=2, log_failures=True)
            requests += source.client.requests
            source.close()
            print(f"  {summary.line()}")
            if summary.failed:
                raise SystemExit("bench: the loopback server failed")
        total_rows = store.query("SELECT count(*) FROM readings")[0][0]
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"year {year}: {total_rows} rows ({total_rows / wall:,.0f} rows/s), {requests} requests, "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU (target <= 10 s), peak RSS {rss_mb:.0f} MB")


def budget_run(base: str, year: int, tmp: Path) -> None:
    from cielo.ingest.engine import fill
    from cielo.ingest.plan import plan
    from cielo.sources.base import estimate_s
    from cielo.sources.ree import ReeSource
    from cielo.store import Store

    db = tmp / "budget.db"
    settings = settings_for(base, db, lifted=False)
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    with Store(db) as store:
        source = ReeSource(settings)
        planned = plan(source, store, start, end, datetime.now(UTC))
        estimate = estimate_s(planned.requests, source.requests_per_minute)
        t0 = time.perf_counter()
        summary = fill(source, store, start, end, workers=2)
        wall = time.perf_counter() - t0
        source.close()
    off = abs(wall - estimate) / max(estimate, 1e-9)
    print(f"ree with its default budget ({source.requests_per_minute:g}/min): {planned.requests} requests, "
          f"planner estimate {estimate:.1f} s, real {wall:.1f} s ({off:.1%} apart; target <= 10 %) "
          f"[{summary.line()}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--budgets", action="store_true", help="also check the planner's estimate with real budgets")
    args = ap.parse_args()
    server, base = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            speed_run(base, args.year, Path(tmp))
            if args.budgets:
                budget_run(base, args.year, Path(tmp))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
