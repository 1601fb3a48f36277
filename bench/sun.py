"""What the sun's state, the cloud around it and the cloud motion add to judging a frame, on one core.

    OMP_NUM_THREADS=1 .venv/bin/python bench/sun.py [FOLDER]

FOLDER: sky images in time order (say, ARM TSI frames 30 s apart); without one, synthetic fisheye frames
with moving cloud (tests/support/camserver.py's generator). Prints the median milliseconds per frame of
sunstate.assess (sun state, cloud within 15/30 deg, the packed motion mask), the same with a camera
orientation known (the cloud per compass quarter and in the sun's sector of the next hour, sectors.py,
its azimuths computed per frame), motion.between + motion.eta, and the whole judge() for scale. Times are this thread's
CPU time (time.thread_time): what a frame costs one core, even on a machine shared with other jobs (where
wall-clock time counts the waits for the core too).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from cielo.sources.skycam import motion, orientation, sectors, sunstate  # noqa: E402
from cielo.sources.skycam.model import OctaModel  # noqa: E402


def frames(folder: str | None) -> list[bytes]:
    if folder:
        paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        return [p.read_bytes() for p in paths[:120]]
    from tests.support.camserver import sky_jpeg

    return [sky_jpeg(0.35, seed=i % 6) for i in range(60)]


def main() -> None:
    model = OctaModel(threads=1)
    data = frames(sys.argv[1] if len(sys.argv) > 1 else None)
    decoded = [model.decode(d) for d in data]
    assess_ms, oriented_ms, motion_ms, judge_ms = [], [], [], []
    # a camera looking up, north 30 degrees clockwise of its frame's up, equidistant; noon in Madrid
    o = orientation.Orientation(model.width / 2 - 0.5, model.height / 2 - 0.5, 0.45 * model.height / 1.5708, 0.0,
                                30.0, -1, model.width, model.height, 20, 1.0)
    at = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    prev = None
    for _ in range(3):
        for f in decoded:
            t0 = time.thread_time()
            model.judge([f], [None], 40.4, -3.7)
            judge_ms.append((time.thread_time() - t0) * 1000)
            geom = model.geometry(f)
            maps = model.maps(f, geom)
            t0 = time.thread_time()
            view = sunstate.assess(f.pixels, geom, maps, f.not_sky(), None, f.brightness, f.starry)
            assess_ms.append((time.thread_time() - t0) * 1000)
            t0 = time.thread_time()
            quarters = sectors.quarter_masks(o, model.width, model.height)
            bearing = sectors.bearings(o, model.width, model.height)
            path = sectors.sun_path(at, 40.4, -3.7)
            sunstate.assess(f.pixels, geom, maps, f.not_sky(), None, f.brightness, f.starry, quarters=quarters,
                            bearing=bearing, path=path)
            oriented_ms.append((time.thread_time() - t0) * 1000)
            if view is not None and prev is not None:
                t0 = time.thread_time()
                m = motion.between(prev, view, 1.0)
                if m is not None:
                    motion.eta(view, m)
                motion_ms.append((time.thread_time() - t0) * 1000)
            prev = view
    print(f"{len(decoded)} frames at {model.width}x{model.height}, 3 rounds, one core")
    print(f"sunstate.assess: median {statistics.median(assess_ms):.2f} ms; with an orientation (the quarters, the "
          f"sun's sector): median {statistics.median(oriented_ms):.2f} ms")
    if motion_ms:
        print(f"motion.between + eta: median {statistics.median(motion_ms):.2f} ms")
    total = statistics.median(oriented_ms) + (statistics.median(motion_ms) if motion_ms else 0.0)
    print(f"added per frame: {total:.2f} ms; whole judge() (with them): median {statistics.median(judge_ms):.2f} ms")


if __name__ == "__main__":
    main()
