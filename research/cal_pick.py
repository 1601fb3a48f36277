#!/usr/bin/env python3
"""Calibrated against timed whatever 50 frames a calibration gets (bench.classify_regimes.pick): each pick (even,
windows at several starts, seeded random samples) and, with --off, each learned part switched off in turn.

    python research/cal_pick.py --tsi DIR --lenghu DIR [--frames 50] [--windows 8] [--seeds 5] [--off]
                                [--only window:0.375,random:3]

Per pick: LenghuSky-8 dev "<=2|>=6" (2018-2019 chose, 2020 check) and ARM TSI MAE / within one (2017-05-24 chose,
2018-04-18 check), calibrated, and the timed (uncalibrated) figure first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench import classify_regimes as cr
from models import skydata

ROWS = (("lenghu", "all < 2020", "classes"), ("lenghu", "all >= 2020", "classes"),
        ("tsi", "all < 20180418", "mae"), ("tsi", "all >= 20180418", "mae"),
        ("tsi", "all < 20180418", "within1"), ("tsi", "all >= 20180418", "within1"))
HEAD = "LH18-19 <=2|>=6  LH20 <=2|>=6  TSI0524 MAE  TSI0418 MAE  TSI0524 <=1  TSI0418 <=1"
# --within: calibrate and score inside one part only (chose: LenghuSky-8 2018-2019, TSI 2017-05-24; check: LenghuSky-8
# 2020, TSI 2018-04-18), so that a rule chosen on the chose part never saw a check frame, even in its calibration
WITHIN = {"chose": (lambda n: n < "2020", lambda n: n.startswith("20170524")),
          "check": (lambda n: n.startswith("2020"), lambda n: n.startswith("20180418"))}


def line(label: str, per: dict[str, dict]) -> tuple[str, list[float]]:
    vals = [per[s].get(r, per[s].get("all", {})).get(k, float("nan")) for s, r, k in ROWS]
    return f"  {label:<26} " + "  ".join(f"{v:>11.3f}" for v in vals), vals


def main() -> None:
    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tsi", type=Path, required=True)
    p.add_argument("--lenghu", type=Path, required=True)
    p.add_argument("--frames", type=int, default=50)
    p.add_argument("--windows", type=int, default=8)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--off", action="store_true", help="also each learned part switched off, per pick")
    p.add_argument("--within", choices=tuple(WITHIN), help="calibrate and score within one part only")
    p.add_argument("--only", default="", help="picks to run, e.g. window:0.375,random:3 (default: all)")
    args = p.parse_args()
    model = OctaModel()
    sets = {"tsi": (skydata.load_tsi(args.tsi, step=10), skydata.TSI_SITE, "hour", "20180418"),
            "lenghu": (skydata.load_lenghu(args.lenghu, twilight=True), skydata.LENGHU_SITE, "group", "2020")}
    sets = {k: ([s for s in v[0] if not cr.held_out(s.name)], *v[1:]) for k, v in sets.items()}
    if args.within:
        lh, tsi = WITHIN[args.within]
        sets["lenghu"] = ([s for s in sets["lenghu"][0] if lh(s.name)], *sets["lenghu"][1:])
        sets["tsi"] = ([s for s in sets["tsi"][0] if tsi(s.name)], *sets["tsi"][1:])
    decoded = {k: [model.decode(s.jpeg) for s in v[0]] for k, v in sets.items()}
    picks = [("even", 0.0, 0)] + [("window", w / args.windows, 0) for w in range(args.windows)] + [
        ("random", 0.0, k) for k in range(args.seeds)]
    if args.only:
        want = [x.split(":") for x in args.only.split(",")]
        picks = [(h, float(v) if h == "window" else 0.0, int(v) if h == "random" else 0) for h, v in want]

    def run(how: str, start: float, seed: int, off: tuple[str, ...] = (), modes: tuple[str, ...] = ()) -> dict:
        return {k: cr.evaluate(model, samples, site, block, split, args.frames, how, start, seed, off, decoded[k],
                               modes) for k, (samples, site, block, split) in sets.items()}

    timed = run("even", 0.0, 0, modes=("timed",))
    print(f"  {'pick':<26} {HEAD}")
    text, base = line("timed (uncalibrated)", {k: v["timed"] for k, v in timed.items()})
    print(text)
    got: dict[str, list[list[float]]] = {}
    for how, start, seed in picks:
        label = {"even": "even", "window": f"window {start:.3f}", "random": f"random {seed}"}[how]
        text, vals = line(label, {k: v["calibrated"] for k, v in run(how, start, seed).items()})
        print(text, flush=True)
        got.setdefault("all", []).append(vals)
        if args.off:
            for part in cr.PARTS:
                text, vals = line(f"  {part} off", {k: v["calibrated"]
                                                     for k, v in run(how, start, seed, (part,)).items()})
                print(text, flush=True)
                got.setdefault(part, []).append(vals)
    for name, rows in got.items():
        a = np.array(rows)
        worst = [a[:, i].min() if k != "mae" else a[:, i].max() for i, (_, _, k) in enumerate(ROWS)]
        print(line(f"worst ({name})", _as(worst))[0])
        print(line(f"median ({name})", _as(np.median(a, axis=0)))[0])
    print(line("timed (uncalibrated)", _as(base))[0])


def _as(vals) -> dict:
    out: dict[str, dict] = {}
    for (s, r, k), v in zip(ROWS, vals, strict=True):
        out.setdefault(s, {}).setdefault(r, {})[k] = float(v)
    return out


if __name__ == "__main__":
    main()
