#!/usr/bin/env python3
"""`cielo import-csv` of a big station file: wall time and peak memory; prints figures (not a test).

Writes a SIAR-style ten-minute file of N rows (default one million: 19 years, four values each, decimal
commas, `;`) into a temporary folder and imports it with the real CLI (`python -m cielo`, a fresh process,
into a fresh database), `--runs` times. Prints each run's wall and CPU time and peak RSS (the child's
ru_maxrss), the readings stored, and the medians.

    python -m bench.import_csv [--rows 1000000] [--runs 3]

Target: peak <= 100 MB for a million rows (the file is streamed, BATCH rows at a time).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_file(path: Path, rows: int) -> None:
    """Ten-minute rows from 1990 (SIAR's `HoraMin` files): a million rows are 19 years, all in the past; each
    hour's first row is new and its other five are duplicates of that hour's slot."""
    t = datetime(1990, 1, 1)
    with path.open("w", encoding="utf-8") as f:
        f.write("IdProvincia;IdEstacion;Fecha;HoraMin;TempMedia;HumedadMedia;VelViento;Precipitacion\n")
        for i in range(rows):
            f.write(f"28;2;{t:%d/%m/%Y};{t:%H%M};{10 + i % 17},{i % 10};{50 + i % 40},5;{i % 7},2;0,{i % 3}\n")
            t += timedelta(minutes=10)


def run_once(tmp: Path, data: Path, k: int) -> tuple[float, float, int]:
    db = tmp / f"c{k}.db"
    cfg = tmp / f"c{k}.toml"
    # UTC: a file of many years crosses DST days whose spring hour does not exist in Madrid (refused by line)
    # and whose autumn hour happens twice; the bench measures the stream, not those rows.
    cfg.write_text(f'[storage]\ndatabase = "{db}"\n[skycam]\nenabled = false\n[sources.csv]\ntimezone = "UTC"\n')
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CIELO_")}, "PYTHONPATH": str(ROOT)}
    code = (
        "import resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t0\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "peak = u.ru_maxrss / 1024\n"
        "print(wall, peak, u.ru_utime + u.ru_stime, r.returncode, r.stdout.strip().replace(' ', '_'),\n"
        "      r.stderr[-300:].replace(chr(10), ' '))\n"
    )
    # A fresh measuring process per run: RUSAGE_CHILDREN's peak is the largest child so far.
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "cielo", "--config", str(cfg),
                          "import-csv", "--source", "siar", str(data)], capture_output=True, text=True, env=env)
    wall, peak, cpu, rc, line, *err = out.stdout.split(" ", 5)
    if rc != "0":
        raise SystemExit(f"import-csv failed ({rc}): {line} {' '.join(err)}")
    con = sqlite3.connect(db)
    stored = con.execute("SELECT count(*) FROM readings").fetchone()[0]
    con.close()
    print(f"run {k}: {float(wall):.1f} s wall, {float(cpu):.1f} s CPU, peak RSS {float(peak):.0f} MB, {stored} "
          f"readings stored ({line.replace('_', ' ')})", flush=True)
    return float(wall), float(peak), float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = tmp / "siar-big.csv"
        write_file(data, args.rows)
        print(f"{args.rows} rows, {data.stat().st_size / 1e6:.0f} MB file", flush=True)
        results = [run_once(tmp, data, k) for k in range(args.runs)]
    print(f"median: {statistics.median(r[0] for r in results):.1f} s wall, "
          f"{statistics.median(r[2] for r in results):.1f} s CPU (steadier on a busy machine), "
          f"peak RSS {statistics.median(r[1] for r in results):.0f} MB")


if __name__ == "__main__":
    main()
