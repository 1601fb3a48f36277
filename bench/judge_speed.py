#!/usr/bin/env python3
"""What one camera frame costs the daemon, on real frames: decode (Pillow, lens fit, stars) and judge (the
frame's maps, the graph, the light's rules), one frame per call on one thread, as the capture job does; medians
and 90th percentiles in ms. ARM TSI frames (480x640 portrait JPEGs, judged without their time) and LenghuSky-8
frames (512x512, with their time, so the night and twilight rules run). Prints figures; not a test.

    python -m bench.judge_speed --tsi DIR --lenghu DIR [--frames 120] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def timings(model, samples, site, timed: bool, rounds: int) -> tuple[list[float], list[float]]:
    """Per frame, the best of `rounds` (ms): decode, judge."""
    decode: list[float] = []
    judge: list[float] = []
    for s in samples:
        when = s.extra.get("when") if timed else None
        best_d = best_j = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            frame = model.decode(s.jpeg)
            t1 = time.perf_counter()
            model.judge([frame], [when], *site)
            t2 = time.perf_counter()
            best_d, best_j = min(best_d, t1 - t0), min(best_j, t2 - t1)
        decode.append(best_d * 1e3)
        judge.append(best_j * 1e3)
    return decode, judge


def line(name: str, decode: list[float], judge: list[float]) -> str:
    total = [d + j for d, j in zip(decode, judge, strict=True)]

    def p90(v: list[float]) -> float:
        return sorted(v)[int(0.9 * (len(v) - 1))]

    return (f"{name:<34} {len(total):>4}  decode {statistics.median(decode):5.2f}  judge "
            f"{statistics.median(judge):5.2f}  total {statistics.median(total):5.2f} (p90 {p90(total):5.2f})")


def main() -> None:
    from cielo.sources.skycam.model import OctaModel
    from models import skydata

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--frames", type=int, default=120, help="frames per set, spread over it")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    model = OctaModel(None)
    tsi = skydata.load_tsi(args.tsi)
    lenghu = skydata.load_lenghu(args.lenghu, twilight=True)
    print(f"model {model.version}; ms per frame, one thread, best of {args.rounds} per frame, median over frames")
    for name, samples, site, timed in (("ARM TSI 480x640, blind", tsi, skydata.TSI_SITE, False),
                                       ("LenghuSky-8 512x512, time known", lenghu, skydata.LENGHU_SITE, True)):
        picked = samples[:: max(1, len(samples) // args.frames)][: args.frames]
        print(line(name, *timings(model, picked, site, timed, args.rounds)))


if __name__ == "__main__":
    main()
