#!/usr/bin/env python3
"""Per day frame, what the day rules saw: LenghuSky-8 clear (<= 2) and overcast (>= 6) day frames through
research/camera_shift.py's camera changes, time known, no calibration. One line per frame and transform: the octas
read, the sun's altitude, whether lens.find_sun found a disc (and the plateau it looked at: min(R, G, B)'s top in
the lens and that over the sky's median), the clear-sky surface's bluest tenth (lens.surface_level, against
SURFACE_CLEAR), the sun's state, its disc's standout, the glow and the aureole's fall-off, and frame_cast's greyest
and 5th-percentile NRBR.

    python research/day_evidence.py --lenghu DIR [--years 2018,2019] [--only "wb warm,gamma 0.8"] [--broken] > out.tsv

A research tool: nothing imports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata
from research import camera_shift


def main() -> None:
    from cielo.sources.skycam import lens, regime
    from cielo.sources.skycam.calibration import cast_levels
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--years", default="2018,2019")
    p.add_argument("--only", default="wb warm,gamma 0.8,exposure x0.6")
    p.add_argument("--broken", action="store_true", help="also the frames of 3-5 octas")
    args = p.parse_args()
    years = set(args.years.split(","))
    names = ["none", *[n for n in args.only.split(",") if n != "none"]]
    model = OctaModel()
    samples = [s for s in skydata.load_lenghu(args.lenghu, twilight=True)
               if s.name[:4] in years and (args.broken or s.octas <= 2 or s.octas >= 6)
               and regime.light(s.extra["when"], *skydata.LENGHU_SITE).regime == regime.DAY]
    levels: list[float | None] = []
    envelope = lens._envelope

    def spy(*a, **k):
        found = envelope(*a, **k)
        levels.append(None if found is None else found[2])
        return found

    lens._envelope = spy
    print("transform\tname\ttrue\tread\tflag\talt\tsun\ttop\ttop_ratio\tlevel\tstate\tstandout\tglow\tfalloff"
          "\tgrey\tbulk")
    for name in names:
        t, q = camera_shift.TRANSFORMS[name]
        for s in samples:
            f = model.decode(camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
            li = regime.light(s.extra["when"], *skydata.LENGHU_SITE)
            levels.clear()
            v = model.judge([f], [s.extra["when"]], *skydata.LENGHU_SITE)[0]
            run = model.as_read(f, li)
            geom = model.geometry(run, li)
            px = run.pixels
            darkest = np.minimum(np.minimum(px[0], px[1]), px[2])
            inside = darkest[geom.rho() <= 1.0]
            top = int(inside.max())
            ratio = top / max(float(np.median(inside)), 1.0)
            # what frame_cast reads, on the frame as decoded (before any cast is taken off)
            cast = cast_levels(f.pixels, model.geometry(f, li), f.not_sky())
            grey, bulk = (np.nan, np.nan) if cast is None else cast[:2]
            sky = v.sky
            lv = levels[0] if levels else None

            def fmt(x):
                return "" if x is None else f"{x:.3f}"

            print("\t".join([name, s.name, str(s.octas), str(v.octas), str(v.flag), f"{li.sun_altitude:.1f}",
                             str(int(sky is not None and sky.seen)), str(top), f"{ratio:.2f}", fmt(lv),
                             str(None if sky is None else sky.state), fmt(None if sky is None else sky.standout),
                             fmt(None if sky is None else sky.glow), fmt(None if sky is None else sky.falloff),
                             f"{grey:.3f}", f"{bulk:.3f}"]), flush=True)


if __name__ == "__main__":
    main()
