#!/usr/bin/env python3
"""Where a camera's tone curve loses LenghuSky-8 frames: per frame, calibrated as bench/classify_regimes.py calibrates
(each time half of 2018-2020 fitted without labels on the other, `--cal-frames N` of its frames), the regime, the
rule that decided the answer (rule_of; "haze": the haze rule read the frame again, kept or not) and whether the
answer is in class (<= 2 or >= 6), for `none` and each look (research/camera_shift.py's TRANSFORMS). Prints per
look x regime x rule the frames lost and gained against `none`, and with `--frames` each moved frame.

    python research/tone_loss.py LENGHU_DIR --looks "gamma 0.8,exposure x1.5" [--years 2018,2019] [--cal-frames 50]
    python research/tone_loss.py LENGHU_DIR --looks "gamma 0.8" --clear-scale 0.8   (an oracle day scale)
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from models import skydata

DEV_YEARS = ("2018", "2019", "2020")
FIRED: list[str] = []  # the late rules that fired within one judge() call


def _spy(module, name: str, label: str) -> None:
    f = getattr(module, name)

    def wrapped(*a, **k):
        out = f(*a, **k)
        if out:
            FIRED.append(label)
        return out
    setattr(module, name, wrapped)


def install_spies() -> None:
    from cielo.sources.skycam import haze, lowsun, twilight, veil
    _spy(haze, "hazy", "haze")
    _spy(veil, "veiled", "veil")
    _spy(lowsun, "overcast", "lowsun")
    _spy(lowsun, "no_minimum", "lowsun-side")
    _spy(twilight, "lumpy", "twilight-lumpy")


def rule_of(v, fired: list[str]) -> str:
    """The rule that decided a verdict: the gate (night/dark), a late rule that moved it (veil, lowsun, lowsun-side,
    haze, twilight-lumpy), the moonlit star read, the starry-night rule, the twilight horizon rise, or the colour
    graph."""
    if v.octas is None:
        return f"gate-{v.flag}"
    if fired:
        return fired[-1]
    ev = v.evidence
    if ev is not None and ev.star_read:
        return "moon-stars"
    if ev is not None and ev.star_rule:
        return "star-rule"
    if v.light == "twilight":
        return "twilight-rise"
    return "colour"


def in_class(truth: int, o: int | None) -> bool:
    return o is not None and (o <= 2 if truth <= 2 else o >= 6)


def verdicts(model, samples, site, cal_frames, clear_scale: float | None = None):
    """(verdict, rule, regime) per sample, calibrated as research/misreads.calibrated_verdicts, each frame judged
    alone to name its rule; `clear_scale`: an oracle, every calibration's day-bar scale set to it."""
    import misreads

    from cielo.sources.skycam import regime

    def one(frame, when):
        FIRED.clear()
        v = model.judge([frame], [when], *site)[0]
        return v, rule_of(v, list(FIRED)), regime.light(when, *site).regime

    return misreads.calibrated_verdicts(model, samples, site, cal_frames, clear_scale, one)


def main() -> None:
    import camera_shift

    from cielo.sources.skycam.model import OctaModel

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lenghu", type=Path)
    p.add_argument("--looks", default="gamma 0.8,exposure x1.5")
    p.add_argument("--years", default="2018,2019", help="years reported (2021 held out)")
    p.add_argument("--cal-frames", type=int, default=50)
    p.add_argument("--frames", action="store_true", help="list each moved frame")
    p.add_argument("--clear-scale", type=float, help="an oracle: each calibration's clear_scale set to it (looks only)")
    args = p.parse_args()
    install_spies()
    years = set(args.years.split(","))
    model = OctaModel(None)
    site = skydata.LENGHU_SITE
    samples = [s for s in skydata.load_lenghu(args.lenghu, twilight=True) if s.name[:4] in DEV_YEARS]
    keep = [i for i, s in enumerate(samples) if s.name[:4] in years and (s.octas <= 2 or s.octas >= 6)]
    runs = {}
    for name in ["none", *[n for n in args.looks.split(",") if n != "none"]]:
        t, q = camera_shift.TRANSFORMS[name]
        shifted = [dataclasses.replace(s, jpeg=camera_shift.shifted(s.jpeg, t, q, camera_shift.LENGHU_CIRCLE))
                   for s in samples]
        runs[name] = verdicts(model, shifted, site, args.cal_frames, None if name == "none" else args.clear_scale)
        k = sum(in_class(samples[i].octas, runs[name][i][0].octas) for i in keep)
        print(f"{name:<15} in class {k}/{len(keep)} ({k / len(keep):.1%})", flush=True)
        rules = collections.Counter((runs[name][i][2], runs[name][i][1], in_class(samples[i].octas,
                                     runs[name][i][0].octas)) for i in keep)
        print("    regime x rule (right/all): " + ", ".join(
            f"{r}/{u} {rules[(r, u, True)]}/{rules[(r, u, True)] + rules[(r, u, False)]}"
            for r, u in sorted({(r, u) for r, u, _ in rules})))
        if name == "none":
            continue
        lost: collections.Counter = collections.Counter()
        gained: collections.Counter = collections.Counter()
        for i in keep:
            s = samples[i]
            (v0, r0, reg), (v1, r1, _) = runs["none"][i], runs[name][i]
            a, b = in_class(s.octas, v0.octas), in_class(s.octas, v1.octas)
            if a == b:
                continue
            key = (reg, r1 if a else r0, "clear" if s.octas <= 2 else "overcast")  # the rule that decided wrong
            (lost if a else gained)[key] += 1
            if args.frames:
                print(f"    {'LOST' if a else 'gain'} {s.name} {reg:<9} true {s.octas} none {v0.octas} ({r0}) -> "
                      f"{v1.octas} ({r1}) bright {v1.brightness:.3f}")
        for key in sorted(set(lost) | set(gained), key=lambda k: -lost[k]):
            print(f"    {' / '.join(key):<40} lost {lost[key]:>3} gained {gained[key]:>3}")
        print(f"    total lost {sum(lost.values())} gained {sum(gained.values())}", flush=True)


if __name__ == "__main__":
    main()
