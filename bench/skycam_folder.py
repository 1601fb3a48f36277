#!/usr/bin/env python3
"""Camera frames from a folder: a day's backfill over a year-deep tree, and a folder of 100,000 files; prints
figures (not a test).

Builds, in a temporary folder (on /dev/shm where there is one, so that making the files is quick), a year of an
allsky layout (`images/YYYYMMDD/image-YYYYMMDDHHMMSS.jpg`, 144 frames a day, `--per-day` to change: 1,440 is a
camera every minute), where only the measured day's frames are real JPEGs (the rest are empty: never read),
and a flat folder of 100,000 names. Measured, each in a process of its own (its peak RSS is the whole cost,
Python included):
- locate: finding the frame of each of a day's 144 slots (FolderLocator.frames, as the backfill asks);
- backfill: `cielo backfill` of that day, end to end (judging the 144 frames included);
- flat: locating a day's slots in the 100,000-file folder.
Medians of --rounds.

    python -m bench.skycam_folder [--rounds 5] [--per-day 144]

Targets: a day's backfill over a year-deep tree in <= 2 s and <= 80 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.camfolders import allsky_path, frames, write

DAY = datetime(2025, 6, 15, tzinfo=UTC)

LOCATE = """
import json, re, sys, time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo
from cielo.sources.skycam.locate_folder import FolderLocator
root, layout, pattern, day = sys.argv[1], sys.argv[2] or None, sys.argv[3] or None, datetime.fromisoformat(sys.argv[4])
loc = FolderLocator(Path(root), ZoneInfo("UTC"), timedelta(minutes=5), layout=layout, pattern=pattern)
started = time.perf_counter()
found = sum(len(loc.frames(day + timedelta(minutes=10 * i - 3), day + timedelta(minutes=10 * i + 7),
                           day + timedelta(days=2))[0]) for i in range(144))
took = time.perf_counter() - started
rss = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) / 1024  # peak since exec
print(json.dumps({"found": found, "s": took, "rss_mb": rss}))
"""


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", LOCATE, *args], capture_output=True, text=True, check=True,
                         env=env())
    return json.loads(out.stdout)


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CIELO_")}


def empty(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY))
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--per-day", type=int, default=144, help="frames a day in the year-deep tree")
    args = ap.parse_args()
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm if os.access(shm, os.W_OK) else None))
    try:
        images = base / "allsky" / "images"
        step = timedelta(days=1) / args.per_day
        t0 = time.perf_counter()
        start = DAY - timedelta(days=200)
        n = 365 * args.per_day
        bodies = frames()
        for i in range(n):
            t = start + step * i + timedelta(minutes=2, seconds=17)
            if DAY <= t < DAY + timedelta(days=1):
                write(allsky_path(images, t), bodies[i % len(bodies)])
            else:
                empty(allsky_path(images, t))
        flat = base / "flat"
        flat.mkdir()
        first = datetime(2025, 1, 1, tzinfo=UTC)
        for i in range(100_000):
            empty(flat / f"sky-{first + timedelta(minutes=5 * i):%Y%m%d%H%M%S}.jpg")
        print(f"built {n:,} frames in {len(list(images.iterdir()))} day folders and 100,000 flat names in "
              f"{time.perf_counter() - t0:.1f} s under {base}")

        for name, argv in (("year-deep tree, allsky layout", [str(images), "allsky", "", DAY.isoformat()]),
                           ("100,000 files in one folder", [str(flat), "", "sky-%Y%m%d%H%M%S.jpg", DAY.isoformat()])):
            runs = [child(argv) for _ in range(args.rounds)]
            print(f"locate a day's 144 slots, {name}: median {statistics.median(r['s'] for r in runs) * 1000:.0f} ms, "
                  f"peak RSS {statistics.median(r['rss_mb'] for r in runs):.1f} MB (process total), "
                  f"{runs[0]['found']} frames found")

        config = base / "config.toml"
        config.write_text(f'[storage]\ndatabase = "{base / "cielo.db"}"\n[skycam]\nfolder = "{images}"\n'
                          'layout = "allsky"\ntimezone = "UTC"\n[backfill]\non_startup = false\n'
                          '[sources.ree]\nenabled = false\n[sources.openmeteo]\nenabled = false\n')
        for processes in ("2", "0"):  # RUSAGE_CHILDREN keeps the largest so far: the smaller first
            walls, rss = [], []
            for _ in range(args.rounds):
                (base / "cielo.db").unlink(missing_ok=True)
                started = time.perf_counter()
                out = subprocess.run([sys.executable, "-m", "cielo", "--config", str(config), "backfill", "--from",
                                      "2025-06-15", "--to", "2025-06-15T23:59", "--processes", processes],
                                     capture_output=True, text=True, env=env())
                walls.append(time.perf_counter() - started)
                # The largest process so far, the analysis processes included (RUSAGE_CHILDREN's maxrss).
                rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
                line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr.strip()
            print(f"cielo backfill of that day, --processes {processes} (judging and process start included): "
                  f"median {statistics.median(walls):.2f} s, largest process {max(rss):.0f} MB; {line}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
