#!/usr/bin/env python3
"""LenghuSky-8 frames read out of their class with the time known: one line per clear frame (<= 2 octas) read over
2, or overcast frame (>= 6) read under 6, with its regime, truth, reading, flag, sun state, sun elevation and
confidence. No calibration. The list the design notes' "misses" come from.

    python research/misreads.py LENGHU_DIR --years 2018,2019
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata


def main() -> None:
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lenghu", type=Path, help="LenghuSky-8 LabelMe JSON folder")
    p.add_argument("--years", default="2018,2019", help="comma-separated (2021 is held out: report it once)")
    args = p.parse_args()
    years = set(args.years.split(","))
    model = OctaModel(None)
    samples = [s for s in skydata.load_lenghu(args.lenghu, twilight=True) if s.name[:4] in years]
    site = skydata.LENGHU_SITE
    whens = [s.extra["when"] for s in samples]
    verdicts = model.judge([model.decode(s.jpeg) for s in samples], whens, *site)
    for s, when, v in zip(samples, whens, verdicts, strict=True):
        clear_missed = s.octas <= 2 and (v.octas is None or v.octas > 2)
        overcast_missed = s.octas >= 6 and (v.octas is None or v.octas < 6)
        if clear_missed or overcast_missed:
            el = None if v.sun_elevation is None else round(v.sun_elevation, 1)
            conf = None if v.confidence is None else round(v.confidence, 2)
            print(f"{s.name} {regime.light(when, *site).regime:<14} true {s.octas} read {v.octas} flag {v.flag} "
                  f"sun {v.sun_state} el {el} conf {conf}")


if __name__ == "__main__":
    main()
