#!/usr/bin/env python3
"""LenghuSky-8 frames read out of their class with the time known: one line per clear frame (<= 2 octas) read over
2, or overcast frame (>= 6) read under 6, with its regime, truth, reading, flag, sun state, sun elevation and
confidence. No calibration, or with `--calibrated` as bench/classify_regimes.py calibrates: each time half of the
development part (2018-2020, however many --years are listed) fitted without labels on the other half
(`--cal-frames N`: on N of its frames spread evenly in time, as the independent check's ~50). The list the design
notes' "misses" come from.

    python research/misreads.py LENGHU_DIR --years 2018,2019 [--calibrated [--cal-frames 50]]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata

DEV_YEARS = ("2018", "2019", "2020")  # the part a calibration is fitted on, as the bench's dev part


def calibrated_verdicts(model, samples, site, cal_frames: int | None, clear_scale: float | None = None,
                        judge_one=None) -> list:
    """Each sample's verdict, the model calibrated on the other time half of `samples` (bench.classify_regimes).
    `clear_scale`: an oracle, every calibration's day-bar scale set to it; `judge_one(frame, when)`: each frame
    judged alone by it, its result in the list (research/tone_loss.py names the rule that fired)."""
    from bench.classify_regimes import fit_half, pick
    from cielo.sources.skycam import regime

    frames = [model.decode(s.jpeg) for s in samples]
    whens = [s.extra["when"] for s in samples]
    regimes = [regime.light(w, *site).regime for w in whens]
    index = {id(s): i for i, s in enumerate(samples)}
    out: list = [None] * len(samples)
    default = float(model.reference.zenith)
    a, b = skydata.time_halves(samples, "group")
    for fitted, scored in ((a, b), (b, a)):
        cal = fit_half(model, frames, whens, regimes, site,
                       [index[id(s)] for s in (pick(fitted, cal_frames) if cal_frames else fitted)], default)
        if cal is not None and clear_scale is not None:  # an oracle: the day bars' scale the sample did not pin
            cal.clear_scale = clear_scale
        model.calibrate(cal)
        idx = [index[id(s)] for s in scored]
        if judge_one is not None:
            for i in idx:
                out[i] = judge_one(frames[i], whens[i])
            continue
        for i, v in zip(idx, model.judge([frames[i] for i in idx], [whens[i] for i in idx], *site), strict=True):
            out[i] = v
    model.calibrate(None)
    return out


def main() -> None:
    from cielo.sources.skycam import regime
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lenghu", type=Path, help="LenghuSky-8 LabelMe JSON folder")
    p.add_argument("--years", default="2018,2019", help="comma-separated (2021 is held out: report it once)")
    p.add_argument("--calibrated", action="store_true", help="calibrated on the other time half of 2018-2020")
    p.add_argument("--cal-frames", type=int, help="with --calibrated: fit on this many frames of each half")
    args = p.parse_args()
    years = set(args.years.split(","))
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    every = skydata.load_lenghu(args.lenghu, twilight=True)
    if args.calibrated:
        samples = [s for s in every if s.name[:4] in DEV_YEARS]
        verdicts = calibrated_verdicts(model, samples, site, args.cal_frames)
        kept = [(s, v) for s, v in zip(samples, verdicts, strict=True) if s.name[:4] in years]
        samples, verdicts = [s for s, _ in kept], [v for _, v in kept]
    else:
        samples = [s for s in every if s.name[:4] in years]
        verdicts = model.judge([model.decode(s.jpeg) for s in samples], [s.extra["when"] for s in samples], *site)
    for s, v in zip(samples, verdicts, strict=True):
        clear_missed = s.octas <= 2 and (v.octas is None or v.octas > 2)
        overcast_missed = s.octas >= 6 and (v.octas is None or v.octas < 6)
        if clear_missed or overcast_missed:
            el = None if v.sun_elevation is None else round(v.sun_elevation, 1)
            conf = None if v.confidence is None else round(v.confidence, 2)
            print(f"{s.name} {regime.light(s.extra['when'], *site).regime:<14} true {s.octas} read {v.octas} "
                  f"flag {v.flag} sun {v.sun_state} el {el} conf {conf}")


if __name__ == "__main__":
    main()
