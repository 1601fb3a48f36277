#!/usr/bin/env python3
"""Day-side octa figures by time split: the frames constants are chosen on, and the frames they are checked on.

Parts (by date, never random): fit = TSI 2017-05-24 and LenghuSky-8 2018-2019; check = TSI 2018-04-18 and
LenghuSky-8 2020; `--heldout`: TSI 2018-04-19 only (score it once). Day frames only (sun above 0 deg at the
frame's time). Modes: blind (no time), timed (the frame's time given) and calibrated (a calibration fitted
without labels on the other half of a set's time blocks, as bench/classify_regimes.py does, scored timed).

    python research/day_split.py --tsi DIR --lenghu DIR [--heldout]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import skydata


def part(name: str) -> str:
    if name[:4].isdigit() and name[4] == "-":  # LenghuSky: 2018-05-22-06-56-54
        return {"2018": "fit", "2019": "fit", "2020": "check"}.get(name[:4], "spent")
    return {"20170524": "fit", "20180418": "check", "20180419": "heldout"}[name[:8]]


def row(t: np.ndarray, o: np.ndarray) -> str:
    err = np.where(o >= 0, np.abs(o - t), 8)
    clear, over = t == 0, t == 8
    c = f"{np.mean(o[clear] <= 2):.1%}/{clear.sum()}" if clear.any() else "-"
    v = f"{np.mean(o[over] >= 6):.1%}/{over.sum()}" if over.any() else "-"
    return (f"{len(t):4d} {err.mean():6.3f} {np.mean(err == 0):6.1%} {np.mean(err <= 1):6.1%} {c:>10} {v:>10}")


def judge(model, frames: list, whens: list, site: tuple[float, float], idx: list[int], timed: bool) -> np.ndarray:
    v = model.judge([frames[i] for i in idx], [whens[i] if timed else None for i in idx], *site)
    return np.array([-9 if x.octas is None else x.octas for x in v])


def main() -> None:
    from cielo.sources.skycam import calibration, regime, veil
    from cielo.sources.skycam.model import DARK_MEAN, OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--heldout", action="store_true")
    args = p.parse_args()
    model = OctaModel()
    parts = ("heldout",) if args.heldout else ("fit", "check")
    sets = {"ARM TSI": (skydata.load_tsi(args.tsi, step=10), skydata.TSI_SITE, "hour"),
            "LenghuSky-8": (skydata.load_lenghu(args.lenghu, twilight=True), skydata.LENGHU_SITE, "group")}
    print(f"{'set / part / mode':<30} {'n':>4} {'MAE':>6} {'exact':>6} {'<=1':>6} {'clear<=2':>10} {'ovc>=6':>10}")
    for name, (samples, site, block) in sets.items():
        samples = [s for s in samples if part(s.name) in parts]
        if not samples:
            continue
        frames = [model.decode(s.jpeg) for s in samples]
        whens = [s.extra["when"] for s in samples]
        day = np.array([regime.light(w, *site).regime == regime.DAY for w in whens])
        t = np.array([s.octas for s in samples])


        everything = list(range(len(samples)))
        model.calibrate(None)
        out = {"blind": judge(model, frames, whens, site, everything, False),
               "timed": judge(model, frames, whens, site, everything, True)}
        cal = np.full(len(samples), -9)
        a, b = skydata.time_halves(samples, block)
        index = {id(s): i for i, s in enumerate(samples)}
        for fit_half, score_half in ((a, b), (b, a)):
            keep = [index[id(s)] for s in fit_half
                    if frames[index[id(s)]].brightness >= DARK_MEAN or frames[index[id(s)]].stars is not None]
            if sum(frames[i].brightness >= DARK_MEAN for i in keep) < calibration.MIN_FRAMES:
                continue
            c = calibration.fit([frames[i] for i in keep], "half", float(model.reference.zenith),
                                [bool(day[i]) for i in keep])
            calibration.learn_nights(c, [frames[i] for i in keep], [whens[i] for i in keep], *site)
            veil.learn(c, model, [frames[i] for i in keep], [whens[i] for i in keep], *site)
            model.calibrate(c)
            idx = [index[id(s)] for s in score_half]
            cal[idx] = judge(model, frames, whens, site, idx, True)
            model.calibrate(None)
        out["calibrated"] = cal
        names = np.array([part(s.name) for s in samples])
        for pt in parts:
            for mode, o in out.items():
                sel = day & (names == pt)
                if sel.any():
                    print(f"{name + ' / ' + pt + ' / ' + mode:<30} {row(t[sel], o[sel])}")


if __name__ == "__main__":
    main()
